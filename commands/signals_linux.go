package commands

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// unixSignal returns the signal with the given name (without "SIG"), or 0.
func unixSignal(name string) syscall.Signal {
	if sig := unix.SignalNum("SIG" + name); sig != 0 {
		return sig
	}
	return 0
}

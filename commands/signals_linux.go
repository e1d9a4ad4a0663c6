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

func dupFD(fd int) (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) }

package run

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// InitMain is the body of --init: PID 1 of a container, it starts args as
// its child, passes on every signal it gets, reaps every process that ends
// (orphans are re-parented to it), and exits with the child's status
// (128+N when a signal ended it).
func InitMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "burrow init: no command given")
		return 125
	}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// A process group of its own (in the terminal's foreground when there
	// is one), so that signals reach everything the command starts.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Foreground: isatty(0)}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "burrow init: %v\n", err)
		if os.IsNotExist(err) || err == exec.ErrNotFound {
			return 127
		}
		return 126
	}
	child := cmd.Process.Pid
	for {
		select {
		case s := <-sigs:
			sig := s.(syscall.Signal)
			if sig == syscall.SIGCHLD {
				break
			}
			if sig == syscall.SIGURG || sig == syscall.SIGWINCH && !isatty(0) {
				continue // the Go runtime's own preemption signal
			}
			// To the child's whole process group, as tini does with -g.
			_ = unix.Kill(-child, sig)
			continue
		}
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
			if pid == child {
				if ws.Signaled() {
					return 128 + int(ws.Signal())
				}
				return ws.ExitStatus()
			}
		}
	}
}

func isatty(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

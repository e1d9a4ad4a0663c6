// Package spawn starts the helper processes of burrow's binary that
// outlive the command that starts them: a detached container's monitor,
// a network's switch.
package spawn

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// ReadyFD is the descriptor on which a started helper finds the pipe it
// writes its one ready line on.
const ReadyFD = 3

// Detached starts this binary with args in a session of its own, its
// stdio on /dev/null, and waits for the one line it writes on its ready
// pipe: the line, trimmed, is returned, "" when the helper exited (or ctx
// ended, or timeout passed, if positive) without writing it. what names
// the helper in errors. The helper's process is released: its parent is
// init once this process exits.
func Detached(ctx context.Context, what string, args []string, timeout time.Duration) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer r.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		return "", err
	}
	defer devnull.Close()
	cmd := exec.Command(self, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.ExtraFiles = []*os.File{w} // ReadyFD
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return "", fmt.Errorf("starting %s: %w", what, err)
	}
	w.Close()
	if timeout > 0 {
		_ = r.SetReadDeadline(time.Now().Add(timeout))
	}
	stop := context.AfterFunc(ctx, func() { _ = r.SetReadDeadline(time.Now()) })
	defer stop()
	line, _ := bufio.NewReader(r).ReadString('\n')
	// Reaped by this process while it lives; by init after.
	go cmd.Wait() //nolint:errcheck
	return strings.TrimSpace(line), nil
}

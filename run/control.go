package run

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/burrow-oci/burrow/storage"
)

// forwardedSignals are the signals that the process running a container
// (a monitor, a foreground run, an attached client with --sig-proxy)
// passes on to it.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// notifyForwarded relays the forwarded signals to sigs until stop is called.
func notifyForwarded(sigs chan<- os.Signal) (stop func()) {
	signal.Notify(sigs, forwardedSignals...)
	return func() { signal.Stop(sigs) }
}

// The control FIFO in a container's run directory is how other burrow
// processes ask the process that runs a container to signal it: a line
// with the signal's number ("15\n"), with "u" before it ("u15\n") when a
// user stopped or killed the container, which ends the restart policy.
const controlName = "ctl"

// listenControl creates the control FIFO of ctr and forwards the signals
// written to it to sigs; byUser records that a user asked.
func listenControl(st *storage.Store, ctr *storage.Container, sigs chan<- os.Signal, byUser *atomic.Bool) error {
	dir, err := st.ContainerRunDir(ctr)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, controlName)
	_ = os.Remove(path)
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return fmt.Errorf("creating the control FIFO: %w", err)
	}
	// Opened read-write, it never reports end of file when writers leave.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("opening the control FIFO: %w", err)
	}
	go func() {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if rest, ok := strings.CutPrefix(line, "u"); ok {
				byUser.Store(true)
				line = rest
			}
			if n, err := strconv.Atoi(line); err == nil && n > 0 && n < 65 {
				sigs <- syscall.Signal(n)
			}
		}
	}()
	return nil
}

// signalContainer asks the process that runs ctr to send it sig. byUser
// marks a stop or kill that the restart policy must respect. It returns
// ErrNotRunning when nobody serves the container.
func signalContainer(st *storage.Store, ctr *storage.Container, sig syscall.Signal, byUser bool) error {
	dir, err := st.ContainerRunDir(ctr)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, controlName), os.O_WRONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, unix.ENXIO) || errors.Is(err, os.ErrNotExist) {
			return ErrNotRunning
		}
		return fmt.Errorf("reaching the container's monitor: %w", err)
	}
	defer f.Close()
	prefix := ""
	if byUser {
		prefix = "u"
	}
	_, err = fmt.Fprintf(f, "%s%d\n", prefix, int(sig))
	return err
}

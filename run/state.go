package run

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/burrow-oci/burrow/storage"
	units "github.com/docker/go-units"
)

// ErrNotRunning is returned when a container has no live process to serve
// a request: no monitor, no foreground run.
var ErrNotRunning = errors.New("container is not running")

// State is a container's state as it is now. The recorded state is what
// its monitor (or foreground run) last wrote; when that process is gone
// without saying how the container ended (killed, or the machine
// restarted), State records the container as exited, killing a container
// process that outlived its monitor, so that every later reader sees the
// same end. Package run is the only writer of a container's status.
func State(st *storage.Store, ctr *storage.Container) (storage.ContainerState, error) {
	s, err := st.State(ctr)
	if err != nil || s.Status != storage.StatusRunning {
		return s, err
	}
	switch {
	case s.BootID != storage.BootID():
		s.Status, s.ExitCode, s.Pid, s.Restarting = storage.StatusExited, 255, 0, false
		s.Error = "the machine restarted while the container ran"
		// Not recorded: the record of the boot it ran in tells the same
		// to every reader.
		return s, nil
	case s.MonitorPid != 0 && !alive(s.MonitorPid):
		if alive(s.Pid) {
			// The container outlived its monitor: stop it, it can no longer
			// be managed or logged.
			_ = unix.Kill(s.Pid, unix.SIGKILL)
		}
		recordDeath(st, ctr, &s, "the container's monitor died")
	case s.MonitorPid == 0 && !alive(s.Pid):
		// A foreground run whose burrow process died.
		recordDeath(st, ctr, &s, "the process that ran the container died")
	}
	return s, nil
}

func recordDeath(st *storage.Store, ctr *storage.Container, s *storage.ContainerState, why string) {
	s.Status, s.ExitCode, s.Error = storage.StatusExited, 137, why
	s.FinishedAt = time.Now().UTC()
	_ = st.SetState(ctr, *s)
}

// Active reports whether a state is that of a container that runs, or
// that its restart policy is about to start again.
func Active(s storage.ContainerState) bool {
	return s.Status == storage.StatusRunning || s.Restarting && alive(s.MonitorPid)
}

// alive reports whether a process exists (EPERM counts: it exists) and
// is not a zombie: a monitor killed with kill -9 stays one until its
// parent reaps it, which a container's init (or a session's) may never do.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := unix.Kill(pid, 0); err != nil && !errors.Is(err, unix.EPERM) {
		return false
	}
	return !zombie(pid)
}

// zombie reports whether pid has exited and waits to be reaped.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command, which is in parentheses and may
	// hold any character.
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// setState records a container's state. It is the one way package run
// writes a status.
func setState(st *storage.Store, ctr *storage.Container, s storage.ContainerState) error {
	return st.SetState(ctr, s)
}

// exited is the state of a container that ended with code (and, when the
// runtime failed, err).
func exited(code int, err error) storage.ContainerState {
	s := storage.ContainerState{Status: storage.StatusExited, ExitCode: code, FinishedAt: time.Now().UTC()}
	if err != nil {
		s.Error = err.Error()
	}
	return s
}

// Describe is a state in the words of Docker's STATUS column: "Up 3 seconds", "Exited (0) 2
// minutes ago", "Created".
func Describe(s storage.ContainerState) string {
	switch {
	case s.Restarting:
		return fmt.Sprintf("Restarting (%d) %s ago", s.ExitCode, units.HumanDuration(time.Since(s.FinishedAt)))
	case s.Status == storage.StatusRunning:
		up := "Up " + units.HumanDuration(time.Since(s.StartedAt))
		if h := s.Health; h != nil {
			if h.Status == "starting" {
				return up + " (health: starting)"
			}
			return up + " (" + h.Status + ")"
		}
		return up
	case s.Status == storage.StatusExited:
		if s.FinishedAt.IsZero() {
			return fmt.Sprintf("Exited (%d)", s.ExitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", s.ExitCode, units.HumanDuration(time.Since(s.FinishedAt)))
	}
	return "Created"
}

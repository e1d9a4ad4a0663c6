package run

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/burrow-oci/burrow/storage"
	"golang.org/x/sys/unix"
)

// LogPath is where a container's json-file log is kept, as Docker names it.
func LogPath(st *storage.Store, ctr *storage.Container) (string, error) {
	dir, err := st.ContainerDir(ctr)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, ctr.ID+"-json.log"), nil
}

// controlPath is the FIFO through which other burrow processes ask the
// monitor to signal its container.
func controlPath(st *storage.Store, ctr *storage.Container) (string, error) {
	dir, err := st.ContainerRunDir(ctr)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "ctl"), nil
}

// Monitor is the body of a detached container's monitor process: it runs
// the container with its output going to the json-file log, records its
// state and exit code, passes on the signals it is asked to send, applies
// the restart policy, runs the health check, and removes the container
// afterwards when it was created with --rm. It tells the process that
// started it, through ready, "ok" once the container runs or the error
// that stopped it.
func Monitor(ctx context.Context, st *storage.Store, ctr *storage.Container, singleID bool, ready io.WriteCloser) error {
	var once sync.Once
	tell := func(msg string) { once.Do(func() { fmt.Fprintln(ready, msg); ready.Close() }) }
	fail := func(code int, err error) error {
		_ = st.SetState(ctr, storage.ContainerState{Status: "exited", ExitCode: code, Error: err.Error(), FinishedAt: time.Now().UTC()})
		tell(fmt.Sprintf("%d %s", code, err))
		cleanup(st, ctr)
		return err
	}
	p, err := Prepare(st, ctr, singleID)
	if err != nil {
		return fail(125, err)
	}
	state := storage.ContainerState{Status: "running", MonitorPid: os.Getpid()}
	logPath, err := LogPath(st, ctr)
	if err != nil {
		return fail(125, err)
	}
	lf, err := OpenLogFile(logPath, ctr.Config.LogMaxSize, ctr.Config.LogMaxFile)
	if err != nil {
		return fail(125, fmt.Errorf("opening the log: %w", err))
	}
	defer lf.Close()
	// Output goes to the log and to attached clients; input (a terminal,
	// or a pipe with -i) comes from them.
	hub := newAttachHub()
	p.hub = hub
	defer func() { hub.finish(state.ExitCode) }()
	p.Stdout, p.Stderr = hub.writer(lf.Stream("stdout"), false), hub.writer(lf.Stream("stderr"), true)
	if ctr.Config.Tty {
		out := p.Stdout
		p.Terminal = func(master *os.File) {
			hub.mu.Lock()
			hub.input, hub.master = master, master
			hub.mu.Unlock()
			_, _ = io.Copy(out, master)
		}
	} else if ctr.Config.OpenStdin {
		pr, pw, err := os.Pipe()
		if err != nil {
			return fail(125, err)
		}
		defer pw.Close()
		p.Stdin = pr
		hub.input = pw
	}

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	ctl, err := controlPath(st, ctr)
	if err != nil {
		return fail(125, err)
	}
	var stoppedByUser atomic.Bool
	if err := listenControl(ctl, sigs, &stoppedByUser); err != nil {
		return fail(125, err)
	}
	var mu sync.Mutex // guards state between the run and the health checks
	save := func() { _ = st.SetState(ctr, state) }
	p.OnHealth = func(h storage.Health) {
		mu.Lock()
		defer mu.Unlock()
		if state.Status == "running" {
			state.Health = &h
			save()
		}
	}
	for backoff := 100 * time.Millisecond; ; backoff = min(backoff*2, time.Minute) {
		p.Started = func(pid int) {
			mu.Lock()
			state.Status, state.Pid, state.StartedAt, state.Restarting = "running", pid, time.Now().UTC(), false
			state.Health = nil
			if ctr.Config.Health != nil {
				// Recorded before run -d returns, so that ps shows it at once.
				state.Health = &storage.Health{Status: "starting"}
			}
			save()
			mu.Unlock()
			tell("ok")
		}
		ran := time.Now()
		code, err := Run(ctx, p, sigs)
		if err != nil {
			var se *StartError
			if errors.As(err, &se) && se.Code != 0 {
				return fail(se.Code, err)
			}
			return fail(125, err)
		}
		mu.Lock()
		state.Status, state.ExitCode, state.FinishedAt, state.Pid = "exited", code, time.Now().UTC(), 0
		state.StoppedByUser = stoppedByUser.Load()
		restart := shouldRestart(ctr.Config, code, state.RestartCount, state.StoppedByUser)
		if restart {
			state.Restarting = true
			state.RestartCount++
		}
		save()
		mu.Unlock()
		if !restart {
			break
		}
		if time.Since(ran) > 10*time.Second {
			backoff = 100 * time.Millisecond // it ran well for a while
		}
		time.Sleep(backoff)
		if stoppedByUser.Load() {
			mu.Lock()
			state.Restarting, state.StoppedByUser = false, true
			save()
			mu.Unlock()
			break
		}
	}
	hub.finish(state.ExitCode)
	cleanup(st, ctr)
	return nil
}

// shouldRestart applies Docker's restart policies.
func shouldRestart(cfg storage.ContainerConfig, code, count int, byUser bool) bool {
	if byUser {
		return false
	}
	switch cfg.Restart {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0 && (cfg.RestartMax == 0 || count < cfg.RestartMax)
	}
	return false
}

// cleanup unmounts a container that stopped and removes it when it was
// created with --rm.
func cleanup(st *storage.Store, ctr *storage.Container) {
	_ = st.UnmountContainer(ctr)
	if ctr.Config.AutoRemove {
		if st.DeleteContainer(ctr) == nil {
			_ = st.RemoveAnonymousVolumes(ctr)
		}
	}
}

// ListenControl serves the control FIFO of a container run in the
// foreground, so that stop and kill from other commands reach it: the
// signals they send arrive on sigs.
func ListenControl(st *storage.Store, ctr *storage.Container, sigs chan<- os.Signal) error {
	path, err := controlPath(st, ctr)
	if err != nil {
		return err
	}
	var byUser atomic.Bool // no restart policy in the foreground
	return listenControl(path, sigs, &byUser)
}

// listenControl creates the control FIFO and forwards the signal numbers
// written to it ("15\n") to sigs; a "u" before the number ("u15\n") says
// a user stopped or killed the container, which ends the restart policy.
func listenControl(path string, sigs chan<- os.Signal, byUser *atomic.Bool) error {
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

// ErrNotRunning is returned when a container has no live monitor.
var ErrNotRunning = errors.New("container is not running")

// Signal asks a detached container's monitor to send sig to the
// container. byUser marks a stop or kill that the restart policy must
// respect.
func Signal(st *storage.Store, ctr *storage.Container, sig syscall.Signal, byUser bool) error {
	path, err := controlPath(st, ctr)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_NONBLOCK, 0)
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

// Alive reports whether a process exists (EPERM counts: it exists).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// CurrentState is the container's state with a dead monitor accounted
// for: a container recorded as running whose monitor is gone (killed, or
// the machine rebooted) is reported, and recorded, as exited.
func CurrentState(st *storage.Store, ctr *storage.Container) (storage.ContainerState, error) {
	s, err := st.State(ctr)
	if err != nil || s.Status != "running" {
		return s, err
	}
	if s.MonitorPid != 0 && !Alive(s.MonitorPid) {
		if Alive(s.Pid) {
			// The container outlived its monitor: stop it, it can no longer
			// be managed or logged.
			_ = unix.Kill(s.Pid, unix.SIGKILL)
		}
		s.Status, s.ExitCode, s.Error = "exited", 137, "the container's monitor died"
		s.FinishedAt = time.Now().UTC()
		_ = st.SetState(ctr, s)
	}
	if s.MonitorPid == 0 && !Alive(s.Pid) {
		// A foreground run whose burrow process died.
		s.Status, s.ExitCode, s.Error = "exited", 137, "the process that ran the container died"
		s.FinishedAt = time.Now().UTC()
		_ = st.SetState(ctr, s)
	}
	return s, nil
}

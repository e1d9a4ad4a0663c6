package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/burrow-oci/burrow/storage"
)

// LogPath is where a container's json-file log is kept, as Docker names it.
func LogPath(st *storage.Store, ctr *storage.Container) (string, error) {
	dir, err := st.ContainerDir(ctr)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, ctr.ID+"-json.log"), nil
}

// openLog opens a container's json-file log for writing, with its
// rotation settings.
func openLog(st *storage.Store, ctr *storage.Container) (*LogFile, error) {
	path, err := LogPath(st, ctr)
	if err != nil {
		return nil, err
	}
	lf, err := openLogFile(path, ctr.Config.LogMaxSize, ctr.Config.LogMaxFile)
	if err != nil {
		return nil, fmt.Errorf("opening the log: %w", err)
	}
	return lf, nil
}

// monitor is the body of a detached container's monitor process: it runs
// the container with its output going to the json-file log, records its
// state and exit code, passes on the signals it is asked to send, applies
// the restart policy, runs the health check, and removes the container
// afterwards when it was created with --rm. It tells the process that
// started it, through ready, once the container runs or the error that
// stopped it.
func monitor(ctx context.Context, st *storage.Store, ctr *storage.Container, ready *readyPipe, ns NetworkSettings) error {
	fail := func(code int, err error) error {
		_ = setState(st, ctr, exited(code, err))
		ready.fail(code, err)
		cleanup(st, ctr)
		return err
	}
	p, err := prepare(ctx, st, ctr, ns)
	if err != nil {
		return fail(125, err)
	}
	// The network (and its published ports) lives until the container
	// has ended for good, across restarts.
	defer p.close()
	state := storage.ContainerState{Status: storage.StatusRunning, MonitorPid: os.Getpid()}
	lf, err := openLog(st, ctr)
	if err != nil {
		return fail(125, err)
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
	defer notifyForwarded(sigs)()
	var stoppedByUser atomic.Bool
	if err := listenControl(st, ctr, sigs, &stoppedByUser); err != nil {
		return fail(125, err)
	}
	var mu sync.Mutex // guards state between the run and the health checks
	save := func() { _ = setState(st, ctr, state) }
	p.OnHealth = func(h storage.Health) {
		mu.Lock()
		defer mu.Unlock()
		if state.Status == storage.StatusRunning {
			state.Health = &h
			save()
		}
	}
	p.onNetwork = func() {
		mu.Lock()
		defer mu.Unlock()
		if state.Status == storage.StatusRunning {
			p.netState(&state)
			save()
		}
	}
	for backoff := 100 * time.Millisecond; ; backoff = min(backoff*2, time.Minute) {
		p.Started = func(pid int) {
			mu.Lock()
			state.Status, state.Pid, state.StartedAt, state.Restarting = storage.StatusRunning, pid, time.Now().UTC(), false
			p.netState(&state)
			state.Health = nil
			if ctr.Config.Health != nil {
				// Recorded before run -d returns, so that ps shows it at once.
				state.Health = &storage.Health{Status: "starting"}
			}
			save()
			mu.Unlock()
			ready.ok()
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
		state.Status, state.ExitCode, state.FinishedAt, state.Pid = storage.StatusExited, code, time.Now().UTC(), 0
		state.Ports, state.IPAddress, state.NetworkIPs = nil, "", nil
		state.StoppedByUser = stoppedByUser.Load()
		restart := shouldRestart(ctr.Config, code, state.RestartCount, state.StoppedByUser)
		if restart {
			state.Restarting = true
			state.RestartCount++
		} else {
			// Its ports are free before it is recorded as exited: stop
			// returns once it is, and a port bound next must not fail.
			p.close()
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

package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"

	// nsenter's C constructor sets up a container's namespaces before the
	// Go runtime of the "init" process starts.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
	// As real root the cgroup manager programs device rules, which this
	// package enables (runc imports it the same way).
	_ "github.com/opencontainers/cgroups/devices"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/burrow-oci/burrow/run/network"
	"github.com/burrow-oci/burrow/storage"
)

const sigKill = syscall.SIGKILL

// Exit codes with which Docker reports a container that could not run.
const (
	ExitCannotInvoke = 126 // the command exists but cannot be run
	ExitNotFound     = 127 // the command does not exist
)

// StartError is a container process that could not be started: Code is
// ExitCannotInvoke or ExitNotFound when the command is at fault, 0 when
// the runtime failed.
type StartError struct {
	Code int
	Err  error
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// Process is a container to start: its spec and its stdio.
type Process struct {
	ID       string
	Spec     *specs.Spec
	StateDir string // where libcontainer keeps its state (in the run root)
	Stdin    io.Reader
	Stdout   io.Writer
	Stderr   io.Writer
	// Started, if set, is called with the container's pid once it runs.
	Started func(pid int)
	// Terminal, when the spec asks for one, receives the master end of
	// the container's pseudo-terminal once it runs; without it the
	// terminal's output is copied to Stdout.
	Terminal func(master *os.File)
	// Health, if set, is checked while the container runs; OnHealth gets
	// each new result.
	Health   *storage.HealthCheck
	OnHealth func(storage.Health)
	// ExecDir, if set, is where the exec socket is served while the
	// container runs.
	ExecDir  string
	SingleID bool
	// hub, in a monitor, serves attach.
	hub *attachHub
	// ids, in single-id mode, emulates the processes' identities.
	ids *idSupervisor
	// network, with NetworkBridge, is the container's network, served by
	// this process; close releases it.
	network *network.Network
	// onNetwork, if set, records the container's addresses again after
	// a network request changed them (see serveNetwork).
	onNetwork func()
	// joined, for a container in another's network, holds that
	// namespace open until close.
	joined *joinedNetwork
}

// close releases what prepare made for the process beyond its files: the
// network and its published ports.
func (p *Process) close() {
	if p.network != nil {
		p.network.Close()
	}
	p.joined.close()
}

// netState is the part of a container's state its network fills in: the
// published ports as bound and its address.
func (p *Process) netState(s *storage.ContainerState) {
	if p.network != nil {
		s.Ports, s.IPAddress = p.network.Ports(), p.network.IP()
		s.NetworkIPs = p.network.Attached()
	}
}

// Run starts a container, waits for it and returns its exit code, with
// 128+N for a process killed by signal N, as Docker reports it. Signals
// the caller receives while it waits are passed on to the container.
func Run(ctx context.Context, p Process, signals <-chan os.Signal) (int, error) {
	ids, err := startIdentities(&p)
	if err != nil {
		return 0, err
	}
	defer ids.close()
	p.ids = ids
	if code, covered, err := runFast(ctx, p, signals); covered || err != nil {
		return code, err
	}
	cfg, err := libcontainerConfig(p)
	if err != nil {
		return 0, err
	}
	ctr, err := libcontainer.Create(p.StateDir, p.ID, cfg)
	if err != nil {
		return 0, fmt.Errorf("creating the container: %w", err)
	}
	defer ctr.Destroy()
	proc := newProcess(p.Spec.Process)
	proc.Init = true
	var cs *consoleSocket
	if p.Spec.Process.Terminal {
		if cs, err = newConsoleSocket(); err != nil {
			return 0, err
		}
		defer cs.Close()
		proc.ConsoleSocket = cs.child
		if sz := p.Spec.Process.ConsoleSize; sz != nil {
			proc.ConsoleWidth, proc.ConsoleHeight = uint16(sz.Width), uint16(sz.Height)
		}
	} else {
		proc.Stdin, proc.Stdout, proc.Stderr = p.Stdin, p.Stdout, p.Stderr
	}
	// Start leaves the container's init waiting before the command: the
	// container is recorded as running (Started) before any of its code
	// runs, so that a burrow killed at any moment leaves a record that
	// names the process to stop.
	if err := ctr.Start(proc); err != nil {
		return 0, classify(err, p.Spec.Process.Args[0])
	}
	if ids != nil {
		pid, _ := proc.Pid()
		ids.seed(pid, identityOf(p.Spec))
	}
	var ttyDone chan struct{}
	if cs != nil {
		master, err := receiveMaster(cs.parent)
		if err != nil {
			_ = proc.Signal(syscall.SIGKILL)
			_, _ = proc.Wait()
			return 0, err
		}
		ttyDone = make(chan struct{})
		go func() {
			defer close(ttyDone)
			defer master.Close()
			if p.Terminal != nil {
				p.Terminal(master)
			} else if p.Stdout != nil {
				_, _ = io.Copy(p.Stdout, master)
			}
		}()
	}
	getCtr := func() (*libcontainer.Container, error) { return ctr, nil }
	if p.ExecDir != "" {
		stop, err := serveExec(p.ExecDir, getCtr, p.Spec, p.SingleID, p.hub, &p)
		if err != nil {
			_ = proc.Signal(syscall.SIGKILL)
			_, _ = proc.Wait()
			return 0, err
		}
		defer stop()
	}
	pid, _ := proc.Pid()
	if p.Started != nil {
		p.Started(pid)
	}
	if err := ctr.Exec(); err != nil {
		_ = proc.Signal(syscall.SIGKILL)
		_, _ = proc.Wait()
		return 0, classify(err, p.Spec.Process.Args[0])
	}
	if p.Health != nil && p.OnHealth != nil {
		hctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go healthLoop(hctx, getCtr, p.Spec, p.Health, p.OnHealth)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-signals:
				_ = proc.Signal(s)
			case <-done:
				return
			}
		}
	}()
	state, err := proc.Wait()
	close(done)
	if ttyDone != nil {
		<-ttyDone // the last output of the terminal
	}
	return exitCode(state, err)
}

func newProcess(sp *specs.Process) *libcontainer.Process {
	p := &libcontainer.Process{
		Args: sp.Args,
		Env:  sp.Env,
		Cwd:  sp.Cwd,
		UID:  int(sp.User.UID),
		GID:  int(sp.User.GID),
	}
	for _, g := range sp.User.AdditionalGids {
		p.AdditionalGroups = append(p.AdditionalGroups, int(g))
	}
	for _, rl := range sp.Rlimits {
		if t, ok := rlimitTypes[rl.Type]; ok {
			p.Rlimits = append(p.Rlimits, configs.Rlimit{Type: t, Hard: rl.Hard, Soft: rl.Soft})
		}
	}
	if c := sp.Capabilities; c != nil {
		p.Capabilities = &configs.Capabilities{
			Bounding: c.Bounding, Effective: c.Effective, Permitted: c.Permitted,
			Inheritable: c.Inheritable, Ambient: c.Ambient,
		}
	}
	return p
}

// exitCode turns a wait result into Docker's exit code.
func exitCode(state *os.ProcessState, err error) (int, error) {
	if state == nil {
		return 0, fmt.Errorf("waiting for the container: %w", err)
	}
	ws, ok := state.Sys().(syscall.WaitStatus)
	if !ok {
		return state.ExitCode(), nil
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// classify turns a start failure into Docker's wording and exit code.
func classify(err error, cmd string) error {
	msg := err.Error()
	switch {
	case errors.Is(err, exec.ErrNotFound) || strings.Contains(msg, "executable file not found") ||
		strings.Contains(msg, "no such file or directory") && strings.Contains(msg, "exec"):
		return &StartError{Code: ExitNotFound, Err: fmt.Errorf("failed to start container process: exec: %q: executable file not found in $PATH", cmd)}
	case strings.Contains(msg, "permission denied") && strings.Contains(msg, "exec"):
		return &StartError{Code: ExitCannotInvoke, Err: fmt.Errorf("failed to start container process: exec: %q: permission denied", cmd)}
	case strings.Contains(msg, "is a directory") || strings.Contains(msg, "exec format error"):
		return &StartError{Code: ExitCannotInvoke, Err: fmt.Errorf("failed to start container process: exec: %q: %s", cmd, lastPart(msg))}
	}
	return &StartError{Err: fmt.Errorf("starting the container: %w", err)}
}

func lastPart(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// inUserNS reports whether this process is in a user namespace other than
// the initial one.
func inUserNS() bool {
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(data))
	return !(len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
}

// Init is the entry point of a container's first process (libcontainer's
// "init"); main calls it when the process was started as one. It does not
// return.
func Init() { libcontainer.Init() }

// IsInit reports whether this process was started by libcontainer as a
// container's init.
func IsInit() bool {
	return len(os.Args) > 1 && os.Args[1] == "init" && os.Getenv("_LIBCONTAINER_INITPIPE") != ""
}

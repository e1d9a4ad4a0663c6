package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/burrow-oci/burrow/run/internal/spawn"
	"github.com/burrow-oci/burrow/run/network"
	"github.com/burrow-oci/burrow/storage"
)

// MonitorCommand is the hidden subcommand with which StartDetached
// starts a container's monitor (the same binary, with the store's global
// flags): its action calls ServeMonitor.
const MonitorCommand = "__monitor"

// readyPipe is the monitor's end of the pipe on which StartDetached waits:
// one line, "ok" once the container runs, or "CODE message" for the error
// that kept it from running. Only the first answer counts.
type readyPipe struct {
	once sync.Once
	w    io.WriteCloser
}

func (r *readyPipe) tell(line string) {
	r.once.Do(func() { fmt.Fprintln(r.w, line); r.w.Close() })
}
func (r *readyPipe) ok()                      { r.tell("ok") }
func (r *readyPipe) fail(code int, err error) { r.tell(fmt.Sprintf("%d %s", code, err)) }

// StartDetached starts a container under a monitor process of its own and
// returns once the container runs, or with the error that kept it from
// running (a *StartError carrying the exit code Docker would give). A
// running container is left as it is.
func StartDetached(st *storage.Store, ctr *storage.Container) error {
	if state, err := State(st, ctr); err == nil && state.Status == storage.StatusRunning {
		return nil
	}
	m := monitorRequest{Root: st.Root(), RunRoot: st.RunRoot(), Driver: st.Driver(), ID: ctr.ID}
	holder, err := joinHolder(st, ctr)
	if err != nil {
		return err
	}
	if holder != nil {
		return startThrough(st, holder, m)
	}
	return startMonitor(m)
}

// startMonitor starts the monitor m asks for and waits for its ready line.
func startMonitor(m monitorRequest) error {
	line, err := spawn.Detached(context.Background(), "the container's monitor",
		[]string{"--root", m.Root, "--runroot", m.RunRoot, "--storage-driver", m.Driver, MonitorCommand, m.ID}, 0)
	if err != nil {
		return err
	}
	switch {
	case line == "ok":
		return nil
	case line == "":
		return errors.New("the container's monitor exited before the container started (hint: run it in the foreground to see why)")
	}
	codeStr, msg, _ := strings.Cut(line, " ")
	code, _ := strconv.Atoi(codeStr)
	if code == 0 {
		code = 125
	}
	return &StartError{Code: code, Err: errors.New(msg)}
}

// ServeMonitor is the body of the monitor process StartDetached starts
// (MonitorCommand): it runs the container ref names until it ends for
// good, and reports how the start went on the ready pipe.
func ServeMonitor(ctx context.Context, st *storage.Store, ref string, ns NetworkSettings) error {
	ready := &readyPipe{w: os.NewFile(spawn.ReadyFD, "ready")}
	ctr, err := st.LookupContainer(ref)
	if err != nil {
		ready.fail(125, err)
		return err
	}
	return monitor(ctx, st, ctr, ready, ns)
}

// AttachedOptions are the caller's side of a container run in the
// foreground.
type AttachedOptions struct {
	// Stdin is read when the container keeps its input open; with a TTY,
	// an *os.File that is a terminal is put in raw mode.
	Stdin io.Reader
	// Stdout and Stderr receive the output; with a TTY, Stdout receives
	// the terminal's, and its size (when it is a terminal) is the
	// container's.
	Stdout, Stderr io.Writer
	// NoSigProxy keeps the signals this process receives from being passed
	// on to the container.
	NoSigProxy bool
	// Network are the host's settings for the user-mode network.
	Network NetworkSettings
}

// RemoveError is the failure to remove a container created with --rm
// after it ran: its exit code is not the failure's.
type RemoveError struct{ Err error }

func (e *RemoveError) Error() string { return e.Err.Error() }
func (e *RemoveError) Unwrap() error { return e.Err }

// StartAttached runs a created container in the foreground with the
// caller's streams and returns its exit code. Errors are a *StartError
// with a non-zero Code when the container's command could not run, a
// *RemoveError when a container created with --rm ran but could not be
// removed afterwards (with its anonymous volumes), and others when burrow
// could not run it.
func StartAttached(ctx context.Context, st *storage.Store, ctr *storage.Container, opts AttachedOptions) (int, error) {
	holder, err := joinHolder(st, ctr)
	if err != nil {
		return 0, err
	}
	if holder != nil {
		return startAttachedThrough(ctx, st, holder, ctr, opts)
	}
	code, err := startAttached(ctx, st, ctr, opts)
	if ctr.Config.AutoRemove {
		rerr := st.DeleteContainer(ctr)
		if rerr == nil {
			rerr = st.RemoveAnonymousVolumes(ctr)
		} else {
			// It stays: say how it ended.
			s := exited(code, nil)
			var se *StartError
			if err != nil {
				s = exited(125, err)
				if errors.As(err, &se) && se.Code != 0 {
					s.ExitCode = se.Code
				}
			}
			_ = setState(st, ctr, s)
		}
		if rerr != nil && err == nil {
			err = &RemoveError{Err: rerr}
		}
	}
	return code, err
}

// ErrInputNotTerminal refuses a container with a terminal and open input
// whose caller's input is not a terminal.
var ErrInputNotTerminal = errors.New("the input device is not a TTY (hint: drop -t, or run from a terminal)")

func startAttached(ctx context.Context, st *storage.Store, ctr *storage.Container, opts AttachedOptions) (int, error) {
	if ctr.Config.Tty && ctr.Config.OpenStdin {
		if f, ok := opts.Stdin.(*os.File); !ok || !isTerminal(f) {
			return 0, ErrInputNotTerminal
		}
	}
	p, err := prepare(ctx, st, ctr, opts.Network)
	if err != nil {
		_ = setState(st, ctr, exited(125, err))
		return 0, err
	}
	defer p.close()
	if ctr.Config.OpenStdin {
		p.Stdin = opts.Stdin
	}
	p.Stdout, p.Stderr = opts.Stdout, opts.Stderr
	var logOut io.Writer
	if !ctr.Config.AutoRemove {
		// As Docker does, an attached container's output is logged too
		// (not for --rm: its log goes with it).
		if lf, err := openLog(st, ctr); err == nil {
			defer lf.Close()
			logOut = lf.Stream("stdout")
			p.Stdout = io.MultiWriter(opts.Stdout, logOut)
			p.Stderr = io.MultiWriter(opts.Stderr, lf.Stream("stderr"))
		}
	}
	if ctr.Config.Tty {
		var stdin *os.File
		if ctr.Config.OpenStdin {
			stdin, _ = opts.Stdin.(*os.File)
		}
		if out, ok := opts.Stdout.(*os.File); ok {
			if w, h := TerminalSize(out); w > 0 {
				p.Spec.Process.ConsoleSize = &specs.Box{Width: uint(w), Height: uint(h)}
			}
		}
		out := opts.Stdout
		if logOut != nil {
			out = io.MultiWriter(out, logOut)
		}
		p.Terminal = func(master *os.File) { _ = ProxyTerminal(ctx, master, stdin, out) }
	}
	started := time.Now().UTC()
	var running storage.ContainerState
	var runningMu sync.Mutex
	p.Started = func(pid int) {
		runningMu.Lock()
		defer runningMu.Unlock()
		running = storage.ContainerState{Status: storage.StatusRunning, Pid: pid, MonitorPid: os.Getpid(), StartedAt: started}
		p.netState(&running)
		_ = setState(st, ctr, running)
	}
	p.onNetwork = func() { // a network request, while it runs
		runningMu.Lock()
		defer runningMu.Unlock()
		if running.Status == storage.StatusRunning {
			p.netState(&running)
			_ = setState(st, ctr, running)
		}
	}
	sigs := make(chan os.Signal, 8)
	if !opts.NoSigProxy {
		defer notifyForwarded(sigs)()
	}
	// stop and kill from other commands come through the control FIFO; a
	// foreground run has no restart policy to end.
	var byUser atomic.Bool
	if err := listenControl(st, ctr, sigs, &byUser); err != nil {
		_ = setState(st, ctr, exited(125, err))
		return 0, err
	}
	code, err := Run(ctx, p, sigs)
	// Its ports are free before it is recorded as exited (see monitor).
	p.close()
	runningMu.Lock()
	running.Status = storage.StatusExited // no network request records it running again
	runningMu.Unlock()
	// A container that is removed next needs neither its final state
	// nor an unmount of its own (removing the layer unmounts it): each is
	// a write of the store's records. StartAttached records the state if
	// the removal fails.
	record := func(s storage.ContainerState) {
		if ctr.Config.AutoRemove {
			return
		}
		_ = st.UnmountContainer(ctr)
		_ = setState(st, ctr, s)
	}
	final := exited(code, err)
	final.StartedAt = started
	if err != nil {
		var se *StartError
		final.ExitCode = 125
		if errors.As(err, &se) && se.Code != 0 {
			final.ExitCode = se.Code
		}
		record(final)
		return 0, err
	}
	// Without --rm, the final state is a record the caller relies on.
	if !ctr.Config.AutoRemove {
		_ = st.UnmountContainer(ctr)
		return code, setState(st, ctr, final)
	}
	return code, nil
}

// IsBindError reports whether a start failed because a published port
// could not be bound, before the container ran: `run` then removes the
// container it created, so that nothing is left of the attempt. A
// monitor's error arrives as text, whose form network.BindError fixes.
func IsBindError(err error) bool {
	var be *network.BindError
	if errors.As(err, &be) {
		return true
	}
	var se *StartError
	return errors.As(err, &se) && strings.HasPrefix(se.Err.Error(), "Bind for ")
}

package commands

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
)

func newStartCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "Start one or more stopped containers",
		ArgsUsage: "[OPTIONS] CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach STDOUT/STDERR and forward signals"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "attach container's STDIN"},
		},
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, -1); err != nil {
				return err
			}
			if !c.Bool("attach") {
				return eachContainer(c, startDetached)
			}
			if c.NArg() > 1 {
				return toolError(errors.New("you cannot start and attach multiple containers at once"))
			}
			return withContainer(c, func(s *session, st *storage.Store, ctr *storage.Container) error {
				if c.Bool("interactive") {
					ctr.Config.OpenStdin = true
				}
				code, err := startAttached(c, s, st, ctr)
				if err != nil {
					return err
				}
				return &exitCode{code: code}
			})
		},
	}
}

// startDetached starts a container under a monitor process of its own
// (the same binary, `__monitor`) and returns once the container runs, or
// with the error that kept it from running.
func startDetached(s *session, st *storage.Store, ctr *storage.Container) error {
	if state, err := run.CurrentState(st, ctr); err == nil && state.Status == "running" {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	args := []string{"--root", st.Root(), "--runroot", st.RunRoot(), "--storage-driver", st.Driver(), "__monitor", ctr.ID}
	cmd := exec.Command(self, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("starting the container's monitor: %w", err)
	}
	w.Close()
	line, _ := bufio.NewReader(r).ReadString('\n')
	_ = cmd.Process.Release()
	line = strings.TrimSpace(line)
	switch {
	case line == "ok":
		return nil
	case line == "":
		return errors.New("the container's monitor exited before the container started (hint: run it in the foreground to see why)")
	}
	codeStr, msg, _ := strings.Cut(line, " ")
	code, _ := strconv.Atoi(codeStr)
	if code == 0 {
		code = ExitTool
	}
	return &exitCode{code: code, err: errors.New(msg)}
}

// newMonitorCommand is the hidden entry point of a detached container's
// monitor process.
func newMonitorCommand() *cli.Command {
	return &cli.Command{
		Name:   "__monitor",
		Hidden: true,
		Action: func(c *cli.Context) error {
			ready := os.NewFile(3, "ready")
			return withStore(c, func(s *session, st *storage.Store) error {
				ctr, err := st.LookupContainer(c.Args().First())
				if err != nil {
					fmt.Fprintf(ready, "125 %v\n", err)
					return err
				}
				return run.Monitor(c.Context, st, ctr, s.plan.Mode == "single", ready)
			})
		},
	}
}

func newStopCommand() *cli.Command {
	return newStoppingCommand("stop", "Stop one or more running containers", nil)
}

// newStoppingCommand is stop, or restart when then starts the container
// again: both stop with the signal and timeout stopSettings chooses.
func newStoppingCommand(name, usage string, then func(s *session, st *storage.Store, ctr *storage.Container) error) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "[OPTIONS] CONTAINER [CONTAINER...]",
		Flags:     stopFlags(),
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, -1); err != nil {
				return err
			}
			return eachContainer(c, func(s *session, st *storage.Store, ctr *storage.Container) error {
				sig, timeout, err := stopSettings(c, st, ctr)
				if err != nil {
					return err
				}
				if err := stopContainer(st, ctr, sig, timeout); err != nil || then == nil {
					return err
				}
				return then(s, st, ctr)
			})
		},
	}
}

// stopContainer sends sig, waits up to timeout for the container to exit,
// then kills it. Stopping a stopped container is not an error.
func stopContainer(st *storage.Store, ctr *storage.Container, sig syscall.Signal, timeout time.Duration) error {
	if err := run.Signal(st, ctr, sig, true); err != nil {
		if errors.Is(err, run.ErrNotRunning) {
			return nil
		}
		return err
	}
	if waitExited(st, ctr, timeout) {
		return nil
	}
	if err := run.Signal(st, ctr, syscall.SIGKILL, true); err != nil && !errors.Is(err, run.ErrNotRunning) {
		return err
	}
	waitExited(st, ctr, 10*time.Second)
	return nil
}

// waitExited polls the container's state until it has exited or the
// timeout passes (a negative timeout waits for ever).
func waitExited(st *storage.Store, ctr *storage.Container, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		s, err := run.CurrentState(st, ctr)
		if err != nil || s.Status != "running" && !(s.Restarting && run.Alive(s.MonitorPid)) {
			return true
		}
		if timeout >= 0 && time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newKillCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "Kill one or more running containers",
		ArgsUsage: "[OPTIONS] CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL", Usage: "signal to send to the container"},
		},
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, -1); err != nil {
				return err
			}
			sig, err := parseSignal(c.String("signal"))
			if err != nil {
				return toolError(err)
			}
			return eachContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
				err := run.Signal(st, ctr, sig, true)
				if errors.Is(err, run.ErrNotRunning) {
					return fmt.Errorf("cannot kill container: %s: container %s is not running", ctr.Name, ctr.ID)
				}
				return err
			})
		},
	}
}

func newWaitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "Block until one or more containers stop, then print their exit codes",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, -1); err != nil {
				return err
			}
			return withStore(c, func(_ *session, st *storage.Store) error {
				var failed error
				for _, ref := range c.Args().Slice() {
					ctr, err := st.LookupContainer(ref)
					if err != nil {
						fmt.Fprintln(c.App.ErrWriter, "Error: "+err.Error())
						failed = &exitCode{code: ExitError}
						continue
					}
					waitExited(st, ctr, -1)
					s, err := st.State(ctr)
					if err != nil {
						return err
					}
					fmt.Fprintln(c.App.Writer, s.ExitCode)
				}
				return failed
			})
		},
	}
}

// withContainer runs fn on the container named by the first argument.
func withContainer(c *cli.Context, fn func(s *session, st *storage.Store, ctr *storage.Container) error) error {
	return withStore(c, func(s *session, st *storage.Store) error {
		ctr, err := st.LookupContainer(c.Args().First())
		if err != nil {
			return err
		}
		return fn(s, st, ctr)
	})
}

// eachContainer applies fn to each named container, printing each name as
// Docker does and reporting failures one line each (exit 1 if any).
func eachContainer(c *cli.Context, fn func(s *session, st *storage.Store, ctr *storage.Container) error) error {
	return withStore(c, func(s *session, st *storage.Store) error {
		var failed error
		for _, ref := range c.Args().Slice() {
			ctr, err := st.LookupContainer(ref)
			if err == nil {
				err = fn(s, st, ctr)
			}
			if err != nil {
				fmt.Fprintln(c.App.ErrWriter, "Error: "+err.Error())
				failed = &exitCode{code: ExitError}
				continue
			}
			fmt.Fprintln(c.App.Writer, ref)
		}
		return failed
	})
}

// parseSignal reads a signal by name ("TERM", "SIGTERM") or number.
func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal: %s", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(s), "SIG"))
	if sig := unixSignal(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal: %s (hint: a name such as TERM or SIGKILL, or a number)", s)
}

func newRestartCommand() *cli.Command {
	return newStoppingCommand("restart", "Restart one or more containers", startDetached)
}

// stopSettings is the signal and timeout with which stop and restart stop
// a container: the flags, else the container's and then the image's
// settings, else SIGTERM and 10 seconds.
func stopSettings(c *cli.Context, st *storage.Store, ctr *storage.Container) (syscall.Signal, time.Duration, error) {
	sigName := c.String("signal")
	if sigName == "" {
		sigName = ctr.Config.StopSignal
	}
	if sigName == "" {
		if cfg, err := st.Config(ctr.ImageID); err == nil {
			sigName = cfg.Config.StopSignal
		}
	}
	sig := syscall.SIGTERM
	if sigName != "" {
		var err error
		if sig, err = parseSignal(sigName); err != nil {
			return 0, 0, err
		}
	}
	timeout := 10 * time.Second
	if ctr.Config.StopTimeout != nil {
		timeout = time.Duration(*ctr.Config.StopTimeout) * time.Second
	}
	if t := c.Int("time"); t >= 0 {
		timeout = time.Duration(t) * time.Second
	}
	return sig, timeout, nil
}

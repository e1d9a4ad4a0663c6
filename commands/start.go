package commands

import (
	"errors"
	"fmt"
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
				return startAttached(c, s, st, ctr)
			})
		},
	}
}

// startDetached starts a container under a monitor process of its own.
func startDetached(s *session, st *storage.Store, ctr *storage.Container) error {
	err := run.StartDetached(st, ctr)
	var se *run.StartError
	if errors.As(err, &se) {
		return &exitCode{code: se.Code, err: err}
	}
	if err == nil && ctr.Config.NetworkMode == run.NetworkBridge {
		// The monitor cannot say it: a default network without outbound
		// access is told here.
		if state, serr := run.State(st, ctr); serr == nil && state.Status == storage.StatusRunning && state.IPAddress == "" && s.cfg.Network.Fallback != "host" {
			s.networkSettings().Notice(run.ErrNoOutbound.Error())
		}
	}
	return err
}

// newMonitorCommand is the hidden entry point of a detached container's
// monitor process (run.StartDetached starts it).
func newMonitorCommand() *cli.Command {
	return &cli.Command{
		Name:   run.MonitorCommand,
		Hidden: true,
		Action: func(c *cli.Context) error {
			return withStore(c, func(s *session, st *storage.Store) error {
				ns := s.networkSettings()
				ns.Notice = nil // a monitor has no terminal: run -d says it
				return run.ServeMonitor(c.Context, st, c.Args().First(), ns)
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
				if err := run.Stop(st, ctr, sig, timeout); err != nil || then == nil {
					return err
				}
				return then(s, st, ctr)
			})
		},
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
			sig, err := run.ParseSignal(c.String("signal"))
			if err != nil {
				return toolError(err)
			}
			return eachContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
				err := run.Kill(st, ctr, sig)
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
					s, err := run.Wait(c.Context, st, ctr)
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

func newRestartCommand() *cli.Command {
	return newStoppingCommand("restart", "Restart one or more containers", startDetached)
}

// stopSettings is the signal and timeout with which stop and restart stop
// a container: the flags over run.StopSettings.
func stopSettings(c *cli.Context, st *storage.Store, ctr *storage.Container) (syscall.Signal, time.Duration, error) {
	timeout := time.Duration(-1)
	if t := c.Int("time"); t >= 0 {
		timeout = time.Duration(t) * time.Second
	}
	return run.StopSettings(st, ctr, c.String("signal"), timeout)
}

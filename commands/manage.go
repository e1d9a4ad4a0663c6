package commands

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/containerd/console"
	"github.com/urfave/cli/v2"
)

func newRenameCommand() *cli.Command {
	return &cli.Command{
		Name:      "rename",
		Usage:     "Rename a container",
		ArgsUsage: "CONTAINER NEW_NAME",
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 2, 2); err != nil {
				return err
			}
			name := strings.TrimPrefix(c.Args().Get(1), "/")
			if !validName().MatchString(name) {
				return fmt.Errorf("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
			}
			return withContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
				return st.RenameContainer(ctr, name)
			})
		},
	}
}

func newTopCommand() *cli.Command {
	return &cli.Command{
		Name:            "top",
		Usage:           "Display the running processes of a container",
		ArgsUsage:       "CONTAINER [ps OPTIONS]",
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, -1); err != nil {
				return err
			}
			return withContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
				state, err := run.CurrentState(st, ctr)
				if err != nil {
					return err
				}
				if state.Status != "running" {
					return fmt.Errorf("container %s is not running", ctr.ID)
				}
				pids := map[string]bool{}
				for _, p := range run.Descendants(state.MonitorPid) {
					pids[strconv.Itoa(p)] = true
				}
				args := c.Args().Tail()
				if len(args) == 0 {
					args = []string{"-ef"}
				}
				out, err := exec.Command("ps", args...).Output()
				if err != nil {
					return fmt.Errorf("running ps %s: %v", strings.Join(args, " "), err)
				}
				lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
				col := -1
				for i, h := range strings.Fields(lines[0]) {
					if h == "PID" {
						col = i
					}
				}
				if col < 0 {
					return errors.New("couldn't find PID field in ps output (hint: keep the pid column in the ps options)")
				}
				fmt.Fprintln(c.App.Writer, lines[0])
				for _, l := range lines[1:] {
					if f := strings.Fields(l); len(f) > col && pids[f[col]] && !strings.Contains(l, "burrow") {
						fmt.Fprintln(c.App.Writer, l)
					}
				}
				return nil
			})
		},
	}
}

func newPortCommand() *cli.Command {
	return &cli.Command{
		Name:      "port",
		Usage:     "List port mappings or a specific mapping for the container",
		ArgsUsage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, 2); err != nil {
				return err
			}
			return withContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
				// Publishing ports is not available yet, so no container has
				// a mapping.
				if p := c.Args().Get(1); p != "" {
					if !strings.Contains(p, "/") {
						p += "/tcp"
					}
					return fmt.Errorf("No public port '%s' published for %s", p, ctr.Name)
				}
				return nil
			})
		},
	}
}

func newPauseCommand(name string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     strings.ToUpper(name[:1]) + name[1:] + " all processes within one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, -1); err != nil {
				return err
			}
			return eachContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
				cg := run.DetectCgroups()
				return fmt.Errorf("cannot %s container %s: freezing needs a cgroup of the container's own, and this host's cgroups (%s) are not delegated to you (hint: an admin enables delegation with cgroups v2 and systemd's Delegate=yes)", name, ctr.Name, cg.Version)
			})
		},
	}
}

func newAttachCommand() *cli.Command {
	return &cli.Command{
		Name:      "attach",
		Usage:     "Attach local standard input, output, and error streams to a running container",
		ArgsUsage: "[OPTIONS] CONTAINER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-stdin", Usage: "do not attach STDIN"},
			&cli.BoolFlag{Name: "sig-proxy", Value: true, Usage: "proxy all received signals to the process"},
			&cli.StringFlag{Name: "detach-keys", Usage: "override the key sequence for detaching a container (default ctrl-p,ctrl-q)"},
		},
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, 1); err != nil {
				return err
			}
			if _, err := run.ParseDetachKeys(c.String("detach-keys")); err != nil {
				return toolError(err)
			}
			return withContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
				state, err := run.CurrentState(st, ctr)
				if err != nil {
					return err
				}
				if state.Status != "running" {
					return errors.New("You cannot attach to a stopped container, start it first")
				}
				if c.Bool("sig-proxy") && !ctr.Config.Tty {
					sigs := make(chan os.Signal, 4)
					signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
					defer signal.Stop(sigs)
					go func() {
						for s := range sigs {
							_ = run.Signal(st, ctr, s.(syscall.Signal), false)
						}
					}()
				}
				if ctr.Config.Tty || ctr.Config.OpenStdin {
					return attachStreams(c, st, ctr)
				}
				return followOutput(c, st, ctr)
			})
		},
	}
}

// attachStreams joins a detached container's input and output through
// its monitor, which reads and writes this process's own streams, until
// the container exits or the detach keys are typed.
func attachStreams(c *cli.Context, st *storage.Store, ctr *storage.Container) error {
	dir, err := st.ContainerRunDir(ctr)
	if err != nil {
		return err
	}
	_, stdout, stderr, err := execStreams(c)
	if err != nil {
		return err
	}
	stdin, ok := c.App.Reader.(*os.File)
	if !ok || c.Bool("no-stdin") {
		if stdin, err = os.Open(os.DevNull); err != nil {
			return err
		}
		defer stdin.Close()
	}
	req := run.ExecRequest{Attach: true, DetachKeys: c.String("detach-keys")}
	if ctr.Config.Tty {
		req.Width, req.Height = run.TerminalSize(stdout)
		if cur, err := console.ConsoleFromFile(stdin); err == nil && !c.Bool("no-stdin") {
			if err := cur.SetRaw(); err == nil {
				defer cur.Reset()
			}
		}
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				w, h := run.TerminalSize(stdout)
				_, _ = run.Exec(dir, run.ExecRequest{Resize: true, Width: w, Height: h}, stdin, stdout, stderr, nil)
			}
		}()
	}
	code, err := run.Exec(dir, req, stdin, stdout, stderr, nil)
	if errors.Is(err, run.ErrDetached) {
		fmt.Fprintln(c.App.ErrWriter, "\r\nread escape sequence")
		return nil
	}
	if errors.Is(err, run.ErrNotRunning) {
		return fmt.Errorf("container %s is not running", ctr.ID)
	}
	if err != nil {
		return err
	}
	return &exitCode{code: code}
}

// followOutput shows a container's new output until it exits, for a
// container without input or terminal.
func followOutput(c *cli.Context, st *storage.Store, ctr *storage.Container) error {
	path, err := run.LogPath(st, ctr)
	if err != nil {
		return err
	}
	// From the end of what is logged now: attach shows only new output.
	var offset int64
	if fi, err := os.Stat(path); err == nil {
		offset = fi.Size()
	}
	print := func(e run.LogEntry) error {
		w := c.App.Writer
		if e.Stream == "stderr" {
			w = c.App.ErrWriter
		}
		_, err := fmt.Fprint(w, e.Log)
		return err
	}
	for {
		if offset, err = run.ReadLog(path, offset, print); err != nil {
			return err
		}
		s, err := run.CurrentState(st, ctr)
		if err != nil {
			return err
		}
		if s.Status != "running" && !s.Restarting {
			_, _ = run.ReadLog(path, offset, print)
			return &exitCode{code: s.ExitCode}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package commands

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
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
			if err := run.CheckName(name); err != nil {
				return err
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
				lines, err := run.Top(st, ctr, c.Args().Tail())
				if errors.Is(err, run.ErrNotRunning) {
					return fmt.Errorf("container %s is not running", ctr.ID)
				}
				for _, l := range lines {
					fmt.Fprintln(c.App.Writer, l)
				}
				return err
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
				opts := run.AttachOptions{DetachKeys: c.String("detach-keys"), SigProxy: c.Bool("sig-proxy")}
				in, out, errw, err := execStreams(c)
				if err != nil {
					return err
				}
				in.Close()
				opts.Stdout, opts.Stderr = out, errw
				if in, ok := c.App.Reader.(*os.File); ok && !c.Bool("no-stdin") {
					opts.Stdin = in
				}
				code, err := run.Attach(c.Context, st, ctr, opts)
				switch {
				case errors.Is(err, run.ErrDetached):
					fmt.Fprintln(c.App.ErrWriter, "\r\nread escape sequence")
					return nil
				case errors.Is(err, run.ErrNotRunning):
					return errors.New("You cannot attach to a stopped container, start it first")
				case err != nil:
					return err
				}
				return &exitCode{code: code}
			})
		},
	}
}

package commands

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
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
				ports, err := run.Ports(st, ctr, c.Args().Get(1))
				for _, p := range ports {
					if c.Args().Get(1) != "" {
						fmt.Fprintln(c.App.Writer, hostAddr(p))
					} else {
						fmt.Fprintf(c.App.Writer, "%d/%s -> %s\n", p.ContainerPort, p.Proto, hostAddr(p))
					}
				}
				return err
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

// hostAddr is a published port's host side as Docker prints it.
func hostAddr(p storage.PortMapping) string {
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return net.JoinHostPort(ip, strconv.Itoa(int(p.HostPort)))
}

// portsColumn is ps's PORTS: "0.0.0.0:3000->3000/tcp, ...".
func portsColumn(ports []storage.PortMapping) string {
	var parts []string
	for _, p := range ports {
		parts = append(parts, fmt.Sprintf("%s->%d/%s", hostAddr(p), p.ContainerPort, p.Proto))
	}
	return strings.Join(parts, ", ")
}

// portsDoc is inspect's NetworkSettings.Ports: {"3000/tcp": [{"HostIp":
// "0.0.0.0", "HostPort": "3000"}]}.
func portsDoc(ports []storage.PortMapping) map[string]any {
	out := map[string]any{}
	for _, p := range ports {
		key := fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto)
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		list, _ := out[key].([]map[string]string)
		out[key] = append(list, map[string]string{"HostIp": ip, "HostPort": strconv.Itoa(int(p.HostPort))})
	}
	return out
}

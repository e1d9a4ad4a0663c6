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

// containerFlags are the flags run and create share.
func containerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "name", Usage: "assign a name to the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
		&cli.StringSliceFlag{Name: "env-file", Usage: "read in a file of environment variables"},
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "username or UID (format: <name|uid>[:<group|gid>])"},
		&cli.StringFlag{Name: "entrypoint", Usage: "overwrite the default ENTRYPOINT of the image"},
		&cli.StringFlag{Name: "hostname", Aliases: []string{"h"}, Usage: "container host name"},
		&cli.StringFlag{Name: "network", Aliases: []string{"net"}, Usage: "connect a container to a network: bridge, host, none, container:NAME or a network's name"},
		&cli.StringSliceFlag{Name: "network-alias", Usage: "add a network-scoped alias for the container"},
		&cli.StringSliceFlag{Name: "add-host", Usage: "add a custom host-to-IP mapping (host:ip)"},
		&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "bind mount a volume (SRC:DST[:ro], NAME:DST or DST)"},
		&cli.StringSliceFlag{Name: "mount", Usage: "attach a filesystem mount to the container (type=bind|volume|tmpfs,source=,target=,readonly)"},
		&cli.StringSliceFlag{Name: "tmpfs", Usage: "mount a tmpfs directory (PATH[:OPTIONS])"},
		&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "set meta data on a container"},
		&cli.BoolFlag{Name: "read-only", Usage: "mount the container's root filesystem as read only"},
		&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to this container (as far as an unprivileged user has them)"},
		&cli.StringSliceFlag{Name: "cap-add", Usage: "add Linux capabilities"},
		&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop Linux capabilities"},
		&cli.StringSliceFlag{Name: "security-opt", Usage: "security options: no-new-privileges, seccomp=unconfined, seccomp=PROFILE.json"},
		&cli.BoolFlag{Name: "rm", Usage: "automatically remove the container when it exits"},
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open even if not attached"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
		&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "publish a container's port(s) to the host ([IP:][HOST:]CTR[/PROTO])"},
		&cli.BoolFlag{Name: "publish-all", Aliases: []string{"P"}, Usage: "publish all exposed ports to random ports"},
		&cli.StringSliceFlag{Name: "dns", Usage: "set custom DNS servers"},
		&cli.StringSliceFlag{Name: "dns-search", Usage: "set custom DNS search domains"},
		&cli.StringSliceFlag{Name: "dns-option", Aliases: []string{"dns-opt"}, Usage: "set DNS options"},
		&cli.StringFlag{Name: "pull", Value: "missing", Usage: "pull image before running (always, missing, never)"},
		&cli.StringFlag{Name: "cidfile", Usage: "write the container ID to the file"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run container in background and print container ID"},
		// -h is --hostname here, as in Docker, so help is --help alone.
		&cli.BoolFlag{Name: "help", Usage: "show help"},
	}
}

func allContainerFlags() []cli.Flag { return append(containerFlags(), lifecycleFlags()...) }

// withHelp shows the command's help for --help (the built-in help flag is
// hidden because -h means --hostname) and runs action otherwise.
func withHelp(action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.Bool("help") {
			return cli.ShowSubcommandHelp(c)
		}
		return action(c)
	}
}

func newRunCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "Create and run a new container from an image",
		ArgsUsage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
		Flags:     allContainerFlags(),
		HideHelp:  true,
		Action:    withHelp(runRun),
	}
}

func newCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "Create a new container",
		ArgsUsage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
		Flags:     allContainerFlags(),
		HideHelp:  true,
		Action: withHelp(func(c *cli.Context) error {
			return withStore(c, func(s *session, st *storage.Store) error {
				ctr, err := createContainer(c, s, st)
				if err != nil {
					return err
				}
				fmt.Fprintln(c.App.Writer, ctr.ID)
				return nil
			})
		}),
	}
}

// configFromFlags turns run/create flags into the stored config. Errors
// here are the caller's (exit 125).
func configFromFlags(c *cli.Context) (storage.ContainerConfig, string, error) {
	var cfg storage.ContainerConfig
	if c.NArg() < 1 {
		return cfg, "", argsError(c, "at least 1 argument")
	}
	name := c.String("name")
	if name != "" {
		if err := run.CheckName(name); err != nil {
			return cfg, "", toolError(err)
		}
	}
	switch c.String("pull") {
	case "missing", "never", "always":
	default:
		return cfg, "", toolError(fmt.Errorf("invalid pull policy %q (hint: use always, missing or never)", c.String("pull")))
	}
	net, err := run.ParseNetwork(c.String("network"))
	if err != nil {
		return cfg, "", toolError(err)
	}
	ports, warning, err := run.ParsePublish(net, c.StringSlice("publish"), c.Bool("publish-all"))
	if err != nil {
		return cfg, "", toolError(err)
	}
	if warning != "" {
		fmt.Fprintln(c.App.ErrWriter, "WARNING: "+warning)
	}
	if err := run.CheckCapabilities(append(c.StringSlice("cap-add"), c.StringSlice("cap-drop")...)); err != nil {
		return cfg, "", toolError(err)
	}
	env, err := envFromFlags(c)
	if err != nil {
		return cfg, "", toolError(err)
	}
	mounts, err := mountsFromFlags(c)
	if err != nil {
		return cfg, "", toolError(err)
	}
	if _, err := run.ParseSecurityOpts(c.StringSlice("security-opt")); err != nil {
		return cfg, "", toolError(err)
	}
	labels := map[string]string{}
	for _, l := range c.StringSlice("label") {
		k, v, _ := strings.Cut(l, "=")
		labels[k] = v
	}
	cfg = storage.ContainerConfig{
		Image:       c.Args().First(),
		Cmd:         c.Args().Tail(),
		Env:         env,
		WorkingDir:  c.String("workdir"),
		User:        c.String("user"),
		Hostname:    c.String("hostname"),
		NetworkMode: net, NetworkAliases: c.StringSlice("network-alias"),
		AutoRemove:  c.Bool("rm"),
		ReadOnly:    c.Bool("read-only"),
		Privileged:  c.Bool("privileged"),
		CapAdd:      c.StringSlice("cap-add"),
		CapDrop:     c.StringSlice("cap-drop"),
		OpenStdin:   c.Bool("interactive"),
		Tty:         c.Bool("tty"),
		AddHosts:    c.StringSlice("add-host"),
		Mounts:      mounts,
		SecurityOpt: c.StringSlice("security-opt"),
		Ports:       ports,
		DNS:         c.StringSlice("dns"),
		DNSSearch:   c.StringSlice("dns-search"),
		DNSOptions:  c.StringSlice("dns-option"),
	}
	if len(labels) > 0 {
		cfg.Labels = labels
	}
	if c.IsSet("entrypoint") {
		cfg.Entrypoint = []string{}
		if e := c.String("entrypoint"); e != "" {
			cfg.Entrypoint = []string{e}
		}
	}
	if cfg.WorkingDir != "" && !strings.HasPrefix(cfg.WorkingDir, "/") {
		return cfg, "", toolError(fmt.Errorf("the working directory '%s' is invalid, it needs to be an absolute path", cfg.WorkingDir))
	}
	return cfg, name, nil
}

// envFromFlags reads --env-file files then -e values (run.Environment).
func envFromFlags(c *cli.Context) ([]string, error) {
	return run.Environment(c.StringSlice("env-file"), c.StringSlice("env"))
}

// createContainer records a container from the command line.
func createContainer(c *cli.Context, s *session, st *storage.Store) (*storage.Container, error) {
	cfg, name, err := configFromFlags(c)
	if err != nil {
		return nil, err
	}
	img, err := imageForRun(c, s, st, cfg.Image)
	if err != nil {
		return nil, err
	}
	imgCfg, err := st.Config(img.ID)
	if err != nil {
		return nil, toolError(err)
	}
	if err := applyLifecycleFlags(c, &cfg, &imgCfg.Config, st.ConfigExtra(img.ID)); err != nil {
		return nil, toolError(err)
	}
	if c.Bool("publish-all") && cfg.NetworkMode != run.NetworkHost && cfg.NetworkMode != run.NetworkNone {
		cfg.Ports = append(cfg.Ports, run.ExposedPorts(&imgCfg.Config)...)
	}
	ctr, err := run.Create(st, run.CreateOptions{
		Image: img, ImageConfig: &imgCfg.Config, Name: name, Config: cfg,
		// `run --rm` in the foreground lives no longer than this command.
		Ephemeral: cfg.AutoRemove && c.Command.Name == "run" && !c.Bool("detach"),
	})
	if err != nil {
		return nil, toolError(err)
	}
	if f := c.String("cidfile"); f != "" {
		if err := os.WriteFile(f, []byte(ctr.ID), 0o644); err != nil {
			return nil, toolError(fmt.Errorf("writing the container ID file: %w", err))
		}
	}
	return ctr, nil
}

func runRun(c *cli.Context) error {
	return withStore(c, func(s *session, st *storage.Store) error {
		ctr, err := createContainer(c, s, st)
		if err != nil {
			return err
		}
		if c.Bool("detach") {
			if err := startDetached(s, st, ctr); err != nil {
				dropIfUnbound(st, ctr, err)
				return err
			}
			fmt.Fprintln(c.App.Writer, ctr.ID)
			return nil
		}
		err = startAttached(c, s, st, ctr)
		dropIfUnbound(st, ctr, err)
		return err
	})
}

// dropIfUnbound removes the container run created when its start failed
// on a published port: the attempt leaves nothing behind.
func dropIfUnbound(st *storage.Store, ctr *storage.Container, err error) {
	if err != nil && run.IsBindError(err) {
		_ = run.Remove(st, ctr, run.RemoveOptions{Force: true, Volumes: true})
	}
}

// startAttached runs a created container in the foreground with the
// caller's stdio; its exit code becomes burrow's.
func startAttached(c *cli.Context, s *session, st *storage.Store, ctr *storage.Container) error {
	code, err := run.StartAttached(c.Context, st, ctr, run.AttachedOptions{
		Stdin: c.App.Reader, Stdout: c.App.Writer, Stderr: c.App.ErrWriter,
		NoSigProxy: c.IsSet("sig-proxy") && !c.Bool("sig-proxy"),
		Network:    s.networkSettings(),
	})
	return startResult(code, err)
}

// startResult turns a start's outcome into burrow's exit: the container's
// code, Docker's 126/127 when its command could not run, 125 when burrow
// could not run it.
func startResult(code int, err error) error {
	var se *run.StartError
	var re *run.RemoveError
	if errors.Is(err, run.ErrInputNotTerminal) || errors.As(err, &re) {
		return &exitCode{code: ExitError, err: err}
	}
	if errors.As(err, &se) && se.Code != 0 {
		return &exitCode{code: se.Code, err: err}
	}
	if err != nil {
		return toolError(err)
	}
	return &exitCode{code: code}
}

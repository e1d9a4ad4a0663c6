package commands

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
)

// newNetworkCommand is the `network` group, with Docker's subcommands,
// and the hidden entry point of a network's switch process.
func newNetworkCommand() []*cli.Command {
	filter := &cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "provide filter values (e.g. 'name=x', 'label=k=v')"}
	return []*cli.Command{{Name: "network", Usage: "Manage networks", Subcommands: []*cli.Command{
		{Name: "create", Usage: "Create a network", ArgsUsage: "[OPTIONS] NETWORK", Action: runNetworkCreate, Flags: []cli.Flag{
			&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "bridge", Usage: "driver to manage the network (bridge only)"},
			&cli.StringFlag{Name: "subnet", Usage: "subnet in CIDR format (default: the next free 10.89.N.0/24)"},
			&cli.StringSliceFlag{Name: "label", Usage: "set metadata on a network"},
			&cli.BoolFlag{Name: "internal", Usage: "restrict external access to the network"}}},
		{Name: "ls", Aliases: []string{"list"}, Usage: "List networks", Action: runNetworkLs, Flags: []cli.Flag{quietFlag("only display network IDs"), filter,
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json' or TEMPLATE"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate the output"}}},
		{Name: "inspect", Usage: "Display detailed information on one or more networks", ArgsUsage: "NETWORK [NETWORK...]", Action: runNetworkInspect,
			Flags: []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a custom template"}}},
		{Name: "rm", Aliases: []string{"remove"}, Usage: "Remove one or more networks", ArgsUsage: "NETWORK [NETWORK...]", Action: runNetworkRm,
			Flags: []cli.Flag{forceFlag("do not error if the network does not exist")}},
		{Name: "prune", Usage: "Remove all unused networks", Action: runNetworkPrune, Flags: []cli.Flag{forceFlag("do not prompt for confirmation"),
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (e.g. 'until=24h', 'label=<key>=<value>')"}}},
		{Name: "connect", Usage: "Connect a container to a network", ArgsUsage: "[OPTIONS] NETWORK CONTAINER", Action: runNetworkConnect, Flags: []cli.Flag{&cli.StringSliceFlag{Name: "alias", Usage: "add network-scoped alias for the container"}}},
		{Name: "disconnect", Usage: "Disconnect a container from a network", ArgsUsage: "[OPTIONS] NETWORK CONTAINER", Action: runNetworkConnect, Flags: []cli.Flag{forceFlag("force the container to disconnect from a network")}},
	}}, {Name: run.SwitchCommand, Hidden: true, Action: func(c *cli.Context) error { return run.ServeSwitch(c.Context, c.Args().First()) }}}
}

func runNetworkCreate(c *cli.Context) error {
	o := storage.NetworkOptions{Internal: c.Bool("internal"), Labels: keyValues(c.StringSlice("label"))}
	var err error
	if s := c.String("subnet"); s != "" {
		o.Subnet, err = netip.ParsePrefix(s)
	}
	if d := c.String("driver"); d != "bridge" {
		err = fmt.Errorf("network driver %q is not available (hint: only the bridge driver is)", d)
	}
	if err != nil {
		return toolError(err)
	}
	return withArgs(c, 1, 1, func(st *storage.Store) error {
		n, err := st.CreateNetwork(c.Args().First(), o)
		if err == nil {
			fmt.Fprintln(c.App.Writer, n.ID)
		}
		return err
	})
}

func runNetworkConnect(c *cli.Context) error { // and disconnect
	return withArgs(c, 2, 2, func(st *storage.Store) error {
		if c.Command.Name == "disconnect" {
			return run.DisconnectNetwork(st, c.Args().Get(0), c.Args().Get(1), c.Bool("force"))
		}
		return run.ConnectNetwork(st, c.Args().Get(0), c.Args().Get(1), c.StringSlice("alias"))
	})
}

func runNetworkLs(c *cli.Context) error {
	return withArgs(c, 0, 0, func(st *storage.Store) error {
		nets, err := run.Networks(st, c.StringSlice("filter"))
		var rows []any
		for _, n := range nets {
			if r := n.Row(c.Bool("no-trunc")); c.Bool("quiet") {
				fmt.Fprintln(c.App.Writer, r.ID)
			} else {
				rows = append(rows, r)
			}
		}
		if err != nil || c.Bool("quiet") {
			return toolError(err)
		}
		lf := listFormat{Table: "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", Headers: map[string]string{"ID": "NETWORK ID",
			"Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"}}
		return lf.write(c.App.Writer, c.String("format"), rows)
	})
}

func runNetworkInspect(c *cli.Context) error {
	return withArgs(c, 1, -1, func(st *storage.Store) error {
		var docs []any
		failed := eachArg(c, "Error: ", func(ref string) error {
			n, err := run.InspectNetwork(st, ref)
			if err == nil {
				docs = append(docs, n.Doc())
			}
			return err
		})
		return writeDocs(c, docs, failed)
	})
}

func runNetworkRm(c *cli.Context) error {
	return withArgs(c, 1, -1, func(st *storage.Store) error {
		return eachArg(c, "Error response from daemon: ", func(ref string) error {
			_, err := run.RemoveNetwork(st, ref)
			if err == nil {
				fmt.Fprintln(c.App.Writer, ref)
			} else if c.Bool("force") && errors.Is(err, storage.ErrNoSuchNetwork) {
				return nil
			}
			return err
		})
	})
}

func runNetworkPrune(c *cli.Context) error {
	f, err := storage.ParsePruneFilter(c.StringSlice("filter"), "network prune")
	if err != nil {
		return toolError(err)
	}
	if !c.Bool("force") {
		if ok, err := confirmInNamespace(c, "WARNING! This will remove all custom networks not used by at least one container."); err != nil || !ok {
			return err
		}
	}
	return withArgs(c, 0, 0, func(st *storage.Store) error {
		names, err := run.PruneNetworks(st, func(n *storage.Network) bool { return f.Keeps(n.Created, n.Labels) })
		if len(names) > 0 {
			fmt.Fprintln(c.App.Writer, "Deleted Networks:\n"+strings.Join(names, "\n"))
		}
		return err
	})
}

// withArgs checks the number of arguments and opens the store.
func withArgs(c *cli.Context, lo, hi int, f func(st *storage.Store) error) error {
	if err := checkArgs(c, lo, hi); err != nil {
		return err
	}
	return withStore(c, func(_ *session, st *storage.Store) error { return f(st) })
}

// eachArg calls f with each argument; it prints each error after prefix
// and goes on, and returns exit status 1 if any failed.
func eachArg(c *cli.Context, prefix string, f func(arg string) error) error {
	var failed error
	for _, a := range c.Args().Slice() {
		if err := f(a); err != nil {
			fmt.Fprintln(c.App.ErrWriter, prefix+err.Error())
			failed = &exitCode{code: ExitError}
		}
	}
	return failed
}

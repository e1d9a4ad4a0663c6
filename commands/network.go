package commands

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
)

// newNetworkCommand is the `network` group, with Docker's subcommands,
// and the hidden entry point of a network's switch process.
func newNetworkCommand() []*cli.Command {
	filter := &cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "provide filter values (e.g. 'name=x', 'label=k=v')"}
	unsupported := func(c *cli.Context) error { return toolError(run.ErrConnectUnsupported) }
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
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (e.g. 'label=<key>=<value>')"}}},
		{Name: "connect", Usage: "Connect a container to a network", Action: unsupported},
		{Name: "disconnect", Usage: "Disconnect a container from a network", Action: unsupported},
	}}, {Name: run.SwitchCommand, Hidden: true, Action: func(c *cli.Context) error { return run.ServeSwitch(c.Context, c.Args().First()) }}}
}

func runNetworkCreate(c *cli.Context) error {
	if err := checkArgs(c, 1, 1); err != nil {
		return err
	}
	if d := c.String("driver"); d != "bridge" {
		return toolError(fmt.Errorf("network driver %q is not available (hint: only the bridge driver is)", d))
	}
	o := storage.NetworkOptions{Internal: c.Bool("internal"), Labels: keyValues(c.StringSlice("label"))}
	if s := c.String("subnet"); s != "" {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return toolError(fmt.Errorf("invalid subnet %s: %w", s, err))
		}
		o.Subnet = p
	}
	return withStore(c, func(_ *session, st *storage.Store) error {
		n, err := st.CreateNetwork(c.Args().First(), o)
		if err == nil {
			fmt.Fprintln(c.App.Writer, n.ID)
		}
		return err
	})
}

func runNetworkLs(c *cli.Context) error {
	if err := checkArgs(c, 0, 0); err != nil {
		return err
	}
	return withStore(c, func(_ *session, st *storage.Store) error {
		nets, err := run.Networks(st, c.StringSlice("filter"))
		if err != nil {
			return toolError(err)
		}
		var rows []any
		for _, n := range nets {
			id := n.ID
			if !c.Bool("no-trunc") {
				id = id[:12]
			}
			if c.Bool("quiet") {
				fmt.Fprintln(c.App.Writer, id)
			}
			var labels []string
			for k, v := range n.Labels {
				labels = append(labels, k+"="+v)
			}
			rows = append(rows, map[string]any{"ID": id, "Name": n.Name, "Driver": n.Driver, "Scope": "local",
				"Internal": n.Internal, "Labels": strings.Join(labels, ","), "CreatedAt": n.Created.Local().Format("2006-01-02 15:04:05 -0700 MST")})
		}
		if c.Bool("quiet") {
			return nil
		}
		lf := listFormat{Table: "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", Headers: map[string]string{"ID": "NETWORK ID",
			"Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"}}
		return lf.write(c.App.Writer, c.String("format"), rows)
	})
}

func runNetworkInspect(c *cli.Context) error {
	if err := checkArgs(c, 1, -1); err != nil {
		return err
	}
	return withStore(c, func(_ *session, st *storage.Store) error {
		var docs []any
		var failed error
		for _, ref := range c.Args().Slice() {
			n, err := run.InspectNetwork(st, ref)
			if err != nil {
				fmt.Fprintln(c.App.ErrWriter, "Error: "+err.Error())
				failed = &exitCode{code: ExitError}
				continue
			}
			ctrs, ipam := map[string]any{}, []any{}
			for _, m := range n.Members {
				ctrs[m.ID] = map[string]string{"Name": m.Name, "IPv4Address": m.IPAddress + "/" + fmt.Sprint(n.Subnet.Bits()), "IPv6Address": ""}
			}
			if n.Subnet.IsValid() {
				ipam = append(ipam, map[string]string{"Subnet": n.Subnet.String(), "Gateway": n.Gateway.String()})
			}
			docs = append(docs, map[string]any{"Name": n.Name, "Id": n.ID, "Created": n.Created.Format(time.RFC3339Nano), "Scope": "local",
				"Driver": n.Driver, "EnableIPv6": false, "IPAM": map[string]any{"Driver": "default", "Options": map[string]string{}, "Config": ipam},
				"Internal": n.Internal, "Attachable": false, "Ingress": false, "Containers": ctrs, "Options": map[string]string{}, "Labels": n.Labels})
		}
		return writeDocs(c, docs, failed)
	})
}

func runNetworkRm(c *cli.Context) error {
	if err := checkArgs(c, 1, -1); err != nil {
		return err
	}
	return withStore(c, func(_ *session, st *storage.Store) error {
		var failed error
		for _, ref := range c.Args().Slice() {
			if _, err := run.RemoveNetwork(st, ref); err != nil && !(c.Bool("force") && errors.Is(err, storage.ErrNoSuchNetwork)) {
				fmt.Fprintln(c.App.ErrWriter, "Error response from daemon: "+err.Error())
				failed = &exitCode{code: ExitError}
			} else if err == nil {
				fmt.Fprintln(c.App.Writer, ref)
			}
		}
		return failed
	})
}

func runNetworkPrune(c *cli.Context) error {
	if err := checkArgs(c, 0, 0); err != nil {
		return err
	}
	f, err := storage.ParseVolumePruneFilters(c.StringSlice("filter"))
	if err != nil {
		return toolError(err)
	}
	if !c.Bool("force") {
		if ok, err := confirmInNamespace(c, "WARNING! This will remove all custom networks not used by at least one container."); err != nil || !ok {
			return err
		}
	}
	return withStore(c, func(_ *session, st *storage.Store) error {
		names, err := run.PruneNetworks(st, func(n *storage.Network) bool { return !f.Match(&storage.Volume{Labels: n.Labels}, false) })
		if len(names) > 0 {
			fmt.Fprintln(c.App.Writer, "Deleted Networks:\n"+strings.Join(names, "\n"))
		}
		return err
	})
}

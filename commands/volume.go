package commands

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/burrow-oci/burrow/storage"
)

// newVolumeCommand is the `volume` group, with Docker's subcommands.
func newVolumeCommand() *cli.Command {
	return &cli.Command{
		Name:  "volume",
		Usage: "Manage volumes",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "Create a volume",
				ArgsUsage: "[OPTIONS] [VOLUME]",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "name", Usage: "specify volume name"},
					&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "local", Usage: "specify volume driver name (local only)"},
					&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "set metadata for a volume"},
					&cli.StringSliceFlag{Name: "opt", Aliases: []string{"o"}, Usage: "set driver specific options"},
				},
				Action: runVolumeCreate,
			},
			{
				Name:    "ls",
				Aliases: []string{"list"},
				Usage:   "List volumes",
				Flags: []cli.Flag{
					quietFlag("only display volume names"),
					&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "provide filter values (e.g. 'dangling=true', 'name=x', 'label=k=v')"},
					&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json' or TEMPLATE"},
				},
				Action: runVolumeLs,
			},
			{
				Name:      "inspect",
				Usage:     "Display detailed information on one or more volumes",
				ArgsUsage: "VOLUME [VOLUME...]",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a custom template"}},
				Action:    runVolumeInspect,
			},
			{
				Name:      "rm",
				Aliases:   []string{"remove"},
				Usage:     "Remove one or more volumes",
				ArgsUsage: "VOLUME [VOLUME...]",
				Flags:     []cli.Flag{forceFlag("do not complain about volumes that do not exist")},
				Action:    runVolumeRm,
			},
			{
				Name:  "prune",
				Usage: "Remove unused local volumes",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused volumes, not just anonymous ones"},
					forceFlag("do not prompt for confirmation"),
					&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (e.g. 'label=<key>=<value>')"},
				},
				Action: runVolumePrune,
			},
		},
	}
}

// volumeDoc is `volume inspect`'s document, with Docker's fields.
type volumeDoc struct {
	CreatedAt  string
	Driver     string
	Labels     map[string]string
	Mountpoint string
	Name       string
	Options    map[string]string
	Scope      string
}

func docOfVolume(v *storage.Volume) volumeDoc {
	return volumeDoc{CreatedAt: v.CreatedAt.Local().Format(time.RFC3339), Driver: "local", Labels: v.Labels,
		Mountpoint: v.Mountpoint, Name: v.Name, Options: v.Options, Scope: "local"}
}

func runVolumeCreate(c *cli.Context) error {
	if err := checkArgs(c, 0, 1); err != nil {
		return err
	}
	name := c.Args().First()
	if n := c.String("name"); n != "" {
		if name != "" && name != n {
			return toolError(fmt.Errorf("conflicting options: either specify --name or provide positional arg, not both"))
		}
		name = n
	}
	if name != "" && !storage.ValidVolumeName(name) {
		return toolError(fmt.Errorf("%q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed", name))
	}
	if d := c.String("driver"); d != "local" {
		return toolError(fmt.Errorf("volume driver %q is not available (hint: only the local driver is)", d))
	}
	o := storage.VolumeOptions{Labels: keyValues(c.StringSlice("label")), Options: keyValues(c.StringSlice("opt"))}
	return withStore(c, func(_ *session, st *storage.Store) error {
		v, err := st.CreateVolume(name, o)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, v.Name)
		return nil
	})
}

// keyValues reads KEY=VALUE flags into a map (nil when there are none).
func keyValues(kvs []string) map[string]string {
	if len(kvs) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

type volumeRow struct {
	Driver, Name, Mountpoint, Scope, Labels string
}

func runVolumeLs(c *cli.Context) error {
	if err := checkArgs(c, 0, 0); err != nil {
		return err
	}
	f, err := storage.ParseVolumeFilters(c.StringSlice("filter"))
	if err != nil {
		return toolError(err)
	}
	// Only dangling= needs the containers; without it the store itself
	// is not opened.
	open := withVolumes
	if f.NeedsContainers() {
		open = withStore
	}
	return open(c, func(_ *session, st *storage.Store) error {
		vols, err := st.FilterVolumes(f)
		if err != nil {
			return err
		}
		var rows []any
		for i := range vols {
			v := &vols[i]
			if c.Bool("quiet") {
				fmt.Fprintln(c.App.Writer, v.Name)
				continue
			}
			var labels []string
			for k, val := range v.Labels {
				labels = append(labels, k+"="+val)
			}
			rows = append(rows, volumeRow{Driver: "local", Name: v.Name, Mountpoint: v.Mountpoint, Scope: "local", Labels: strings.Join(labels, ",")})
		}
		if c.Bool("quiet") {
			return nil
		}
		lf := listFormat{Table: "{{.Driver}}\t{{.Name}}", Headers: map[string]string{
			"Driver": "DRIVER", "Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT", "Scope": "SCOPE", "Labels": "LABELS"}}
		return lf.write(c.App.Writer, c.String("format"), rows)
	})
}

func runVolumeInspect(c *cli.Context) error {
	if err := checkArgs(c, 1, -1); err != nil {
		return err
	}
	return withVolumes(c, func(_ *session, st *storage.Store) error {
		var docs []any
		var failed error
		for _, name := range c.Args().Slice() {
			v, err := st.Volume(name)
			if err != nil {
				fmt.Fprintln(c.App.ErrWriter, "Error: "+err.Error())
				failed = &exitCode{code: ExitError}
				continue
			}
			docs = append(docs, docOfVolume(v))
		}
		return writeDocs(c, docs, failed)
	})
}

func runVolumeRm(c *cli.Context) error {
	if err := checkArgs(c, 1, -1); err != nil {
		return err
	}
	return withStore(c, func(_ *session, st *storage.Store) error {
		var failed error
		for _, name := range c.Args().Slice() {
			_, err := st.DeleteVolume(name)
			if errors.Is(err, storage.ErrNoSuchVolume) && c.Bool("force") {
				continue
			}
			if err != nil {
				fmt.Fprintln(c.App.ErrWriter, "Error: "+err.Error())
				failed = &exitCode{code: ExitError}
				continue
			}
			fmt.Fprintln(c.App.Writer, name)
		}
		return failed
	})
}

func runVolumePrune(c *cli.Context) error {
	if err := checkArgs(c, 0, 0); err != nil {
		return err
	}
	f, err := storage.ParseVolumePruneFilters(c.StringSlice("filter"))
	if err != nil {
		return toolError(err)
	}
	o := storage.VolumePruneOptions{All: c.Bool("all"), Keep: func(v *storage.Volume) bool { return !f.Match(v, false) }}
	if !c.Bool("force") {
		warning := "WARNING! This will remove anonymous local volumes not used by at least one container."
		if o.All {
			warning = "WARNING! This will remove all local volumes not used by at least one container."
		}
		if ok, err := confirmInNamespace(c, warning); err != nil || !ok {
			return err
		}
	}
	return withStore(c, func(_ *session, st *storage.Store) error {
		r, err := st.PruneVolumes(o)
		if r != nil && len(r.Deleted) > 0 {
			fmt.Fprintln(c.App.Writer, "Deleted Volumes:")
			for _, n := range r.Deleted {
				fmt.Fprintln(c.App.Writer, n)
			}
			fmt.Fprintln(c.App.Writer)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, "Total reclaimed space: "+humanSize(r.Reclaimed))
		return nil
	})
}

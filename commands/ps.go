package commands

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"
)

func newPsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ps",
		Usage: "List containers",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers (default shows just running)"},
			quietFlag("only display container IDs"),
			&cli.BoolFlag{Name: "latest", Aliases: []string{"l"}, Usage: "show the latest created container (includes all states)"},
			&cli.IntFlag{Name: "last", Aliases: []string{"n"}, Value: -1, Usage: "show n last created containers (includes all states)"},
			&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "display total file sizes"},
			noTruncFlag(),
			filterFlag(),
			formatFlag("format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template"),
		},
		Action: runPs,
	}
}

// psRow is one line of `ps`, with Docker's field names.
type psRow struct {
	Command      string
	CreatedAt    string
	ID           string
	Image        string
	Labels       string
	LocalVolumes string
	Mounts       string
	Names        string
	Networks     string
	Ports        string
	RunningFor   string
	Size         string
	State        string
	Status       string
}

var psFormat = listFormat{
	Table: "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
	Headers: map[string]string{
		"Command": "COMMAND", "CreatedAt": "CREATED AT", "ID": "CONTAINER ID", "Image": "IMAGE",
		"Labels": "LABELS", "LocalVolumes": "LOCAL VOLUMES", "Mounts": "MOUNTS", "Names": "NAMES",
		"Networks": "NETWORKS", "Ports": "PORTS", "RunningFor": "CREATED", "Size": "SIZE",
		"State": "STATE", "Status": "STATUS",
	},
}

func runPs(c *cli.Context) error {
	if err := checkArgs(c, 0, 0); err != nil {
		return err
	}
	filters := map[string][]string{}
	for _, f := range c.StringSlice("filter") {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			return fmt.Errorf("bad format of filter (expected name=value): %q", f)
		case k == "status" || k == "name" || k == "ancestor" || k == "label" || k == "exited" || k == "id" || k == "network":
			filters[k] = append(filters[k], v)
		default:
			return fmt.Errorf("invalid filter '%s' (hint: ps filters are status, name, id, ancestor, label, exited and network)", k)
		}
	}
	return withStore(c, func(_ *session, st *storage.Store) error {
		limit := c.Int("last")
		if c.Bool("latest") {
			limit = 1
		}
		var listed []run.Listed
		if limit != 0 { // -n 0 lists nothing
			var err error
			listed, err = run.List(st, run.ListOptions{
				All:     c.Bool("all") || c.Bool("latest") || c.Int("last") >= 0,
				Last:    limit,
				Filters: filters,
			})
			if err != nil {
				return err
			}
		}
		var rows []any
		configs := map[string]*v1.Config{} // read once per image, not per container
		imageConfig := func(id string) *v1.Config {
			if c, ok := configs[id]; ok {
				return c
			}
			var c *v1.Config
			if cf, err := st.Config(id); err == nil {
				c = &cf.Config
			}
			configs[id] = c
			return c
		}
		for _, l := range listed {
			rows = append(rows, makePsRow(st, l.Container, imageConfig(l.Container.ImageID), l.State, c.Bool("no-trunc"), c.Bool("size")))
		}
		if c.Bool("quiet") {
			for _, r := range rows {
				fmt.Fprintln(c.App.Writer, r.(psRow).ID)
			}
			return nil
		}
		lf := psFormat
		if c.Bool("size") {
			lf.Table += "\t{{.Size}}"
		}
		return lf.write(c.App.Writer, c.String("format"), rows)
	})
}

func makePsRow(st *storage.Store, ctr *storage.Container, img *v1.Config, state storage.ContainerState, noTrunc, size bool) psRow {
	args := ctr.Config.Cmd
	if img != nil {
		args = run.Args(img, run.Options{Cmd: ctr.Config.Cmd, Entrypoint: ctr.Config.Entrypoint})
	}
	cmd := strings.Join(args, " ")
	id := ctr.ID
	if !noTrunc {
		id = id[:12]
		cmd = ellipsis(cmd, 20)
	}
	var labels []string
	for k, v := range ctr.Config.Labels {
		labels = append(labels, k+"="+v)
	}
	r := psRow{
		Command: strconv.Quote(cmd), CreatedAt: createdAt(ctr.Created), ID: id,
		Image: ctr.Config.Image, Labels: strings.Join(labels, ","), Names: ctr.Name,
		Networks: strings.Join(run.ContainerNetworks(st, ctr), ","), RunningFor: humanSince(ctr.Created),
		State: string(state.Status), Status: run.Describe(state), Ports: portsColumn(state.Ports),
	}
	if size {
		if rw, virtual, err := st.ContainerSize(ctr); err == nil {
			r.Size = fmt.Sprintf("%s (virtual %s)", humanSize(rw), humanSize(virtual))
		} else {
			r.Size = "N/A"
		}
	}
	return r
}

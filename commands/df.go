package commands

import (
	"fmt"
	"strings"

	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/urfave/cli/v2"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
)

func newSystemDfCommand() *cli.Command {
	return &cli.Command{
		Name:  "df",
		Usage: "Show burrow disk usage",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show detailed information on space usage"},
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json' or TEMPLATE"},
		},
		Action: runSystemDf,
	}
}

// dfRow is one line of `system df`, with Docker's field names.
type dfRow struct {
	Type        string
	TotalCount  int
	Active      int
	Size        string
	Reclaimable string
}

var dfFormat = listFormat{
	Table: "{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
	Headers: map[string]string{"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE",
		"Size": "SIZE", "Reclaimable": "RECLAIMABLE"},
}

// reclaimable prints "1.2MB (40%)" as Docker does.
func reclaimable(n, of int64) string {
	if of <= 0 {
		return humanSize(n)
	}
	return fmt.Sprintf("%s (%d%%)", humanSize(n), n*100/of)
}

func runSystemDf(c *cli.Context) error {
	if err := checkArgs(c, 0, 0); err != nil {
		return err
	}
	return withStore(c, func(_ *session, st *storage.Store) error {
		u, err := st.DiskUsage()
		if err != nil {
			return err
		}
		cu, err := run.ContainersUsage(st)
		if err != nil {
			return err
		}
		vu, err := run.VolumesUsage(st)
		if err != nil {
			return err
		}
		var ctrSize, ctrFree int64
		running := 0
		for _, x := range cu {
			ctrSize += x.Size
			if x.Running {
				running++
			} else {
				ctrFree += x.Size
			}
		}
		var volSize, volFree int64
		volActive := 0
		for _, v := range vu {
			volSize += v.Size
			if v.Links > 0 {
				volActive++
			} else {
				volFree += v.Size
			}
		}
		rows := []any{
			dfRow{"Images", len(u.Images), u.ImagesActive, humanSize(u.ImagesSize), reclaimable(u.ImagesReclaimable, u.ImagesSize)},
			dfRow{"Containers", len(cu), running, humanSize(ctrSize), reclaimable(ctrFree, ctrSize)},
			dfRow{"Local Volumes", len(vu), volActive, humanSize(volSize), reclaimable(volFree, volSize)},
			dfRow{"Build Cache", len(u.Cache), 0, humanSize(u.CacheSize), humanSize(u.CacheSize)},
		}
		if !c.Bool("verbose") {
			return dfFormat.write(c.App.Writer, c.String("format"), rows)
		}
		w := c.App.Writer
		fmt.Fprintln(w, "Images space usage:")
		fmt.Fprintln(w)
		var irows []any
		for _, iu := range u.Images {
			repo, tag := "<none>", "<none>"
			if len(iu.Image.Names) > 0 {
				repo, tag, _ = reference.Split(iu.Image.Names[0])
			}
			irows = append(irows, map[string]string{"Repository": repo, "Tag": tag, "ID": iu.Image.ID[:12],
				"Created": humanSince(iu.Image.Created), "Size": humanSize(iu.SharedSize + iu.Unique),
				"Shared": humanSize(iu.SharedSize), "Unique": humanSize(iu.Unique), "Containers": fmt.Sprint(iu.Containers)})
		}
		if err := (listFormat{Table: "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Created}}\t{{.Size}}\t{{.Shared}}\t{{.Unique}}\t{{.Containers}}",
			Headers: map[string]string{"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Created": "CREATED",
				"Size": "SIZE", "Shared": "SHARED SIZE", "Unique": "UNIQUE SIZE", "Containers": "CONTAINERS"}}).write(w, "", irows); err != nil {
			return err
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Containers space usage:")
		fmt.Fprintln(w)
		var crows []any
		for _, x := range cu {
			img := x.Container.Config.Image
			if img == "" {
				img = x.Container.ImageID[:12]
			}
			crows = append(crows, map[string]string{"ID": x.Container.ID[:12], "Image": img,
				"Command": ellipsis(strings.Join(append(append([]string{}, x.Container.Config.Entrypoint...), x.Container.Config.Cmd...), " "), 20),
				"Volumes": fmt.Sprint(x.Volumes), "Size": humanSize(x.Size), "Created": humanSince(x.Container.Created),
				"Status": string(x.Status), "Names": x.Container.Name})
		}
		if err := (listFormat{Table: "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Volumes}}\t{{.Size}}\t{{.Created}}\t{{.Status}}\t{{.Names}}",
			Headers: map[string]string{"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "Volumes": "LOCAL VOLUMES",
				"Size": "SIZE", "Created": "CREATED", "Status": "STATUS", "Names": "NAMES"}}).write(w, "", crows); err != nil {
			return err
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Local Volumes space usage:")
		fmt.Fprintln(w)
		var vrows []any
		for _, v := range vu {
			vrows = append(vrows, map[string]string{"Name": v.Volume.Name, "Links": fmt.Sprint(v.Links), "Size": humanSize(v.Size)})
		}
		if err := (listFormat{Table: "{{.Name}}\t{{.Links}}\t{{.Size}}",
			Headers: map[string]string{"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}}).write(w, "", vrows); err != nil {
			return err
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Build cache usage: %s\n\n", humanSize(u.CacheSize))
		var brows []any
		for _, e := range u.Cache {
			brows = append(brows, map[string]string{"ID": e.ID[:12], "Type": "regular", "Size": humanSize(e.Size),
				"Created": humanSince(e.Created), "Shared": fmt.Sprint(e.Shared)})
		}
		return (listFormat{Table: "{{.ID}}\t{{.Type}}\t{{.Size}}\t{{.Created}}\t{{.Shared}}",
			Headers: map[string]string{"ID": "CACHE ID", "Type": "CACHE TYPE", "Size": "SIZE", "Created": "CREATED", "Shared": "SHARED"}}).write(w, "", brows)
	})
}

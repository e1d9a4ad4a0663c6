package commands

import (
	"fmt"

	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/urfave/cli/v2"
)

func newImagesCommand() *cli.Command {
	return &cli.Command{
		Name:      "images",
		Usage:     "List images",
		ArgsUsage: "[OPTIONS] [REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all images (default hides intermediate images)"},
			quietFlag("only show image IDs"),
			noTruncFlag(),
			&cli.BoolFlag{Name: "digests", Usage: "show digests"},
			filterFlag(),
			formatFlag("format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template"),
		},
		Action: runImages,
	}
}

// imageRow is one line of `images`, with Docker's field names (they are
// what --format templates and --format json use).
type imageRow struct {
	Containers   string
	CreatedAt    string
	CreatedSince string
	Digest       string
	ID           string
	Repository   string
	SharedSize   string
	Size         string
	Tag          string
	UniqueSize   string
	VirtualSize  string
}

var imagesFormat = listFormat{
	Headers: map[string]string{
		"Containers": "CONTAINERS", "CreatedAt": "CREATED AT", "CreatedSince": "CREATED",
		"Digest": "DIGEST", "ID": "IMAGE ID", "Repository": "REPOSITORY", "SharedSize": "SHARED SIZE",
		"Size": "SIZE", "Tag": "TAG", "UniqueSize": "UNIQUE SIZE", "VirtualSize": "VIRTUAL SIZE",
	},
}

func runImages(c *cli.Context) error {
	if err := checkArgs(c, 0, 1); err != nil {
		return err
	}
	f, err := storage.ParseImageFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	if c.NArg() == 1 {
		f.References = append(f.References, c.Args().First())
	}
	f.All = c.Bool("all")
	return withStore(c, func(s *session, st *storage.Store) error {
		imgs, err := st.FilterImages(f)
		if err != nil {
			return err
		}
		var rows []any
		for i := range imgs {
			for _, r := range imageRows(&imgs[i], c.Bool("no-trunc"), &f) {
				rows = append(rows, r)
			}
		}
		if c.Bool("quiet") {
			for _, r := range rows {
				fmt.Fprintln(c.App.Writer, r.(imageRow).ID)
			}
			return nil
		}
		lf := imagesFormat
		lf.Table = "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
		if c.Bool("digests") {
			lf.Table = "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
		}
		return lf.write(c.App.Writer, c.String("format"), rows)
	})
}

// imageRows makes one row per name of the image (one "<none>" row when it
// has none), as Docker lists them. With reference filters, only the
// names that match are listed.
func imageRows(img *storage.Image, noTrunc bool, f *storage.ImageFilter) []imageRow {
	id := img.ID[:12]
	if noTrunc {
		id = "sha256:" + img.ID
	}
	base := imageRow{
		Containers: "N/A", CreatedAt: createdAt(img.Created), CreatedSince: humanSince(img.Created),
		Digest: "<none>", ID: id, SharedSize: "N/A", Size: humanSize(img.Size), UniqueSize: "N/A",
		VirtualSize: humanSize(img.Size),
	}
	digestFor := func(repo string) string {
		for _, d := range img.Digests {
			if r, _, dg := reference.Split(d); r == repo {
				return dg
			}
		}
		return "<none>"
	}
	var rows []imageRow
	for _, n := range img.Names {
		if !f.MatchesName(n) {
			continue
		}
		r := base
		r.Repository, r.Tag, _ = reference.Split(n)
		r.Digest = digestFor(r.Repository)
		rows = append(rows, r)
	}
	if len(img.Names) == 0 {
		// A pulled image that lost its tags still shows its repository.
		for _, d := range img.Digests {
			r := base
			r.Repository, _, r.Digest = reference.Split(d)
			r.Tag = "<none>"
			rows = append(rows, r)
			break
		}
	}
	if len(img.Names) == 0 && len(rows) == 0 {
		r := base
		r.Repository, r.Tag = "<none>", "<none>"
		rows = append(rows, r)
	}
	return rows
}

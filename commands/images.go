package commands

import (
	"fmt"
	"strings"
	"time"

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
	filters, err := parseImageFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	if c.NArg() == 1 {
		filters.references = append(filters.references, c.Args().First())
	}
	return withStore(c, func(s *session, st *storage.Store) error {
		imgs, err := st.Images()
		if err != nil {
			return err
		}
		if err := filters.resolve(st, imgs); err != nil {
			return err
		}
		intermediate := intermediateImages(imgs)
		var rows []any
		for i := range imgs {
			img := &imgs[i]
			if !c.Bool("all") && intermediate[img.ID] {
				continue
			}
			ok, err := filters.match(st, img)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			for _, r := range imageRows(img, c.Bool("no-trunc"), filters.references) {
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
func imageRows(img *storage.Image, noTrunc bool, refs []string) []imageRow {
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
		if len(refs) > 0 && !matchesAny(n, refs) {
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

func matchesAny(name string, patterns []string) bool {
	for _, p := range patterns {
		if reference.Match(name, p) {
			return true
		}
	}
	return false
}

// intermediateImages are nameless images whose top layer is below another
// image's: the steps of a build, hidden unless -a, as Docker hides them.
func intermediateImages(imgs []storage.Image) map[string]bool {
	below := map[string]bool{}
	for _, img := range imgs {
		for _, l := range img.Layers[:max(0, len(img.Layers)-1)] {
			below[l] = true
		}
	}
	out := map[string]bool{}
	for _, img := range imgs {
		if img.Dangling() && len(img.Digests) == 0 && below[img.TopLayer] {
			out[img.ID] = true
		}
	}
	return out
}

// imageFilters are Docker's `images --filter` conditions.
type imageFilters struct {
	dangling      *bool
	references    []string
	labels        []string
	before, since string
	beforeT       time.Time
	sinceT        time.Time
}

func parseImageFilters(in []string) (*imageFilters, error) {
	f := &imageFilters{}
	for _, kv := range in {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("bad format of filter (expected name=value): %q", kv)
		}
		switch strings.ToLower(k) {
		case "dangling":
			switch strings.ToLower(v) {
			case "true", "1":
				t := true
				f.dangling = &t
			case "false", "0":
				t := false
				f.dangling = &t
			default:
				return nil, fmt.Errorf("invalid filter 'dangling=%s' (hint: use dangling=true or dangling=false)", v)
			}
		case "reference":
			f.references = append(f.references, v)
		case "label":
			f.labels = append(f.labels, v)
		case "before":
			f.before = v
		case "since":
			f.since = v
		default:
			return nil, fmt.Errorf("invalid filter '%s' (hint: images filters are dangling, reference, label, before and since)", k)
		}
	}
	return f, nil
}

// resolve turns before= and since= image references into times.
func (f *imageFilters) resolve(st *storage.Store, _ []storage.Image) error {
	for _, p := range []struct {
		ref string
		t   *time.Time
	}{{f.before, &f.beforeT}, {f.since, &f.sinceT}} {
		if p.ref == "" {
			continue
		}
		img, err := st.Lookup(p.ref)
		if err != nil {
			return err
		}
		*p.t = img.Created
	}
	return nil
}

func (f *imageFilters) match(st *storage.Store, img *storage.Image) (bool, error) {
	if f.dangling != nil && img.Dangling() != *f.dangling {
		return false, nil
	}
	if len(f.references) > 0 {
		found := false
		for _, n := range img.Names {
			if matchesAny(n, f.references) {
				found = true
			}
		}
		if !found {
			return false, nil
		}
	}
	if !f.beforeT.IsZero() && !img.Created.Before(f.beforeT) {
		return false, nil
	}
	if !f.sinceT.IsZero() && !img.Created.After(f.sinceT) {
		return false, nil
	}
	if len(f.labels) > 0 {
		return matchLabels(st, img, f.labels)
	}
	return true, nil
}

// matchLabels reports whether an image's config has every label filter
// ("key" or "key=value").
func matchLabels(st *storage.Store, img *storage.Image, filters []string) (bool, error) {
	cfg, err := st.Config(img.ID)
	if err != nil {
		return false, err
	}
	for _, lf := range filters {
		k, v, hasValue := strings.Cut(lf, "=")
		got, ok := cfg.Config.Labels[k]
		if !ok || (hasValue && got != v) {
			return false, nil
		}
	}
	return true, nil
}

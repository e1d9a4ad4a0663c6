package commands

import (
	"fmt"
	"runtime"
	"time"

	"github.com/burrow-oci/burrow/build/dockerfile"
	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/burrow-oci/burrow/storage/transport/archive"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"
)

func newImportCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "Import the contents from a tarball to create a filesystem image",
		ArgsUsage: "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
		Description: "The source is a tar archive (plain, gzip, bzip2, xz or zstd), a directory,\n" +
			"an http(s) URL of an archive, or - for standard input.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "change", Aliases: []string{"c"}, Usage: "apply a Dockerfile instruction to the created image"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "set the commit message for the imported image"},
			quietFlag("print nothing but errors"),
		},
		Action: runImport,
	}
}

func runImport(c *cli.Context) error {
	if err := checkArgs(c, 1, 2); err != nil {
		return err
	}
	src := c.Args().Get(0)
	var names []string
	if n := c.Args().Get(1); n != "" {
		if _, err := reference.Normalize(n); err != nil {
			return err
		}
		names = append(names, n)
	}
	now := time.Now().UTC()
	comment := c.String("message")
	if comment == "" {
		comment = "Imported from " + src
	}
	cfg := &v1.ConfigFile{
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Created:      v1.Time{Time: now},
		History:      []v1.History{{Created: v1.Time{Time: now}, Comment: comment}},
	}
	if err := dockerfile.ApplyChanges(&cfg.Config, c.StringSlice("change")); err != nil {
		return err
	}
	return withStoreWrite(c, func(s *session, st *storage.Store) error {
		img, err := archive.Import(c.Context, st, src, c.App.Reader, cfg, names)
		if err != nil {
			return err
		}
		if !c.Bool("quiet") {
			fmt.Fprintln(c.App.Writer, "sha256:"+img.ID)
		}
		return nil
	})
}

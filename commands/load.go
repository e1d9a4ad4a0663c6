package commands

import (
	"errors"
	"fmt"

	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/burrow-oci/burrow/storage/transport"
	"github.com/burrow-oci/burrow/storage/transport/archive"
	"github.com/urfave/cli/v2"
)

func newLoadCommand() *cli.Command {
	return &cli.Command{
		Name:      "load",
		Usage:     "Load an image from a tar archive or STDIN",
		ArgsUsage: "[OPTIONS]",
		Description: "Reads what docker save, podman save, skopeo and burrow save write: a\n" +
			"docker-archive or an OCI archive, plain or compressed (gzip, zstd, xz, bzip2),\n" +
			"or an OCI layout directory.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "read from a tar archive file (or an OCI layout directory), instead of STDIN"},
			quietFlag("suppress the load output"),
		},
		Action: runLoad,
	}
}

func runLoad(c *cli.Context) error {
	if c.NArg() > 0 {
		return toolError(fmt.Errorf("\"burrow load\" accepts no arguments.\nSee 'burrow load --help'.\n\nUsage:  burrow load [OPTIONS]"))
	}
	in := c.String("input")
	if in == "" && isTerminal(c.App.Reader) {
		return errors.New("requested load from stdin, but stdin is empty (hint: give an archive with -i FILE, or redirect one to stdin)")
	}
	return withStoreWrite(c, func(_ *session, st *storage.Store) error {
		opts := archive.LoadOptions{Path: in, Input: c.App.Reader}
		// As docker load: a bar per layer on a terminal, none elsewhere.
		var bars *transport.Printer
		if !c.Bool("quiet") && isTerminal(c.App.Writer) {
			bars = transport.NewPrinter(c.App.Writer, isTerminal(c.App.Writer))
			opts.Progress = bars.Update
			defer bars.Finish()
		}
		if !c.Bool("quiet") {
			opts.Loaded = func(img archive.LoadedImage) {
				if bars != nil {
					bars.Finish()
				}
				if len(img.Names) == 0 {
					fmt.Fprintln(c.App.Writer, "Loaded image ID: sha256:"+img.ID)
				}
				for _, n := range img.Names {
					if old, ok := img.Moved[n]; ok {
						fmt.Fprintf(c.App.Writer, "The image %s already exists, renaming the old one with ID sha256:%s to empty string\n", reference.Short(n), old)
					}
					fmt.Fprintln(c.App.Writer, "Loaded image: "+reference.Short(n))
				}
			}
		}
		_, err := archive.Load(c.Context, st, opts)
		return err
	})
}

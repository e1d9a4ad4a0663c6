package commands

import (
	"fmt"
	"slices"
	"strings"

	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/burrow-oci/burrow/storage/transport"
	"github.com/burrow-oci/burrow/storage/transport/registry"
	"github.com/urfave/cli/v2"
)

func newPushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "Upload an image to a registry",
		ArgsUsage: "IMAGE[:TAG] [DESTINATION]",
		Description: "DESTINATION (Podman's form) names where to push; by default the image's name.\n" +
			"Blobs the registry has are not sent again.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "compression-format", Value: "gzip", Usage: "compression for new layers: gzip or zstd"},
			&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates"},
			quietFlag("suppress verbose output"),
		},
		Action: runPush,
	}
}

func runPush(c *cli.Context) error {
	if err := checkArgs(c, 1, 2); err != nil {
		return err
	}
	src := c.Args().Get(0)
	dest := c.Args().Get(1)
	if dest == "" {
		dest = src
	}
	full, err := reference.Normalize(dest)
	if err != nil {
		return toolError(err)
	}
	switch f := c.String("compression-format"); f {
	case "gzip", "zstd":
	default:
		return toolError(fmt.Errorf("invalid compression format %q (hint: gzip or zstd)", f))
	}
	// Reading suffices: recording the digest takes the write lock itself.
	return withStore(c, func(s *session, st *storage.Store) error {
		img, err := st.Lookup(src)
		if err != nil {
			if _, ok := err.(*storage.NotFoundError); ok {
				return fmt.Errorf("An image does not exist locally with the tag: %s (hint: burrow images lists the images; tag one with burrow tag)", reference.Short(full))
			}
			return err
		}
		if c.NArg() == 1 && !slices.Contains(img.Names, full) {
			// Docker pushes names, not IDs: the name must be one of the image's.
			return fmt.Errorf("An image does not exist locally with the tag: %s (hint: burrow tag %s NAME, or give the destination: burrow push %s NAME)", reference.Short(full), src, src)
		}
		quiet := c.Bool("quiet")
		w := c.App.Writer
		opts := registry.PushOptions{Options: registryOptions(s.cfg, c), Compression: c.String("compression-format")}
		var p *transport.Printer
		if !quiet {
			last := dest[strings.LastIndex(dest, "/")+1:]
			if !strings.Contains(last, ":") {
				fmt.Fprintln(w, "Using default tag: latest")
			}
			fmt.Fprintf(w, "The push refers to repository [%s]\n", reference.Repository(full))
			p = transport.NewPrinter(w, isTerminal(w))
			opts.Progress = p.Update
		}
		res, err := registry.Push(c.Context, st, img, full, opts)
		if p != nil {
			p.Done()
		}
		if err != nil {
			return err
		}
		if quiet {
			fmt.Fprintln(w, res.Name)
			return nil
		}
		fmt.Fprintf(w, "%s: digest: %s size: %d\n", res.Tag, res.Digest, res.Size)
		return nil
	})
}

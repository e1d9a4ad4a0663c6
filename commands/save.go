package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/atomicfile"
	"github.com/burrow-oci/burrow/storage/transport/archive"
	"github.com/urfave/cli/v2"
)

func newSaveCommand() *cli.Command {
	return &cli.Command{
		Name:      "save",
		Usage:     "Save one or more images to a tar archive (streamed to STDOUT by default)",
		ArgsUsage: "[OPTIONS] IMAGE [IMAGE...]",
		Description: "Formats: docker-archive (what docker save writes; the default), oci-archive\n" +
			"(a tar of an OCI image layout) and oci-dir (the layout as a directory, -o DIR).\n" +
			"Layers are written uncompressed. A name without a tag saves every tag of its\n" +
			"repository; an image ID saves the image untagged.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a file (a directory for oci-dir), instead of STDOUT"},
			&cli.StringFlag{Name: "format", Value: string(archive.DockerArchive), Usage: "docker-archive, oci-archive or oci-dir"},
		},
		Action: runSave,
	}
}

func runSave(c *cli.Context) error {
	if err := checkArgs(c, 1, -1); err != nil {
		return err
	}
	format, err := archive.ParseFormat(c.String("format"))
	if err != nil {
		return toolError(err)
	}
	out := c.String("output")
	switch {
	case format == archive.OCIDir && out == "":
		return toolError(errors.New("--format oci-dir writes a directory (hint: give it with -o DIR)"))
	case out == "" && isTerminal(c.App.Writer):
		return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
	}
	refs := c.Args().Slice()
	return withStore(c, func(_ *session, st *storage.Store) error {
		opts := archive.SaveOptions{Format: format}
		switch {
		case format == archive.OCIDir:
			opts.Dir = out
			return archive.Save(c.Context, st, refs, opts)
		case out == "":
			bw := bufio.NewWriterSize(c.App.Writer, 1<<20)
			opts.Output = bw
			if err := archive.Save(c.Context, st, refs, opts); err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("writing the archive: %w", err)
			}
			return nil
		}
		return saveToFile(out, func(w io.Writer) error {
			opts.Output = w
			return archive.Save(c.Context, st, refs, opts)
		})
	})
}

// saveToFile writes an archive to a temporary file beside path and
// renames it over path once complete, as Docker does, so that a failed
// save leaves no partial archive (and an existing file as it was).
func saveToFile(path string, write func(io.Writer) error) error {
	return atomicfile.WriteFunc(path, 0o666&^umask(), atomicfile.NoSync, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := write(bw); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	})
}

// umask reads the process's umask without changing it (Linux 4.7 and
// later; 022 otherwise).
func umask() os.FileMode {
	data, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return os.FileMode(m)
				}
			}
		}
	}
	return 0o022
}

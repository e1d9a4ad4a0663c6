package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/build/dockerfile"
	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"
	"go.podman.io/storage/pkg/archive"
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
		r, err := openImportSource(c.Context, src, c.App.Reader)
		if err != nil {
			return err
		}
		defer r.Close()
		img, err := st.CreateImage(c.Context, storage.NewImage{Diff: r, Config: cfg, Names: names})
		if err != nil {
			return fmt.Errorf("importing %s: %w%s", src, err, importHint(err))
		}
		if !c.Bool("quiet") {
			fmt.Fprintln(c.App.Writer, "sha256:"+img.ID)
		}
		return nil
	})
}

// importHint adds what to do to the errors a bad archive produces.
func importHint(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(msg, "unexpected EOF"):
		return " (hint: the archive is truncated; make it again or download it again)"
	case strings.Contains(msg, "invalid tar header") || strings.Contains(msg, "unsupported compression"):
		return " (hint: the source is not a tar archive; import takes a rootfs tarball, plain or compressed, or a directory)"
	case strings.Contains(msg, "checksum") || strings.Contains(msg, "corrupt") || strings.Contains(msg, "invalid header"):
		return " (hint: the archive is corrupt)"
	}
	return ""
}

// openImportSource opens what import reads: stdin, a URL, a directory (as a
// tar stream of its contents) or a file.
func openImportSource(ctx context.Context, src string, stdin io.Reader) (io.ReadCloser, error) {
	switch {
	case src == "-":
		return io.NopCloser(stdin), nil
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, fmt.Errorf("importing %s: %w", src, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("downloading %s: %w", src, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("downloading %s: %s", src, resp.Status)
		}
		return resp.Body, nil
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", src, errors.Unwrap(err))
	}
	if fi.IsDir() {
		rc, err := archive.Tar(src, archive.Uncompressed)
		if err != nil {
			return nil, fmt.Errorf("reading directory %s: %w", src, err)
		}
		return rc, nil
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", src, errors.Unwrap(err))
	}
	return f, nil
}

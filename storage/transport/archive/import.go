package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/burrow-oci/burrow/storage"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	storagearchive "go.podman.io/storage/pkg/archive"
)

// Import makes an image of one layer from src, as docker import does: a
// tar archive (plain or compressed) in a file, a directory (its contents),
// an http(s) URL of an archive, or "-" for stdin. cfg is the new image's
// config; names, if any, name it.
func Import(ctx context.Context, st *storage.Store, src string, stdin io.Reader, cfg *v1.ConfigFile, names []string) (*storage.Image, error) {
	r, err := openImportSource(ctx, src, stdin)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	img, err := st.CreateImage(ctx, storage.NewImage{Diff: r, Config: cfg, Names: names})
	if err != nil {
		return nil, fmt.Errorf("importing %s: %w%s", src, err, importHint(err))
	}
	return img, nil
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
		rc, err := storagearchive.Tar(src, storagearchive.Uncompressed)
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

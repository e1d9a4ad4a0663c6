package copier

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// unnamed is the file name BuildKit gives a URL whose path has no last
// segment.
const unnamed = "__unnamed__"

// Fetch downloads an ADD URL source, honouring ctx. checksum is
// "sha256:<hex>" to verify, or "" for none.
//
// The file is written as <dir>/<random>/<name>, where name is the last
// segment of the URL path (Docker's rule; "__unnamed__" if there is none),
// so a Root whose Dir is filepath.Dir(path) can Select name and copy it. The
// caller removes that directory when done. The file has mode 0600, as ADD
// gives downloads, and the mtime from Last-Modified, or the epoch if the
// server sent none (BuildKit's http source); the returned mtime is zero in
// that case.
func Fetch(ctx context.Context, url, checksum, dir string) (filePath, name string, mtime time.Time, err error) {
	want, err := parseChecksum(checksum)
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("ADD failed: %s: %w", url, err)
	}
	name = unnamed
	if u, err := neturl.Parse(url); err == nil {
		if base := path.Base(u.Path); base != "." && base != "/" {
			name = base
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("ADD failed: GET %s: %w", url, err)
	}
	// The default client honours HTTP(S)_PROXY and NO_PROXY, as Docker does.
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("ADD failed: GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", time.Time{}, fmt.Errorf("ADD failed: GET %s: %s", url, resp.Status)
	}

	sub, err := os.MkdirTemp(dir, "add-")
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("downloading %s: %w", url, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(sub)
		}
	}()
	filePath = filepath.Join(sub, name)
	got, err := download(resp.Body, filePath)
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("ADD failed: GET %s: %w", url, err)
	}
	if want != nil && !equalSum(got, want) {
		return "", "", time.Time{}, fmt.Errorf("ADD failed: GET %s: content has checksum sha256:%x, want %s (hint: update the checksum if the file changed on purpose)", url, got, checksum)
	}
	mt := time.Unix(0, 0)
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			mt, mtime = t, t
		}
	}
	if err := os.Chtimes(filePath, mt, mt); err != nil {
		return "", "", time.Time{}, fmt.Errorf("downloading %s: %w", url, err)
	}
	return filePath, name, mtime, nil
}

// download writes body to a new file at p and returns its sha256.
func download(body io.Reader, p string) (sum []byte, err error) {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), body); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// parseChecksum parses "sha256:<64 hex digits>"; "" is nil.
func parseChecksum(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	algo, hexSum, ok := strings.Cut(s, ":")
	if !ok || algo != "sha256" {
		return nil, fmt.Errorf("unsupported checksum %q (hint: use sha256:<64 hex digits>)", s)
	}
	b, err := hex.DecodeString(hexSum)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("invalid checksum %q (hint: use sha256:<64 hex digits>)", s)
	}
	return b, nil
}

func equalSum(a, b []byte) bool {
	return len(a) == len(b) && string(a) == string(b)
}

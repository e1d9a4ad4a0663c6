package run

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/idtools"
)

// CopySpec says what a copy into or out of a container does.
type CopySpec struct {
	// Out: Path is the container path to archive, Rename (if set) the
	// name its top entry gets.
	// In: Path is the container destination; SrcBase the name of the
	// archive's top entry (empty for a tar stream given with "-", which is
	// extracted into Path as it is).
	Path    string
	Rename  string
	SrcBase string
	// KeepOwners keeps the archive's owners (cp -a); otherwise what is
	// copied in belongs to the container's root. SingleID drops owners.
	KeepOwners bool
	SingleID   bool
}

// CopyOut writes a tar stream of a path inside the root filesystem rootfs,
// its entries named after the path's last element (or spec.Rename).
func CopyOut(rootfs string, spec CopySpec, w io.Writer) error {
	src, err := securejoin.SecureJoin(rootfs, spec.Path)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(src); err != nil {
		return fmt.Errorf("Could not find the file %s in container", spec.Path)
	}
	base := filepath.Base(src)
	opts := &archive.TarOptions{IncludeFiles: []string{base}}
	if spec.Rename != "" && spec.Rename != base {
		opts.RebaseNames = map[string]string{base: spec.Rename}
	}
	rc, err := archive.TarWithOptions(filepath.Dir(src), opts)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(w, rc)
	return err
}

// CopyIn extracts a tar stream into the root filesystem rootfs at
// spec.Path, with Docker's rules: into it when it is an existing
// directory, as it (renamed) otherwise.
func CopyIn(rootfs string, spec CopySpec, r io.Reader) error {
	dst, err := securejoin.SecureJoin(rootfs, spec.Path)
	if err != nil {
		return err
	}
	opts := &archive.TarOptions{NoLchown: spec.SingleID}
	if !spec.KeepOwners && !spec.SingleID {
		opts.ChownOpts = &idtools.IDPair{UID: 0, GID: 0}
	}
	fi, err := os.Stat(dst)
	switch {
	case err == nil && fi.IsDir():
	case spec.SrcBase == "":
		return fmt.Errorf("the destination %s must be a directory in the container for an archive", spec.Path)
	case err == nil || os.IsNotExist(err):
		parent := filepath.Dir(dst)
		if pi, err := os.Stat(parent); err != nil || !pi.IsDir() {
			return fmt.Errorf("the directory %s does not exist in the container", filepath.Dir(spec.Path))
		}
		r = renameTop(r, spec.SrcBase, filepath.Base(dst))
		dst = parent
	default:
		return err
	}
	return archive.Untar(r, dst, opts)
}

// renameTop rewrites the names of a tar stream whose top entry is from,
// calling it to instead.
func renameTop(r io.Reader, from, to string) io.Reader {
	if from == to {
		return r
	}
	pr, pw := io.Pipe()
	go func() {
		tr, tw := tar.NewReader(r), tar.NewWriter(pw)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				pw.CloseWithError(tw.Close())
				return
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			name := strings.TrimPrefix(h.Name, "./")
			if name == from || strings.HasPrefix(name, from+"/") {
				h.Name = to + strings.TrimPrefix(name, from)
			}
			if err := tw.WriteHeader(h); err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.Copy(tw, tr); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}

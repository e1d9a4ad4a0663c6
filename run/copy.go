package run

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/idtools"

	"github.com/burrow-oci/burrow/storage"
)

// CopySpec says what a copy into or out of a container's filesystem does.
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

// copyOutOf writes a tar stream of a path inside the root filesystem rootfs,
// its entries named after the path's last element (or spec.Rename).
func copyOutOf(rootfs string, spec CopySpec, w io.Writer) error {
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

// copyInto extracts a tar stream into the root filesystem rootfs at
// spec.Path, with Docker's rules: into it when it is an existing
// directory, as it (renamed) otherwise.
func copyInto(rootfs string, spec CopySpec, r io.Reader) error {
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

// CopyOptions say how `cp` copies.
type CopyOptions struct {
	// Archive keeps the files' owners (cp -a).
	Archive bool
	// FollowLink copies what a source symbolic link points to (cp -L).
	FollowLink bool
}

// CopyOut copies src, a path in the container ref names, to dst on the
// host, as `docker cp CONTAINER:SRC DST` does: into dst when it is a
// directory, as dst otherwise. With dst "-", the tar stream goes to w
// instead. The host side is checked before the container is looked up.
func CopyOut(st *storage.Store, ref, src, dst string, w io.Writer, opts CopyOptions) error {
	spec := CopySpec{Path: src, KeepOwners: opts.Archive, SingleID: st.SingleID()}
	target := dst
	if dst != "-" {
		if fi, err := os.Stat(dst); err == nil && fi.IsDir() {
			target = dst // copy into it
		} else {
			if strings.HasSuffix(dst, "/") {
				return fmt.Errorf("destination directory %s does not exist", dst)
			}
			spec.Rename, target = filepath.Base(dst), filepath.Dir(dst)
			if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
				return fmt.Errorf("the directory %s does not exist", target)
			}
		}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		defer pr.Close()
		if dst == "-" {
			_, err := io.Copy(w, pr)
			done <- err
			return
		}
		// Copied out, the files belong to the user who asked.
		done <- archive.Untar(pr, target, &archive.TarOptions{NoLchown: true})
	}()
	err = withContainerFS(st, ref, copyRequest{Out: true, Spec: spec}, pw)
	pw.Close()
	if derr := <-done; err == nil {
		err = derr
	}
	return err
}

// CopyIn copies src, a path on the host, to dst in the container ref
// names, as `docker cp SRC CONTAINER:DST` does. With src "-", r is a tar
// stream extracted into dst. The host side is checked before the
// container is looked up.
func CopyIn(st *storage.Store, src string, r io.Reader, ref, dst string, opts CopyOptions) error {
	spec := CopySpec{Path: dst, KeepOwners: opts.Archive, SingleID: st.SingleID()}
	var tarStream io.ReadCloser
	if src == "-" {
		tarStream = io.NopCloser(r)
	} else {
		fi, err := os.Lstat(src)
		if err != nil {
			return fmt.Errorf("could not find the file %s: %w", src, errors.Unwrap(err))
		}
		if opts.FollowLink && fi.Mode()&os.ModeSymlink != 0 {
			if src, err = filepath.EvalSymlinks(src); err != nil {
				return err
			}
		}
		spec.SrcBase = filepath.Base(src)
		if tarStream, err = archive.TarWithOptions(filepath.Dir(src), &archive.TarOptions{IncludeFiles: []string{spec.SrcBase}}); err != nil {
			return err
		}
	}
	defer tarStream.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	go func() {
		_, _ = io.Copy(pw, tarStream) // a short stream fails the extraction
		pw.Close()
	}()
	defer pr.Close()
	return withContainerFS(st, ref, copyRequest{Spec: spec}, pr)
}

// withContainerFS carries out a copy on a container's filesystem: through
// the process that runs it when it runs (its root filesystem is mounted
// there), or mounted here when it does not.
func withContainerFS(st *storage.Store, ref string, req copyRequest, stream *os.File) error {
	ctr, err := st.LookupContainer(ref)
	if err != nil {
		return err
	}
	dir, err := st.ContainerRunDir(ctr)
	if err != nil {
		return err
	}
	state, err := State(st, ctr)
	if err != nil {
		return err
	}
	if state.Status == storage.StatusRunning {
		devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer devnull.Close()
		stdio := Stdio{Stdin: devnull, Stdout: devnull, Stderr: devnull}
		if req.Out {
			stdio.Stdout = stream
		} else {
			stdio.Stdin = stream
		}
		_, err = send(dir, request{Copy: &req}, stdio, nil, nil)
		if !errors.Is(err, ErrNotRunning) {
			return err
		}
	}
	rootfs, err := st.MountContainer(ctr)
	if err != nil {
		return err
	}
	defer st.UnmountContainer(ctr)
	if req.Out {
		return copyOutOf(rootfs, req.Spec, stream)
	}
	return copyInto(rootfs, req.Spec, stream)
}

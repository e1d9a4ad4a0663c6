package copier

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"go.podman.io/storage/pkg/archive"
)

// extract writes the entries of the archive at host into the destination
// directory, as ADD does for a local tar file. It reports false, without
// writing anything, when the file is not a tar archive (plain or compressed,
// detected by content as BuildKit's isArchivePath does): the caller then
// copies it as a file.
//
// Entries keep their own owners (unless Chown is set), modes and times, as
// Docker's Untar leaves them. Directories the archive implies but does not
// contain are created 0755 and owned by 0:0, and symlinks in Rootfs on the
// way are followed, as Untar's MkdirAll and file creation would.
func (l *layer) extract(host, rel string) (bool, error) {
	f, err := os.Open(host)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", host, err)
	}
	defer f.Close()
	// As isArchivePath: anything that does not decompress and start with a
	// valid tar header is an ordinary file, whatever its name.
	rc, err := archive.DecompressStream(f)
	if err != nil {
		return false, nil
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	if err != nil {
		return false, nil
	}

	// BuildKit's unpack makes the destination 0755 whatever --chmod says.
	uid, gid := l.opts.createdOwner()
	dest, err := l.ensureDir(l.plan.dest, dirMeta{mode: 0o755, uid: uid, gid: gid, mtime: l.now})
	if err != nil {
		return true, err
	}
	l.destDone = true
	x := &extraction{layer: l, src: rel, dest: dest, names: map[string]string{}}
	if x.src == "" {
		x.src = path.Base(host)
	}
	for {
		if err := x.entry(tr, hdr); err != nil {
			return true, err
		}
		hdr, err = tr.Next()
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return true, fmt.Errorf("reading archive %s: %w", host, err)
		}
	}
}

// extraction is the state of one archive being extracted.
type extraction struct {
	*layer
	src   string            // the archive's name, for errors
	dest  string            // resolved destination directory
	names map[string]string // archive path -> tar name written, for hard links
}

// cleanArchivePath cleans a path inside an archive, refusing one that climbs
// out of the destination (Docker's breakout check: "/../x" is "x", "../x"
// is an error).
func cleanArchivePath(p string) (string, bool) {
	c := path.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", false
	}
	c = path.Clean("/" + c)
	return c[1:], true
}

func (x *extraction) entry(tr *tar.Reader, hdr *tar.Header) error {
	instr := x.opts.instruction()
	rel, ok := cleanArchivePath(hdr.Name)
	if !ok {
		return fmt.Errorf("%s failed: archive %q: entry %q is outside the destination", instr, x.src, hdr.Name)
	}
	// The archive's root ("./") would set the destination's metadata, but
	// Untar skips it when the destination is a directory, which it always
	// is here. Global PAX headers carry no file.
	if rel == "" || hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	// Docker's Untar would create such a file, but in a layer the name
	// means "delete", so it cannot be reproduced; refusing beats deleting.
	base := path.Base(rel)
	if strings.HasPrefix(base, ".wh.") {
		return fmt.Errorf("%s failed: archive %q: entry %q cannot be stored in an image layer: names starting with \".wh.\" mark deletions (hint: rename it in the archive)", instr, x.src, hdr.Name)
	}
	parent, err := x.ensureDir(joinRel(x.dest, path.Dir(rel)), dirMeta{mode: 0o755, mtime: x.now})
	if err != nil {
		return err
	}
	name := joinRel(parent, base)
	out := &tar.Header{
		Name:    name,
		Mode:    hdr.Mode & 0o7777,
		Uid:     hdr.Uid,
		Gid:     hdr.Gid,
		ModTime: hdr.ModTime,
		Format:  tar.FormatPAX,
	}
	if x.opts.Chown != nil {
		out.Uid, out.Gid = x.opts.Chown.UID, x.opts.Chown.GID
	}
	switch hdr.Typeflag {
	case tar.TypeReg, '\x00', tar.TypeGNUSparse: // '\x00' is the old TypeRegA
		out.Typeflag = tar.TypeReg
		out.Size = hdr.Size
	case tar.TypeDir:
		out.Typeflag = tar.TypeDir
		out.Name += "/"
		x.made[name] = true
		x.resolved[name] = name
	case tar.TypeSymlink:
		if !path.IsAbs(hdr.Linkname) {
			if _, ok := cleanArchivePath(path.Join(path.Dir(rel), hdr.Linkname)); !ok {
				return fmt.Errorf("%s failed: archive %q: symlink %q points to %q, outside the destination", instr, x.src, hdr.Name, hdr.Linkname)
			}
		}
		out.Typeflag = tar.TypeSymlink
		out.Linkname = hdr.Linkname
	case tar.TypeLink:
		target, ok := cleanArchivePath(hdr.Linkname)
		if !ok || target == "" {
			return fmt.Errorf("%s failed: archive %q: hard link %q points to %q, outside the destination", instr, x.src, hdr.Name, hdr.Linkname)
		}
		out.Typeflag = tar.TypeLink
		if n, ok := x.names[target]; ok {
			out.Linkname = n
		} else {
			out.Linkname = joinRel(x.dest, target)
		}
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		out.Typeflag = hdr.Typeflag
		out.Devmajor, out.Devminor = hdr.Devmajor, hdr.Devminor
	default:
		return fmt.Errorf("%s failed: archive %q: entry %q has unsupported type %q", instr, x.src, hdr.Name, hdr.Typeflag)
	}
	if out.Typeflag != tar.TypeDir {
		x.names[rel] = name
	}
	if err := x.tw.WriteHeader(out); err != nil {
		return fmt.Errorf("writing layer: %w", err)
	}
	if out.Typeflag != tar.TypeReg {
		return nil
	}
	bp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bp)
	if _, err := io.CopyBuffer(onlyWriter{x.tw}, tr, *bp); err != nil {
		return fmt.Errorf("extracting %q from %s: %w", hdr.Name, x.src, err)
	}
	return nil
}

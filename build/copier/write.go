package copier

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// Write writes the layer tar (PAX, uncompressed) that copying srcs to
// opts.Dest adds on top of opts.Rootfs. It streams: file content goes from
// disk to w without being held in memory.
//
// Entry names are relative to the image root, under Dest with its symlinks
// resolved in Rootfs. Directories Write creates for Dest get mode 0755 (or
// Chmod's permission bits), the Chown owner or 0:0 and the current time; a
// directory whose contents are copied into a new Dest lends it its mtime.
// Directories that already exist in Rootfs get no entry, so the image keeps
// their metadata, unless they are copied from a source.
func Write(w io.Writer, r *Root, srcs []Source, opts Options) error {
	p, err := newPlan(srcs, &opts)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	l := &layer{
		tw:       tar.NewWriter(bw),
		opts:     &opts,
		plan:     p,
		now:      time.Now(),
		resolved: map[string]string{"": ""},
		made:     map[string]bool{"": true},
		fresh:    map[string]bool{},

		extracted: map[string]bool{},
	}
	wk, err := newWalker(r, &opts, l.entry)
	if err != nil {
		return err
	}
	// BuildKit makes Dest's parent first, then Dest when it is a directory.
	if _, err := l.ensureDir(path.Dir("/" + p.dest)[1:], l.copyDirMeta(time.Time{})); err != nil {
		return err
	}
	if err := wk.run(srcs, p); err != nil {
		return err
	}
	if p.dirSyntax || opts.Parents {
		if err := l.ensureDest(time.Time{}); err != nil {
			return err
		}
	}
	if err := l.tw.Close(); err != nil {
		return fmt.Errorf("writing layer: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing layer: %w", err)
	}
	return nil
}

// layer turns entries into tar headers.
type layer struct {
	tw   *tar.Writer
	opts *Options
	plan *plan
	now  time.Time

	// resolved maps an image directory path to where it really is once
	// Rootfs symlinks are followed; made holds directories this layer has
	// written; fresh holds those that did not exist in Rootfs, under which
	// nothing needs checking against Rootfs.
	resolved map[string]string
	made     map[string]bool
	fresh    map[string]bool
	destDone bool
	// extracted holds the rels of archives extracted instead of copied.
	extracted map[string]bool
}

var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// dirMeta is the metadata of a directory the layer creates.
type dirMeta struct {
	mode     uint32
	uid, gid int
	mtime    time.Time
}

func (l *layer) copyDirMeta(mtime time.Time) dirMeta {
	uid, gid := l.opts.createdOwner()
	if mtime.IsZero() {
		mtime = l.now
	}
	return dirMeta{mode: l.opts.createdDirMode(), uid: uid, gid: gid, mtime: mtime}
}

// ensureDest creates the destination directory unless it exists.
func (l *layer) ensureDest(mtime time.Time) error {
	if l.destDone {
		return nil
	}
	l.destDone = true
	_, err := l.ensureDir(l.plan.dest, l.copyDirMeta(mtime))
	return err
}

// name is the tar name of an entry path relative to the destination.
func (l *layer) name(rel string) string {
	switch {
	case rel == "":
		return l.plan.dest
	case l.plan.dest == "":
		return rel
	default:
		return l.plan.dest + "/" + rel
	}
}

// ensureDir makes sure the image directory dir exists once this layer is
// applied, writing entries for missing directories with meta, and returns
// where it really is: symlinks to directories in Rootfs are followed, as
// creating files through them would.
func (l *layer) ensureDir(dir string, meta dirMeta) (string, error) {
	if dir == "." {
		dir = ""
	}
	if r, ok := l.resolved[dir]; ok {
		return r, nil
	}
	parent, base := path.Split(dir)
	parentMeta := meta
	parentMeta.mtime = l.now
	pr, err := l.ensureDir(path.Clean("/" + parent)[1:], parentMeta)
	if err != nil {
		return "", err
	}
	cand := joinRel(pr, base)
	if !l.made[cand] && !l.fresh[pr] && l.opts.Rootfs != "" {
		fi, err := os.Lstat(filepath.Join(l.opts.Rootfs, cand))
		switch {
		case err == nil && fi.IsDir():
			// The directory stays as the image has it, but the layer must
			// still hold it: unpacking a layer creates a parent it lacks
			// with mode 0755, which would hide the image's (/tmp's 1777).
			if err := l.keepDir(cand, fi); err != nil {
				return "", err
			}
			l.resolved[dir] = cand
			return cand, nil
		case err == nil && fi.Mode()&os.ModeSymlink != 0:
			target, err := resolveDest(l.opts.Rootfs, "/"+cand)
			if err != nil {
				return "", err
			}
			if target != cand {
				r, err := l.ensureDir(target, meta)
				if err != nil {
					return "", err
				}
				l.resolved[dir] = r
				return r, nil
			}
			return "", fmt.Errorf("%s failed: /%s in the image is not a directory", l.opts.instruction(), cand)
		case err == nil:
			return "", fmt.Errorf("%s failed: /%s in the image is not a directory (hint: choose another destination)", l.opts.instruction(), cand)
		case !securejoin.IsNotExist(err):
			return "", fmt.Errorf("reading /%s in the image: %w", cand, err)
		}
	}
	if !l.made[cand] {
		hdr := &tar.Header{
			Typeflag: tar.TypeDir,
			Name:     cand + "/",
			Mode:     int64(meta.mode),
			Uid:      meta.uid,
			Gid:      meta.gid,
			ModTime:  meta.mtime,
			Format:   tar.FormatPAX,
		}
		if err := l.tw.WriteHeader(hdr); err != nil {
			return "", fmt.Errorf("writing layer: %w", err)
		}
		l.made[cand] = true
		l.fresh[cand] = true
	}
	l.resolved[dir] = cand
	return cand, nil
}

// keepDir writes an entry for an image directory with the image's own
// metadata, once.
func (l *layer) keepDir(cand string, fi os.FileInfo) error {
	if l.made[cand] {
		return nil
	}
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: cand + "/", Mode: int64(fi.Mode().Perm()), ModTime: fi.ModTime(), Format: tar.FormatPAX}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		hdr.Mode = int64(st.Mode & 0o7777)
		hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
	}
	if err := l.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing layer: %w", err)
	}
	l.made[cand] = true
	return nil
}

// entry writes one walked entry. Modes get Chmod and owners follow
// Chown/KeepOwners; times are the source's, to the nanosecond.
func (l *layer) entry(e *entry) error {
	if e.destDir {
		return l.ensureDest(time.Unix(0, e.st.mtime))
	}
	if e.top && e.kind == kindFile && l.opts.Extract {
		ok, err := l.extract(e.host, e.rel)
		if ok {
			l.extracted[e.rel] = true
		}
		if ok || err != nil {
			return err
		}
	}
	if e.kind == kindHardlink && l.extracted[e.link] {
		// Its first name was an archive, extracted rather than written.
		e.kind = kindFile
	}
	if e.rel != "" {
		if err := l.ensureDest(time.Time{}); err != nil {
			return err
		}
	}
	name := l.name(e.rel)
	if err := l.checkTarget(name, e.kind == kindDir); err != nil {
		return err
	}
	uid, gid := l.opts.owner(e.st.uid, e.st.gid)
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(l.opts.fileMode(e.st.mode)),
		Uid:     uid,
		Gid:     gid,
		ModTime: time.Unix(0, e.st.mtime),
		Format:  tar.FormatPAX,
	}
	switch e.kind {
	case kindDir:
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		l.made[name] = true
		l.resolved[name] = name
	case kindFile:
		hdr.Typeflag = tar.TypeReg
		hdr.Size = e.st.size
	case kindHardlink:
		hdr.Typeflag = tar.TypeLink
		hdr.Linkname = l.name(e.link)
	case kindSymlink:
		// --chmod does not apply: fsutil never chmods a symlink (it would
		// change the target).
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = e.link
		hdr.Mode = int64(e.st.mode & 0o7777)
	case kindFifo:
		hdr.Typeflag = tar.TypeFifo
	case kindChar, kindBlock:
		hdr.Typeflag = tar.TypeChar
		if e.kind == kindBlock {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor = int64(unix.Major(e.st.rdev))
		hdr.Devminor = int64(unix.Minor(e.st.rdev))
	}
	if err := l.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing layer: %w", err)
	}
	if hdr.Typeflag == tar.TypeReg {
		return l.copyContent(e.host, e.st.size)
	}
	return nil
}

// checkTarget fails where BuildKit's copy fails: a directory over an
// existing non-directory, or anything else over an existing directory.
// Directories get no lookup below a directory the layer created.
func (l *layer) checkTarget(name string, isDir bool) error {
	parent := path.Dir("/" + name)[1:]
	if l.opts.Rootfs == "" || l.fresh[parent] || l.made[name] {
		if isDir && l.fresh[parent] {
			l.fresh[name] = true
		}
		return nil
	}
	fi, err := os.Lstat(filepath.Join(l.opts.Rootfs, name))
	switch {
	case securejoin.IsNotExist(err):
		if isDir {
			l.fresh[name] = true
		}
		return nil
	case err != nil:
		return fmt.Errorf("reading /%s in the image: %w", name, err)
	case isDir && !fi.IsDir():
		return fmt.Errorf("%s failed: cannot copy a directory to /%s: it is not a directory in the image", l.opts.instruction(), name)
	case !isDir && fi.IsDir():
		return fmt.Errorf("%s failed: cannot replace the directory /%s in the image with a file", l.opts.instruction(), name)
	}
	return nil
}

// copyContent streams exactly size bytes of a file into the tar.
func (l *layer) copyContent(host string, size int64) error {
	f, err := openNoFollow(host)
	if err != nil {
		return fmt.Errorf("reading %s: %w", host, err)
	}
	defer f.Close()
	bp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bp)
	// The header already promised size bytes: a file that grew since its
	// lstat is cut there, one that shrank is an error rather than a short
	// entry that would corrupt the stream.
	n, err := io.CopyBuffer(onlyWriter{l.tw}, io.LimitReader(f, size), *bp)
	if err != nil {
		if errors.Is(err, tar.ErrWriteTooLong) {
			return fmt.Errorf("reading %s: file changed while it was read", host)
		}
		return fmt.Errorf("copying %s: %w", host, err)
	}
	if n != size {
		return fmt.Errorf("reading %s: file changed while it was read (hint: do not modify the build context during the build)", host)
	}
	return nil
}

// onlyWriter hides tar.Writer's ReadFrom so that io.CopyBuffer uses the
// pooled buffer.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

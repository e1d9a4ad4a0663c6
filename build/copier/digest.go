package copier

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// digestVersion starts every digest, so that a change to what is hashed
// changes every key instead of colliding with old ones.
const digestVersion = "burrow copier digest v1\n"

// dent is one digested entry.
type dent struct {
	rel  string
	link string
	host string
	size int64
	rdev uint64
	mode uint32
	kind kind
	need bool // content not in the memo yet
	key  memoKey
	sum  [32]byte
}

// Digest returns "sha256:<hex>" over what Write would copy: for each entry,
// in walk order, its path relative to the destination, type, permission and
// special bits (after Chmod), size, symlink or hard-link target, device
// numbers and the sha256 of its content. Owners and times are left out, as
// are entries excluded by .dockerignore or Exclude, and the directories
// Write creates for Dest.
//
// Digest ignores Dest and Rootfs: a file source is digested under its own
// base name even when Write renames it to Dest, so the digest can be taken
// before the parent image is mounted and never fails on the destination's
// shape. The cache key holds the instruction (with Dest) and the parent.
//
// File content is read only when Root.Memo has no hash for the file's
// current stat; hashing runs on a few goroutines. Digest does not call
// Memo.Save.
func Digest(r *Root, srcs []Source, opts Options) (string, error) {
	p := &plan{intoDest: true}
	start := time.Now()
	racy := int64(0)
	if r.Memo != nil {
		racy = start.Add(-r.Memo.racy).UnixNano()
	}
	var ents []dent
	misses := 0
	w, err := newWalker(r, &opts, func(e *entry) error {
		if e.destDir {
			return nil
		}
		d := dent{rel: e.rel, link: e.link, host: e.host, kind: e.kind}
		switch e.kind {
		case kindFile:
			d.size = e.st.size
			d.key = memoKey{dev: e.st.dev, ino: e.st.ino, size: e.st.size, mtime: e.st.mtime, ctime: e.st.ctime}
			if sum, ok := r.Memo.lookup(d.key); ok {
				d.sum = sum
			} else {
				d.need = true
				misses++
			}
		case kindChar, kindBlock:
			d.rdev = e.st.rdev
		}
		// The mode Write writes, so that --chmod makes source modes
		// irrelevant rather than causing misses.
		if e.kind == kindSymlink {
			d.mode = e.st.mode & 0o7777
		} else {
			d.mode = opts.fileMode(e.st.mode)
		}
		ents = append(ents, d)
		return nil
	})
	if err != nil {
		return "", err
	}
	if err := w.run(srcs, p); err != nil {
		return "", err
	}
	if misses > 0 {
		if err := hashContents(ents, misses, r.Memo, racy); err != nil {
			return "", err
		}
	}

	// Entries are hashed in walk order, which is deterministic (sorted
	// directories, sources in argument order) and is the order of the layer.
	h := sha256.New()
	io.WriteString(h, digestVersion)
	var buf []byte
	for i := range ents {
		d := &ents[i]
		buf = buf[:0]
		buf = appendString(buf, d.rel)
		buf = append(buf, byte(d.kind))
		buf = binary.BigEndian.AppendUint32(buf, d.mode)
		buf = binary.BigEndian.AppendUint64(buf, uint64(d.size))
		buf = binary.BigEndian.AppendUint64(buf, d.rdev)
		buf = appendString(buf, d.link)
		if d.kind == kindFile {
			buf = append(buf, d.sum[:]...)
		}
		h.Write(buf)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// appendString appends a length-prefixed string, so that no two entry lists
// encode alike.
func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// hashContents hashes the files the memo did not know, on up to four
// goroutines, and memoises those whose stat is old enough to trust.
func hashContents(ents []dent, misses int, memo *Memo, racy int64) error {
	// More than a few readers only contend for the disk and page cache.
	workers := min(runtime.GOMAXPROCS(0), 4, misses)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	next.Store(-1)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			h := sha256.New()
			for {
				i := int(next.Add(1))
				if i >= len(ents) {
					return
				}
				d := &ents[i]
				if !d.need {
					continue
				}
				if err := hashFile(d, h, buf, memo, racy); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// hashFile hashes one file's content into d.sum.
func hashFile(d *dent, h hash.Hash, buf []byte, memo *Memo, racy int64) error {
	if memo != nil {
		memo.reads.Add(1)
	}
	f, err := openNoFollow(d.host)
	if err != nil {
		return fmt.Errorf("reading %s: %w", d.host, err)
	}
	defer f.Close()
	h.Reset()
	n, err := io.CopyBuffer(h, io.LimitReader(f, d.size), buf)
	if err != nil {
		return fmt.Errorf("reading %s: %w", d.host, err)
	}
	if n != d.size {
		return fmt.Errorf("reading %s: file changed while it was read (hint: do not modify the build context during the build)", d.host)
	}
	h.Sum(d.sum[:0])
	// Memoise only if the file is still what was stat'ed and is not racy.
	st, err := fstatOf(f)
	if err != nil {
		return fmt.Errorf("reading %s: %w", d.host, err)
	}
	k := memoKey{dev: st.dev, ino: st.ino, size: st.size, mtime: st.mtime, ctime: st.ctime}
	if k == d.key && st.mtime < racy && st.ctime < racy {
		memo.store(k, d.sum)
	}
	return nil
}

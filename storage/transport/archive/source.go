package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
	"github.com/ulikunitz/xz"
)

// Errors about the input of Load, wrapped with what was read.
var (
	// ErrNotArchive is input that is not an image archive or layout.
	ErrNotArchive = errors.New("not a docker or OCI image archive")
	// ErrTruncated is an archive that ends early.
	ErrTruncated = errors.New("the archive is truncated")
)

// compression is how an archive is compressed, detected by content.
type compression string

const (
	uncompressed compression = ""
	gzipped      compression = "gzip"
	zstded       compression = "zstd"
	xzed         compression = "xz"
	bzip2ed      compression = "bzip2"
)

// detectCompression names the compression whose magic number starts
// head (at least 6 bytes for xz; fewer bytes mean uncompressed).
func detectCompression(head []byte) compression {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return gzipped
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return zstded
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return xzed
	case bytes.HasPrefix(head, []byte("BZh")) && len(head) > 3 && head[3] >= '1' && head[3] <= '9':
		return bzip2ed
	}
	return uncompressed
}

// decompressor reads r decompressed as c says.
func decompressor(c compression, r io.Reader) (io.ReadCloser, error) {
	switch c {
	case gzipped:
		return pgzip.NewReader(r)
	case zstded:
		d, err := zstd.NewReader(r)
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	case xzed:
		x, err := xz.NewReader(r)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(x), nil
	case bzip2ed:
		return io.NopCloser(bzip2.NewReader(r)), nil
	}
	return io.NopCloser(r), nil
}

// source is what Load reads an archive from: the files of a tar (indexed
// once, read at their offsets) or of a directory.
type source interface {
	// open opens the file at a slash-separated path, following the
	// symbolic and hard links an archive may hold; its size comes too.
	open(name string) (io.ReadCloser, int64, error)
	// has reports whether the file exists.
	has(name string) bool
	close() error
}

// dirSource is an unpacked layout (or docker-archive) in a directory.
type dirSource struct{ root *os.Root }

func (d *dirSource) open(name string) (io.ReadCloser, int64, error) {
	f, err := d.root.Open(filepath.FromSlash(cleanName(name)))
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

func (d *dirSource) has(name string) bool {
	_, err := d.root.Stat(filepath.FromSlash(cleanName(name)))
	return err == nil
}

func (d *dirSource) close() error { return d.root.Close() }

// tarSource is a plain tar file, indexed in one pass that skips the
// contents (seeking), so that each file is then read where it lies.
type tarSource struct {
	f       *os.File
	entries map[string]tarEntry
	// remove is a spooled file to delete on close.
	remove string
	// truncated: the tar has no end marker (see newTarSource).
	truncated bool
}

type tarEntry struct {
	offset, size int64
	link         string // target of a link, cleaned, from the archive's root
}

func (t *tarSource) resolve(name string) (tarEntry, error) {
	name = cleanName(name)
	for range 16 {
		e, ok := t.entries[name]
		if !ok {
			return tarEntry{}, fmt.Errorf("%s: %w", name, os.ErrNotExist)
		}
		if e.link == "" {
			return e, nil
		}
		name = e.link
	}
	return tarEntry{}, fmt.Errorf("%s: too many levels of links", name)
}

func (t *tarSource) open(name string) (io.ReadCloser, int64, error) {
	e, err := t.resolve(name)
	if err != nil {
		return nil, 0, err
	}
	return io.NopCloser(io.NewSectionReader(t.f, e.offset, e.size)), e.size, nil
}

func (t *tarSource) has(name string) bool {
	_, err := t.resolve(name)
	return err == nil
}

func (t *tarSource) close() error {
	err := t.f.Close()
	if t.remove != "" {
		os.Remove(t.remove)
	}
	return err
}

// cleanName is the form names are indexed under: no leading "./" or "/".
func cleanName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// indexTar reads the headers of the tar file f. A tar that ends early is
// ErrTruncated; one that does not parse is ErrNotArchive.
func indexTar(f *os.File) (map[string]tarEntry, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	entries := map[string]tarEntry{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(entries) == 0 {
				return nil, fmt.Errorf("%w: %v", ErrNotArchive, err)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, ErrTruncated
			}
			return nil, fmt.Errorf("%w: %v", ErrTruncated, err)
		}
		name := cleanName(h.Name)
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, err
			}
			if off+h.Size > fi.Size() {
				return nil, ErrTruncated
			}
			entries[name] = tarEntry{offset: off, size: h.Size}
		case tar.TypeSymlink:
			target := h.Linkname
			if !strings.HasPrefix(target, "/") {
				target = path.Join(path.Dir(name), target)
			}
			entries[name] = tarEntry{link: cleanName(target)}
		case tar.TypeLink:
			entries[name] = tarEntry{link: cleanName(h.Linkname)}
		}
	}
	if !endsWithZeroBlocks(f, fi.Size()) {
		return entries, ErrTruncated
	}
	return entries, nil
}

// endsWithZeroBlocks reports whether the tar has its end-of-archive
// marker (two zero blocks). A writer that stopped half-way leaves none.
func endsWithZeroBlocks(f *os.File, size int64) bool {
	if size < 1024 {
		return false
	}
	buf := make([]byte, 1024)
	if _, err := f.ReadAt(buf, size-1024); err != nil {
		return false
	}
	return bytes.Equal(buf, make([]byte, 1024))
}

// openSource opens what Load reads: a directory, a file (decompressed to
// a spool file in tmp when compressed) or, when name is "", the stream in
// (spooled, decompressed, to tmp).
func openSource(name string, in io.Reader, tmp string) (source, error) {
	if name != "" {
		fi, err := os.Stat(name)
		if err != nil {
			return nil, err
		}
		if fi.IsDir() {
			root, err := os.OpenRoot(name)
			if err != nil {
				return nil, err
			}
			return &dirSource{root: root}, nil
		}
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		head := make([]byte, 6)
		n, _ := io.ReadFull(f, head)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		if detectCompression(head[:n]) == uncompressed {
			return newTarSource(f, "")
		}
		defer f.Close()
		in = f
	}
	br := bufio.NewReaderSize(in, 1<<20)
	head, _ := br.Peek(6)
	rc, err := decompressor(detectCompression(head), br)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotArchive, err)
	}
	defer rc.Close()
	spool, err := os.CreateTemp(tmp, "burrow-load-*.tar")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary file: %w", err)
	}
	if _, err := io.Copy(spool, rc); err != nil {
		spool.Close()
		os.Remove(spool.Name())
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrTruncated
		}
		return nil, fmt.Errorf("reading the archive: %w", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		spool.Close()
		os.Remove(spool.Name())
		return nil, err
	}
	return newTarSource(spool, spool.Name())
}

func newTarSource(f *os.File, remove string) (source, error) {
	fail := func(err error) (source, error) {
		f.Close()
		if remove != "" {
			os.Remove(remove)
		}
		return nil, err
	}
	entries, err := indexTar(f)
	if err != nil && !(errors.Is(err, ErrTruncated) && entries != nil) {
		return fail(err)
	}
	t := &tarSource{f: f, entries: entries, remove: remove}
	if err != nil {
		// A tar without its end marker may still hold everything (some
		// writers omit it): it is truncated only if what it names is
		// missing, which Load finds out.
		t.truncated = true
	}
	return t, nil
}

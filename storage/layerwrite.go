package storage

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/archive/tar"
	"github.com/vbatts/tar-split/tar/asm"
	tsstorage "github.com/vbatts/tar-split/tar/storage"
	cstorage "go.podman.io/storage"
	drivers "go.podman.io/storage/drivers"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/ioutils"
	"go.podman.io/storage/pkg/tarlog"
	"golang.org/x/sys/unix"
)

// Layers are written through containers/storage's staged-layer API (the
// one containers/image uses for partial pulls) with a differ of burrow's
// own, instead of PutLayer. PutLayer unpacks in a re-executed, chrooted
// child fed through a pipe, and one goroutine chain does the digests,
// tar-split and the id log in lock step with it, so each side waits for the
// other. Here the same library pieces run in this process, side by side:
//
//	source -> decompress -> [digest, size, uid/gid log: a goroutine of their own]
//	       -> tar-split (a goroutine) -> buffered pipe -> archive.Unpack (this goroutine)
//
// archive.Unpack confines every path to the staging directory with
// securejoin, and the staging directory is private to this process (it
// holds the store's write lock), so no chroot is needed.

// errNoStaging says the driver cannot take a staged layer of this kind; the
// layer stream has not been read.
var errNoStaging = errors.New("the storage driver does not take staged layers")

// stageLayer writes a layer from a tar stream (plain or compressed) on
// parent, with the given ID. known, if set, is the digest of the bytes diff
// returns, already checked by the source. On failure nothing is left.
func (s *Store) stageLayer(ctx context.Context, id, parent string, diff io.Reader, known digest.Digest) (*cstorage.Layer, error) {
	d := &layerDiffer{ctx: ctx, src: diff, known: known}
	opts := &drivers.ApplyDiffWithDifferOpts{}
	out, err := s.cs.PrepareStagedLayer(opts, d)
	if err != nil {
		if out != nil && out.Target != "" {
			_ = s.cs.CleanupStagedLayer(out)
		}
		if errors.Is(err, cstorage.ErrNotSupported) {
			return nil, errNoStaging
		}
		return nil, err
	}
	layer, err := s.cs.ApplyStagedLayer(cstorage.ApplyStagedLayerOptions{
		ID:          id,
		ParentLayer: parent,
		DiffOutput:  out,
		DiffOptions: opts,
	})
	if err != nil {
		_ = s.cs.CleanupStagedLayer(out)
		return nil, err
	}
	// The layer's files moved out of the staging directory; the directory
	// that held them (and the lock, now gone) is empty.
	_ = os.Remove(filepath.Dir(out.Target))
	return layer, nil
}

// layerDiffer unpacks one tar stream into the directory the driver stages.
type layerDiffer struct {
	ctx   context.Context
	src   io.Reader
	known digest.Digest
}

var _ drivers.Differ = (*layerDiffer)(nil)

func (d *layerDiffer) Close() error { return nil }

// ApplyDiff unpacks the stream into dest and reports its digests, size,
// owners and tar-split (uncompressed JSON in a temporary file, which
// containers/storage compresses into the layer's record).
func (d *layerDiffer) ApplyDiff(dest string, topts *archive.TarOptions, dopts *drivers.DifferOptions) (out drivers.DriverWithDifferOutput, retErr error) {
	if dopts == nil || dopts.Format != drivers.DifferOutputFormatDir {
		return out, errNoStaging
	}
	tsFile, err := openUnlinkedFile(dopts.StagingDirectory)
	if err != nil {
		return out, fmt.Errorf("creating the layer's tar-split file: %w", err)
	}
	defer func() {
		if retErr != nil {
			tsFile.Close()
		}
	}()

	if topts.IgnoreChownErrors {
		// Single-id mode (the store's ignore_chown_errors): no owner but
		// the caller's can be set, so none is tried. containers/storage
		// would try each file's and print a line for each that fails;
		// burrow says once per store that owners are not kept.
		o := *topts
		o.NoLchown, o.IgnoreChownErrors = true, false
		topts = &o
	}
	br := bufio.NewReaderSize(d.src, 256<<10)
	head, err := br.Peek(10)
	if err != nil && !errors.Is(err, io.EOF) {
		return out, err
	}
	compressed := archive.DetectCompression(head) != archive.Uncompressed

	raw := io.Reader(br)
	var rawHash *asyncWriter
	if compressed && d.known == "" {
		rawHash = newAsyncWriter(sha256.New())
		defer rawHash.Close()
		raw = io.TeeReader(raw, rawHash)
	}
	unc, err := archive.DecompressStream(raw)
	if err != nil {
		return out, err
	}
	defer unc.Close()

	sum := &layerSummary{hash: sha256.New(), uids: map[uint32]struct{}{}, gids: map[uint32]struct{}{}}
	idLog, err := tarlog.NewLogger(sum.logIDs)
	if err != nil {
		return out, err
	}
	sum.idLog = idLog
	sumW := newAsyncWriter(sum)
	defer sumW.Close()

	tsw := bufio.NewWriterSize(tsFile, 256<<10)
	payload, done, err := asm.NewInputTarStreamWithDone(io.TeeReader(unc, sumW), tsstorage.NewJSONPacker(tsw), tsstorage.NewDiscardFilePutter())
	if err != nil {
		return out, err
	}
	// The buffered pipe lets tar-split run ahead of the unpacking.
	ahead := ioutils.NewBytesPipe()
	copied := make(chan error, 1)
	go func() {
		_, err := io.CopyBuffer(ahead, payload, make([]byte, 256<<10))
		ahead.CloseWithError(err)
		copied <- err
	}()

	err = archive.Unpack(contextReader{d.ctx, ahead}, dest, topts)
	if err == nil {
		// The tar may end with zero padding: it belongs to the layer's
		// digest and tar-split too.
		_, err = io.Copy(io.Discard, ahead)
	}
	if err != nil {
		payload.Close()
		ahead.CloseWithError(err)
	}
	copyErr := <-copied
	tsErr := <-done
	sumErr := sumW.Close()
	var rawErr error
	if rawHash != nil {
		rawErr = rawHash.Close()
	}
	if d.ctx.Err() != nil {
		return out, d.ctx.Err()
	}
	if err != nil {
		return out, err
	}
	for _, e := range []error{copyErr, tsErr, sumErr, rawErr} {
		if e != nil {
			return out, e
		}
	}
	if err := tsw.Flush(); err != nil {
		return out, fmt.Errorf("writing the layer's tar-split: %w", err)
	}

	out.UncompressedDigest = digest.NewDigest(digest.SHA256, sum.hash)
	switch {
	case d.known != "":
		out.CompressedDigest = d.known
	case rawHash != nil:
		out.CompressedDigest = digest.NewDigest(digest.SHA256, rawHash.w.(hash.Hash))
	default:
		out.CompressedDigest = out.UncompressedDigest
	}
	out.Size = sum.size
	out.UIDs, out.GIDs = sortedIDs(sum.uids), sortedIDs(sum.gids)
	out.TarSplit = tsFile
	return out, nil
}

// layerSummary takes the uncompressed stream: its digest, its size, and
// the owners of its files (containers/storage records them per layer).
type layerSummary struct {
	hash       hash.Hash
	size       int64
	idLog      io.WriteCloser
	uids, gids map[uint32]struct{}
}

func (l *layerSummary) Write(p []byte) (int, error) {
	l.hash.Write(p)
	l.size += int64(len(p))
	return l.idLog.Write(p)
}

// Close ends the id log, which then has seen every header.
func (l *layerSummary) Close() error { return l.idLog.Close() }

func (l *layerSummary) logIDs(h *tar.Header) {
	if !strings.HasPrefix(path.Base(h.Name), archive.WhiteoutPrefix) {
		l.uids[uint32(h.Uid)] = struct{}{}
		l.gids[uint32(h.Gid)] = struct{}{}
	}
}

func sortedIDs(m map[uint32]struct{}) []uint32 {
	ids := make([]uint32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// asyncWriter hands what is written to it to w on a goroutine of its own,
// so that hashing runs beside the stream instead of in it.
type asyncWriter struct {
	w     io.Writer
	bufs  chan []byte
	free  chan []byte
	done  chan error
	err   error
	ended bool
}

const asyncChunk = 256 << 10

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{w: w, bufs: make(chan []byte, 8), free: make(chan []byte, 8), done: make(chan error, 1)}
	for range 8 {
		a.free <- make([]byte, asyncChunk)
	}
	go func() {
		var err error
		for b := range a.bufs {
			if err == nil {
				_, err = w.Write(b)
			}
			a.free <- b[:cap(b)]
		}
		if c, ok := w.(io.Closer); ok {
			if cerr := c.Close(); err == nil {
				err = cerr
			}
		}
		a.done <- err
	}()
	return a
}

func (a *asyncWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		b := <-a.free
		k := copy(b, p)
		a.bufs <- b[:k]
		p = p[k:]
	}
	return n, nil
}

// Close waits until everything written has been handed on, and returns
// the first error the underlying writer gave.
func (a *asyncWriter) Close() error {
	if !a.ended {
		a.ended = true
		close(a.bufs)
		a.err = <-a.done
	}
	return a.err
}

// openUnlinkedFile opens a new file in dir that has no name, so that it
// goes away with its last descriptor.
func openUnlinkedFile(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), filepath.Join(dir, "tar-split")), nil
	}
	f, err := os.CreateTemp(dir, ".tar-split")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

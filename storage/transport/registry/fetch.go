package registry

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	remotetransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// A layer download spools the blob to a file while the store reads the
// same file behind it: the layer being applied streams straight from the
// network, and the layers after it download meanwhile. A cut-off download
// resumes where it stopped (HTTP range), after a backoff; the digest is
// checked before the reader sees the end of the blob, so the store never
// keeps a layer whose blob was wrong.

// retryDelays are the pauses before each new attempt of a download.
var retryDelays = []time.Duration{250 * time.Millisecond, time.Second, 3 * time.Second}

// download is one blob being spooled.
type download struct {
	desc v1.Descriptor
	path string

	mu      sync.Mutex
	cond    *sync.Cond
	written int64
	done    bool
	err     error
	started bool
}

func newDownload(desc v1.Descriptor, path string) *download {
	d := &download{desc: desc, path: path}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// finish records the end of the download and wakes readers.
func (d *download) finish(err error) {
	d.mu.Lock()
	d.done, d.err = true, err
	d.cond.Broadcast()
	d.mu.Unlock()
}

func (d *download) progress(n int64) {
	d.mu.Lock()
	d.written += n
	d.cond.Broadcast()
	d.mu.Unlock()
}

// blobGetter fetches blobs of one repository, through the registry's
// authenticated transport.
type blobGetter struct {
	client *http.Client
	repo   name.Repository
	host   string
	// onBytes is told about progress (may be nil).
	onBytes func(d *download, n int64)
	// delays overrides retryDelays (tests).
	delays []time.Duration
}

// fetch downloads d to its file, resuming and retrying, and checks the
// digest. It always calls d.finish.
func (g *blobGetter) fetch(ctx context.Context, d *download) {
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		d.finish(fmt.Errorf("spooling blob %s: %w", d.desc.Digest, err))
		return
	}
	d.markStarted()
	h := sha256.New()
	delays := g.delays
	if delays == nil {
		delays = retryDelays
	}
	for attempt := 0; ; attempt++ {
		err = g.fetchFrom(ctx, d, f, h)
		if err == nil || ctx.Err() != nil || !retryable(err) || attempt >= len(delays) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(delays[attempt]):
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("spooling blob %s: %w", d.desc.Digest, cerr)
	}
	if err == nil {
		d.mu.Lock()
		n := d.written
		d.mu.Unlock()
		have := "sha256:" + fmt.Sprintf("%x", h.Sum(nil))
		switch {
		case n != d.desc.Size && d.desc.Size > 0:
			err = fmt.Errorf("blob %s from %s has %d bytes, the manifest says %d (hint: the registry's copy is damaged; pull again)", d.desc.Digest, g.host, n, d.desc.Size)
		case have != d.desc.Digest.String():
			err = fmt.Errorf("blob %s from %s has digest %s (hint: the registry's copy is damaged, or something between you and it changed it; pull again)", d.desc.Digest, g.host, have)
		}
	} else if ctx.Err() != nil {
		err = ctx.Err()
	}
	d.finish(err)
}

// fetchFrom does one attempt, from what is already spooled.
func (g *blobGetter) fetchFrom(ctx context.Context, d *download, f *os.File, h hash.Hash) error {
	d.mu.Lock()
	from := d.written
	d.mu.Unlock()
	get := func(withRange bool) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, blobURL(g.repo, d.desc.Digest.String()), nil)
		if err != nil {
			return nil, err
		}
		if withRange {
			end := ""
			if d.desc.Size > 0 {
				end = strconv.FormatInt(d.desc.Size-1, 10)
			}
			req.Header.Set("Range", "bytes="+strconv.FormatInt(from, 10)+"-"+end)
		}
		resp, err := g.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("downloading blob %s: %w", d.desc.Digest, err)
		}
		return resp, nil
	}
	resp, err := get(from > 0)
	if err != nil {
		return err
	}
	if from > 0 && (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable) {
		// No usable range support: download it all and skip what is spooled.
		resp.Body.Close()
		if resp, err = get(false); err != nil {
			return err
		}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && from > 0:
	case resp.StatusCode == http.StatusOK:
		// No range support: skip what is spooled already.
		if from > 0 {
			if _, err := io.CopyN(io.Discard, resp.Body, from); err != nil {
				return fmt.Errorf("downloading blob %s: %w", d.desc.Digest, err)
			}
		}
	default:
		return remotetransport.CheckError(resp, http.StatusOK)
	}
	buf := make([]byte, 256<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return fmt.Errorf("spooling blob %s: %w", d.desc.Digest, err)
			}
			h.Write(buf[:n])
			d.progress(int64(n))
			if g.onBytes != nil {
				g.onBytes(d, int64(n))
			}
		}
		if rerr == io.EOF {
			d.mu.Lock()
			short := d.desc.Size > 0 && d.written < d.desc.Size
			d.mu.Unlock()
			if short {
				return fmt.Errorf("downloading blob %s: %w", d.desc.Digest, io.ErrUnexpectedEOF)
			}
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("downloading blob %s: %w", d.desc.Digest, rerr)
		}
	}
}

// retryable says whether a failed attempt is worth another: a broken
// connection or a server error, not a refusal.
func retryable(err error) bool {
	var te *remotetransport.Error
	if errors.As(err, &te) {
		return te.StatusCode >= 500 || te.StatusCode == http.StatusTooManyRequests
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, os.ErrPermission)
}

// followReader reads a download's file as it grows, and ends when the
// download ends (with its error, if any).
type followReader struct {
	ctx context.Context
	d   *download
	f   *os.File
	off int64
}

func (d *download) open(ctx context.Context) (io.ReadCloser, error) {
	d.mu.Lock()
	for !d.started && !d.done {
		d.cond.Wait()
	}
	err := d.err
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(d.path)
	if err != nil {
		return nil, fmt.Errorf("reading spooled blob %s: %w", d.desc.Digest, err)
	}
	return &followReader{ctx: ctx, d: d, f: f}, nil
}

// markStarted says the spool file exists.
func (d *download) markStarted() {
	d.mu.Lock()
	d.started = true
	d.cond.Broadcast()
	d.mu.Unlock()
}

func (r *followReader) Read(p []byte) (int, error) {
	d := r.d
	d.mu.Lock()
	for d.written <= r.off && !d.done {
		d.cond.Wait()
	}
	avail, done, err := d.written-r.off, d.done, d.err
	d.mu.Unlock()
	if avail <= 0 || (done && err != nil) {
		if err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > avail {
		p = p[:avail]
	}
	n, rerr := r.f.ReadAt(p, r.off)
	r.off += int64(n)
	if rerr == io.EOF && n > 0 {
		rerr = nil
	}
	// The last bytes are handed out only once the digest is known good:
	// the store must see the error before the end of the stream.
	if rerr == nil && r.off == d.desc.Size {
		d.mu.Lock()
		for !d.done {
			d.cond.Wait()
		}
		err := d.err
		d.mu.Unlock()
		if err != nil {
			return 0, err
		}
	}
	return n, rerr
}

func (r *followReader) Close() error { return r.f.Close() }

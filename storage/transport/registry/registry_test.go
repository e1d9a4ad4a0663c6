package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/transport/internal/storetest"
	memregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// testImage stores an image of two layers, with big enough files that
// a layer spans several reads.
func testImage(t *testing.T, st *storage.Store, name string) *storage.Image {
	t.Helper()
	var parent *storage.Image
	for i, content := range []string{"first", "second"} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		data := bytes.Repeat([]byte(content+"\n"), 200000)
		if err := tw.WriteHeader(&tar.Header{Name: content + ".txt", Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
		tw.Close()
		cfg := &v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, Created: v1.Time{Time: time.Unix(1700000000+int64(i), 0).UTC()}}
		if parent != nil {
			c, err := st.Config(parent.ID)
			if err != nil {
				t.Fatal(err)
			}
			cfg.RootFS = c.RootFS
		}
		var names []string
		if i == 1 {
			names = []string{name}
		}
		img, err := st.CreateImage(context.Background(), storage.NewImage{Parent: parent, Diff: &buf, Config: cfg, Names: names})
		if err != nil {
			t.Fatal(err)
		}
		parent = img
	}
	return parent
}

// counting wraps a handler and counts requests by method and kind.
type counting struct {
	mu                sync.Mutex
	h                 http.Handler
	blobGets, uploads atomic.Int32 // layer downloads, layer uploads completed
	cutLayers         atomic.Int32 // layer GETs still to cut off
	rangeSeen         atomic.Bool
	config            string // the image ID, whose config blob is not a layer
}

func (c *counting) handler() http.Handler {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.h
}

func (c *counting) setHandler(h http.Handler) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.h = h
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := c.handler()
	isLayerGet := r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") && !strings.HasSuffix(r.URL.Path, c.config)
	if isLayerGet {
		c.blobGets.Add(1)
		if r.Header.Get("Range") != "" {
			c.rangeSeen.Store(true)
		}
	}
	// An upload ends with a PUT that names the blob (the config's is not a
	// layer's).
	if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") && !strings.HasSuffix(r.URL.Query().Get("digest"), c.config) {
		c.uploads.Add(1)
	}
	if isLayerGet && c.cutLayers.Load() > 0 {
		c.cutLayers.Add(-1)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		w.Header().Set("Content-Length", itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	h.ServeHTTP(w, r)
}

func itoa(n int) string { return strconv.Itoa(n) }

func testRegistry(t *testing.T) (*counting, string) {
	c := &counting{h: memregistry.New(memregistry.Logger(log.New(io.Discard, "", 0)))}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return c, strings.TrimPrefix(srv.URL, "http://")
}

func TestPushPullRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg, host := testRegistry(t)
	src := storetest.Open(t)
	img := testImage(t, src, "localhost/app:v1")
	reg.config = img.ID
	dest := host + "/test/app:v1"
	res, err := Push(ctx, src, img, dest, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if reg.uploads.Load() != 2 {
		t.Errorf("cold push sent %d layers, want 2", reg.uploads.Load())
	}
	// A second push finds every blob in the registry.
	if _, err := Push(ctx, src, img, dest, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if reg.uploads.Load() != 2 {
		t.Errorf("warm push sent %d more layers, want 0", reg.uploads.Load()-2)
	}
	// A push to another repository mounts the blobs.
	if _, err := Push(ctx, src, img, host+"/other/app:v1", PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if reg.uploads.Load() != 2 {
		t.Errorf("push to a second repository sent %d layers, want 0 (mounted)", reg.uploads.Load()-2)
	}
	got, _ := src.Lookup(img.ID)
	if len(got.Digests) == 0 || !strings.HasSuffix(got.Digests[0], "@"+res.Digest) {
		t.Errorf("RepoDigests after push = %v, want one with %s", got.Digests, res.Digest)
	}

	dst := storetest.Open(t)
	pr, err := Pull(ctx, dst, dest, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pr.Image.ID != img.ID || !pr.Fresh || pr.Digest != res.Digest {
		t.Errorf("pulled %s (fresh %v, digest %s), want %s, fresh, %s", pr.Image.ID, pr.Fresh, pr.Digest, img.ID, res.Digest)
	}
	if reg.blobGets.Load() != 2 {
		t.Errorf("pull downloaded %d layers, want 2", reg.blobGets.Load())
	}
	// The other repository holds the same layers: none is downloaded.
	pr, err = Pull(ctx, dst, host+"/other/app:v1", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if reg.blobGets.Load() != 2 || pr.Fresh {
		t.Errorf("second pull downloaded %d layers (fresh %v), want none", reg.blobGets.Load()-2, pr.Fresh)
	}
	// Unknown tags name the registry.
	_, err = Pull(ctx, dst, host+"/test/app:nope", PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "manifest for "+host+"/test/app:nope not found") || !strings.Contains(err.Error(), "registry "+host) {
		t.Errorf("unknown tag: %v", err)
	}
}

func TestPullCutOffLayer(t *testing.T) {
	saved := retryDelays
	retryDelays = []time.Duration{time.Millisecond, time.Millisecond}
	t.Cleanup(func() { retryDelays = saved })
	ctx := context.Background()
	reg, host := testRegistry(t)
	src := storetest.Open(t)
	img := testImage(t, src, "localhost/app:v1")
	reg.config = img.ID
	dest := host + "/test/app:v1"
	if _, err := Push(ctx, src, img, dest, PushOptions{}); err != nil {
		t.Fatal(err)
	}

	// Every attempt is cut off: the pull fails and leaves no image.
	dst := storetest.Open(t)
	reg.cutLayers.Store(100)
	if _, err := Pull(ctx, dst, dest, PullOptions{Jobs: 1}); err == nil {
		t.Fatal("a pull whose layers are cut off succeeded")
	}
	if imgs, _ := dst.Images(); len(imgs) != 0 {
		t.Errorf("a failed pull left %d images", len(imgs))
	}

	// One cut: the download resumes where it stopped.
	reg.cutLayers.Store(1)
	reg.rangeSeen.Store(false)
	pr, err := Pull(ctx, dst, dest, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pr.Image.ID != img.ID {
		t.Errorf("pulled %s, want %s", pr.Image.ID, img.ID)
	}
	if !reg.rangeSeen.Load() {
		t.Error("the retry did not resume with a Range request")
	}
}

func TestPullRegistryDown(t *testing.T) {
	dst := storetest.Open(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	_, err := Pull(context.Background(), dst, host+"/a:b", PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the registry "+host) {
		t.Errorf("got %v", err)
	}
}

func TestPullManifestDigestMismatch(t *testing.T) {
	ctx := context.Background()
	reg, host := testRegistry(t)
	src := storetest.Open(t)
	img := testImage(t, src, "localhost/app:v1")
	res, err := Push(ctx, src, img, host+"/test/app:v1", PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The registry answers with a manifest other than the one asked for.
	inner := reg.handler()
	reg.setHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/sha256:") {
			rec := httptest.NewRecorder()
			inner.ServeHTTP(rec, r)
			w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
			w.Write(append(rec.Body.Bytes(), ' '))
			return
		}
		inner.ServeHTTP(w, r)
	}))
	dst := storetest.Open(t)
	_, err = Pull(ctx, dst, host+"/test/app@"+res.Digest, PullOptions{})
	if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), "not the "+res.Digest+" asked for") {
		t.Errorf("got %v, want a digest mismatch", err)
	}
	if imgs, _ := dst.Images(); len(imgs) != 0 {
		t.Errorf("a failed pull left %d images", len(imgs))
	}
}

func TestPushRetriesFailedUpload(t *testing.T) {
	ctx := context.Background()
	reg, host := testRegistry(t)
	inner := reg.handler()
	var failed atomic.Bool
	reg.setHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch && !failed.Swap(true) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	src := storetest.Open(t)
	img := testImage(t, src, "localhost/app:v1")
	if _, err := Push(ctx, src, img, host+"/test/app:v1", PushOptions{Jobs: 1}); err != nil {
		t.Fatalf("a push whose first upload failed once: %v", err)
	}
	pr, err := Pull(ctx, storetest.Open(t), host+"/test/app:v1", PullOptions{})
	if err != nil || pr.Image.ID != img.ID {
		t.Fatalf("pulling back: %v", err)
	}
}

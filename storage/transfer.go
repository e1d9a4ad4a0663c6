package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/burrow-oci/burrow/storage/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	digest "github.com/opencontainers/go-digest"
	cstorage "go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
)

// Images in and out of the store, for archives and registries
// (storage/transport): an image leaves as its raw config and its layers'
// uncompressed tar streams, and comes in the same way, so that its ID (the
// sha256 of the config) never changes on the way.

// StoredLayer is one layer of a stored image.
type StoredLayer struct {
	ID     string  // the store's layer ID
	DiffID v1.Hash // sha256 of the uncompressed tar
	Size   int64   // uncompressed size
}

// ImageLayers lists an image's layers, base first.
func (s *Store) ImageLayers(img *Image) ([]StoredLayer, error) {
	out := make([]StoredLayer, 0, len(img.Layers))
	for _, id := range img.Layers {
		l, err := s.cs.Layer(id)
		if err != nil {
			return nil, fmt.Errorf("reading layer %s: %w", short(id), err)
		}
		h, err := v1.NewHash(l.UncompressedDigest.String())
		if err != nil {
			return nil, fmt.Errorf("layer %s has no recorded digest: %w", short(id), err)
		}
		out = append(out, StoredLayer{ID: id, DiffID: h, Size: l.UncompressedSize})
	}
	return out, nil
}

// OpenLayer streams a layer as the uncompressed tar it was written from
// (byte for byte: its digest is the layer's DiffID). The stream holds the
// layer store's read lock: close it before writing to the store.
func (s *Store) OpenLayer(id string) (io.ReadCloser, error) {
	unc := archive.Uncompressed
	rc, err := s.cs.Diff("", id, &cstorage.DiffOptions{Compression: &unc})
	if err != nil {
		return nil, fmt.Errorf("reading layer %s: %w", short(id), err)
	}
	return &layerStream{rc: rc}, nil
}

// layerStream makes a layer stream safe to close early and twice:
// containers/storage's Diff releases its lock at each Close (a second one
// is a fatal error), and closing it before the end races with the
// goroutine that rebuilds the tar (so the rest is drained first).
type layerStream struct {
	rc   io.ReadCloser
	once sync.Once
	err  error
}

func (l *layerStream) Read(p []byte) (int, error) { return l.rc.Read(p) }

func (l *layerStream) Close() error {
	l.once.Do(func() {
		_, _ = io.Copy(io.Discard, l.rc)
		l.err = l.rc.Close()
	})
	return l.err
}

// IncomingLayer is one layer of an image coming into the store.
type IncomingLayer struct {
	// DiffID is the sha256 of the layer's uncompressed tar (from the
	// config's rootfs.diff_ids). A layer the store has already, on the
	// same parent, is reused without calling Open.
	DiffID v1.Hash
	// Open returns the layer's tar, plain or compressed (gzip, zstd, xz,
	// bzip2). It may block, for instance until a download completes.
	Open func(ctx context.Context) (io.ReadCloser, error)
	// Digest, if set, is the digest of the bytes Open returns, which the
	// source checks before the stream ends (a registry blob): the store
	// then does not hash them again.
	Digest v1.Hash
}

// IncomingImage is an image to store.
type IncomingImage struct {
	// Config is the raw config JSON; the image's ID is its sha256.
	Config []byte
	// Layers are the image's layers, base first, as many as the config's
	// rootfs.diff_ids, in the same order.
	Layers []IncomingLayer
	// Names are names to give it (they move from other images, as in
	// Docker); Digests are manifest digests to record ("name@sha256:...",
	// shown as RepoDigests).
	Names, Digests []string
	// Progress, if set, is told about each layer: reused, or written.
	Progress func(i int, diffID v1.Hash, reused bool)
}

// LayerMismatchError is a layer whose content does not have the digest
// the image's config lists for it.
type LayerMismatchError struct {
	Index      int
	Want, Have string
}

func (e *LayerMismatchError) Error() string {
	return fmt.Sprintf("layer %d has digest %s, but the image's config lists %s (hint: the source is corrupt or was changed; fetch it again)", e.Index+1, e.Have, e.Want)
}

// PutImage stores an image from its raw config and its layers. Layers the
// store already has are reused; each new one is written (and its digest
// checked) before the next starts. On failure no image is recorded, and
// the layer being written is removed; complete layers stay, unreferenced,
// so that trying again resumes after them (prune removes them).
func (s *Store) PutImage(ctx context.Context, in IncomingImage) (*Image, error) {
	// New layers are unreferenced until the image is recorded. A process
	// holding the write lock throughout is alone; otherwise, like a build,
	// hold the lock that keeps prune from taking them meanwhile (taken
	// before any write lock, in the order builds and prunes take them).
	if s.writeLock == nil {
		release, err := s.BuildLock()
		if err != nil {
			return nil, err
		}
		defer release()
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(in.Config, &cfg); err != nil {
		return nil, fmt.Errorf("decoding the image config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(in.Layers) {
		return nil, fmt.Errorf("the image config lists %d layers, the image has %d (hint: the source is corrupt)", len(cfg.RootFS.DiffIDs), len(in.Layers))
	}
	names, err := reference.NormalizeAll(append(append([]string(nil), in.Names...), in.Digests...))
	if err != nil {
		return nil, err
	}
	parent := ""
	var top *cstorage.Layer
	for i, l := range in.Layers {
		if l.DiffID != cfg.RootFS.DiffIDs[i] {
			return nil, &LayerMismatchError{Index: i, Want: cfg.RootFS.DiffIDs[i].String(), Have: l.DiffID.String()}
		}
		if have := s.layerOn(parent, l.DiffID); have != nil {
			if in.Progress != nil {
				in.Progress(i, l.DiffID, true)
			}
			parent, top = have.ID, have
			continue
		}
		layer, err := s.putIncomingLayer(ctx, parent, i, l)
		if err != nil {
			return nil, err
		}
		if in.Progress != nil {
			in.Progress(i, l.DiffID, false)
		}
		parent, top = layer.ID, layer
	}
	unlock, err := s.lockWrite()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.recordImage(top, in.Config, &cfg, names)
}

// layerOn finds a stored layer with the given content on parent.
func (s *Store) layerOn(parent string, diffID v1.Hash) *cstorage.Layer {
	same, err := s.cs.LayersByUncompressedDigest(digest.Digest(diffID.String()))
	if err != nil {
		return nil
	}
	for i := range same {
		if same[i].Parent == parent {
			return &same[i]
		}
	}
	return nil
}

func (s *Store) putIncomingLayer(ctx context.Context, parent string, i int, l IncomingLayer) (*cstorage.Layer, error) {
	rc, err := l.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	unlock, err := s.lockWrite()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var known digest.Digest
	if l.Digest.Algorithm == "sha256" {
		known = digest.Digest(l.Digest.String())
	}
	layer, err := s.putLayer(ctx, parent, rc, known)
	if err != nil {
		return nil, fmt.Errorf("layer %d: %w", i+1, err)
	}
	if layer.UncompressedDigest.String() != l.DiffID.String() {
		s.dropLayer(layer.ID)
		return nil, &LayerMismatchError{Index: i, Want: l.DiffID.String(), Have: layer.UncompressedDigest.String()}
	}
	return layer, nil
}

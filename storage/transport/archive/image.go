package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/burrow-oci/burrow/storage"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// storedImage is a stored image seen as go-containerregistry's image
// core: its config is the stored config byte for byte (so the image ID does
// not change) and its layers are the store's uncompressed tars, opened only
// when a writer reads them. The manifest describes the layers uncompressed
// (digest = diff ID), which is what docker-archive holds and what an OCI
// layout may hold.
type storedImage struct {
	st       *storage.Store
	id       string
	config   []byte
	manifest []byte
	layers   map[v1.Hash]*storedLayer
}

var _ partial.CompressedImageCore = (*storedImage)(nil)

// newStoredImage reads what describing img needs (config, layer records);
// no layer is opened.
func newStoredImage(ctx context.Context, st *storage.Store, img *storage.Image) (*storedImage, error) {
	raw, err := st.RawConfig(img.ID)
	if err != nil {
		return nil, fmt.Errorf("reading the config of image %s: %w", shortID(img.ID), err)
	}
	layers, err := st.ImageLayers(img)
	if err != nil {
		return nil, err
	}
	m := storage.Manifest(types.OCIManifestSchema1, raw, make([]v1.Descriptor, 0, len(layers)))
	si := &storedImage{st: st, id: img.ID, config: raw, layers: make(map[v1.Hash]*storedLayer, len(layers))}
	for _, l := range layers {
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.OCIUncompressedLayer, Size: l.Size, Digest: l.DiffID})
		si.layers[l.DiffID] = &storedLayer{ctx: ctx, st: st, sl: l}
	}
	if si.manifest, err = json.Marshal(&m); err != nil {
		return nil, fmt.Errorf("encoding the manifest of image %s: %w", shortID(img.ID), err)
	}
	return si, nil
}

// image is the full v1.Image.
func (si *storedImage) image() (v1.Image, error) { return partial.CompressedToImage(si) }

func (si *storedImage) RawConfigFile() ([]byte, error) { return si.config, nil }

func (si *storedImage) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

func (si *storedImage) RawManifest() ([]byte, error) { return si.manifest, nil }

func (si *storedImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	l, ok := si.layers[h]
	if !ok {
		return nil, fmt.Errorf("internal error: image %s has no layer %s", shortID(si.id), h)
	}
	return l, nil
}

// storedLayer is a stored layer whose "compressed" form is its
// uncompressed tar, as docker-archive and uncompressed OCI blobs hold it.
type storedLayer struct {
	ctx context.Context // ends reads when done
	st  *storage.Store
	sl  storage.StoredLayer
}

var (
	_ partial.CompressedLayer = (*storedLayer)(nil)
	_ partial.WithDiffID      = (*storedLayer)(nil)
)

func (l *storedLayer) Digest() (v1.Hash, error)            { return l.sl.DiffID, nil }
func (l *storedLayer) DiffID() (v1.Hash, error)            { return l.sl.DiffID, nil }
func (l *storedLayer) Size() (int64, error)                { return l.sl.Size, nil }
func (l *storedLayer) MediaType() (types.MediaType, error) { return types.OCIUncompressedLayer, nil }

// Compressed returns the layer's tar. The store's stream is opened at the
// first Read, because go-containerregistry's layout writer asks for it even
// for a blob the layout has already, and closes it unread; it holds the
// layer store's read lock until closed, and writers close each one as soon
// as it is copied.
func (l *storedLayer) Compressed() (io.ReadCloser, error) {
	return &layerReader{l: l}, nil
}

// layerReader opens a stored layer at its first Read and fails reads once
// ctx is done, so that an interrupted save stops mid-layer. Close may be
// called more than once (the layout writer does): the store's stream is
// closed once, since closing it twice releases its lock twice, which is
// fatal.
type layerReader struct {
	l      *storedLayer
	rc     io.ReadCloser
	once   sync.Once
	closed error
}

func (r *layerReader) Read(p []byte) (int, error) {
	if err := r.l.ctx.Err(); err != nil {
		return 0, err
	}
	if r.rc == nil {
		rc, err := r.l.st.OpenLayer(r.l.sl.ID)
		if err != nil {
			return 0, err
		}
		r.rc = rc
	}
	return r.rc.Read(p)
}

func (r *layerReader) Close() error {
	r.once.Do(func() {
		if r.rc != nil {
			r.closed = r.rc.Close()
		}
	})
	return r.closed
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

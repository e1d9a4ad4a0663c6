package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/burrow-oci/burrow/storage/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	digest "github.com/opencontainers/go-digest"
	cstorage "go.podman.io/storage"
)

// NewImage describes an image made of one new layer on top of an optional
// parent image.
type NewImage struct {
	// Parent is the image the layer goes on; nil for a base layer.
	Parent *Image
	// Diff is the layer as a tar stream, plain or compressed with gzip,
	// bzip2, xz or zstd.
	Diff io.Reader
	// Config is the new image's config. Its RootFS.DiffIDs must list the
	// parent's layers; the new layer's diff ID is appended.
	Config *v1.ConfigFile
	// Extra adds what Config cannot hold (HEALTHCHECK --start-interval).
	Extra ConfigExtra
	// Names are names to give the image, in any form reference.Normalize takes.
	// A name that another image holds moves to the new one, as in Docker.
	Names []string
}

// CreateImage stores a new layer and an image on it. On failure nothing is
// left behind: a layer that was partly or wholly written is removed.
func (s *Store) CreateImage(ctx context.Context, ni NewImage) (*Image, error) {
	names, err := reference.NormalizeAll(ni.Names)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lockWrite()
	if err != nil {
		return nil, err
	}
	defer unlock()

	parentLayer := ""
	if ni.Parent != nil {
		parentLayer = ni.Parent.TopLayer
	}
	layer, err := s.putLayer(ctx, parentLayer, ni.Diff, "")
	if err != nil {
		return nil, err
	}
	img, err := s.createImageOnLayer(layer, ni.Config, ni.Extra, names)
	if err != nil {
		s.dropLayer(layer.ID)
		return nil, err
	}
	return img, nil
}

// putLayer writes a layer from a tar stream, and reuses an identical layer
// already in the store (same parent, same content) instead of keeping two.
// known, if set, is the digest of the stream, already checked by its
// source (see IncomingLayer.Digest).
func (s *Store) putLayer(ctx context.Context, parent string, diff io.Reader, known digest.Digest) (*cstorage.Layer, error) {
	id := NewID()
	layer, err := s.stageLayer(ctx, id, parent, diff, known)
	if errors.Is(err, errNoStaging) {
		var opts *cstorage.LayerOptions
		if known != "" {
			opts = &cstorage.LayerOptions{OriginalDigest: known}
		}
		layer, _, err = s.cs.PutLayer(id, parent, nil, "", false, opts, contextReader{ctx, diff})
	}
	if err != nil {
		// Both ways remove what they wrote; make sure, in case they did not.
		_ = s.cs.DeleteLayer(id)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("writing layer: %w", ctx.Err())
		}
		return nil, &LayerError{Err: err, Root: s.opts.Root}
	}
	if layer.UncompressedDigest == "" {
		s.dropLayer(id)
		return nil, errors.New("internal error: the store recorded no digest for the new layer")
	}
	same, err := s.cs.LayersByUncompressedDigest(layer.UncompressedDigest)
	if err == nil {
		for i := range same {
			if same[i].ID != id && same[i].Parent == parent {
				s.dropLayer(id)
				return &same[i], nil
			}
		}
	}
	return layer, nil
}

func (s *Store) dropLayer(id string) {
	if err := s.cs.DeleteLayer(id); err != nil && !errors.Is(err, cstorage.ErrLayerUnknown) && !errors.Is(err, cstorage.ErrLayerHasChildren) && !errors.Is(err, cstorage.ErrLayerUsedByImage) {
		s.opts.Log.Warn("removing an unused layer", "layer", id, "err", err)
	}
}

// createImageOnLayer records the config and manifest of an image whose top
// layer is layer, and gives it names.
func (s *Store) createImageOnLayer(layer *cstorage.Layer, cfg *v1.ConfigFile, extra ConfigExtra, names []string) (*Image, error) {
	c := *cfg
	c.RootFS.Type = "layers"
	c.RootFS.DiffIDs = append(append([]v1.Hash(nil), cfg.RootFS.DiffIDs...), mustHash(layer.UncompressedDigest))
	configJSON, err := encodeConfig(&c, extra)
	if err != nil {
		return nil, err
	}
	return s.recordImage(layer, configJSON, &c, names)
}

// recordImage records an image whose top layer is top (nil: no layer)
// with its config exactly as configJSON (the ID is its sha256), a manifest
// of its layers, and names (full forms; they move from other images). An
// image with the same config already stored is reused. The caller holds
// the write lock.
func (s *Store) recordImage(top *cstorage.Layer, configJSON []byte, cfg *v1.ConfigFile, names []string) (*Image, error) {
	id := ImageID(configJSON)
	manifest, err := s.manifestFor(top, configJSON, cfg)
	if err != nil {
		return nil, err
	}
	created := cfg.Created.Time
	if created.IsZero() {
		created = time.Now().UTC()
	}
	topID := ""
	if top != nil {
		topID = top.ID
	}
	_, err = s.cs.CreateImage(id, nil, topID, "", &cstorage.ImageOptions{
		CreationDate: created,
		BigData: []cstorage.ImageBigDataOption{
			{Key: configKey(id), Data: configJSON, Digest: digest.Digest("sha256:" + id)},
			{Key: manifestKey, Data: manifest, Digest: digest.FromBytes(manifest)},
		},
	})
	if err != nil && !errors.Is(err, cstorage.ErrDuplicateID) {
		return nil, fmt.Errorf("recording image %s: %w", short(id), err)
	}
	if len(names) > 0 {
		if err := s.cs.AddNames(id, names); err != nil {
			return nil, fmt.Errorf("naming image %s: %w", short(id), err)
		}
	}
	return s.Lookup(id)
}

// manifestFor builds an OCI manifest for an image whose layers are the
// chain ending in top. Layers are described uncompressed (digest = diff ID),
// as they are stored; push compresses them and writes a new manifest.
func (s *Store) manifestFor(top *cstorage.Layer, configJSON []byte, cfg *v1.ConfigFile) ([]byte, error) {
	var chain []*cstorage.Layer
	for l := top; l != nil; {
		chain = append([]*cstorage.Layer{l}, chain...)
		if l.Parent == "" {
			break
		}
		p, err := s.cs.Layer(l.Parent)
		if err != nil {
			return nil, fmt.Errorf("reading layer %s: %w", short(l.Parent), err)
		}
		l = p
	}
	var layers []v1.Descriptor
	for _, l := range chain {
		layers = append(layers, v1.Descriptor{
			MediaType: types.OCIUncompressedLayer,
			Size:      l.UncompressedSize,
			Digest:    mustHash(l.UncompressedDigest),
		})
	}
	m := Manifest(types.OCIManifestSchema1, configJSON, layers)
	return json.Marshal(&m)
}

func mustHash(d digest.Digest) v1.Hash {
	return v1.Hash{Algorithm: d.Algorithm().String(), Hex: d.Encoded()}
}

// contextReader stops a long copy when the context is cancelled (Ctrl-C
// during an import), so that the layer is cleaned up rather than finished.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// LayerError is a layer that could not be written, with the cause reduced
// to one line: containers/storage reports the unpacking child's failure
// over several lines. A full disk or quota says so, with the store's
// place, not the path of a file in a staging directory.
type LayerError struct {
	Err  error
	Root string // the store's graph root
}

var (
	unpackFailure = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`unpacking failed \(error: [^;]*; output: ([^)\n]*)\)`)
	})
	// applyLayerFailure is the vfs driver's child failing: its error
	// after what it printed (see ignoredChown).
	applyLayerFailure = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?s)ApplyLayer stdout: .*?stderr: (.*?) ?exit status \d+$`)
	})
	// ignoredChown is containers/storage's line for each file whose owner
	// it could not set in single-id mode (ignore_chown_errors).
	ignoredChown = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`Chown error detected\. Ignoring due to ignoreChownErrors flag: [^\n]*\n`)
	})
)

func (e *LayerError) Error() string {
	msg := ignoredChown().ReplaceAllString(e.Err.Error(), "")
	for _, full := range []struct {
		errno syscall.Errno
		what  string
	}{{syscall.ENOSPC, "no space left on device"}, {syscall.EDQUOT, "disk quota exceeded"}} {
		// The vfs driver's child reports the errno only as text.
		if errors.Is(e.Err, full.errno) || strings.Contains(msg, full.errno.Error()) {
			return fmt.Sprintf("writing layer: %s for the store at %s (hint: free space there, for instance with `burrow system prune -a`, or keep the store elsewhere with --root)", full.what, e.Root)
		}
	}
	if m := unpackFailure().FindStringSubmatch(msg); m != nil {
		msg = m[1]
	} else if m := applyLayerFailure().FindStringSubmatch(msg); m != nil {
		msg = m[1]
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return "writing layer: " + msg
}

func (e *LayerError) Unwrap() error { return e.Err }

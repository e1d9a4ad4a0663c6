package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/burrow-oci/burrow/storage/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	cstorage "go.podman.io/storage"
)

// The build cache. Each step that made a layer (RUN, COPY, ADD) is
// recorded under its cache key as a nameless image of containers/storage
// whose ID is the key and whose top layer is the step's layer. That makes
// the lookup one map access by key (never a scan), and it is what keeps
// a cached layer alive when every image built on it is removed:
// containers/storage never deletes an image's top layer.
//
// Cache records are not images for the user: Images, Lookup and prune
// leave them out; builder prune removes them.

// cacheMarker is the key of the metadata that marks a cache record.
const cacheMarker = "burrow.cache"

// CacheEntry is the result of a cached build step.
type CacheEntry struct {
	// Layer is the step's layer; "" when the step changed no file (then
	// no layer was made, as BuildKit does).
	Layer string `json:"layer,omitempty"`
	// DiffID is the layer's uncompressed digest ("sha256:...").
	DiffID string `json:"diff_id,omitempty"`
	// Created is when the step ran, the time its history entry keeps.
	Created time.Time `json:"created"`
}

type cacheMeta struct {
	Entry *CacheEntry `json:"burrow.cache"`
}

// isCacheRecord tells a cache record from an image.
func isCacheRecord(ci *cstorage.Image) bool {
	return len(ci.Names) == 0 && strings.Contains(ci.Metadata, cacheMarker) && cacheEntryOf(ci) != nil
}

func cacheEntryOf(ci *cstorage.Image) *CacheEntry {
	var m cacheMeta
	if json.Unmarshal([]byte(ci.Metadata), &m) != nil {
		return nil
	}
	return m.Entry
}

// CacheGet looks a step's key up. It reports false when the key is not
// cached or its layer is gone.
func (s *Store) CacheGet(key string) (*CacheEntry, bool) {
	ci, err := s.cs.Image(key)
	if err != nil {
		return nil, false
	}
	e := cacheEntryOf(ci)
	if e == nil {
		return nil, false
	}
	return e, true
}

// CachePut records a step's result under its key. An entry with a layer
// needs that layer's parent chain to exist; an entry without one is
// recorded on parentLayer (which it keeps alive, harmlessly).
func (s *Store) CachePut(key string, e CacheEntry, parentLayer string) error {
	meta, err := json.Marshal(cacheMeta{Entry: &e})
	if err != nil {
		return err
	}
	top := e.Layer
	if top == "" {
		top = parentLayer
	}
	unlock, err := s.lockWrite()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.cs.CreateImage(key, nil, top, string(meta), &cstorage.ImageOptions{CreationDate: e.Created}); err != nil {
		if errors.Is(err, cstorage.ErrDuplicateID) {
			return nil // another build recorded the same step
		}
		return fmt.Errorf("recording build cache entry %s: %w", short(key), err)
	}
	return nil
}

// cacheDir is the directory for the build cache's own files (the stat
// memo, RUN --mount=type=cache directories).
func (s *Store) cacheDir() string { return filepath.Join(s.opts.Root, "build-cache") }

// buildLockFile, in the store's root, is the file BuildLock locks.
const buildLockFile = "burrow-build.lock"

// BuildLock is held, shared, by every build while it runs; a prune that
// removes unreferenced layers takes it exclusively, so that it never
// removes a layer a running build has made but not yet recorded.
func (s *Store) BuildLock() (release func(), err error) {
	f, err := flock(filepath.Join(s.opts.Root, buildLockFile), syscall.LOCK_SH)
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}

// buildsRunning reports whether a build holds BuildLock now.
func (s *Store) buildsRunning() bool {
	path := filepath.Join(s.opts.Root, buildLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return false
	}
	if err := lockOpen(f, path, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true
	}
	f.Close()
	return false
}

// Scratch is a writable layer on top of a parent, mounted, in which a build
// step works (RUN), or through which it reads its parent's files (COPY).
type Scratch struct {
	ID     string
	Parent string // parent layer ID; "" for scratch
	Root   string // where it is mounted
}

// NewScratch creates and mounts a writable layer on parent ("" = empty).
func (s *Store) NewScratch(parent string) (*Scratch, error) {
	id := NewID()
	unlock, err := s.lockWrite()
	if err != nil {
		return nil, err
	}
	_, err = s.cs.CreateLayer(id, parent, nil, "", true, nil)
	unlock()
	if err != nil {
		return nil, fmt.Errorf("creating a working layer: %w", err)
	}
	root, err := s.cs.Mount(id, "")
	if err != nil {
		s.DropScratch(&Scratch{ID: id})
		return nil, fmt.Errorf("mounting a working layer: %w", err)
	}
	return &Scratch{ID: id, Parent: parent, Root: root}, nil
}

// DropScratch unmounts and removes a working layer.
func (s *Store) DropScratch(sc *Scratch) {
	if _, err := s.cs.Unmount(sc.ID, true); err != nil && !errors.Is(err, cstorage.ErrLayerNotMounted) && !errors.Is(err, cstorage.ErrLayerUnknown) {
		s.opts.Log.Warn("unmounting a working layer", "layer", sc.ID, "err", err)
	}
	unlock, err := s.lockWrite()
	if err != nil {
		return
	}
	defer unlock()
	s.dropLayer(sc.ID)
}

// LayerInfo is a layer written by a build step.
type LayerInfo struct {
	ID     string
	DiffID string // "sha256:..."
	Size   int64
}

// CommitScratch turns what a working layer changed into a new read-only
// layer on its parent. Mount points the runtime created are left out, as
// in commit, and so are stubs: the paths ("/run/secrets/x") of mount
// points created for the step's own mounts, when they are empty files or
// directories. It reports ok=false, and makes no layer, when nothing
// changed. The working layer is left for DropScratch.
func (s *Store) CommitScratch(ctx context.Context, sc *Scratch, stubs []string) (info LayerInfo, ok bool, err error) {
	if _, err := s.cs.Unmount(sc.ID, true); err != nil && !errors.Is(err, cstorage.ErrLayerNotMounted) {
		return LayerInfo{}, false, fmt.Errorf("unmounting a working layer: %w", err)
	}
	// The diff stream holds the layer store's lock until it is closed, and
	// writing the new layer needs that lock: spool it first.
	spool, err := os.CreateTemp(s.opts.Root, ".build-*.tar")
	if err != nil {
		return LayerInfo{}, false, err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	diff, err := s.cs.Diff("", sc.ID, nil)
	if err != nil {
		return LayerInfo{}, false, fmt.Errorf("reading the changes of a build step: %w", err)
	}
	skip := mountPoints
	if len(stubs) > 0 {
		skip = map[string]bool{}
		for k := range mountPoints {
			skip[k] = true
		}
		for _, p := range stubs {
			skip[p] = true
		}
	}
	n, err := copyWithoutCount(spool, diff, skip)
	if cerr := diff.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return LayerInfo{}, false, fmt.Errorf("reading the changes of a build step: %w", err)
	}
	if n == 0 {
		return LayerInfo{}, false, nil
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return LayerInfo{}, false, err
	}
	info, err = s.NewLayer(ctx, sc.Parent, spool)
	return info, err == nil, err
}

// NewLayer writes a layer from a tar stream on parent ("" = base layer).
func (s *Store) NewLayer(ctx context.Context, parent string, diff io.Reader) (LayerInfo, error) {
	unlock, err := s.lockWrite()
	if err != nil {
		return LayerInfo{}, err
	}
	defer unlock()
	l, err := s.putLayer(ctx, parent, diff, "")
	if err != nil {
		return LayerInfo{}, err
	}
	return LayerInfo{ID: l.ID, DiffID: l.UncompressedDigest.String(), Size: l.UncompressedSize}, nil
}

// LayerExists reports whether the store has a layer.
func (s *Store) LayerExists(id string) bool {
	_, err := s.cs.Layer(id)
	return err == nil
}

// CommitImage records an image whose top layer is top ("" for an image
// with no layer) and whose config is cfg, as is (its RootFS lists every
// layer). An image with the same config already stored is reused. names
// move to it, as with CreateImage.
//
// extra adds what v1.ConfigFile cannot hold (HEALTHCHECK --start-interval).
func (s *Store) CommitImage(top string, cfg *v1.ConfigFile, extra ConfigExtra, names []string) (*Image, error) {
	full, err := reference.NormalizeAll(names)
	if err != nil {
		return nil, err
	}
	c := *cfg
	c.RootFS.Type = "layers"
	if c.RootFS.DiffIDs == nil {
		c.RootFS.DiffIDs = []v1.Hash{}
	}
	configJSON, err := encodeConfig(&c, extra)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lockWrite()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var layer *cstorage.Layer
	if top != "" {
		if layer, err = s.cs.Layer(top); err != nil {
			return nil, fmt.Errorf("reading layer %s: %w", short(top), err)
		}
	}
	return s.recordImage(layer, configJSON, &c, full)
}

// CachePruneOptions select the build cache entries PruneBuildCache removes.
type CachePruneOptions struct {
	// All removes every entry, and the RUN --mount=type=cache directories;
	// otherwise only entries whose layer no image uses.
	All bool
	// Until keeps entries recorded after it (zero: no limit).
	Until time.Time
	// KeepStorage, if positive, stops once the cache's layers not used by
	// images take at most this many bytes (oldest entries go first).
	KeepStorage int64
}

// PruneBuildCache removes build cache entries, then the layers no image
// and no other entry uses. It waits for running builds to end first, so
// that it never removes what one of them is using.
func (s *Store) PruneBuildCache(opts CachePruneOptions) (*Removal, error) {
	// The build lock before the write lock: builds take them in that order.
	bl, err := flock(filepath.Join(s.opts.Root, buildLockFile), syscall.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer bl.Close()
	unlock, err := s.lockWrite()
	if err != nil {
		return nil, err
	}
	defer unlock()
	imgs, err := s.cs.Images()
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	layers, err := s.layerIndex()
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	var entries []*cstorage.Image
	for i := range imgs {
		if isCacheRecord(&imgs[i]) {
			entries = append(entries, &imgs[i])
			continue
		}
		for id := imgs[i].TopLayer; id != ""; {
			used[id] = true
			l, ok := layers[id]
			if !ok {
				break
			}
			id = l.Parent
		}
	}
	// Oldest first, so that --keep-storage keeps the newest.
	sort.Slice(entries, func(a, b int) bool { return entries[a].Created.Before(entries[b].Created) })
	var unusedSize int64
	for _, e := range entries {
		if l, ok := layers[e.TopLayer]; ok && !used[e.TopLayer] && cacheEntryOf(e).Layer != "" {
			unusedSize += l.UncompressedSize
		}
	}
	r := &Removal{}
	for _, e := range entries {
		entry := cacheEntryOf(e)
		if !opts.All && entry.Layer != "" && used[entry.Layer] {
			continue
		}
		if !opts.Until.IsZero() && !e.Created.Before(opts.Until) {
			continue
		}
		if opts.KeepStorage > 0 && unusedSize <= opts.KeepStorage {
			break
		}
		deleted, err := s.cs.DeleteImage(e.ID, true)
		if err != nil && !errors.Is(err, cstorage.ErrImageUnknown) {
			return r, fmt.Errorf("removing build cache entry %s: %w", short(e.ID), err)
		}
		r.Deleted = append(r.Deleted, e.ID)
		for _, id := range deleted {
			if l, ok := layers[id]; ok {
				r.Reclaimed += l.UncompressedSize
				if !used[id] {
					unusedSize -= l.UncompressedSize
				}
			}
		}
	}
	if opts.All {
		for _, d := range []string{"mounts", notesDir} {
			p := filepath.Join(s.cacheDir(), d)
			r.Reclaimed += dirSize(p)
			if err := os.RemoveAll(p); err != nil {
				return r, fmt.Errorf("removing %s: %w", p, err)
			}
		}
	}
	return r, nil
}

// dirSize adds up the sizes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

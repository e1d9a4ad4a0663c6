package storage

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/burrow-oci/burrow/storage/atomicfile"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The blob record remembers, for a layer's content (its diff ID), the
// compressed blobs it was pulled as or pushed as, and where: a push can
// then ask the registry for a blob by digest (HEAD) or mount it from
// another repository without compressing the layer again. It is a cache:
// losing it costs one compression, and a wrong entry costs one HEAD.
//
// Pulls and pushes of several processes update it side by side, so an
// update reads, changes and writes the file under blobRecordLock: without
// it, two updates that read the same content would each write back only
// their own additions, and one would be lost.
const (
	blobRecordFile = "registry-blobs.json"
	blobRecordLock = "registry-blobs.lock"
	// blobWhereMax bounds the places remembered for one blob (the newest
	// are kept).
	blobWhereMax = 16
)

// LayerBlob is one compressed form of a layer.
type LayerBlob struct {
	// DiffID is the layer's uncompressed content, which the record is
	// keyed by (not stored inside an entry).
	DiffID    v1.Hash         `json:"-"`
	Digest    v1.Hash         `json:"digest"`
	Size      int64           `json:"size"`
	MediaType types.MediaType `json:"mediaType"`
	// Where lists "registry/repository" names that hold the blob.
	Where []string `json:"where,omitempty"`
}

// BlobRecord is the store's record of the compressed blobs of its layers
// (registry-blobs.json in the store's directory).
type BlobRecord struct {
	dir string
}

// BlobRecord returns the store's blob record.
func (s *Store) BlobRecord() BlobRecord { return BlobRecord{dir: s.opts.Root} }

// Load returns the blobs known for each diff ID (by its string form). A
// missing or unreadable record is an empty one. It takes no lock: the file
// is only ever replaced whole.
func (r BlobRecord) Load() map[string][]LayerBlob {
	rec := map[string][]LayerBlob{}
	data, err := os.ReadFile(filepath.Join(r.dir, blobRecordFile))
	if err == nil {
		_ = json.Unmarshal(data, &rec)
	}
	for id, list := range rec {
		h, err := v1.NewHash(id)
		if err != nil {
			continue
		}
		for i := range list {
			list[i].DiffID = h
		}
	}
	return rec
}

// Add records that each blob (its DiffID, Digest, Size and MediaType; its
// Where is ignored) is held at where ("registry/repository"). It reads,
// changes and writes the record under a lock, so concurrent Adds, in one
// process or several, all land; the file is replaced atomically, so Load
// never sees a part of it. It writes nothing when nothing is new. An error
// costs only speed later: callers may ignore it.
func (r BlobRecord) Add(where string, blobs []LayerBlob) error {
	lock, err := flock(filepath.Join(r.dir, blobRecordLock), syscall.LOCK_EX)
	if err != nil {
		return err
	}
	defer lock.Close()
	rec := r.Load()
	changed := false
	for _, b := range blobs {
		changed = addBlob(rec, b, where) || changed
	}
	if !changed {
		return nil
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", blobRecordFile, err)
	}
	// Unsynced: the record is a cache.
	return atomicfile.Write(filepath.Join(r.dir, blobRecordFile), data, 0o600, atomicfile.NoSync)
}

// addBlob records that b is held at where, and reports whether that is
// news.
func addBlob(rec map[string][]LayerBlob, b LayerBlob, where string) bool {
	id := b.DiffID.String()
	list := rec[id]
	for i := range list {
		if list[i].Digest == b.Digest {
			for _, w := range list[i].Where {
				if w == where {
					return false
				}
			}
			list[i].Where = append(list[i].Where, where)
			if len(list[i].Where) > blobWhereMax {
				list[i].Where = list[i].Where[len(list[i].Where)-blobWhereMax:]
			}
			return true
		}
	}
	b.Where = []string{where}
	rec[id] = append(list, b)
	return true
}

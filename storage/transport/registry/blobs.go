package registry

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/burrow-oci/burrow/storage"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The blob record remembers, for a layer's content (its diff ID), the
// compressed blobs it was pulled as or pushed as, and where: a push can
// then ask the registry for a blob by digest (HEAD) or mount it from
// another repository without compressing the layer again. It is a cache:
// losing it costs one compression, and a wrong entry costs one HEAD.

// blobFile is the record's file, in the store's directory.
const blobFile = "registry-blobs.json"

// knownBlob is one compressed form of a layer.
type knownBlob struct {
	Digest    v1.Hash         `json:"digest"`
	Size      int64           `json:"size"`
	MediaType types.MediaType `json:"mediaType"`
	// Where lists "registry/repository" names that hold the blob.
	Where []string `json:"where,omitempty"`
}

type blobRecord map[string][]knownBlob // diff ID -> blobs

func loadBlobs(st *storage.Store) blobRecord {
	rec := blobRecord{}
	data, err := os.ReadFile(filepath.Join(st.Root(), blobFile))
	if err == nil {
		_ = json.Unmarshal(data, &rec)
	}
	return rec
}

// add records that diffID is blob b in registry/repo, and reports
// whether that is news.
func (r blobRecord) add(diffID v1.Hash, b knownBlob, where string) bool {
	list := r[diffID.String()]
	for i := range list {
		if list[i].Digest == b.Digest {
			for _, w := range list[i].Where {
				if w == where {
					return false
				}
			}
			list[i].Where = append(list[i].Where, where)
			if len(list[i].Where) > 16 {
				list[i].Where = list[i].Where[len(list[i].Where)-16:]
			}
			return true
		}
	}
	b.Where = []string{where}
	r[diffID.String()] = append(list, b)
	return true
}

// save writes the record atomically; failures only cost speed later.
func (r blobRecord) save(st *storage.Store) {
	data, err := json.Marshal(r)
	if err != nil {
		return
	}
	path := filepath.Join(st.Root(), blobFile)
	tmp, err := os.CreateTemp(st.Root(), blobFile+".*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
	}
}

// recordBlobs remembers the blobs of a pulled image.
func recordBlobs(st *storage.Store, host, repo string, layers []v1.Descriptor, diffIDs []v1.Hash) {
	rec := loadBlobs(st)
	changed := false
	for i, l := range layers {
		changed = rec.add(diffIDs[i], knownBlob{Digest: l.Digest, Size: l.Size, MediaType: l.MediaType}, host+"/"+repo) || changed
	}
	if changed {
		rec.save(st)
	}
}

// isZstd says whether a layer media type is zstd-compressed.
func isZstd(mt types.MediaType) bool {
	return mt == types.OCILayerZStd || mt == "application/vnd.docker.image.rootfs.diff.tar.zstd"
}

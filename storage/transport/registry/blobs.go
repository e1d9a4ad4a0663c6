package registry

import (
	"log/slog"

	"github.com/burrow-oci/burrow/storage"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// recordBlobs tells the store's blob record (storage.BlobRecord) that the
// layers of diffIDs are the blobs of layers at host/repo, so that a later
// push can skip or mount them. The record is a cache: failing to update it
// costs only speed, so the error is logged, not returned.
func recordBlobs(st *storage.Store, host, repo string, layers []v1.Descriptor, diffIDs []v1.Hash, log *slog.Logger) {
	blobs := make([]storage.LayerBlob, len(layers))
	for i, l := range layers {
		blobs[i] = storage.LayerBlob{DiffID: diffIDs[i], Digest: l.Digest, Size: l.Size, MediaType: l.MediaType}
	}
	if err := st.BlobRecord().Add(host+"/"+repo, blobs); err != nil {
		log.Debug("recording layer blobs", "err", err)
	}
}

// isZstd says whether a layer media type is zstd-compressed.
func isZstd(mt types.MediaType) bool {
	return mt == types.OCILayerZStd || mt == "application/vnd.docker.image.rootfs.diff.tar.zstd"
}

package storage

import (
	"crypto/sha256"
	"encoding/hex"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The digests and the manifest of an image are computed here alone: the
// store records them (createImage, commit, import), and storage/transport
// describes stored images to archives and registries with the same bytes.

// SHA256 is the sha256 digest of b, as go-containerregistry spells it.
func SHA256(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// Manifest is the schema 2 manifest of media type mt for the image whose
// config is config and whose layers are layers (kept as given: a nil slice
// encodes as null, an empty one as []). mt is types.OCIManifestSchema1,
// whose config is an OCI config, or types.DockerManifestSchema2, whose
// config is Docker's. Its encoding, and so its digest, is the caller's.
func Manifest(mt types.MediaType, config []byte, layers []v1.Descriptor) v1.Manifest {
	configType := types.OCIConfigJSON
	if mt == types.DockerManifestSchema2 {
		configType = types.DockerConfigJSON
	}
	return v1.Manifest{
		SchemaVersion: 2,
		MediaType:     mt,
		Config:        v1.Descriptor{MediaType: configType, Size: int64(len(config)), Digest: SHA256(config)},
		Layers:        layers,
	}
}

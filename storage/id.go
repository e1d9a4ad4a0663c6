package storage

import (
	"crypto/rand"
	"encoding/hex"
)

// IDs are made here alone: every layer that names something new (a
// container, a volume, a layer, a build step's sandbox) asks NewID, and
// every layer that names an image by its config asks ImageID.

// NewID is a new random ID: 64 hex digits, as Docker gives containers,
// anonymous volumes and layers.
func NewID() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// ImageID is the ID of the image whose config is config: the hex sha256 of
// its bytes, as Docker and the OCI image spec name images.
func ImageID(config []byte) string { return SHA256(config).Hex }

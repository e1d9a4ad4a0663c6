// Package cachekey holds the build cache's key function. A step's key is a
// pure function of its parent's key, the step's normalised instruction and
// the digests of its inputs: it is computed before any work, so that a
// build says whether a step is cached before doing anything slow.
package cachekey

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// version changes when the meaning of keys changes, so that old entries
// stop matching instead of being misread.
const version = "burrow-cache-v1"

// Key returns the key (64 hex digits) of a step whose parent has the key
// parent and which is described by parts: the instruction, normalised and
// expanded, then each input's digest. Parts are length-prefixed, so that
// no two different lists hash alike.
func Key(parent string, parts ...string) string {
	h := sha256.New()
	var n [8]byte
	write := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	write(version)
	write(parent)
	for _, p := range parts {
		write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Base is the key of a stage's starting point: an image's ID, or "scratch".
func Base(imageID, platform string) string {
	return Key("", "FROM", imageID, platform)
}

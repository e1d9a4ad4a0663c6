// Package copier implements the file side of Dockerfile COPY and ADD: it
// selects sources from a build context or another stage's root filesystem,
// digests them for the build cache key, and writes the layer as a tar stream
// that reproduces what BuildKit's COPY leaves in the image.
//
// The semantics follow BuildKit (frontend/dockerfile/dockerfile2llb
// convert_copy.go and tonistiigi/fsutil copy/copy.go), not the classic
// builder, except where a doc comment says otherwise.
package copier

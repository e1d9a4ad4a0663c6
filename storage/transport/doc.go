// Package transport moves images in and out of the store through
// go-containerregistry: registries (pull, push, login, search) and archives
// (save and load of docker-archive, oci-archive and OCI layout
// directories).
//
// Images cross the package's boundary as raw config bytes and uncompressed
// layer tar streams (storage.Store.ImageLayers, OpenLayer and PutImage), so
// an image's ID, the sha256 of its config, is the same on both sides. The
// package imports storage and libraries only.
package transport

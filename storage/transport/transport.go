// Package transport moves images in and out of the store through
// go-containerregistry. Its subpackages do the work: registry (pull, push,
// login, search) and archive (save and load of docker-archive, oci-archive
// and OCI layout directories). This package holds only what both share, the
// progress events, and the Printer that shows them as Docker does.
//
// Images cross the layer's boundary as raw config bytes and uncompressed
// layer tar streams (storage.Store.ImageLayers, OpenLayer and PutImage), so
// an image's ID, the sha256 of its config, is the same on both sides. The
// packages import storage and libraries only.
package transport

// Progress is one step of a pull, a push or a load, for display. The
// statuses are Docker's words, so that output matches what `docker pull`,
// `docker push` and `docker load` print: for layers "Pulling fs layer",
// "Downloading", "Download complete", "Pull complete", "Already exists",
// "Preparing", "Pushing", "Pushed", "Layer already exists", "Mounted from
// REPO", "Loading layer".
type Progress struct {
	// ID is the layer's short digest (12 hex digits).
	ID     string
	Status string
	// Current and Total count bytes, for "Downloading", "Pushing" and
	// "Loading layer".
	Current, Total int64
}

package storage

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/storage/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	cstorage "go.podman.io/storage"
)

// Big-data keys under which an image's documents are stored, as podman
// stores them: the manifest under "manifest", the config under its digest.
const manifestKey = "manifest"

func configKey(id string) string { return "sha256:" + id }

// Image is a stored image, as listed.
type Image struct {
	ID      string    // 64 hex digits: the sha256 of the config
	Names   []string  // full names ("docker.io/library/busybox:latest")
	Digests []string  // manifest digests recorded by pull or push
	Created time.Time // the config's creation time
	Size    int64     // uncompressed size of all its layers
	// TopLayer is the layer that holds the image's filesystem.
	TopLayer string
	// Layers lists the image's layer IDs from the base up.
	Layers []string
}

// Dangling reports whether the image has no name.
func (i *Image) Dangling() bool { return len(i.Names) == 0 }

// Images lists every image, newest first, with sizes from the layer
// records (no layer is read).
func (s *Store) Images() ([]Image, error) {
	imgs, err := s.cs.Images()
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	layers, err := s.layerIndex()
	if err != nil {
		return nil, err
	}
	out := make([]Image, 0, len(imgs))
	for i := range imgs {
		if isCacheRecord(&imgs[i]) {
			continue
		}
		out = append(out, s.imageFrom(&imgs[i], layers))
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Created.After(out[b].Created) })
	return out, nil
}

func (s *Store) layerIndex() (map[string]*cstorage.Layer, error) {
	ls, err := s.cs.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	m := make(map[string]*cstorage.Layer, len(ls))
	for i := range ls {
		m[ls[i].ID] = &ls[i]
	}
	return m, nil
}

func (s *Store) imageFrom(ci *cstorage.Image, layers map[string]*cstorage.Layer) Image {
	img := Image{ID: ci.ID, Created: ci.Created, TopLayer: ci.TopLayer}
	for _, n := range ci.Names {
		// A name holding a digest records where the image came from: Docker
		// shows it under RepoDigests, not as a tag.
		if strings.Contains(n, "@") {
			img.Digests = append(img.Digests, n)
			continue
		}
		img.Names = append(img.Names, n)
	}
	var chain []string
	for id := ci.TopLayer; id != ""; {
		l, ok := layers[id]
		if !ok {
			break
		}
		chain = append(chain, id)
		img.Size += l.UncompressedSize
		id = l.Parent
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	img.Layers = chain
	return img
}

// NotFoundError is an image reference that matches no image.
type NotFoundError struct{ Ref string }

func (e *NotFoundError) Error() string { return "No such image: " + e.Ref }

// Is makes errors.Is(err, ErrImageUnknown) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrImageUnknown }

// Lookup finds the image a user means by ref: a name (short or full, with
// tag or digest), a full ID (with or without "sha256:"), or a unique ID
// prefix. It returns a *NotFoundError or ErrAmbiguousID when it cannot.
func (s *Store) Lookup(ref string) (*Image, error) {
	imgs, err := s.Images()
	if err != nil {
		return nil, err
	}
	return lookupIn(imgs, ref)
}

func lookupIn(imgs []Image, ref string) (*Image, error) {
	// A name comes first, as in Docker: an image may be called "abc".
	full, nameErr := reference.Normalize(ref)
	if nameErr == nil {
		for i := range imgs {
			for _, n := range imgs[i].Names {
				if n == full {
					return &imgs[i], nil
				}
			}
			for _, d := range imgs[i].Digests {
				if d == full {
					return &imgs[i], nil
				}
			}
		}
	}
	hex := strings.TrimPrefix(ref, "sha256:")
	if isHex(hex) {
		var found *Image
		for i := range imgs {
			if strings.HasPrefix(imgs[i].ID, hex) {
				if found != nil && found.ID != imgs[i].ID {
					return nil, fmt.Errorf("%w: %q matches %s and %s (hint: give more digits of the ID)", ErrAmbiguousID, ref, found.ID[:12], imgs[i].ID[:12])
				}
				found = &imgs[i]
			}
		}
		if found != nil {
			return found, nil
		}
		if len(hex) == 64 || strings.HasPrefix(ref, "sha256:") {
			return nil, &NotFoundError{Ref: ref}
		}
	}
	if nameErr != nil {
		return nil, nameErr
	}
	return nil, &NotFoundError{Ref: reference.Short(full)}
}

func isHex(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Config reads an image's config.
func (s *Store) Config(id string) (*v1.ConfigFile, error) {
	data, err := s.cs.ImageBigData(id, configKey(id))
	if err != nil {
		return nil, fmt.Errorf("reading the config of image %s: %w", short(id), err)
	}
	var c v1.ConfigFile
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("decoding the config of image %s: %w", short(id), err)
	}
	return &c, nil
}

// RawConfig reads an image's config exactly as stored.
func (s *Store) RawConfig(id string) ([]byte, error) {
	return s.cs.ImageBigData(id, configKey(id))
}

// Manifest reads an image's manifest as stored.
func (s *Store) Manifest(id string) ([]byte, error) {
	return s.cs.ImageBigData(id, manifestKey)
}

// layerSizes returns the uncompressed size of each of the image's layers,
// from the base up.
func (s *Store) layerSizes(img *Image) ([]int64, error) {
	layers, err := s.layerIndex()
	if err != nil {
		return nil, err
	}
	sizes := make([]int64, len(img.Layers))
	for i, id := range img.Layers {
		if l, ok := layers[id]; ok {
			sizes[i] = l.UncompressedSize
		}
	}
	return sizes, nil
}

// containerImages maps the ID of every container, of both kinds, to its
// image's ID, without decoding the containers' configs.
func (s *Store) containerImages() (map[string]string, error) {
	cs, err := s.cs.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	eph, err := s.ephemeralContainers()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(cs)+len(eph))
	for _, c := range cs {
		out[c.ID] = c.ImageID
	}
	for _, c := range eph {
		out[c.ID] = c.ImageID
	}
	return out, nil
}

// containersUsing lists the IDs of containers created from the image.
func (s *Store) containersUsing(id string) ([]string, error) {
	all, err := s.containerImages()
	if err != nil {
		return nil, err
	}
	var out []string
	for c, img := range all {
		if img == id {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out, nil
}

// ContainerCount is the number of containers in the store.
func (s *Store) ContainerCount() (int, error) {
	all, err := s.containerImages()
	return len(all), err
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

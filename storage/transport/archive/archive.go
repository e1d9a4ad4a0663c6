// Package archive saves images from the store to archives and loads them
// back: docker-archive (what docker save writes), oci-archive and OCI
// layout directories. Load takes any of them, compressed or not, from a
// file or a stream.
package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Format is an archive format that Save writes.
type Format string

// The formats Save writes; Load reads all of them and detects which.
const (
	// DockerArchive is what `docker save` writes: manifest.json (Config,
	// RepoTags, Layers), the configs, and one uncompressed tar per layer.
	DockerArchive Format = "docker-archive"
	// OCIArchive is a tar of an OCI image layout.
	OCIArchive Format = "oci-archive"
	// OCIDir is an OCI image layout as a directory.
	OCIDir Format = "oci-dir"
)

// Annotations of an OCI index entry that name the image: the OCI one
// holds the tag, as Docker writes it, and containerd's the full name.
const (
	annotationRefName   = "org.opencontainers.image.ref.name"
	annotationImageName = "io.containerd.image.name"
)

// ErrUnknownFormat is a format name Save does not know.
var ErrUnknownFormat = errors.New("unknown archive format")

// ParseFormat reads a format name ("" is DockerArchive).
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case "", DockerArchive:
		return DockerArchive, nil
	case OCIArchive, OCIDir:
		return Format(s), nil
	}
	return "", fmt.Errorf("%w %q (hint: use docker-archive, oci-archive or oci-dir)", ErrUnknownFormat, s)
}

// SaveOptions say what Save writes and where.
type SaveOptions struct {
	Format Format // "" is DockerArchive
	// Output receives a DockerArchive or OCIArchive.
	Output io.Writer
	// Dir is the directory an OCIDir layout is written to (created when
	// missing; an existing layout gets the images added, replacing those
	// with the same tag). It is written beside Dir and put in place once
	// complete: a failed or interrupted save leaves Dir as it was.
	Dir string
}

// saved is one image to write and the full names it is saved under.
type saved struct {
	img   *storage.Image
	names []string
}

// Save writes the images that refs name (names, IDs or ID prefixes, as
// the user typed them) to one archive. A name saves that tag; a name
// without a tag saves every tag of its repository, as `docker save`
// does; an ID saves the image untagged. A ref that names nothing is a
// *storage.NotFoundError. Layers are streamed from the store, one at a
// time, each written once however many images share it.
func Save(ctx context.Context, st *storage.Store, refs []string, opts SaveOptions) error {
	list, err := resolveSave(st, refs)
	if err != nil {
		return err
	}
	images := make([]*storedImage, len(list))
	for i, s := range list {
		if images[i], err = newStoredImage(ctx, st, s.img); err != nil {
			return err
		}
	}
	switch opts.Format {
	case "", DockerArchive:
		return saveDocker(list, images, opts.Output)
	case OCIArchive:
		return saveOCIArchive(list, images, opts.Output)
	case OCIDir:
		return writeOCIDir(ctx, list, images, opts.Dir)
	}
	return fmt.Errorf("%w %q", ErrUnknownFormat, opts.Format)
}

// resolveSave turns refs into images and the names to save them under,
// each image once, in the order first named.
func resolveSave(st *storage.Store, refs []string) ([]saved, error) {
	imgs, err := st.Images()
	if err != nil {
		return nil, err
	}
	var out []saved
	index := map[string]int{}
	add := func(img *storage.Image, name string) {
		i, ok := index[img.ID]
		if !ok {
			i = len(out)
			index[img.ID] = i
			out = append(out, saved{img: img})
		}
		if name != "" && !slices.Contains(out[i].names, name) {
			out[i].names = append(out[i].names, name)
		}
	}
	for _, ref := range refs {
		if repoOnly(ref) {
			found := false
			if full, err := reference.Normalize(ref); err == nil {
				repo := reference.Repository(full)
				for i := range imgs {
					for _, n := range imgs[i].Names {
						if reference.Repository(n) == repo {
							add(&imgs[i], n)
							found = true
						}
					}
				}
			}
			if found {
				continue
			}
		}
		img, err := st.Lookup(ref)
		if err != nil {
			return nil, err
		}
		name := ""
		if full, err := reference.Normalize(ref); err == nil && slices.Contains(img.Names, full) {
			name = full
		}
		add(img, name)
	}
	return out, nil
}

// repoOnly reports whether ref is a name with neither tag nor digest.
func repoOnly(ref string) bool {
	last := ref[strings.LastIndex(ref, "/")+1:]
	return !strings.ContainsAny(last, ":@")
}

// saveDocker writes a docker-archive with go-containerregistry's tarball
// writer: RepoTags in Docker's short form ("busybox:latest"), layers as
// <diffid>.tar, the config as sha256:<id>.
func saveDocker(list []saved, images []*storedImage, w io.Writer) error {
	refs := make(map[name.Reference]v1.Image)
	for i, s := range list {
		img, err := images[i].image()
		if err != nil {
			return err
		}
		if len(s.names) == 0 {
			// Any reference that is not a tag makes an entry without
			// RepoTags; the repository in it is never written.
			d, err := name.NewDigest("untagged@sha256:" + s.img.ID)
			if err != nil {
				return fmt.Errorf("internal error: %w", err)
			}
			refs[d] = img
		}
		for _, n := range s.names {
			t, err := name.NewTag(reference.Short(n))
			if err != nil {
				return fmt.Errorf("internal error: name %q: %w", n, err)
			}
			refs[t] = img
		}
	}
	if err := tarball.MultiRefWrite(refs, w); err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	return nil
}

// ociAnnotations name an image in an OCI index: its tag and its full name
// (none for "").
func ociAnnotations(full string) map[string]string {
	if full == "" {
		return nil
	}
	_, tag, _ := reference.Split(full)
	return map[string]string{annotationRefName: tag, annotationImageName: full}
}

// saveOCIDir writes an OCI layout directory with go-containerregistry's
// layout writer: one index entry per name (the tag in
// org.opencontainers.image.ref.name, as Docker writes it, and the full name
// in io.containerd.image.name), or one unnamed entry for an image saved by
// ID. Layers are uncompressed blobs.
// It writes into dir; shown is the directory named in errors.
func saveOCIDir(list []saved, images []*storedImage, dir, shown string) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return fmt.Errorf("creating the OCI layout %s: %w", shown, err)
		}
	}
	for i, s := range list {
		img, err := images[i].image()
		if err != nil {
			return err
		}
		names := s.names
		if len(names) == 0 {
			names = []string{""}
		}
		for _, n := range names {
			ann := ociAnnotations(n)
			if ann == nil {
				err = p.AppendImage(img)
			} else {
				err = p.ReplaceImage(img, match.Annotation(annotationImageName, n), layout.WithAnnotations(ann))
			}
			if err != nil {
				return fmt.Errorf("writing image %s to %s: %w", shortID(s.img.ID), shown, err)
			}
		}
	}
	return nil
}

// saveOCIArchive writes an OCI layout as a tar stream: oci-layout, the
// blobs (each once), then index.json. Layers are uncompressed blobs.
func saveOCIArchive(list []saved, images []*storedImage, w io.Writer) error {
	tw := tar.NewWriter(w)
	put := func(path string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: path, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	seen := map[v1.Hash]bool{}
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for i, s := range list {
		si := images[i]
		var m v1.Manifest
		if err := json.Unmarshal(si.manifest, &m); err != nil {
			return fmt.Errorf("internal error: %w", err)
		}
		for _, d := range m.Layers {
			if seen[d.Digest] {
				continue
			}
			seen[d.Digest] = true
			if err := copyLayer(tw, si.layers[d.Digest]); err != nil {
				return err
			}
		}
		for _, blob := range [][]byte{si.config, si.manifest} {
			h, _, _ := v1.SHA256(bytes.NewReader(blob))
			if seen[h] {
				continue
			}
			seen[h] = true
			if err := put(blobPath(h), blob); err != nil {
				return fmt.Errorf("writing the archive: %w", err)
			}
		}
		h, _, _ := v1.SHA256(bytes.NewReader(si.manifest))
		desc := v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: int64(len(si.manifest)), Digest: h}
		if len(s.names) == 0 {
			index.Manifests = append(index.Manifests, desc)
		}
		for _, n := range s.names {
			d := desc
			d.Annotations = ociAnnotations(n)
			index.Manifests = append(index.Manifests, d)
		}
	}
	idx, err := json.Marshal(&index)
	if err != nil {
		return fmt.Errorf("internal error: %w", err)
	}
	if err := put("index.json", idx); err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	return nil
}

// copyLayer writes one layer as a blob entry, closing the store's stream
// as soon as it is copied.
func copyLayer(tw *tar.Writer, l *storedLayer) error {
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	err = tw.WriteHeader(&tar.Header{Name: blobPath(l.sl.DiffID), Mode: 0o644, Size: l.sl.Size, Typeflag: tar.TypeReg})
	if err == nil {
		_, err = io.Copy(tw, rc)
	}
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing layer %s to the archive: %w", l.sl.DiffID, err)
	}
	return nil
}

func blobPath(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

package archive

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/burrow-oci/burrow/storage/transport"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// LoadOptions say what Load reads.
type LoadOptions struct {
	// Path is a tar file (plain, gzip, zstd, xz or bzip2, detected by
	// content) or a directory (an OCI layout or an unpacked
	// docker-archive). "" reads Input.
	Path  string
	Input io.Reader
	// TempDir holds the decompressed copy of a compressed archive or of
	// Input, removed before Load returns; "" is os.TempDir().
	TempDir string
	// Loaded, if set, is told about each image as soon as it is stored.
	Loaded func(LoadedImage)
	// Progress, if set, is told how much of each layer the store has
	// read ("Loading layer").
	Progress func(transport.Progress)
}

// LoadedImage is an image Load stored.
type LoadedImage struct {
	ID    string
	Names []string // the full names it was given, as recorded
	// Moved are the names that another image held before (Docker says
	// "renaming the old one ... to empty string"): full name -> that
	// image's ID.
	Moved map[string]string
}

// hintLoad ends the errors about input that is not what load reads.
const hintLoad = " (hint: load takes what docker save or burrow save writes)"

// incoming is an image read from an archive's metadata, not yet stored.
type incoming struct {
	config []byte
	layers []incomingBlob
	names  []string // full names
}

// incomingBlob is a layer's file in the archive and the digests to check.
type incomingBlob struct {
	path   string
	diffID v1.Hash
	digest *v1.Hash // the blob's own digest, checked while reading (OCI)
}

// Load stores every image of a docker-archive, an OCI archive or an OCI
// layout directory. Every image's metadata is read and checked before the
// first layer is written, so that a bad manifest changes nothing; a layer
// whose content does not match its digest is removed and fails the load
// (a *storage.LayerMismatchError, or a *DigestError for an OCI blob).
// Names move from the images that had them, as in Docker.
func Load(ctx context.Context, st *storage.Store, opts LoadOptions) ([]LoadedImage, error) {
	what := opts.Path
	if what == "" {
		what = "stdin"
	}
	tmp := opts.TempDir
	if tmp == "" {
		tmp = os.TempDir()
	}
	src, err := openSource(opts.Path, opts.Input, tmp)
	if err != nil {
		return nil, sourceError(what, err)
	}
	defer src.close()
	images, err := readArchive(src)
	if err != nil {
		return nil, sourceError(what, err)
	}
	var out []LoadedImage
	for _, in := range images {
		// The store may report a reader's error only as text (it unpacks
		// in a child process): a digest mismatch is taken from here.
		var verifiers []*verifyReader
		layers := make([]storage.IncomingLayer, len(in.layers))
		for i, b := range in.layers {
			layers[i] = storage.IncomingLayer{DiffID: b.diffID, Open: func(context.Context) (io.ReadCloser, error) {
				rc, size, err := src.open(b.path)
				if err != nil {
					return nil, fmt.Errorf("opening layer %d (%s): %w", i+1, b.path, err)
				}
				// Reads in large blocks: the store reads a tar header (512
				// bytes) at a time, and each read of the archive is a pread.
				rc = readCloser{Reader: bufio.NewReaderSize(rc, 1<<20), Closer: rc}
				if opts.Progress != nil {
					rc = &loadProgress{ReadCloser: rc, id: b.diffID.Hex[:12], total: size, report: opts.Progress}
				}
				if b.digest != nil {
					v := &verifyReader{rc: rc, h: sha256.New(), want: *b.digest}
					verifiers = append(verifiers, v)
					return v, nil
				}
				return rc, nil
			}}
		}
		moved := namesHeldElsewhere(st, in)
		img, err := st.PutImage(ctx, storage.IncomingImage{Config: in.config, Layers: layers, Names: in.names})
		if err != nil {
			for _, v := range verifiers {
				if v.bad != nil {
					err = v.bad
				}
			}
			return out, fmt.Errorf("loading %s: %w", what, err)
		}
		li := LoadedImage{ID: img.ID, Names: in.names, Moved: moved}
		out = append(out, li)
		if opts.Loaded != nil {
			opts.Loaded(li)
		}
	}
	return out, nil
}

// namesHeldElsewhere lists the names of in that another image holds now.
func namesHeldElsewhere(st *storage.Store, in incoming) map[string]string {
	id := storage.ImageID(in.config)
	var moved map[string]string
	for _, n := range in.names {
		if img, err := st.Lookup(n); err == nil && img.ID != id {
			if moved == nil {
				moved = map[string]string{}
			}
			moved[n] = img.ID
		}
	}
	return moved
}

// sourceError words an error about the input for the user.
func sourceError(what string, err error) error {
	switch {
	case errors.Is(err, ErrTruncated):
		return fmt.Errorf("open %s: %w (hint: make or download the archive again)", what, err)
	case errors.Is(err, os.ErrNotExist) && !errors.Is(err, ErrNotArchive):
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Path == what {
			return fmt.Errorf("open %s: %w", what, pe.Err)
		}
		return fmt.Errorf("open %s: %w%s", what, err, hintLoad)
	case errors.Is(err, ErrNotArchive):
		return fmt.Errorf("open %s: %w%s", what, err, hintLoad)
	}
	return fmt.Errorf("open %s: %w", what, err)
}

// readArchive reads the images an archive holds: manifest.json (a
// docker-archive; Docker 25 and later also write an OCI layout beside it)
// or else index.json (an OCI layout).
func readArchive(src source) ([]incoming, error) {
	truncated := false
	if t, ok := src.(*tarSource); ok {
		truncated = t.truncated
	}
	var (
		images []incoming
		err    error
	)
	switch {
	case src.has("manifest.json"):
		images, err = readDockerArchive(src)
	case src.has("index.json"):
		images, err = readOCILayout(src)
	case truncated && len(src.(*tarSource).entries) > 0:
		return nil, ErrTruncated
	default:
		return nil, fmt.Errorf("%w: it has neither manifest.json nor index.json", ErrNotArchive)
	}
	if err != nil && truncated && errors.Is(err, os.ErrNotExist) {
		return nil, ErrTruncated
	}
	return images, err
}

// dockerManifestEntry is one image of a docker-archive's manifest.json.
type dockerManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// parseDockerManifest reads a docker-archive's manifest.json.
func parseDockerManifest(data []byte) ([]dockerManifestEntry, error) {
	var m []dockerManifestEntry
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest.json does not parse: %v", ErrNotArchive, err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%w: manifest.json lists no image", ErrNotArchive)
	}
	for i, e := range m {
		if e.Config == "" {
			return nil, fmt.Errorf("%w: image %d in manifest.json has no Config", ErrNotArchive, i+1)
		}
		for _, l := range e.Layers {
			if l == "" {
				return nil, fmt.Errorf("%w: image %d in manifest.json has an empty layer path", ErrNotArchive, i+1)
			}
		}
	}
	return m, nil
}

func readDockerArchive(src source) ([]incoming, error) {
	data, err := readSmall(src, "manifest.json", 64<<20)
	if err != nil {
		return nil, err
	}
	entries, err := parseDockerManifest(data)
	if err != nil {
		return nil, err
	}
	out := make([]incoming, 0, len(entries))
	for _, e := range entries {
		config, err := readSmall(src, e.Config, 64<<20)
		if err != nil {
			return nil, err
		}
		in, err := newIncoming(config, len(e.Layers))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Config, err)
		}
		for i, l := range e.Layers {
			if !src.has(l) {
				return nil, fmt.Errorf("layer %s: %w", l, os.ErrNotExist)
			}
			in.layers[i].path = l
		}
		if in.names, err = fullNames(e.RepoTags); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// newIncoming checks a config and makes room for its layers.
func newIncoming(config []byte, layers int) (incoming, error) {
	var cfg v1.ConfigFile
	if err := json.Unmarshal(config, &cfg); err != nil {
		return incoming{}, fmt.Errorf("%w: the image config does not parse: %v", ErrNotArchive, err)
	}
	if len(cfg.RootFS.DiffIDs) != layers {
		return incoming{}, fmt.Errorf("the image config lists %d layers, the archive has %d (hint: the archive is corrupt)", len(cfg.RootFS.DiffIDs), layers)
	}
	in := incoming{config: config, layers: make([]incomingBlob, layers)}
	for i, d := range cfg.RootFS.DiffIDs {
		in.layers[i].diffID = d
	}
	return in, nil
}

// fullNames normalises the names an archive gives an image.
func fullNames(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		full, err := reference.Normalize(n)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, full) {
			out = append(out, full)
		}
	}
	return out, nil
}

func readSmall(src source, name string, max int64) ([]byte, error) {
	rc, size, err := src.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > max {
		return nil, fmt.Errorf("%w: %s is %d bytes, too big for a manifest or config", ErrNotArchive, name, size)
	}
	data, err := io.ReadAll(io.LimitReader(rc, max))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return data, nil
}

// readBlob reads a small blob of an OCI layout and checks its digest.
func readBlob(src source, d v1.Descriptor) ([]byte, error) {
	data, err := readSmall(src, blobPath(d.Digest), 64<<20)
	if err != nil {
		return nil, err
	}
	if h, _, _ := v1.SHA256(bytes.NewReader(data)); h != d.Digest {
		return nil, &DigestError{Path: blobPath(d.Digest), Want: d.Digest.String(), Have: h.String()}
	}
	return data, nil
}

// readOCILayout reads index.json and the images it lists (an index
// nested in it gives the host platform's image).
func readOCILayout(src source) ([]incoming, error) {
	data, err := readSmall(src, "index.json", 64<<20)
	if err != nil {
		return nil, err
	}
	var index v1.IndexManifest
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("%w: index.json does not parse: %v", ErrNotArchive, err)
	}
	if len(index.Manifests) == 0 {
		return nil, fmt.Errorf("%w: index.json lists no image", ErrNotArchive)
	}
	var out []incoming
	byManifest := map[v1.Hash]int{}
	for _, d := range index.Manifests {
		names, err := fullNames(ociNames(d.Annotations))
		if err != nil {
			return nil, err
		}
		md, err := pickManifest(src, d)
		if err != nil {
			return nil, err
		}
		if i, ok := byManifest[md.Digest]; ok {
			out[i].names = append(out[i].names, names...)
			continue
		}
		in, err := readOCIImage(src, md)
		if err != nil {
			return nil, err
		}
		in.names = names
		byManifest[md.Digest] = len(out)
		out = append(out, in)
	}
	return out, nil
}

// ociNames is the name an index entry gives its image: containerd's full
// name, else org.opencontainers.image.ref.name when it is a name rather
// than a bare tag (which names no repository, so the image is loaded
// untagged, as Docker does).
func ociNames(ann map[string]string) []string {
	if n := ann[annotationImageName]; n != "" {
		return []string{n}
	}
	if n := ann[annotationRefName]; strings.ContainsAny(n, "/:") {
		return []string{n}
	}
	return nil
}

func isIndex(mt types.MediaType) bool {
	return mt == types.OCIImageIndex || mt == types.DockerManifestList
}

// pickManifest follows an index entry to an image manifest: itself, or
// the host platform's entry of a nested index.
func pickManifest(src source, d v1.Descriptor) (v1.Descriptor, error) {
	for depth := 0; isIndex(d.MediaType); depth++ {
		if depth > 4 {
			return v1.Descriptor{}, fmt.Errorf("%w: indexes nested too deep", ErrNotArchive)
		}
		data, err := readBlob(src, d)
		if err != nil {
			return v1.Descriptor{}, err
		}
		var idx v1.IndexManifest
		if err := json.Unmarshal(data, &idx); err != nil {
			return v1.Descriptor{}, fmt.Errorf("%w: index %s does not parse: %v", ErrNotArchive, d.Digest, err)
		}
		found := false
		var platforms []string
		for _, m := range idx.Manifests {
			if m.Platform == nil || (m.Platform.OS == runtime.GOOS && m.Platform.Architecture == runtime.GOARCH) {
				d, found = m, true
				break
			}
			platforms = append(platforms, m.Platform.OS+"/"+m.Platform.Architecture)
		}
		if !found {
			return v1.Descriptor{}, fmt.Errorf("the archive has no image for %s/%s, only for %s", runtime.GOOS, runtime.GOARCH, strings.Join(platforms, ", "))
		}
	}
	return d, nil
}

func readOCIImage(src source, md v1.Descriptor) (incoming, error) {
	data, err := readBlob(src, md)
	if err != nil {
		return incoming{}, err
	}
	var m v1.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return incoming{}, fmt.Errorf("%w: manifest %s does not parse: %v", ErrNotArchive, md.Digest, err)
	}
	config, err := readBlob(src, m.Config)
	if err != nil {
		return incoming{}, err
	}
	in, err := newIncoming(config, len(m.Layers))
	if err != nil {
		return incoming{}, fmt.Errorf("manifest %s: %w", md.Digest, err)
	}
	for i, l := range m.Layers {
		p := blobPath(l.Digest)
		if !src.has(p) {
			return incoming{}, fmt.Errorf("layer %d, %s: %w", i+1, p, os.ErrNotExist)
		}
		d := l.Digest
		in.layers[i].path, in.layers[i].digest = p, &d
	}
	return in, nil
}

// DigestError is a blob whose content does not have its digest.
type DigestError struct {
	Path       string
	Want, Have string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("%s has digest %s, not %s (hint: the archive is corrupt; make it again)", e.Path, e.Have, e.Want)
}

// verifyReader checks a blob's digest as it is read: the read that
// reaches the end fails when it does not match.
type verifyReader struct {
	rc   io.ReadCloser
	h    hash.Hash
	want v1.Hash
	bad  *DigestError // set when the end is reached and the digest differs
}

func (v *verifyReader) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		if have := fmt.Sprintf("%x", v.h.Sum(nil)); have != v.want.Hex {
			v.bad = &DigestError{Path: blobPath(v.want), Want: v.want.String(), Have: "sha256:" + have}
			return n, v.bad
		}
	}
	return n, err
}

func (v *verifyReader) Close() error { return v.rc.Close() }

type readCloser struct {
	io.Reader
	io.Closer
}

// loadProgress reports how much of a layer has been read.
type loadProgress struct {
	io.ReadCloser
	id     string
	n      int64
	total  int64
	report func(transport.Progress)
}

func (p *loadProgress) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	if n > 0 || p.n == 0 {
		p.n += int64(n)
		p.report(transport.Progress{ID: p.id, Status: "Loading layer", Current: p.n, Total: max(p.total, p.n)})
	}
	return n, err
}

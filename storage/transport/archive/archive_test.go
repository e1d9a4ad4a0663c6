package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/transport/internal/storetest"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestDetectCompression(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("x"))
	zw.Close()
	tests := []struct {
		name string
		head []byte
		want compression
	}{
		{"gzip", gz.Bytes(), gzipped},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00}, zstded},
		{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 0x00}, xzed},
		{"bzip2", []byte("BZh91AY&SY"), bzip2ed},
		{"bzip2 without a level is not bzip2", []byte("BZhx"), uncompressed},
		{"tar", append([]byte("manifest.json"), make([]byte, 500)...), uncompressed},
		{"short", []byte{0x1f}, uncompressed},
		{"empty", nil, uncompressed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detectCompression(tt.head); got != tt.want {
				t.Errorf("detectCompression = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseDockerManifest(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []dockerManifestEntry
		wantErr string
	}{
		{
			name: "docker save",
			in:   `[{"Config":"abc.json","RepoTags":["busybox:latest","busybox:1"],"Layers":["l1/layer.tar","blobs/sha256/22"]}]`,
			want: []dockerManifestEntry{{Config: "abc.json", RepoTags: []string{"busybox:latest", "busybox:1"}, Layers: []string{"l1/layer.tar", "blobs/sha256/22"}}},
		},
		{
			name: "untagged, no layers, unknown fields",
			in:   `[{"Config":"c","RepoTags":null,"Layers":[],"LayerSources":{}}]`,
			want: []dockerManifestEntry{{Config: "c", Layers: []string{}}},
		},
		{name: "not JSON", in: `{`, wantErr: "manifest.json does not parse"},
		{name: "an object", in: `{"Config":"c"}`, wantErr: "manifest.json does not parse"},
		{name: "empty", in: `[]`, wantErr: "lists no image"},
		{name: "no config", in: `[{"Layers":["a"]}]`, wantErr: "image 1 in manifest.json has no Config"},
		{name: "empty layer path", in: `[{"Config":"c","Layers":[""]}]`, wantErr: "empty layer path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDockerManifest([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrNotArchive) {
					t.Fatalf("err = %v, want one containing %q and ErrNotArchive", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOCINames(t *testing.T) {
	tests := []struct {
		ann  map[string]string
		want []string
	}{
		{map[string]string{annotationRefName: "latest", annotationImageName: "docker.io/library/busybox:latest"}, []string{"docker.io/library/busybox:latest"}},
		{map[string]string{annotationRefName: "localhost/app:1"}, []string{"localhost/app:1"}},
		{map[string]string{annotationRefName: "busybox:1"}, []string{"busybox:1"}},
		{map[string]string{annotationRefName: "latest"}, nil},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := ociNames(tt.ann); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ociNames(%v) = %v, want %v", tt.ann, got, tt.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": DockerArchive, "docker-archive": DockerArchive, "oci-archive": OCIArchive, "oci-dir": OCIDir} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("zip"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ParseFormat(zip): %v", err)
	}
}

func TestRepoOnly(t *testing.T) {
	for ref, want := range map[string]bool{"busybox": true, "localhost:5000/app": true, "busybox:1": false, "localhost:5000/app:1": false, "a@sha256:00": false} {
		if got := repoOnly(ref); got != want {
			t.Errorf("repoOnly(%q) = %v", ref, got)
		}
	}
}

// tarFile writes a tar of entries (name -> content; a content starting with
// "->" is a symbolic link, "=>" a hard link) and returns its path.
func tarFile(t *testing.T, entries [][2]string, end bool) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e[0], Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e[1]))}
		switch {
		case strings.HasPrefix(e[1], "->"):
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e[1][2:], 0
		case strings.HasPrefix(e[1], "=>"):
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, e[1][2:], 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte(e[1]))
		}
	}
	tw.Flush()
	data := buf.Bytes()
	if end {
		tw.Close()
		data = buf.Bytes()
	}
	p := filepath.Join(t.TempDir(), "a.tar")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTarSource(t *testing.T) {
	p := tarFile(t, [][2]string{
		{"./manifest.json", "[]"},
		{"abc/layer.tar", "layer bytes"},
		{"def/layer.tar", "->../abc/layer.tar"},
		{"ghi/layer.tar", "=>def/layer.tar"},
		{"loop", "->loop"},
	}, true)
	src, err := openSource(p, nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer src.close()
	for name, want := range map[string]string{"manifest.json": "[]", "/abc/layer.tar": "layer bytes", "def/layer.tar": "layer bytes", "ghi/layer.tar": "layer bytes"} {
		rc, size, err := src.open(name)
		if err != nil {
			t.Errorf("open %s: %v", name, err)
			continue
		}
		got, _ := io.ReadAll(rc)
		if string(got) != want || size != int64(len(want)) {
			t.Errorf("%s = %q (%d bytes), want %q", name, got, size, want)
		}
	}
	if src.has("nope") || !src.has("abc/layer.tar") {
		t.Errorf("has is wrong")
	}
	if _, _, err := src.open("loop"); err == nil {
		t.Errorf("a link loop opened")
	}
}

func TestOpenSourceBadInput(t *testing.T) {
	whole, err := os.ReadFile(tarFile(t, [][2]string{{"manifest.json", "[]"}, {"layer.tar", strings.Repeat("x", 5000)}}, true))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		return p
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(whole)
	zw.Close()
	tests := []struct {
		name string
		path string
		want error
	}{
		{"cut in a file", write("cut.tar", whole[:3000]), ErrTruncated},
		{"cut gzip", write("cut.tar.gz", gz.Bytes()[:gz.Len()/2]), ErrTruncated},
		{"text", write("text", bytes.Repeat([]byte("not a tar\n"), 100)), ErrNotArchive},
		{"short text", write("short", []byte("hello")), ErrNotArchive},
		{"missing", filepath.Join(dir, "nope"), os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := openSource(tt.path, nil, dir)
			if err == nil {
				_, err = readArchive(src)
				src.close()
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// A tar without its end marker but with everything in it loads; one
	// that lacks a file it names is truncated.
	p := tarFile(t, [][2]string{{"manifest.json", `[{"Config":"c.json","Layers":["l.tar"]}]`}}, false)
	src, err := openSource(p, nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.close()
	if _, err := readArchive(src); !errors.Is(err, ErrTruncated) {
		t.Errorf("an archive cut before its config: %v, want ErrTruncated", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != len(tests)-1 {
		t.Errorf("spool files left behind in %s: %v", dir, entries)
	}
}

// TestSaveLoadStore saves two images (one layer shared) in each format
// and loads them into an empty store: same IDs and names.
func TestSaveLoadStore(t *testing.T) {
	src := storetest.Open(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	data := bytes.Repeat([]byte("content\n"), 100000)
	tw.WriteHeader(&tar.Header{Name: "file", Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)})
	tw.Write(data)
	tw.Close()
	layer := buf.Bytes()
	ids := map[string]string{}
	for i, name := range []string{"localhost/a:1", "busybox"} {
		cfg := &v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, Created: v1.Time{Time: time.Unix(1700000000+int64(i), 0).UTC()}}
		img, err := src.CreateImage(context.Background(), storage.NewImage{Diff: bytes.NewReader(layer), Config: cfg, Names: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = img.ID
	}
	for _, format := range []Format{DockerArchive, OCIArchive, OCIDir} {
		t.Run(string(format), func(t *testing.T) {
			opts := SaveOptions{Format: format}
			var out bytes.Buffer
			if format == OCIDir {
				opts.Dir = filepath.Join(t.TempDir(), "layout")
			} else {
				opts.Output = &out
			}
			if err := Save(context.Background(), src, []string{"localhost/a:1", "busybox"}, opts); err != nil {
				t.Fatal(err)
			}
			saved := bytes.Clone(out.Bytes())
			lo := LoadOptions{Path: opts.Dir, Input: &out, TempDir: t.TempDir()}
			var printed []string
			lo.Loaded = func(li LoadedImage) { printed = append(printed, li.Names...) }
			dst := storetest.Open(t)
			if _, err := Load(context.Background(), dst, lo); err != nil {
				t.Fatal(err)
			}
			if len(printed) != 2 {
				t.Errorf("loaded names %v", printed)
			}
			for name, id := range ids {
				img, err := dst.Lookup(name)
				if err != nil || img.ID != id {
					t.Errorf("%s: %v %+v, want ID %s", name, err, img, id)
				}
			}
			if format == DockerArchive {
				var names []string
				tr := tar.NewReader(bytes.NewReader(saved))
				for {
					h, err := tr.Next()
					if err != nil {
						break
					}
					names = append(names, h.Name)
				}
				if len(names) != 4 { // two configs, the shared layer once, manifest.json
					t.Errorf("archive entries %v, want 4", names)
				}
			}
		})
	}
	if err := Save(context.Background(), src, []string{"nope"}, SaveOptions{Output: io.Discard}); !errors.Is(err, storage.ErrImageUnknown) {
		t.Errorf("saving an unknown image: %v", err)
	}
}

// TestLoadDigestMismatch: an OCI blob whose content is not its digest
// fails the load and leaves no image.
func TestLoadDigestMismatch(t *testing.T) {
	st := storetest.Open(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "f", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.Close()
	layer := buf.Bytes()
	diffID, _, _ := v1.SHA256(bytes.NewReader(layer))
	wrong := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}
	cfg, _ := json.Marshal(v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{diffID}}})
	cfgHash, _, _ := v1.SHA256(bytes.NewReader(cfg))
	man, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: "application/vnd.oci.image.manifest.v1+json",
		Config: v1.Descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Size: int64(len(cfg)), Digest: cfgHash},
		Layers: []v1.Descriptor{{MediaType: "application/vnd.oci.image.layer.v1.tar", Size: int64(len(layer)), Digest: wrong}}})
	manHash, _, _ := v1.SHA256(bytes.NewReader(man))
	idx, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, Manifests: []v1.Descriptor{{MediaType: "application/vnd.oci.image.manifest.v1+json", Size: int64(len(man)), Digest: manHash, Annotations: map[string]string{annotationImageName: "localhost/bad:1"}}}})
	dir := t.TempDir()
	for name, data := range map[string][]byte{"index.json": idx, "oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`), blobPath(cfgHash): cfg, blobPath(manHash): man, blobPath(wrong): layer} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	_, err := Load(context.Background(), st, LoadOptions{Path: dir})
	var de *DigestError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a DigestError", err)
	}
	if imgs, _ := st.Images(); len(imgs) != 0 {
		t.Errorf("images after a failed load: %+v", imgs)
	}
}

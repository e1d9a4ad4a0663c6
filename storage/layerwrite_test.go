package storage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/asm"
	tsstorage "github.com/vbatts/tar-split/tar/storage"
	drivers "go.podman.io/storage/drivers"
	"go.podman.io/storage/pkg/archive"
)

// testLayer is a tar with a directory, files (one large enough to cross
// the buffers), a symbolic link, a hard link and zero padding after the end.
func testLayer(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	big := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.2 MB
	entries := []struct {
		hdr  tar.Header
		body []byte
	}{
		{tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755, Uid: 0, Gid: 0}, nil},
		{tar.Header{Name: "etc/hostname", Typeflag: tar.TypeReg, Mode: 0o644, Uid: 0, Gid: 0}, []byte("box\n")},
		{tar.Header{Name: "srv/big", Typeflag: tar.TypeReg, Mode: 0o600, Uid: 1000, Gid: 100}, big},
		{tar.Header{Name: "srv/link", Typeflag: tar.TypeSymlink, Linkname: "big", Uid: 1000, Gid: 100}, nil},
		{tar.Header{Name: "srv/hard", Typeflag: tar.TypeLink, Linkname: "srv/big", Uid: 1000, Gid: 100}, nil},
	}
	for _, e := range entries {
		h := e.hdr
		h.Size = int64(len(e.body))
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	buf.Write(make([]byte, 4096)) // padding, as some writers leave
	return buf.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func applyTestDiff(t *testing.T, ctx context.Context, src io.Reader, known digest.Digest) (drivers.DriverWithDifferOutput, string, error) {
	t.Helper()
	staging := t.TempDir()
	dest := filepath.Join(staging, "dir")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	d := &layerDiffer{ctx: ctx, src: src, known: known}
	out, err := d.ApplyDiff(dest, &archive.TarOptions{IgnoreChownErrors: os.Geteuid() != 0}, &drivers.DifferOptions{Format: drivers.DifferOutputFormatDir, StagingDirectory: staging})
	if out.TarSplit != nil {
		t.Cleanup(func() { out.TarSplit.Close() })
	}
	return out, dest, err
}

func TestLayerDifferApplies(t *testing.T) {
	layer := testLayer(t)
	gz := gzipped(t, layer)
	for _, tc := range []struct {
		name      string
		src       []byte
		known     digest.Digest
		wantCompr digest.Digest
	}{
		{"plain", layer, "", digest.FromBytes(layer)},
		{"gzip", gz, "", digest.FromBytes(gz)},
		{"gzip, digest known", gz, digest.Digest("sha256:" + strings.Repeat("ab", 32)), digest.Digest("sha256:" + strings.Repeat("ab", 32))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, dest, err := applyTestDiff(t, context.Background(), bytes.NewReader(tc.src), tc.known)
			if err != nil {
				t.Fatal(err)
			}
			if want := digest.FromBytes(layer); out.UncompressedDigest != want {
				t.Errorf("uncompressed digest %s, want %s", out.UncompressedDigest, want)
			}
			if out.CompressedDigest != tc.wantCompr {
				t.Errorf("compressed digest %s, want %s", out.CompressedDigest, tc.wantCompr)
			}
			if out.Size != int64(len(layer)) {
				t.Errorf("size %d, want %d (the padding counts)", out.Size, len(layer))
			}
			if len(out.UIDs) != 2 || out.UIDs[0] != 0 || out.UIDs[1] != 1000 || len(out.GIDs) != 2 || out.GIDs[1] != 100 {
				t.Errorf("owners %v %v, want [0 1000] [0 100]", out.UIDs, out.GIDs)
			}
			if b, err := os.ReadFile(filepath.Join(dest, "etc/hostname")); err != nil || string(b) != "box\n" {
				t.Errorf("etc/hostname: %q, %v", b, err)
			}
			if l, err := os.Readlink(filepath.Join(dest, "srv/link")); err != nil || l != "big" {
				t.Errorf("srv/link: %q, %v", l, err)
			}
			a, _ := os.Stat(filepath.Join(dest, "srv/big"))
			b, _ := os.Stat(filepath.Join(dest, "srv/hard"))
			if a == nil || b == nil || !os.SameFile(a, b) || a.Size() != 3_200_000 {
				t.Errorf("srv/hard is not a hard link of the 3.2 MB srv/big")
			}
			// The tar-split and the files give back the exact stream.
			if _, err := out.TarSplit.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			rc := asm.NewOutputTarStream(tsstorage.NewPathFileGetter(dest), tsstorage.NewJSONUnpacker(out.TarSplit))
			again, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(again) != sha256.Sum256(layer) {
				t.Errorf("the stream rebuilt from tar-split differs from the layer (%d bytes, want %d)", len(again), len(layer))
			}
		})
	}
}

func TestLayerDifferFails(t *testing.T) {
	layer := testLayer(t)
	t.Run("cut off", func(t *testing.T) {
		_, _, err := applyTestDiff(t, context.Background(), bytes.NewReader(layer[:2_000_000]), "")
		if err == nil {
			t.Fatal("a layer cut off in a file was applied")
		}
	})
	t.Run("not a tar", func(t *testing.T) {
		_, _, err := applyTestDiff(t, context.Background(), strings.NewReader(strings.Repeat("not a tar archive\n", 1000)), "")
		if err == nil {
			t.Fatal("text was applied as a layer")
		}
	})
	t.Run("source error", func(t *testing.T) {
		boom := errors.New("connection reset")
		src := io.MultiReader(bytes.NewReader(layer[:1_000_000]), errReader{boom})
		_, _, err := applyTestDiff(t, context.Background(), src, "")
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want the source's error", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := applyTestDiff(t, ctx, bytes.NewReader(layer), "")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
	t.Run("escaping link", func(t *testing.T) {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../../.."})
		tw.WriteHeader(&tar.Header{Name: "up/escaped", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
		tw.Write([]byte("x"))
		tw.Close()
		_, dest, _ := applyTestDiff(t, context.Background(), &buf, "")
		if _, err := os.Lstat(filepath.Join(dest, "../../../escaped")); err == nil {
			t.Fatal("a file was written outside the layer through a symbolic link")
		}
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

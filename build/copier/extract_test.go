package copier

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// archiveEntry is one entry of a test archive.
type archiveEntry struct {
	name, link, body string
	typ              byte
	mode             int64
	uid, gid         int
}

func makeTar(t *testing.T, ents []archiveEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		hdr := &tar.Header{
			Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode,
			Uid: e.uid, Gid: e.gid, Uname: "someone", ModTime: fixedTime.Truncate(time.Second),
		}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t *testing.T, data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstded(t *testing.T, data []byte) []byte {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var sampleArchive = []archiveEntry{
	{name: "./", typ: tar.TypeDir, mode: 0o755},
	{name: "top/", typ: tar.TypeDir, mode: 0o750, uid: 1000, gid: 1000},
	{name: "top/f", typ: tar.TypeReg, mode: 0o640, uid: 1000, gid: 1000, body: "hello"},
	{name: "top/l", typ: tar.TypeSymlink, link: "f", mode: 0o777, uid: 1000, gid: 1000},
	{name: "top/h", typ: tar.TypeLink, link: "top/f", mode: 0o640, uid: 1000, gid: 1000},
	{name: "implied/deep/g", typ: tar.TypeReg, mode: 0o644, body: "g"},
	{name: "/abs/../x", typ: tar.TypeReg, mode: 0o600, body: "xx"},
}

func TestExtract(t *testing.T) {
	plain := makeTar(t, sampleArchive)
	tests := []struct {
		name    string
		archive []byte
		opts    Options
		want    []string
		wantErr string
	}{{
		name:    "tar.gz into new dir",
		archive: gzipped(t, plain),
		opts:    Options{Dest: "/opt/"},
		want: []string{
			"d opt/ 0755 0:0",
			"d opt/top/ 0750 1000:1000",
			"f opt/top/f 0640 1000:1000 5",
			"l opt/top/l 1000:1000 -> f",
			"h opt/top/h 1000:1000 => opt/top/f",
			"d opt/implied/ 0755 0:0",
			"d opt/implied/deep/ 0755 0:0",
			"f opt/implied/deep/g 0644 0:0 1",
			"f opt/x 0600 0:0 2",
		},
	}, {
		name:    "tar.zst with chown, dest without slash; modes ignore chmod",
		archive: zstded(t, plain),
		opts:    Options{Dest: "/opt", Chown: &Owner{UID: 7, GID: 8}, Chmod: mode(0o700)},
		want: []string{
			"d opt/ 0755 7:8",
			"d opt/top/ 0750 7:8",
			"f opt/top/f 0640 7:8 5",
			"l opt/top/l 7:8 -> f",
			"h opt/top/h 7:8 => opt/top/f",
			"d opt/implied/ 0755 0:0",
			"d opt/implied/deep/ 0755 0:0",
			"f opt/implied/deep/g 0644 7:8 1",
			"f opt/x 0600 7:8 2",
		},
	}, {
		name:    "plain tar into existing dir follows image symlinks",
		archive: makeTar(t, []archiveEntry{{name: "lib/libx.so", typ: tar.TypeReg, mode: 0o755, body: "elf"}}),
		opts:    Options{Dest: "/"},
		want:    []string{"f usr/lib/libx.so 0755 0:0 3"},
	}, {
		name:    "not an archive is copied",
		archive: []byte("just text, not a tar archive at all"),
		opts:    Options{Dest: "/opt/"},
		want:    []string{"d opt/ 0755 0:0", "f opt/a.tgz 0644 0:0 35"},
	}, {
		name:    "entry escaping the destination",
		archive: makeTar(t, []archiveEntry{{name: "../evil", typ: tar.TypeReg, mode: 0o644, body: "x"}}),
		opts:    Options{Dest: "/opt/", Instruction: "ADD"},
		wantErr: `ADD failed: archive "a.tgz": entry "../evil" is outside the destination`,
	}, {
		name:    "symlink escaping the destination",
		archive: makeTar(t, []archiveEntry{{name: "a/l", typ: tar.TypeSymlink, link: "../../etc/shadow"}}),
		opts:    Options{Dest: "/opt/", Instruction: "ADD"},
		wantErr: `symlink "a/l" points to "../../etc/shadow", outside the destination`,
	}, {
		name:    "whiteout entry",
		archive: makeTar(t, []archiveEntry{{name: "a/.wh.b", typ: tar.TypeReg, mode: 0o644}}),
		opts:    Options{Dest: "/opt/", Instruction: "ADD"},
		wantErr: `names starting with ".wh." mark deletions`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, rootfs := t.TempDir(), t.TempDir()
			mkTree(t, rootfs, baseRootfs)
			p := filepath.Join(ctx, "a.tgz")
			if err := os.WriteFile(p, tt.archive, 0o644); err != nil {
				t.Fatal(err)
			}
			r := &Root{Dir: ctx, Name: "build context"}
			srcs, err := r.Select([]string{"a.tgz"})
			if err != nil {
				t.Fatal(err)
			}
			tt.opts.Rootfs = rootfs
			tt.opts.Extract = true
			var buf bytes.Buffer
			err = Write(&buf, r, srcs, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Write: got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			all := listing(t, buf.Bytes())
			checkParents(t, all)
			if got := withoutKeptDirs(t, all, rootfs); !slices.Equal(got, tt.want) {
				t.Errorf("layer listing differs:\n%s", diffLines(got, tt.want))
			}
		})
	}
}

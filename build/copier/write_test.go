package copier

import (
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// baseRootfs is the parent image of most cases.
var baseRootfs = tree{
	"tmp":      "dir 1777",
	"app":      "dir 0700",
	"srv/app":  "dir 0711",
	"link":     "link /srv/app",
	"rel":      "link srv",
	"etc/file": "file 0644 x",
	"usr/lib":  "dir 0755",
	"lib":      "link usr/lib",
}

// baseContext is the build context of most cases.
var baseContext = tree{
	"a.txt":           "file 0644 hello",
	"z.txt":           "file 0600 zz",
	"run.sh":          "file 4755 #!/bin/sh",
	"src":             "dir 0750",
	"src/b.txt":       "file 0644 bb",
	"src/debug.log":   "file 0644 log",
	"src/sub":         "dir 0700",
	"src/sub/c.txt":   "file 0640 ccc",
	"src/sub/x.log":   "file 0640 x",
	"src/ln":          "link sub/c.txt",
	"tolink":          "link src/b.txt",
	"hl/one":          "file 0644 same",
	"hl/two":          "hard hl/one",
	"secret":          "dir 0700",
	"secret/key":      "file 0600 k",
	"secret/keep":     "file 0644 keep",
	"secret.txt":      "file 0600 s",
	"notes/draft.txt": "file 0644 d",
}

func mode(m fs.FileMode) *fs.FileMode { return &m }

func TestWrite(t *testing.T) {
	tests := []struct {
		name    string
		ctx     tree // nil for baseContext
		ignore  []string
		srcs    []string
		opts    Options
		scratch bool // FROM scratch: no Rootfs
		want    []string
		wantErr string
	}{{
		name: "single file to existing dir",
		srcs: []string{"a.txt"},
		opts: Options{Dest: "/app"},
		want: []string{"f app/a.txt 0644 0:0 5"},
	}, {
		name: "single file to new name",
		srcs: []string{"a.txt"},
		opts: Options{Dest: "/new/name.txt"},
		want: []string{"d new/ 0755 0:0", "f new/name.txt 0644 0:0 5"},
	}, {
		name: "single file to dir with slash",
		srcs: []string{"a.txt"},
		opts: Options{Dest: "/newdir/"},
		want: []string{"d newdir/ 0755 0:0", "f newdir/a.txt 0644 0:0 5"},
	}, {
		name: "single file over existing file",
		srcs: []string{"a.txt"},
		opts: Options{Dest: "/etc/file"},
		want: []string{"f etc/file 0644 0:0 5"},
	}, {
		name: "setuid bit kept",
		srcs: []string{"run.sh"},
		opts: Options{Dest: "/usr/bin/"},
		want: []string{"d usr/bin/ 0755 0:0", "f usr/bin/run.sh 4755 0:0 9"},
	}, {
		name: "directory contents into new dest",
		srcs: []string{"src"},
		opts: Options{Dest: "/dst"},
		want: []string{
			"d dst/ 0755 0:0",
			"f dst/b.txt 0644 0:0 2",
			"f dst/debug.log 0644 0:0 3",
			"l dst/ln 0:0 -> sub/c.txt",
			"d dst/sub/ 0700 0:0",
			"f dst/sub/c.txt 0640 0:0 3",
			"f dst/sub/x.log 0640 0:0 1",
		},
	}, {
		name: "directory contents into existing dir",
		srcs: []string{"src/sub"},
		opts: Options{Dest: "/app/"},
		want: []string{"f app/c.txt 0640 0:0 3", "f app/x.log 0640 0:0 1"},
	}, {
		name: "wildcard",
		srcs: []string{"*.txt"},
		opts: Options{Dest: "/app/"},
		want: []string{"f app/a.txt 0644 0:0 5", "f app/secret.txt 0600 0:0 1", "f app/z.txt 0600 0:0 2"},
	}, {
		name: "wildcard in a middle segment",
		srcs: []string{"*/draft.txt"},
		opts: Options{Dest: "/d/"},
		want: []string{"d d/ 0755 0:0", "f d/draft.txt 0644 0:0 1"},
	}, {
		name: "wildcard with one match to a file name",
		srcs: []string{"a.t?t"},
		opts: Options{Dest: "/renamed"},
		want: []string{"f renamed 0644 0:0 5"},
	}, {
		name:    "multiple sources without trailing slash",
		srcs:    []string{"a.txt", "z.txt"},
		opts:    Options{Dest: "/newfile"},
		wantErr: "When using COPY with more than one source file, the destination must be a directory and end with a /",
	}, {
		name:    "wildcard with several matches without trailing slash",
		srcs:    []string{"*.txt"},
		opts:    Options{Dest: "/newfile", Instruction: "ADD"},
		wantErr: "When using ADD with more than one source file",
	}, {
		name: "multiple sources into existing dir without slash",
		srcs: []string{"a.txt", "z.txt"},
		opts: Options{Dest: "/app"},
		want: []string{"f app/a.txt 0644 0:0 5", "f app/z.txt 0600 0:0 2"},
	}, {
		name:   "dockerignore with exception inside excluded dir",
		ignore: []string{"secret", "!secret/keep", "*.txt", "src", "hl", "notes", "run.sh"},
		srcs:   []string{"."},
		opts:   Options{Dest: "/app/"},
		want: []string{
			"d app/secret/ 0700 0:0",
			"f app/secret/keep 0644 0:0 4",
			"l app/tolink 0:0 -> src/b.txt",
		},
	}, {
		name: "exclude option",
		srcs: []string{"src"},
		opts: Options{Dest: "/app/", Exclude: []string{"*.log", "sub/*.log"}},
		want: []string{
			"f app/b.txt 0644 0:0 2",
			"l app/ln 0:0 -> sub/c.txt",
			"d app/sub/ 0700 0:0",
			"f app/sub/c.txt 0640 0:0 3",
		},
	}, {
		name: "exclude option does not apply to a named source",
		srcs: []string{"src/debug.log"},
		opts: Options{Dest: "/app/", Exclude: []string{"*.log", "src/*.log"}},
		want: []string{"f app/debug.log 0644 0:0 3"},
	}, {
		name: "chown and chmod",
		srcs: []string{"src/sub"},
		opts: Options{Dest: "/new/deep/", Chown: &Owner{UID: 1000, GID: 100}, Chmod: mode(0o751)},
		want: []string{
			"d new/ 0751 1000:100",
			"d new/deep/ 0751 1000:100",
			"f new/deep/c.txt 0751 1000:100 3",
			"f new/deep/x.log 0751 1000:100 1",
		},
	}, {
		name: "chmod with special bits as raw octal",
		srcs: []string{"a.txt"},
		opts: Options{Dest: "/app/", Chmod: mode(0o4711)},
		want: []string{"f app/a.txt 4711 0:0 5"},
	}, {
		name: "parents",
		srcs: []string{"src/sub/c.txt", "a.txt"},
		opts: Options{Dest: "/app", Parents: true},
		want: []string{
			"d app/src/ 0750 0:0",
			"d app/src/sub/ 0700 0:0",
			"f app/src/sub/c.txt 0640 0:0 3",
			"f app/a.txt 0644 0:0 5",
		},
	}, {
		name: "parents with pivot and directory",
		srcs: []string{"./src/./sub"},
		opts: Options{Dest: "/app/", Parents: true, Exclude: []string{"sub/x.log"}},
		want: []string{"d app/sub/ 0700 0:0", "f app/sub/c.txt 0640 0:0 3"},
	}, {
		name: "parents keeps a named symlink",
		srcs: []string{"tolink"},
		opts: Options{Dest: "/app/", Parents: true},
		want: []string{"l app/tolink 0:0 -> src/b.txt"},
	}, {
		name: "symlink followed at top level",
		srcs: []string{"tolink"},
		opts: Options{Dest: "/app/"},
		want: []string{"f app/tolink 0644 0:0 2"},
	}, {
		name: "hard links kept",
		srcs: []string{"hl"},
		opts: Options{Dest: "/h/"},
		want: []string{"d h/ 0755 0:0", "f h/one 0644 0:0 4", "h h/two 0:0 => h/one"},
	}, {
		name: "dest through symlink in rootfs",
		srcs: []string{"a.txt"},
		opts: Options{Dest: "/link/"},
		want: []string{"f srv/app/a.txt 0644 0:0 5"},
	}, {
		name: "dest below a relative symlink",
		srcs: []string{"a.txt"},
		opts: Options{Dest: "/rel/app/new/x"},
		want: []string{"d srv/app/new/ 0755 0:0", "f srv/app/new/x 0644 0:0 5"},
	}, {
		name: "existing parents get no entry",
		srcs: []string{"a.txt"},
		opts: Options{Dest: "/app/deep/er/x.txt"},
		want: []string{"d app/deep/ 0755 0:0", "d app/deep/er/ 0755 0:0", "f app/deep/er/x.txt 0644 0:0 5"},
	}, {
		name:    "directory over a file in the image",
		srcs:    []string{"src"},
		opts:    Options{Dest: "/etc/file"},
		wantErr: "/etc/file in the image is not a directory",
	}, {
		name:    "directory over a symlink in the image",
		ctx:     tree{"lib/x": "file 0644 x"},
		srcs:    []string{"."},
		opts:    Options{Dest: "/"},
		wantErr: "cannot copy a directory to /lib",
	}, {
		name:    "from scratch",
		scratch: true,
		srcs:    []string{"src/sub/c.txt"},
		opts:    Options{Dest: "/usr/local/"},
		want:    []string{"d usr/ 0755 0:0", "d usr/local/ 0755 0:0", "f usr/local/c.txt 0640 0:0 3"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, rootfs := t.TempDir(), t.TempDir()
			if tt.ctx == nil {
				tt.ctx = baseContext
			}
			mkTree(t, ctx, tt.ctx)
			mkTree(t, rootfs, baseRootfs)
			if tt.scratch {
				rootfs = ""
			}
			r := &Root{Dir: ctx, Name: "build context"}
			if tt.ignore != nil {
				ig, err := NewIgnore(tt.ignore)
				if err != nil {
					t.Fatal(err)
				}
				r.Ignore = ig
			}
			srcs, err := r.Select(tt.srcs)
			if err != nil {
				t.Fatalf("Select(%q): %v", tt.srcs, err)
			}
			tt.opts.Rootfs = rootfs
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
			// Digest walks the same entries and must not fail where Write works.
			if _, err := Digest(r, srcs, tt.opts); err != nil {
				t.Errorf("Digest: %v", err)
			}
		})
	}
}

func TestWriteKeepOwnersAndTimes(t *testing.T) {
	ctx := t.TempDir()
	mkTree(t, ctx, tree{"d": "dir 0755", "d/f": "file 0644 x", "d/l": "link f", "d/p": "fifo 0640"})
	for _, p := range []string{"d/f", "d/l"} {
		if err := os.Lchown(filepath.Join(ctx, p), 1234, 5678); err != nil {
			t.Skipf("cannot chown test files (need root): %v", err)
		}
	}
	r := &Root{Dir: ctx, Name: `stage "builder"`}
	srcs, err := r.Select([]string{"d"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		opts Options
		want []string
	}{
		{"keep owners", Options{Dest: "/o/", KeepOwners: true}, []string{
			"d o/ 0755 0:0", "f o/f 0644 1234:5678 1", "l o/l 1234:5678 -> f", "p o/p 0640 0:0"}},
		{"chown wins over keep owners", Options{Dest: "/o/", KeepOwners: true, Chown: &Owner{UID: 7, GID: 8}}, []string{
			"d o/ 0755 7:8", "f o/f 0644 7:8 1", "l o/l 7:8 -> f", "p o/p 0640 7:8"}},
		{"context owners are root", Options{Dest: "/o/"}, []string{
			"d o/ 0755 0:0", "f o/f 0644 0:0 1", "l o/l 0:0 -> f", "p o/p 0640 0:0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, r, srcs, tt.opts); err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			if got := listing(t, data); !slices.Equal(got, tt.want) {
				t.Errorf("layer listing differs:\n%s", diffLines(got, tt.want))
			}
			hdrs := headers(t, data)
			if got := hdrs["o/f"].ModTime; !got.Equal(fixedTime) {
				t.Errorf("o/f mtime = %v, want %v (nanoseconds kept)", got, fixedTime)
			}
			// The destination directory takes the source directory's mtime.
			if got := hdrs["o/"].ModTime; !got.Equal(fixedTime) {
				t.Errorf("o/ mtime = %v, want %v", got, fixedTime)
			}
		})
	}
}

func TestWriteSpecialFiles(t *testing.T) {
	ctx := t.TempDir()
	mkTree(t, ctx, tree{"d": "dir 0755", "d/pipe": "fifo 0644"})
	sock, err := net.Listen("unix", filepath.Join(ctx, "d", "sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	want := []string{"d o/ 0755 0:0", "p o/pipe 0644 0:0"}
	if err := unix.Mknod(filepath.Join(ctx, "d", "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err == nil {
		want = []string{"d o/ 0755 0:0", "3 o/null", "p o/pipe 0644 0:0"}
	} else {
		t.Logf("no device node in this test (mknod: %v)", err)
	}
	r := &Root{Dir: ctx, Name: "build context"}
	srcs, err := r.Select([]string{"d"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, r, srcs, Options{Dest: "/o/"}); err != nil {
		t.Fatal(err)
	}
	if got := listing(t, buf.Bytes()); !slices.Equal(got, want) {
		t.Errorf("layer listing differs (sockets are skipped):\n%s", diffLines(got, want))
	}
	if hdr := headers(t, buf.Bytes())["o/null"]; hdr != nil && (hdr.Devmajor != 1 || hdr.Devminor != 3) {
		t.Errorf("o/null is %d:%d, want 1:3", hdr.Devmajor, hdr.Devminor)
	}
}

// checkParents fails when an entry's parent directory is not in the layer
// before it: unpacking would create it with mode 0755 over the image's.
func checkParents(t *testing.T, list []string) {
	t.Helper()
	seen := map[string]bool{"": true}
	for _, l := range list {
		name := strings.TrimSuffix(strings.Fields(l)[1], "/")
		if parent := path.Dir(name); parent != "." && !seen[parent] {
			t.Errorf("%s comes before (or without) its parent directory %s/", name, parent)
		}
		if l[0] == 'd' {
			seen[name] = true
		}
	}
}

// withoutKeptDirs drops the entries of image directories the layer holds
// with the image's own mode (they change nothing).
func withoutKeptDirs(t *testing.T, list []string, rootfs string) []string {
	t.Helper()
	var out []string
	for _, l := range list {
		f := strings.Fields(l)
		if f[0] == "d" && rootfs != "" {
			if fi, err := os.Lstat(filepath.Join(rootfs, f[1])); err == nil && fi.IsDir() {
				if fmt.Sprintf("%04o", fi.Sys().(*syscall.Stat_t).Mode&0o7777) == f[2] {
					continue
				}
			}
		}
		out = append(out, l)
	}
	return out
}

// TestWriteKeepsImageDirs: a file copied into /tmp (1777 in the image)
// comes with /tmp's own entry, or unpacking would make it 0755.
func TestWriteKeepsImageDirs(t *testing.T) {
	ctx, rootfs := t.TempDir(), t.TempDir()
	mkTree(t, ctx, baseContext)
	mkTree(t, rootfs, baseRootfs)
	r := &Root{Dir: ctx, Name: "build context"}
	srcs, err := r.Select([]string{"a.txt"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, r, srcs, Options{Dest: "/tmp", Rootfs: rootfs}); err != nil {
		t.Fatal(err)
	}
	want := []string{"d tmp/ 1777 0:0", "f tmp/a.txt 0644 0:0 5"}
	if got := listing(t, buf.Bytes()); !slices.Equal(got, want) {
		t.Errorf("layer listing differs:\n%s", diffLines(got, want))
	}
}

package copier

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fixedTime is the mtime test files get, so listings can show it.
var fixedTime = time.Date(2020, 1, 2, 3, 4, 5, 123456789, time.UTC)

// tree describes files to create: "path" -> spec, where spec is
//
//	"dir 0750"            a directory
//	"file 0644 content"   a file
//	"link target"         a symlink
//	"hard other/path"     a hard link to an existing file
//	"fifo 0600"           a named pipe
//
// Entries are created in sorted order of their paths, parents first.
type tree map[string]string

func mkTree(t *testing.T, root string, tr tree) {
	t.Helper()
	paths := make([]string, 0, len(tr))
	for p := range tr {
		paths = append(paths, p)
	}
	// Create plain entries first, hard links last, so targets exist.
	sortPaths(paths, tr)
	var dirs []string
	for _, p := range paths {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		kind, rest, _ := strings.Cut(tr[p], " ")
		switch kind {
		case "dir":
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(full, parseMode(t, rest)); err != nil {
				t.Fatal(err)
			}
			dirs = append(dirs, full)
		case "file":
			mode, content, _ := strings.Cut(rest, " ")
			if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(full, parseMode(t, mode)); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(full, fixedTime, fixedTime); err != nil {
				t.Fatal(err)
			}
		case "link":
			if err := os.Symlink(rest, full); err != nil {
				t.Fatal(err)
			}
		case "hard":
			if err := os.Link(filepath.Join(root, rest), full); err != nil {
				t.Fatal(err)
			}
		case "fifo":
			if err := syscall.Mkfifo(full, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(full, parseMode(t, rest)); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("bad tree spec %q", tr[p])
		}
	}
	// Directory times last, after their contents stopped changing them.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chtimes(dirs[i], fixedTime, fixedTime); err != nil {
			t.Fatal(err)
		}
	}
}

func sortPaths(paths []string, tr tree) {
	rank := func(p string) int {
		if strings.HasPrefix(tr[p], "hard ") {
			return 1
		}
		return 0
	}
	for i := 1; i < len(paths); i++ {
		for j := i; j > 0; j-- {
			a, b := paths[j-1], paths[j]
			if rank(a) < rank(b) || (rank(a) == rank(b) && a <= b) {
				break
			}
			paths[j-1], paths[j] = b, a
		}
	}
}

func parseMode(t *testing.T, s string) os.FileMode {
	t.Helper()
	var m uint32
	if _, err := fmt.Sscanf(s, "%o", &m); err != nil {
		t.Fatalf("bad mode %q: %v", s, err)
	}
	out := os.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		out |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		out |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		out |= os.ModeSticky
	}
	return out
}

// listing renders a layer tar one line per entry:
//
//	d app/ 0755 0:0
//	f app/x 0644 0:0 5
//	l app/l 0:0 -> target
//	h app/b 0:0 => app/a
//	p app/fifo 0600 0:0
func listing(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading layer: %v", err)
		}
		if hdr.Uname != "" || hdr.Gname != "" {
			t.Errorf("%s has uname/gname %q/%q", hdr.Name, hdr.Uname, hdr.Gname)
		}
		own := fmt.Sprintf("%d:%d", hdr.Uid, hdr.Gid)
		switch hdr.Typeflag {
		case tar.TypeDir:
			out = append(out, fmt.Sprintf("d %s %04o %s", hdr.Name, hdr.Mode, own))
		case tar.TypeReg:
			out = append(out, fmt.Sprintf("f %s %04o %s %d", hdr.Name, hdr.Mode, own, hdr.Size))
		case tar.TypeSymlink:
			out = append(out, fmt.Sprintf("l %s %s -> %s", hdr.Name, own, hdr.Linkname))
		case tar.TypeLink:
			out = append(out, fmt.Sprintf("h %s %s => %s", hdr.Name, own, hdr.Linkname))
		case tar.TypeFifo:
			out = append(out, fmt.Sprintf("p %s %04o %s", hdr.Name, hdr.Mode, own))
		default:
			out = append(out, fmt.Sprintf("%c %s", hdr.Typeflag, hdr.Name))
		}
	}
}

// diffLines reports the first difference between two listings.
func diffLines(got, want []string) string {
	var b strings.Builder
	n := max(len(got), len(want))
	for i := 0; i < n; i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		mark := " "
		if g != w {
			mark = "!"
		}
		fmt.Fprintf(&b, "%s got  %-45q want %q\n", mark, g, w)
	}
	return b.String()
}

// headers indexes a layer's headers by name.
func headers(t *testing.T, data []byte) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading layer: %v", err)
		}
		out[hdr.Name] = hdr
	}
}

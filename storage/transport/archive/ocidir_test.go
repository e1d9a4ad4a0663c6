package archive

import (
	"bytes"
	"context"
	"github.com/burrow-oci/burrow/storage/transport/internal/storetest"
	"golang.org/x/sys/unix"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/burrow-oci/burrow/storage"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestSaveOCIDirAtomic: an oci-dir save that fails part-way (here,
// interrupted: its context is cancelled before the layers are read)
// leaves neither the directory nor a temporary one, and an existing
// layout exactly as it was; a save that completes adds to the layout.
func TestSaveOCIDirAtomic(t *testing.T) {
	st := storetest.Open(t)
	for i, name := range []string{"localhost/a:1", "localhost/b:1"} {
		cfg := &v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, Created: v1.Time{Time: time.Unix(1700000000+int64(i), 0).UTC()}}
		diff := tarFile(t, [][2]string{{"file", name}}, true)
		data, err := os.ReadFile(diff)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateImage(context.Background(), storage.NewImage{Diff: bytes.NewReader(data), Config: cfg, Names: []string{name}}); err != nil {
			t.Fatal(err)
		}
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "layout")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	opts := SaveOptions{Format: OCIDir, Dir: dir}
	if err := Save(cancelled, st, []string{"localhost/a:1"}, opts); err == nil {
		t.Fatal("an interrupted save succeeded")
	}
	if got := entries(t, parent); len(got) != 0 {
		t.Fatalf("an interrupted save into a new directory left %v", got)
	}

	if err := Save(context.Background(), st, []string{"localhost/a:1"}, opts); err != nil {
		t.Fatal(err)
	}
	before := tree(t, dir)
	if err := Save(cancelled, st, []string{"localhost/b:1"}, opts); err == nil {
		t.Fatal("an interrupted save succeeded")
	}
	if after := tree(t, dir); !slices.Equal(before, after) {
		t.Errorf("an interrupted save changed the layout:\n%q\n->\n%q", before, after)
	}
	if got := entries(t, parent); !slices.Equal(got, []string{"layout"}) {
		t.Errorf("beside the layout: %v", got)
	}
	// What a killed save left (unlocked, not new) is removed by the next
	// save; the directory of a save in progress (locked) is left alone.
	old := time.Now().Add(-time.Minute)
	killed, live := filepath.Join(parent, ".layout.tmp-0killed0"), filepath.Join(parent, ".layout.tmp-00live00")
	for _, d := range []string{killed, live} {
		if err := os.MkdirAll(filepath.Join(d, "blobs"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(d, old, old)
	}
	lock, err := storage.LockDir(live, unix.LOCK_EX)
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(context.Background(), st, []string{"localhost/b:1"}, opts); err != nil {
		t.Fatal(err)
	}
	lock.Close()
	if got := entries(t, parent); !slices.Equal(got, []string{".layout.tmp-00live00", "layout"}) {
		t.Errorf("beside the layout: %v", got)
	}
	idx, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil || !bytes.Contains(idx, []byte("localhost/a:1")) || !bytes.Contains(idx, []byte("localhost/b:1")) {
		t.Errorf("index.json after adding an image: %s %v", idx, err)
	}
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// tree lists every file under dir with its contents.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !info.IsDir() {
			data, _ := os.ReadFile(p)
			out = append(out, p+"="+string(data))
		}
		return nil
	})
	return out
}

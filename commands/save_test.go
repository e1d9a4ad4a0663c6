package commands

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestSaveToFile: a complete archive replaces the file; a failed one
// leaves neither a partial file nor a temporary one, and an existing file
// as it was.
func TestSaveToFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.tar")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := saveToFile(path, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "old" {
		t.Errorf("a failed save changed the file: %q", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed save left files: %v", entries)
	}
	if err := saveToFile(path, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(data) != "new" || fi.Mode().Perm() != 0o666&^umask() {
		t.Errorf("saved %q with mode %v, want \"new\" with %v", data, fi.Mode().Perm(), 0o666&^umask())
	}
	if err := saveToFile(filepath.Join(dir, "no/such/dir/x.tar"), func(io.Writer) error { return nil }); err == nil {
		t.Errorf("saving into a missing directory succeeded")
	}
}

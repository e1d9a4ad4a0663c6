package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestWrite: the file gets the content and the mode asked for, whatever it
// held before and whatever the umask, with either durability.
func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		old  string // "" means no file before
		perm os.FileMode
		d    Durability
	}{
		{"new durable", "", 0o600, Durable},
		{"new nosync", "", 0o644, NoSync},
		{"replace durable", "old content", 0o640, Durable},
		{"replace nosync", "old content", 0o666, NoSync},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.json")
			if tc.old != "" {
				if err := os.WriteFile(path, []byte(tc.old), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := Write(path, []byte("new"), tc.perm, tc.d); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != "new" || fi.Mode().Perm() != tc.perm {
				t.Errorf("got %q with mode %v, want \"new\" with %v", data, fi.Mode().Perm(), tc.perm)
			}
			if got := names(t, dir); len(got) != 1 {
				t.Errorf("left files beside it: %v", got)
			}
		})
	}
}

// TestWriteFuncError: a failed write leaves the old file as it was, no
// temporary file, and returns the writer's error unchanged.
func TestWriteFuncError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.tar")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFunc(path, 0o644, Durable, func(w io.Writer) error {
		if _, err := w.Write([]byte("partial")); err != nil {
			t.Fatal(err)
		}
		// While it is written, the target is still the old file.
		if data, _ := os.ReadFile(path); string(data) != "old" {
			t.Errorf("the target changed before the write was complete: %q", data)
		}
		return boom
	})
	if err != boom {
		t.Fatalf("err = %v, want boom itself", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "old" {
		t.Errorf("a failed write changed the file: %q", data)
	}
	if got := names(t, dir); len(got) != 1 {
		t.Errorf("a failed write left files: %v", got)
	}
}

// TestWriteErrors: failures name the target, not the temporary file, and
// leave nothing behind.
func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	err := Write(filepath.Join(dir, "no/such/dir/x"), nil, 0o600, NoSync)
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "creating "+filepath.Join(dir, "no/such/dir/x")+": ") {
		t.Errorf("missing directory: err = %v", err)
	}
	// A directory in the way: the rename fails.
	target := filepath.Join(dir, "d")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err = Write(target, []byte("x"), 0o600, Durable)
	if err == nil || !strings.HasPrefix(err.Error(), "writing "+target+": ") {
		t.Errorf("directory in the way: err = %v", err)
	}
	if got := names(t, dir); len(got) != 1 {
		t.Errorf("a failed write left files: %v", got)
	}
}

// TestWriteConcurrent: writers racing on one file never share a temporary
// file, so the file always holds one writer's content whole, and no
// temporary file is left.
func TestWriteConcurrent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	const writers, rounds = 8, 50
	content := func(w int) []byte { return bytes.Repeat([]byte{byte('a' + w)}, 64<<10) }
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			data, err := os.ReadFile(path)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				errs <- err
				return
			}
			if len(data) != 64<<10 || !bytes.Equal(data, bytes.Repeat(data[:1], len(data))) {
				errs <- fmt.Errorf("a reader saw a partial or mixed file (%d bytes)", len(data))
				return
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				d := Durability(w % 2)
				if err := Write(path, content(w), 0o600, d); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := names(t, dir); len(got) != 1 || got[0] != "state.json" {
		t.Errorf("files left: %v", got)
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

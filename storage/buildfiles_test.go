package storage

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
)

func TestCacheNotes(t *testing.T) {
	s := &Store{opts: Options{Root: t.TempDir(), RunRoot: t.TempDir()}}
	parent := strings.Repeat("ab", 32)
	if _, err := s.CacheNotes(parent); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("CacheNotes with none filed: %v, want fs.ErrNotExist", err)
	}
	for _, n := range []string{`{"n":1}`, `{"n":2}`} {
		if err := s.AddCacheNote(parent, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.CacheNotes(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[0]) != `{"n":1}` || string(got[1]) != `{"n":2}` {
		t.Errorf("CacheNotes = %q, want the two notes in order", got)
	}
	for _, bad := range []string{"", "a", "../x", "ab/cd"} {
		if err := s.AddCacheNote(bad, []byte("x")); err == nil {
			t.Errorf("AddCacheNote(%q) accepted a key that is no key", bad)
		}
	}
	if err := s.AddCacheNote(parent, []byte("two\nlines")); err == nil {
		t.Error("AddCacheNote accepted a note of two lines")
	}
	// PruneBuildCache(All) removes the notes with the cache mounts; it
	// needs a whole store, so only the directory's name is checked here.
	if _, err := os.Stat(s.cacheDir() + "/" + notesDir); err != nil {
		t.Errorf("notes are not under CacheDir/%s: %v", notesDir, err)
	}
	dir, err := s.TempDir("step-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, s.opts.RunRoot+"/step-") {
		t.Errorf("TempDir = %s, want a directory under the run root", dir)
	}
}

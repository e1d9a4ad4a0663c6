package storage

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFeatureCache(t *testing.T) {
	root := t.TempDir()
	cache := filepath.Join(t.TempDir(), "checks")
	key := featureKeyDir(cache, root)
	if key == "" || filepath.Dir(key) != cache {
		t.Fatalf("featureKeyDir = %q, want a directory under %s", key, cache)
	}
	if other := featureKeyDir(cache, "/proc"); other == key {
		t.Fatal("a store on another file system shares the answers")
	}

	// A first store finds the answers itself; they are kept at Close.
	first := t.TempDir()
	if seedFeatures(cache, root, first) != key {
		t.Fatal("a new run root was not seen as new")
	}
	write := func(dir, name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(first, "overlay-true", "")
	write(first, "metacopy()-false", "")
	write(first, "native-diff()-false", "not using native diff: reasons")
	write(first, "not-an-answer", "x")
	keepFeatures(cache, key, first)

	// A second, new run root starts with them.
	second := t.TempDir()
	if seedFeatures(cache, root, second) != key {
		t.Fatal("a new run root was not seen as new")
	}
	for name, want := range map[string]string{"overlay-true": "", "metacopy()-false": "", "native-diff()-false": "not using native diff: reasons"} {
		b, err := os.ReadFile(filepath.Join(second, name))
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", name, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(second, "not-an-answer")); err == nil {
		t.Error("a file that is not an answer was copied")
	}

	// A run root with answers of its own is left alone.
	third := t.TempDir()
	write(third, "overlay-false", "kernel says no")
	if seedFeatures(cache, root, third) != "" {
		t.Error("a run root with answers was seen as new")
	}
	if _, err := os.Stat(filepath.Join(third, "overlay-true")); err == nil {
		t.Error("answers were added to a run root that had its own")
	}

	// Answers in a directory others can write are not trusted.
	if err := os.Chmod(key, 0o777); err != nil {
		t.Fatal(err)
	}
	fourth := t.TempDir()
	seedFeatures(cache, root, fourth)
	if _, err := os.Stat(filepath.Join(fourth, "overlay-true")); err == nil {
		t.Error("answers were read from a directory anyone can write")
	}
}

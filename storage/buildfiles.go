package storage

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The files a build keeps beside its cache records: the stat memo of the
// context's files, and the notes that explain a cache miss. Both are under
// CacheDir; the build asks for them here and never builds their paths
// itself (issue 13: one owner for the store's layout).

// notesDir is the directory under CacheDir that holds the notes of the
// steps that ran, one file per parent key (see AddCacheNote).
const notesDir = "why"

// StatMemoPath is the file that keeps the build's stat -> digest memo of
// context files, so that unchanged files are not read again.
func (s *Store) StatMemoPath() string { return filepath.Join(s.cacheDir(), "stat-memo") }

// notePath is the file of the notes filed under parent, fanned out by the
// key's first two digits.
func (s *Store) notePath(parent string) (string, error) {
	if len(parent) < 2 || strings.ContainsAny(parent, `/\.`) {
		return "", fmt.Errorf("internal error: %q is not a cache key", parent)
	}
	return filepath.Join(s.cacheDir(), notesDir, parent[:2], parent), nil
}

// AddCacheNote appends note (one line, without its newline) to the notes
// filed under the key parent. The notes are opaque here: the build writes
// the parts of a step's key that ran under parent, to explain later misses.
// Each note is one append of one write, so that concurrent builds do not
// interleave lines. PruneBuildCache with All removes every note.
func (s *Store) AddCacheNote(parent string, note []byte) error {
	if bytes.IndexByte(note, '\n') >= 0 {
		return errors.New("internal error: a cache note holds a newline")
	}
	p, err := s.notePath(parent)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(note, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// CacheNotes returns the notes filed under the key parent, oldest first.
// With no note filed, it returns an error that wraps fs.ErrNotExist.
func (s *Store) CacheNotes(parent string) ([][]byte, error) {
	p, err := s.notePath(parent)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		if len(line) > 0 {
			out = append(out, line)
		}
	}
	return out, nil
}

// TempDir makes a new private directory under the run root for files that
// live as long as one build step (a heredoc's files, a downloaded ADD
// source). The caller removes it.
func (s *Store) TempDir(prefix string) (string, error) {
	return os.MkdirTemp(s.opts.RunRoot, prefix)
}

// CacheMountDir is the directory of RUN --mount=type=cache with id,
// created (and created true) when it is new.
func (s *Store) CacheMountDir(id string) (dir string, created bool, err error) {
	sum := sha256.Sum256([]byte(id))
	dir = filepath.Join(s.cacheDir(), "mounts", hex.EncodeToString(sum[:16]))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		return dir, false, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, err
	}
	return dir, true, nil
}

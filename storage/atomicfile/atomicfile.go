// Package atomicfile replaces a file whole: a reader sees the old content
// or the new, never a part of the new, and a write that fails leaves the
// old file as it was and no temporary file behind.
//
// The new content goes to a temporary file with a unique name in the
// target's directory (so that the rename stays on one file system and
// concurrent writers never share a temporary file), which is then renamed
// over the target. Where the content must survive a crash (Durable), the
// file is synced before the rename and the directory after it.
//
// It imports no project package, so every layer may use it (storage, run,
// build, commands).
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Durability says what a completed Write promises after a crash of the
// machine (power loss, kernel panic); while the machine runs, every write
// is atomic either way.
type Durability int

const (
	// Durable syncs the file before the rename and its directory after it:
	// once Write returns, the new content survives a crash. For records
	// that cannot be recomputed: container and volume records, state,
	// credentials and other files the user wrote through burrow.
	Durable Durability = iota
	// NoSync skips both syncs. After a crash the file may hold the old
	// content, the new, or nothing (an empty or torn file), so readers must
	// treat it as a cache that can be lost: answers that are found again,
	// records whose loss costs only speed. It saves a disk flush per write.
	NoSync
)

// Write replaces the file at path with data, with permissions perm exactly
// (the umask does not apply). The directory must exist.
//
// Errors name path, not the temporary file: "creating path: ..." when no
// temporary file could be made in its directory, "writing path: ..."
// otherwise.
func Write(path string, data []byte, perm os.FileMode, d Durability) error {
	return WriteFunc(path, perm, d, func(w io.Writer) error {
		_, err := w.Write(data)
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	})
}

// WriteFunc is Write for content that is streamed: write is given the
// temporary file (unbuffered; wrap it in a bufio.Writer and flush for small
// writes), and an error it returns is returned as it is, after the
// temporary file is removed.
func WriteFunc(path string, perm os.FileMode, d Durability, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		// The temporary name would only confuse: say which file failed
		// and why.
		if under := errors.Unwrap(err); under != nil {
			err = under
		}
		return fmt.Errorf("creating %s: %w", path, err)
	}
	tmp, renamed := f.Name(), false
	defer func() {
		if err != nil && !renamed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	// os.CreateTemp makes the file 0600: only another mode needs a chmod.
	if perm != 0o600 {
		if err := f.Chmod(perm); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if d == Durable {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	renamed = true
	if d == Durable {
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("writing %s: syncing its directory: %w", path, err)
		}
	}
	return nil
}

// syncDir makes a rename in dir durable. File systems that cannot sync a
// directory (some FUSE and network ones answer EINVAL or ENOTSUP) give
// what they can: the rename is done, only its durability is unknown.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}

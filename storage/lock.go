package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// writeLock serialises burrow processes that change the store. It is taken
// before containers/storage loads anything (Options.Write) and held until
// Close, because two things need it:
//   - containers/storage removes "stale" temporary and staging directories
//     when it loads its layer store, and a directory another process has
//     created but not yet locked looks stale: two writers side by side can
//     lose a layer half-way;
//   - a new image exists for a moment without its names, when a concurrent
//     prune would take it for dangling.
//
// Readers take no lock. A process killed while holding it releases it, and
// the next prune removes what it left (orphan layers, staging directories).
const writeLock = "burrow-write.lock"

// lockWrite takes the write lock for this Store unless the process holds
// it already (Options.Write), and returns the function that releases what
// it took. Goroutines of one process (a build's parallel stages) take it
// in turn. It is not reentrant: a method that holds it calls none that
// takes it.
func (s *Store) lockWrite() (func(), error) {
	if s.writeLock != nil {
		return func() {}, nil
	}
	s.writeMu.Lock()
	f, err := flock(filepath.Join(s.opts.Root, writeLock), syscall.LOCK_EX)
	if err != nil {
		s.writeMu.Unlock()
		return nil, err
	}
	return func() { f.Close(); s.writeMu.Unlock() }, nil
}

// lockWriteForProcess takes the write lock until Close (Options.Write).
func (s *Store) lockWriteForProcess() error {
	f, err := flock(filepath.Join(s.opts.Root, writeLock), syscall.LOCK_EX)
	if err != nil {
		return err
	}
	s.writeLock = f
	return nil
}

func flock(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	return f, lockOpen(f, path, how)
}

// LockDir takes a flock (syscall.LOCK_EX, LOCK_SH, with LOCK_NB) on a
// directory; closing the file releases it.
func LockDir(dir string, how int) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	return f, lockOpen(f, dir, how)
}

// lockOpen locks f, and closes it if it cannot.
func lockOpen(f *os.File, path string, how int) error {
	var err error
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("locking %s: %w", path, err)
	}
	return nil
}

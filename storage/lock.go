package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// gcLock guards against removing layers that are being written: writers
// that create a layer before the image that refers to it hold it shared;
// removal of unreferenced layers holds it exclusively. A process killed
// mid-write releases it, and the next clean-up removes its orphan layer.
const gcLock = "burrow-gc.lock"

func (s *Store) lockShared(name string) (func(), error) { return s.flock(name, syscall.LOCK_SH) }

func (s *Store) lockExclusive(name string) (func(), error) { return s.flock(name, syscall.LOCK_EX) }

func (s *Store) flock(name string, how int) (func(), error) {
	p := filepath.Join(s.opts.Root, name)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", p, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", p, err)
	}
	return func() { f.Close() }, nil
}

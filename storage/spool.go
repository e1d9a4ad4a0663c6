package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// DownloadsDir is the directory under the graph root that holds pulls'
// spools, so that downloads sit on the store's disk and prune can sweep
// what a killed pull left.
const DownloadsDir = "burrow-downloads"

const (
	spoolPrefix   = "burrow-pull-"
	spoolLock     = "spool.lock"
	spoolSweepLck = ".sweep.lock"
)

// Spool is a private directory for one pull's downloads. Its process holds
// an exclusive flock on a file inside it until Close, so that a sweep
// (SweepSpools) removes it only once that process is gone.
type Spool struct {
	// Dir is the directory to write into.
	Dir  string
	lock *os.File
}

// OpenSpool makes a spool under parent ("" = os.TempDir()). Creating the
// directory and locking it happen under a shared lock on parent's sweep
// lock, so that a sweep never sees a new spool before it is locked.
func OpenSpool(parent string) (*Spool, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	sweep, err := flock(filepath.Join(parent, spoolSweepLck), syscall.LOCK_SH)
	if err != nil {
		return nil, fmt.Errorf("making a directory for downloads: %w", err)
	}
	defer sweep.Close()
	dir, err := os.MkdirTemp(parent, spoolPrefix)
	if err != nil {
		return nil, fmt.Errorf("making a directory for downloads: %w", err)
	}
	f, err := flock(filepath.Join(dir, spoolLock), syscall.LOCK_EX)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("making a directory for downloads: %w", err)
	}
	return &Spool{Dir: dir, lock: f}, nil
}

// Close removes the spool and its contents and releases its lock.
func (sp *Spool) Close() error {
	err := os.RemoveAll(sp.Dir)
	sp.lock.Close()
	return err
}

// SweepSpools removes the spools under parent that no live process holds
// (a pull that was killed), and leaves the others. It is safe to run
// beside pulls; it never waits for one.
func SweepSpools(parent string, log *slog.Logger) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	sweep, err := flock(filepath.Join(parent, spoolSweepLck), syscall.LOCK_EX)
	if err != nil {
		log.Warn("sweeping download spools", "err", err)
		return
	}
	defer sweep.Close()
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), spoolPrefix) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		if !OwnedDir(dir) {
			continue // another user's, in a shared TMPDIR
		}
		f, err := flock(filepath.Join(dir, spoolLock), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != nil {
			if !errors.Is(err, syscall.EWOULDBLOCK) {
				log.Warn("sweeping a download spool", "dir", dir, "err", err)
			}
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("removing a download spool", "dir", dir, "err", err)
		}
		f.Close()
	}
}

// SpoolDir is where pulls spool their downloads: on the store's disk (not
// a tmpfs /tmp), or, when the user sets TMPDIR, in a directory of the
// user's own under it (Options.TmpSpoolDir: a shared TMPDIR holds other
// users' spools and locks). "" lets the caller choose.
func (s *Store) SpoolDir() string {
	if d := s.opts.TmpSpoolDir; d != "" {
		if err := os.Mkdir(d, 0o700); err == nil || os.IsExist(err) && OwnedDir(d) {
			return d
		}
	}
	dir := filepath.Join(s.opts.Root, DownloadsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	return dir
}

// TmpSpoolDir is the user's directory for pulls' spools under a TMPDIR
// the user set (tmpdir), or "" without one (Options.TmpSpoolDir).
func TmpSpoolDir(tmpdir string, uid int) string {
	if tmpdir == "" {
		return ""
	}
	return filepath.Join(tmpdir, fmt.Sprintf("burrow-downloads-%d", uid))
}

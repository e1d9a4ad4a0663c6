package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/storage"
	"golang.org/x/sys/unix"
)

// writeOCIDir writes an OCI layout to dir atomically, as the file formats
// are: into a sibling temporary directory, put in place once complete. A
// new dir (or an empty one) is renamed into place; an existing layout is
// first linked into the temporary directory (blobs are hard links, being
// immutable; index.json is copied), the images are added there, and the
// two are exchanged in one step. On error or cancellation (ctx) the
// temporary directory is removed and dir is as it was.
func writeOCIDir(ctx context.Context, list []saved, images []*storedImage, dir string) (err error) {
	dir = filepath.Clean(dir)
	fi, serr := os.Stat(dir)
	exists := serr == nil
	switch {
	case exists && !fi.IsDir():
		return fmt.Errorf("saving to %s: it exists and is not a directory (hint: give -o a new directory or an OCI layout)", dir)
	case !exists && !errors.Is(serr, fs.ErrNotExist):
		return fmt.Errorf("saving to %s: %w", dir, serr)
	}
	sweepSiblings(dir)
	tmp, err := mkdirSibling(dir)
	if err != nil {
		return err
	}
	// The lock tells a later save that this directory's writer is alive.
	lock, err := storage.LockDir(tmp, unix.LOCK_EX)
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("saving to %s: %w", dir, err)
	}
	defer lock.Close()
	defer func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}()
	filled := false
	if exists {
		if filled, err = linkTree(dir, tmp); err != nil {
			return fmt.Errorf("saving to %s: %w", dir, err)
		}
	}
	if err := saveOCIDir(list, images, tmp, dir); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !filled {
		// rename(2) replaces an empty directory.
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("saving to %s: %w", dir, err)
		}
		tmp = ""
		return nil
	}
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dir, unix.RENAME_EXCHANGE); err != nil {
		return fmt.Errorf("saving to %s: replacing the layout: %w", dir, err)
	}
	// tmp now holds the old layout; the deferred removal drops it.
	return nil
}

// staleAfter is how old an unlocked temporary directory must be before a
// save removes it: a live save locks its own as soon as it has made it.
const staleAfter = 10 * time.Second

// sweepSiblings removes the temporary directories that saves to dir which
// were killed left beside it: those whose lock no process holds.
func sweepSiblings(dir string) {
	parent, base := filepath.Split(dir)
	names, _ := filepath.Glob(filepath.Join(parent, "."+base+".tmp-*"))
	for _, name := range names {
		fi, err := os.Lstat(name)
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < staleAfter {
			continue
		}
		lock, err := storage.LockDir(name, unix.LOCK_EX|unix.LOCK_NB)
		if err != nil {
			continue // a save in progress, or not ours to remove
		}
		os.RemoveAll(name)
		lock.Close()
	}
}

// mkdirSibling makes a new hidden directory beside dir, with the mode a
// mkdir gives (the umask applies).
func mkdirSibling(dir string) (string, error) {
	parent, base := filepath.Split(dir)
	for range 100 {
		var b [6]byte
		rand.Read(b[:])
		name := filepath.Join(parent, "."+base+".tmp-"+hex.EncodeToString(b[:]))
		err := os.Mkdir(name, 0o777)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	return "", fmt.Errorf("internal error: no free temporary name beside %s", dir)
}

// linkTree recreates the tree at src under dst: blobs/ files as hard
// links (copies where links fail), other files copied, so that writing
// index.json in dst leaves src alone. It reports whether src had anything.
func linkTree(src, dst string) (bool, error) {
	found := false
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "." {
			return nil
		}
		found = true
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(to, info.Mode().Perm())
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case !d.Type().IsRegular():
			return nil
		case strings.HasPrefix(rel, "blobs"+string(filepath.Separator)):
			if os.Link(p, to) == nil {
				return nil
			}
		}
		return copyFile(p, to, info.Mode().Perm())
	})
	return found, err
}

func copyFile(from, to string, mode fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

package copier

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// stat is the part of struct stat that copying and digesting use.
type stat struct {
	mode  uint32 // st_mode: file type and permission bits
	uid   uint32
	gid   uint32
	nlink uint64
	rdev  uint64
	dev   uint64
	ino   uint64
	size  int64
	mtime int64 // nanoseconds since the epoch
	ctime int64 // nanoseconds since the epoch
}

// statFrom converts a raw stat; the field types of unix.Stat_t differ
// between architectures.
func statFrom(st *unix.Stat_t) stat {
	return stat{
		mode:  st.Mode,
		uid:   st.Uid,
		gid:   st.Gid,
		nlink: uint64(st.Nlink),
		rdev:  uint64(st.Rdev),
		dev:   uint64(st.Dev),
		ino:   st.Ino,
		size:  st.Size,
		mtime: st.Mtim.Nano(),
		ctime: st.Ctim.Nano(),
	}
}

// lstat stats path without following a final symlink.
func lstat(path string) (stat, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return stat{}, &fs.PathError{Op: "lstat", Path: path, Err: err}
	}
	return statFrom(&st), nil
}

// errNotDir is what listing a non-directory fails with.
var errNotDir = unix.ENOTDIR

// kind is an entry's file type.
type kind uint8

const (
	kindFile kind = iota + 1
	kindDir
	kindSymlink
	kindHardlink
	kindFifo
	kindChar
	kindBlock
	kindSocket
)

func kindOf(mode uint32) kind {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return kindDir
	case unix.S_IFLNK:
		return kindSymlink
	case unix.S_IFIFO:
		return kindFifo
	case unix.S_IFCHR:
		return kindChar
	case unix.S_IFBLK:
		return kindBlock
	case unix.S_IFSOCK:
		return kindSocket
	default:
		return kindFile
	}
}

// dirent is one directory entry with its lstat.
type dirent struct {
	name string
	st   stat
}

// readDir lists dir in byte order (as filepath.WalkDir, and so BuildKit,
// visits it) with an lstat of each entry. It stats relative to the open
// directory, which spares the kernel a path walk per file; that matters for
// a warm Digest, which does nothing but this. Entries that vanish between
// listing and stat are left out.
func readDir(dir string) ([]dirent, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	slices.Sort(names)
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	out := make([]dirent, 0, len(names))
	var statErr error
	ctlErr := rc.Control(func(fd uintptr) {
		var st unix.Stat_t
		for _, name := range names {
			if err := unix.Fstatat(int(fd), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				if errors.Is(err, unix.ENOENT) {
					continue
				}
				statErr = &fs.PathError{Op: "lstat", Path: dir + "/" + name, Err: err}
				return
			}
			out = append(out, dirent{name: name, st: statFrom(&st)})
		}
	})
	if ctlErr != nil {
		return nil, ctlErr
	}
	return out, statErr
}

// openNoFollow opens a regular file for reading, refusing a symlink that
// replaced it since the walk.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
}

// fstatOf returns the stat of an open file.
func fstatOf(f *os.File) (stat, error) {
	var st unix.Stat_t
	rc, err := f.SyscallConn()
	if err != nil {
		return stat{}, err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil {
		return stat{}, err
	}
	if serr != nil {
		return stat{}, &fs.PathError{Op: "fstat", Path: f.Name(), Err: serr}
	}
	return statFrom(&st), nil
}

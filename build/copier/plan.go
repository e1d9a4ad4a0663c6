package copier

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// Options shape a copy. The zero value, plus Dest, is a plain COPY from the
// build context.
type Options struct {
	// Instruction is "COPY" or "ADD", for error messages; "" means "COPY".
	Instruction string
	// Dest is the absolute destination inside the image as written: a
	// trailing "/" (or "/.") means a directory. The caller has already
	// joined a relative destination with WORKDIR.
	Dest string

	// Chown is --chown resolved to numbers; nil keeps the source owners
	// (KeepOwners) or uses 0:0.
	Chown *Owner
	// KeepOwners keeps the source uid/gid (COPY --from); false makes
	// everything 0:0 unless Chown is set (the build context).
	KeepOwners bool
	// Chmod is --chmod; nil keeps source modes. It applies to the files and
	// directories copied and, as in BuildKit (fsutil commit 183e7fb, tested
	// by its testCopyChmod), to the permission bits of destination
	// directories it creates. Special bits are read from either the
	// fs.ModeSetuid/Setgid/Sticky flags or raw 04000/02000/01000 bits, so
	// fs.FileMode(parsedOctal) works too.
	Chmod *fs.FileMode

	// Parents is --parents: keep each source's path (after an optional
	// "/./" pivot) under Dest, which is then always a directory.
	Parents bool
	// Exclude holds --exclude patterns (patternmatcher syntax). As in
	// BuildKit they match paths relative to each source: the inside of a
	// copied directory, or the root (or pivot) with Parents. A source named
	// directly is never excluded by them, except with Parents.
	Exclude []string

	// Extract is ADD's local-archive rule: a source file (named or matched,
	// not inside a copied directory) whose content is a tar archive, plain
	// or compressed with gzip, bzip2, xz or zstd, is extracted into Dest.
	// Leave it false for files from Fetch: remote archives are not unpacked.
	Extract bool

	// Rootfs is the parent image's root filesystem, read-only, used to
	// resolve Dest (symlinks are followed inside it) and to see which
	// directories exist. "" is an empty image (FROM scratch).
	Rootfs string
}

// Owner is a numeric uid:gid.
type Owner struct{ UID, GID int }

func (o *Options) instruction() string {
	if o.Instruction == "" {
		return "COPY"
	}
	return o.Instruction
}

// fileMode applies Chmod to a source's permission and special bits.
func (o *Options) fileMode(mode uint32) uint32 {
	if o.Chmod == nil {
		return mode & 0o7777
	}
	m := *o.Chmod
	out := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 || m&0o4000 != 0 {
		out |= 0o4000
	}
	if m&fs.ModeSetgid != 0 || m&0o2000 != 0 {
		out |= 0o2000
	}
	if m&fs.ModeSticky != 0 || m&0o1000 != 0 {
		out |= 0o1000
	}
	return out
}

// createdDirMode is the mode of a destination directory the copy creates:
// 0755, or the permission bits of Chmod (BuildKit's MkdirAll drops the
// special bits).
func (o *Options) createdDirMode() uint32 {
	if o.Chmod == nil {
		return 0o755
	}
	return uint32(o.Chmod.Perm())
}

// owner returns the uid/gid an entry gets from its source's.
func (o *Options) owner(uid, gid uint32) (int, int) {
	switch {
	case o.Chown != nil:
		return o.Chown.UID, o.Chown.GID
	case o.KeepOwners:
		return int(uid), int(gid)
	default:
		return 0, 0
	}
}

// createdOwner is the owner of directories the copy creates.
func (o *Options) createdOwner() (int, int) {
	if o.Chown != nil {
		return o.Chown.UID, o.Chown.GID
	}
	return 0, 0
}

// plan is where sources go.
type plan struct {
	// dest is Dest resolved inside Rootfs, relative to the image root,
	// without leading or trailing slash; "" is the root.
	dest string
	// intoDest is true when a file source lands at dest/<basename>; false
	// when it is written at dest itself.
	intoDest bool
	// dirSyntax is true when Dest ends in "/": BuildKit then creates it even
	// if nothing is copied.
	dirSyntax bool
}

// errMultipleSources is returned when several sources would be written to
// one file path.
var errMultipleSources = errors.New("the destination must be a directory and end with a /")

func newPlan(srcs []Source, opts *Options) (*plan, error) {
	if !strings.HasPrefix(opts.Dest, "/") {
		return nil, fmt.Errorf("internal error: destination %q is not absolute", opts.Dest)
	}
	dirSyntax := strings.HasSuffix(opts.Dest, "/") || strings.HasSuffix(opts.Dest, "/.")
	dest, err := resolveDest(opts.Rootfs, opts.Dest)
	if err != nil {
		return nil, err
	}
	isDir := dest == ""
	if !isDir && opts.Rootfs != "" {
		fi, err := os.Lstat(filepath.Join(opts.Rootfs, dest))
		switch {
		case err == nil:
			isDir = fi.IsDir()
		case !securejoin.IsNotExist(err):
			return nil, fmt.Errorf("reading destination %s in the image: %w", opts.Dest, err)
		}
	}
	p := &plan{dest: dest, dirSyntax: dirSyntax, intoDest: dirSyntax || isDir || opts.Parents}
	if len(srcs) > 1 && !p.intoDest {
		// The classic builder's check (BuildKit would write each file over
		// the last); an existing directory is accepted as BuildKit copies
		// into it.
		return nil, fmt.Errorf("When using %s with more than one source file, %w (hint: write the destination as %q)",
			opts.instruction(), errMultipleSources, opts.Dest+"/")
	}
	return p, nil
}

// resolveDest resolves an absolute image path inside rootfs, following
// symlinks as the image would, and returns it relative to the image root.
func resolveDest(rootfs, dest string) (string, error) {
	if rootfs == "" {
		return strings.TrimPrefix(path.Clean(dest), "/"), nil
	}
	full, err := securejoin.SecureJoin(rootfs, dest)
	if err != nil {
		return "", fmt.Errorf("resolving %s in the image: %w", dest, err)
	}
	rel, err := filepath.Rel(rootfs, full)
	if err != nil {
		return "", fmt.Errorf("resolving %s in the image: %w", dest, err)
	}
	if rel == "." {
		return "", nil
	}
	return filepath.ToSlash(rel), nil
}

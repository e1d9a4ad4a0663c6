package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/burrow-oci/burrow/storage/atomicfile"
	"golang.org/x/sys/unix"
)

// The overlay driver learns what the kernel and the file system can do
// (overlay itself, metacopy, native diff, id-mapped lowers, ...) by test
// mounts, and keeps each answer as a file in the run root ("overlay-true",
// "metacopy(...)-false", ...). A new run root asks again, and unmounting a
// test overlay syncs the whole file system under it: with a previous
// pull's data still being written back, that wait was 150-400 ms of every
// first command in a new store. The answers are properties of the kernel
// and of the file system, so they are kept for the user, per boot, per file
// system and per id mapping, and a new run root starts with them.

// featureKeyDir is the directory, under cacheDir, of the answers that hold
// for a store whose graph root is root, in this boot and this process's
// user namespace; "" if that cannot be told.
func featureKeyDir(cacheDir, root string) string {
	var st unix.Stat_t
	var fs unix.Statfs_t
	if unix.Stat(root, &st) != nil || unix.Statfs(root, &fs) != nil {
		return ""
	}
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	uidMap, _ := os.ReadFile("/proc/self/uid_map")
	gidMap, _ := os.ReadFile("/proc/self/gid_map")
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%x\n%x\n%s\n%s", strings.TrimSpace(string(boot)), st.Dev, fs.Type, uidMap, gidMap)
	return filepath.Join(cacheDir, hex.EncodeToString(h.Sum(nil))[:24])
}

// isFeatureFile says whether name is one of the overlay driver's answers.
func isFeatureFile(name string) bool {
	return !strings.HasPrefix(name, ".") && (strings.HasSuffix(name, "-true") || strings.HasSuffix(name, "-false"))
}

// seedFeatures gives a run root's driver directory that has no answers yet
// the ones kept for the store at root under cacheDir. It returns the
// directory of those answers when runhome was new, in which case the
// answers found by this process are worth keeping (see keepFeatures), and
// "" otherwise: an existing run root costs one directory read, no key.
func seedFeatures(cacheDir, root, runhome string) string {
	if cacheDir == "" {
		return ""
	}
	have, err := os.ReadDir(runhome)
	if err != nil {
		return ""
	}
	for _, e := range have {
		if isFeatureFile(e.Name()) {
			return ""
		}
	}
	keyDir := featureKeyDir(cacheDir, root)
	if keyDir == "" || !OwnedDir(cacheDir) || !OwnedDir(keyDir) {
		return keyDir
	}
	kept, err := os.ReadDir(keyDir)
	if err != nil {
		return keyDir
	}
	for _, e := range kept {
		if !e.Type().IsRegular() || !isFeatureFile(e.Name()) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(keyDir, e.Name()))
		if err != nil {
			continue
		}
		f, err := os.OpenFile(filepath.Join(runhome, e.Name()), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			continue
		}
		_, werr := f.Write(data)
		if cerr := f.Close(); werr != nil || cerr != nil {
			os.Remove(f.Name())
		}
	}
	return keyDir
}

// keepFeatures copies the answers in runhome that keyDir lacks into it.
// The cache directory must belong to the user alone: answers read from it
// decide how layers are mounted.
func keepFeatures(cacheDir, keyDir, runhome string) {
	entries, err := os.ReadDir(runhome)
	if err != nil {
		return
	}
	if err := prepareDir(cacheDir, "feature cache"); err != nil {
		return
	}
	if err := os.Mkdir(keyDir, 0o700); err != nil && !os.IsExist(err) {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isFeatureFile(e.Name()) {
			continue
		}
		dst := filepath.Join(keyDir, e.Name())
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(runhome, e.Name()))
		if err != nil {
			continue
		}
		_ = atomicfile.Write(dst, data, 0o600, atomicfile.NoSync)
	}
}

// OwnedDir says whether dir is a directory (not a link) of this user's
// that no one else can write to.
func OwnedDir(dir string) bool {
	var st unix.Stat_t
	if unix.Lstat(dir, &st) != nil {
		return false
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR && int(st.Uid) == os.Getuid() && st.Mode&0o022 == 0
}

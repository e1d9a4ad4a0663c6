// Package storage is burrow's user-owned store: layers, images and
// containers kept by containers/storage, image metadata in the formats Docker
// and OCI use (image IDs are the sha256 of the config), and the locks that
// make concurrent burrow processes safe.
//
// The store is opened inside the user namespace of package userns: there
// the caller is root, so files of every owner in the subordinate range can be
// written and removed.
package storage

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	cstorage "go.podman.io/storage"
	"go.podman.io/storage/drivers/overlay"
)

// Options say where the store is and how to open it. The zero value is not
// usable: Root and RunRoot are required.
type Options struct {
	Root    string // graph root: layers, images, metadata
	RunRoot string // run root: mount state and locks that die with a reboot
	// Driver is "overlay", "vfs", or "" for overlay when the kernel can
	// mount it here and vfs otherwise.
	Driver string
	// IgnoreOwners says the store is used in single-id mode: it drops
	// changes of owner while unpacking layers, as with a
	// single-id mapping no other owner can be represented.
	IgnoreOwners bool
	// Write takes the store's write lock before anything is loaded and
	// holds it until Close: commands that change the store run one at a
	// time (see writeLock). Methods that change the store take the lock
	// themselves when it is not held.
	Write bool
	// Log receives progress and notices; nil discards them.
	Log *slog.Logger
	// VolumesOnly opens no containers/storage store: only the volume
	// methods that read (Volume, Volumes) work. It spares a listing of
	// volumes the store's start-up.
	VolumesOnly bool
	// TmpSpoolDir, if set, is the user's own directory under a TMPDIR the
	// user set: pulls spool their downloads there rather than on the
	// store's disk, and prunes sweep it (see SpoolDir).
	TmpSpoolDir string
	// FeatureCache is a directory of the user's where the overlay driver's
	// answers about the kernel and file system are kept for new run roots
	// (see featurecache.go); "" keeps none.
	FeatureCache string
}

// Store is an open store. It must be closed.
type Store struct {
	cs        cstorage.Store
	opts      Options
	driver    string
	writeLock *os.File   // the write lock held for the whole process, or nil
	writeMu   sync.Mutex // serialises lockWrite among goroutines
	Notices   []string   // one-time notices (such as a fallback to vfs) for the user
	// featureKeep is where the driver's answers found in a new run root
	// are kept at Close, or "".
	featureKeep string
}

// SingleID reports whether the store is used in single-id mode (see
// Options.IgnoreOwners): no owner but the user's can be represented, and
// containers fake the calls that change owners or identities.
func (s *Store) SingleID() bool { return s.opts.IgnoreOwners }

// RuntimeDir is where the OCI runtime keeps its containers' state: a short
// path in the run root (libcontainer's sealing of the binary falls back
// to copying it when the path makes its mount options too long).
func (s *Store) RuntimeDir() string { return filepath.Join(s.opts.RunRoot, "rt") }

// layerDir is the directory that holds a layer's files, as Docker's
// GraphDriver.Data names them (overlay's diff directory).
func (s *Store) layerDir(id string) string {
	if s.driver == "vfs" {
		return filepath.Join(s.opts.Root, "vfs", "dir", id)
	}
	return filepath.Join(s.opts.Root, s.driver, id, "diff")
}

// LayerDirs are the directories of the image's layers as Docker's
// GraphDriver.Data shows them for overlay2: UpperDir the top layer's,
// LowerDir the others', top down and joined by colons.
func (s *Store) LayerDirs(img *Image) map[string]string {
	if len(img.Layers) == 0 {
		return map[string]string{}
	}
	top := img.Layers[len(img.Layers)-1]
	data := map[string]string{"UpperDir": s.layerDir(top)}
	if len(img.Layers) > 1 {
		var lower []string
		for i := len(img.Layers) - 2; i >= 0; i-- {
			lower = append(lower, s.layerDir(img.Layers[i]))
		}
		data["LowerDir"] = strings.Join(lower, ":")
	}
	return data
}

// NoticeOnce reports whether the store has not shown notice yet, and
// remembers that it now has.
func (s *Store) NoticeOnce(notice string) bool {
	h := fnv.New32a()
	h.Write([]byte(notice))
	marker := filepath.Join(s.opts.Root, fmt.Sprintf(".notice-%08x", h.Sum32()))
	if _, err := os.Stat(marker); err == nil {
		return false
	}
	_ = os.WriteFile(marker, []byte(notice+"\n"), 0o600)
	return true
}

// Sentinel errors callers branch on.
var (
	ErrImageUnknown   = errors.New("no such image")
	ErrAmbiguousID    = errors.New("ambiguous image ID prefix")
	ErrImageInUse     = errors.New("image is in use")
	ErrUnsupportedFS  = errors.New("unsupported filesystem for the store")
	ErrStoreNotOwned  = errors.New("store not owned by the caller")
	ErrStoreWriteable = errors.New("store is not writable")
)

// Open opens (creating if needed) the store described by opts.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Root == "" || opts.RunRoot == "" {
		return nil, errors.New("internal error: storage root and run root must be set")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Store{opts: opts}
	if err := prepareDir(opts.Root, "storage root"); err != nil {
		return nil, err
	}
	if opts.VolumesOnly {
		// Reading the volumes' records needs neither the run root nor a
		// file system fit for layers.
		return s, nil
	}
	if err := prepareDir(opts.RunRoot, "run root"); err != nil {
		return nil, err
	}
	if err := checkFilesystem(opts.Root); err != nil {
		return nil, err
	}
	if opts.Write {
		if err := s.lockWriteForProcess(); err != nil {
			return nil, err
		}
	}
	driver, err := s.chooseDriver()
	if err != nil {
		return nil, err
	}
	s.driver = driver
	// burrow's settings come from its own config alone: a podman
	// storage.conf (read by containers/storage for defaults) must neither
	// change nor break it.
	os.Setenv("CONTAINERS_STORAGE_CONF", "/dev/null")
	var dopts []string
	if opts.IgnoreOwners {
		dopts = append(dopts, driver+".ignore_chown_errors=true")
	}
	cs, err := cstorage.GetStore(cstorage.StoreOptions{
		RunRoot:            opts.RunRoot,
		GraphRoot:          opts.Root,
		GraphDriverName:    driver,
		GraphDriverOptions: dopts,
	})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("opening the store at %s with the %s driver: %w", opts.Root, driver, err)
	}
	s.cs = cs
	return s, nil
}

// chooseDriver picks overlay when the kernel mounts it here (the check is
// cached in the run root by containers/storage) and vfs otherwise.
func (s *Store) chooseDriver() (string, error) {
	want := s.opts.Driver
	if want == "vfs" {
		return "vfs", nil
	}
	// A store that already holds vfs layers stays vfs.
	if want == "" {
		if _, err := os.Stat(filepath.Join(s.opts.Root, "vfs-layers")); err == nil {
			return "vfs", nil
		}
	}
	home := filepath.Join(s.opts.Root, "overlay")
	runhome := filepath.Join(s.opts.RunRoot, "overlay")
	if err := os.MkdirAll(runhome, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", runhome, err)
	}
	s.featureKeep = seedFeatures(s.opts.FeatureCache, s.opts.Root, runhome)
	ok, err := overlay.SupportsNativeOverlay(home, runhome)
	if ok {
		return "overlay", nil
	}
	if want == "overlay" {
		return "", fmt.Errorf("the overlay driver cannot be used at %s: %v (hint: set storage.driver = \"vfs\" in config.toml, or pass --storage-driver vfs)", s.opts.Root, err)
	}
	s.Notices = append(s.Notices, fmt.Sprintf("the kernel cannot mount overlay at %s; using the vfs driver (slower, more disk)", s.opts.Root))
	return "vfs", nil
}

// Driver is the storage driver in use ("overlay" or "vfs").
func (s *Store) Driver() string { return s.driver }

// Root is the graph root.
func (s *Store) Root() string { return s.opts.Root }

// RunRoot is the run root.
func (s *Store) RunRoot() string { return s.opts.RunRoot }

// Close releases the store. It does not call containers/storage's
// Shutdown, which is meant for error paths: it makes every other process
// reload the driver, and it prunes staging directories, which races with a
// concurrent process that has just created one and not yet locked it.
// Mounts made in this process's private mount namespace end with it;
// leftover staging directories are pruned under the clean-up lock
// (see pruneStaging).
func (s *Store) Close() error {
	if s.featureKeep != "" {
		keepFeatures(s.opts.FeatureCache, s.featureKeep, filepath.Join(s.opts.RunRoot, "overlay"))
		s.featureKeep = ""
	}
	s.cs = nil
	if s.writeLock != nil {
		err := s.writeLock.Close()
		s.writeLock = nil
		return err
	}
	return nil
}

// prepareDir creates dir (0700) and checks that the caller owns it and can
// write to it, with errors that say what to do.
func prepareDir(dir, what string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EROFS) {
			return fmt.Errorf("%w: cannot create %s %s: %v (hint: pass --root and --runroot, or set storage.root in config.toml, to a directory you can write)", ErrStoreWriteable, what, dir, errors.Unwrap(err))
		}
		return fmt.Errorf("creating %s %s: %w", what, dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("checking %s %s: %w", what, dir, err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%w: %s %s belongs to another user (hint: pass --root and --runroot to directories of your own)", ErrStoreNotOwned, what, dir)
	}
	if err := syscall.Access(dir, 2 /* W_OK */); err != nil {
		return fmt.Errorf("%w: %s %s: %v (hint: pass --root and --runroot to a directory you can write)", ErrStoreWriteable, what, dir, err)
	}
	return nil
}

package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/storage/atomicfile"
	graphdriver "go.podman.io/storage/drivers"
	"go.podman.io/storage/pkg/archive"
	"golang.org/x/sys/unix"
)

// Ephemeral containers are the containers of `run --rm` in the
// foreground: they live only as long as the command that runs them, so
// containers/storage's records (a container record, a layer record, and
// mountpoints.json written with fsync at create, mount, unmount and
// delete) would be written only to be removed a moment later. Instead an
// ephemeral container is
//   - a record in the run root, <run root>/containers-rm/<id>/record.json,
//     beside its state and its /etc files; a reboot takes it with the
//     container, as it takes the container's processes;
//   - a writable layer made by the overlay driver directly, on the image's
//     top layer, named by the container's ID, with no layer record.
//
// ephemeralContainers is their backend (see backend.go). Names are unique
// across both: they are checked under the store's write lock, which every
// container creation and rename takes. An image an ephemeral container
// uses counts as used, so it cannot be removed under it.
const ephemeralDir = "containers-rm"

// ephemeralRecord is what an ephemeral container's record.json holds.
type ephemeralRecord struct {
	ID       string
	Name     string
	ImageID  string
	TopLayer string // the image's top layer: the parent of the container's layer
	Created  time.Time
	Config   ContainerConfig
}

func (s *Store) ephemeralRoot() string { return filepath.Join(s.opts.RunRoot, ephemeralDir) }

func (s *Store) ephemeralPath(id string) string { return filepath.Join(s.ephemeralRoot(), id) }

// ephemeralSupported reports whether CreateContainer makes ephemeral
// containers in this store: with the overlay driver only (vfs would have
// to copy the image, which its layer store does the same way). The
// backend itself works with any driver; its tests run on vfs.
func (s *Store) ephemeralSupported() bool { return s.driver == "overlay" }

func (s *Store) graphDriver() (graphdriver.Driver, error) {
	d, err := s.cs.GraphDriver()
	if err != nil {
		return nil, fmt.Errorf("opening the storage driver: %w", err)
	}
	return d, nil
}

// ephemeralContainers is the backend of ephemeral containers.
type ephemeralContainers struct{}

var _ backend = (*ephemeralContainers)(nil)

// create writes the record under the write lock, after the name check, and
// before the layer: from then on the image counts as used. The layer is
// made after the lock is released.
func (ephemeralContainers) create(s *Store, nc NewContainer) (*Container, error) {
	c := &Container{ImageID: nc.Image.ID, Name: nc.Name, Created: time.Now().UTC(), Config: nc.Config, kind: ephemeralContainers{}}
	rec := ephemeralRecord{ImageID: nc.Image.ID, TopLayer: nc.Image.TopLayer, Name: nc.Name, Created: c.Created, Config: nc.Config}
	if err := os.MkdirAll(s.ephemeralRoot(), 0o700); err != nil {
		return nil, fmt.Errorf("creating container: %w", err)
	}
	err := func() error {
		unlock, err := s.lockWrite()
		if err != nil {
			return err
		}
		defer unlock()
		if nc.Name != "" {
			if _, err := s.lookupContainer(nc.Name, true); err == nil {
				return s.nameInUse(nc.Name)
			}
		}
		// 256 random bits: no other container has them.
		rec.ID = NewID()
		c.ID = rec.ID
		return writeEphemeral(s.ephemeralPath(rec.ID), &rec)
	}()
	if err != nil {
		return nil, err
	}
	d, err := s.graphDriver()
	if err == nil {
		err = d.CreateReadWrite(c.ID, rec.TopLayer, nil)
	}
	if err != nil {
		_ = os.RemoveAll(s.ephemeralPath(c.ID))
		return nil, fmt.Errorf("creating container: %w", err)
	}
	return c, nil
}

// writeEphemeral writes a record into dir (made if needed), whole or not
// at all.
func writeEphemeral(dir string, rec *ephemeralRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating container: %w", err)
	}
	// In the run root, which a reboot empties: nothing to sync for.
	if err := atomicfile.Write(filepath.Join(dir, "record.json"), data, 0o600, atomicfile.NoSync); err != nil {
		return fmt.Errorf("recording container %s: %w", short(rec.ID), err)
	}
	return nil
}

func (ephemeralContainers) list(s *Store) ([]Container, error) { return s.ephemeralContainers() }

// ephemeralContainers lists the ephemeral containers. A directory without
// a record (one being created, or a creation cut short) is skipped.
func (s *Store) ephemeralContainers() ([]Container, error) {
	entries, err := os.ReadDir(s.ephemeralRoot())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var out []Container
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		rec, err := readEphemeral(s.ephemeralPath(e.Name()))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		out = append(out, Container{ID: rec.ID, Name: rec.Name, ImageID: rec.ImageID, Created: rec.Created, Config: rec.Config, kind: ephemeralContainers{}})
	}
	return out, nil
}

func readEphemeral(dir string) (*ephemeralRecord, error) {
	data, err := os.ReadFile(filepath.Join(dir, "record.json"))
	if err != nil {
		return nil, err
	}
	var rec ephemeralRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("decoding container record %s: %w", dir, err)
	}
	return &rec, nil
}

// rename rewrites the record whole (writeEphemeral).
func (ephemeralContainers) rename(s *Store, c *Container, name string) error {
	rec, err := readEphemeral(s.ephemeralPath(c.ID))
	if err != nil {
		return fmt.Errorf("renaming container %s: %w", short(c.ID), err)
	}
	rec.Name = name
	return writeEphemeral(s.ephemeralPath(c.ID), rec)
}

// remove removes the layer (unmounting it) and then the record. No record
// of containers/storage changes: it takes no write lock.
func (ephemeralContainers) remove(s *Store, c *Container) error {
	dir := s.ephemeralPath(c.ID)
	if _, err := os.Stat(filepath.Join(dir, "record.json")); err != nil {
		return &ContainerNotFoundError{Ref: c.Name}
	}
	d, err := s.graphDriver()
	if err != nil {
		return err
	}
	// The layer's own mount point: unmounted directly, as the driver's
	// Put would also make a new empty mount point in its place, which
	// Remove deletes next.
	merged := filepath.Join(s.opts.Root, s.driver, c.ID, "merged")
	if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil {
		_ = d.Put(c.ID) // not mounted here is fine: Remove is what matters
	}
	if err := d.Remove(c.ID); err != nil {
		return fmt.Errorf("removing container %s: %w", short(c.ID), err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing container %s: %w", short(c.ID), err)
	}
	return nil
}

// dir: both of an ephemeral container's directories are its record's
// directory in the run root, which must not be made again once removed.
func (ephemeralContainers) dir(s *Store, c *Container, _ dirKind) (string, error) {
	return s.ephemeralPath(c.ID), nil
}

func (ephemeralContainers) mount(s *Store, c *Container) (string, error) {
	d, err := s.graphDriver()
	if err != nil {
		return "", err
	}
	p, err := d.Get(c.ID, graphdriver.MountOpts{Volatile: true})
	if err != nil {
		return "", fmt.Errorf("mounting the root filesystem of container %s: %w", short(c.ID), err)
	}
	return p, nil
}

func (ephemeralContainers) unmount(s *Store, c *Container) error {
	d, err := s.graphDriver()
	if err == nil {
		err = d.Put(c.ID)
	}
	if err != nil {
		return fmt.Errorf("unmounting container %s: %w", short(c.ID), err)
	}
	return nil
}

// layer is the driver that holds an ephemeral container's layer and the
// layer it sits on, for the driver's diff methods. A removed container is
// an error matching ErrContainerUnknown.
func (ephemeralContainers) layer(s *Store, c *Container) (graphdriver.Driver, string, error) {
	rec, err := readEphemeral(s.ephemeralPath(c.ID))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", &ContainerNotFoundError{Ref: c.Name}
		}
		return nil, "", err
	}
	d, err := s.graphDriver()
	return d, rec.TopLayer, err
}

func (e ephemeralContainers) changes(s *Store, c *Container) ([]archive.Change, error) {
	d, parent, err := e.layer(s, c)
	if err != nil {
		return nil, err
	}
	return d.Changes(c.ID, nil, parent, nil, "")
}

func (e ephemeralContainers) diff(s *Store, c *Container) (io.ReadCloser, error) {
	d, parent, err := e.layer(s, c)
	if err != nil {
		return nil, err
	}
	return d.Diff(c.ID, nil, parent, nil, "")
}

func (e ephemeralContainers) diffSize(s *Store, c *Container) (int64, error) {
	d, parent, err := e.layer(s, c)
	if err != nil {
		return 0, err
	}
	return d.DiffSize(c.ID, nil, parent, nil, "")
}

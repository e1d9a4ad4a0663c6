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
// Every container method of Store serves both kinds. Names are unique
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

// EphemeralSupported reports whether CreateContainer can make ephemeral
// containers in this store: with the overlay driver only (vfs would have
// to copy the image, which its layer store does the same way).
func (s *Store) EphemeralSupported() bool { return s.driver == "overlay" }

func (s *Store) graphDriver() (graphdriver.Driver, error) {
	d, err := s.cs.GraphDriver()
	if err != nil {
		return nil, fmt.Errorf("opening the storage driver: %w", err)
	}
	return d, nil
}

// createEphemeral records an ephemeral container and makes its layer.
func (s *Store) createEphemeral(nc NewContainer) (*Container, error) {
	c := &Container{ImageID: nc.Image.ID, Name: nc.Name, Created: time.Now().UTC(), Config: nc.Config, ephemeral: true}
	rec := ephemeralRecord{ImageID: nc.Image.ID, TopLayer: nc.Image.TopLayer, Name: nc.Name, Created: c.Created, Config: nc.Config}
	if err := os.MkdirAll(s.ephemeralRoot(), 0o700); err != nil {
		return nil, fmt.Errorf("creating container: %w", err)
	}
	// The record is written under the write lock, after the name check,
	// and before the layer: from then on the image counts as used.
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
		for {
			rec.ID = NewID()
			if _, err := s.cs.Container(rec.ID); err != nil {
				break // not a containers/storage container's ID either
			}
		}
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
		out = append(out, Container{ID: rec.ID, Name: rec.Name, ImageID: rec.ImageID, Created: rec.Created, Config: rec.Config, ephemeral: true})
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

// ephemeralParent is the layer an ephemeral container's layer sits on.
func (s *Store) ephemeralParent(c *Container) (string, error) {
	rec, err := readEphemeral(s.ephemeralPath(c.ID))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", &ContainerNotFoundError{Ref: c.Name}
		}
		return "", err
	}
	return rec.TopLayer, nil
}

// deleteEphemeral removes an ephemeral container's layer (unmounting it)
// and then its record.
func (s *Store) deleteEphemeral(c *Container) error {
	dir := s.ephemeralPath(c.ID)
	if _, err := os.Stat(filepath.Join(dir, "record.json")); err != nil {
		return &ContainerNotFoundError{Ref: c.Name}
	}
	d, err := s.graphDriver()
	if err != nil {
		return err
	}
	_ = d.Put(c.ID) // not mounted here is fine: Remove is what matters
	if err := d.Remove(c.ID); err != nil {
		return fmt.Errorf("removing container %s: %w", short(c.ID), err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing container %s: %w", short(c.ID), err)
	}
	return nil
}

// ephemeralLayer is the driver that holds an ephemeral container's layer
// and the layer it sits on, for the driver's diff methods.
func (s *Store) ephemeralLayer(c *Container) (graphdriver.Driver, string, error) {
	parent, err := s.ephemeralParent(c)
	if err != nil {
		return nil, "", err
	}
	d, err := s.graphDriver()
	return d, parent, err
}

// ephemeralChanges lists what an ephemeral container changed.
func (s *Store) ephemeralChanges(c *Container) ([]archive.Change, error) {
	d, parent, err := s.ephemeralLayer(c)
	if err != nil {
		return nil, err
	}
	return d.Changes(c.ID, nil, parent, nil, "")
}

// ephemeralDiffSize is the size of what an ephemeral container changed.
func (s *Store) ephemeralDiffSize(c *Container) (int64, error) {
	d, parent, err := s.ephemeralLayer(c)
	if err != nil {
		return 0, err
	}
	return d.DiffSize(c.ID, nil, parent, nil, "")
}

// containerDiff is the tar stream of what a container changed (deletions
// as whiteouts), uncompressed.
func (s *Store) containerDiff(c *Container) (io.ReadCloser, error) {
	if !c.ephemeral {
		return s.cs.Diff("", c.LayerID, nil)
	}
	d, parent, err := s.ephemeralLayer(c)
	if err != nil {
		return nil, err
	}
	return d.Diff(c.ID, nil, parent, nil, "")
}

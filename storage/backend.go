package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	cstorage "go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
)

// Containers come in two kinds, each kept by a backend:
//   - csContainers: containers/storage keeps the record (with burrow's
//     containerMeta in its metadata field), the writable layer and the
//     container's directories in the graph root and the run root;
//   - ephemeralContainers: the containers of `run --rm` in the
//     foreground, kept in the run root (see ephemeral.go).
//
// The kind is chosen once, when CreateContainer makes a container or a
// listing finds it, and kept in the Container; every container method of
// Store asks that backend and never branches on the kind. The backends hold
// no state: the Store is passed to each call, so a Container stays usable
// with another Store opened on the same directories.
type backend interface {
	containerRecords
	writableLayers
}

// containerRecords keeps the records of one kind of container.
type containerRecords interface {
	// create records a container of nc.Image and makes its writable
	// layer. It takes the store's write lock itself. A name that a
	// container of either kind holds is refused with an error matching
	// ErrNameInUse. Not idempotent: each call makes a new container. On
	// failure nothing is left that a listing would show.
	create(s *Store, nc NewContainer) (*Container, error)
	// list returns the containers of this kind, in no particular order.
	// It takes no lock: a container being created or removed meanwhile may
	// be in it or not, but a listed one is whole.
	list(s *Store) ([]Container, error)
	// rename gives c the name; the record holds the old name or the new
	// one, never neither. The caller holds the write lock and has checked
	// that no container holds the name.
	rename(s *Store, c *Container, name string) error
	// remove deletes c's layer (unmounting it), its directories and its
	// record, the record last. A container already removed (by another
	// command meanwhile) is an error matching ErrContainerUnknown; the
	// caller makes sure c is not running.
	remove(s *Store, c *Container) error
	// dir returns the path of one of c's directories, which exists while
	// c does. It never makes the directory of a removed container again:
	// for one it returns an error, or a path that does not exist.
	dir(s *Store, c *Container, k dirKind) (string, error)
}

// writableLayers reaches the writable layers of one kind of container.
// A removed container's layer is an error for every method but unmount.
type writableLayers interface {
	// mount mounts c's root filesystem in the caller's mount namespace
	// and returns its path. Mounts are counted: each wants an unmount.
	mount(s *Store, c *Container) (string, error)
	// unmount undoes mount. A layer that is not mounted is not an error.
	unmount(s *Store, c *Container) error
	// changes lists what c changed on top of its image (all of it, the
	// runtime's mount points included).
	changes(s *Store, c *Container) ([]archive.Change, error)
	// diff is the uncompressed tar stream of what c changed, deletions as
	// whiteouts. It may hold a lock of the layer store until it is closed.
	diff(s *Store, c *Container) (io.ReadCloser, error)
	// diffSize is the bytes of what c changed.
	diffSize(s *Store, c *Container) (int64, error)
}

// dirKind names one of a container's two directories.
type dirKind int

const (
	// dataDir is kept in the graph root with the layer (hosts,
	// resolv.conf, hostname, logs, state).
	dataDir dirKind = iota
	// runDir is in the run root (runtime files).
	runDir
)

// backend is the backend that keeps c. A Container made outside this
// package (a zero value) is taken for one of containers/storage.
func (c *Container) backend() backend {
	if c.kind == nil {
		return csContainers{}
	}
	return c.kind
}

// csContainers is the backend of the containers containers/storage keeps.
type csContainers struct{}

var _ backend = (*csContainers)(nil)

func (csContainers) create(s *Store, nc NewContainer) (*Container, error) {
	unlock, err := s.lockWrite()
	if err != nil {
		return nil, err
	}
	defer unlock()
	meta, err := json.Marshal(containerMeta{Config: nc.Config, Created: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	var names []string
	if nc.Name != "" {
		names = []string{nc.Name}
		// containers/storage checks its own names; ephemeral containers'
		// are checked here.
		eph, err := s.ephemeralContainers()
		if err != nil {
			return nil, err
		}
		for _, c := range eph {
			if c.Name == nc.Name {
				return nil, s.nameInUse(nc.Name)
			}
		}
	}
	// Volatile: the container's record and layer are kept in the graph
	// root (they survive a reboot) but written without fsync, which
	// otherwise costs more than the rest of `run` together.
	c, err := s.cs.CreateContainer("", names, nc.Image.ID, "", string(meta), &cstorage.ContainerOptions{Volatile: true})
	if err != nil {
		if errors.Is(err, cstorage.ErrDuplicateName) {
			// containers/storage checks names; only a conflict needs the
			// holder, for Docker's message.
			return nil, s.nameInUse(nc.Name)
		}
		return nil, fmt.Errorf("creating container: %w", err)
	}
	return containerFrom(c)
}

// containerMeta is what burrow keeps in containers/storage's metadata
// field of a container.
type containerMeta struct {
	Config  ContainerConfig
	Created time.Time
}

func containerFrom(c *cstorage.Container) (*Container, error) {
	var m containerMeta
	if c.Metadata != "" {
		if err := json.Unmarshal([]byte(c.Metadata), &m); err != nil {
			return nil, fmt.Errorf("decoding container %s: %w", short(c.ID), err)
		}
	}
	out := &Container{ID: c.ID, ImageID: c.ImageID, LayerID: c.LayerID, Created: m.Created, Config: m.Config, kind: csContainers{}}
	if out.Created.IsZero() {
		out.Created = c.Created
	}
	if len(c.Names) > 0 {
		out.Name = c.Names[0]
	}
	return out, nil
}

func (csContainers) list(s *Store) ([]Container, error) {
	cs, err := s.cs.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	out := make([]Container, 0, len(cs))
	for i := range cs {
		c, err := containerFrom(&cs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, nil
}

func (csContainers) rename(s *Store, c *Container, name string) error {
	if err := s.cs.SetNames(c.ID, []string{name}); err != nil {
		return fmt.Errorf("renaming container %s: %w", short(c.ID), err)
	}
	return nil
}

func (csContainers) remove(s *Store, c *Container) error {
	unlock, err := s.lockWrite()
	if err != nil {
		return err
	}
	defer unlock()
	// Another command may have removed it while this one waited.
	if _, err := s.cs.Container(c.ID); err != nil {
		return &ContainerNotFoundError{Ref: c.Name}
	}
	// Deleting the layer unmounts it first.
	if err := s.cs.DeleteContainer(c.ID); err != nil && !errors.Is(err, cstorage.ErrContainerUnknown) {
		return fmt.Errorf("removing container %s: %w", short(c.ID), err)
	}
	return nil
}

// dir: containers/storage makes the directory (MkdirAll) whenever it is
// asked for a container it knows, and refuses one it does not.
func (csContainers) dir(s *Store, c *Container, k dirKind) (string, error) {
	if k == runDir {
		return s.cs.ContainerRunDirectory(c.ID)
	}
	return s.cs.ContainerDirectory(c.ID)
}

func (csContainers) mount(s *Store, c *Container) (string, error) {
	p, err := s.cs.Mount(c.ID, "")
	if err != nil {
		return "", fmt.Errorf("mounting the root filesystem of container %s: %w", short(c.ID), err)
	}
	return p, nil
}

func (csContainers) unmount(s *Store, c *Container) error {
	if _, err := s.cs.Unmount(c.ID, true); err != nil && !errors.Is(err, cstorage.ErrLayerNotMounted) {
		return fmt.Errorf("unmounting container %s: %w", short(c.ID), err)
	}
	return nil
}

func (csContainers) changes(s *Store, c *Container) ([]archive.Change, error) {
	return s.cs.Changes("", c.LayerID)
}

func (csContainers) diff(s *Store, c *Container) (io.ReadCloser, error) {
	return s.cs.Diff("", c.LayerID, nil)
}

func (csContainers) diffSize(s *Store, c *Container) (int64, error) {
	return s.cs.DiffSize("", c.LayerID)
}

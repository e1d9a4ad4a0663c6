package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/burrow-oci/burrow/storage/atomicfile"
)

// Endpoint is a container's connection to a user-defined network beyond
// the one it was created on (ContainerConfig.NetworkMode): what
// `network connect` records. The container joins each at start, in
// order, after its own network.
type Endpoint struct {
	Network string   // the network's name
	Aliases []string `json:",omitempty"` // --alias on that network
}

// endpointsFile is the list of a container's Endpoints in its
// ContainerDir. ContainerConfig never changes; connections do, so they
// are kept apart from it.
const endpointsFile = "endpoints.json"

// Endpoints reads the networks a container was connected to with
// `network connect`; none when it never was.
func (s *Store) Endpoints(c *Container) ([]Endpoint, error) {
	dir, err := s.ContainerDir(c)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, endpointsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the networks of container %s: %w", short(c.ID), err)
	}
	var out []Endpoint
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("decoding the networks of container %s: %w", short(c.ID), err)
	}
	return out, nil
}

// UpdateEndpoints changes a container's Endpoints under the store's write
// lock: change gets the current list and returns the new one, or an
// error that leaves the record as it was. Two connects of one container
// therefore never lose each other's change.
func (s *Store) UpdateEndpoints(c *Container, change func([]Endpoint) ([]Endpoint, error)) error {
	unlock, err := s.lockWrite()
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := s.Endpoints(c)
	if err != nil {
		return err
	}
	next, err := change(cur)
	if err != nil {
		return err
	}
	dir, err := s.ContainerDir(c)
	if err != nil {
		return err
	}
	data, err := json.Marshal(next)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, endpointsFile), data, 0o600, atomicfile.Durable); err != nil {
		return fmt.Errorf("recording the networks of container %s: %w", short(c.ID), err)
	}
	return nil
}

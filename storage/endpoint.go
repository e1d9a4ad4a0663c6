package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/burrow-oci/burrow/storage/atomicfile"
)

// Endpoint is a container's connection to a network (bridge or a
// user-defined network's name), with its aliases there.
type Endpoint struct {
	Network string
	Aliases []string `json:",omitempty"` // --network-alias, network connect --alias
}

// endpointsFile is a container's record of its networks in its
// ContainerDir, once `network connect` or `disconnect` has changed them
// from the one it was created on (ContainerConfig.NetworkMode, which
// never changes).
const endpointsFile = "endpoints.json"

// Endpoints reads the networks a container joins at start, in order, as
// network connect and disconnect recorded them; recorded is false when
// neither ever changed them (package run then knows them from the
// container's config).
func (s *Store) Endpoints(c *Container) (eps []Endpoint, recorded bool, err error) {
	dir, err := s.ContainerDir(c)
	if err != nil {
		return nil, false, err
	}
	data, err := os.ReadFile(filepath.Join(dir, endpointsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading the networks of container %s: %w", short(c.ID), err)
	}
	if err := json.Unmarshal(data, &eps); err != nil {
		return nil, false, fmt.Errorf("decoding the networks of container %s: %w", short(c.ID), err)
	}
	return eps, true, nil
}

// UpdateEndpoints changes a container's record of its networks under the
// store's write lock: change gets the record as Endpoints reads it and
// returns the new one, or an error that leaves the record as it was. Two
// connects of one container therefore never lose each other's change.
func (s *Store) UpdateEndpoints(c *Container, change func(cur []Endpoint, recorded bool) ([]Endpoint, error)) error {
	unlock, err := s.lockWrite()
	if err != nil {
		return err
	}
	defer unlock()
	cur, recorded, err := s.Endpoints(c)
	if err != nil {
		return err
	}
	next, err := change(cur, recorded)
	if err != nil {
		return err
	}
	if next == nil {
		next = []Endpoint{} // recorded: no network at all
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

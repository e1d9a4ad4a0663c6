package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/storage/atomicfile"
)

// Network is a user-defined network's record (`network create`): a small
// JSON file under the graph root, networks/NAME.json. What serves it (its
// switch process) lives in the run root; see NetworkSwitchPaths.
type Network struct {
	Name     string
	ID       string
	Created  time.Time
	Subnet   netip.Prefix
	Gateway  netip.Addr
	Internal bool              `json:",omitempty"`
	Labels   map[string]string `json:",omitempty"`
}

// PredefinedNetworks are the names every store has, which `network ls`
// shows and no user network may take: Docker's.
var PredefinedNetworks = []string{"bridge", "host", "none"}

// ErrNoSuchNetwork is a reference that names no network.
var ErrNoSuchNetwork = errors.New("network not found")

// NetworkNotFoundError is Docker's "network NAME not found".
type NetworkNotFoundError struct{ Name string }

func (e *NetworkNotFoundError) Error() string { return "network " + e.Name + " not found" }

// Is makes errors.Is(err, ErrNoSuchNetwork) true.
func (e *NetworkNotFoundError) Is(target error) bool { return target == ErrNoSuchNetwork }

// NetworkOptions are what `network create` sets.
type NetworkOptions struct {
	// Subnet is --subnet; zero: the next free 10.89.N.0/24.
	Subnet   netip.Prefix
	Internal bool
	Labels   map[string]string
}

// CheckNetworkName checks a network name against Docker's rule (that of
// container names) and the predefined names.
func CheckNetworkName(name string) error {
	if !validName(name) {
		return fmt.Errorf("invalid network name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	for _, p := range PredefinedNetworks {
		if name == p {
			return fmt.Errorf("network with name %s already exists (hint: %s is predefined)", name, name)
		}
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("_.-", r)
		if !ok {
			return false
		}
	}
	return true
}

func (s *Store) networkDir() string { return filepath.Join(s.opts.Root, "networks") }

// CreateNetwork records a new network. Under the write lock, so that two
// creates neither take one name nor one subnet.
func (s *Store) CreateNetwork(name string, o NetworkOptions) (*Network, error) {
	if err := CheckNetworkName(name); err != nil {
		return nil, err
	}
	unlock, err := s.lockWrite()
	if err != nil {
		return nil, err
	}
	defer unlock()
	nets, err := s.Networks()
	if err != nil {
		return nil, err
	}
	var used []netip.Prefix
	for _, n := range nets {
		if n.Name == name {
			return nil, fmt.Errorf("network with name %s already exists", name)
		}
		used = append(used, n.Subnet)
	}
	subnet := o.Subnet.Masked()
	if o.Subnet.IsValid() {
		if err := checkSubnet(subnet, used); err != nil {
			return nil, err
		}
	} else if subnet, err = nextSubnet(used); err != nil {
		return nil, err
	}
	n := &Network{Name: name, ID: NewID(), Created: time.Now().UTC(), Subnet: subnet,
		Gateway: subnet.Addr().Next(), Internal: o.Internal, Labels: o.Labels}
	data, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.networkDir(), 0o700); err != nil {
		return nil, fmt.Errorf("creating network %s: %w", name, err)
	}
	if err := atomicfile.Write(filepath.Join(s.networkDir(), name+".json"), data, 0o600, atomicfile.Durable); err != nil {
		return nil, fmt.Errorf("creating network %s: %w", name, err)
	}
	return n, nil
}

// checkSubnet refuses a --subnet that is not IPv4, is too small for a
// gateway and a member, or overlaps another network's (Docker's words).
func checkSubnet(p netip.Prefix, used []netip.Prefix) error {
	if !p.Addr().Is4() || p.Bits() > 30 {
		return fmt.Errorf("invalid subnet %s (hint: an IPv4 subnet of /30 or larger, such as 10.90.0.0/24)", p)
	}
	for _, u := range used {
		if u.Overlaps(p) {
			return fmt.Errorf("invalid pool request: Pool overlaps with other one on this address space (%s overlaps %s)", p, u)
		}
	}
	return nil
}

// nextSubnet is the first 10.89.N.0/24 above every one in use (Podman's
// range), or the lowest free one once N reaches 255.
func nextSubnet(used []netip.Prefix) (netip.Prefix, error) {
	free := func(p netip.Prefix) bool {
		for _, u := range used {
			if u.Overlaps(p) {
				return false
			}
		}
		return true
	}
	at := func(n int) netip.Prefix { return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 89, byte(n), 0}), 24) }
	next := 0
	for n := 0; n < 256; n++ {
		if !free(at(n)) {
			next = n + 1
		}
	}
	for n := next; n < next+256; n++ {
		if p := at(n % 256); free(p) {
			return p, nil
		}
	}
	return netip.Prefix{}, errors.New("no free subnet in 10.89.0.0/16 (hint: give one with --subnet, or remove unused networks with network prune)")
}

// Network reads a network by name, full ID or unique ID prefix, or
// returns a *NetworkNotFoundError. The predefined names are not records.
func (s *Store) Network(ref string) (*Network, error) {
	if validName(ref) {
		n, err := s.readNetwork(filepath.Join(s.networkDir(), ref+".json"))
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
	}
	nets, err := s.Networks()
	if err != nil {
		return nil, err
	}
	var found *Network
	for i := range nets {
		if ref != "" && strings.HasPrefix(nets[i].ID, ref) {
			if found != nil {
				return nil, fmt.Errorf("network %s is ambiguous (hint: give more of its ID, or its name)", ref)
			}
			found = &nets[i]
		}
	}
	if found == nil {
		return nil, &NetworkNotFoundError{Name: ref}
	}
	return found, nil
}

func (s *Store) readNetwork(path string) (*Network, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var n Network
	if err := json.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("reading network record %s: %w", path, err)
	}
	return &n, nil
}

// Networks lists the user-defined networks, by name.
func (s *Store) Networks() ([]Network, error) {
	ents, err := os.ReadDir(s.networkDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing networks: %w", err)
	}
	var out []Network
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue // atomicfile's temporaries
		}
		n, err := s.readNetwork(filepath.Join(s.networkDir(), e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *n)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

// DeleteNetwork removes a network's record. inUse, asked under the write
// lock, refuses it (with its error) while members are running; the
// caller owns what "running" means.
func (s *Store) DeleteNetwork(n *Network, inUse func() error) error {
	unlock, err := s.lockWrite()
	if err != nil {
		return err
	}
	defer unlock()
	if inUse != nil {
		if err := inUse(); err != nil {
			return err
		}
	}
	err = os.Remove(filepath.Join(s.networkDir(), n.Name+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return &NetworkNotFoundError{Name: n.Name}
	}
	if err != nil {
		return fmt.Errorf("removing network %s: %w", n.Name, err)
	}
	return nil
}

// NetworkSwitchPaths are where a network's switch process is found in the
// run root: its unix socket, and the lock under which a member connects
// to it, or starts it, and under which the switch decides to exit.
// Short names (the ID's first 12 digits): a unix socket's path is limited
// to 107 bytes.
func (s *Store) NetworkSwitchPaths(n *Network) (socket, lock string, err error) {
	dir := filepath.Join(s.opts.RunRoot, "networks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("creating %s: %w", dir, err)
	}
	id := n.ID[:12]
	return filepath.Join(dir, id+".sock"), filepath.Join(dir, id+".lock"), nil
}

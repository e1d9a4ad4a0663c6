package run

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/burrow-oci/burrow/run/network"
	"github.com/burrow-oci/burrow/storage"
)

// Docker's refusals of network connect and disconnect for the network
// modes that have no interface to add.
var (
	ErrConnectHost   = errors.New("container cannot be disconnected from host network or connected to host network")
	ErrConnectNone   = errors.New("container cannot be connected to multiple networks with one of the networks in private (none) mode")
	ErrConnectShared = errors.New("container sharing network namespace with another container or host cannot be connected to any other network")
)

// networkRequest, on a running container's exec socket, asks the process
// that holds its network (its monitor, or the foreground `burrow run`) to
// join it to one more user-defined network or to leave one: only that
// process may, being in the user namespace that owns the container's
// network namespace. Exactly one field is set.
type networkRequest struct {
	Connect    *network.Member `json:",omitempty"`
	Disconnect string          `json:",omitempty"`
}

// serveNetwork carries out a networkRequest on the container's network,
// and has p.onNetwork record the container's new addresses. The request
// follows the record: joining a network already joined, or leaving one
// never joined (after a disconnect -f that the network did not answer),
// is no error.
func serveNetwork(p *Process, req *networkRequest) execReply {
	if p == nil || p.network == nil {
		return execReply{Code: 1, Error: "the container has no network of its own to connect (hint: it runs on the host's network)"}
	}
	var err error
	if req.Connect != nil {
		if _, _, err = p.network.Connect(context.Background(), req.Connect); errors.Is(err, network.ErrAlreadyAttached) {
			err = nil
		}
	} else if err = p.network.Disconnect(req.Disconnect); errors.Is(err, network.ErrNotAttached) {
		err = nil // recorded but never joined: the record goes
	}
	if err != nil {
		return execReply{Code: 1, Error: err.Error()}
	}
	if p.onNetwork != nil {
		p.onNetwork()
	}
	return execReply{}
}

// target is the network and container of a connect or disconnect: n is
// nil for a predefined network, name its name.
type target struct {
	name string
	n    *storage.Network
	ctr  *storage.Container
	mode string // the container's own network: bridge, host, none, NAME
}

// findTarget finds the network, then the container (Docker's order), and
// refuses the network modes that cannot have more networks.
func findTarget(st *storage.Store, netRef, ctrRef string) (*target, error) {
	t := &target{name: netRef}
	if !slices.Contains(storage.PredefinedNetworks, netRef) {
		n, err := st.Network(netRef)
		if err != nil {
			return nil, err
		}
		t.n, t.name = n, n.Name
	}
	ctr, err := st.LookupContainer(ctrRef)
	if err != nil {
		return nil, err
	}
	t.ctr, t.mode = ctr, ownNetwork(ctr)
	switch {
	case strings.HasPrefix(t.mode, "container:"):
		return nil, ErrConnectShared
	case t.mode == NetworkHost || t.name == NetworkHost:
		return nil, ErrConnectHost
	case t.mode == NetworkNone || t.name == NetworkNone:
		return nil, ErrConnectNone
	}
	return t, nil
}

func (t *target) exists() error {
	return fmt.Errorf("endpoint with name %s already exists in network %s", t.ctr.Name, t.name)
}

// ConnectNetwork connects a container to a user-defined network (network
// connect), with aliases on it. The connection is recorded (a container
// joins its networks at every start, as eth1, eth2, ... after its own
// eth0); a running container joins at once, through the process that
// holds its network. On error nothing is recorded.
func ConnectNetwork(st *storage.Store, netRef, ctrRef string, aliases []string) error {
	t, err := findTarget(st, netRef, ctrRef)
	if err != nil {
		return err
	}
	switch {
	case t.name == t.mode:
		return t.exists()
	case t.n == nil: // bridge, for a container of a user-defined network
		return fmt.Errorf("connecting container %s to the default network %s is not supported (hint: connect it to a user-defined network, or create it on %s)", t.ctr.Name, t.name, t.name)
	}
	return st.UpdateEndpoints(t.ctr, func(eps []storage.Endpoint) ([]storage.Endpoint, error) {
		if slices.ContainsFunc(eps, func(e storage.Endpoint) bool { return e.Network == t.name }) {
			return nil, t.exists()
		}
		// The process that holds the container's network sets
		// HostLoopback as its own.
		m, err := memberOn(st, t.ctr, t.n, aliases, NetworkSettings{})
		if err != nil {
			return nil, err
		}
		if err := askRunning(st, t.ctr, &networkRequest{Connect: m}); err != nil {
			return nil, fmt.Errorf("connecting container %s to network %s: %w", t.ctr.Name, t.name, err)
		}
		return append(eps, storage.Endpoint{Network: t.name, Aliases: aliases}), nil
	})
}

// DisconnectNetwork undoes ConnectNetwork: the record goes, and a running
// container leaves the network at once. With force, a running container
// whose network does not answer is disconnected in the record alone. The
// network a container was created on stays (unsupported).
func DisconnectNetwork(st *storage.Store, netRef, ctrRef string, force bool) error {
	t, err := findTarget(st, netRef, ctrRef)
	if err != nil {
		return err
	}
	if t.name == t.mode {
		return fmt.Errorf("disconnecting container %s from %s, the network it was created on, is not supported (hint: recreate it with --network NAME)", t.ctr.Name, t.name)
	}
	return st.UpdateEndpoints(t.ctr, func(eps []storage.Endpoint) ([]storage.Endpoint, error) {
		i := slices.IndexFunc(eps, func(e storage.Endpoint) bool { return e.Network == t.name })
		if i < 0 {
			return nil, fmt.Errorf("container %s is not connected to network %s", t.ctr.Name, t.name)
		}
		if err := askRunning(st, t.ctr, &networkRequest{Disconnect: t.name}); err != nil && !force {
			return nil, fmt.Errorf("disconnecting container %s from network %s: %w (hint: -f disconnects it in the record alone)", t.ctr.Name, t.name, err)
		}
		return slices.Delete(eps, i, i+1), nil
	})
}

// askRunning sends req to the process that holds the container's network
// when it runs; nil when it does not (the record is then all there is).
func askRunning(st *storage.Store, ctr *storage.Container, req *networkRequest) error {
	if s, err := State(st, ctr); err != nil || s.Status != storage.StatusRunning {
		return err
	}
	dir, err := st.ContainerRunDir(ctr)
	if err != nil {
		return err
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer null.Close()
	_, err = send(dir, request{Network: req}, Stdio{null, null, null}, nil, nil)
	if errors.Is(err, ErrNotRunning) {
		return nil // it ended meanwhile
	}
	var se *StartError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// connectEndpoints joins a starting container's network to the networks
// it was connected to (Endpoints), in order.
func connectEndpoints(ctx context.Context, st *storage.Store, ctr *storage.Container, net *network.Network, ns NetworkSettings) error {
	eps, err := st.Endpoints(ctr)
	if err != nil || len(eps) == 0 {
		return err
	}
	for _, e := range eps {
		n, err := st.Network(e.Network)
		if err != nil {
			return err
		}
		m, err := memberOn(st, ctr, n, e.Aliases, ns)
		if err != nil {
			return err
		}
		if _, _, err := net.Connect(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// EndpointDoc is a network's entry in a container's
// NetworkSettings.Networks, with Docker's fields.
type EndpointDoc struct {
	IPAMConfig                                 any
	Links, Aliases, DNSNames                   []string
	MacAddress, NetworkID, EndpointID, Gateway string
	IPAddress, IPv6Gateway, GlobalIPv6Address  string
	IPPrefixLen, GlobalIPv6PrefixLen           int
	DriverOpts                                 map[string]string
}

// EndpointDocs are a container's networks as inspect shows them: the one
// it was created on and those it was connected to, with their addresses
// while it runs.
func EndpointDocs(st *storage.Store, ctr *storage.Container, state storage.ContainerState) map[string]EndpointDoc {
	mode := ownNetwork(ctr)
	out := map[string]EndpointDoc{}
	add := func(name string, aliases []string, ip string) {
		d := EndpointDoc{Aliases: aliases, IPAddress: ip}
		if name == NetworkHost || name == NetworkNone {
			out[name] = d
			return
		}
		d.NetworkID = predefined(name).ID
		if n, err := st.Network(name); err == nil {
			d.NetworkID = n.ID
			d.Gateway, d.IPPrefixLen = n.Gateway.String(), n.Subnet.Bits()
		} else if name == NetworkBridge && ip != "" {
			d.Gateway, d.IPPrefixLen = network.DefaultGateway, 24
		}
		if a, err := netip.ParseAddr(ip); err == nil {
			d.MacAddress = network.MACOf(a).String()
			d.DNSNames = append([]string{ctr.Name, ctr.ID[:12]}, aliases...)
		} else {
			d.Gateway, d.IPPrefixLen = "", 0
		}
		out[name] = d
	}
	add(mode, ctr.Config.NetworkAliases, state.IPAddress)
	eps, _ := st.Endpoints(ctr)
	for _, e := range eps {
		add(e.Network, e.Aliases, state.NetworkIPs[e.Network])
	}
	return out
}

// ContainerNetworks are the names of a container's networks: its own
// then those it was connected to (ps's NETWORKS column).
func ContainerNetworks(st *storage.Store, ctr *storage.Container) []string {
	out := []string{ownNetwork(ctr)}
	eps, _ := st.Endpoints(ctr)
	for _, e := range eps {
		out = append(out, e.Network)
	}
	return out
}

// ownNetwork is the network a container was created on: its NetworkMode,
// bridge when none was recorded.
func ownNetwork(ctr *storage.Container) string {
	if ctr.Config.NetworkMode == "" {
		return NetworkBridge
	}
	return ctr.Config.NetworkMode
}

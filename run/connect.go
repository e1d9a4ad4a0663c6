package run

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"

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
		return execReply{Code: 1, Error: "it runs without a network namespace of its own to change (hint: stop it, connect it, and start it again)"}
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
	case NetworkContainer(t.mode) != "":
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

// seed is a container's record of its networks, or the one it was
// created on when there is none yet (findTarget has refused the modes
// that have no network to record).
func (t *target) seed(cur []storage.Endpoint, recorded bool) []storage.Endpoint {
	if recorded {
		return cur
	}
	return []storage.Endpoint{{Network: t.mode, Aliases: t.ctr.Config.NetworkAliases}}
}

func (t *target) index(eps []storage.Endpoint) int {
	return slices.IndexFunc(eps, func(e storage.Endpoint) bool { return e.Network == t.name })
}

// ConnectNetwork connects a container to a network (network connect),
// with aliases on it. The connection is recorded: a container joins its
// networks at every start (see joins). A running container joins a
// user-defined network at once, through the process that holds its
// network; the default network (bridge) it joins at its next start. On
// error nothing is recorded.
func ConnectNetwork(st *storage.Store, netRef, ctrRef string, aliases []string) error {
	t, err := findTarget(st, netRef, ctrRef)
	if err != nil {
		return err
	}
	return st.UpdateEndpoints(t.ctr, func(cur []storage.Endpoint, recorded bool) ([]storage.Endpoint, error) {
		eps := t.seed(cur, recorded)
		if t.index(eps) >= 0 {
			return nil, t.exists()
		}
		running, err := isRunning(st, t.ctr)
		switch {
		case err != nil:
			return nil, err
		case running && t.n == nil:
			return nil, fmt.Errorf("connecting running container %s to the default network %s is not supported (hint: stop it, connect it, and start it again)", t.ctr.Name, t.name)
		case running:
			// The process that holds the container's network sets
			// HostLoopback as its own.
			m, err := memberOn(st, t.ctr, t.n, aliases, NetworkSettings{})
			if err == nil {
				err = ask(st, t.ctr, &networkRequest{Connect: m})
			}
			if err != nil {
				return nil, fmt.Errorf("connecting container %s to network %s: %w", t.ctr.Name, t.name, err)
			}
		}
		return append(eps, storage.Endpoint{Network: t.name, Aliases: aliases}), nil
	})
}

// DisconnectNetwork undoes ConnectNetwork, for the network a container
// was created on too: the record changes, and a running container leaves
// the network at once (not the one of its eth0, which it keeps until it
// stops). With force, a running container whose network does not answer
// is disconnected in the record alone.
func DisconnectNetwork(st *storage.Store, netRef, ctrRef string, force bool) error {
	t, err := findTarget(st, netRef, ctrRef)
	if err != nil {
		return err
	}
	return st.UpdateEndpoints(t.ctr, func(cur []storage.Endpoint, recorded bool) ([]storage.Endpoint, error) {
		eps := t.seed(cur, recorded)
		i := t.index(eps)
		if i < 0 {
			return nil, fmt.Errorf("container %s is not connected to network %s", t.ctr.Name, t.name)
		}
		running, err := isRunning(st, t.ctr)
		switch {
		case err != nil:
			return nil, err
		case running && inOrder(eps)[0].Network == t.name:
			return nil, fmt.Errorf("disconnecting running container %s from %s, the network of its eth0, is not supported (hint: stop it first)", t.ctr.Name, t.name)
		case running:
			if err := ask(st, t.ctr, &networkRequest{Disconnect: t.name}); err != nil && !force {
				return nil, fmt.Errorf("disconnecting container %s from network %s: %w (hint: -f disconnects it in the record alone)", t.ctr.Name, t.name, err)
			}
		}
		return slices.Delete(eps, i, i+1), nil
	})
}

// isRunning reports whether a container runs now.
func isRunning(st *storage.Store, ctr *storage.Container) (bool, error) {
	s, err := State(st, ctr)
	return err == nil && s.Status == storage.StatusRunning, err
}

// ask sends req to the process that holds a running container's
// network; nil when nobody serves it (it ended meanwhile: the record is
// then all there is).
func ask(st *storage.Store, ctr *storage.Container, req *networkRequest) error {
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
		return nil
	}
	var se *StartError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// joinable reports whether a container of network mode mode has
// networks to join: bridge and user-defined networks, not host, none or
// another container's.
func joinable(mode string) bool {
	return mode == NetworkBridge || IsUserNetwork(mode)
}

// joins are the networks a container joins at start, in order: those its
// record lists (network connect and disconnect) or, without one, the one
// it was created on with its --network-alias. Bridge comes first when it
// is among them: the default network's stack serves eth0 only. None for
// the modes that are not joinable.
func joins(st *storage.Store, ctr *storage.Container) ([]storage.Endpoint, error) {
	mode := ownNetwork(ctr)
	if !joinable(mode) {
		return nil, nil
	}
	eps, recorded, err := st.Endpoints(ctr)
	if err != nil {
		return nil, err
	}
	if !recorded {
		return []storage.Endpoint{{Network: mode, Aliases: ctr.Config.NetworkAliases}}, nil
	}
	return inOrder(eps), nil
}

// inOrder is eps with bridge first, the others in their order.
func inOrder(eps []storage.Endpoint) []storage.Endpoint {
	out := slices.Clone(eps)
	slices.SortStableFunc(out, func(a, b storage.Endpoint) int {
		switch {
		case a.Network == b.Network || a.Network != NetworkBridge && b.Network != NetworkBridge:
			return 0
		case a.Network == NetworkBridge:
			return -1
		}
		return 1
	})
	return out
}

// startNetworks are what a starting container's network is made of: the
// mode its spec and /etc files get (bridge for a namespace of its own,
// none when it was disconnected from every network), the member of a
// user-defined network that serves its eth0 (nil: the default network
// does), and the networks it joins after (Network.Connect).
func startNetworks(st *storage.Store, ctr *storage.Container, ns NetworkSettings) (mode string, member *network.Member, more []storage.Endpoint, err error) {
	mode = ownNetwork(ctr)
	if !joinable(mode) {
		return mode, nil, nil, nil
	}
	list, err := joins(st, ctr)
	switch {
	case err != nil:
		return "", nil, nil, err
	case len(list) == 0:
		return NetworkNone, nil, nil, nil
	case list[0].Network == NetworkBridge:
		return NetworkBridge, nil, list[1:], nil
	}
	n, err := st.Network(list[0].Network)
	if err != nil {
		return "", nil, nil, err
	}
	member, err = memberOn(st, ctr, n, list[0].Aliases, ns)
	return NetworkBridge, member, list[1:], err
}

// connectEndpoints joins a starting container's network to the networks
// after its first (startNetworks), in order.
func connectEndpoints(ctx context.Context, st *storage.Store, ctr *storage.Container, net *network.Network, ns NetworkSettings, eps []storage.Endpoint) error {
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

// EndpointDocs are a container's networks as inspect shows them, with
// their addresses while it runs (the first of joins is its eth0's).
func EndpointDocs(st *storage.Store, ctr *storage.Container, state storage.ContainerState) map[string]EndpointDoc {
	out := map[string]EndpointDoc{}
	if mode := ownNetwork(ctr); !joinable(mode) {
		if NetworkContainer(mode) == "" { // in another's: none of its own, as Docker shows
			out[mode] = EndpointDoc{}
		}
		return out
	}
	list, _ := joins(st, ctr)
	for i, e := range list {
		ip := state.NetworkIPs[e.Network]
		if i == 0 {
			ip = state.IPAddress
		}
		out[e.Network] = endpointDoc(st, ctr, e, ip)
	}
	return out
}

// endpointDoc is one network's entry in EndpointDocs.
func endpointDoc(st *storage.Store, ctr *storage.Container, e storage.Endpoint, ip string) EndpointDoc {
	d := EndpointDoc{Aliases: e.Aliases, IPAddress: ip, NetworkID: predefined(e.Network).ID}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return d
	}
	d.MacAddress = network.MACOf(a).String()
	d.DNSNames = append([]string{ctr.Name, ctr.ID[:12]}, e.Aliases...)
	if n, err := st.Network(e.Network); err == nil {
		d.NetworkID, d.Gateway, d.IPPrefixLen = n.ID, n.Gateway.String(), n.Subnet.Bits()
	} else if e.Network == NetworkBridge {
		d.Gateway, d.IPPrefixLen = network.DefaultGateway, 24
	}
	return d
}

// ContainerNetworks are the names of a container's networks (ps's
// NETWORKS column): those it joins, or its mode (host, none).
func ContainerNetworks(st *storage.Store, ctr *storage.Container) []string {
	if mode := ownNetwork(ctr); !joinable(mode) {
		if NetworkContainer(mode) != "" {
			return nil // in another's: none of its own, as Docker shows
		}
		return []string{mode}
	}
	list, _ := joins(st, ctr)
	var out []string
	for _, e := range list {
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

package run

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/run/network"
	"github.com/burrow-oci/burrow/storage"
)

// SwitchCommand is the hidden subcommand that runs a user-defined
// network's switch process; its action calls ServeSwitch.
const SwitchCommand = network.SwitchCommand

// ServeSwitch is the body of a network's switch process: see
// network.ServeSwitch. It never opens the store.
func ServeSwitch(ctx context.Context, arg string) error { return network.ServeSwitch(ctx, arg, nil) }

// IsUserNetwork reports whether a container's NetworkMode names a
// user-defined network rather than bridge, host or none.
func IsUserNetwork(mode string) bool {
	return mode != "" && mode != NetworkBridge && mode != NetworkHost && mode != NetworkNone &&
		!strings.HasPrefix(mode, containerNetworkPrefix)
}

// memberOn describes the container as a member of network n with
// aliases, for network.New and Network.Connect.
func memberOn(st *storage.Store, ctr *storage.Container, n *storage.Network, aliases []string, ns NetworkSettings) (*network.Member, error) {
	sock, lock, err := st.NetworkSwitchPaths(n)
	if err != nil {
		return nil, err
	}
	return &network.Member{ID: ctr.ID, Name: ctr.Name, Aliases: aliases,
		Switch: network.SwitchConfig{Name: n.Name, Subnet: n.Subnet, Gateway: n.Gateway, Internal: n.Internal,
			HostLoopback: ns.HostLoopback, Socket: sock, Lock: lock}}, nil
}

// NetworkMember is a running container on a network.
type NetworkMember struct {
	ID, Name, IPAddress string
}

// NetworkMembers are the running containers of each user-defined
// network, by network name.
func NetworkMembers(st *storage.Store) (map[string][]NetworkMember, error) {
	ctrs, err := st.Containers()
	if err != nil {
		return nil, err
	}
	out := map[string][]NetworkMember{}
	for i := range ctrs {
		c := &ctrs[i]
		s, err := State(st, c)
		if err != nil || s.Status != storage.StatusRunning {
			continue
		}
		list, err := joins(st, c)
		if err != nil {
			return nil, err
		}
		for i, e := range list {
			// The first is eth0's; the others count while they are
			// joined (not when recorded since the start).
			ip, joined := s.NetworkIPs[e.Network]
			if i == 0 {
				ip, joined = s.IPAddress, true
			}
			if joined && e.Network != NetworkBridge {
				out[e.Network] = append(out[e.Network], NetworkMember{ID: c.ID, Name: c.Name, IPAddress: ip})
			}
		}
	}
	return out, nil
}

// NetworkInUseError refuses to remove a network with running members, in
// Docker's words.
type NetworkInUseError struct {
	Name, ID string
	Members  []string
}

func (e *NetworkInUseError) Error() string {
	return fmt.Sprintf("error while removing network: network %s id %s has active endpoints (hint: stop or remove %s first)",
		e.Name, e.ID, strings.Join(e.Members, ", "))
}

// RemoveNetwork removes a user-defined network none of whose members
// runs (stopped members stay, and fail to start until a network of that
// name exists again, as Docker's do). Members of a switch killed with
// kill -9 still count until they end.
func RemoveNetwork(st *storage.Store, ref string) (*storage.Network, error) {
	for _, p := range storage.PredefinedNetworks {
		if ref == p {
			return nil, fmt.Errorf("%s is a pre-defined network and cannot be removed", ref)
		}
	}
	n, err := st.Network(ref)
	if err != nil {
		return nil, err
	}
	return n, st.DeleteNetwork(n, func() error {
		members, err := NetworkMembers(st)
		if err != nil {
			return err
		}
		if m := members[n.Name]; len(m) > 0 {
			e := &NetworkInUseError{Name: n.Name, ID: n.ID}
			for _, c := range m {
				e.Members = append(e.Members, c.Name)
			}
			return e
		}
		return nil
	})
}

// PruneNetworks removes the user-defined networks without running
// members that keep does not keep, and returns their names.
func PruneNetworks(st *storage.Store, keep func(*storage.Network) bool) ([]string, error) {
	nets, err := st.Networks()
	if err != nil {
		return nil, err
	}
	var out []string
	for i := range nets {
		if keep != nil && keep(&nets[i]) {
			continue
		}
		if _, err := RemoveNetwork(st, nets[i].Name); err == nil {
			out = append(out, nets[i].Name)
		}
	}
	return out, nil
}

// NetworkInfo is a network as ls and inspect show it: a user-defined
// network's record, or a predefined one's (no subnet), with its driver
// and running members.
type NetworkInfo struct {
	storage.Network
	Driver  string // "bridge", "host" or "null", as Docker names them
	Members []NetworkMember
}

// predefined is the record of bridge, host or none: a fixed ID (a hash
// of the name), no subnet shown.
func predefined(name string) NetworkInfo {
	sum := sha256.Sum256([]byte("burrow predefined network " + name))
	driver := map[string]string{"bridge": "bridge", "host": "host", "none": "null"}[name]
	return NetworkInfo{Network: storage.Network{Name: name, ID: hex.EncodeToString(sum[:])}, Driver: driver}
}

// Networks lists the predefined networks then the user-defined ones that
// meet every filter: Docker's name=, id= (prefixes), label=KEY[=VALUE],
// driver= and type=custom|builtin.
func Networks(st *storage.Store, filters []string) ([]NetworkInfo, error) {
	var tests []func(*NetworkInfo) bool
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			return nil, fmt.Errorf("bad format of filter (expected name=value): %q", f)
		case k == "name":
			tests = append(tests, func(n *NetworkInfo) bool { return strings.Contains(n.Name, v) })
		case k == "id":
			tests = append(tests, func(n *NetworkInfo) bool { return strings.HasPrefix(n.ID, v) })
		case k == "driver":
			tests = append(tests, func(n *NetworkInfo) bool { return n.Driver == v })
		case k == "type" && (v == "custom" || v == "builtin"):
			tests = append(tests, func(n *NetworkInfo) bool { return n.Subnet.IsValid() == (v == "custom") })
		case k == "label":
			tests = append(tests, func(n *NetworkInfo) bool { return storage.HasLabel(n.Labels, v) })
		default:
			return nil, fmt.Errorf("invalid filter '%s'", f)
		}
	}
	nets, err := st.Networks()
	if err != nil {
		return nil, err
	}
	members, err := NetworkMembers(st)
	if err != nil {
		return nil, err
	}
	var all, out []NetworkInfo
	for _, p := range storage.PredefinedNetworks {
		all = append(all, predefined(p))
	}
	for _, n := range nets {
		all = append(all, NetworkInfo{Network: n, Driver: "bridge", Members: members[n.Name]})
	}
next:
	for i := range all {
		for _, t := range tests {
			if !t(&all[i]) {
				continue next
			}
		}
		out = append(out, all[i])
	}
	return out, nil
}

// InspectNetwork finds one network by name, ID or ID prefix.
func InspectNetwork(st *storage.Store, ref string) (NetworkInfo, error) {
	for _, p := range storage.PredefinedNetworks {
		if ref == p {
			return predefined(p), nil
		}
	}
	n, err := st.Network(ref)
	if err != nil {
		return NetworkInfo{}, err
	}
	members, err := NetworkMembers(st)
	return NetworkInfo{Network: *n, Driver: "bridge", Members: members[n.Name]}, err
}

// NetworkDoc is `network inspect`'s document, with Docker's fields.
type NetworkDoc struct {
	Name, Id, Created, Scope, Driver string //nolint:revive // Docker's field names
	EnableIPv6                       bool
	IPAM                             struct {
		Driver  string
		Options map[string]string
		Config  []map[string]string
	}
	Internal, Attachable, Ingress bool
	Containers                    map[string]map[string]string
	Options, Labels               map[string]string
}

// Doc is n as `network inspect` shows it.
func (n *NetworkInfo) Doc() NetworkDoc {
	d := NetworkDoc{Name: n.Name, Id: n.ID, Created: n.Created.Format(time.RFC3339Nano), Scope: "local", Driver: n.Driver,
		Internal: n.Internal, Containers: map[string]map[string]string{}, Options: map[string]string{}, Labels: n.Labels}
	d.IPAM.Driver, d.IPAM.Options, d.IPAM.Config = "default", map[string]string{}, []map[string]string{}
	if n.Subnet.IsValid() {
		d.IPAM.Config = append(d.IPAM.Config, map[string]string{"Subnet": n.Subnet.String(), "Gateway": n.Gateway.String()})
	}
	for _, m := range n.Members {
		d.Containers[m.ID] = map[string]string{"Name": m.Name, "IPv4Address": fmt.Sprintf("%s/%d", m.IPAddress, n.Subnet.Bits()), "IPv6Address": ""}
		if a, err := netip.ParseAddr(m.IPAddress); err == nil {
			d.Containers[m.ID]["MacAddress"] = network.MACOf(a).String()
		}
	}
	return d
}

// NetworkRow is a line of `network ls`, with Docker's template fields.
type NetworkRow struct {
	ID, Name, Driver, Scope, Labels, CreatedAt string
	Internal                                   bool
}

// Row is n as `network ls` shows it; the ID is cut to 12 digits unless
// full.
func (n *NetworkInfo) Row(full bool) NetworkRow {
	r := NetworkRow{ID: n.ID, Name: n.Name, Driver: n.Driver, Scope: "local", Internal: n.Internal,
		CreatedAt: n.Created.Local().Format("2006-01-02 15:04:05 -0700 MST")}
	if !full {
		r.ID = r.ID[:12]
	}
	var labels []string
	for k, v := range n.Labels {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	r.Labels = strings.Join(labels, ",")
	return r
}

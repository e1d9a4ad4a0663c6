package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// attachment is a user-defined network the container joined beyond its
// own (network connect): ethN in its namespace, served by that network's
// switch like a member's eth0, with no default route (that stays on
// eth0).
type attachment struct {
	network string // the network's name
	ifname  string
	socket  string // the switch's, for DNS lookups from the other networks
	member  *member
	addr    addressing
}

// attachments are a Network's attachments; the zero value has none.
type attachments struct {
	mu     sync.Mutex
	list   []*attachment
	closed bool // by Network.Close: no more Connect
}

// close leaves every attached network and refuses more.
func (as *attachments) close() {
	as.mu.Lock()
	defer as.mu.Unlock()
	for _, a := range as.list {
		a.member.close()
	}
	as.list, as.closed = nil, true
}

// ErrAlreadyAttached is a Connect to a network the container is on.
var ErrAlreadyAttached = errors.New("already on the network")

// ErrNotAttached is a Disconnect from a network Connect did not join.
var ErrNotAttached = errors.New("not connected to the network")

// Connect joins the container's namespace to one more user-defined
// network: the network's switch (started when none serves it, as for a
// member's eth0) gives an address, the next free ethN is made with it in
// the namespace, and its tap is handed to the switch. The default route
// stays where it was; the switch, if started, reaches the host's loopback
// as this network does (Options.HostLoopback), whatever m says. It
// returns the interface's name and address. It
// needs a namespace with a tap (not the loopback-only one); safe for
// concurrent use with itself and Disconnect.
func (n *Network) Connect(ctx context.Context, m *Member) (ifname string, ip netip.Addr, err error) {
	if n.ns == nil || !n.tapped() {
		return "", netip.Addr{}, fmt.Errorf("joining network %s: the container has no network interface to add to (hint: user-defined networks need /dev/net/tun)", m.Switch.Name)
	}
	n.att.mu.Lock()
	defer n.att.mu.Unlock()
	if n.att.closed {
		return "", netip.Addr{}, fmt.Errorf("joining network %s: %w", m.Switch.Name, net.ErrClosed)
	}
	if n.memberOf == m.Switch.Name || n.attached(m.Switch.Name) != nil {
		return "", netip.Addr{}, ErrAlreadyAttached
	}
	mc := *m
	mc.Switch.HostLoopback = n.hostLoopback
	mem, a, err := join(ctx, &mc)
	if err != nil {
		return "", netip.Addr{}, err
	}
	at := &attachment{network: m.Switch.Name, ifname: n.freeIfname(), socket: m.Switch.Socket, member: mem, addr: a}
	var tap int
	err = n.inNamespace(func(h *netlink.Handle) error {
		var err error
		if tap, err = openTap(at.ifname); err != nil {
			return err
		}
		if err = configureLink(h, at.ifname, a, false); err == nil {
			if err = h.RuleAdd(subnetRule(a.subnet)); err != nil {
				err = fmt.Errorf("routing %s by the main table: %w", a.subnet, err)
			}
		}
		if err != nil {
			unix.Close(tap)
			if l, lerr := h.LinkByName(at.ifname); lerr == nil {
				_ = h.LinkDel(l)
			}
		}
		return err
	})
	if err == nil {
		err = mem.sendTap(tap)
		unix.Close(tap) // the switch has its copy; the device persists
	}
	if err != nil {
		mem.close()
		n.deleteLink(at.ifname, a.subnet)
		return "", netip.Addr{}, fmt.Errorf("joining network %s: %w", m.Switch.Name, err)
	}
	n.att.list = append(n.att.list, at)
	n.tellPeers()
	return at.ifname, a.container, nil
}

// Disconnect takes the container off a network Connect joined: its ethN
// goes and the switch forgets it. ErrNotAttached when it is not on it.
func (n *Network) Disconnect(network string) error {
	n.att.mu.Lock()
	defer n.att.mu.Unlock()
	at := n.attached(network)
	if at == nil {
		return ErrNotAttached
	}
	for i, a := range n.att.list {
		if a == at {
			n.att.list = append(n.att.list[:i:i], n.att.list[i+1:]...)
			break
		}
	}
	at.member.close()
	n.tellPeers()
	return n.deleteLink(at.ifname, at.addr.subnet)
}

// Attached are the addresses of the networks Connect joined, by network
// name.
func (n *Network) Attached() map[string]string {
	n.att.mu.Lock()
	defer n.att.mu.Unlock()
	if len(n.att.list) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, a := range n.att.list {
		out[a.network] = a.addr.container.String()
	}
	return out
}

// attached finds an attachment by network name; the caller holds att.mu.
func (n *Network) attached(network string) *attachment {
	for _, a := range n.att.list {
		if a.network == network {
			return a
		}
	}
	return nil
}

// freeIfname is the lowest ethN (N >= 1) no attachment has; the caller
// holds att.mu.
func (n *Network) freeIfname() string {
	for i := 1; ; i++ {
		name := "eth" + strconv.Itoa(i)
		taken := false
		for _, a := range n.att.list {
			taken = taken || a.ifname == name
		}
		if !taken {
			return name
		}
	}
}

// tellPeers sends each switch the container is a member of the sockets
// of its other networks' switches, where it asks the names it does not
// know itself when the container queries it (see update). The caller
// holds att.mu.
func (n *Network) tellPeers() {
	type conn struct {
		m      *member
		socket string
	}
	var all []conn
	if n.member != nil {
		all = append(all, conn{n.member, n.memberSocket})
	}
	for _, a := range n.att.list {
		all = append(all, conn{a.member, a.socket})
	}
	for _, c := range all {
		u := update{Peers: []string{}}
		for _, o := range all {
			if o.m != c.m {
				u.Peers = append(u.Peers, o.socket)
			}
		}
		_ = json.NewEncoder(c.m.conn).Encode(u)
	}
}

// lookupAttached asks the switch of each network Connect joined for
// name: the default network's DNS server answers names of those
// networks' members as their own switches do.
func (n *Network) lookupAttached(_ netip.Addr, name string) (netip.Addr, bool) {
	n.att.mu.Lock()
	var socks []string
	for _, a := range n.att.list {
		socks = append(socks, a.socket)
	}
	n.att.mu.Unlock()
	return lookupSwitches(socks, name)
}

// inNamespace runs f on a new OS thread that has joined the container's
// namespace, with a netlink handle in it. The thread is never unlocked:
// the runtime ends it with f's goroutine.
func (n *Network) inNamespace(f func(h *netlink.Handle) error) error {
	res := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(n.ns.fd, unix.CLONE_NEWNET); err != nil {
			res <- fmt.Errorf("entering the container's network namespace: %w", err)
			return
		}
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			res <- fmt.Errorf("configuring the network namespace: %w", err)
			return
		}
		defer h.Close()
		res <- f(h)
	}()
	return <-res
}

// subnetRule routes what the container sends to an attached network's
// subnet by the main table, ahead of the rules of published UDP ports
// (setUpTransparent), which would route a reply from such a port to a
// member of that network back into the container.
func subnetRule(subnet netip.Prefix) *netlink.Rule {
	r := netlink.NewRule()
	r.Family, r.Table, r.Priority = unix.AF_INET, unix.RT_TABLE_MAIN, transparentPrio-1
	r.Dst = &net.IPNet{IP: subnet.Addr().AsSlice(), Mask: net.CIDRMask(subnet.Bits(), 32)}
	return r
}

// deleteLink removes an interface from the namespace (a persistent tap
// outlives its descriptors), and the rule of its subnet when given.
func (n *Network) deleteLink(ifname string, subnet netip.Prefix) error {
	return n.inNamespace(func(h *netlink.Handle) error {
		if subnet.IsValid() {
			_ = h.RuleDel(subnetRule(subnet))
		}
		l, err := h.LinkByName(ifname)
		if err != nil {
			return nil // never made, or gone
		}
		if err := h.LinkDel(l); err != nil {
			return fmt.Errorf("removing %s: %w", ifname, err)
		}
		return nil
	})
}

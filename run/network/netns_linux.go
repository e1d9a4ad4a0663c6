package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// namespace is the container's network namespace, its tap, and the OS
// thread that made it. The thread stays in the namespace, locked, for as
// long as published ports need sockets opened there (splice); it is never
// unlocked, so the Go runtime ends it with its goroutine rather than let
// another goroutine run in the container's namespace.
type namespace struct {
	fd     int   // O_CLOEXEC; Path names it for the OCI runtime
	tap    int   // -1 without a tap
	tapErr error // why there is no tap, when there is none
	// transparent is set when a spliced connection can come from its
	// client's own address (see setUpTransparent); transparentErr says
	// why not.
	transparent    bool
	transparentErr error
	reqs           chan dialReq
	done           chan struct{}
}

type dialReq struct {
	network, addr string
	// from, if valid, is the address the connection comes from (a
	// published port's client), with transparent set.
	from netip.AddrPort
	// drop ends a UDP flow from from to addr's port: its reply rule goes
	// when its client has no other flow to that port.
	drop bool
	res  chan dialRes
}

type dialRes struct {
	c   net.Conn
	err error
}

// noTunErrors are the errors of opening /dev/net/tun that mean "not
// usable here": mode 0600 (EACCES), absent in many CI containers
// (ENOENT), refused by a device cgroup (EPERM), no tun driver (ENODEV,
// ENXIO). They select the loopback-only namespace; any other is an error.
var noTunErrors = []error{unix.EACCES, unix.ENOENT, unix.EPERM, unix.ENODEV, unix.ENXIO}

// newNamespace makes the namespace on a new locked thread, with lo up
// and, unless noTap, eth0 configured. With keep, the thread then serves
// dial requests until close.
func newNamespace(noTap, keep bool, a addressing) (*namespace, error) {
	ns := &namespace{fd: -1, tap: -1, done: make(chan struct{})}
	if keep {
		ns.reqs = make(chan dialReq)
	}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see namespace
		err := ns.setUp(noTap, a)
		ready <- err
		if err != nil || !keep {
			return
		}
		ns.serveDials()
	}()
	if err := <-ready; err != nil {
		ns.close()
		return nil, err
	}
	return ns, nil
}

// setUp runs on the locked thread.
func (ns *namespace) setUp(noTap bool, a addressing) error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("creating a network namespace: unshare(CLONE_NEWNET): %w", err)
	}
	fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the new network namespace: %w", err)
	}
	ns.fd = fd
	// The handle's sockets are made on this thread, so in the namespace.
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("configuring the network namespace: %w", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("bringing up lo: %w", err)
	}
	if noTap {
		ns.tapErr = errors.New("no tap asked for")
		return nil
	}
	if err := ns.openTap(); err != nil {
		for _, e := range noTunErrors {
			if errors.Is(err, e) {
				ns.tapErr = err
				return nil
			}
		}
		return err
	}
	if err := configureTap(h, a); err != nil {
		return err
	}
	if ns.reqs != nil {
		ns.transparentErr = setUpTransparent(h, a.container)
		ns.transparent = ns.transparentErr == nil
	}
	return nil
}

// The mark and routing table of connections spliced from a published
// port's remote client (setUpTransparent).
const (
	transparentMark  = 0x62757272 // "burr"
	transparentTable = 0x6275
	transparentPrio  = 100
)

// setUpTransparent lets a connection spliced from a published port come
// from its client's own address, so that the container sees who connects
// (podman#5138) at the speed of a kernel socket rather than through the
// stack. The socket opened here is bound to the client's address with
// IP_TRANSPARENT and marked; tcp_fwmark_accept gives the container's
// accepted socket the same mark, and the marked replies, addressed to the
// client, are routed by a rule to a table where every address is local,
// so they reach that socket over lo instead of leaving by eth0 (with the
// container's own address as their source when the socket did not choose
// one: an unbound UDP server's). UDP has no accepted socket to carry a
// mark: while a remote client's flow lasts, a rule routes what the
// container sends from the published port to that client the same way
// (addUDPRule). Runs on the namespace's locked thread.
func setUpTransparent(h *netlink.Handle, self netip.Addr) error {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	route := &netlink.Route{Table: transparentTable, Type: unix.RTN_LOCAL, Scope: netlink.SCOPE_HOST,
		LinkIndex: lo.Attrs().Index, Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, Src: self.AsSlice()}
	if err := h.RouteAdd(route); err != nil {
		return fmt.Errorf("adding the local route of the transparent table: %w", err)
	}
	rule := netlink.NewRule()
	rule.Family, rule.Mark, rule.Table, rule.Priority = unix.AF_INET, transparentMark, transparentTable, transparentPrio
	if err := h.RuleAdd(rule); err != nil {
		return fmt.Errorf("adding the rule of marked replies: %w", err)
	}
	// /proc/sys/net is the namespace of the thread that opens it.
	if err := os.WriteFile("/proc/sys/net/ipv4/tcp_fwmark_accept", []byte("1"), 0); err != nil {
		return fmt.Errorf("setting tcp_fwmark_accept: %w", err)
	}
	return nil
}

// transparentDialer dials network ("tcp" or "udp") from a client's
// address (setUpTransparent).
func transparentDialer(network string, from netip.AddrPort) *net.Dialer {
	var local net.Addr = net.TCPAddrFromAddrPort(from)
	if network == "udp" {
		local = net.UDPAddrFromAddrPort(from)
	}
	return &net.Dialer{
		Timeout:   5 * time.Second,
		LocalAddr: local,
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_TRANSPARENT, 1)
				if serr == nil {
					serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, transparentMark)
				}
			})
			if err != nil {
				return err
			}
			return serr
		},
	}
}

// openTap creates eth0 in the thread's namespace: /dev/net/tun makes the
// device in the namespace it is opened in.
func (ns *namespace) openTap() error {
	fd, err := openTap(tapName)
	if err != nil {
		return err
	}
	ns.tap = fd
	return nil
}

// openTap creates the tap device name in the calling thread's namespace
// and returns its descriptor.
func openTap(name string) (int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err == nil {
		ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
		err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
	}
	if err == nil {
		// Persistent, the device goes with the namespace, which the
		// kernel tears down in a work queue: closing a non-persistent
		// tap unregisters it synchronously, 16-45 ms measured here, on
		// the path of every Close and of the exit of its process.
		err = unix.IoctlSetInt(fd, unix.TUNSETPERSIST, 1)
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("creating the tap device %s: %w", name, err)
	}
	return fd, nil
}

func configureTap(h *netlink.Handle, a addressing) error {
	return configureLink(h, tapName, a, true)
}

// configureLink gives the interface ifname its MTU, MAC address and
// address, brings it up and, with defaultRoute, routes everything beyond
// its subnet through a's gateway.
func configureLink(h *netlink.Handle, ifname string, a addressing, defaultRoute bool) error {
	link, err := h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("configuring %s: %w", ifname, err)
	}
	mac := a.containerMAC
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: a.container.AsSlice(), Mask: net.CIDRMask(a.subnet.Bits(), 32)}}
	steps := []struct {
		what string
		do   func() error
	}{
		{"setting its MTU", func() error { return h.LinkSetMTU(link, mtu) }},
		{"setting its MAC address", func() error { return h.LinkSetHardwareAddr(link, mac) }},
		{"adding " + a.container.String(), func() error { return h.AddrAdd(link, addr) }},
		{"bringing it up", func() error { return h.LinkSetUp(link) }},
	}
	if defaultRoute {
		steps = append(steps, struct {
			what string
			do   func() error
		}{"adding the default route", func() error {
			return h.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Gw: a.gateway.AsSlice()})
		}})
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("configuring %s: %s: %w", ifname, s.what, err)
		}
	}
	return nil
}

// serveDials runs on the locked thread: socket(2) there makes sockets in
// the namespace; connect completes through the poller. Dials are
// serialized, which costs nothing measurable for the local connects they
// are (the container's own address or loopback).
func (ns *namespace) serveDials() {
	rules := udpRules{}
	defer rules.close()
	for {
		select {
		case <-ns.done:
			return
		case r := <-ns.reqs:
			if r.drop {
				rules.release(r.from.Addr(), r.addr)
				r.res <- dialRes{}
				continue
			}
			r.res <- ns.serveDial(r, rules)
		}
	}
}

// serveDial opens one connection on the locked thread.
func (ns *namespace) serveDial(r dialReq, rules udpRules) dialRes {
	if !r.from.IsValid() {
		c, err := net.DialTimeout(r.network, r.addr, 5*time.Second)
		return dialRes{c, err}
	}
	if r.network == "udp" {
		if err := rules.hold(r.from.Addr(), r.addr); err != nil {
			return dialRes{nil, err}
		}
	}
	c, err := transparentDialer(r.network, r.from).Dial(r.network, r.addr)
	if errors.Is(err, unix.EADDRINUSE) {
		// The client's port is still taken by an earlier connection of
		// its (TIME_WAIT): its address is what matters.
		c, err = transparentDialer(r.network, netip.AddrPortFrom(r.from.Addr(), 0)).Dial(r.network, r.addr)
	}
	if err != nil && r.network == "udp" {
		rules.release(r.from.Addr(), r.addr)
	}
	return dialRes{c, err}
}

// udpRules are the reply rules of remote UDP clients' flows, counted by
// client address and container address:port; used on the locked thread
// only.
type udpRules map[string]int

func (u udpRules) key(client netip.Addr, target string) string { return client.String() + ">" + target }

// rule routes what the container sends from target's port to client to
// the transparent table.
func udpRule(client netip.Addr, target string) (*netlink.Rule, error) {
	ap, err := netip.ParseAddrPort(target)
	if err != nil {
		return nil, err
	}
	r := netlink.NewRule()
	r.Family, r.IPProto, r.Sport = unix.AF_INET, unix.IPPROTO_UDP, netlink.NewRulePortRange(ap.Port(), ap.Port())
	r.Dst = &net.IPNet{IP: client.AsSlice(), Mask: net.CIDRMask(32, 32)}
	r.Table, r.Priority = transparentTable, transparentPrio
	return r, nil
}

// hold adds the rule of a client's first flow to target.
func (u udpRules) hold(client netip.Addr, target string) error {
	k := u.key(client, target)
	if u[k] == 0 {
		r, err := udpRule(client, target)
		if err == nil {
			err = netlink.RuleAdd(r)
		}
		if err != nil {
			return fmt.Errorf("routing the replies of UDP client %s: %w", client, err)
		}
	}
	u[k]++
	return nil
}

// release removes the rule with a client's last flow to target.
func (u udpRules) release(client netip.Addr, target string) {
	k := u.key(client, target)
	if u[k] == 0 {
		return
	}
	if u[k]--; u[k] == 0 {
		delete(u, k)
		if r, err := udpRule(client, target); err == nil {
			_ = netlink.RuleDel(r)
		}
	}
}

// close forgets the rules: they go with the namespace.
func (u udpRules) close() { clear(u) }

// dial opens a connection from inside the namespace; from, if valid, is
// the address it comes from (only with ns.transparent).
func (ns *namespace) dial(ctx context.Context, network, addr string, from netip.AddrPort) (net.Conn, error) {
	r := dialReq{network: network, addr: addr, from: from, res: make(chan dialRes, 1)}
	select {
	case ns.reqs <- r:
	case <-ns.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res := <-r.res
	return res.c, res.err
}

// endUDPFlow says a remote client's UDP flow to addr (dialled with from)
// has ended.
func (ns *namespace) endUDPFlow(from netip.AddrPort, addr string) {
	r := dialReq{network: "udp", addr: addr, from: from, drop: true, res: make(chan dialRes, 1)}
	select {
	case ns.reqs <- r:
		<-r.res
	case <-ns.done:
	}
}

// close ends the thread and closes the descriptors. The namespace itself
// lives on while a process is in it.
func (ns *namespace) close() {
	close(ns.done)
	if ns.tap >= 0 {
		unix.Close(ns.tap)
		ns.tap = -1
	}
	if ns.fd >= 0 {
		unix.Close(ns.fd)
		ns.fd = -1
	}
}

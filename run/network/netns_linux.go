package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
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
	reqs   chan dialReq
	done   chan struct{}
}

type dialReq struct {
	network, addr string
	res           chan dialRes
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
	return configureTap(h, a)
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
	for {
		select {
		case <-ns.done:
			return
		case r := <-ns.reqs:
			c, err := net.DialTimeout(r.network, r.addr, 5*time.Second)
			r.res <- dialRes{c, err}
		}
	}
}

// dial opens a connection from inside the namespace.
func (ns *namespace) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	r := dialReq{network, addr, make(chan dialRes, 1)}
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

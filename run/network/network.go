package network

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"github.com/burrow-oci/burrow/storage"
)

// The default network's addresses: slirp4netns's and pasta's, so what
// users know of those holds here.
const (
	containerIP  = "10.0.2.100"
	gatewayIP    = "10.0.2.2"
	dnsIP        = "10.0.2.3"
	prefixLen    = 24
	tapName      = "eth0"
	containerMAC = "02:42:0a:00:02:64"
	gatewayMAC   = "02:42:0a:00:02:02"
	// mtu is slirp4netns's: large frames make fewer trips through the
	// tap and the stack (the prototype's 1 GB/s inbound used it).
	mtu = 65520
)

// Options describe a container's network. The zero value is the default
// network: a tap where /dev/net/tun is usable, no published ports, the
// host's resolvers, and a gateway that does not reach the host's loopback.
type Options struct {
	// Ports are the published ports (-p, -P). A HostPort of 0 asks for a
	// free port; HostPortEnd for the first free one of a range.
	Ports []storage.PortMapping
	// NoTap forces the loopback-only namespace: no eth0, no outbound
	// access; published ports still work (the "loopback" fallback).
	NoTap bool
	// Member, if set, puts the container on a user-defined network: its
	// eth0 is served by the network's switch process (started when none
	// serves the network), which gives its address.
	Member *Member
	// HostLoopback lets the gateway 10.0.2.2 reach the host's 127.0.0.1.
	// Off by default: on a shared host, services that listen on loopback
	// only (a notebook, a database without a password) belong to other
	// users too, and every container would reach them. Off, 10.0.2.2 is
	// the host's first non-loopback address, so services listening on
	// every address are reached as Docker's host-gateway reaches them.
	HostLoopback bool
	// DNS are the upstream resolvers of the forwarder at 10.0.2.3
	// (addresses, optionally with a port). Nil: the host's
	// /etc/resolv.conf, whose 127.0.0.53 stub is reached from the host's
	// namespace like any other.
	DNS []string
	// Log receives debug records (timings, the reason for no tap, dropped
	// connections). Nil discards them.
	Log *slog.Logger
}

// ErrPortAllocated is what a BindError for a host port in use matches.
var ErrPortAllocated = errors.New("port is already allocated")

// BindError is a published port's host listener that could not be
// bound. Its text is Docker's for a port in use.
type BindError struct {
	Addr string // host:port as Docker prints it, 0.0.0.0 for every address
	Err  error
	// UnprivilegedPortStart is net.ipv4.ip_unprivileged_port_start when
	// the port is below it and the bind was refused; else 0.
	UnprivilegedPortStart int
}

func (e *BindError) Error() string {
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		return fmt.Sprintf("Bind for %s failed: port is already allocated", e.Addr)
	}
	if e.UnprivilegedPortStart > 0 {
		_, port, _ := net.SplitHostPort(e.Addr)
		return fmt.Sprintf("Bind for %s failed: port %s is below net.ipv4.ip_unprivileged_port_start (%d), which only root of the host may bind"+
			" (hint: publish a host port of %d or above, or ask an admin to run: sysctl -w net.ipv4.ip_unprivileged_port_start=%s)",
			e.Addr, port, e.UnprivilegedPortStart, e.UnprivilegedPortStart, port)
	}
	return fmt.Sprintf("Bind for %s failed: %v", e.Addr, e.Err)
}

func (e *BindError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrPortAllocated) true for a port in use.
func (e *BindError) Is(target error) bool {
	return target == ErrPortAllocated && errors.Is(e.Err, syscall.EADDRINUSE)
}

// bindAddr is a mapping's host address as Docker prints it.
func bindAddr(m storage.PortMapping, port string) string {
	ip := m.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return net.JoinHostPort(ip, port)
}

// hostPorts is the text of a mapping's host port or range.
func hostPorts(m storage.PortMapping) string {
	s := strconv.Itoa(int(m.HostPort))
	if m.HostPortEnd > m.HostPort {
		s += "-" + strconv.Itoa(int(m.HostPortEnd))
	}
	return s
}

// Member is a container joining a user-defined network.
type Member struct {
	ID, Name string
	// Aliases are --network-alias: names other members find it by, with
	// Name and the ID's first 12 digits.
	Aliases []string
	Switch  SwitchConfig
}

// SwitchConfig is a user-defined network as its switch process serves
// it (see ServeSwitch).
type SwitchConfig struct {
	Name     string // the network's, for messages and NAME.NETWORK lookups
	Subnet   netip.Prefix
	Gateway  netip.Addr // also the members' DNS server
	Internal bool       // no outbound access and no upstream DNS
	// HostLoopback and DNS are as in Options.
	HostLoopback bool     `json:",omitempty"`
	DNS          []string `json:",omitempty"`
	// Socket and Lock are the switch's paths in the run root
	// (storage.NetworkSwitchPaths).
	Socket, Lock string
}

// DefaultGateway is the default network's gateway, as inspect shows it.
const DefaultGateway = gatewayIP

package network

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

const nicID tcpip.NICID = 1

// addressing is a network's addresses as its container (or members) see
// them.
type addressing struct {
	container, gateway, dns netip.Addr
	subnet                  netip.Prefix
	containerMAC, gateMAC   net.HardwareAddr
}

// defaultAddressing is the default network's: 10.0.2.0/24.
func defaultAddressing() addressing {
	cm, _ := net.ParseMAC(containerMAC)
	gm, _ := net.ParseMAC(gatewayMAC)
	gw := netip.MustParseAddr(gatewayIP)
	return addressing{container: netip.MustParseAddr(containerIP), gateway: gw, dns: netip.MustParseAddr(dnsIP),
		subnet: netip.PrefixFrom(gw, prefixLen).Masked(), containerMAC: cm, gateMAC: gm}
}

// macOf is Docker's MAC address for an IPv4 address: 02:42 and the
// address's four bytes.
func macOf(a netip.Addr) net.HardwareAddr {
	b := a.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// outboundDialTimeout bounds a container's connect to the outside; the
// container's own SYN retries wait meanwhile.
const outboundDialTimeout = 30 * time.Second

// newStack serves the tap with gvisor's netstack, used directly: the
// link endpoint reads and writes frames on the tap descriptor, and the
// stack owns 10.0.2.2 and 10.0.2.3 and, in promiscuous mode, every other
// address the container sends to: it is the container's router.
func (n *Network) newStack(tapFD int) (*stack.Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
	})
	// Options and handlers first: the stack reads them unlocked, and the
	// NIC delivers packets as soon as it exists.
	sack := tcpip.TCPSACKEnabled(true)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	// 1 MiB default buffers: the prototype's 1 GB/s inbound used them.
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: 16 << 20}
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: 16 << 20}
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &rcv)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &snd)

	s.SetTransportProtocolHandler(tcp.ProtocolNumber, tcp.NewForwarder(s, 0, 1024, n.forwardTCP).HandlePacket)
	s.SetTransportProtocolHandler(udp.ProtocolNumber, udp.NewForwarder(s, n.forwardUDP).HandlePacket)
	mac := n.addr.gateMAC
	ep, err := fdbased.New(&fdbased.Options{
		FDs:                []int{tapFD},
		MTU:                mtu,
		EthernetHeader:     true,
		Address:            tcpip.LinkAddress(mac),
		PacketDispatchMode: fdbased.Readv,
		// The peer is the kernel on this host: it checksums what it
		// sends, and verifies what the tap hands it.
		RXChecksumOffload: true,
	})
	if err != nil {
		s.Destroy()
		return nil, fmt.Errorf("serving the tap: %w", err)
	}
	if e := s.CreateNIC(nicID, ep); e != nil {
		s.Destroy()
		return nil, fmt.Errorf("serving the tap: creating the NIC: %v", e)
	}
	own := []netip.Addr{n.addr.gateway}
	if n.addr.dns != n.addr.gateway { // one address on a user-defined network
		own = append(own, n.addr.dns)
	}
	for _, a := range own {
		pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
			AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(a.As4()), PrefixLen: n.addr.subnet.Bits()}}
		if e := s.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); e != nil {
			s.Destroy()
			return nil, fmt.Errorf("serving the tap: adding %s: %v", a, e)
		}
	}
	// Accept packets for any destination, and send from any source:
	// published ports keep a remote client's address.
	s.SetPromiscuousMode(nicID, true)
	s.SetSpoofing(nicID, true)
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: nicID}})
	return s, nil
}

// forwardTCP turns a container's outbound connection into a host socket.
// It runs on a goroutine of its own (tcp.Forwarder starts one).
func (n *Network) forwardTCP(r *tcp.ForwarderRequest) {
	id := r.ID() // Local is the container's destination, Remote the container.
	dst, ok := n.outboundTarget(id.LocalAddress, id.LocalPort)
	if !ok {
		r.Complete(true)
		return
	}
	d := net.Dialer{Timeout: outboundDialTimeout}
	out, err := d.DialContext(n.ctx, "tcp", dst)
	if err != nil {
		n.log.Debug("outbound connection refused", "dst", dst, "err", err)
		r.Complete(true) // a reset: the container sees ECONNREFUSED
		return
	}
	var wq waiter.Queue
	ep, e := r.CreateEndpoint(&wq)
	if e != nil {
		r.Complete(true)
		out.Close()
		return
	}
	r.Complete(false)
	n.pipe(gonet.NewTCPConn(&wq, ep), out)
}

// forwardUDP answers a container's new UDP flow. It runs in the stack's
// packet path and must not block: the relay gets a goroutine.
func (n *Network) forwardUDP(r *udp.ForwarderRequest) bool {
	id := r.ID()
	isDNS := addrOf(id.LocalAddress) == n.addr.dns && id.LocalPort == 53
	dst, ok := "", isDNS
	if !isDNS {
		dst, ok = n.outboundTarget(id.LocalAddress, id.LocalPort)
	}
	if !ok {
		return false // the stack answers port unreachable
	}
	var wq waiter.Queue
	ep, e := r.CreateEndpoint(&wq)
	if e != nil {
		return false
	}
	c := gonet.NewUDPConn(&wq, ep)
	if isDNS {
		go n.serveDNS(c)
	} else {
		go n.relayUDP(c, dst)
	}
	return true
}

// outboundTarget maps a container's destination to the host's: the
// gateway to the host (its loopback only with HostLoopback), 10.0.2.3:53
// to the first upstream resolver, the rest of 10.0.2.0/24 and loopback
// nowhere, any other address to itself.
func (n *Network) outboundTarget(a tcpip.Address, port uint16) (string, bool) {
	ip := addrOf(a)
	p := strconv.Itoa(int(port))
	if n.internal {
		return "", false
	}
	switch {
	case ip == n.addr.gateway && !(ip == n.addr.dns && port == 53):
		if n.hostLoopback {
			return net.JoinHostPort("127.0.0.1", p), true
		}
		h := n.hostAddr()
		return net.JoinHostPort(h, p), h != ""
	case ip == n.addr.dns && port == 53:
		up := n.upstreams()
		if len(up) == 0 {
			return "", false
		}
		return up[0], true
	case n.addr.subnet.Contains(ip), ip.IsLoopback(), ip.IsUnspecified(), ip.IsMulticast(),
		ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "", false
	}
	return net.JoinHostPort(ip.String(), p), true
}

func addrOf(a tcpip.Address) netip.Addr {
	if a.Len() != 4 {
		return netip.Addr{}
	}
	return netip.AddrFrom4(a.As4())
}

// dialStack connects to the container through the stack from src, so the
// container sees the client's own address.
func (n *Network) dialStack(ctx context.Context, src netip.Addr, port uint16) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return gonet.DialTCPWithBind(ctx, n.stack,
		tcpip.FullAddress{NIC: nicID, Addr: tcpip.AddrFrom4(src.As4())},
		tcpip.FullAddress{NIC: nicID, Addr: tcpip.AddrFrom4(n.addr.container.As4()), Port: port},
		ipv4.ProtocolNumber)
}

// MACOf is the MAC address a container's interface at a has (macOf), as
// inspect shows it.
func MACOf(a netip.Addr) net.HardwareAddr { return macOf(a) }

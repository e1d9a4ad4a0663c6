package network

import (
	"encoding/binary"
	"net/netip"
	"sync"
)

// port is one side of a user-defined network's switch: a member's tap or
// the gateway's stack. writeFrame sends one Ethernet frame out of it; it
// must not keep b. Ports are compared by identity.
type port interface {
	writeFrame(b []byte) error
}

// frameSwitch forwards Ethernet frames between a network's ports, as a
// learning bridge does: a frame to a known unicast address goes to the
// port that address was last seen on, the rest (broadcast, multicast,
// unknown) to every other port. One exception keeps the gateway's stack,
// which answers ARP for any address (it routes for the members), from
// answering for members: an ARP request reaches the gateway only when it
// asks for the gateway's address. Safe for concurrent use: each port's
// reader calls forward.
type frameSwitch struct {
	gatewayIP [4]byte
	mu        sync.RWMutex
	gateway   port
	ports     []port
	macs      map[[6]byte]port
}

func newFrameSwitch(gateway netip.Addr) *frameSwitch {
	return &frameSwitch{gatewayIP: gateway.As4(), macs: map[[6]byte]port{}}
}

// add attaches p; gateway marks the gateway's port.
func (s *frameSwitch) add(p port, gateway bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ports = append(s.ports, p)
	if gateway {
		s.gateway = p
	}
}

// remove detaches p and forgets the addresses learnt on it.
func (s *frameSwitch) remove(p port) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.ports {
		if q == p {
			s.ports = append(s.ports[:i:i], s.ports[i+1:]...)
			break
		}
	}
	for mac, q := range s.macs {
		if q == p {
			delete(s.macs, mac)
		}
	}
}

const (
	etherTypeARP = 0x0806
	arpRequest   = 1
)

// forward switches one frame that arrived on from.
func (s *frameSwitch) forward(from port, f []byte) {
	if len(f) < 14 {
		return
	}
	var dst, src [6]byte
	copy(dst[:], f[0:6])
	copy(src[:], f[6:12])
	unicast := func(mac [6]byte) bool { return mac[0]&1 == 0 }
	if unicast(src) {
		s.mu.RLock()
		known := s.macs[src] == from
		s.mu.RUnlock()
		if !known {
			s.mu.Lock()
			s.macs[src] = from
			s.mu.Unlock()
		}
	}
	s.mu.RLock()
	if unicast(dst) {
		if to, ok := s.macs[dst]; ok {
			s.mu.RUnlock()
			if to != from {
				_ = to.writeFrame(f)
			}
			return
		}
	}
	out := make([]port, 0, len(s.ports))
	skipGateway := isARPRequestNotFor(f, s.gatewayIP)
	for _, p := range s.ports {
		if p != from && !(skipGateway && p == s.gateway) {
			out = append(out, p)
		}
	}
	s.mu.RUnlock()
	for _, p := range out {
		_ = p.writeFrame(f)
	}
}

// isARPRequestNotFor reports whether f is an IPv4 ARP request whose
// target is not ip.
func isARPRequestNotFor(f []byte, ip [4]byte) bool {
	if len(f) < 42 || binary.BigEndian.Uint16(f[12:14]) != etherTypeARP || binary.BigEndian.Uint16(f[20:22]) != arpRequest {
		return false
	}
	return [4]byte(f[38:42]) != ip
}

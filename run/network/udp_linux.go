package network

import (
	"bufio"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// udpIdle ends a UDP flow nobody has used for this long (the kernel's
// conntrack keeps an unanswered flow 30 s, an answered one 120 s).
const udpIdle = 60 * time.Second

// relayUDP carries one UDP flow between the container (c) and dst until
// it is idle or the network closes.
func (n *Network) relayUDP(c net.Conn, dst string) {
	out, err := net.Dial("udp", dst)
	if err != nil {
		c.Close()
		return
	}
	n.relayDatagrams(c, out)
}

// relayDatagrams copies datagrams both ways between two connected
// sockets, and closes both when neither has carried one for udpIdle.
func (n *Network) relayDatagrams(a, b net.Conn) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	stop := n.closeWithNetwork(a, b)
	defer stop()
	copyDatagrams := func(dst, src net.Conn) {
		buf := make([]byte, 65536)
		for {
			src.SetReadDeadline(time.Now().Add(udpIdle))
			k, err := src.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() && time.Since(time.Unix(0, last.Load())) < udpIdle {
					continue // the other direction is busy
				}
				a.Close()
				b.Close()
				return
			}
			last.Store(time.Now().UnixNano())
			if _, err := dst.Write(buf[:k]); err != nil {
				n.log.Debug("udp relay", "err", err)
			}
		}
	}
	go copyDatagrams(a, b)
	copyDatagrams(b, a)
}

// serveDNS answers the container's queries to 10.0.2.3 on one flow by
// asking the upstream resolvers in turn.
func (n *Network) serveDNS(c net.Conn) {
	defer c.Close()
	stop := n.closeWithNetwork(c)
	defer stop()
	var from netip.Addr
	if ua, ok := c.RemoteAddr().(*net.UDPAddr); ok {
		from, _ = netip.AddrFromSlice(ua.IP.To4())
	}
	buf := make([]byte, 65536)
	for {
		c.SetReadDeadline(time.Now().Add(udpIdle))
		k, err := c.Read(buf)
		if err != nil {
			return
		}
		q := append([]byte(nil), buf[:k]...)
		go func() {
			if a := n.exchangeDNS(from, q); a != nil {
				c.Write(a)
			}
		}()
	}
}

// exchangeDNS answers a query from the container at from with the names
// it may know, else sends it to each upstream in order until one
// answers; nil when none does.
func (n *Network) exchangeDNS(from netip.Addr, q []byte) []byte {
	if n.names != nil {
		if a, ok := answerLocal(q, func(name string) (netip.Addr, bool) { return n.names(from, name) }); ok {
			return a
		}
	}
	if n.internal {
		return nil
	}
	for _, up := range n.upstreams() {
		u, err := net.Dial("udp", up)
		if err != nil {
			continue
		}
		u.SetDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 65536)
		_, err = u.Write(q)
		var k int
		if err == nil {
			k, err = u.Read(buf)
		}
		u.Close()
		if err == nil {
			return buf[:k]
		}
		n.log.Debug("dns upstream", "upstream", up, "err", err)
	}
	return nil
}

// upstreams are the resolvers DNS is forwarded to, as host:port; read
// once, at the first query, so New does not pay for it.
func (n *Network) upstreams() []string {
	n.upstreamOnce.Do(func() {
		list := n.dns
		if list == nil {
			list = resolvConfServers("/etc/resolv.conf")
		}
		for _, s := range list {
			if _, _, err := net.SplitHostPort(s); err == nil {
				n.upstreamList = append(n.upstreamList, s)
			} else {
				n.upstreamList = append(n.upstreamList, net.JoinHostPort(strings.Trim(s, "[]"), "53"))
			}
		}
		if len(n.upstreamList) == 0 {
			n.log.Warn("no DNS resolver to forward to: the container's queries to " + n.addr.dns.String() + " go unanswered")
		}
	})
	return n.upstreamList
}

// resolvConfServers reads the nameserver lines of a resolv.conf.
func resolvConfServers(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			out = append(out, fields[1])
		}
	}
	return out
}

// hostAddr is the host's first non-loopback IPv4 address, which the
// gateway stands for when it may not reach the host's loopback; looked up
// at the first connection to the gateway. "" when there is none.
func (n *Network) hostAddr() string {
	n.hostAddrOnce.Do(func() {
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			return
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
				n.hostAddrIP = ipn.IP.String()
				return
			}
		}
	})
	return n.hostAddrIP
}

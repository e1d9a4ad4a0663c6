package network

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/burrow-oci/burrow/storage"
)

// canUnshareNet reports whether this process may make a network
// namespace: root, or root of a user namespace of its own.
func canUnshareNet(t *testing.T) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		errc <- unix.Unshare(unix.CLONE_NEWNET)
	}()
	if err := <-errc; err != nil {
		t.Skipf("cannot make a network namespace (needs root or a user namespace, e.g. unshare -Ur): %v", err)
	}
}

// tunUsable reports whether a tap can be made here.
func tunUsable() bool {
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// inNS runs f on a thread in n's namespace; sockets f makes belong there.
func inNS(t *testing.T, n *Network, f func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		fd, err := unix.Open(n.Path(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			err = unix.Setns(fd, unix.CLONE_NEWNET)
			unix.Close(fd)
		}
		if err == nil {
			f()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		t.Fatalf("joining the namespace: %v", err)
	}
}

// greeter listens on 0.0.0.0:port inside n and tells each client its
// address as the container sees it.
func greeter(t *testing.T, n *Network, port int) {
	t.Helper()
	var l net.Listener
	var err error
	inNS(t, n, func() { l, err = net.Listen("tcp4", "0.0.0.0:"+strconv.Itoa(port)) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(c.RemoteAddr().(*net.TCPAddr).IP.String() + "\n"))
			c.Close()
		}
	}()
}

// greeting connects to addr and returns the greeter's line.
func greeting(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	s, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(s), err
}

// hostIPv4 is a non-loopback IPv4 address of the host, "" if none.
func hostIPv4() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			return ipn.IP.String()
		}
	}
	return ""
}

// hostServer listens on addr on the host and answers "host\n".
func hostServer(t *testing.T, addr string) string {
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("host\n"))
			c.Close()
		}
	}()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func TestNew(t *testing.T) {
	canUnshareNet(t)
	tap := tunUsable()
	if !tap {
		t.Log("/dev/net/tun is not usable: New falls back to the loopback-only namespace")
	}
	t.Run("NoTap", func(t *testing.T) { testPublish(t, true, false) })
	t.Run("default", func(t *testing.T) { testPublish(t, false, tap) })
}

func testPublish(t *testing.T, noTap, wantTap bool) {
	const ctr = 8080
	t0 := time.Now()
	n, err := New(context.Background(), Options{NoTap: noTap, HostLoopback: true,
		Ports: []storage.PortMapping{{ContainerPort: ctr, Proto: "tcp"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("New: %v (outbound %v)", time.Since(t0), n.Outbound())
	defer n.Close()
	if n.Outbound() != wantTap || (n.IP() != "") != wantTap {
		t.Fatalf("Outbound() = %v, IP() = %q; want a tap: %v", n.Outbound(), n.IP(), wantTap)
	}
	noTap = !wantTap
	hostPort := strconv.Itoa(int(n.Ports()[0].HostPort))
	if hostPort == "0" || n.Ports()[0].ContainerPort != ctr {
		t.Fatalf("Ports() = %+v", n.Ports())
	}
	greeter(t, n, ctr)

	// (a) Through the host's loopback: splice.
	if got, err := greeting("127.0.0.1:" + hostPort); err != nil {
		t.Errorf("published port from 127.0.0.1: %v", err)
	} else {
		t.Logf("from 127.0.0.1, the container sees %s", got)
	}
	// From the host's own address: through the stack with a tap, and
	// the container sees that address.
	if h := hostIPv4(); h != "" {
		got, err := greeting(net.JoinHostPort(h, hostPort))
		switch {
		case err != nil:
			t.Errorf("published port from %s: %v", h, err)
		case !noTap && got != h:
			t.Errorf("from %s through the stack, the container sees %s", h, got)
		}
	}
	if noTap {
		return
	}

	// (b) Outbound: the gateway reaches the host's loopback (HostLoopback),
	// and a host address is reached as itself.
	lo := hostServer(t, "127.0.0.1:0")
	outbound := func(addr string) (string, error) {
		var s string
		var err error
		inNS(t, n, func() { s, err = greeting(addr) })
		return s, err
	}
	if got, err := outbound(net.JoinHostPort(n.Gateway(), lo)); err != nil || got != "host" {
		t.Errorf("container to %s:%s (host loopback): %q, %v", n.Gateway(), lo, got, err)
	}
	if h := hostIPv4(); h != "" {
		p := hostServer(t, net.JoinHostPort(h, "0"))
		if got, err := outbound(net.JoinHostPort(h, p)); err != nil || got != "host" {
			t.Errorf("container to %s:%s: %q, %v", h, p, got, err)
		}
	}
}

// TestGatewayWithoutHostLoopback: by default the gateway does not reach
// the host's loopback.
func TestGatewayWithoutHostLoopback(t *testing.T) {
	canUnshareNet(t)
	if !tunUsable() {
		t.Skip("/dev/net/tun is not usable")
	}
	n, err := New(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	lo := hostServer(t, "127.0.0.1:0")
	inNS(t, n, func() { _, err = greeting(net.JoinHostPort(n.Gateway(), lo)) })
	if err == nil {
		t.Errorf("the gateway reached the host's 127.0.0.1:%s without HostLoopback", lo)
	}
}

// TestDNS: 10.0.2.3:53 forwards to the upstream resolver, here a host UDP
// echo server standing for one.
func TestDNS(t *testing.T) {
	canUnshareNet(t)
	if !tunUsable() {
		t.Skip("/dev/net/tun is not usable")
	}
	up, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	go echoUDP(up, "answer:")
	n, err := New(context.Background(), Options{DNS: []string{up.LocalAddr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var got string
	inNS(t, n, func() {
		var c net.Conn
		if c, err = net.Dial("udp", net.JoinHostPort(n.DNSServer(), "53")); err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 512)
		var k int
		if _, err = c.Write([]byte("query")); err == nil {
			k, err = c.Read(buf)
		}
		got = string(buf[:k])
	})
	if err != nil || got != "answer:query" {
		t.Errorf("DNS through %s: %q, %v", n.DNSServer(), got, err)
	}
}

// TestPortInUse: a host port in use fails in Docker's words, and what was
// bound before it is released.
func TestPortInUse(t *testing.T) {
	canUnshareNet(t)
	busy, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := uint16(busy.Addr().(*net.TCPAddr).Port)
	free := freePort(t)
	fds := openFDs(t)
	_, err = New(context.Background(), Options{Ports: []storage.PortMapping{
		{HostPort: free, ContainerPort: 80, Proto: "tcp"},
		{HostPort: busyPort, ContainerPort: 81, Proto: "tcp"},
	}})
	want := "Bind for 0.0.0.0:" + strconv.Itoa(int(busyPort)) + " failed: port is already allocated"
	if err == nil || err.Error() != want {
		t.Fatalf("New with a port in use: %v, want %q", err, want)
	}
	if !errors.Is(err, ErrPortAllocated) {
		t.Errorf("errors.Is(%v, ErrPortAllocated) is false", err)
	}
	checkNoNewFDs(t, fds)
	l, err := net.Listen("tcp", ":"+strconv.Itoa(int(free)))
	if err != nil {
		t.Fatalf("port %d was left bound: %v", free, err)
	}
	l.Close()
}

// TestCloseReleases: after Close the published ports can be bound again
// and no descriptor is left.
func TestCloseReleases(t *testing.T) {
	canUnshareNet(t)
	fds := openFDs(t)
	n, err := New(context.Background(), Options{Ports: []storage.PortMapping{
		{ContainerPort: 80, Proto: "tcp"}, {ContainerPort: 53, Proto: "udp"}}})
	if err != nil {
		t.Fatal(err)
	}
	ports := n.Ports()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", ":"+strconv.Itoa(int(ports[0].HostPort)))
	if err != nil {
		t.Fatalf("tcp port %d not released: %v", ports[0].HostPort, err)
	}
	l.Close()
	u, err := net.ListenPacket("udp", ":"+strconv.Itoa(int(ports[1].HostPort)))
	if err != nil {
		t.Fatalf("udp port %d not released: %v", ports[1].HostPort, err)
	}
	u.Close()
	checkNoNewFDs(t, fds)
}

// TestPublishUDP: a published UDP port reaches a UDP server in the
// namespace.
func TestPublishUDP(t *testing.T) {
	canUnshareNet(t)
	n, err := New(context.Background(), Options{Ports: []storage.PortMapping{{ContainerPort: 5353, Proto: "udp"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var srv net.PacketConn
	inNS(t, n, func() { srv, err = net.ListenPacket("udp4", "0.0.0.0:5353") })
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go echoUDP(srv, "echo:")
	c, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(int(n.Ports()[0].HostPort)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 512)
	var k int
	if _, err = c.Write([]byte("ping")); err == nil {
		k, err = c.Read(buf)
	}
	if err != nil || string(buf[:k]) != "echo:ping" {
		t.Errorf("published UDP port: %q, %v", buf[:k], err)
	}
}

func freePort(t *testing.T) uint16 {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// openFDs lists this process's descriptors but eventfds: gvisor's
// fdbased endpoint never closes the eventfd that stops its dispatcher
// (stopfd.StopFD has no Close), one per Network with a tap.
func openFDs(t *testing.T) map[string]string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	fds := map[string]string{}
	for _, e := range ents {
		if l, _ := os.Readlink("/proc/self/fd/" + e.Name()); l != "anon_inode:[eventfd]" {
			fds[e.Name()] = l
		}
	}
	return fds
}

// checkNoNewFDs fails for a descriptor open now that was not in before
// (earlier tests' descriptors may close meanwhile).
func checkNoNewFDs(t *testing.T, before map[string]string) {
	t.Helper()
	for fd, l := range openFDs(t) {
		if before[fd] != l {
			t.Errorf("descriptor %s (%s) left open", fd, l)
		}
	}
}

// echoUDP answers each datagram on pc with prefix and the datagram, until
// pc is closed.
func echoUDP(pc net.PacketConn, prefix string) {
	buf := make([]byte, 512)
	for {
		k, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		pc.WriteTo(append([]byte(prefix), buf[:k]...), from)
	}
}

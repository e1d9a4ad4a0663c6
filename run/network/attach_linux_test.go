package network

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testSwitch runs a network's switch in this process (no namespace is
// needed: its gateway's stack reads a socket pair) on a socket in a
// temporary directory, and returns its socket.
func testSwitch(t *testing.T, name, subnet string) (*netSwitch, string) {
	t.Helper()
	dir := t.TempDir()
	p := netip.MustParsePrefix(subnet)
	cfg := &SwitchConfig{Name: name, Subnet: p, Gateway: p.Addr().Next(), Internal: true,
		Socket: filepath.Join(dir, "sw.sock"), Lock: filepath.Join(dir, "sw.lock")}
	sw, err := newSwitch(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: cfg.Socket, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	sw.listener = l
	go func() {
		for {
			c, err := l.AcceptUnix()
			if err != nil {
				return
			}
			go sw.serveMember(c)
		}
	}()
	t.Cleanup(func() { l.Close(); sw.gw.Close() })
	return sw, cfg.Socket
}

// testMember joins a switch as the member's process does, with one end
// of a socket pair for its tap, and returns its connection and address.
func testMember(t *testing.T, socket string, h hello) (*net.UnixConn, netip.Addr) {
	t.Helper()
	c, err := dialSwitch(socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var w welcome
	if err := json.NewEncoder(c).Encode(h); err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(c).Decode(&w); err != nil || w.Error != "" {
		t.Fatalf("joining as %s: %v %s", h.Name, err, w.Error)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[1]) })
	if err := (&member{conn: c}).sendTap(fds[0]); err != nil {
		t.Fatal(err)
	}
	unix.Close(fds[0])
	return c, w.IP
}

// TestLookupAcrossNetworks: a switch answers another's lookup with its
// own members only, and a member that told its switch of its other
// network's switch (network connect) resolves that network's members
// there; a member that did not, does not.
func TestLookupAcrossNetworks(t *testing.T) {
	a, aSock := testSwitch(t, "na", "10.99.1.0/24")
	_, bSock := testSwitch(t, "nb", "10.99.2.0/24")
	mConn, mIP := testMember(t, aSock, hello{ID: "m000000000000000", Name: "m"})
	_, loneIP := testMember(t, aSock, hello{ID: "l000000000000000", Name: "lone"})
	_, xIP := testMember(t, bSock, hello{ID: "x000000000000000", Name: "x", Aliases: []string{"xalias"}})
	testMember(t, bSock, hello{ID: "m000000000000000", Name: "m"}) // m's eth1

	if ip, ok := lookupSwitch(bSock, "xalias"); !ok || ip != xIP {
		t.Errorf("lookup of xalias at nb: %v %v, want %v", ip, ok, xIP)
	}
	if ip, ok := lookupSwitch(bSock, "lone"); ok {
		t.Errorf("nb answered lone of na: %v", ip)
	}
	if _, ok := a.lookup(mIP, "x"); ok {
		t.Errorf("m resolved x before it told na of nb")
	}
	if err := json.NewEncoder(mConn).Encode(update{Peers: []string{bSock}}); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, func() bool { ip, ok := a.lookup(mIP, "x.nb"); return ok && ip == xIP })
	if ip, ok := a.lookup(mIP, "xalias"); !ok || ip != xIP {
		t.Errorf("m's lookup of xalias at na: %v %v, want %v", ip, ok, xIP)
	}
	if ip, ok := a.lookup(loneIP, "x"); ok {
		t.Errorf("lone, on na alone, resolved x of nb: %v", ip)
	}
	if err := json.NewEncoder(mConn).Encode(update{Peers: []string{}}); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, func() bool { _, ok := a.lookup(mIP, "x"); return !ok })
}

func waitTrue(t *testing.T, f func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if f() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met within 2 s")
}

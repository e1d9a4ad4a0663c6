package tests

// What a container's /etc/hosts and /etc/resolv.conf say on its network
// (issue 14): --add-host, including host-gateway, which must reach a
// server of the host's; --dns, --dns-search and --dns-option. And who a
// container sees connecting through a published port.

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNetworkAddHost: --add-host entries come after the container's own
// line in /etc/hosts; host-gateway stands for the gateway of the default
// network, through which a server on the host's own address answers; a
// malformed entry is refused with Docker's wording and leaves nothing.
func TestNetworkAddHost(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.fail(125, []string{`invalid argument "db" for "--add-host" flag: bad format for add-host: "db"`},
		"run", "--rm", "--add-host", "db", "busybox", "true")
	if out := e.ok("ps", "-a", "-q").stdout; out != "" {
		t.Errorf("a malformed --add-host left a container: %q", out)
	}

	hosts := e.ok("run", "--rm", "--hostname", "me", "--add-host", "db.local:192.0.2.10", "--add-host", "two:192.0.2.11",
		"busybox", "cat", "/etc/hosts").stdout
	want := regexp.MustCompile(`(?s)\bme\n192\.0\.2\.10\tdb\.local\n192\.0\.2\.11\ttwo\n$`)
	if !want.MatchString(hosts) {
		t.Errorf("/etc/hosts with --add-host db.local:192.0.2.10 --add-host two:192.0.2.11:\n%s", hosts)
	}

	if !tunUsable() {
		return
	}
	addr, port, _ := hostServer(t, "the host by host-gateway\n")
	r := e.exec(nil, "run", "--rm", "--add-host", "gw.local:host-gateway", "busybox", "sh", "-c",
		fmt.Sprintf("grep gw.local /etc/hosts; timeout 20 wget -qO- http://gw.local:%d/", port))
	if r.code != 0 || !strings.HasPrefix(r.stdout, "10.0.2.2\tgw.local\n") || !strings.HasSuffix(r.stdout, "the host by host-gateway\n") {
		t.Errorf("host-gateway does not reach a server on the host's address %s: %v", addr, r)
	}
}

// TestNetworkResolvConf: --dns replaces the nameservers (the default
// network's forwarder at 10.0.2.3 too), --dns-search and --dns-option
// replace the host's search and options lines.
func TestNetworkResolvConf(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	conf := e.ok("run", "--rm", "--dns-search", "a.example", "--dns-search", "b.example", "--dns-option", "ndots:3",
		"--dns-option", "timeout:2", "busybox", "cat", "/etc/resolv.conf").stdout
	for _, re := range []string{`(?m)^search a\.example b\.example$`, `(?m)^options ndots:3 timeout:2$`} {
		if !regexp.MustCompile(re).MatchString(conf) {
			t.Errorf("resolv.conf does not match %s:\n%s", re, conf)
		}
	}
	if n := strings.Count(conf, "search "); n != 1 {
		t.Errorf("resolv.conf has %d search lines:\n%s", n, conf)
	}
	if n := strings.Count(conf, "options "); n != 1 {
		t.Errorf("resolv.conf has %d options lines:\n%s", n, conf)
	}
	if tunUsable() && !regexp.MustCompile(`(?m)^nameserver 10\.0\.2\.3$`).MatchString(conf) {
		t.Errorf("--dns-search dropped the default network's nameserver:\n%s", conf)
	}
	conf = e.ok("run", "--rm", "--dns", "192.0.2.53", "--dns", "192.0.2.54", "busybox", "cat", "/etc/resolv.conf").stdout
	var servers []string
	for _, m := range regexp.MustCompile(`(?m)^nameserver (\S+)$`).FindAllStringSubmatch(conf, -1) {
		servers = append(servers, m[1])
	}
	if strings.Join(servers, " ") != "192.0.2.53 192.0.2.54" {
		t.Errorf("--dns 192.0.2.53 --dns 192.0.2.54: nameservers %q:\n%s", servers, conf)
	}
}

// addrScript serves, with busybox httpd on 8080, a CGI script that
// answers the client's address as the server sees it.
const addrScript = `mkdir -p /www/cgi-bin; printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n' > /www/cgi-bin/addr; ` +
	`chmod +x /www/cgi-bin/addr; trap "exit 0" TERM; httpd -f -p 8080 -h /www & wait`

// TestNetworkPublishClientAddress: a client connecting to a published
// port from a non-loopback address is seen by the container with that
// address (podman#5138), on the default network and on a user-defined
// one.
func TestNetworkPublishClientAddress(t *testing.T) {
	needTun(t)
	addr := hostAddr()
	if addr == "" {
		t.Skip("the host has no non-loopback IPv4 address")
	}
	e := newEnv(t)
	e.importBusybox("busybox")
	userNetwork(t, e, "addrnet")
	for _, network := range []string{"bridge", "addrnet"} {
		name := "web-" + network
		e.rmOnCleanup(name)
		port := freeHostPort(t)
		e.ok("run", "-d", "--name", name, "--network", network, "-p", fmt.Sprintf("%d:8080", port), "busybox", "sh", "-c", addrScript)
		url := fmt.Sprintf("http://%s:%d/cgi-bin/addr", addr, port)
		var body string
		var err error
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if body, err = httpGet(url); err == nil {
				break
			}
		}
		// busybox httpd listens on IPv6 too and prints mapped addresses.
		if seen := strings.Trim(strings.TrimSpace(body), "[]"); err != nil || (seen != addr && seen != "::ffff:"+addr) {
			t.Errorf("%s: the container saw the client %s as %q (%v)", network, addr, body, err)
		}
		e.ok("rm", "-f", name)
	}
}

// udpWho answers each datagram on addr with its sender's address as the
// server sees it; the test binary runs it inside a container
// (BURROW_TEST_UDP_WHO) until killed.
func udpWho(addr string) {
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buf := make([]byte, 2048)
	for {
		_, from, err := pc.ReadFrom(buf)
		if err != nil {
			os.Exit(1)
		}
		pc.WriteTo([]byte(from.String()), from)
	}
}

// TestNetworkPublishUDPClientAddress: a datagram to a published UDP port
// from a non-loopback address reaches the container with that address,
// and the reply reaches the client, on the default network and on a
// user-defined one; from loopback it works too.
func TestNetworkPublishUDPClientAddress(t *testing.T) {
	needTun(t)
	addr := hostAddr()
	if addr == "" {
		t.Skip("the host has no non-loopback IPv4 address")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.importBusybox("busybox")
	userNetwork(t, e, "udpnet")
	for _, network := range []string{"bridge", "udpnet"} {
		name := "who-" + network
		e.rmOnCleanup(name)
		port := freeHostPort(t)
		e.ok("run", "-d", "--name", name, "--network", network, "-p", fmt.Sprintf("%d:9999/udp", port), "-v", self+":/who:ro",
			"-e", "BURROW_TEST_UDP_WHO=0.0.0.0:9999", "busybox", "/who")
		seen, err := askUDP(addr, port)
		if err != nil || !strings.HasPrefix(seen, addr+":") {
			t.Errorf("%s: the container saw a UDP client on %s as %q (%v)", network, addr, seen, err)
		}
		if seen, err := askUDP("127.0.0.1", port); err != nil {
			t.Errorf("%s: no answer to a UDP client on loopback: %v", network, err)
		} else {
			t.Logf("%s: a loopback client is seen as %s", network, seen)
		}
		e.ok("rm", "-f", name)
	}
}

// askUDP sends a datagram from the address from to from:port until an
// answer comes (udpWho's: the sender as the server saw it), for 15 s.
func askUDP(from string, port int) (string, error) {
	c, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.ParseIP(from)}, &net.UDPAddr{IP: net.ParseIP(from), Port: port})
	if err != nil {
		return "", err
	}
	defer c.Close()
	buf := make([]byte, 2048)
	for deadline := time.Now().Add(15 * time.Second); ; {
		c.Write([]byte("who am I?"))
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		k, err := c.Read(buf)
		if err == nil {
			return string(buf[:k]), nil
		}
		if time.Now().After(deadline) {
			return "", err
		}
	}
}

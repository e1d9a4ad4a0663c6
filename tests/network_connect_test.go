package tests

// network connect and disconnect (issue 14): a container on several
// networks, joined at start or while it runs, reaching and resolving the
// members of each, and Docker's refusals.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

func init() {
	if to := os.Getenv("BURROW_TEST_UDP_ASK"); to != "" {
		// The test binary, mounted into a busybox container, is the UDP
		// client busybox lacks (as udpWho is its server).
		os.Exit(udpAsk(to))
	}
}

// udpAsk sends a datagram to to until an answer comes (for up to 10 s),
// prints it and returns the exit code.
func udpAsk(to string) int {
	c, err := net.Dial("udp4", to)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	buf := make([]byte, 2048)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		c.Write([]byte("who am I?"))
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if k, err := c.Read(buf); err == nil {
			fmt.Println(string(buf[:k]))
			return 0
		}
	}
	fmt.Fprintln(os.Stderr, "no answer from", to)
	return 1
}

// execUntil runs `exec CTR args...` until it exits 0 with stdout want,
// failing the test with the last result after 30 s.
func execUntil(t *testing.T, e *env, ctr, want string, args ...string) {
	t.Helper()
	var r result
	deadline := time.Now().Add(30 * time.Second)
	for {
		r = e.exec(nil, append([]string{"exec", ctr}, args...)...)
		if r.code == 0 && r.stdout == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("exec %s %v: want %q: %v", ctr, args, want, r)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// wget is busybox wget of url, bounded by timeout seconds.
func wget(timeout, url string) []string {
	return []string{"timeout", timeout, "wget", "-qO-", url}
}

// endpoints is inspect's NetworkSettings.Networks of a container.
func endpoints(t *testing.T, e *env, ctr string) map[string]map[string]any {
	t.Helper()
	out := e.ok("inspect", "--format", "{{json .NetworkSettings.Networks}}", ctr).stdout
	var m map[string]map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("inspect %s: NetworkSettings.Networks %q: %v", ctr, out, err)
	}
	return m
}

// networkContainers are the names of the containers network inspect lists.
func networkContainers(t *testing.T, e *env, network string) string {
	t.Helper()
	return strings.TrimSpace(e.ok("network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{end}}", network).stdout)
}

// TestNetworkConnectRunning: a running container of the default network,
// connected to a user-defined network, reaches a member of it by name
// through eth1 (its default route stays on eth0), shows in network
// inspect and keeps the network from being removed; disconnected, it no
// longer reaches it and eth1 is gone.
func TestNetworkConnectRunning(t *testing.T) {
	needTun(t)
	e := newEnv(t)
	e.importBusybox("busybox")
	id := userNetwork(t, e, "cn")
	e.rmOnCleanup("web", "c")
	e.ok("run", "-d", "--network", "cn", "--name", "web", "busybox", "sh", "-c", serveScript("hello-cn", 8080))
	e.ok("run", "-d", "--name", "c", "busybox", "sleep", "300")
	if r := e.exec(nil, append([]string{"exec", "c"}, wget("3", "http://web:8080/index.html")...)...); r.code == 0 {
		t.Fatalf("c reached web before it was connected: %v", r)
	}

	e.ok("network", "connect", "cn", "c")
	execUntil(t, e, "c", "hello-cn\n", wget("10", "http://web:8080/index.html")...)
	if r := e.ok("exec", "c", "ip", "-4", "addr", "show", "dev", "eth1"); !strings.Contains(r.stdout, "inet 10.") {
		t.Errorf("c has no address on eth1: %v", r)
	}
	if r := e.ok("exec", "c", "ip", "route"); !strings.Contains(r.stdout, "default via 10.0.2.2 dev eth0") {
		t.Errorf("c's default route left eth0: %v", r)
	}
	eps := endpoints(t, e, "c")
	ip, _ := eps["cn"]["IPAddress"].(string)
	if a, err := netip.ParseAddr(ip); err != nil || eps["cn"]["NetworkID"] != id || eps["bridge"]["IPAddress"] != "10.0.2.100" {
		t.Errorf("inspect c: Networks %v (cn's ID %s)", eps, id)
	} else if mac := eps["cn"]["MacAddress"]; mac == "" || !strings.HasPrefix(mac.(string), "02:42:") || a.IsUnspecified() {
		t.Errorf("inspect c: cn's MacAddress %v", mac)
	}
	if got := networkContainers(t, e, "cn"); !strings.Contains(got, "c") || !strings.Contains(got, "web") {
		t.Errorf("network inspect cn lists %q, want web and c", got)
	}
	if ps := e.ok("ps", "--filter", "name=c", "--format", "{{.Networks}}").stdout; !strings.Contains(ps, "bridge,cn") {
		t.Errorf("ps NETWORKS of c: %q", ps)
	}
	if ps := e.ok("ps", "--filter", "network=cn", "--format", "{{.Names}}").stdout; strings.Join(sorted(lines(ps)), " ") != "c web" {
		t.Errorf("ps --filter network=cn: %q, want c and web", ps)
	}

	e.ok("network", "disconnect", "cn", "c")
	if r := e.exec(nil, append([]string{"exec", "c"}, wget("3", "http://web:8080/index.html")...)...); r.code == 0 {
		t.Errorf("c reached web after disconnect: %v", r)
	}
	if r := e.exec(nil, "exec", "c", "ip", "link", "show", "eth1"); r.code == 0 {
		t.Errorf("eth1 remains after disconnect: %v", r)
	}
	if got := networkContainers(t, e, "cn"); got != "web" {
		t.Errorf("network inspect cn after disconnect lists %q, want web", got)
	}
	if _, ok := endpoints(t, e, "c")["cn"]; ok {
		t.Errorf("inspect c after disconnect still shows cn")
	}

	// Connected again, c alone keeps the network in use.
	e.ok("network", "connect", "cn", "c")
	execUntil(t, e, "c", "hello-cn\n", wget("10", "http://web:8080/index.html")...)
	e.ok("rm", "-f", "web")
	e.fail(1, []string{"has active endpoints", "c"}, "network", "rm", "cn")
	oneSwitch(t, e, "cn", id)
	// The switch ends with its last member, a connected one.
	e.ok("rm", "-f", "c")
	switchGone(t, e, "cn", id)
	e.ok("network", "rm", "cn")
}

// TestNetworkConnectStopped: a stopped container of a user-defined
// network, connected to another, starts with eth0 on its own and eth1 on
// the other, and reaches members of both; inspect shows both.
func TestNetworkConnectStopped(t *testing.T) {
	needTun(t)
	e := newEnv(t)
	e.importBusybox("busybox")
	userNetwork(t, e, "n1")
	userNetwork(t, e, "n2")
	e.rmOnCleanup("a", "b", "s")
	e.ok("run", "-d", "--network", "n1", "--name", "a", "busybox", "sh", "-c", serveScript("hello-n1", 8080))
	e.ok("run", "-d", "--network", "n2", "--name", "b", "busybox", "sh", "-c", serveScript("hello-n2", 8080))
	e.ok("create", "--network", "n1", "--name", "s", "busybox", "sleep", "300")
	e.ok("network", "connect", "n2", "s")
	eps := endpoints(t, e, "s")
	if _, ok := eps["n2"]; !ok || eps["n2"]["IPAddress"] != "" {
		t.Errorf("inspect of created s: Networks %v, want n1 and n2 without addresses", eps)
	}
	e.ok("start", "s")
	execUntil(t, e, "s", "hello-n1\n", wget("10", "http://a:8080/index.html")...)
	execUntil(t, e, "s", "hello-n2\n", wget("10", "http://b:8080/index.html")...)
	for _, dev := range []string{"eth0", "eth1"} {
		if r := e.ok("exec", "s", "ip", "-4", "addr", "show", "dev", dev); !strings.Contains(r.stdout, "inet 10.") {
			t.Errorf("s has no address on %s: %v", dev, r)
		}
	}
	if r := e.ok("exec", "s", "ip", "route"); !strings.Contains(r.stdout, "default via") || !strings.Contains(r.stdout, "dev eth0") ||
		strings.Contains(strings.SplitN(r.stdout, "\n", 2)[0], "eth1") {
		t.Errorf("s's default route is not on eth0: %v", r)
	}
	eps = endpoints(t, e, "s")
	for _, n := range []string{"n1", "n2"} {
		if ip, _ := eps[n]["IPAddress"].(string); ip == "" || eps[n]["Gateway"] == "" {
			t.Errorf("inspect s: network %s: %v", n, eps[n])
		}
	}
	// Stopped and started again, it joins both again.
	e.ok("stop", "-t", "1", "s")
	e.ok("start", "s")
	execUntil(t, e, "s", "hello-n2\n", wget("10", "http://b:8080/index.html")...)
	e.ok("rm", "-f", "a", "b", "s")
}

// TestNetworkConnectDNS: a container on two networks (one its own, one
// connected, with an alias) resolves members and aliases of both; a
// member of one network finds it by its alias there; a container of one
// network alone does not resolve members of the other.
func TestNetworkConnectDNS(t *testing.T) {
	needTun(t)
	e := newEnv(t)
	e.importBusybox("busybox")
	userNetwork(t, e, "dx")
	userNetwork(t, e, "dy")
	e.rmOnCleanup("ax", "by", "m")
	e.ok("run", "-d", "--network", "dx", "--network-alias", "xalias", "--name", "ax", "busybox", "sh", "-c", serveScript("hello-x", 8080))
	e.ok("run", "-d", "--network", "dy", "--network-alias", "yalias", "--name", "by", "busybox", "sh", "-c", serveScript("hello-y", 8080))
	e.ok("run", "-d", "--network", "dx", "--name", "m", "busybox", "sh", "-c", serveScript("hello-m", 8080))
	e.ok("network", "connect", "--alias", "mm", "dy", "m")
	for host, want := range map[string]string{"ax": "hello-x\n", "xalias": "hello-x\n", "by": "hello-y\n", "yalias": "hello-y\n", "by.dy": "hello-y\n"} {
		execUntil(t, e, "m", want, wget("10", "http://"+host+":8080/index.html")...)
	}
	// by (of dy only) finds m by its alias on dy, and not ax of dx.
	execUntil(t, e, "by", "hello-m\n", wget("10", "http://mm:8080/index.html")...)
	if r := e.exec(nil, "exec", "by", "nslookup", "ax"); r.code == 0 && strings.Contains(r.stdout, "10.") && !strings.Contains(r.stdout, "can't") {
		t.Errorf("by of dy alone resolved ax of dx: %v", r)
	}
	if r := e.exec(nil, append([]string{"exec", "by"}, wget("3", "http://ax:8080/index.html")...)...); r.code == 0 {
		t.Errorf("by of dy alone reached ax of dx by name: %v", r)
	}
	// A default-network container connected to dy resolves dy's members
	// at its own resolver (10.0.2.3).
	e.rmOnCleanup("d")
	e.ok("run", "-d", "--name", "d", "busybox", "sleep", "300")
	e.ok("network", "connect", "dy", "d")
	execUntil(t, e, "d", "hello-y\n", wget("10", "http://yalias:8080/index.html")...)
	execUntil(t, e, "d", "hello-m\n", wget("10", "http://mm:8080/index.html")...)
	e.ok("rm", "-f", "ax", "by", "m", "d")
}

// TestNetworkConnectForeground: a container run in the foreground with
// --rm (by another burrow process; recorded in the run root only) is
// connected while it runs, by the process that holds its network, and
// disconnected; nothing of it remains after it ends.
func TestNetworkConnectForeground(t *testing.T) {
	needTun(t)
	e := newEnv(t)
	e.importBusybox("busybox")
	userNetwork(t, e, "fn")
	e.rmOnCleanup("fweb")
	e.ok("run", "-d", "--network", "fn", "--name", "fweb", "busybox", "sh", "-c", serveScript("hello-fn", 8080))
	f := startServing(t, e, "fg", "--rm", "busybox", "sh", "-c", `trap "exit 0" TERM; sleep 300 & wait`)
	waitFor(t, func() bool { return e.exec(nil, "exec", "fg", "true").code == 0 })
	f.failIfExited()
	e.ok("network", "connect", "fn", "fg")
	execUntil(t, e, "fg", "hello-fn\n", wget("10", "http://fweb:8080/index.html")...)
	e.ok("network", "disconnect", "fn", "fg")
	if r := e.exec(nil, append([]string{"exec", "fg"}, wget("3", "http://fweb:8080/index.html")...)...); r.code == 0 {
		t.Errorf("fg reached fweb after disconnect: %v", r)
	}
	e.ok("network", "connect", "fn", "fg")
	if got := networkContainers(t, e, "fn"); !strings.Contains(got, "fg") {
		t.Errorf("network inspect fn lists %q, want fg", got)
	}
	if code, stderr := f.stop(); code != 0 {
		t.Errorf("run --rm fg ended with %d: %s", code, stderr)
	}
	if out := e.ok("ps", "-a", "--filter", "name=fg", "-q").stdout; out != "" {
		t.Errorf("run --rm left fg: %q", out)
	}
	e.ok("rm", "-f", "fweb")
}

// TestNetworkConnectMove: a stopped container moves between networks as
// in Docker: disconnected from the network it was created on it starts
// with lo alone, and connected to another it starts with eth0 on that
// one; connected back to bridge, bridge has eth0 again. While it runs,
// the network of its eth0 stays.
func TestNetworkConnectMove(t *testing.T) {
	needTun(t)
	e := newEnv(t)
	e.importBusybox("busybox")
	userNetwork(t, e, "mv")
	e.rmOnCleanup("mweb", "mc")
	e.ok("run", "-d", "--network", "mv", "--name", "mweb", "busybox", "sh", "-c", serveScript("hello-mv", 8080))
	e.ok("create", "--name", "mc", "busybox", "sleep", "300")
	e.ok("network", "disconnect", "bridge", "mc")
	if eps := endpoints(t, e, "mc"); len(eps) != 0 {
		t.Errorf("inspect mc disconnected from bridge: Networks %v, want none", eps)
	}
	e.ok("start", "mc")
	if r := e.ok("exec", "mc", "ls", "/sys/class/net"); strings.Join(strings.Fields(r.stdout), " ") != "lo" {
		t.Errorf("mc without networks has interfaces %q, want lo", r.stdout)
	}
	e.fail(1, []string{"not supported", "stop it"}, "network", "connect", "bridge", "mc")
	e.ok("stop", "-t", "1", "mc")

	e.ok("network", "connect", "--alias", "moved", "mv", "mc")
	e.ok("start", "mc")
	execUntil(t, e, "mc", "hello-mv\n", wget("10", "http://mweb:8080/index.html")...)
	if r := e.ok("exec", "mc", "ip", "route"); !strings.Contains(r.stdout, "default via 10.") || !strings.Contains(r.stdout, "dev eth0") {
		t.Errorf("mc on mv: routes %q, want the default via mv's gateway on eth0", r.stdout)
	}
	execUntil(t, e, "mweb", "1\n", "sh", "-c", "nslookup moved >/dev/null && echo 1")
	if ps := e.ok("ps", "--filter", "name=mc", "--format", "{{.Networks}}").stdout; strings.TrimSpace(ps) != "mv" {
		t.Errorf("ps NETWORKS of mc: %q, want mv", ps)
	}
	e.fail(1, []string{"the network of its eth0", "stop it first"}, "network", "disconnect", "mv", "mc")
	e.ok("stop", "-t", "1", "mc")

	e.ok("network", "connect", "bridge", "mc")
	e.ok("start", "mc")
	if r := e.ok("exec", "mc", "ip", "-4", "addr", "show", "dev", "eth0"); !strings.Contains(r.stdout, "10.0.2.100") {
		t.Errorf("mc connected back to bridge: eth0 %q, want 10.0.2.100", r.stdout)
	}
	execUntil(t, e, "mc", "hello-mv\n", wget("10", "http://mweb.mv:8080/index.html")...)
	eps := endpoints(t, e, "mc")
	if eps["bridge"]["IPAddress"] != "10.0.2.100" || eps["mv"]["IPAddress"] == "" || eps["mv"]["IPAddress"] == nil {
		t.Errorf("inspect mc on bridge and mv: %v", eps)
	}
	e.ok("rm", "-f", "mweb", "mc")
}

// TestNetworkConnectPublishedUDP: a container that publishes a UDP port
// and is connected to a network answers a member of that network on that
// port (its reply goes out of eth1, not back into the container as a
// published port's reply to a remote client does).
func TestNetworkConnectPublishedUDP(t *testing.T) {
	needTun(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.importBusybox("busybox")
	userNetwork(t, e, "un")
	e.rmOnCleanup("who")
	e.ok("run", "-d", "--name", "who", "-p", fmt.Sprintf("%d:9999/udp", freeHostPort(t)), "-v", self+":/who:ro",
		"-e", "BURROW_TEST_UDP_WHO=0.0.0.0:9999", "busybox", "/who")
	e.ok("network", "connect", "un", "who")
	ip, _ := endpoints(t, e, "who")["un"]["IPAddress"].(string)
	r := e.exec(nil, "run", "--rm", "--network", "un", "-v", self+":/ask:ro", "-e", "BURROW_TEST_UDP_ASK="+ip+":9999", "busybox", "/ask")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "10.") {
		t.Errorf("a member of un asking who at %s:9999: %v", ip, r)
	}
	e.ok("rm", "-f", "who")
}

// TestNetworkConnectErrors: Docker's refusals, each one line, the record
// unchanged.
func TestNetworkConnectErrors(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	userNetwork(t, e, "en")
	userNetwork(t, e, "eo")
	e.rmOnCleanup("c", "hh", "zz", "uu")
	e.ok("create", "--name", "c", "busybox", "true")
	e.ok("create", "--name", "hh", "--network", "host", "busybox", "true")
	e.ok("create", "--name", "zz", "--network", "none", "busybox", "true")
	e.ok("create", "--name", "uu", "--network", "en", "busybox", "true")
	e.ok("network", "connect", "en", "c")
	oneLine := func(r result) {
		t.Helper()
		if len(lines(r.stderr)) != 1 {
			t.Errorf("want one line: %v", r)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"connect", "nosuch", "c"}, "network nosuch not found"},
		{[]string{"connect", "en", "nosuch"}, "No such container: nosuch"},
		{[]string{"disconnect", "nosuch", "c"}, "network nosuch not found"},
		{[]string{"connect", "en", "c"}, "endpoint with name c already exists in network en"},
		{[]string{"connect", "en", "uu"}, "endpoint with name uu already exists in network en"},
		{[]string{"connect", "bridge", "c"}, "endpoint with name c already exists in network bridge"},
		{[]string{"disconnect", "eo", "c"}, "container c is not connected to network eo"},
		{[]string{"disconnect", "eo", "uu"}, "container uu is not connected to network eo"},
		{[]string{"connect", "en", "hh"}, "container cannot be disconnected from host network or connected to host network"},
		{[]string{"disconnect", "host", "hh"}, "container cannot be disconnected from host network or connected to host network"},
		{[]string{"connect", "host", "c"}, "container cannot be disconnected from host network or connected to host network"},
		{[]string{"connect", "en", "zz"}, "container cannot be connected to multiple networks with one of the networks in private (none) mode"},
		{[]string{"connect", "none", "c"}, "container cannot be connected to multiple networks with one of the networks in private (none) mode"},
	} {
		oneLine(e.fail(1, []string{tc.want}, append([]string{"network"}, tc.args...)...))
	}
	e.fail(125, []string{"requires exactly 2 arguments"}, "network", "connect", "en")
	for ctr, want := range map[string]string{"c": "bridge en", "hh": "host", "zz": "none", "uu": "en"} {
		var got []string
		for n := range endpoints(t, e, ctr) {
			got = append(got, n)
		}
		if strings.Join(sorted(got), " ") != want {
			t.Errorf("inspect %s after the refusals: networks %v, want %s", ctr, got, want)
		}
	}
	// By ID prefix, both.
	cid := strings.TrimSpace(e.ok("inspect", "--format", "{{.Id}}", "c").stdout)
	nid := strings.TrimSpace(e.ok("network", "inspect", "--format", "{{.Id}}", "eo").stdout)
	e.ok("network", "connect", nid[:12], cid[:12])
	if _, ok := endpoints(t, e, "c")["eo"]; !ok {
		t.Errorf("connect by ID prefixes: c is not on eo")
	}
	e.ok("network", "disconnect", "-f", nid[:12], cid[:12])
	e.ok("network", "disconnect", "en", "c")
	if got := endpoints(t, e, "c"); len(got) != 1 {
		t.Errorf("after disconnects c has networks %v, want bridge", got)
	}
	e.ok("rm", "-f", "c", "hh", "zz", "uu")
}

func sorted(s []string) []string {
	sort.Strings(s)
	return s
}

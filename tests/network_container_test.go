package tests

// --network container:NAME (issue 14): a container in the network
// namespace of another, running one, as Docker runs it: the same
// interfaces, addresses and published ports, the same /etc/hosts,
// /etc/resolv.conf and hostname; Docker's conflicting options refused;
// a stopped or unknown target refused with nothing created.

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startWeb runs busybox httpd detached as web, published on a free host
// port, and returns that port once it answers.
func startWeb(t *testing.T, e *env) int {
	t.Helper()
	e.importBusybox("busybox")
	port := freeHostPort(t)
	e.rmOnCleanup("web")
	e.ok("run", "-d", "--name", "web", "-p", fmt.Sprintf("%d:8080", port), "busybox", "sh", "-c", serveScript("hello-web", 8080))
	fetchEventually(t, fmt.Sprintf("http://127.0.0.1:%d/index.html", port), "hello-web\n")
	return port
}

// TestNetworkContainerJoin: a foreground `run --rm --network
// container:web` reaches web's server on 127.0.0.1, sees web's interfaces
// and addresses, and shares its /etc/hosts, /etc/resolv.conf and
// hostname; web's published port still serves; nothing is left.
func TestNetworkContainerJoin(t *testing.T) {
	e := newEnv(t)
	port := startWeb(t, e)
	got := e.ok("run", "--rm", "--network", "container:web", "busybox", "wget", "-qO-", "http://127.0.0.1:8080/index.html").stdout
	if got != "hello-web\n" {
		t.Errorf("wget from the joiner: %q, want hello-web", got)
	}
	// --net=container:ID, Docker's other spelling, with an ID prefix.
	id := strings.TrimSpace(e.ok("inspect", "--format", "{{.Id}}", "web").stdout)
	script := "cat /proc/net/dev; echo ==; ip -o addr; echo ==; cat /etc/hosts; echo ==; cat /etc/resolv.conf; echo ==; hostname"
	joined := strings.Split(e.ok("run", "--rm", "--net=container:"+id[:12], "busybox", "sh", "-c", script).stdout, "==\n")
	own := strings.Split(e.ok("exec", "web", "sh", "-c", script).stdout, "==\n")
	if len(joined) != 5 || len(own) != 5 {
		t.Fatalf("unexpected output: joiner %q, web %q", joined, own)
	}
	if a, b := strings.Join(netDevs(joined[0]), " "), strings.Join(netDevs(own[0]), " "); a != b {
		t.Errorf("interfaces: joiner %q, web %q", a, b)
	}
	for i, what := range []string{"", "addresses", "/etc/hosts", "/etc/resolv.conf", "hostname"} {
		if i > 0 && joined[i] != own[i] {
			t.Errorf("%s: joiner %q, web %q", what, joined[i], own[i])
		}
	}
	if tunUsable() && !strings.Contains(own[1], "eth0") {
		t.Errorf("web has no eth0 address: %q", own[1])
	}
	fetchEventually(t, fmt.Sprintf("http://127.0.0.1:%d/index.html", port), "hello-web\n")
	if out := e.ok("ps", "-a", "--format", "{{.Names}}").stdout; out != "web\n" {
		t.Errorf("ps -a after the --rm joiners: %q", out)
	}
}

// TestNetworkContainerDetached: a detached joiner shows container:<web's
// ID> and no network of its own in inspect, no ports in ps; exec, logs
// and stop work on it; it keeps running, and its namespace, when web
// stops; rm removes it.
func TestNetworkContainerDetached(t *testing.T) {
	e := newEnv(t)
	startWeb(t, e)
	e.rmOnCleanup("side")
	e.ok("run", "-d", "--name", "side", "--network", "container:web", "busybox", "sh", "-c",
		`trap "exit 0" TERM; echo side-up; while true; do sleep 1; done`)
	id := strings.TrimSpace(e.ok("inspect", "--format", "{{.Id}}", "web").stdout)
	if mode := strings.TrimSpace(e.ok("inspect", "--format", "{{.HostConfig.NetworkMode}}", "side").stdout); mode != "container:"+id {
		t.Errorf("HostConfig.NetworkMode: %q, want container:%s", mode, id)
	}
	if nets := strings.TrimSpace(e.ok("inspect", "--format", "{{json .NetworkSettings.Networks}} {{.NetworkSettings.IPAddress}}", "side").stdout); nets != "{}" {
		t.Errorf("NetworkSettings of the joiner: %q, want {} and no address", nets)
	}
	if cols := strings.TrimSpace(e.ok("ps", "--filter", "name=side", "--format", "{{.Ports}}|{{.Networks}}").stdout); cols != "|" {
		t.Errorf("ps PORTS|NETWORKS of the joiner: %q, want both empty", cols)
	}
	e.ok("network", "create", "other")
	if r := e.exec(nil, "network", "connect", "other", "side"); r.code == 0 ||
		!strings.Contains(r.stderr, "container sharing network namespace with another container or host cannot be connected to any other network") {
		t.Errorf("network connect of the joiner: %v", r)
	}
	if hosts, webHosts := e.ok("inspect", "--format", "{{.HostsPath}}", "side").stdout, e.ok("inspect", "--format", "{{.HostsPath}}", "web").stdout; hosts != webHosts {
		t.Errorf("HostsPath: joiner %q, web %q", hosts, webHosts)
	}
	if got := e.ok("exec", "side", "wget", "-qO-", "http://127.0.0.1:8080/index.html").stdout; got != "hello-web\n" {
		t.Errorf("exec wget in the joiner: %q", got)
	}
	waitFor(t, func() bool { return strings.Contains(e.ok("logs", "side").stdout, "side-up") })

	// web stops: the joiner keeps running in the namespace, with lo.
	e.ok("stop", "web")
	if running := strings.TrimSpace(e.ok("inspect", "--format", "{{.State.Running}}", "side").stdout); running != "true" {
		t.Fatalf("the joiner stopped with web: running %s", running)
	}
	if devs := netDevs(e.ok("exec", "side", "cat", "/proc/net/dev").stdout); !contains(devs, "lo") {
		t.Errorf("interfaces of the joiner after web stopped: %q", devs)
	}
	e.ok("stop", "side")
	if code := strings.TrimSpace(e.ok("inspect", "--format", "{{.State.ExitCode}}", "side").stdout); code != "0" {
		t.Errorf("exit code of the stopped joiner: %s, want 0 (it exits 0 on TERM)", code)
	}
	e.ok("rm", "side")
}

// TestNetworkContainerStart: a joiner created beforehand is started,
// restarted and started attached by other commands than the target's
// (the target's process, in its user namespace, starts its monitor or
// runs it); an attached one outlives the target; with the target
// stopped, start refuses.
func TestNetworkContainerStart(t *testing.T) {
	e := newEnv(t)
	startWeb(t, e)
	e.rmOnCleanup("later")
	e.ok("create", "--name", "later", "--network", "container:web", "busybox", "sh", "-c", `trap "exit 0" TERM; while true; do sleep 1; done`)
	e.ok("start", "later")
	if got := e.ok("exec", "later", "wget", "-qO-", "http://127.0.0.1:8080/index.html").stdout; got != "hello-web\n" {
		t.Errorf("exec wget in the started joiner: %q", got)
	}
	e.ok("restart", "-t", "1", "later")
	if got := e.ok("exec", "later", "wget", "-qO-", "http://127.0.0.1:8080/index.html").stdout; got != "hello-web\n" {
		t.Errorf("exec wget in the restarted joiner: %q", got)
	}
	e.ok("stop", "later")
	// start -a too (the target's process runs it with these streams),
	// with stdin and the container's exit code.
	e.rmOnCleanup("once")
	e.ok("create", "-i", "--name", "once", "--network", "container:web", "busybox", "sh", "-c",
		"wget -qO- http://127.0.0.1:8080/index.html; cat; exit 3")
	r := e.exec([]byte("from-stdin\n"), "start", "-a", "-i", "once")
	if r.code != 3 || r.stdout != "hello-web\nfrom-stdin\n" {
		t.Errorf("start -a -i of a joiner: want exit 3 and hello-web, from-stdin: %v", r)
	}

	// An attached joiner outlives web, whose process ran it: start -a
	// still ends with the joiner's exit code.
	e.rmOnCleanup("loop")
	e.ok("create", "--name", "loop", "--network", "container:web", "busybox", "sh", "-c", `trap "exit 7" TERM; while true; do sleep 0.2; done`)
	cmd := exec.Command(*burrowBin, "start", "-a", "loop")
	cmd.Env, cmd.Dir = e.environ(), e.dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor(t, func() bool {
		return strings.TrimSpace(e.ok("inspect", "--format", "{{.State.Running}}", "loop").stdout) == "true"
	})
	e.ok("stop", "web")
	select {
	case err := <-done:
		t.Fatalf("start -a of the joiner ended with web: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	e.ok("stop", "loop")
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
			t.Errorf("start -a of the joiner: %v, want exit 7", err)
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatal("start -a of the joiner did not end after stop")
	}
	r = e.exec(nil, "start", "later")
	if r.code == 0 || !strings.Contains(r.stderr, "cannot join network namespace of a non running container: container web is exited") {
		t.Errorf("start with the target stopped: %v", r)
	}
}

// TestNetworkContainerChain: a container joined to a joiner is in the
// first one's namespace.
func TestNetworkContainerChain(t *testing.T) {
	e := newEnv(t)
	startWeb(t, e)
	e.rmOnCleanup("side")
	e.ok("run", "-d", "--name", "side", "--network", "container:web", "busybox", "sleep", "1000")
	got := e.ok("run", "--rm", "--network", "container:side", "busybox", "wget", "-qO-", "http://127.0.0.1:8080/index.html").stdout
	if got != "hello-web\n" {
		t.Errorf("wget through a chain of joins: %q", got)
	}
}

// TestNetworkContainerOtherTargets: the target may be a foreground run
// (its namespace is that process's) or on the host's network (the joiner
// then is too).
func TestNetworkContainerOtherTargets(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	port := freeHostPort(t)
	f := startServing(t, e, "fg", "--rm", "-p", fmt.Sprintf("%d:8080", port), "busybox", "sh", "-c", serveScript("hello-fg", 8080))
	fetchFromForeground(t, f, fmt.Sprintf("http://127.0.0.1:%d/index.html", port), "hello-fg\n")
	if got := e.ok("run", "--rm", "--network", "container:fg", "busybox", "wget", "-qO-", "http://127.0.0.1:8080/index.html").stdout; got != "hello-fg\n" {
		t.Errorf("wget from the joiner of a foreground run: %q", got)
	}
	e.rmOnCleanup("onhost")
	e.ok("run", "-d", "--name", "onhost", "--network", "host", "busybox", "sleep", "1000")
	host, err := os.ReadFile("/proc/self/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	got := e.ok("run", "--rm", "--network", "container:onhost", "busybox", "cat", "/proc/net/dev").stdout
	if a, b := strings.Join(netDevs(got), " "), strings.Join(netDevs(string(host)), " "); a != b {
		t.Errorf("interfaces of the joiner of a host-network container: %q, want the host's %q", a, b)
	}
}

// TestNetworkContainerRefused: Docker's conflicts, an unknown target, a
// stopped one and a malformed mode are refused before anything is made.
func TestNetworkContainerRefused(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.rmOnCleanup("web", "stopped")
	e.ok("run", "-d", "--name", "web", "busybox", "sleep", "1000")
	e.ok("create", "--name", "stopped", "busybox", "true")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-p", "8080:80"}, "conflicting options: port publishing and the container type network mode"},
		{[]string{"-P"}, "conflicting options: port publishing and the container type network mode"},
		{[]string{"--hostname", "h"}, "conflicting options: hostname and the network mode"},
		{[]string{"--dns", "9.9.9.9"}, "conflicting options: dns and the network mode"},
		{[]string{"--dns-search", "example.com"}, "conflicting options: dns and the network mode"},
		{[]string{"--add-host", "a:10.0.0.1"}, "conflicting options: custom host-to-IP mapping and the network mode"},
		{[]string{"--network-alias", "a"}, "network-scoped alias is supported only for containers in user defined networks"},
	} {
		args := append(append([]string{"run", "--rm"}, c.args...), "--network", "container:web", "busybox", "true")
		e.fail(125, []string{c.want}, args...)
	}
	e.fail(125, []string{"No such container: nope"}, "run", "--rm", "--network", "container:nope", "busybox", "true")
	e.fail(125, []string{"cannot join own network namespace"}, "run", "--name", "self", "--network", "container:self", "busybox", "true")
	e.fail(125, []string{"cannot join network namespace of a non running container: container stopped is created"},
		"run", "--network", "container:stopped", "busybox", "true")
	e.fail(125, []string{"cannot join network namespace of a non running container: container stopped is created"},
		"create", "--network", "container:stopped", "busybox", "true")
	e.fail(125, []string{"invalid container format container:<name|id>"}, "run", "--network", "container:", "busybox", "true")
	e.ok("stop", "-t", "0", "web")
	e.fail(125, []string{"cannot join network namespace of a non running container: container web is exited"},
		"run", "-d", "--network", "container:web", "busybox", "true")
	if out := strings.Join(lines(e.ok("ps", "-a", "--format", "{{.Names}}").stdout), " "); out != "stopped web" && out != "web stopped" {
		t.Errorf("containers after the refusals: %q, want web and stopped alone", out)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

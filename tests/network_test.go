package tests

// The private network of issue 14: publishing with -p and -P, port, the
// PORTS column and NetworkSettings.Ports, outbound access and DNS through
// the user-mode stack, --network none|host, port conflicts, ports released
// when a container stops or its monitor dies, the loopback fallback when
// /dev/net/tun is not usable, and user-defined networks.
//
// BURROW_TEST_TUN says whether /dev/net/tun is usable by the test user
// ("usable" or "unusable"; tests/run.sh sets it). Unset, the tests try to
// open the device.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// tunUsable: can containers of the test user have an eth0 with outbound
// access?
func tunUsable() bool {
	switch os.Getenv("BURROW_TEST_TUN") {
	case "usable":
		return true
	case "unusable":
		return false
	}
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

func needTun(t *testing.T) {
	t.Helper()
	if !tunUsable() {
		t.Skip("/dev/net/tun is not usable by this user (BURROW_TEST_TUN=" + os.Getenv("BURROW_TEST_TUN") + ")")
	}
}

// hostNetns is the network namespace of the test process, as readlink of
// /proc/self/ns/net prints it.
func hostNetns(t *testing.T) string {
	t.Helper()
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// freeHostPort is a TCP port nothing listens on (on any IPv4 address) now.
func freeHostPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// bindable: can the test bind 0.0.0.0:port now?
func bindable(port int) error {
	l, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", port))
	if err != nil {
		return err
	}
	return l.Close()
}

// hostAddr is a non-loopback IPv4 address of the host, or "".
func hostAddr() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip := n.IP.To4(); ip != nil && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
					return ip.String()
				}
			}
		}
	}
	return ""
}

// hostServer serves body over HTTP on the host's non-loopback address
// until the test ends, and returns that address, the port and the count
// of requests served; it skips the test when the host has no such address.
func hostServer(t *testing.T, body string) (string, int, *atomic.Int32) {
	t.Helper()
	addr := hostAddr()
	if addr == "" {
		t.Skip("the host has no non-loopback IPv4 address")
	}
	l, err := net.Listen("tcp4", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	hits := new(atomic.Int32)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, body)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return addr, l.Addr().(*net.TCPAddr).Port, hits
}

// serveScript makes /www/index.html hold body and serves /www with busybox
// httpd on port; the shell exits 0 on SIGTERM (httpd as PID 1 would
// ignore it).
func serveScript(body string, port int) string {
	return fmt.Sprintf(`mkdir -p /www; echo %s > /www/index.html; trap "exit 0" TERM; httpd -f -p %d -h /www & wait`, body, port)
}

func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), nil
}

// fetchEventually polls url until it answers want (servers take a moment
// to come up), failing the test with the last error after 15 s.
func fetchEventually(t *testing.T, url, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		body, err := httpGet(url)
		if err == nil && body == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: want %q, have %q, error %v", url, want, body, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rmOnCleanup removes the named containers when the test ends (before the
// env's own cleanup, which runs later).
func (e *env) rmOnCleanup(names ...string) {
	e.t.Cleanup(func() { e.exec(nil, append([]string{"rm", "-f"}, names...)...) })
}

// publishedPort is the host port `burrow port NAME CTRPORT` prints, which
// must be 0.0.0.0:N (an IPv6 line [::]:N may follow, as Docker prints).
func publishedPort(t *testing.T, e *env, name, ctrPort string) int {
	t.Helper()
	out := lines(e.ok("port", name, ctrPort).stdout)
	m := regexp.MustCompile(`^0\.0\.0\.0:(\d+)$`).FindStringSubmatch(strings.TrimSpace(firstOr(out, "")))
	if m == nil {
		t.Fatalf("port %s %s printed %q, want 0.0.0.0:PORT", name, ctrPort, out)
	}
	for _, l := range out[1:] {
		if strings.TrimSpace(l) != "[::]:"+m[1] {
			t.Errorf("port %s %s: unexpected line %q", name, ctrPort, l)
		}
	}
	n, _ := strconv.Atoi(m[1])
	if n <= 0 || n > 65535 {
		t.Fatalf("port %s %s: bad port %d", name, ctrPort, n)
	}
	return n
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

// netDevs lists the interfaces of a /proc/net/dev.
func netDevs(procNetDev string) []string {
	var out []string
	for i, l := range lines(procNetDev) {
		if i < 2 { // two header lines
			continue
		}
		if name, _, ok := strings.Cut(l, ":"); ok {
			out = append(out, strings.TrimSpace(name))
		}
	}
	return out
}

// foreground is a `burrow run` in the foreground, started in the
// background of the test.
type foreground struct {
	t          *testing.T
	e          *env
	name       string
	cmd        *exec.Cmd
	outF, errF *os.File
	done       chan struct{}
	code       int
}

// startForeground starts `burrow run --name NAME args...`. Its output goes
// to files (not pipes, so waiting for it does not wait for the container's
// copies of them). The test's cleanup kills it and removes the container.
func startServing(t *testing.T, e *env, name string, args ...string) *foreground {
	t.Helper()
	f := &foreground{t: t, e: e, name: name, done: make(chan struct{})}
	var err error
	if f.outF, err = os.Create(filepath.Join(e.dir, name+".stdout")); err != nil {
		t.Fatal(err)
	}
	if f.errF, err = os.Create(filepath.Join(e.dir, name+".stderr")); err != nil {
		t.Fatal(err)
	}
	f.cmd = exec.Command(*burrowBin, append([]string{"run", "--name", name}, args...)...)
	f.cmd.Env = e.environ()
	f.cmd.Dir = e.dir
	f.cmd.Stdout, f.cmd.Stderr = f.outF, f.errF
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := f.cmd.Wait()
		f.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			f.code = ee.ExitCode()
		} else if err != nil {
			f.code = -1
		}
		close(f.done)
	}()
	t.Cleanup(func() {
		select {
		case <-f.done:
		default:
			f.cmd.Process.Kill()
			<-f.done
		}
		e.exec(nil, "rm", "-f", name)
		f.outF.Close()
		f.errF.Close()
	})
	return f
}

func (f *foreground) running() bool {
	select {
	case <-f.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM (burrow run passes it on to the container) and waits
// for the run to end, killing it after 15 s. It returns the run's exit
// code and stderr.
func (f *foreground) stop() (int, string) {
	f.t.Helper()
	f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(15 * time.Second):
		f.t.Errorf("burrow run did not end within 15 s of SIGTERM; killing it")
		f.cmd.Process.Kill()
		<-f.done
	}
	return f.code, f.stderr()
}

func (f *foreground) stderr() string {
	b, _ := os.ReadFile(f.errF.Name())
	return string(b)
}

// failIfExited fails the test with the run's output if it has ended.
func (f *foreground) failIfExited() {
	f.t.Helper()
	if !f.running() {
		out, _ := os.ReadFile(f.outF.Name())
		f.t.Fatalf("burrow run %s ended: exit %d\nstdout:\n%s\nstderr:\n%s", f.name, f.code, out, f.stderr())
	}
}

// fetchFromForeground is fetchEventually that fails at once, with the
// run's output, if the run ends.
func fetchFromForeground(t *testing.T, f *foreground, url, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		body, err := httpGet(url)
		if err == nil && body == want {
			return
		}
		f.failIfExited()
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: want %q, have %q, error %v", url, want, body, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// monitorOf finds the monitor of a running detached container: the
// ancestor of the container's process (inspect's .State.Pid) that runs
// `burrow __monitor`, else what the state file records.
func monitorOf(t *testing.T, e *env, name string) int {
	t.Helper()
	pid, _ := strconv.Atoi(strings.TrimSpace(e.ok("inspect", "--format", "{{.State.Pid}}", name).stdout))
	for i := 0; pid > 1 && i < 6; i++ {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			break
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			break
		}
		pid, _ = strconv.Atoi(f[1])
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmdline), "\x00__monitor\x00") {
			return pid
		}
	}
	return monitorPid(t, e, name)
}

// TestNetworkPublishDetached: busybox httpd in a detached container is
// reached from the host through -p HOST:8080, over 127.0.0.1 and over a
// non-loopback address of the host; port lists the mapping.
func TestNetworkPublishDetached(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	port := freeHostPort(t)
	e.rmOnCleanup("web")
	e.ok("run", "-d", "--name", "web", "-p", fmt.Sprintf("%d:8080", port), "busybox", "sh", "-c", serveScript("hello-detached", 8080))
	fetchEventually(t, fmt.Sprintf("http://127.0.0.1:%d/index.html", port), "hello-detached\n")
	if a := hostAddr(); a != "" {
		fetchEventually(t, fmt.Sprintf("http://%s:%d/index.html", a, port), "hello-detached\n")
	}
	if got := publishedPort(t, e, "web", "8080"); got != port {
		t.Errorf("port web 8080: %d, want %d", got, port)
	}
	if out := lines(e.ok("port", "web").stdout); len(out) == 0 || out[0] != fmt.Sprintf("8080/tcp -> 0.0.0.0:%d", port) {
		t.Errorf("port web: %q", out)
	}
	e.fail(1, []string{"No public port '9999/tcp' published for web"}, "port", "web", "9999")
	e.ok("rm", "-f", "web")
}

// TestNetworkPublishForeground: the same with `run --rm -p` in the
// foreground; SIGTERM ends it, the container is removed and the host port
// is free again.
func TestNetworkPublishForeground(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	port := freeHostPort(t)
	f := startServing(t, e, "fg", "--rm", "-p", fmt.Sprintf("%d:8080", port), "busybox", "sh", "-c", serveScript("hello-foreground", 8080))
	fetchFromForeground(t, f, fmt.Sprintf("http://127.0.0.1:%d/index.html", port), "hello-foreground\n")
	code, stderr := f.stop()
	if code != 0 {
		t.Errorf("run --rm ended with exit %d after SIGTERM (the container exits 0 on TERM); stderr:\n%s", code, stderr)
	}
	waitFor(t, func() bool { return bindable(port) == nil })
	if out := e.ok("ps", "-a", "-q").stdout; out != "" {
		t.Errorf("run --rm left a container: %q", out)
	}
}

// TestNetworkPublishFreePort: -p 8080 publishes on a free host port, which
// port, ps's PORTS and inspect's NetworkSettings.Ports show as Docker
// does.
func TestNetworkPublishFreePort(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.rmOnCleanup("auto")
	e.ok("run", "-d", "--name", "auto", "-p", "8080", "busybox", "sh", "-c", serveScript("hello-auto", 8080))
	port := publishedPort(t, e, "auto", "8080")
	fetchEventually(t, fmt.Sprintf("http://127.0.0.1:%d/index.html", port), "hello-auto\n")

	want := fmt.Sprintf("0.0.0.0:%d->8080/tcp", port)
	ps := strings.TrimSpace(e.ok("ps", "--format", "{{.Ports}}").stdout)
	if ps != want && ps != want+fmt.Sprintf(", :::%d->8080/tcp", port) && ps != want+fmt.Sprintf(", [::]:%d->8080/tcp", port) {
		t.Errorf("ps {{.Ports}}: %q, want %q", ps, want)
	}
	if row := lines(e.ok("ps").stdout); len(row) != 2 || !strings.Contains(row[1], want) {
		t.Errorf("ps PORTS column: %q", row)
	}

	raw := strings.TrimSpace(e.ok("inspect", "--format", "{{json .NetworkSettings.Ports}}", "auto").stdout)
	var ports map[string][]struct{ HostIp, HostPort string }
	if err := jsonUnmarshal(raw, &ports); err != nil {
		t.Fatalf("NetworkSettings.Ports %q: %v", raw, err)
	}
	b := ports["8080/tcp"]
	if len(ports) != 1 || len(b) == 0 || b[0].HostIp != "0.0.0.0" || b[0].HostPort != strconv.Itoa(port) {
		t.Errorf("NetworkSettings.Ports: %s, want {\"8080/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"%d\"}]}", raw, port)
	}
	for _, x := range b[1:] {
		if x.HostIp != "::" || x.HostPort != strconv.Itoa(port) {
			t.Errorf("NetworkSettings.Ports: unexpected binding %+v in %s", x, raw)
		}
	}
	// A udp port and a range are published as asked.
	e.rmOnCleanup("multi")
	p1 := freeHostPort(t)
	e.ok("run", "-d", "--name", "multi", "-p", fmt.Sprintf("%d:5353/udp", p1), "-p", "127.0.0.1::9000", "busybox", "sleep", "100")
	if out := strings.TrimSpace(e.ok("port", "multi", "5353/udp").stdout); out != fmt.Sprintf("0.0.0.0:%d", p1) && !strings.HasPrefix(out, fmt.Sprintf("0.0.0.0:%d\n", p1)) {
		t.Errorf("port multi 5353/udp: %q", out)
	}
	if out := strings.TrimSpace(e.ok("port", "multi", "9000").stdout); !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(out) {
		t.Errorf("port multi 9000 (published on 127.0.0.1): %q", out)
	}
	e.ok("rm", "-f", "auto", "multi")
}

// TestNetworkPublishAll: -P publishes every port the image EXPOSEs, each on
// a free host port.
func TestNetworkPublishAll(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("localhost/exposer", "--change", "EXPOSE 8080 9090/udp")
	e.rmOnCleanup("all")
	e.ok("run", "-d", "--name", "all", "-P", "localhost/exposer", "sh", "-c", serveScript("hello-all", 8080))
	port := publishedPort(t, e, "all", "8080")
	fetchEventually(t, fmt.Sprintf("http://127.0.0.1:%d/index.html", port), "hello-all\n")
	udp := publishedPort(t, e, "all", "9090/udp")
	if udp == port {
		t.Errorf("8080/tcp and 9090/udp share host port %d (allowed, but free ports are chosen separately)", port)
	}
	out := e.ok("port", "all").stdout
	for _, w := range []string{fmt.Sprintf("8080/tcp -> 0.0.0.0:%d", port), fmt.Sprintf("9090/udp -> 0.0.0.0:%d", udp)} {
		if !strings.Contains(out, w) {
			t.Errorf("port all lacks %q: %q", w, out)
		}
	}
	e.ok("rm", "-f", "all")
}

// TestNetworkOutbound: a container on the default network is in a network
// namespace of its own and reaches an HTTP server the test runs on the
// host, at a non-loopback address of the host.
func TestNetworkOutbound(t *testing.T) {
	needTun(t)
	addr, port, _ := hostServer(t, "hello from the host\n")
	e := newEnv(t)
	e.importBusybox("busybox")
	url := fmt.Sprintf("http://%s:%d/", addr, port)
	r := e.exec(nil, "run", "--rm", "busybox", "sh", "-c", "readlink /proc/self/ns/net; timeout 20 wget -qO- "+url)
	out := lines(r.stdout)
	if ns := firstOr(out, ""); ns == "" || ns == hostNetns(t) {
		t.Errorf("the container is in the host's network namespace (%s): %v", ns, r)
	}
	if r.code != 0 || !strings.HasSuffix(r.stdout, "\nhello from the host\n") {
		t.Errorf("wget %s from the container: %v", url, r)
	}
	if out := e.ok("ps", "-a", "-q").stdout; out != "" {
		t.Errorf("run --rm left a container: %q", out)
	}
}

// TestNetworkDNS: the container's resolv.conf names the stack's forwarder
// at 10.0.2.3 and a query through it gets an answer (NXDOMAIN counts) and
// not a time-out; a name the host resolves by DNS resolves in the
// container too.
func TestNetworkDNS(t *testing.T) {
	needTun(t)
	e := newEnv(t)
	e.importBusybox("busybox")
	conf := e.ok("run", "--rm", "busybox", "cat", "/etc/resolv.conf").stdout
	if !regexp.MustCompile(`(?m)^nameserver 10\.0\.2\.3$`).MatchString(conf) {
		t.Errorf("resolv.conf does not name 10.0.2.3:\n%s", conf)
	}
	// The host's resolvers know this name (or say it does not exist).
	name := "example.com"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hostAddrs, hostErr := (&net.Resolver{PreferGo: true}).LookupHost(ctx, name)
	var dnsErr *net.DNSError
	hostAnswers := hostErr == nil || (errors.As(hostErr, &dnsErr) && dnsErr.IsNotFound)
	r := e.exec(nil, "run", "--rm", "busybox", "timeout", "20", "nslookup", name)
	all := r.stdout + r.stderr
	if strings.Contains(all, "timed out") || strings.Contains(all, "no servers could be reached") || r.code > 1 {
		t.Errorf("nslookup %s got no answer: %v", name, r)
	}
	if !strings.Contains(r.stdout, "10.0.2.3") {
		t.Errorf("nslookup %s did not ask 10.0.2.3: %v", name, r)
	}
	switch {
	case hostErr == nil:
		if r.code != 0 || !strings.Contains(r.stdout, "Name:") {
			t.Errorf("the host resolves %s (%v) but the container does not: %v", name, hostAddrs, r)
		}
	case hostAnswers:
		if !strings.Contains(all, "NXDOMAIN") && r.code != 0 {
			t.Errorf("the host's resolver says %s does not exist; the container got neither NXDOMAIN nor an address: %v", name, r)
		}
	default:
		t.Logf("the host cannot resolve %s (%v): checked only that the container got an answer", name, hostErr)
	}
}

// TestNetworkInterfaces: --network none has only lo; the default network
// has lo and eth0 (only lo when /dev/net/tun is not usable) in a namespace
// of its own, eth0 with a 10.0.2.x address that inspect and /etc/hosts
// show; --network host is the host's namespace.
func TestNetworkInterfaces(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	if devs := netDevs(e.ok("run", "--rm", "--network", "none", "busybox", "cat", "/proc/net/dev").stdout); strings.Join(devs, " ") != "lo" {
		t.Errorf("--network none has %q, want only lo", devs)
	}
	host := hostNetns(t)
	if ns := strings.TrimSpace(e.ok("run", "--rm", "--network", "host", "busybox", "readlink", "/proc/self/ns/net").stdout); ns != host {
		t.Errorf("--network host: namespace %s, the host's is %s", ns, host)
	}
	e.rmOnCleanup("box")
	e.ok("run", "-d", "--name", "box", "--hostname", "boxhost", "busybox", "sleep", "100")
	ns := strings.TrimSpace(e.ok("exec", "box", "readlink", "/proc/self/ns/net").stdout)
	if ns == host {
		t.Errorf("the default network is the host's namespace (%s)", ns)
	}
	devs := netDevs(e.ok("exec", "box", "cat", "/proc/net/dev").stdout)
	if !tunUsable() {
		if strings.Join(devs, " ") != "lo" {
			t.Errorf("without a usable /dev/net/tun the default network has %q, want only lo", devs)
		}
		e.ok("rm", "-f", "box")
		return
	}
	if !sameSet(strings.Join(devs, ","), "lo,eth0") {
		t.Errorf("the default network has %q, want lo and eth0", devs)
	}
	out := e.ok("exec", "box", "ip", "-4", "addr", "show", "dev", "eth0").stdout
	m := regexp.MustCompile(`inet (10\.0\.2\.\d+)/24`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("eth0 has no 10.0.2.x/24 address:\n%s", out)
	}
	ip := m[1]
	if got := strings.TrimSpace(e.ok("inspect", "--format", "{{.NetworkSettings.IPAddress}}", "box").stdout); got != ip {
		t.Errorf("inspect .NetworkSettings.IPAddress: %q, eth0 has %s", got, ip)
	}
	if route := e.ok("exec", "box", "ip", "route").stdout; !strings.Contains(route, "default via 10.0.2.2") {
		t.Errorf("no default route via 10.0.2.2:\n%s", route)
	}
	hosts := e.ok("exec", "box", "cat", "/etc/hosts").stdout
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(ip) + `\s+.*\bboxhost\b`).MatchString(hosts) {
		t.Errorf("/etc/hosts does not give boxhost the address %s:\n%s", ip, hosts)
	}
	e.ok("rm", "-f", "box")
}

// TestNetworkPortConflict: a host port the test holds, or another
// container publishes, is refused with Docker's wording and exit 125, and
// leaves no container behind; so are malformed -p and, as a user, a
// privileged port.
func TestNetworkPortConflict(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	held, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	e.rmOnCleanup("clash", "first", "second")
	e.fail(125, []string{fmt.Sprintf("Bind for 0.0.0.0:%d failed: port is already allocated", port)},
		"run", "-d", "--name", "clash", "-p", fmt.Sprintf("%d:80", port), "busybox", "sleep", "100")
	e.fail(125, []string{"port is already allocated"},
		"run", "--rm", "-p", fmt.Sprintf("%d:80", port), "busybox", "true")
	if out := e.ok("ps", "-a", "-q").stdout; out != "" {
		t.Errorf("a refused run left a container: %q", out)
	}
	// A port published by a running container.
	p2 := freeHostPort(t)
	e.ok("run", "-d", "--name", "first", "-p", fmt.Sprintf("%d:8080", p2), "busybox", "sleep", "100")
	e.fail(125, []string{"port is already allocated"},
		"run", "-d", "--name", "second", "-p", fmt.Sprintf("%d:8080", p2), "busybox", "sleep", "100")
	if out := e.ok("ps", "-a", "--format", "{{.Names}}").stdout; out != "first\n" {
		t.Errorf("after the refused second run, ps -a: %q", out)
	}
	e.ok("rm", "-f", "first")
	// Malformed -p.
	for _, bad := range []string{"abc", "70000:80", "1.2.3:80:80", "80/bogus"} {
		r := e.exec(nil, "run", "--rm", "-p", bad, "busybox", "true")
		if r.code != 125 || len(lines(r.stderr)) > 3 || r.stderr == "" {
			t.Errorf("-p %s: %v", bad, r)
		}
	}
	// A port below net.ipv4.ip_unprivileged_port_start, as a user.
	if os.Getuid() != 0 {
		data, _ := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
		if start, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && start > 80 {
			e.fail(125, []string{"ip_unprivileged_port_start"}, "run", "--rm", "-p", "80:8080", "busybox", "true")
		}
	}
	if out := e.ok("ps", "-a", "-q").stdout; out != "" {
		t.Errorf("refused runs left containers: %q", out)
	}
}

// TestNetworkPortsReleased: a published host port is free again after
// stop, published again by start, and free again after the container's
// monitor is killed with SIGKILL; the next commands report the truth.
func TestNetworkPortsReleased(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	port := freeHostPort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/index.html", port)
	e.rmOnCleanup("rel")
	e.ok("run", "-d", "--name", "rel", "-p", fmt.Sprintf("%d:8080", port), "busybox", "sh", "-c", serveScript("hello-rel", 8080))
	fetchEventually(t, url, "hello-rel\n")
	if bindable(port) == nil {
		t.Errorf("the test could bind port %d while the container publishes it", port)
	}
	e.ok("stop", "rel")
	if err := bindable(port); err != nil {
		t.Errorf("port %d not released by stop: %v", port, err)
	}
	if out := e.ok("ps", "-a", "--format", "{{.Ports}}").stdout; strings.TrimSpace(out) != "" {
		t.Errorf("ps -a shows ports of a stopped container: %q", out)
	}
	e.ok("start", "rel")
	fetchEventually(t, url, "hello-rel\n")

	var monitor int
	waitFor(t, func() bool { monitor = monitorOf(t, e, "rel"); return monitor > 0 })
	if err := syscall.Kill(monitor, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", monitor, err)
	}
	waitFor(t, func() bool { return bindable(port) == nil })
	waitFor(t, func() bool {
		return strings.HasPrefix(e.ok("ps", "-a", "--filter", "name=rel", "--format", "{{.Status}}").stdout, "Exited")
	})
	if out := e.ok("ps", "-q").stdout; out != "" {
		t.Errorf("ps lists a container whose monitor was killed as running: %q", out)
	}
	e.ok("rm", "rel")
	// The port can be published again.
	e.rmOnCleanup("again")
	e.ok("run", "-d", "--name", "again", "-p", fmt.Sprintf("%d:8080", port), "busybox", "sh", "-c", serveScript("hello-again", 8080))
	fetchEventually(t, url, "hello-again\n")
	e.ok("rm", "-f", "again")
}

// TestNetworkTunUnusable: without a usable /dev/net/tun a container keeps
// a private namespace with only lo, -p still serves from the host, one
// notice says outbound access is unavailable and how to get it, and
// --network host works. tests/run.sh runs it as the test users with the
// device made 0600 for the purpose.
func TestNetworkTunUnusable(t *testing.T) {
	if tunUsable() {
		t.Skip("/dev/net/tun is usable: tests/run.sh runs this test in a pass with it made 0600")
	}
	e := newEnv(t)
	e.importBusybox("busybox")
	port := freeHostPort(t)
	f := startServing(t, e, "fallback", "--rm", "-p", fmt.Sprintf("%d:8080", port), "busybox", "sh", "-c", serveScript("hello-fallback", 8080))
	fetchFromForeground(t, f, fmt.Sprintf("http://127.0.0.1:%d/index.html", port), "hello-fallback\n")
	_, stderr := f.stop()
	checkNotice := func(what, stderr string) {
		t.Helper()
		if !strings.Contains(stderr, "/dev/net/tun") || strings.Count(stderr, "--network host") != 1 {
			t.Errorf("%s: want one notice naming /dev/net/tun and --network host, stderr:\n%s", what, stderr)
		}
	}
	checkNotice("run --rm -p", stderr)
	waitFor(t, func() bool { return bindable(port) == nil })

	r := e.ok("run", "--rm", "busybox", "sh", "-c", "readlink /proc/self/ns/net; cat /proc/net/dev")
	out := lines(r.stdout)
	if ns := firstOr(out, ""); ns == hostNetns(t) {
		t.Errorf("the fallback is the host's namespace, want a private one with lo only")
	}
	if devs := netDevs(strings.Join(out[1:], "\n")); strings.Join(devs, " ") != "lo" {
		t.Errorf("the fallback has %q, want only lo", devs)
	}
	checkNotice("run --rm", r.stderr)

	r = e.ok("run", "--rm", "--network", "host", "busybox", "readlink", "/proc/self/ns/net")
	if strings.TrimSpace(r.stdout) != hostNetns(t) || r.stderr != "" {
		t.Errorf("--network host: %v (the host's namespace is %s)", r, hostNetns(t))
	}
	if out := e.ok("ps", "-a", "-q").stdout; out != "" {
		t.Errorf("run --rm left containers: %q", out)
	}
}

// TestNetworkUserDefined: containers on one user-defined network reach
// each other by name and alias, and containers of another network do not.
func TestNetworkUserDefined(t *testing.T) {
	e := newEnv(t)
	if r := e.exec(nil, "network", "ls"); r.code != 0 {
		t.Skip("user-defined networks: not built yet")
	}
	needTun(t)
	e.importBusybox("busybox")
	e.ok("network", "create", "n1")
	e.ok("network", "create", "n2")
	t.Cleanup(func() { e.exec(nil, "network", "rm", "n1", "n2") })
	e.rmOnCleanup("a")
	e.ok("run", "-d", "--network", "n1", "--network-alias", "web", "--name", "a", "busybox", "sh", "-c", serveScript("hello-n1", 8080))
	var r result
	for _, host := range []string{"a", "web"} {
		waitFor(t, func() bool {
			r = e.exec(nil, "run", "--rm", "--network", "n1", "busybox", "timeout", "10", "wget", "-qO-", "http://"+host+":8080/index.html")
			return r.code == 0
		})
		if r.stdout != "hello-n1\n" {
			t.Errorf("from n1 by %s: %v", host, r)
		}
	}
	if r := e.exec(nil, "run", "--rm", "--network", "n2", "busybox", "timeout", "10", "wget", "-qO-", "http://a:8080/index.html"); r.code == 0 {
		t.Errorf("a container of n2 reached a of n1 by name: %v", r)
	}
	ip := strings.TrimSpace(e.ok("inspect", "--format", "{{.NetworkSettings.Networks.n1.IPAddress}}", "a").stdout)
	if net.ParseIP(ip) == nil {
		t.Fatalf("inspect .NetworkSettings.Networks.n1.IPAddress: %q", ip)
	}
	if r := e.exec(nil, "run", "--rm", "--network", "n2", "busybox", "timeout", "10", "wget", "-qO-", "http://"+ip+":8080/index.html"); r.code == 0 {
		t.Errorf("a container of n2 reached a of n1 at %s: %v", ip, r)
	}
	e.fail(1, []string{"n1"}, "network", "rm", "n1") // in use by a
	e.ok("rm", "-f", "a")
	e.ok("network", "rm", "n1", "n2")
}

// userNetwork creates a user-defined network (extra are network create's
// options) and returns its ID; the test's cleanup removes it.
func userNetwork(t *testing.T, e *env, name string, extra ...string) string {
	t.Helper()
	id := strings.TrimSpace(e.ok(append(append([]string{"network", "create"}, extra...), name)...).stdout)
	if len(id) < 12 {
		t.Fatalf("network create %s printed %q, want an ID", name, id)
	}
	t.Cleanup(func() { e.exec(nil, "network", "rm", "-f", name) })
	return id
}

// switchPids are the live processes of the test user that run the switch
// of the network name (ID id): `burrow __netswitch CONFIG`, whose JSON
// configuration names the network and its socket (the ID's first 12
// digits, under the env's run root). Zombies have no cmdline and are not
// listed.
func switchPids(t *testing.T, e *env, name, id string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		fi, err := os.Stat(filepath.Join("/proc", ent.Name()))
		if err != nil {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Getuid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(args) < 3 || args[1] != "__netswitch" {
			continue
		}
		cfg := args[2]
		if strings.Contains(cfg, `"Name":"`+name+`"`) && strings.Contains(cfg, filepath.Join(e.dir, "run")) &&
			strings.Contains(cfg, id[:12]+".sock") {
			out = append(out, pid)
		}
	}
	return out
}

// oneSwitch waits for the network's one switch process and returns its
// PID.
func oneSwitch(t *testing.T, e *env, name, id string) int {
	t.Helper()
	var pids []int
	deadline := time.Now().Add(15 * time.Second)
	for {
		if pids = switchPids(t, e, name, id); len(pids) == 1 {
			return pids[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("network %s: want one switch process, have %v", name, pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// switchGone polls (generously: 30 s) for the network's switch processes
// to end, and fails the test with those left.
func switchGone(t *testing.T, e *env, name, id string) {
	t.Helper()
	var pids []int
	deadline := time.Now().Add(30 * time.Second)
	for {
		if pids = switchPids(t, e, name, id); len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("network %s: switch processes %v still run 30 s after the last member left", name, pids)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wgetOn runs busybox wget from a new container on network, polling until
// it answers want.
func wgetOn(t *testing.T, e *env, network, url, want string) {
	t.Helper()
	var r result
	deadline := time.Now().Add(30 * time.Second)
	for {
		r = e.exec(nil, "run", "--rm", "--network", network, "busybox", "timeout", "10", "wget", "-qO-", url)
		if r.code == 0 && r.stdout == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("from network %s, wget %s: want %q: %v", network, url, want, r)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestNetworkSwitchKilled: after kill -9 of a network's switch, a new
// container on the network starts a new switch and is reached by name
// from another container started after the kill; once the members are
// removed the network is removed and created again under its name.
// (The members from before the kill lose the network; that is not
// asserted.)
func TestNetworkSwitchKilled(t *testing.T) {
	needTun(t)
	e := newEnv(t)
	e.importBusybox("busybox")
	id := userNetwork(t, e, "kn")
	e.rmOnCleanup("old1", "old2", "new")
	e.ok("run", "-d", "--network", "kn", "--name", "old1", "busybox", "sh", "-c", serveScript("hello-old", 8080))
	e.ok("run", "-d", "--network", "kn", "--name", "old2", "busybox", "sleep", "300")
	wgetOn(t, e, "kn", "http://old1:8080/index.html", "hello-old\n")
	old := oneSwitch(t, e, "kn", id)
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", old, err)
	}
	switchGone(t, e, "kn", id)

	e.ok("run", "-d", "--network", "kn", "--name", "new", "busybox", "sh", "-c", serveScript("hello-new", 8080))
	if sw := oneSwitch(t, e, "kn", id); sw == old {
		t.Errorf("the switch after the kill has the killed one's PID %d", old)
	}
	wgetOn(t, e, "kn", "http://new:8080/index.html", "hello-new\n")
	if r := e.exec(nil, "run", "--rm", "--network", "kn", "busybox", "sh", "-c", "ip -4 addr show dev eth0"); r.code != 0 || !strings.Contains(r.stdout, "inet ") {
		t.Errorf("a container on kn after the kill has no address: %v", r)
	}

	e.ok("rm", "-f", "old1", "old2", "new")
	e.ok("network", "rm", "kn")
	switchGone(t, e, "kn", id)
	id2 := userNetwork(t, e, "kn")
	if id2 == id {
		t.Errorf("network kn created again has the old ID %s", id)
	}
	e.rmOnCleanup("again")
	e.ok("run", "-d", "--network", "kn", "--name", "again", "busybox", "sh", "-c", serveScript("hello-again", 8080))
	wgetOn(t, e, "kn", "http://again:8080/index.html", "hello-again\n")
	e.ok("rm", "-f", "again")
	e.ok("network", "rm", "kn")
}

// TestNetworkInternal: a container of an --internal network does not reach
// a server on the host's non-loopback address (which a container of an
// ordinary network does), while members reach each other by name.
func TestNetworkInternal(t *testing.T) {
	needTun(t)
	addr, port, hits := hostServer(t, "hello from the host\n")
	url := fmt.Sprintf("http://%s:%d/", addr, port)

	e := newEnv(t)
	e.importBusybox("busybox")
	userNetwork(t, e, "inside", "--internal")
	userNetwork(t, e, "outside")
	if got := strings.TrimSpace(e.ok("network", "inspect", "--format", "{{.Internal}}", "inside").stdout); got != "true" {
		t.Errorf("network inspect inside: Internal %q, want true", got)
	}
	// The control: the same fetch from an ordinary user-defined network.
	wgetOn(t, e, "outside", url, "hello from the host\n")
	before := hits.Load()

	e.rmOnCleanup("srv")
	e.ok("run", "-d", "--network", "inside", "--name", "srv", "busybox", "sh", "-c", serveScript("hello-inside", 8080))
	wgetOn(t, e, "inside", "http://srv:8080/index.html", "hello-inside\n")
	r := e.exec(nil, "run", "--rm", "--network", "inside", "busybox", "timeout", "3", "wget", "-qO-", url)
	if r.code == 0 || strings.Contains(r.stdout, "hello from the host") {
		t.Errorf("a container of an --internal network reached %s: %v", url, r)
	}
	// From a running member too, and by exec.
	if r := e.exec(nil, "exec", "srv", "timeout", "3", "wget", "-qO-", url); r.code == 0 {
		t.Errorf("srv on the --internal network reached %s: %v", url, r)
	}
	if n := hits.Load() - before; n != 0 {
		t.Errorf("the host's server got %d requests from the --internal network", n)
	}
	e.ok("rm", "-f", "srv")
	e.ok("network", "rm", "inside", "outside")
}

// TestNetworkSwitchExits: a network's switch runs while it has members,
// and ends once its last member is removed.
func TestNetworkSwitchExits(t *testing.T) {
	needTun(t)
	e := newEnv(t)
	e.importBusybox("busybox")
	id := userNetwork(t, e, "en")
	if pids := switchPids(t, e, "en", id); len(pids) != 0 {
		t.Errorf("network create started a switch: %v", pids)
	}
	e.rmOnCleanup("m1", "m2")
	e.ok("run", "-d", "--network", "en", "--name", "m1", "busybox", "sleep", "300")
	sw := oneSwitch(t, e, "en", id)
	e.ok("run", "-d", "--network", "en", "--name", "m2", "busybox", "sleep", "300")
	if got := oneSwitch(t, e, "en", id); got != sw {
		t.Errorf("the second member has switch %d, the first %d", got, sw)
	}
	e.ok("rm", "-f", "m1")
	// m2 remains: the switch must still serve it (a moment for it to
	// have seen m1 leave).
	time.Sleep(500 * time.Millisecond)
	if got := oneSwitch(t, e, "en", id); got != sw {
		t.Errorf("after m1 left, the switch is %d, was %d", got, sw)
	}
	e.ok("rm", "-f", "m2")
	switchGone(t, e, "en", id)
	e.ok("network", "rm", "en")
}

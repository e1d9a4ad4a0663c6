package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestRunExitCodes: run returns the container's status, 128+N for signal
// N, and Docker's 125/126/127 when it cannot run the command.
func TestRunExitCodes(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	cases := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"run", "--rm", "busybox", "true"}, 0, ""},
		{[]string{"run", "--rm", "busybox", "sh", "-c", "exit 3"}, 3, ""},
		{[]string{"run", "--rm", "busybox", "sh", "-c", "sleep 5 & kill -TERM $!; wait $!"}, 143, ""},
		{[]string{"run", "--rm", "busybox", "no-such-command"}, 127, `exec: "no-such-command": executable file not found in $PATH`},
		{[]string{"run", "--rm", "busybox", "/etc/passwd"}, 126, `exec: "/etc/passwd": permission denied`},
		{[]string{"run", "--rm", "nope"}, 125, "No such image: nope:latest"},
		{[]string{"run", "--rm", "--frob", "busybox"}, 125, "flag provided but not defined: -frob"},
		{[]string{"run", "--rm", "-p", "80:80", "busybox", "true"}, 125, "publishing ports"},
		{[]string{"run", "--rm", "-u", "nosuchuser", "busybox", "true"}, 125, "unable to find user nosuchuser"},
		{[]string{"run", "--rm", "--network", "mynet", "busybox", "true"}, 125, "network mynet not found"},
		{[]string{"run", "--rm", "-w", "relative", "busybox", "true"}, 125, "needs to be an absolute path"},
		{[]string{"run", "--rm", "-e", "=x", "busybox", "true"}, 125, "invalid environment variable"},
	}
	for _, c := range cases {
		r := e.exec(nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.stderr) {
			t.Errorf("want exit %d and %q: %v", c.code, c.stderr, r)
		}
		if c.code >= 125 && len(lines(r.stderr)) > 3 {
			t.Errorf("error is not short: %v", r)
		}
	}
	if out := e.ok("ps", "-a", "-q").stdout; out != "" {
		t.Errorf("--rm left containers: %q", out)
	}
}

func TestRunOptions(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox", "--change", "ENV FROM_IMAGE=yes", "--change", "WORKDIR /srv")
	envFile := filepath.Join(e.dir, "env.list")
	os.WriteFile(envFile, []byte("# comment\nFROM_FILE=1\n"), 0o644)
	out := e.ok("run", "--rm", "-e", "A=b", "--env-file", envFile, "busybox", "sh", "-c", "echo $A $FROM_FILE $FROM_IMAGE $HOSTNAME; pwd").stdout
	if got := lines(out); len(got) != 2 || !strings.HasPrefix(got[0], "b 1 yes ") || got[1] != "/srv" {
		t.Errorf("env and workdir: %q", out)
	}
	if out := e.ok("run", "--rm", "-w", "/made/for/you", "--hostname", "box1", "busybox", "sh", "-c", "pwd; hostname; cat /etc/hostname").stdout; out != "/made/for/you\nbox1\nbox1\n" {
		t.Errorf("-w and --hostname: %q", out)
	}
	if out := e.ok("run", "--rm", "--entrypoint", "/bin/echo", "busybox", "a", "b").stdout; out != "a b\n" {
		t.Errorf("--entrypoint: %q", out)
	}
	r := e.ok("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
	if r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("stdout/stderr: %v", r)
	}
	if r := e.exec([]byte("from stdin\n"), "run", "--rm", "-i", "busybox", "cat"); r.code != 0 || r.stdout != "from stdin\n" {
		t.Errorf("-i: %v", r)
	}
	links := lines(e.ok("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net").stdout)
	if strings.Join(links, " ") != "lo" {
		t.Errorf("--network none has %q", links)
	}
	if r := e.exec(nil, "run", "--rm", "--read-only", "busybox", "touch", "/x"); r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
		t.Errorf("--read-only: %v", r)
	}
	want := map[string]string{"full": "uid=65534(nobody) gid=65534(nobody)", "single": "uid=0(root) gid=0(root)", "host": "uid=65534(nobody) gid=65534(nobody)"}[mode]
	if out := strings.TrimSpace(e.ok("run", "--rm", "-u", "nobody", "busybox", "id").stdout); !strings.HasPrefix(out, want) {
		t.Errorf("-u nobody in mode %s: %q, want %q", mode, out, want)
	}
	if out := strings.TrimSpace(e.ok("run", "--rm", "--cap-drop", "ALL", "busybox", "sh", "-c", "grep CapEff /proc/self/status").stdout); out != "CapEff:\t0000000000000000" {
		t.Errorf("--cap-drop ALL: %q", out)
	}
	// Owner changes work in every mode (faked in single-id mode).
	if r := e.exec(nil, "run", "--rm", "busybox", "sh", "-c", "touch /f && chown 1000:50 /f && su -s /bin/sh nobody -c true"); r.code != 0 {
		t.Errorf("chown and su in mode %s: %v", mode, r)
	}
}

func TestNamesAndCreate(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	id := strings.TrimSpace(e.ok("create", "--name", "first", "busybox", "echo", "hello").stdout)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("create printed %q", id)
	}
	e.fail(125, []string{`Conflict. The container name "/first" is already in use by container "` + id + `"`}, "create", "--name", "first", "busybox")
	e.fail(125, []string{"Invalid container name (bad name)"}, "create", "--name", "bad name", "busybox")
	out := e.ok("ps", "-a", "--format", "{{.Names}}|{{.Status}}|{{.Command}}").stdout
	if strings.TrimSpace(out) != `first|Created|"echo hello"` {
		t.Errorf("ps of a created container: %q", out)
	}
	if r := e.ok("start", "-a", "first"); r.stdout != "hello\n" {
		t.Errorf("start -a: %v", r)
	}
	if r := e.ok("start", "-a", id[:6]); r.stdout != "hello\n" {
		t.Errorf("start -a by ID prefix: %v", r)
	}
	// A generated name is adjective_noun.
	e.ok("create", "busybox")
	names := e.ok("ps", "-a", "--format", "{{.Names}}").stdout
	if !regexp.MustCompile(`(?m)^[a-z]+_[a-z]+$`).MatchString(names) {
		t.Errorf("no generated name in %q", names)
	}
	e.fail(1, []string{"No such container: ghost"}, "start", "ghost")
}

// TestDetached: a detached container outlives the command that started it,
// logs, stops with its STOPSIGNAL, reports its exit code, and is removed.
func TestDetached(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.importBusybox("localhost/usr1", "--change", "STOPSIGNAL SIGUSR1")
	script := `echo started; trap "echo got TERM; exit 7" TERM; trap "echo got USR1; exit 9" USR1; while true; do sleep 0.05; done`
	id := strings.TrimSpace(e.ok("run", "-d", "--name", "web", "busybox", "sh", "-c", script).stdout)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("run -d printed %q", id)
	}
	waitFor(t, func() bool { return strings.Contains(e.ok("logs", "web").stdout, "started") })
	ps := lines(e.ok("ps").stdout)
	if len(ps) != 2 || !regexp.MustCompile(`^`+id[:12]+`\s+busybox\s+"sh -c echo started;…"\s+.* ago\s+Up .*\s+web$`).MatchString(ps[1]) {
		t.Errorf("ps: %q", ps)
	}
	e.fail(1, []string{`cannot remove container "/web": container is running`}, "rm", "web")
	if out := e.ok("stop", "web").stdout; out != "web\n" {
		t.Errorf("stop printed %q", out)
	}
	if out := strings.TrimSpace(e.ok("wait", "web").stdout); out != "7" {
		t.Errorf("wait: %q", out)
	}
	if out := e.ok("logs", "web").stdout; out != "started\ngot TERM\n" {
		t.Errorf("logs: %q", out)
	}
	if out := e.ok("logs", "--tail", "1", "-t", "web").stdout; !regexp.MustCompile(`^\d{4}-\d\d-\d\dT[\d:.]+Z got TERM\n$`).MatchString(out) {
		t.Errorf("logs --tail 1 -t: %q", out)
	}
	if st := e.ok("ps", "-a", "--format", "{{.Status}}").stdout; !strings.HasPrefix(st, "Exited (7) ") {
		t.Errorf("status after stop: %q", st)
	}
	e.ok("start", "web") // restarts detached
	waitFor(t, func() bool { return strings.Count(e.ok("logs", "web").stdout, "started") == 2 })
	e.ok("kill", "-s", "USR1", "web")
	if out := strings.TrimSpace(e.ok("wait", "web").stdout); out != "9" {
		t.Errorf("wait after kill -s USR1: %q", out)
	}
	e.fail(1, []string{"is not running"}, "kill", "web")
	e.ok("rm", "web")
	e.fail(1, []string{"No such container: web"}, "logs", "web")

	// STOPSIGNAL from the image; a container that ignores it is killed
	// after the timeout.
	e.ok("run", "-d", "--name", "u", "localhost/usr1", "sh", "-c", script)
	waitFor(t, func() bool { return strings.Contains(e.ok("logs", "u").stdout, "started") })
	e.ok("stop", "u")
	if out := strings.TrimSpace(e.ok("wait", "u").stdout); out != "9" {
		t.Errorf("STOPSIGNAL SIGUSR1 not used: exit %q", out)
	}
	e.ok("run", "-d", "--name", "stubborn", "busybox", "sh", "-c", `trap "" TERM; echo ready; while true; do sleep 0.05; done`)
	waitFor(t, func() bool { return strings.Contains(e.ok("logs", "stubborn").stdout, "ready") })
	start := time.Now()
	e.ok("stop", "-t", "1", "stubborn")
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("stop -t 1 returned after %v, before the timeout", d)
	}
	if out := strings.TrimSpace(e.ok("wait", "stubborn").stdout); out != "137" {
		t.Errorf("killed after the timeout: exit %q, want 137", out)
	}
	e.ok("stop", "stubborn") // stopping a stopped container is fine
	// --rm with -d: removed once it exits.
	e.ok("run", "-d", "--rm", "--name", "brief", "busybox", "true")
	waitFor(t, func() bool { return e.exec(nil, "logs", "brief").code != 0 })
	// rm -f of a running container.
	e.ok("run", "-d", "--name", "doomed", "busybox", "sleep", "100")
	if out := e.ok("rm", "-f", "doomed").stdout; out != "doomed\n" {
		t.Errorf("rm -f printed %q", out)
	}
	// An image used by a container is kept, as Docker keeps it.
	r := e.fail(1, []string{`conflict: unable to remove repository reference "localhost/usr1" (must force) - container`}, "rmi", "localhost/usr1")
	_ = r
	out := e.ok("container", "prune", "-f").stdout
	if !strings.HasPrefix(out, "Deleted Containers:\n") || !strings.HasSuffix(out, "Total reclaimed space: 0B\n") {
		t.Errorf("container prune: %q", out)
	}
	if left := e.ok("ps", "-a", "-q").stdout; left != "" {
		t.Errorf("containers left: %q", left)
	}
	e.ok("rmi", "localhost/usr1")
}

// TestMonitorKilled: after kill -9 of a detached container's monitor, the
// container is shown as exited and rm works.
func TestMonitorKilled(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "-d", "--name", "orphan", "busybox", "sleep", "100")
	var monitor int
	waitFor(t, func() bool {
		monitor = monitorPid(t, e, "orphan")
		return monitor > 0
	})
	syscall.Kill(monitor, syscall.SIGKILL)
	waitFor(t, func() bool {
		return strings.HasPrefix(e.ok("ps", "-a", "--format", "{{.Status}}").stdout, "Exited (137)")
	})
	if out := e.ok("ps", "-q").stdout; out != "" {
		t.Errorf("ps still lists it as running: %q", out)
	}
	e.ok("rm", "orphan")
}

// monitorPid reads the monitor's pid from the container's state file.
func monitorPid(t *testing.T, e *env, name string) int {
	matches, _ := filepath.Glob(filepath.Join(e.root(), "*-containers", "*", "userdata", "state.json"))
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		if i := strings.Index(string(data), `"MonitorPid":`); i >= 0 {
			rest := string(data[i+len(`"MonitorPid":`):])
			n, _ := strconv.Atoi(rest[:strings.IndexAny(rest, ",}")])
			return n
		}
	}
	return 0
}

// TestContainerRaces: two commands on one container at once leave a
// consistent store.
func TestContainerRaces(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	for i := 0; i < 3; i++ {
		e.ok("run", "-d", "--name", "racer", "busybox", "sleep", "100")
		var wg sync.WaitGroup
		results := make([]result, 2)
		for j := range results {
			wg.Add(1)
			go func(j int) {
				defer wg.Done()
				results[j] = e.exec(nil, "rm", "-f", "racer")
			}(j)
		}
		wg.Wait()
		ok := 0
		for _, r := range results {
			if r.code == 0 {
				ok++
			} else if !strings.Contains(r.stderr, "No such container") {
				t.Errorf("racing rm -f: %v", r)
			}
		}
		if ok == 0 {
			t.Errorf("neither rm -f succeeded: %v", results)
		}
		if out := e.ok("ps", "-a", "-q").stdout; out != "" {
			t.Fatalf("left after racing rm -f: %q", out)
		}
	}
}

func TestPsFilters(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "--name", "zero", "-l", "tier=db", "busybox", "true")
	e.exec(nil, "run", "--name", "three", "busybox", "sh", "-c", "exit 3")
	e.ok("run", "-d", "--name", "up", "busybox", "sleep", "100")
	defer e.exec(nil, "rm", "-f", "up")
	got := func(args ...string) string {
		return strings.Join(lines(e.ok(append([]string{"ps", "--format", "{{.Names}}"}, args...)...).stdout), ",")
	}
	if s := got(); s != "up" {
		t.Errorf("ps: %q", s)
	}
	if s := got("-a"); !sameSet(s, "up,three,zero") {
		t.Errorf("ps -a: %q", s)
	}
	if s := got("--filter", "status=exited"); !sameSet(s, "three,zero") {
		t.Errorf("status=exited: %q", s)
	}
	if s := got("--filter", "exited=3"); s != "three" {
		t.Errorf("exited=3: %q", s)
	}
	if s := got("-a", "--filter", "label=tier=db"); s != "zero" {
		t.Errorf("label: %q", s)
	}
	if s := got("-a", "--filter", "ancestor=busybox", "--filter", "name=ze"); s != "zero" {
		t.Errorf("ancestor+name: %q", s)
	}
	if s := got("-l"); s != "up" {
		t.Errorf("-l: %q", s)
	}
	if s := got("-n", "2"); s != "up,three" {
		t.Errorf("-n 2: %q", s)
	}
	head := lines(e.ok("ps").stdout)[0]
	if !regexp.MustCompile(`^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$`).MatchString(head) {
		t.Errorf("ps header %q", head)
	}
	e.fail(1, []string{"invalid filter 'color'"}, "ps", "--filter", "color=red")
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var _ = exec.Command

// TestExec: exec joins a running container (its processes, hostname and
// files), passes on exit codes and standard input, and refuses a stopped
// container.
func TestExec(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "-d", "--name", "box", "--hostname", "inbox", "busybox", "sh", "-c", "echo marker > /tmp/m; sleep 100")
	waitFor(t, func() bool { return e.exec(nil, "exec", "box", "test", "-f", "/tmp/m").code == 0 })
	out := e.ok("exec", "box", "sh", "-c", "hostname; cat /tmp/m; ps -o comm | grep -c sleep").stdout
	if out != "inbox\nmarker\n1\n" {
		t.Errorf("exec does not see the container: %q", out)
	}
	if r := e.exec(nil, "exec", "box", "sh", "-c", "exit 5"); r.code != 5 {
		t.Errorf("exit code: %v", r)
	}
	e.fail(127, []string{`exec: "nope": executable file not found in $PATH`}, "exec", "box", "nope")
	if r := e.exec([]byte("piped\n"), "exec", "-i", "box", "cat"); r.code != 0 || r.stdout != "piped\n" {
		t.Errorf("exec -i: %v", r)
	}
	want := map[string]string{"full": "65534 /tmp 1\n", "single": "0 /tmp 1\n", "host": "65534 /tmp 1\n"}[mode]
	if out := e.ok("exec", "-u", "nobody", "-w", "/tmp", "-e", "X=1", "box", "sh", "-c", "echo $(id -u) $(pwd) $X").stdout; out != want {
		t.Errorf("exec -u -w -e in mode %s: %q, want %q", mode, out, want)
	}
	e.ok("exec", "-d", "box", "sh", "-c", "echo later > /tmp/d")
	waitFor(t, func() bool { return e.exec(nil, "exec", "box", "cat", "/tmp/d").stdout == "later\n" })
	e.ok("stop", "-t", "0", "box")
	e.fail(1, []string{"is not running"}, "exec", "box", "true")
	e.fail(1, []string{"No such container: ghost"}, "exec", "ghost", "true")
	e.fail(125, []string{`"burrow exec" requires at least 2 arguments`}, "exec", "box")
}

func TestInspectContainer(t *testing.T) {
	e := newEnv(t)
	img := e.importBusybox("busybox", "--change", "ENV FROM_IMAGE=1")
	id := strings.TrimSpace(e.ok("run", "-d", "--name", "insp", "-e", "A=b", "-l", "k=v", "busybox", "sleep", "100").stdout)
	defer e.exec(nil, "rm", "-f", "insp")
	var docs []struct {
		Id, Created, Path, Name, Image string
		Args                           []string
		State                          struct {
			Status        string
			Running       bool
			Pid, ExitCode int
			StartedAt     string
		}
		Config struct {
			Env    []string
			Cmd    []string
			Image  string
			Labels map[string]string
		}
		HostConfig struct{ NetworkMode string }
	}
	r := e.ok("inspect", "insp")
	if err := jsonUnmarshal(r.stdout, &docs); err != nil || len(docs) != 1 {
		t.Fatalf("inspect: %v\n%s", err, r.stdout)
	}
	d := docs[0]
	if d.Id != id || d.Name != "/insp" || d.Image != "sha256:"+img || d.Path != "sleep" || strings.Join(d.Args, " ") != "100" {
		t.Errorf("identity fields: %+v", d)
	}
	if d.State.Status != "running" || !d.State.Running || d.State.Pid <= 0 || d.State.StartedAt == "" {
		t.Errorf("state: %+v", d.State)
	}
	env := strings.Join(d.Config.Env, " ")
	if !strings.Contains(env, "A=b") || !strings.Contains(env, "FROM_IMAGE=1") || d.Config.Image != "busybox" || d.Config.Labels["k"] != "v" {
		t.Errorf("config: %+v", d.Config)
	}
	if s := strings.TrimSpace(e.ok("container", "inspect", "-f", "{{.State.Status}} {{.HostConfig.NetworkMode}}", "insp").stdout); s != "running host" {
		t.Errorf("container inspect -f: %q", s)
	}
	e.ok("stop", "-t", "0", "insp")
	if s := strings.TrimSpace(e.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}", "insp").stdout); s != "exited 137 false" {
		t.Errorf("after stop: %q", s)
	}
	e.fail(1, []string{"No such container: busybox"}, "container", "inspect", "busybox")
	if s := strings.TrimSpace(e.ok("inspect", "--type", "image", "-f", "{{.Id}}", "busybox").stdout); s != "sha256:"+img {
		t.Errorf("--type image: %q", s)
	}
}

// TestCommitDiffExport: a container's changes (additions, changes,
// deletions) show in diff, become a layer with commit, and the committed
// image runs with them; export writes the whole filesystem.
func TestCommitDiffExport(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "--name", "work", "-e", "ADDED=1", "busybox", "sh", "-c", "echo hello > /hello.txt; rm /bin/vi; mkdir /etc/newdir")
	if out := e.ok("diff", "work").stdout; out != "C /bin\nD /bin/vi\nC /etc\nA /etc/newdir\nA /hello.txt\n" {
		t.Errorf("diff: %q", out)
	}
	out := e.ok("commit", "-a", "tester", "-m", "add hello", "-c", `CMD ["cat", "/hello.txt"]`, "work", "localhost/committed:1").stdout
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`).MatchString(out) {
		t.Fatalf("commit printed %q", out)
	}
	if out := e.ok("run", "--rm", "localhost/committed:1").stdout; out != "hello\n" {
		t.Errorf("committed CMD: %q", out)
	}
	if r := e.exec(nil, "run", "--rm", "localhost/committed:1", "ls", "/bin/vi"); r.code == 0 {
		t.Errorf("a deleted file came back: %v", r)
	}
	if out := e.ok("run", "--rm", "localhost/committed:1", "sh", "-c", "echo $ADDED").stdout; out != "1\n" {
		t.Errorf("the container's environment was not committed: %q", out)
	}
	h := lines(e.ok("history", "--format", "{{.CreatedBy}}|{{.Comment}}", "localhost/committed:1").stdout)
	if len(h) != 2 || !strings.HasPrefix(h[0], "sh -c echo hello") || !strings.HasSuffix(h[0], "|add hello") {
		t.Errorf("history: %q", h)
	}
	if a := strings.TrimSpace(e.ok("inspect", "-f", "{{.Author}} {{len .RootFS.Layers}}", "localhost/committed:1").stdout); a != "tester 2" {
		t.Errorf("author and layers: %q", a)
	}
	tarFile := filepath.Join(e.dir, "fs.tar")
	e.ok("export", "-o", tarFile, "work")
	list, err := exec.Command("tar", "-tf", tarFile).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(list), "hello.txt") || strings.Contains(string(list), "bin/vi\n") || !strings.Contains(string(list), "bin/busybox") {
		t.Errorf("export lacks the container's view: %d lines", len(lines(string(list))))
	}
	e.fail(1, []string{"No such container: nope"}, "commit", "nope")
	e.fail(1, []string{"invalid --change"}, "commit", "-c", "RUN true", "work")
}

// TestVolumes: bind mounts (read-only too), named volumes that keep their
// data and start with the image's content, anonymous volumes from -v DST
// and the image's VOLUME, tmpfs, and the errors for bad mounts.
func TestVolumes(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox", "--change", "VOLUME /data")
	host := filepath.Join(e.dir, "shared")
	os.MkdirAll(host, 0o755)
	os.WriteFile(filepath.Join(host, "from-host"), []byte("host file\n"), 0o644)
	if out := e.ok("run", "--rm", "-v", host+":/mnt", "busybox", "sh", "-c", "cat /mnt/from-host; echo back > /mnt/from-ctr").stdout; out != "host file\n" {
		t.Errorf("bind mount: %q", out)
	}
	if data, _ := os.ReadFile(filepath.Join(host, "from-ctr")); string(data) != "back\n" {
		t.Errorf("write through the bind mount: %q", data)
	}
	if r := e.exec(nil, "run", "--rm", "-v", host+":/mnt:ro", "busybox", "touch", "/mnt/x"); r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
		t.Errorf(":ro bind: %v", r)
	}
	if r := e.exec(nil, "run", "--rm", "--mount", "type=bind,source="+host+",target=/m,readonly", "busybox", "ls", "/m/from-host"); r.code != 0 {
		t.Errorf("--mount bind: %v", r)
	}
	// A named volume starts with the image's content at its path and keeps
	// what containers write.
	if out := e.ok("run", "--rm", "-v", "etcvol:/etc", "busybox", "sh", "-c", "cat /etc/group | head -1; echo kept > /etc/mine").stdout; out != "root:x:0:\n" {
		t.Errorf("new volume not filled from the image: %q", out)
	}
	if out := e.ok("run", "--rm", "-v", "etcvol:/etc", "busybox", "cat", "/etc/mine").stdout; out != "kept\n" {
		t.Errorf("volume data lost between containers: %q", out)
	}
	if out := e.ok("run", "--rm", "--tmpfs", "/scratch:size=1m", "busybox", "sh", "-c", "grep ' /scratch ' /proc/mounts | cut -d' ' -f3").stdout; out != "tmpfs\n" {
		t.Errorf("--tmpfs: %q", out)
	}
	// The image's VOLUME and -v DST are anonymous volumes, removed by rm -v.
	e.ok("run", "--name", "anon", "-v", "/extra", "busybox", "sh", "-c", "echo x > /data/f; echo y > /extra/f")
	vols, _ := filepath.Glob(filepath.Join(e.root(), "volumes", "*"))
	if len(vols) != 3 { // etcvol + two anonymous
		t.Errorf("want 3 volumes, have %d", len(vols))
	}
	e.ok("rm", "-v", "anon")
	vols, _ = filepath.Glob(filepath.Join(e.root(), "volumes", "*"))
	if len(vols) != 1 || filepath.Base(vols[0]) != "etcvol" {
		t.Errorf("rm -v left %v", vols)
	}
	e.fail(125, []string{"bind source path does not exist: /no/such/dir"}, "run", "--rm", "-v", "/no/such/dir:/x", "busybox", "true")
	e.fail(125, []string{"mount path must be absolute"}, "run", "--rm", "-v", host+":relative", "busybox", "true")
	e.fail(125, []string{"invalid mode: bogus"}, "run", "--rm", "-v", host+":/x:bogus", "busybox", "true")
	e.fail(125, []string{"includes invalid characters for a local volume name"}, "run", "--rm", "-v", "bad$name:/x", "busybox", "true")
	e.fail(125, []string{"invalid mount type"}, "run", "--rm", "--mount", "type=nfs,target=/x", "busybox", "true")
}

// TestTerminal drives run -it and exec -it through a real pseudo-terminal
// (util-linux's script): the container gets a terminal of the caller's
// size, input reaches it and its exit code comes back.
func TestTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux) is not installed")
	}
	e := newEnv(t)
	e.importBusybox("busybox")
	viaPty := func(input, cmdline string) (string, int) {
		cmd := exec.Command("script", "-qec", "stty rows 33 cols 111; "+cmdline, "/dev/null")
		cmd.Env = e.environ()
		cmd.Stdin = strings.NewReader(input)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return strings.ReplaceAll(string(out), "\r", ""), code
	}
	out, code := viaPty("tty; stty size; echo $TERM; exit 3\n", *burrowBin+" run -it --rm busybox sh")
	if code != 3 || !strings.Contains(out, "/dev/pts/0\n33 111\nxterm\n") {
		t.Errorf("run -it: exit %d, output %q", code, out)
	}
	e.ok("run", "-d", "--name", "tty", "busybox", "sleep", "100")
	defer e.exec(nil, "rm", "-f", "tty")
	out, code = viaPty("tty; stty size; exit 4\n", *burrowBin+" exec -it tty sh")
	if code != 4 || !strings.Contains(out, "/dev/pts/0\n33 111\n") {
		t.Errorf("exec -it: exit %d, output %q", code, out)
	}
	e.fail(1, []string{"the input device is not a TTY"}, "run", "-it", "--rm", "busybox", "true")
	if r := e.ok("run", "-t", "--rm", "busybox", "tty"); !strings.HasPrefix(r.stdout, "/dev/pts/0") {
		t.Errorf("run -t without -i: %v", r)
	}
}

// TestSecurityOpts: the default seccomp filter refuses what Docker's
// refuses (here: unshare), capabilities and seccomp=unconfined release it,
// no-new-privileges is applied, and a bad profile is a clear error.
func TestSecurityOpts(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	try := func(args ...string) string {
		return e.ok(append(append([]string{"run", "--rm"}, args...), "busybox", "sh", "-c", "unshare -U true 2>/dev/null; echo $?")...).stdout
	}
	if out := try(); out != "1\n" {
		t.Errorf("unshare allowed by the default filter: %q", out)
	}
	if out := try("--security-opt", "seccomp=unconfined"); out != "0\n" {
		t.Errorf("seccomp=unconfined: %q", out)
	}
	if out := try("--cap-add", "SYS_ADMIN"); out != "0\n" {
		t.Errorf("--cap-add SYS_ADMIN: %q", out)
	}
	if out := e.ok("run", "--rm", "--security-opt", "no-new-privileges", "busybox", "grep", "NoNewPrivs", "/proc/self/status").stdout; out != "NoNewPrivs:\t1\n" {
		t.Errorf("no-new-privileges: %q", out)
	}
	profile := filepath.Join(e.dir, "profile.json")
	os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644)
	if r := e.exec(nil, "run", "--rm", "--security-opt", "seccomp="+profile, "busybox", "mkdir", "/x"); r.code == 0 {
		t.Errorf("a seccomp profile refusing mkdir was not applied: %v", r)
	}
	e.fail(125, []string{"reading seccomp profile"}, "run", "--rm", "--security-opt", "seccomp=/no/profile.json", "busybox", "true")
	e.fail(125, []string{"invalid --security-opt"}, "run", "--rm", "--security-opt", "frobnicate", "busybox", "true")
}

// TestRestartHealthInit: restart policies (on-failure with a limit;
// always, ended by stop), health status transitions shown by ps and
// inspect, --init as PID 1, --ulimit, --stop-timeout and log rotation.
func TestRestartHealthInit(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "-d", "--name", "fails", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; exit 3")
	waitFor(t, func() bool {
		return strings.TrimSpace(e.ok("inspect", "-f", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}", "fails").stdout) == "2 exited 3"
	})
	if n := strings.Count(e.ok("logs", "fails").stdout, "run\n"); n != 3 {
		t.Errorf("on-failure:2 ran %d times, want 3", n)
	}
	e.ok("run", "-d", "--name", "always", "--restart", "always", "busybox", "sh", "-c", "echo up; sleep 0.2")
	waitFor(t, func() bool { return strings.Count(e.ok("logs", "always").stdout, "up") >= 2 })
	e.ok("stop", "always")
	waitFor(t, func() bool {
		return strings.HasPrefix(e.ok("ps", "-a", "--filter", "name=always", "--format", "{{.Status}}").stdout, "Exited")
	})
	n := strings.Count(e.ok("logs", "always").stdout, "up")
	time.Sleep(800 * time.Millisecond)
	if n2 := strings.Count(e.ok("logs", "always").stdout, "up"); n2 != n {
		t.Errorf("restart=always went on after stop: %d then %d runs", n, n2)
	}
	e.fail(125, []string{"cannot specify both --restart and --rm"}, "run", "--rm", "--restart", "always", "busybox", "true")
	e.fail(125, []string{"invalid restart policy 'sometimes'"}, "run", "--restart", "sometimes", "busybox", "true")

	e.ok("run", "-d", "--name", "doc", "--health-cmd", "test -f /tmp/ok", "--health-interval", "200ms", "--health-retries", "2",
		"busybox", "sh", "-c", "sleep 0.6; touch /tmp/ok; sleep 100")
	if st := e.ok("ps", "--filter", "name=doc", "--format", "{{.Status}}").stdout; !strings.Contains(st, "(health: starting)") {
		t.Errorf("health at start: %q", st)
	}
	waitFor(t, func() bool {
		return strings.Contains(e.ok("ps", "--filter", "name=doc", "--format", "{{.Status}}").stdout, "(healthy)")
	})
	e.ok("exec", "doc", "rm", "/tmp/ok")
	waitFor(t, func() bool {
		return strings.Contains(e.ok("ps", "--filter", "name=doc", "--format", "{{.Status}}").stdout, "(unhealthy)")
	})
	if s := strings.TrimSpace(e.ok("inspect", "-f", "{{.State.Health.Status}} {{.State.Health.FailingStreak}}", "doc").stdout); !strings.HasPrefix(s, "unhealthy ") {
		t.Errorf("inspect health: %q", s)
	}
	e.ok("rm", "-f", "doc")

	if out := e.ok("run", "--rm", "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '").stdout; !strings.HasPrefix(out, "/dev/init __init -- sh -c") {
		t.Errorf("--init is not PID 1: %q", out)
	}
	if r := e.exec(nil, "run", "--rm", "--init", "busybox", "sh", "-c", "exit 6"); r.code != 6 {
		t.Errorf("--init passes on the exit code: %v", r)
	}
	if out := e.ok("run", "--rm", "--ulimit", "nofile=100:200", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn").stdout; out != "100\n200\n" {
		t.Errorf("--ulimit: %q", out)
	}
	e.fail(125, []string{"invalid ulimit"}, "run", "--rm", "--ulimit", "bogus=1", "busybox", "true")

	e.ok("run", "-d", "--name", "slowstop", "--stop-timeout", "1", "busybox", "sh", "-c", `trap "" TERM; while true; do sleep 0.05; done`)
	start := time.Now()
	e.ok("stop", "slowstop")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("--stop-timeout 1 took %v", d)
	}

	e.ok("run", "--name", "chatty", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", "busybox", "sh", "-c", "for i in $(seq 1 200); do echo line $i; done")
	logs := e.ok("logs", "chatty").stdout
	if !strings.HasSuffix(logs, "line 200\n") || strings.Contains(logs, "line 1\n") {
		t.Errorf("rotated logs keep the end and drop the start: %d bytes", len(logs))
	}
	e.fail(125, []string{"unknown log opt 'colour'"}, "run", "--log-opt", "colour=red", "busybox", "true")
}

// TestRunRootWiped: after a reboot empties the run root, containers are
// still listed with the status they ended with, and can be started and
// removed.
func TestRunRootWiped(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.exec(nil, "run", "--name", "before", "busybox", "sh", "-c", "exit 3")
	e.ok("create", "--name", "fresh", "busybox", "echo", "hi")
	entries, _ := os.ReadDir(filepath.Join(e.dir, "run"))
	for _, ent := range entries {
		e.exec(nil, "unshare", "rm", "-rf", filepath.Join(e.dir, "run", ent.Name()))
	}
	st := e.ok("ps", "-a", "--format", "{{.Names}} {{.Status}}").stdout
	if !strings.Contains(st, "before Exited (3)") || !strings.Contains(st, "fresh Created") {
		t.Errorf("after the run root was wiped: %q", st)
	}
	if out := e.ok("start", "-a", "fresh").stdout; out != "hi\n" {
		t.Errorf("start after wipe: %q", out)
	}
	e.ok("rm", "before", "fresh")
}

func TestRenameTopPortPauseAttach(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "-d", "--name", "a", "busybox", "sh", "-c", "sleep 100 & sleep 200")
	e.ok("create", "--name", "b", "busybox")
	e.fail(1, []string{`Conflict. The container name "/b" is already in use`}, "rename", "a", "b")
	e.ok("rename", "a", "c")
	if out := e.ok("ps", "--format", "{{.Names}}").stdout; out != "c\n" {
		t.Errorf("after rename: %q", out)
	}
	waitFor(t, func() bool { return strings.Contains(e.ok("top", "c").stdout, "sleep 100") })
	top := e.ok("top", "c", "-o", "pid,comm").stdout
	if !regexp.MustCompile(`^\s*PID COMMAND\n(\s*\d+ sleep\n){2}$`).MatchString(top) {
		t.Errorf("top -o pid,comm: %q", top)
	}
	if out := e.ok("port", "c").stdout; out != "" {
		t.Errorf("port with no mappings: %q", out)
	}
	e.fail(1, []string{"No public port '80/tcp' published for c"}, "port", "c", "80")
	e.fail(1, []string{"cannot pause container c", "hint:"}, "pause", "c")
	e.fail(1, []string{"You cannot attach to a stopped container"}, "attach", "b")
	done := make(chan result)
	go func() { done <- e.exec(nil, "attach", "c") }()
	time.Sleep(500 * time.Millisecond)
	e.ok("exec", "c", "sh", "-c", "echo seen-by-attach > /proc/1/fd/1")
	e.ok("kill", "-s", "KILL", "c")
	r := <-done
	if r.code != 137 || !strings.Contains(r.stdout, "seen-by-attach") {
		t.Errorf("attach: %v", r)
	}
	e.ok("rm", "b", "c")
}

// TestCp copies both ways, into a running and a stopped container, with
// Docker's naming rules and tar streams on "-".
func TestCp(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	host := filepath.Join(e.dir, "cp")
	os.MkdirAll(filepath.Join(host, "dir", "sub"), 0o755)
	os.WriteFile(filepath.Join(host, "dir", "sub", "f"), []byte("deep\n"), 0o644)
	os.WriteFile(filepath.Join(host, "file"), []byte("single\n"), 0o644)
	e.ok("run", "-d", "--name", "live", "busybox", "sleep", "100")
	defer e.exec(nil, "rm", "-f", "live")
	e.ok("cp", filepath.Join(host, "dir"), "live:/tmp/")
	e.ok("cp", filepath.Join(host, "file"), "live:/tmp/renamed")
	if out := e.ok("exec", "live", "cat", "/tmp/dir/sub/f", "/tmp/renamed").stdout; out != "deep\nsingle\n" {
		t.Errorf("copied in: %q", out)
	}
	if out := e.ok("exec", "live", "stat", "-c", "%u", "/tmp/renamed").stdout; out != "0\n" {
		t.Errorf("copied in files belong to the container's root: %q", out)
	}
	e.ok("exec", "live", "sh", "-c", "mkdir -p /out/x && echo made > /out/x/y")
	e.ok("cp", "live:/out/x", filepath.Join(host, "got"))
	if data, _ := os.ReadFile(filepath.Join(host, "got", "y")); string(data) != "made\n" {
		t.Errorf("copied out as a new name: %q", data)
	}
	e.ok("cp", "live:/out/x", host)
	if data, _ := os.ReadFile(filepath.Join(host, "x", "y")); string(data) != "made\n" {
		t.Errorf("copied out into a directory: %q", data)
	}
	if fi, err := os.Stat(filepath.Join(host, "x", "y")); err != nil || fi.Sys().(*syscall.Stat_t).Uid != uint32(os.Getuid()) {
		t.Errorf("copied out files belong to the user: %v", err)
	}
	r := e.ok("cp", "live:/etc/hostname", "-")
	tr := exec.Command("tar", "-t")
	tr.Stdin = strings.NewReader(r.stdout)
	if names, err := tr.Output(); err != nil || string(names) != "hostname\n" {
		t.Errorf("cp to -: %q %v", names, err)
	}
	e.ok("create", "--name", "stopped", "busybox")
	e.ok("cp", filepath.Join(host, "file"), "stopped:/")
	e.ok("cp", "stopped:/file", filepath.Join(host, "back"))
	if data, _ := os.ReadFile(filepath.Join(host, "back")); string(data) != "single\n" {
		t.Errorf("cp with a stopped container: %q", data)
	}
	e.fail(1, []string{"Could not find the file /nope in container"}, "cp", "live:/nope", host)
	e.fail(125, []string{"must specify at least one container source"}, "cp", host, filepath.Join(e.dir, "elsewhere"))
}

func TestRestartCommand(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "-d", "--name", "again", "busybox", "sh", "-c", `echo started; trap "exit 0" TERM; while true; do sleep 0.05; done`)
	waitFor(t, func() bool { return strings.Contains(e.ok("logs", "again").stdout, "started") })
	if out := e.ok("restart", "-t", "2", "again").stdout; out != "again\n" {
		t.Errorf("restart printed %q", out)
	}
	waitFor(t, func() bool { return strings.Count(e.ok("logs", "again").stdout, "started") == 2 })
	if st := e.ok("ps", "--format", "{{.Names}} {{.Status}}").stdout; !strings.HasPrefix(st, "again Up") {
		t.Errorf("after restart: %q", st)
	}
	e.ok("rm", "-f", "again")
	e.fail(1, []string{"No such container: again"}, "restart", "again")
}

// TestLogsFollow: logs -f prints what is there, then follows new output
// until the container ends; --since skips older lines; signals can be
// given by number.
func TestLogsFollow(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "-d", "--name", "ticker", "busybox", "sh", "-c", "echo one; sleep 0.6; echo two >&2; sleep 0.6; echo three")
	r := e.exec(nil, "logs", "-f", "ticker")
	if r.code != 0 || r.stdout != "one\nthree\n" || r.stderr != "two\n" {
		t.Errorf("logs -f: %v", r)
	}
	if out := e.ok("logs", "--since", "1h", "ticker").stdout; out != "one\nthree\n" {
		t.Errorf("logs --since 1h: %q", out)
	}
	future := time.Now().Add(time.Hour).Format(time.RFC3339)
	if out := e.ok("logs", "--since", future, "ticker").stdout; out != "" {
		t.Errorf("logs --since the future: %q", out)
	}
	e.ok("run", "-d", "--name", "numbered", "busybox", "sleep", "100")
	e.ok("kill", "-s", "9", "numbered")
	if out := strings.TrimSpace(e.ok("wait", "numbered").stdout); out != "137" {
		t.Errorf("kill -s 9: exit %q", out)
	}
	e.fail(125, []string{"invalid signal: BOGUS"}, "kill", "-s", "BOGUS", "numbered")
}

func TestPsSize(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "--name", "writer", "busybox", "sh", "-c", "head -c 300000 /dev/zero > /big")
	out := e.ok("ps", "-a", "-s", "--format", "{{.Size}}").stdout
	if !regexp.MustCompile(`^3\d\dkB \(virtual 2\.\d+MB\)\n$`).MatchString(out) {
		t.Errorf("ps -s: %q", out)
	}
	if h := lines(e.ok("ps", "-a", "-s").stdout)[0]; !strings.HasSuffix(h, "SIZE") {
		t.Errorf("ps -s header: %q", h)
	}
}

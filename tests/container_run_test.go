package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

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
		{[]string{"run", "--rm", "-p", "abc", "busybox", "true"}, 125, "invalid containerPort: abc"},
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
	want := "uid=65534(nobody) gid=65534(nobody)" // emulated in single-id mode
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
	// Single-id mode emulates the user's id (issue 15): the same in all.
	want := "65534 /tmp 1\n"
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
	if s := strings.TrimSpace(e.ok("container", "inspect", "-f", "{{.State.Status}} {{.HostConfig.NetworkMode}}", "insp").stdout); s != "running bridge" {
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

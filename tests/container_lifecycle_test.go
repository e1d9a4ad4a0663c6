package tests

import (
	"fmt"
	"io"
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

func TestMonitorKilled(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "-d", "--name", "orphan", "busybox", "sleep", "100")
	var monitor int
	waitFor(t, func() bool {
		monitor = monitorPid(t, e, "orphan")
		return monitor > 0
	})
	pid, _ := strconv.Atoi(strings.TrimSpace(e.ok("inspect", "--format", "{{.State.Pid}}", "orphan").stdout))
	syscall.Kill(monitor, syscall.SIGKILL)
	waitFor(t, func() bool {
		return strings.HasPrefix(e.ok("ps", "-a", "--format", "{{.Status}}").stdout, "Exited (137)")
	})
	if out := e.ok("ps", "-q").stdout; out != "" {
		t.Errorf("ps still lists it as running: %q", out)
	}
	// Reported exited, it is: its process does not outlive the report
	// (a zombie nobody reaps counts as gone).
	waitFor(t, func() bool {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		return err != nil || strings.Contains(string(stat), ") Z ")
	})
	e.ok("rm", "orphan")
}

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

// TestAttach: attach to a detached -it container through a terminal, with
// the container's terminal sized like the caller's; Ctrl-P Ctrl-Q
// detaches and leaves it running; a later attach gets its exit code; a
// -i container takes piped input.
func TestAttach(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux) is not installed")
	}
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "-dit", "--name", "shell", "busybox", "sh")
	viaPty := func(steps ...string) (string, int) {
		pr, pw := io.Pipe()
		go func() {
			for _, s := range steps {
				time.Sleep(700 * time.Millisecond) // let attach set its terminal up
				pw.Write([]byte(s))
			}
			time.Sleep(700 * time.Millisecond)
			pw.Close()
		}()
		cmd := exec.Command("script", "-qec", "stty rows 25 cols 100; "+*burrowBin+" attach shell", "/dev/null")
		cmd.Env = e.environ()
		cmd.Stdin = pr
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return strings.ReplaceAll(string(out), "\r", ""), code
	}
	out, code := viaPty("echo attached-$((6*7)); stty size\n", "\x10\x11")
	if code != 0 || !strings.Contains(out, "attached-42\n25 100\n") || !strings.Contains(out, "read escape sequence") {
		t.Errorf("attach then detach: exit %d, output %q", code, out)
	}
	if st := e.ok("ps", "--format", "{{.Status}}").stdout; !strings.HasPrefix(st, "Up") {
		t.Errorf("detaching stopped the container: %q", st)
	}
	if _, code := viaPty("exit 5\n"); code != 5 {
		t.Errorf("attach after the shell exits: exit %d, want 5", code)
	}
	e.ok("run", "-di", "--name", "reader", "busybox", "sh", "-c", "read line; echo got $line; exit 3")
	if r := e.exec([]byte("hello\n"), "attach", "reader"); r.code != 3 || r.stdout != "got hello\n" {
		t.Errorf("attach to -di with piped input: %v", r)
	}
	e.fail(125, []string{"invalid detach keys"}, "attach", "--detach-keys", "ctrl-pp", "reader")
	e.ok("rm", "-f", "shell", "reader")
}

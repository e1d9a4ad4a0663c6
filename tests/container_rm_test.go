package tests

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// layerDirs lists the storage driver's layer directories in the store.
func layerDirs(t *testing.T, e *env) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.root(), "overlay"))
	if err != nil {
		entries, err = os.ReadDir(filepath.Join(e.root(), "vfs", "dir"))
	}
	if err != nil {
		t.Fatalf("listing layer directories: %v", err)
	}
	var out []string
	for _, ent := range entries {
		if ent.IsDir() && len(ent.Name()) == 64 {
			out = append(out, ent.Name())
		}
	}
	sort.Strings(out)
	return out
}

// startForeground starts `burrow run ARGS` in the background and waits
// until the container printed its first line.
func startForeground(t *testing.T, e *env, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(*burrowBin, append([]string{"run"}, args...)...)
	cmd.Env = e.environ()
	cmd.Dir = e.dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatalf("burrow run %s printed nothing: %v", strings.Join(args, " "), err)
	}
	return cmd
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestRunRm covers `run --rm` in the foreground, whose container is kept
// in the run root only: while it runs it is a container like any other
// (listed, named, exec'able, holding its image); when it ends nothing of
// it is left.
func TestRunRm(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	before := layerDirs(t, e)

	cmd := startForeground(t, e, "--rm", "--name", "fg", "busybox", "sh", "-c", "echo hello > /tmp/f; echo ready; exec sleep 100")
	if ps := e.ok("ps", "--format", "{{.Names}} {{.Status}} {{.Image}}").stdout; !strings.HasPrefix(ps, "fg Up ") || !strings.HasSuffix(ps, " busybox\n") {
		t.Errorf("ps while the --rm container runs: %q", ps)
	}
	if out := e.ok("exec", "fg", "cat", "/tmp/f").stdout; out != "hello\n" {
		t.Errorf("exec into the --rm container: %q", out)
	}
	if out := e.ok("inspect", "--format", "{{.State.Running}} {{.HostConfig.AutoRemove}} {{.Name}}", "fg").stdout; out != "true true /fg\n" {
		t.Errorf("inspect: %q", out)
	}
	if out := e.ok("diff", "fg").stdout; !strings.Contains(out, "A /tmp/f\n") {
		t.Errorf("diff: %q", out)
	}
	e.fail(125, []string{`The container name "/fg" is already in use by container "`}, "run", "--name", "fg", "busybox", "true")
	e.fail(125, []string{`The container name "/fg" is already in use`}, "create", "--name", "fg", "busybox", "true")
	e.fail(125, []string{`The container name "/fg" is already in use`}, "run", "--rm", "--name", "fg", "busybox", "true")
	e.fail(1, []string{"conflict: unable to remove repository reference \"busybox\" (must force) - container"}, "rmi", "busybox")
	e.fail(1, []string{`cannot remove container "/fg": container is running`}, "rm", "fg")
	e.ok("commit", "fg", "localhost/snap")
	if out := e.ok("run", "--rm", "localhost/snap", "cat", "/tmp/f").stdout; out != "hello\n" {
		t.Errorf("commit of a running --rm container: %q", out)
	}
	e.ok("rmi", "localhost/snap")
	e.ok("stop", "-t", "1", "fg")
	if code := exitCode(cmd.Wait()); code != 137 {
		t.Errorf("run --rm after stop: exit %d, want 137", code)
	}
	if left := e.ok("ps", "-a", "-q").stdout; left != "" {
		t.Errorf("containers left after run --rm: %q", left)
	}
	if after := layerDirs(t, e); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("layers after run --rm: %v, before: %v", after, before)
	}

	// Names are one namespace across both kinds of container.
	e.ok("create", "--name", "c1", "busybox", "true")
	e.fail(125, []string{`The container name "/c1" is already in use`}, "run", "--rm", "--name", "c1", "busybox", "true")
	e.ok("rm", "c1")
	if out := e.ok("run", "--rm", "--name", "c1", "busybox", "echo", "reused").stdout; out != "reused\n" {
		t.Errorf("run --rm --name of a freed name: %q", out)
	}
	// rename
	cmd = startForeground(t, e, "--rm", "--name", "r1", "busybox", "sh", "-c", "echo ready; exec sleep 100")
	e.ok("rename", "r1", "r2")
	if out := e.ok("ps", "--format", "{{.Names}}").stdout; out != "r2\n" {
		t.Errorf("ps after rename: %q", out)
	}
	e.ok("kill", "r2")
	if code := exitCode(cmd.Wait()); code != 137 {
		t.Errorf("run --rm after kill: exit %d, want 137", code)
	}

	// The command killed: the container is shown exited and rm removes it.
	cmd = startForeground(t, e, "--rm", "--name", "k", "busybox", "sh", "-c", "echo ready; exec sleep 100")
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if st := e.ok("ps", "-a", "--format", "{{.Names}} {{.Status}}").stdout; !strings.HasPrefix(st, "k Exited (137)") {
		t.Errorf("ps after the run command was killed: %q", st)
	}
	e.ok("rm", "k")
	if after := layerDirs(t, e); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("layers after rm: %v, before: %v", after, before)
	}

	// Killed, then the run root wiped (a reboot): the layer left behind is
	// removed by the next prune. (With the vfs driver, a --rm container is
	// an ordinary one, kept in the graph root.)
	if _, err := os.Stat(filepath.Join(e.root(), "overlay")); err != nil {
		return
	}
	cmd = startForeground(t, e, "--rm", "--name", "boot", "busybox", "sh", "-c", "echo ready; exec sleep 100")
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	e.ok("ps", "-a") // stops the container its command left
	entries, _ := os.ReadDir(filepath.Join(e.dir, "run"))
	for _, ent := range entries {
		e.exec(nil, "unshare", "rm", "-rf", filepath.Join(e.dir, "run", ent.Name()))
	}
	if left := e.ok("ps", "-a", "-q").stdout; left != "" {
		t.Errorf("containers after the run root was wiped: %q", left)
	}
	if after := layerDirs(t, e); len(after) != len(before)+1 {
		t.Errorf("layers after the run root was wiped: %v, before: %v", after, before)
	}
	e.ok("system", "prune", "-f")
	if after := layerDirs(t, e); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("layers after prune: %v, before: %v", after, before)
	}
	if out := e.ok("run", "--rm", "busybox", "echo", "still fine").stdout; out != "still fine\n" {
		t.Errorf("run --rm after prune: %q", out)
	}
}

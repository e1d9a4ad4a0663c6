package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dfRows reads `system df --format` into TYPE -> "TOTAL ACTIVE SIZE".
func dfRows(t *testing.T, e *env) map[string]string {
	t.Helper()
	out := e.ok("system", "df", "--format", "{{.Type}}|{{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}").stdout
	rows := map[string]string{}
	for _, l := range lines(out) {
		k, v, _ := strings.Cut(l, "|")
		rows[k] = v
	}
	return rows
}

func TestSystemDf(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	out := e.ok("system", "df").stdout
	if !strings.HasPrefix(out, "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n") {
		t.Errorf("system df header:\n%s", out)
	}
	// A volume holding 1000 bytes, a stopped container that wrote 2000.
	e.ok("volume", "create", "vol")
	e.ok("run", "--rm", "-v", "vol:/v", "busybox", "sh", "-c", "head -c 1000 /dev/zero > /v/f")
	e.ok("run", "--name", "c", "busybox", "sh", "-c", "head -c 2000 /dev/zero > /f")
	rows := dfRows(t, e)
	if got := rows["Local Volumes"]; got != "1 0 1kB 1kB (100%)" {
		t.Errorf("Local Volumes row %q, want 1 volume of 1kB, unused", got)
	}
	if got := rows["Containers"]; !strings.HasPrefix(got, "1 0 2kB 2kB") {
		t.Errorf("Containers row %q, want one stopped container of 2kB", got)
	}
	if got := rows["Images"]; !strings.HasPrefix(got, "1 1 2.1") || !strings.HasSuffix(got, "0B (0%)") {
		t.Errorf("Images row %q, want one image in use", got)
	}
	if got := rows["Build Cache"]; got != "0 0 0B 0B" {
		t.Errorf("Build Cache row %q", got)
	}
	verbose := e.ok("system", "df", "-v").stdout
	for _, want := range []string{"Images space usage:", "Containers space usage:", "Local Volumes space usage:", "Build cache usage: 0B", "VOLUME NAME   LINKS     SIZE"} {
		if !strings.Contains(verbose, want) {
			t.Errorf("system df -v lacks %q:\n%s", want, verbose)
		}
	}
}

func TestSystemPrune(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.importBusybox("unused")
	ctx := e.writeContext("ctx", map[string]string{"Dockerfile": "FROM busybox\nRUN echo x > /x\n"})
	e.build("-t", "built", ctx)
	e.ok("rmi", "built")
	e.ok("run", "--name", "stopped", "-v", "/anon", "busybox", "true")
	e.ok("volume", "create", "named")
	// Without -f and without a terminal: refused; "N" piped in: nothing.
	e.fail(1, []string{"pass -f"}, "system", "prune")
	if r := e.exec([]byte("N\n"), "system", "prune"); r.code != 0 || strings.Contains(r.stdout, "Deleted") {
		t.Errorf("answering N: %v", r)
	}
	out := e.ok("system", "prune", "-f", "--volumes").stdout
	for _, want := range []string{"Deleted Containers:", "Deleted Volumes:", "Deleted build cache objects:", "Total reclaimed space:"} {
		if !strings.Contains(out, want) {
			t.Errorf("system prune output lacks %q:\n%s", want, out)
		}
	}
	// Tagged images stay without -a; the named volume stays (not anonymous).
	if got := len(lines(e.ok("images", "-q").stdout)); got != 2 {
		t.Errorf("%d images after system prune, want 2", got)
	}
	if got := e.ok("volume", "ls", "-q").stdout; got != "named\n" {
		t.Errorf("volumes after system prune --volumes: %q", got)
	}
	// -a keeps only images used by containers (stopped ones go first, as
	// in Docker: a running one keeps its image).
	e.ok("run", "-d", "--name", "keeper", "busybox", "sleep", "600")
	defer e.exec(nil, "rm", "-f", "keeper")
	e.ok("system", "prune", "-a", "-f")
	if got := e.ok("images", "--format", "{{.Repository}}").stdout; got != "busybox\n" {
		t.Errorf("after prune -a: %q, want busybox alone (keeper uses it)", got)
	}
	if got := dfRows(t, e)["Build Cache"]; got != "0 0 0B 0B" {
		t.Errorf("build cache after prune -a: %q", got)
	}
}

func TestContainerPruneReportsSpace(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "--name", "a", "--label", "keep=yes", "busybox", "sh", "-c", "head -c 3000 /dev/zero > /f")
	e.ok("run", "--name", "b", "busybox", "sh", "-c", "head -c 3000 /dev/zero > /f")
	out := e.ok("container", "prune", "-f", "--filter", "label!=keep=yes").stdout
	if !strings.Contains(out, "Deleted Containers:") || !strings.Contains(out, "Total reclaimed space: 3kB") {
		t.Errorf("container prune:\n%s", out)
	}
	if got := e.ok("ps", "-a", "--format", "{{.Names}}").stdout; got != "a\n" {
		t.Errorf("containers left: %q", got)
	}
}

// TestSystemPrunePromptOnTerminal answers the prompt through a
// pseudo-terminal (util-linux's script).
func TestSystemPrunePromptOnTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux) is not installed")
	}
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "--name", "stopped", "busybox", "true")
	viaPty := func(answer string) string {
		cmd := exec.Command("script", "-qec", *burrowBin+" system prune", "/dev/null")
		cmd.Env = e.environ()
		cmd.Stdin = strings.NewReader(answer)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := viaPty("N\n"); !strings.Contains(out, "WARNING! This will remove:") || !strings.Contains(out, "[y/N]") || strings.Contains(out, "Deleted") {
		t.Errorf("answering N:\n%s", out)
	}
	if got := e.ok("ps", "-aq").stdout; got == "" {
		t.Error("N removed the stopped container")
	}
	if out := viaPty("y\n"); !strings.Contains(out, "Deleted Containers:") {
		t.Errorf("answering y:\n%s", out)
	}
	if got := e.ok("ps", "-aq").stdout; got != "" {
		t.Errorf("y left containers: %q", got)
	}
}

// TestPruneDuringBuild runs prunes while a build is in its RUN step: the
// build ends well and its image runs; the prunes wait or spare its layers.
func TestPruneDuringBuild(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{
		"Dockerfile": "FROM busybox\nRUN echo first > /first\nRUN sleep 2 && echo second > /second\nCOPY f /f\n",
		"f":          "f\n",
	})
	e.build("-t", "warm", ctx) // cache entries for the first steps
	e.ok("rmi", "warm")
	os.WriteFile(filepath.Join(ctx, "f"), []byte("changed\n"), 0o644)
	build := exec.Command(*burrowBin, "build", "--no-cache", "-t", "during", ctx)
	build.Env = e.environ()
	var out strings.Builder
	build.Stdout, build.Stderr = &out, &out
	if err := build.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	e.ok("system", "prune", "-a", "-f")
	e.ok("builder", "prune", "-a", "-f")
	if err := build.Wait(); err != nil {
		t.Fatalf("the build failed beside the prunes: %v\n%s", err, out.String())
	}
	if got := e.ok("run", "--rm", "during", "cat", "/first", "/second", "/f").stdout; got != "first\nsecond\nchanged\n" {
		t.Errorf("the image built beside the prunes holds %q", got)
	}
}

// TestPruneKilled kills a prune part-way: the store stays usable and the
// next prune finishes the work.
func TestPruneKilled(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 8; i++ {
		e.ok("import", filepath.Join(fixtures, fmt.Sprintf("tiny-%d.tar", i)), fmt.Sprintf("localhost/t%d", i))
	}
	e.importBusybox("busybox")
	prune := exec.Command(*burrowBin, "system", "prune", "-a", "-f")
	prune.Env = e.environ()
	if err := prune.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	prune.Process.Signal(syscall.SIGKILL)
	prune.Wait()
	e.ok("images")
	e.ok("system", "df")
	e.ok("system", "prune", "-a", "-f")
	if got := e.ok("images", "-aq").stdout; got != "" {
		t.Errorf("images left after the second prune: %q", got)
	}
	if got := dfRows(t, e)["Images"]; got != "0 0 0B 0B" {
		t.Errorf("system df after the prunes: %q", got)
	}
	// The store works as before.
	e.importBusybox("busybox")
	e.ok("run", "--rm", "busybox", "true")
}

// TestPruneSweepsSpools: prune removes the download spool a killed pull
// left, and keeps one whose pull still holds its lock.
func TestPruneSweepsSpools(t *testing.T) {
	e := newEnv(t)
	e.ok("images")
	downloads := filepath.Join(e.root(), "burrow-downloads")
	stale := filepath.Join(downloads, "burrow-pull-killed")
	live := filepath.Join(downloads, "burrow-pull-live")
	for _, d := range []string{stale, live} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "layer-0"), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	lock, err := os.OpenFile(filepath.Join(live, "spool.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"image", "prune", "-f"}, {"system", "prune", "-f"}} {
		e.ok(args...)
		if _, err := os.Stat(stale); !os.IsNotExist(err) {
			t.Errorf("%v left the killed pull's spool (%v)", args, err)
		}
		if _, err := os.Stat(filepath.Join(live, "layer-0")); err != nil {
			t.Errorf("%v removed a live pull's spool: %v", args, err)
		}
		os.MkdirAll(stale, 0o700)
	}
	// A user who sets TMPDIR has the pulls spool there: prune sweeps it
	// too, and leaves what is not a spool of burrow's.
	tmp := filepath.Join(e.dir, "tmp")
	mine := filepath.Join(tmp, fmt.Sprintf("burrow-downloads-%d", os.Getuid()))
	other := filepath.Join(mine, "not-a-spool")
	staleTmp := filepath.Join(mine, "burrow-pull-killed")
	for _, d := range []string{other, staleTmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	e.extraEnv = []string{"TMPDIR=" + tmp}
	e.ok("image", "prune", "-f")
	if _, err := os.Stat(staleTmp); !os.IsNotExist(err) {
		t.Errorf("image prune left the killed pull's spool in TMPDIR (%v)", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("image prune removed a directory in TMPDIR that is no spool: %v", err)
	}
}

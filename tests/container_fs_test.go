package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

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

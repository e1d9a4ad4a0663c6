package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestInfoAndVersion(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	out := e.ok("info").stdout
	for _, w := range []string{"Mode:        " + mode, "Driver:      overlay", "Images:      1", "Containers:  0", "Cgroups:", "Kernel:", "Backing FS:"} {
		if !strings.Contains(out, w) {
			t.Errorf("info lacks %q:\n%s", w, out)
		}
	}
	var doc struct {
		UserNS struct {
			Mode   string
			UIDMap []struct{ Size int } `json:"UIDMap"`
		}
		Store struct {
			Driver     string
			GraphRoot  string
			ImageCount int
		}
		Cgroups struct{ Version, Note string }
	}
	if err := json.Unmarshal([]byte(e.ok("info", "--format", "json").stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.UserNS.Mode != mode || doc.Store.GraphRoot != e.root() || doc.Store.ImageCount != 1 || doc.Cgroups.Note == "" {
		t.Errorf("info json: %+v", doc)
	}
	if mode == "full" && (len(doc.UserNS.UIDMap) < 2 || doc.UserNS.UIDMap[1].Size < 1000) {
		t.Errorf("full mode should map a subordinate range: %+v", doc.UserNS)
	}
	if mode == "single" && len(doc.UserNS.UIDMap) != 1 {
		t.Errorf("single mode maps one id: %+v", doc.UserNS)
	}
	v := e.ok("version").stdout
	for _, w := range []string{"Version:", "Git commit:", "Go version:  go1.", "go.podman.io/storage", "github.com/urfave/cli/v2"} {
		if !strings.Contains(v, w) {
			t.Errorf("version lacks %q:\n%s", w, v)
		}
	}
	if out := e.ok("--version").stdout; !strings.HasPrefix(out, "burrow version ") {
		t.Errorf("--version: %q", out)
	}
}

func TestUnshare(t *testing.T) {
	e := newEnv(t)
	if out := strings.TrimSpace(e.ok("unshare", "id", "-u").stdout); out != "0" {
		t.Errorf("id -u inside: %q", out)
	}
	m := lines(e.ok("unshare", "cat", "/proc/self/uid_map").stdout)
	want := map[string]int{"full": 2, "single": 1}[mode]
	if want != 0 && len(m) != want {
		t.Errorf("uid_map in mode %s: %q", mode, m)
	}
	r := e.exec(nil, "unshare", "sh", "-c", "exit 3")
	if r.code != 3 {
		t.Errorf("unshare passes the exit status: %v", r)
	}
	e.fail(127, []string{"no-such-command: command not found"}, "unshare", "no-such-command")
}

func TestSystemReset(t *testing.T) {
	e := newEnv(t)
	e.ok("import", filepath.Join(fixtures, "owners.tar"), "localhost/owners")
	e.fail(1, []string{"pass -f"}, "system", "reset")
	if _, err := os.Stat(e.root()); err != nil {
		t.Fatalf("reset without confirmation removed the store: %v", err)
	}
	e.ok("system", "reset", "-f")
	if _, err := os.Stat(e.root()); !os.IsNotExist(err) {
		t.Errorf("store still there after reset: %v", err)
	}
	if out := e.ok("images", "-q").stdout; out != "" {
		t.Errorf("images after reset: %q", out)
	}
}

func TestStoreErrors(t *testing.T) {
	if mode == "host" {
		t.Skip("root can write where the test expects a refusal")
	}
	e := newEnv(t)
	// A directory the user cannot write (root's, outside the namespace).
	ro := "/usr/share/burrow-test-not-writable"
	r := e.fail(125, []string{"cannot create storage root " + ro + "/store", "hint:"}, "--root", ro+"/store", "images")
	if len(lines(r.stderr)) != 1 {
		t.Errorf("want one line: %v", r)
	}
	// A store directory that belongs to someone else (root owns /var/tmp).
	e.fail(125, []string{"storage root /var/tmp", "belongs to another user", "hint:"}, "--root", "/var/tmp", "images")
	// A config file with a typo names the key and the file.
	cfg := filepath.Join(e.dir, "config", "burrow", "config.toml")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	os.WriteFile(cfg, []byte("[storage]\ndriver = \"overlay\"\nrooot = \"/x\"\n"), 0o600)
	e.fail(125, []string{`unknown key "storage.rooot"`, cfg}, "images")
	os.WriteFile(cfg, []byte("userns = \"sometimes\"\n"), 0o600)
	e.fail(125, []string{`invalid userns "sometimes"`}, "images")
	os.WriteFile(cfg, []byte("[storage\n"), 0o600)
	e.fail(125, []string{cfg, "line "}, "images")
}

func TestExitCodes(t *testing.T) {
	e := newEnv(t)
	e.fail(125, []string{"flag provided but not defined: -nope", "See 'burrow images --help'"}, "images", "--nope")
	e.fail(125, []string{"'frobnicate' is not a burrow command"}, "frobnicate")
	e.fail(1, []string{"No such image: nope:latest"}, "history", "nope")
	if r := e.exec(nil, "image", "exists", "nope"); r.code != 1 || r.stderr != "" {
		t.Errorf("image exists nope: %v", r)
	}
	e.importBusybox("busybox")
	e.ok("image", "exists", "busybox")
}

// TestSingleModeNotice: single-id mode says so once per store, with the
// admin's fix.
func TestSingleModeNotice(t *testing.T) {
	if mode != "single" {
		t.Skip("only in single-id mode")
	}
	e := newEnv(t)
	first := e.ok("images")
	if !strings.Contains(first.stderr, "single-id mode") || !strings.Contains(first.stderr, "/etc/subuid") && !strings.Contains(first.stderr, "--add-subuids") {
		t.Errorf("first command does not explain single-id mode: %q", first.stderr)
	}
	if len(lines(first.stderr)) != 1 {
		t.Errorf("notice is not one line: %q", first.stderr)
	}
	if second := e.ok("images"); second.stderr != "" {
		t.Errorf("notice repeated: %q", second.stderr)
	}
}

// TestConcurrentImportRmi runs imports, removals and prunes in parallel
// processes on one store; afterwards every image is whole and no layer is
// left without an image.
func TestConcurrentImportRmi(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 4; i++ {
				name := fmt.Sprintf("localhost/w%d:%d", w, i)
				tar := filepath.Join(fixtures, fmt.Sprintf("tiny-%d.tar", (w*4+i)%20))
				if r := e.exec(nil, "import", tar, name); r.code != 0 {
					errs <- r.String()
				}
				if i%2 == 1 {
					if r := e.exec(nil, "rmi", name); r.code != 0 {
						errs <- r.String()
					}
				}
			}
		}(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 4; i++ {
			if r := e.exec(nil, "image", "prune", "-f"); r.code != 0 {
				errs <- r.String()
			}
		}
	}()
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	ids := lines(e.ok("images", "-a", "-q", "--no-trunc").stdout)
	if len(ids) != 9 { // busybox + 2 kept per worker
		t.Errorf("want 9 images, got %d", len(ids))
	}
	for _, id := range ids {
		e.ok("inspect", id)
		e.ok("history", id)
	}
	e.ok("image", "prune", "-f")
	if got := len(layerIDs(t, e)); got != 9 {
		t.Errorf("want 9 layers (one per image), got %d", got)
	}
}

// TestResetStopsContainers: system reset leaves no container running.
func TestResetStopsContainers(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("run", "-d", "--name", "survivor", "busybox", "sleep", "300")
	var pid int
	waitFor(t, func() bool { pid = monitorPid(t, e, "survivor"); return pid > 0 })
	e.ok("system", "reset", "-f")
	waitFor(t, func() bool { return syscall.Kill(pid, 0) != nil })
}

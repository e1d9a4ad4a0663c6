package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestImageIDIsConfigDigest: the image ID is the sha256 of the config
// document the store keeps, as in Docker and Podman.
func TestImageIDIsConfigDigest(t *testing.T) {
	e := newEnv(t)
	id := e.importBusybox("busybox", "--change", "ENV A=1")
	dir := filepath.Join(e.root(), "overlay-images", id)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ent := range entries {
		data, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) == id {
			found = true
			if !strings.Contains(string(data), `"A=1"`) || !strings.Contains(string(data), `"diff_ids"`) {
				t.Errorf("the document hashing to the ID is not the config: %s", data)
			}
		}
	}
	if !found {
		t.Errorf("no stored document of image %s hashes to its ID", id[:12])
	}
}

// TestVFSDriver runs the image commands on the vfs driver.
func TestVFSDriver(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimPrefix(strings.TrimSpace(e.ok("--storage-driver", "vfs", "import", filepath.Join(fixtures, "busybox.tar"), "busybox").stdout), "sha256:")
	if d := strings.TrimSpace(e.ok("--storage-driver", "vfs", "info", "--format", "{{.Store.Driver}}").stdout); d != "vfs" {
		t.Fatalf("driver %q", d)
	}
	// A store that holds vfs layers stays vfs without the flag.
	if d := strings.TrimSpace(e.ok("info", "--format", "{{.Store.Driver}}").stdout); d != "vfs" {
		t.Errorf("driver without the flag: %q", d)
	}
	if q := strings.TrimSpace(e.ok("images", "-q").stdout); q != id[:12] {
		t.Errorf("images on vfs: %q", q)
	}
	upper := strings.TrimSpace(e.ok("inspect", "--format", "{{.GraphDriver.Data.UpperDir}}", "busybox").stdout)
	if _, err := os.Stat(filepath.Join(upper, "bin", "busybox")); err != nil {
		t.Errorf("vfs layer content: %v", err)
	}
	e.ok("rmi", "busybox")
	if l := layerIDs(t, e); len(l) != 0 {
		t.Errorf("layers left: %v", l)
	}
	e.fail(125, []string{`invalid storage.driver "zfs"`}, "--storage-driver", "zfs", "images")
}

// TestInterruptedImport: an import stopped by Ctrl-C (SIGINT) leaves
// nothing behind; one killed with SIGKILL leaves nothing the next prune
// does not remove, and the store keeps working in between.
func TestInterruptedImport(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			e := newEnv(t)
			e.importBusybox("busybox")
			before := storeState(t, e)
			data, err := os.ReadFile(filepath.Join(fixtures, "busybox.tar"))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(*burrowBin, "import", "-", "localhost/half")
			cmd.Env = e.environ()
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			stdin.Write(data[:len(data)/2])
			time.Sleep(300 * time.Millisecond) // the layer is half written
			cmd.Process.Signal(sig)
			time.Sleep(100 * time.Millisecond)
			stdin.Close()
			err = cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			if sig == syscall.SIGINT && (code != 130 || !strings.Contains(stderr.String(), "interrupted")) {
				t.Errorf("SIGINT: exit %d (%v), stderr %q; want 130 and 'interrupted'", code, err, stderr.String())
			}
			if sig == syscall.SIGKILL {
				e.ok("images")
				e.ok("image", "prune", "-f")
				staging, _ := os.ReadDir(filepath.Join(e.root(), "overlay", "staging"))
				if len(staging) != 0 {
					t.Errorf("staging directories left after prune: %d", len(staging))
				}
			}
			if after := storeState(t, e); after != before {
				t.Errorf("store changed:\nbefore %s\nafter  %s", before, after)
			}
			e.importBusybox("localhost/after")
		})
	}
}

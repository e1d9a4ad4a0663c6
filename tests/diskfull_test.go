package tests

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestPullDiskFull pulls into a store on a small file system (a tmpfs that
// tests/run.sh mounts as root; BURROW_TEST_SMALLFS) until it fills: once
// while a layer is unpacked (40 MB of zeros, a small blob), once while the
// blob downloads (40 MB of random bytes). Each fails with one line that
// says the disk is full, and leaves the store, and the space, as they were.
func TestPullDiskFull(t *testing.T) {
	small := os.Getenv("BURROW_TEST_SMALLFS")
	if small == "" {
		t.Skip("no small file system to fill (tests/run.sh, run as root, mounts one)")
	}
	reg := startRegistry(t, registrySetup{})
	src := newEnv(t)
	src.importBusybox(reg.host + "/busybox:1")
	src.ok("push", reg.host+"/busybox:1")
	random := make([]byte, 40<<20)
	rand.Read(random)
	for name, body := range map[string][]byte{"zeros": make([]byte, 40<<20), "random": random} {
		tarPath := filepath.Join(src.dir, name+".tar")
		if err := writeTar(tarPath, []tarEntry{{name: "big", mode: 0o644, body: body}}); err != nil {
			t.Fatal(err)
		}
		src.ok("import", tarPath, reg.host+"/"+name+":1")
		src.ok("push", reg.host+"/"+name+":1")
	}

	e := newEnv(t)
	dir, err := os.MkdirTemp(small, "store-")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	e.extraEnv = []string{"BURROW_ROOT=" + root}
	e.ok("pull", "-q", reg.host+"/busybox:1")
	images := e.ok("images", "-a", "-q", "--no-trunc").stdout
	tree := storeTree(t, root)
	free := freeBytes(t, small)

	for _, name := range []string{"zeros", "random"} {
		r := e.fail(1, []string{"no space left on device for the store at " + root, "hint: free space there"}, "pull", "-q", reg.host+"/"+name+":1")
		t.Logf("pull of %s: %s", name, strings.TrimSpace(r.stderr))
		if n := len(lines(r.stderr)); n != 1 {
			t.Errorf("pull of %s: %d lines of error:\n%s", name, n, r.stderr)
		}
		if got := e.ok("images", "-a", "-q", "--no-trunc").stdout; got != images {
			t.Errorf("after the pull of %s the images are %q, want %q", name, got, images)
		}
		if got := storeTree(t, root); !slices.Equal(got, tree) {
			t.Errorf("after the pull of %s the store holds\n%q\nwant\n%q", name, got, tree)
		}
		if now := freeBytes(t, small); now < free-(1<<20) {
			t.Errorf("after the pull of %s, %d bytes free, %d before: space was not given back", name, now, free)
		}
	}
	e.ok("run", "--rm", reg.host+"/busybox:1", "true")
}

// storeTree lists the store's directories two levels down, with the
// staging and download directories' contents (both empty when no write
// is in progress).
func storeTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	top, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range top {
		if !a.IsDir() {
			continue
		}
		sub, _ := os.ReadDir(filepath.Join(root, a.Name()))
		for _, b := range sub {
			p := a.Name() + "/" + b.Name()
			if b.IsDir() && (b.Name() == "staging" || strings.HasPrefix(b.Name(), "burrow-pull-")) {
				inner, _ := os.ReadDir(filepath.Join(root, p))
				for _, c := range inner {
					out = append(out, p+"/"+c.Name())
				}
			}
			if b.Name() == "staging" {
				continue // made by the first staged write
			}
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

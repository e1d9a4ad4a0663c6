package tests

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Images whose files belong to other ids than root's: in single-id mode
// (no subordinate ids) burrow cannot keep those owners, and says so once
// per store; containers/storage's line per file ("Chown error detected",
// "podman system migrate") must not reach the user. In full mode and as
// root the owners are kept and nothing is printed.

// ownedFile is a file of the owners image: its path, and what stat -c
// '%u:%g %a' says of it when its owner is kept.
type ownedFile struct{ path, stat string }

var ownedFiles = []ownedFile{
	{"/home/u", "1000:1000 750"},
	{"/home/u/f0", "1000:1000 644"},
	{"/home/u/f5", "1000:1000 644"},
	{"/nobody", "65534:65534 644"},
	{"/suid", "1000:50 4755"},
	{"/etc/shadow", "0:42 640"},
}

// ownersLayer is a busybox rootfs with files of uid 1000, 65534, gid 50
// and 42, and a setuid file of uid 1000: eleven entries of other owners.
func ownersLayer(t *testing.T) []byte {
	t.Helper()
	bb, err := busyboxPath()
	if err != nil {
		t.Skip(err)
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	entries := []tarEntry{
		{name: "bin/", mode: 0o755, dir: true},
		{name: "bin/busybox", mode: 0o755, body: data},
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/shadow", mode: 0o640, gid: 42, body: []byte("root:*::0:::::\n")},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/u/", mode: 0o750, dir: true, uid: 1000, gid: 1000},
		{name: "home/u/link", link: "f0", uid: 1000, gid: 1000},
		{name: "nobody", mode: 0o644, uid: 65534, gid: 65534, body: []byte("nobody's\n")},
		{name: "suid", mode: 0o4755, uid: 1000, gid: 50, body: []byte("#!/bin/sh\n")},
	}
	for _, a := range []string{"sh", "cat", "stat", "touch", "chown"} {
		entries = append(entries, tarEntry{name: "bin/" + a, link: "busybox"})
	}
	for i := 0; i < 6; i++ {
		entries = append(entries, tarEntry{name: fmt.Sprintf("home/u/f%d", i), mode: 0o644, uid: 1000, gid: 1000, body: []byte(fmt.Sprintf("file %d\n", i))})
	}
	path := filepath.Join(t.TempDir(), "layer.tar")
	if err := writeTar(path, entries); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeOwnersArchive writes a docker-archive of one image, tagged ref,
// whose only layer is ownersLayer, into dir and returns its path.
func writeOwnersArchive(t *testing.T, dir, ref string) string {
	t.Helper()
	layer := ownersLayer(t)
	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": map[string]any{"Cmd": []string{"/bin/sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{fmt.Sprintf("sha256:%x", sha256.Sum256(layer))}},
	})
	if err != nil {
		t.Fatal(err)
	}
	configName := fmt.Sprintf("%x.json", sha256.Sum256(config))
	manifest, _ := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{ref}, "Layers": []string{"layer.tar"}}})
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range []struct {
		name string
		body []byte
	}{{"layer.tar", layer}, {configName, config}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "owners-archive.tar")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkOwnerNotices fails the test if r printed a line per file whose
// owner was not kept, or more than the one single-id notice (nothing at
// all outside single-id mode).
func checkOwnerNotices(t *testing.T, r result) {
	t.Helper()
	for _, bad := range []string{"Chown error", "podman system migrate", "lchown", "ignoreChownErrors"} {
		if strings.Contains(r.stderr, bad) {
			t.Errorf("%q in the output: %v", bad, r)
			return
		}
	}
	ls := lines(r.stderr)
	switch {
	case mode != "single" && len(ls) != 0:
		t.Errorf("output in %s mode: %v", mode, r)
	case len(ls) > 1:
		t.Errorf("%d lines of notice, want at most one: %v", len(ls), r)
	case len(ls) == 1 && !strings.Contains(ls[0], "single-id mode"):
		t.Errorf("the notice is not single-id mode's: %v", r)
	}
}

// checkOwnersImage runs ref and checks its files: their contents, their
// modes, and their owners: kept with full mapping and as root; in
// single-id mode kept or the user's (root in the container).
func checkOwnersImage(t *testing.T, e *env, ref string) {
	t.Helper()
	args := []string{"run", "--rm", ref, "stat", "-c", "%u:%g %a"}
	for _, f := range ownedFiles {
		args = append(args, f.path)
	}
	r := e.ok(args...)
	checkOwnerNotices(t, r)
	got := lines(r.stdout)
	if len(got) != len(ownedFiles) {
		t.Fatalf("stat printed %q", r.stdout)
	}
	for i, f := range ownedFiles {
		want := f.stat
		if mode == "single" && got[i] != want {
			want = "0:0 " + strings.Fields(f.stat)[1]
		}
		if got[i] != want {
			t.Errorf("%s in %s mode: %q, want %q", f.path, mode, got[i], want)
		}
	}
	if out := e.ok("run", "--rm", ref, "cat", "/home/u/f5", "/home/u/link", "/nobody").stdout; out != "file 5\nfile 0\nnobody's\n" {
		t.Errorf("contents: %q", out)
	}
}

// TestSingleIDLoadImportQuiet: import and load of an image with files of
// other owners print no line per file and at most the one notice; the
// image runs and its files are there, with their owners where the mode
// keeps them. Likewise on the vfs driver.
func TestSingleIDLoadImportQuiet(t *testing.T) {
	for _, driver := range []string{"overlay", "vfs"} {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t)
			layer := filepath.Join(e.dir, "layer.tar")
			if err := os.WriteFile(layer, ownersLayer(t), 0o644); err != nil {
				t.Fatal(err)
			}
			r := e.ok("--storage-driver", driver, "import", layer, "localhost/imported")
			checkOwnerNotices(t, r)
			checkOwnersImage(t, e, "localhost/imported")

			archive := writeOwnersArchive(t, e.dir, "localhost/loaded:1")
			r = e.ok("load", "-i", archive)
			checkOwnerNotices(t, r)
			if !strings.Contains(r.stdout, "Loaded image: localhost/loaded:1") {
				t.Errorf("load printed %q", r.stdout)
			}
			checkOwnersImage(t, e, "localhost/loaded:1")
		})
	}
}

// TestSingleIDPullQuiet: a pull of an image with files of other owners
// (pushed to a local registry by skopeo, not by burrow, so that the
// owners are in the registry whatever the mode) prints no line per file
// and at most the one notice, and the image runs.
func TestSingleIDPullQuiet(t *testing.T) {
	needTools(t, "skopeo")
	reg := startRegistry(t, registrySetup{})
	e := newEnv(t)
	archive := writeOwnersArchive(t, e.dir, "localhost/owners:1")
	if out, err := skopeo(e, "copy", "--dest-tls-verify=false", "docker-archive:"+archive, "docker://"+reg.host+"/owners:1"); err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, out)
	}
	r := e.ok("pull", reg.host+"/owners:1")
	checkOwnerNotices(t, r)
	checkOwnersImage(t, e, reg.host+"/owners:1")
}

// TestSingleIDBuildCommitQuiet: COPY --chown, RUN chown and a commit of a
// container that changed owners print no line per file either.
func TestSingleIDBuildCommitQuiet(t *testing.T) {
	e := newEnv(t)
	layer := filepath.Join(e.dir, "layer.tar")
	if err := os.WriteFile(layer, ownersLayer(t), 0o644); err != nil {
		t.Fatal(err)
	}
	e.ok("import", "--change", "CMD /bin/sh", layer, "localhost/owners")
	ctx := e.writeContext("ctx", map[string]string{
		"Dockerfile": "FROM localhost/owners\nCOPY --chown=1000:50 a b /copied/\nRUN chown 65534:65534 /copied/a && touch /made && chown 1000 /made\n",
		"a":          "a\n", "b": "b\n",
	})
	r := e.build("-q", "-t", "localhost/built", ctx)
	checkOwnerNotices(t, r)
	if out := e.ok("run", "--rm", "localhost/built", "cat", "/copied/a", "/copied/b", "/home/u/f0").stdout; out != "a\nb\nfile 0\n" {
		t.Errorf("built image's files: %q", out)
	}
	e.ok("run", "--name", "changer", "localhost/owners", "sh", "-c", "touch /new && chown 1000:50 /new /home/u/f1")
	r = e.ok("commit", "changer", "localhost/committed")
	checkOwnerNotices(t, r)
	checkOwnersImage(t, e, "localhost/committed")
	e.ok("rm", "changer")
}

// TestSingleIDLayerErrorOneLine: a layer of files of other owners that
// fills the disk fails with the one line that says so, on both drivers
// (containers/storage's vfs driver reports its child's lines per file
// before the cause).
func TestSingleIDLayerErrorOneLine(t *testing.T) {
	small := os.Getenv("BURROW_TEST_SMALLFS")
	if small == "" {
		t.Skip("no small file system to fill (tests/run.sh, run as root, mounts one)")
	}
	entries := []tarEntry{}
	for i := 0; i < 5; i++ {
		entries = append(entries, tarEntry{name: fmt.Sprintf("f%d", i), mode: 0o644, uid: 1000, gid: 1000, body: []byte("x\n")})
	}
	entries = append(entries, tarEntry{name: "big", mode: 0o644, uid: 1000, body: make([]byte, 40<<20)})
	for _, driver := range []string{"overlay", "vfs"} {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t)
			tarPath := filepath.Join(e.dir, "big.tar")
			if err := writeTar(tarPath, entries); err != nil {
				t.Fatal(err)
			}
			dir, err := os.MkdirTemp(small, "store-")
			if err != nil {
				t.Fatal(err)
			}
			root := filepath.Join(dir, "root")
			e.extraEnv = []string{"BURROW_ROOT=" + root}
			e.ok("--storage-driver", driver, "images")
			r := e.fail(1, []string{"no space left on device for the store at " + root}, "--storage-driver", driver, "import", tarPath, "localhost/big")
			if n := len(lines(r.stderr)); n != 1 {
				t.Errorf("%d lines of error: %v", n, r)
			}
			if got := e.ok("--storage-driver", driver, "images", "-a", "-q").stdout; got != "" {
				t.Errorf("images after the failure: %q", got)
			}
		})
	}
}

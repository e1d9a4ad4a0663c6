package storage

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/reexec"
)

// TestMain lets containers/storage re-execute the test binary to apply
// layers (its chrootarchive helper), as main does for burrow.
func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// TestBackends runs one suite of checks against both container backends
// (the model is containerd's core/content/testsuite), on each driver this
// machine can use. The ephemeral backend works with any driver, although
// CreateContainer chooses it with overlay only.
func TestBackends(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("opening a store needs root or burrow's user namespace (the integration tests cover unprivileged users)")
	}
	backends := []struct {
		name string
		b    backend
	}{
		{"containers-storage", csContainers{}},
		{"ephemeral", ephemeralContainers{}},
	}
	for _, driver := range []string{"vfs", "overlay"} {
		for _, be := range backends {
			t.Run(driver+"/"+be.name, func(t *testing.T) {
				testBackend(t, driver, be.b)
			})
		}
	}
}

// testBackend checks the contract written on containerRecords and
// writableLayers.
func testBackend(t *testing.T, driver string, b backend) {
	s, img := backendTestStore(t, driver)
	other := backends[0]
	if _, ok := b.(csContainers); ok {
		other = backends[1]
	}

	c, err := b.create(s, NewContainer{Image: img, Name: "first", Config: ContainerConfig{Image: "test", Cmd: []string{"true"}}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = b.unmount(s, c); _ = b.remove(s, c) })
	if c.ID == "" || c.Name != "first" || c.ImageID != img.ID || c.Created.IsZero() || c.backend() != b {
		t.Errorf("create returned %+v", c)
	}

	t.Run("list", func(t *testing.T) {
		got := findContainer(t, s, b, c.ID)
		if got == nil {
			t.Fatalf("list does not have container %s", short(c.ID))
		}
		if got.Name != "first" || got.ImageID != img.ID || got.Config.Cmd[0] != "true" || got.backend() != b {
			t.Errorf("list has %+v, want the created container", got)
		}
		if !got.Created.Equal(c.Created) {
			t.Errorf("list has Created %v, create returned %v", got.Created, c.Created)
		}
		if findContainer(t, s, other, c.ID) != nil {
			t.Errorf("the other backend lists container %s too", short(c.ID))
		}
	})

	t.Run("names are unique across both kinds", func(t *testing.T) {
		for _, nb := range []backend{b, other} {
			if _, err := nb.create(s, NewContainer{Image: img, Name: "first"}); !errors.Is(err, ErrNameInUse) {
				t.Errorf("%T.create with a name %T holds: %v, want ErrNameInUse", nb, b, err)
			}
		}
	})

	t.Run("dirs", func(t *testing.T) {
		for _, k := range []dirKind{dataDir, runDir} {
			dir, err := b.dir(s, c, k)
			if err != nil {
				t.Fatalf("dir(%d): %v", k, err)
			}
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				t.Errorf("dir(%d) = %s, not a directory: %v", k, dir, err)
			}
		}
		// Reset finds state files without opening the store.
		if err := s.SetState(c, ContainerState{Status: "created"}); err != nil {
			t.Fatal(err)
		}
		dir, _ := b.dir(s, c, dataDir)
		if !slices.Contains(stateFiles(s.Root(), s.RunRoot()), filepath.Join(dir, stateFile)) {
			t.Errorf("stateFiles does not find %s", filepath.Join(dir, stateFile))
		}
	})

	t.Run("layer", func(t *testing.T) {
		root, err := b.mount(s, c)
		if err != nil {
			t.Fatalf("mount: %v", err)
		}
		writeFile(t, filepath.Join(root, "new"), "new\n")
		writeFile(t, filepath.Join(root, "etc", "keep"), "changed\n")
		if err := os.Remove(filepath.Join(root, "gone")); err != nil {
			t.Fatal(err)
		}
		if err := b.unmount(s, c); err != nil {
			t.Fatalf("unmount: %v", err)
		}
		if err := b.unmount(s, c); err != nil {
			t.Errorf("unmount of a layer not mounted: %v", err)
		}

		chs, err := b.changes(s, c)
		if err != nil {
			t.Fatalf("changes: %v", err)
		}
		kinds := map[string]archive.ChangeType{}
		for _, ch := range chs {
			kinds[ch.Path] = ch.Kind
		}
		for path, want := range map[string]archive.ChangeType{"/new": archive.ChangeAdd, "/etc/keep": archive.ChangeModify, "/gone": archive.ChangeDelete} {
			if got, ok := kinds[path]; !ok || got != want {
				t.Errorf("changes: %s is %v (listed: %v), want %v", path, got, ok, want)
			}
		}

		size, err := b.diffSize(s, c)
		if err != nil || size <= 0 {
			t.Errorf("diffSize = %d, %v; want > 0", size, err)
		}

		rc, err := b.diff(s, c)
		if err != nil {
			t.Fatalf("diff: %v", err)
		}
		names := tarNames(t, rc)
		if err := rc.Close(); err != nil {
			t.Errorf("closing the diff: %v", err)
		}
		for _, want := range []string{"new", "etc/keep", ".wh.gone"} {
			if !names[want] {
				t.Errorf("diff has no %s (has %v)", want, names)
			}
		}
	})

	t.Run("rename", func(t *testing.T) {
		unlock, err := s.lockWrite()
		if err != nil {
			t.Fatal(err)
		}
		err = b.rename(s, c, "second")
		unlock()
		if err != nil {
			t.Fatalf("rename: %v", err)
		}
		if got := findContainer(t, s, b, c.ID); got == nil || got.Name != "second" {
			t.Errorf("after rename, list has %+v, want the name second", got)
		}
		c.Name = "second"
	})

	t.Run("remove", func(t *testing.T) {
		data, err := b.dir(s, c, dataDir)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.remove(s, c); err != nil {
			t.Fatalf("remove: %v", err)
		}
		if findContainer(t, s, b, c.ID) != nil {
			t.Errorf("list still has container %s after remove", short(c.ID))
		}
		if err := b.remove(s, c); !errors.Is(err, ErrContainerUnknown) {
			t.Errorf("remove of a removed container: %v, want ErrContainerUnknown", err)
		}
		for _, k := range []dirKind{dataDir, runDir} {
			if dir, err := b.dir(s, c, k); err == nil {
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("dir(%d) of a removed container made %s again", k, dir)
				}
			}
		}
		if _, err := os.Stat(data); err == nil {
			t.Errorf("the directory %s outlived its container", data)
		}
		if _, err := b.changes(s, c); err == nil {
			t.Errorf("changes of a removed container succeeded")
		}
		if _, err := b.create(s, NewContainer{Image: img, Name: "second"}); err != nil {
			t.Errorf("the name of a removed container is not free: %v", err)
		}
	})
}

// backendTestStore opens a store with driver in a temporary directory and
// stores an image with the files /gone and /etc/keep in it. A driver the
// machine cannot use skips.
func backendTestStore(t *testing.T, driver string) (*Store, *Image) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(context.Background(), Options{Root: dir + "/root", RunRoot: dir + "/run", Driver: driver})
	if err != nil {
		if driver == "overlay" {
			t.Skipf("the overlay driver is unavailable here: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Shutdown unmounts what the driver mounted (overlay mounts its
		// home privately), which Close leaves to the end of the process's
		// mount namespace: here, the host's.
		if _, err := s.cs.Shutdown(true); err != nil {
			t.Errorf("shutting the store down: %v", err)
		}
		s.Close()
	})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1700000000, 0)
	for _, h := range []*tar.Header{
		{Name: "etc/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: mtime},
		{Name: "etc/keep", Mode: 0o644, Size: 5, Typeflag: tar.TypeReg, ModTime: mtime},
		{Name: "gone", Mode: 0o644, Size: 5, Typeflag: tar.TypeReg, ModTime: mtime},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("data\n"))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := &v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, Created: v1.Time{Time: mtime.UTC()}}
	img, err := s.CreateImage(context.Background(), NewImage{Diff: &buf, Config: cfg, Names: []string{"test"}})
	if err != nil {
		t.Fatal(err)
	}
	return s, img
}

// findContainer is the container of b's listing with the ID, or nil.
func findContainer(t *testing.T, s *Store, b backend, id string) *Container {
	t.Helper()
	cs, err := b.list(s)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for i := range cs {
		if cs[i].ID == id {
			return &cs[i]
		}
	}
	return nil
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tarNames reads a tar stream and returns the names of its entries,
// without "./" and a trailing "/".
func tarNames(t *testing.T, r io.Reader) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("reading the diff: %v", err)
		}
		name := filepath.Clean(h.Name)
		names[name] = true
	}
}

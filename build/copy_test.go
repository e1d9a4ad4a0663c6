package build

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	cstorage "go.podman.io/storage"
	"go.podman.io/storage/pkg/reexec"

	"github.com/burrow-oci/burrow/storage"
)

func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// testStore opens a vfs store in a temporary directory, and returns with
// it containers/storage's view of the same store (GetStore hands out the
// instance the store opened), through which a test sees layers' mounts.
func testStore(t *testing.T) (*storage.Store, cstorage.Store) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("opening a store needs root or burrow's user namespace (the integration tests cover unprivileged users)")
	}
	dir := t.TempDir()
	root, runRoot := filepath.Join(dir, "root"), filepath.Join(dir, "run")
	st, err := storage.Open(context.Background(), storage.Options{Root: root, RunRoot: runRoot, Driver: "vfs"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs, err := cstorage.GetStore(cstorage.StoreOptions{GraphRoot: root, RunRoot: runRoot, GraphDriverName: "vfs"})
	if err != nil {
		t.Fatal(err)
	}
	return st, cs
}

// mountWatch is a build's progress writer that notes, at each line, the
// lines written while some layer of the store was mounted.
type mountWatch struct {
	cs      cstorage.Store
	mu      sync.Mutex
	out     bytes.Buffer
	mounted []string
}

func (w *mountWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.Write(p)
	layers, err := w.cs.Layers()
	if err != nil {
		w.mounted = append(w.mounted, "listing layers: "+err.Error())
	}
	for _, l := range layers {
		if l.MountCount > 0 {
			w.mounted = append(w.mounted, strings.TrimSpace(string(p)))
			break
		}
	}
	return len(p), nil
}

// A cached COPY --from is keyed by the source stage's key alone: the
// source stage is not mounted (on vfs, copied whole) before the cache
// hit (issue 13).
func TestCopyFromMountsOnlyOnMiss(t *testing.T) {
	st, cs := testStore(t)
	ctxDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "f"), []byte("content\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		ContextDir: ctxDir,
		Dockerfile: []byte("FROM scratch AS a\nCOPY f /f\nFROM scratch\nCOPY --from=a /f /g\n"),
	}
	build := func() *mountWatch {
		w := &mountWatch{cs: cs}
		o := opts
		o.Out = w
		if _, err := Build(context.Background(), st, o); err != nil {
			t.Fatal(err)
		}
		return w
	}

	// On a miss the source stage is mounted while the step writes its
	// layer: the watch sees it (which shows that the watch works).
	first := build()
	if len(first.mounted) == 0 {
		t.Fatalf("first build: no line was written while a layer was mounted; output:\n%s", first.out.String())
	}
	second := build()
	if got := strings.Count(second.out.String(), "CACHED"); got != 2 {
		t.Fatalf("second build: %d steps cached, want 2; output:\n%s", got, second.out.String())
	}
	if len(second.mounted) > 0 {
		t.Errorf("second build mounted a layer although every step was cached; lines written while mounted: %q\noutput:\n%s", second.mounted, second.out.String())
	}
}

// Package storetest gives the transport packages' tests what they share: a
// TestMain that containers/storage can re-execute, and throw-away stores.
package storetest

import (
	"context"
	"os"
	"testing"

	"github.com/burrow-oci/burrow/storage"
	"go.podman.io/storage/pkg/reexec"
)

// Main lets containers/storage re-execute the test binary to apply layers
// (its chrootarchive helper), as main does for burrow. A package whose
// tests open a store calls it from TestMain.
func Main(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// Open opens a vfs store in a temporary directory, closed when the test
// ends. Without a user namespace only root can own layers of other ids, so
// others skip.
func Open(t testing.TB) *storage.Store {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("opening a store needs root or burrow's user namespace (the integration tests cover unprivileged users)")
	}
	dir := t.TempDir()
	st, err := storage.Open(context.Background(), storage.Options{Root: dir + "/root", RunRoot: dir + "/run", Driver: "vfs"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

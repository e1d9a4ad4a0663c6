package storage

import (
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestSweepSpools(t *testing.T) {
	parent := t.TempDir()
	live, err := OpenSpool(parent)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(live.Dir, "layer-0"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A pull killed mid-download: its lock file is there but nobody holds it.
	killed := filepath.Join(parent, spoolPrefix+"killed")
	if err := os.MkdirAll(killed, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := flock(filepath.Join(killed, spoolLock), syscall.LOCK_EX)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	// One from before spools were locked: no lock file at all.
	old := filepath.Join(parent, spoolPrefix+"old")
	if err := os.MkdirAll(filepath.Join(old, "layer-0"), 0o700); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(parent, "not-a-spool")
	if err := os.MkdirAll(other, 0o700); err != nil {
		t.Fatal(err)
	}

	SweepSpools(parent, slog.New(slog.DiscardHandler))
	for _, d := range []string{killed, old} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("stale spool %s survived the sweep (%v)", d, err)
		}
	}
	for _, p := range []string{filepath.Join(live.Dir, "layer-0"), other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("the sweep removed %s: %v", p, err)
		}
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(live.Dir); !os.IsNotExist(err) {
		t.Errorf("Close left %s (%v)", live.Dir, err)
	}
}

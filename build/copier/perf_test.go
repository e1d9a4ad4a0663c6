package copier

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// perfContext makes the target workload: 10,000 files of 10 KiB in 100
// directories, old enough for the memo to trust.
func perfContext(tb testing.TB) string {
	tb.Helper()
	ctx := tb.TempDir()
	data := make([]byte, 10<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for d := range 100 {
		dir := filepath.Join(ctx, "src", fmt.Sprintf("d%02d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		for f := range 100 {
			data[0], data[1] = byte(d), byte(f)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", f)), data, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return ctx
}

// countingWriter counts what Write streams.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestPerformance checks the targets: Write of 10,000 × 10 KiB in well
// under 2 s, and a warm-memo Digest of them in well under 100 ms.
func TestPerformance(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 100 MB of files")
	}
	ctx := perfContext(t)
	memo := LoadMemo(filepath.Join(t.TempDir(), "memo"))
	memo.racy = 0
	r := &Root{Dir: ctx, Memo: memo, Name: "build context"}
	srcs, err := r.Select([]string{"src"})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Dest: "/app/"}

	start := time.Now()
	var cw countingWriter
	if err := Write(&cw, r, srcs, opts); err != nil {
		t.Fatal(err)
	}
	write := time.Since(start)

	start = time.Now()
	cold, err := Digest(r, srcs, opts)
	if err != nil {
		t.Fatal(err)
	}
	coldTime := time.Since(start)

	start = time.Now()
	warm, err := Digest(r, srcs, opts)
	if err != nil {
		t.Fatal(err)
	}
	warmTime := time.Since(start)
	if cold != warm {
		t.Errorf("warm digest %s differs from cold %s", warm, cold)
	}

	// A typical .dockerignore with an exception costs a match per entry.
	ig, err := NewIgnore([]string{"**/*.log", "node_modules", ".git", "!keep.log", "src/d99/f0*"})
	if err != nil {
		t.Fatal(err)
	}
	r.Ignore = ig
	start = time.Now()
	if _, err := Digest(r, srcs, opts); err != nil {
		t.Fatal(err)
	}
	ignored := time.Since(start)
	if n := memo.reads.Load(); n != 10_000 {
		t.Errorf("read %d files in all, want 10000 (cold only)", n)
	}
	t.Logf("Write: %v (%d MB tar); cold Digest: %v; warm Digest: %v; warm Digest with .dockerignore: %v",
		write, cw.n>>20, coldTime, warmTime, ignored)
	if raceEnabled {
		t.Log("race detector on: timing limits not checked")
		return
	}
	if write > 2*time.Second {
		t.Errorf("Write took %v, want under 2s", write)
	}
	if warmTime > 100*time.Millisecond || ignored > 100*time.Millisecond {
		t.Errorf("warm Digest took %v (%v with .dockerignore), want under 100ms", warmTime, ignored)
	}
}

func BenchmarkWrite(b *testing.B) {
	ctx := perfContext(b)
	r := &Root{Dir: ctx, Name: "build context"}
	srcs, err := r.Select([]string{"src"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(10_000 * 10 << 10)
	b.ResetTimer()
	for b.Loop() {
		if err := Write(io.Discard, r, srcs, Options{Dest: "/app/"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDigestWarm(b *testing.B) {
	ctx := perfContext(b)
	memo := LoadMemo(filepath.Join(b.TempDir(), "memo"))
	memo.racy = 0
	r := &Root{Dir: ctx, Memo: memo, Name: "build context"}
	srcs, err := r.Select([]string{"src"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := Digest(r, srcs, Options{Dest: "/app/"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Digest(r, srcs, Options{Dest: "/app/"}); err != nil {
			b.Fatal(err)
		}
	}
}

package copier

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDigest(t *testing.T) {
	base := tree{
		"app":          "dir 0755",
		"app/main.go":  "file 0644 package main",
		"app/run.sh":   "file 0755 #!/bin/sh",
		"app/link":     "link main.go",
		"app/.env":     "file 0600 SECRET=1",
		"app/out.log":  "file 0644 log",
		"app/sub/data": "file 0644 0123456789",
	}
	touch := func(t *testing.T, p string, tm time.Time) {
		if err := os.Chtimes(p, tm, tm); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, ctx string)
		same   bool
	}{{
		name:   "nothing changed",
		mutate: func(t *testing.T, ctx string) {},
		same:   true,
	}, {
		name: "same size and mtime, different bytes",
		mutate: func(t *testing.T, ctx string) {
			p := filepath.Join(ctx, "app/sub/data")
			if err := os.WriteFile(p, []byte("9876543210"), 0o644); err != nil {
				t.Fatal(err)
			}
			touch(t, p, fixedTime)
		},
	}, {
		name: "mtime touched only",
		mutate: func(t *testing.T, ctx string) {
			touch(t, filepath.Join(ctx, "app/main.go"), time.Now())
			touch(t, filepath.Join(ctx, "app/sub"), time.Now())
		},
		same: true,
	}, {
		name: "owner changed only",
		mutate: func(t *testing.T, ctx string) {
			if err := os.Lchown(filepath.Join(ctx, "app/main.go"), 4321, 4321); err != nil {
				t.Skipf("cannot chown (need root): %v", err)
			}
		},
		same: true,
	}, {
		name: "chmod",
		mutate: func(t *testing.T, ctx string) {
			if err := os.Chmod(filepath.Join(ctx, "app/run.sh"), 0o700); err != nil {
				t.Fatal(err)
			}
		},
	}, {
		name: "chmod of a directory",
		mutate: func(t *testing.T, ctx string) {
			if err := os.Chmod(filepath.Join(ctx, "app/sub"), 0o700); err != nil {
				t.Fatal(err)
			}
		},
	}, {
		name: "file excluded by .dockerignore changed",
		mutate: func(t *testing.T, ctx string) {
			if err := os.WriteFile(filepath.Join(ctx, "app/.env"), []byte("SECRET=2 and longer"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		same: true,
	}, {
		name: "file excluded by --exclude changed",
		mutate: func(t *testing.T, ctx string) {
			if err := os.WriteFile(filepath.Join(ctx, "app/out.log"), []byte("more log"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		same: true,
	}, {
		name: "excluded file added",
		mutate: func(t *testing.T, ctx string) {
			if err := os.WriteFile(filepath.Join(ctx, "app/new.log"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		same: true,
	}, {
		name: "rename",
		mutate: func(t *testing.T, ctx string) {
			if err := os.Rename(filepath.Join(ctx, "app/run.sh"), filepath.Join(ctx, "app/run2.sh")); err != nil {
				t.Fatal(err)
			}
		},
	}, {
		name: "file added",
		mutate: func(t *testing.T, ctx string) {
			if err := os.WriteFile(filepath.Join(ctx, "app/sub/empty"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		},
	}, {
		name: "empty directory added",
		mutate: func(t *testing.T, ctx string) {
			if err := os.Mkdir(filepath.Join(ctx, "app/empty"), 0o755); err != nil {
				t.Fatal(err)
			}
		},
	}, {
		name: "symlink target changed",
		mutate: func(t *testing.T, ctx string) {
			p := filepath.Join(ctx, "app/link")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("run.sh", p); err != nil {
				t.Fatal(err)
			}
		},
	}, {
		name: "file replaced by a symlink",
		mutate: func(t *testing.T, ctx string) {
			p := filepath.Join(ctx, "app/sub/data")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../main.go", p); err != nil {
				t.Fatal(err)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.TempDir()
			mkTree(t, ctx, base)
			ig, err := NewIgnore([]string{"**/.env"})
			if err != nil {
				t.Fatal(err)
			}
			memo := LoadMemo(filepath.Join(t.TempDir(), "memo"))
			memo.racy = 0
			r := &Root{Dir: ctx, Ignore: ig, Memo: memo, Name: "build context"}
			opts := Options{Dest: "/srv/", Exclude: []string{"*.log"}}
			digest := func() string {
				srcs, err := r.Select([]string{"app"})
				if err != nil {
					t.Fatal(err)
				}
				d, err := Digest(r, srcs, opts)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(d, "sha256:") || len(d) != 71 {
					t.Fatalf("Digest = %q, want sha256:<64 hex>", d)
				}
				return d
			}
			before := digest()
			tt.mutate(t, ctx)
			after := digest()
			if (before == after) != tt.same {
				t.Errorf("digest before %s, after %s; want same: %v", before, after, tt.same)
			}
			// The memo must not hide the change: a cold digest agrees.
			r.Memo = nil
			if cold := digest(); cold != after {
				t.Errorf("warm digest %s, cold digest %s", after, cold)
			}
		})
	}
}

func TestDigestOptions(t *testing.T) {
	ctx := t.TempDir()
	mkTree(t, ctx, tree{"a.txt": "file 0644 a", "b.txt": "file 0644 a", "d/x": "file 0644 x"})
	r := &Root{Dir: ctx, Name: "build context"}
	digest := func(src string, opts Options) string {
		srcs, err := r.Select([]string{src})
		if err != nil {
			t.Fatal(err)
		}
		d, err := Digest(r, srcs, opts)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tt := range []struct {
		name       string
		src1, src2 string
		opt1, opt2 Options
		same       bool
	}{
		{"source name counts even when renamed", "a.txt", "b.txt", Options{Dest: "/x"}, Options{Dest: "/x"}, false},
		{"destination shape does not count", "a.txt", "a.txt", Options{Dest: "/x"}, Options{Dest: "/y/"}, true},
		{"same content under different names", "a.txt", "b.txt", Options{Dest: "/x/"}, Options{Dest: "/x/"}, false},
		{"chmod option changes the digested mode", "a.txt", "a.txt", Options{Dest: "/x/", Chmod: mode(0o600)}, Options{Dest: "/x/"}, false},
		{"parents keeps the path", "d/x", "d/x", Options{Dest: "/x/", Parents: true}, Options{Dest: "/x/"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d1, d2 := digest(tt.src1, tt.opt1), digest(tt.src2, tt.opt2)
			if (d1 == d2) != tt.same {
				t.Errorf("digests %s and %s; want same: %v", d1, d2, tt.same)
			}
		})
	}
}

func TestDigestWarmMemoReadsNothing(t *testing.T) {
	ctx := t.TempDir()
	mkTree(t, ctx, tree{"a": "file 0644 aaa", "d/b": "file 0644 bbb", "d/c": "file 0644 ccc", "d/l": "link b"})
	memoPath := filepath.Join(t.TempDir(), "cache", "memo")
	memo := LoadMemo(memoPath)
	memo.racy = 0
	r := &Root{Dir: ctx, Memo: memo, Name: "build context"}
	srcs, err := r.Select([]string{"a", "d"})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Dest: "/x/"}
	first, err := Digest(r, srcs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := memo.reads.Load(); got != 3 {
		t.Fatalf("cold digest read %d files, want 3", got)
	}
	second, err := Digest(r, srcs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := memo.reads.Load(); got != 3 {
		t.Errorf("warm digest read %d more files, want 0", got-3)
	}
	if first != second {
		t.Errorf("warm digest %s differs from cold %s", second, first)
	}

	// Through the file: a new process loads the memo and reads nothing.
	if err := memo.Save(); err != nil {
		t.Fatal(err)
	}
	loaded := LoadMemo(memoPath)
	r.Memo = loaded
	third, err := Digest(r, srcs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := loaded.reads.Load(); got != 0 {
		t.Errorf("digest with a loaded memo read %d files, want 0", got)
	}
	if third != first {
		t.Errorf("digest with a loaded memo %s differs from %s", third, first)
	}
}

func TestDigestDoesNotMemoiseRacyFiles(t *testing.T) {
	ctx := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctx, "fresh"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	memo := LoadMemo(filepath.Join(t.TempDir(), "memo"))
	memo.racy = time.Hour
	r := &Root{Dir: ctx, Memo: memo, Name: "build context"}
	srcs, err := r.Select([]string{"fresh"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := Digest(r, srcs, Options{Dest: "/x"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := memo.reads.Load(); got != 2 {
		t.Errorf("read the just-written file %d times, want 2 (never memoised)", got)
	}
}

func TestDigestHardLinks(t *testing.T) {
	copies, linked := t.TempDir(), t.TempDir()
	mkTree(t, copies, tree{"d/a": "file 0644 same", "d/b": "file 0644 same"})
	mkTree(t, linked, tree{"d/a": "file 0644 same", "d/b": "hard d/a"})
	var digests []string
	for _, dir := range []string{copies, linked} {
		r := &Root{Dir: dir, Name: "build context"}
		srcs, err := r.Select([]string{"d"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := Digest(r, srcs, Options{Dest: "/x/"})
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	if digests[0] == digests[1] {
		t.Errorf("two copies and a hard link digest alike (%s), but Write makes different layers", digests[0])
	}
}

func TestDigestWithoutRootfs(t *testing.T) {
	// The digest is taken before the parent image is mounted: several
	// sources to a destination that only the image knows is a directory
	// must not fail there.
	ctx := t.TempDir()
	mkTree(t, ctx, tree{"a": "file 0644 a", "b": "file 0644 b"})
	r := &Root{Dir: ctx, Name: "build context"}
	srcs, err := r.Select([]string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Digest(r, srcs, Options{Dest: "/existing"}); err != nil {
		t.Errorf("Digest: %v", err)
	}
}

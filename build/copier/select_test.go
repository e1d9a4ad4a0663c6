package copier

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	ctx := t.TempDir()
	mkTree(t, ctx, tree{
		"a.txt":         "file 0644 a",
		"b.txt":         "file 0644 b",
		"app/x.go":      "file 0644 x",
		"app/y.go":      "file 0644 y",
		"lib/z.go":      "file 0644 z",
		"secret.txt":    "file 0600 s",
		"private/k":     "file 0600 k",
		"logs/a.log":    "file 0644 l",
		"logs/keep.log": "file 0644 k",
		"todir":         "link app",
		"abs":           "link /app/x.go",
		"escape":        "link ../../../../../../etc/passwd",
		"dangling":      "link nowhere",
		"br[ck]et":      "file 0644 b",
	})
	ig, err := NewIgnore([]string{"secret.txt", "private", "logs", "!logs/keep.log"})
	if err != nil {
		t.Fatal(err)
	}
	ctxRoot := &Root{Dir: ctx, Ignore: ig, Name: "build context"}
	stageRoot := &Root{Dir: ctx, Name: `stage "builder"`}

	tests := []struct {
		name    string
		root    *Root
		srcs    []string
		want    []string // Rel of each source
		wantDir []bool   // Info.IsDir of each source, when checked
		wantErr string
		wantNF  *NotFoundError
	}{
		{name: "plain", root: ctxRoot, srcs: []string{"a.txt", "app"}, want: []string{"a.txt", "app"}},
		{name: "leading slash and dot", root: ctxRoot, srcs: []string{"/a.txt", "./b.txt", "/../../a.txt"}, want: []string{"a.txt", "b.txt", "a.txt"}},
		{name: "root", root: ctxRoot, srcs: []string{".", "/", "./"}, want: []string{".", ".", "."}},
		{name: "wildcards sorted in argument order", root: ctxRoot, srcs: []string{"b.txt", "*/*.go", "?.txt"},
			want: []string{"b.txt", "app/x.go", "app/y.go", "lib/z.go", "a.txt", "b.txt"}},
		{name: "wildcard skips excluded", root: ctxRoot, srcs: []string{"*.txt"}, want: []string{"a.txt", "b.txt"}},
		{name: "wildcard reaches an exception", root: ctxRoot, srcs: []string{"logs/*"}, want: []string{"logs/keep.log"}},
		{name: "special characters escaped as Docker documents", root: ctxRoot, srcs: []string{"br[[]ck]et"}, want: []string{"br[ck]et"}},
		{name: "symlink to dir followed", root: ctxRoot, srcs: []string{"todir"}, want: []string{"todir"}, wantDir: []bool{true}},
		{name: "absolute symlink stays inside the root", root: ctxRoot, srcs: []string{"abs"}, want: []string{"abs"}, wantDir: []bool{false}},
		{name: "excluded dir with an exception exists", root: ctxRoot, srcs: []string{"logs"}, want: []string{"logs"}},
		{name: "missing", root: ctxRoot, srcs: []string{"app/x.txt"},
			wantErr: `COPY failed: "app/x.txt" not found in the build context`,
			wantNF:  &NotFoundError{Path: "app/x.txt", Root: "build context"}},
		{name: "missing in a stage", root: stageRoot, srcs: []string{"/nope"},
			wantErr: `COPY failed: "nope" not found in stage "builder"`},
		{name: "excluded file", root: ctxRoot, srcs: []string{"secret.txt"},
			wantErr: `COPY failed: "secret.txt" is excluded by .dockerignore`,
			wantNF:  &NotFoundError{Path: "secret.txt", Excluded: true, Root: "build context"}},
		{name: "file in excluded dir", root: ctxRoot, srcs: []string{"private/k"},
			wantErr: `COPY failed: "private/k" is excluded by .dockerignore`},
		{name: "excluded dir", root: ctxRoot, srcs: []string{"private"},
			wantErr: `COPY failed: "private" is excluded by .dockerignore`},
		{name: "excluded only in a --from root is fine", root: stageRoot, srcs: []string{"secret.txt"}, want: []string{"secret.txt"}},
		{name: "symlink out of the root", root: ctxRoot, srcs: []string{"escape"},
			wantErr: `"escape" not found in the build context`},
		{name: "dangling symlink", root: ctxRoot, srcs: []string{"dangling"},
			wantErr: `"dangling" not found in the build context`},
		{name: "wildcard matching nothing", root: ctxRoot, srcs: []string{"*.md"},
			wantErr: `COPY failed: no source files were specified: "*.md" matches nothing in the build context`,
			wantNF:  &NotFoundError{Path: "*.md", Wildcard: true, Root: "build context"}},
		{name: "wildcard matching only excluded", root: ctxRoot, srcs: []string{"secret.*"},
			wantErr: `"secret.*" matches only paths excluded by .dockerignore`},
		{name: "bad pattern", root: ctxRoot, srcs: []string{"[a-"}, wantErr: `bad source pattern "[a-": syntax error in pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.root.Select(tt.srcs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Select(%q): got error %v, want one containing %q", tt.srcs, err, tt.wantErr)
				}
				if tt.wantNF != nil {
					var nf *NotFoundError
					if !errors.As(err, &nf) || *nf != *tt.wantNF {
						t.Errorf("Select(%q): got error %#v, want %#v", tt.srcs, err, tt.wantNF)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Select(%q): %v", tt.srcs, err)
			}
			var rels []string
			for i, s := range got {
				rels = append(rels, s.Rel)
				if s.Info == nil {
					t.Errorf("%s: nil Info", s.Rel)
				} else if i < len(tt.wantDir) && s.Info.IsDir() != tt.wantDir[i] {
					t.Errorf("%s: Info.IsDir() = %v, want %v", s.Rel, s.Info.IsDir(), tt.wantDir[i])
				}
			}
			if !slices.Equal(rels, tt.want) {
				t.Errorf("Select(%q) = %q, want %q", tt.srcs, rels, tt.want)
			}
		})
	}
}

func TestNotFoundErrorInstruction(t *testing.T) {
	e := &NotFoundError{Path: "x", Root: "build context", Instruction: "ADD"}
	if got, want := e.Error(), `ADD failed: "x" not found in the build context`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestReadIgnore(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string // path relative to the context -> content
		dockerfile string            // relative to the context
		excluded   []string
		included   []string
		none       bool
		wantErr    string
	}{{
		name:       "no ignore file",
		dockerfile: "Dockerfile",
		none:       true,
	}, {
		name:       "context dockerignore",
		files:      map[string]string{".dockerignore": "\ufeff# comment\n/build\n*.log\n!keep.log\n  node_modules  \n"},
		dockerfile: "Dockerfile",
		excluded:   []string{"build", "build/x/y", "a.log", "node_modules/m"},
		included:   []string{"keep.log", "src/a.log", "Dockerfile", "# comment"},
	}, {
		name: "dockerfile-specific file wins",
		files: map[string]string{
			".dockerignore":                      "a\n",
			"docker/app.Dockerfile.dockerignore": "b\n",
		},
		dockerfile: "docker/app.Dockerfile",
		excluded:   []string{"b"},
		included:   []string{"a"},
	}, {
		name:       "dockerfile-specific file of another Dockerfile is ignored",
		files:      map[string]string{".dockerignore": "a\n", "other.Dockerfile.dockerignore": "b\n"},
		dockerfile: "Dockerfile",
		excluded:   []string{"a"},
		included:   []string{"b"},
	}, {
		name:       "exception inside excluded dir",
		files:      map[string]string{".dockerignore": "dir\n!dir/keep\n"},
		dockerfile: "Dockerfile",
		excluded:   []string{"dir", "dir/other"},
		included:   []string{"dir/keep"},
	}, {
		name:       "bad pattern",
		files:      map[string]string{".dockerignore": "[\n"},
		dockerfile: "Dockerfile",
		wantErr:    ".dockerignore: syntax error in pattern",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, content := range tt.files {
				full := filepath.Join(dir, p)
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ig, err := ReadIgnore(dir, filepath.Join(dir, tt.dockerfile))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (ig == nil) != tt.none {
				t.Fatalf("ReadIgnore = %v, want nil: %v", ig, tt.none)
			}
			for _, p := range tt.excluded {
				if ex, err := ig.Excluded(p); err != nil || !ex {
					t.Errorf("Excluded(%q) = %v, %v; want true", p, ex, err)
				}
			}
			for _, p := range tt.included {
				if ex, err := ig.Excluded(p); err != nil || ex {
					t.Errorf("Excluded(%q) = %v, %v; want false", p, ex, err)
				}
			}
		})
	}
}

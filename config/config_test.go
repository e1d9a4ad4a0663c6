package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testEnv is a fake process environment: variables come from vars only, the
// system file is <dir>/etc/config.toml and the user's configuration directory
// is <dir>/xdg-config, both inside dir.
type testEnv struct {
	dir        string
	systemFile string
	userFile   string
}

func newTestEnv(t *testing.T) testEnv {
	t.Helper()
	dir := t.TempDir()
	return testEnv{
		dir:        dir,
		systemFile: filepath.Join(dir, "etc", "config.toml"),
		userFile:   filepath.Join(dir, "xdg-config", "burrow", "config.toml"),
	}
}

// env returns a config.Env for uid whose Getenv reads vars, with
// XDG_CONFIG_HOME pointing into the temporary directory unless vars sets it.
func (te testEnv) env(uid int, vars map[string]string) Env {
	all := map[string]string{"XDG_CONFIG_HOME": filepath.Join(te.dir, "xdg-config")}
	for k, v := range vars {
		all[k] = v
	}
	return Env{
		UID:        uid,
		Getenv:     func(k string) string { return all[k] },
		SystemFile: te.systemFile,
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDefaults(t *testing.T) {
	te := newTestEnv(t)
	missingRuntime := filepath.Join(te.dir, "no-such-runtime-dir")
	tests := []struct {
		name string
		uid  int
		vars map[string]string
		want Config
	}{{
		name: "user with XDG_DATA_HOME",
		uid:  1000,
		vars: map[string]string{"XDG_DATA_HOME": "/data/u", "HOME": "/home/u"},
		want: Config{UserNS: "auto", LogLevel: "warn", Storage: Storage{
			Root: "/data/u/burrow/storage", RunRoot: "/tmp/burrow-run-1000", RunRootIsDefault: true,
		}},
	}, {
		name: "user with HOME only",
		uid:  1000,
		vars: map[string]string{"HOME": "/home/u"},
		want: Config{UserNS: "auto", LogLevel: "warn", Storage: Storage{
			Root: "/home/u/.local/share/burrow/storage", RunRoot: "/tmp/burrow-run-1000", RunRootIsDefault: true,
		}},
	}, {
		name: "XDG_RUNTIME_DIR that does not exist falls back to /tmp",
		uid:  1234,
		vars: map[string]string{"HOME": "/home/u", "XDG_RUNTIME_DIR": missingRuntime},
		want: Config{UserNS: "auto", LogLevel: "warn", Storage: Storage{
			Root: "/home/u/.local/share/burrow/storage", RunRoot: "/tmp/burrow-run-1234", RunRootIsDefault: true,
		}},
	}, {
		name: "root",
		uid:  0,
		vars: map[string]string{"HOME": "/root", "XDG_DATA_HOME": "/root/.local/share"},
		want: Config{UserNS: "auto", LogLevel: "warn", Storage: Storage{
			Root: "/var/lib/burrow/storage", RunRoot: "/run/burrow", RunRootIsDefault: true,
		}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(te.env(tt.uid, tt.vars))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Load =\n%+v\nwant\n%+v", *got, tt.want)
			}
		})
	}
}

func TestLoadRunRootFromXDGRuntimeDir(t *testing.T) {
	te := newTestEnv(t)
	runtimeDir := t.TempDir()
	// The directory belongs to the test's user; as root, a non-zero uid is
	// accepted for root-owned directories (the inside-the-namespace case).
	uid := os.Getuid()
	if uid == 0 {
		uid = 1000
	}
	got, err := Load(te.env(uid, map[string]string{"HOME": "/home/u", "XDG_RUNTIME_DIR": runtimeDir}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := filepath.Join(runtimeDir, "burrow"); got.Storage.RunRoot != want {
		t.Errorf("RunRoot = %q, want %q", got.Storage.RunRoot, want)
	}
	if !got.Storage.RunRootIsDefault {
		t.Error("RunRootIsDefault = false, want true")
	}
}

func TestLoadNoHome(t *testing.T) {
	te := newTestEnv(t)
	_, err := Load(te.env(1000, nil))
	if err == nil {
		t.Fatal("Load without HOME or XDG_DATA_HOME succeeded, want an error")
	}
	for _, s := range []string{"XDG_DATA_HOME", "HOME"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
}

func TestLoadFiles(t *testing.T) {
	tests := []struct {
		name       string
		system     string // "" means no system file
		user       string // "" means no user file
		vars       map[string]string
		want       Config
		wantSource []string // "system", "user"
	}{{
		name: "system file only",
		system: `userns = "single"
log_level = "info"
[storage]
root = "/srv/burrow"
runroot = "/run/b"
driver = "vfs"
`,
		want: Config{UserNS: "single", LogLevel: "info", Storage: Storage{
			Root: "/srv/burrow", RunRoot: "/run/b", Driver: "vfs",
		}},
		wantSource: []string{"system"},
	}, {
		name: "user file overrides only the keys it sets",
		system: `userns = "single"
log_level = "info"
[storage]
root = "/srv/burrow"
driver = "vfs"
`,
		user: `log_level = "debug"
[storage]
root = "/home/u/images"
`,
		want: Config{UserNS: "single", LogLevel: "debug", Storage: Storage{
			Root: "/home/u/images", RunRoot: "/tmp/burrow-run-1000", Driver: "vfs", RunRootIsDefault: true,
		}},
		wantSource: []string{"system", "user"},
	}, {
		name: "user file only",
		user: `[storage]
driver = "overlay"
`,
		want: Config{UserNS: "auto", LogLevel: "warn", Storage: Storage{
			Root: "/home/u/.local/share/burrow/storage", RunRoot: "/tmp/burrow-run-1000", Driver: "overlay", RunRootIsDefault: true,
		}},
		wantSource: []string{"user"},
	}, {
		name: "~ and variables in paths are expanded",
		user: `[storage]
root = "~/imgs"
runroot = "${SCRATCH}/run"
`,
		vars: map[string]string{"SCRATCH": "/scratch"},
		want: Config{UserNS: "auto", LogLevel: "warn", Storage: Storage{
			Root: "/home/u/imgs", RunRoot: "/scratch/run",
		}},
		wantSource: []string{"user"},
	}, {
		name: "environment overrides files",
		system: `userns = "single"
log_level = "info"
[storage]
root = "/srv/burrow"
runroot = "/run/b"
`,
		user: `userns = "full"
[storage]
root = "/home/u/images"
`,
		vars: map[string]string{
			"BURROW_ROOT":    "/env/root",
			"BURROW_RUNROOT": "/env/run",
			"BURROW_LOG":     "error",
			"BURROW_USERNS":  "auto",
		},
		want: Config{UserNS: "auto", LogLevel: "error", Storage: Storage{
			Root: "/env/root", RunRoot: "/env/run",
		}},
		wantSource: []string{"system", "user"},
	}, {
		name: "environment without files",
		vars: map[string]string{
			"BURROW_ROOT":    "/env/root",
			"BURROW_RUNROOT": "/env/run",
			"BURROW_LOG":     "debug",
			"BURROW_USERNS":  "full",
		},
		want: Config{UserNS: "full", LogLevel: "debug", Storage: Storage{
			Root: "/env/root", RunRoot: "/env/run",
		}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv(t)
			sources := map[string]string{"system": te.systemFile, "user": te.userFile}
			if tt.system != "" {
				writeFile(t, te.systemFile, tt.system)
			}
			if tt.user != "" {
				writeFile(t, te.userFile, tt.user)
			}
			vars := map[string]string{"HOME": "/home/u"}
			for k, v := range tt.vars {
				vars[k] = v
			}
			got, err := Load(te.env(1000, vars))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := tt.want
			for _, s := range tt.wantSource {
				want.Files = append(want.Files, sources[s])
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("Load =\n%+v\nwant\n%+v", *got, want)
			}
		})
	}
}

func TestLoadBurrowConfigFile(t *testing.T) {
	te := newTestEnv(t)
	writeFile(t, te.userFile, "log_level = \"info\"\nuserns = \"single\"\n")
	extra := filepath.Join(te.dir, "extra.toml")
	writeFile(t, extra, "log_level = \"debug\"\n")
	got, err := Load(te.env(1000, map[string]string{"HOME": "/home/u", "BURROW_CONFIG": extra}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.LogLevel != "debug" || got.UserNS != "single" {
		t.Errorf("LogLevel, UserNS = %q, %q, want \"debug\", \"single\"", got.LogLevel, got.UserNS)
	}
	if want := []string{te.userFile, extra}; !reflect.DeepEqual(got.Files, want) {
		t.Errorf("Files = %q, want %q", got.Files, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		system string
		user   string
		vars   map[string]string
		// wantIn lists strings the error must contain; "$SYSTEM" and
		// "$USER" stand for the files' paths.
		wantIn []string
	}{{
		name:   "unknown key in a table",
		user:   "[storage]\nrooot = \"x\"\n",
		wantIn: []string{"storage.rooot", "$USER", "unknown key"},
	}, {
		name:   "unknown top-level key",
		system: "user_ns = \"auto\"\n",
		wantIn: []string{"user_ns", "$SYSTEM"},
	}, {
		name:   "unknown key in system file even when the user file is fine",
		system: "[storage]\nruntoot = \"/x\"\n",
		user:   "log_level = \"info\"\n",
		wantIn: []string{"storage.runtoot", "$SYSTEM"},
	}, {
		name:   "TOML syntax error",
		user:   "userns = \"auto\"\nlog_level = \n",
		wantIn: []string{"$USER", "line 2"},
	}, {
		name:   "TOML syntax error on a later line",
		system: "# comment\n\n[storage]\nroot = \"/x\"\ndriver = vfs\n",
		wantIn: []string{"$SYSTEM", "line 5"},
	}, {
		name:   "wrong type",
		user:   "userns = 1\n",
		wantIn: []string{"$USER", "userns"},
	}, {
		name:   "invalid userns",
		user:   "userns = \"maybe\"\n",
		wantIn: []string{"userns", `"maybe"`},
	}, {
		name:   "invalid storage driver",
		system: "[storage]\ndriver = \"btrfs\"\n",
		wantIn: []string{"storage.driver", `"btrfs"`},
	}, {
		name:   "invalid log level",
		user:   "log_level = \"loud\"\n",
		wantIn: []string{"log_level", `"loud"`},
	}, {
		name:   "invalid BURROW_USERNS",
		vars:   map[string]string{"BURROW_USERNS": "maybe"},
		wantIn: []string{"userns", `"maybe"`},
	}, {
		name:   "invalid BURROW_LOG",
		vars:   map[string]string{"BURROW_LOG": "verbose"},
		wantIn: []string{"log_level", `"verbose"`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv(t)
			if tt.system != "" {
				writeFile(t, te.systemFile, tt.system)
			}
			if tt.user != "" {
				writeFile(t, te.userFile, tt.user)
			}
			vars := map[string]string{"HOME": "/home/u"}
			for k, v := range tt.vars {
				vars[k] = v
			}
			_, err := Load(te.env(1000, vars))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, s := range tt.wantIn {
				s = strings.NewReplacer("$SYSTEM", te.systemFile, "$USER", te.userFile).Replace(s)
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestLoadRegistries(t *testing.T) {
	te := newTestEnv(t)
	writeFile(t, te.userFile, `userns = "auto"
[registries]
unqualified-search-registries = ["docker.io"]
[[registries.registry]]
prefix = "docker.io"
location = "registry.example:5000"
insecure = true
mirrors = ["mirror.example:5000"]
`)
	got, err := Load(te.env(1000, map[string]string{"HOME": "/home/u"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Registries{
		UnqualifiedSearch: []string{"docker.io"},
		Registry:          []Registry{{Prefix: "docker.io", Location: "registry.example:5000", Insecure: true, Mirrors: []string{"mirror.example:5000"}}},
	}
	if !reflect.DeepEqual(got.Registries, want) {
		t.Errorf("Registries = %+v, want %+v", got.Registries, want)
	}
	writeFile(t, te.userFile, "[[registries.registry]]\nlocation = \"x:5000\"\n")
	if _, err := Load(te.env(1000, map[string]string{"HOME": "/home/u"})); err == nil || !strings.Contains(err.Error(), "no prefix") {
		t.Errorf("a registry without a prefix: %v", err)
	}
	writeFile(t, te.userFile, "[[registries.registry]]\nprefix = \"a\"\nblocked = true\n")
	if _, err := Load(te.env(1000, map[string]string{"HOME": "/home/u"})); err == nil || !strings.Contains(err.Error(), "blocked") {
		t.Errorf("an unknown registry key: %v", err)
	}
}

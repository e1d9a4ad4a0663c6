package commands

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/burrow-oci/burrow/config"
	"github.com/burrow-oci/burrow/internal/userns"
	"github.com/urfave/cli/v2"
)

// The user-namespace constructor (internal/userns) runs before the Go
// runtime and so keeps its own copies of the command table, the global
// flags that take a value and the configuration's search path. These tests
// fail as soon as a copy and its owner (the command tree here, config's
// search path) disagree.

// fullNamespace lists, by group ("" for the top level), the commands that
// may write files of other owners and so need the full mapping. Every
// command is either here or in one of the constructor's lists, so that a
// new command forces a decision: add it here, or to light_cmds (it reads
// only the user's own files) or no_ns_cmds (it never touches the store) in
// internal/userns/nsenter_linux.go.
var fullNamespace = map[string][]string{
	"": {"build", "builder", "buildx", "pull", "push", "login", "logout", "search", "import", "save",
		"load", "tag", "rmi", "info", "unshare", "system", "run", "create", "start", "restart",
		"rm", "commit", "diff", "export", "cp", "rename", "pause", "unpause", "__monitor"},
	"image":  {"rm", "remove", "import", "tag", "prune", "build", "save", "load", "pull", "push"},
	"volume": {"create", "rm", "remove", "prune"},
	// network rm and prune read containers' states, which may record a
	// death; create writes a record beside them.
	"network": {"create", "rm", "remove", "prune", "connect", "disconnect"},
	"container": {"run", "create", "start", "restart", "rm", "prune", "commit", "diff", "export",
		"cp", "rename", "pause", "unpause"},
}

// commandTree is the app as it runs: with the help command and flag.
func commandTree(t *testing.T) *cli.App {
	t.Helper()
	app := newApp(Version{Version: "test"})
	app.Setup()
	return app
}

func TestConstructorGlobalFlags(t *testing.T) {
	tables := userns.ConstructorTables()
	app := commandTree(t)
	var valued []string
	for _, f := range app.Flags {
		if v, ok := f.(cli.DocGenerationFlag); ok && v.TakesValue() {
			valued = append(valued, dashed(f.Names())...)
		}
	}
	if got, want := sorted(tables.ValuedFlags), sorted(valued); !slices.Equal(got, want) {
		t.Errorf("global flags that take a value: valued_flags in internal/userns/nsenter_linux.go is %q, the command tree has %q", got, want)
	}
	var bare []string
	for _, f := range []cli.Flag{cli.HelpFlag, cli.VersionFlag, cli.BashCompletionFlag} {
		bare = append(bare, dashed(f.Names())...)
	}
	if got, want := sorted(tables.BareFlags), sorted(bare); !slices.Equal(got, want) {
		t.Errorf("help, version and completion flags: bare_flags in internal/userns/nsenter_linux.go is %q, urfave/cli has %q", got, want)
	}
	// The constructor skips a valued flag's value, so the command after it
	// decides; a bool flag is followed by the command.
	for _, f := range app.Flags {
		args := []string{"burrow"}
		for _, name := range dashed(f.Names()) {
			args = append(args[:1], name)
			if v, ok := f.(cli.DocGenerationFlag); ok && v.TakesValue() {
				args = append(args, "value")
			}
			args = append(args, "version")
			if got := userns.Needs(args); got != userns.NeedNone {
				t.Errorf("constructor: %q needs %d, want none", args, got)
			}
		}
	}
}

func TestConstructorCommands(t *testing.T) {
	tables := userns.ConstructorTables()
	app := commandTree(t)
	groups := map[string]*cli.Command{}
	var top []string
	for _, c := range app.Commands {
		top = append(top, c.Names()...)
		if slices.Contains(tables.Groups, c.Name) {
			groups[c.Name] = c
		}
	}
	// Each C list names commands that exist.
	for _, name := range tables.NoNamespace {
		if !slices.Contains(top, name) {
			t.Errorf("no_ns_cmds in internal/userns/nsenter_linux.go names %q, which is not a command", name)
		}
	}
	for _, name := range tables.Groups {
		if c := groups[name]; c == nil || len(c.Subcommands) == 0 {
			t.Errorf("group_cmds in internal/userns/nsenter_linux.go names %q, which is not a command with subcommands", name)
		}
	}
	known := slices.Clone(top)
	for _, c := range groups {
		for _, sub := range c.Subcommands {
			known = append(known, sub.Names()...)
		}
	}
	for _, name := range tables.Light {
		if !slices.Contains(known, name) {
			t.Errorf("light_cmds in internal/userns/nsenter_linux.go names %q, which is neither a command nor a subcommand of %v", name, tables.Groups)
		}
	}
	for group, names := range fullNamespace {
		for _, name := range names {
			if (group == "" && !slices.Contains(top, name)) || (group != "" && !hasSubcommand(groups[group], name)) {
				t.Errorf("fullNamespace in this test names %q, which is not a command", strings.TrimSpace(group+" "+name))
			}
		}
	}

	// Each command is classified exactly once, and the constructor's guess
	// for it is that class.
	check := func(group, name string, want userns.Need, classes []string) {
		path := strings.TrimSpace(group + " " + name)
		if len(classes) != 1 {
			t.Errorf("command %q is in %d of the lists %v (want exactly one: fullNamespace in this test, or light_cmds or no_ns_cmds in internal/userns/nsenter_linux.go)", path, len(classes), classes)
			return
		}
		args := append([]string{"burrow"}, strings.Fields(path)...)
		if got := userns.Needs(args); got != want {
			t.Errorf("constructor: %q needs %d, want %d (%s)", args, got, want, classes[0])
		}
	}
	for _, c := range app.Commands {
		for _, name := range c.Names() {
			var classes []string
			want := userns.NeedFull
			if slices.Contains(tables.NoNamespace, name) {
				classes, want = append(classes, "no_ns_cmds"), userns.NeedNone
			}
			if slices.Contains(tables.Light, name) {
				classes, want = append(classes, "light_cmds"), userns.NeedLight
			}
			if slices.Contains(tables.Groups, name) {
				classes = append(classes, "group_cmds")
			}
			if slices.Contains(fullNamespace[""], name) {
				classes = append(classes, "fullNamespace")
			}
			check("", name, want, classes)
		}
	}
	for group, c := range groups {
		for _, sub := range c.Subcommands {
			for _, name := range sub.Names() {
				var classes []string
				want := userns.NeedFull
				if slices.Contains(tables.Light, name) {
					classes, want = append(classes, "light_cmds"), userns.NeedLight
				}
				if slices.Contains(fullNamespace[group], name) {
					classes = append(classes, "fullNamespace")
				}
				check(group, name, want, classes)
			}
		}
	}
}

func hasSubcommand(c *cli.Command, name string) bool {
	return c != nil && slices.ContainsFunc(c.Subcommands, func(s *cli.Command) bool { return slices.Contains(s.Names(), name) })
}

// TestConstructorConfigFiles compares the constructor's search path with
// config's under a few environments.
func TestConstructorConfigFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		vars map[string]string
	}{
		{"XDG_CONFIG_HOME and HOME", map[string]string{"XDG_CONFIG_HOME": dir + "/xdg", "HOME": dir + "/home"}},
		{"HOME only", map[string]string{"HOME": dir + "/home"}},
		{"trailing slashes", map[string]string{"XDG_CONFIG_HOME": dir + "/xdg/", "HOME": dir + "/home/"}},
		{"neither", map[string]string{}},
		{"BURROW_CONFIG", map[string]string{"HOME": dir + "/home", "BURROW_CONFIG": dir + "/extra.toml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setenv(t, tt.vars)
			var got []string
			for _, f := range userns.ConfigFiles() {
				got = append(got, filepath.Clean(f))
			}
			want := config.Files(config.ProcessEnv(os.Getuid()))
			if !slices.Equal(got, want) {
				t.Errorf("config files: config_files in internal/userns/nsenter_linux.go reads %q, config.Files %q", got, want)
			}
		})
	}
}

// TestConstructorUserNS checks that the constructor's small scanner of the
// userns key reads what config's TOML parser reads, and that BURROW_USERNS
// overrides the files on both sides.
func TestConstructorUserNS(t *testing.T) {
	tests := []struct {
		name       string
		user, more string // the user's config.toml and $BURROW_CONFIG's
		env        string // BURROW_USERNS
	}{
		{name: "no files"},
		{name: "basic", user: "userns = \"single\"\n"},
		{name: "single quotes and spaces", user: "  userns   =   'full'\n"},
		{name: "comments", user: "# userns = \"single\"\nuserns = \"full\" # not single\n"},
		{name: "CRLF", user: "log_level = \"debug\"\r\nuserns = \"single\"\r\n"},
		{name: "tables after", user: "userns = \"single\"\n\n[storage]\ndriver = \"vfs\"\n\n[[registries.registry]]\nprefix = \"docker.io\"\n"},
		{name: "only tables", user: "[storage]\ndriver = \"vfs\"\n"},
		{name: "BURROW_CONFIG overrides", user: "userns = \"single\"\n", more: "userns = \"full\"\n"},
		{name: "BURROW_CONFIG without the key", user: "userns = \"single\"\n", more: "log_level = \"info\"\n"},
		{name: "BURROW_USERNS overrides", user: "userns = \"full\"\n", more: "userns = \"auto\"\n", env: "single"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			vars := map[string]string{"HOME": dir, "XDG_CONFIG_HOME": filepath.Join(dir, "xdg"),
				"XDG_DATA_HOME": filepath.Join(dir, "data"), "BURROW_USERNS": tt.env}
			if tt.user != "" {
				writeTestFile(t, filepath.Join(dir, "xdg", "burrow", "config.toml"), tt.user)
			}
			if tt.more != "" {
				vars["BURROW_CONFIG"] = filepath.Join(dir, "more.toml")
				writeTestFile(t, vars["BURROW_CONFIG"], tt.more)
			}
			setenv(t, vars)
			cfg, err := config.Load(config.ProcessEnv(os.Getuid()))
			if err != nil {
				t.Fatalf("config.Load: %v", err)
			}
			if got := userns.RequestedMode(); string(got) != cfg.UserNS {
				t.Errorf("userns: config reads %q, the constructor %q", cfg.UserNS, got)
			}
		})
	}
}

// setenv sets the variables the search path depends on, clearing those
// vars does not name.
func setenv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, k := range []string{"XDG_CONFIG_HOME", "HOME", "XDG_DATA_HOME", "BURROW_CONFIG", "BURROW_USERNS"} {
		t.Setenv(k, vars[k])
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func dashed(names []string) []string {
	var out []string
	for _, n := range names {
		if len(n) == 1 {
			out = append(out, "-"+n)
		} else {
			out = append(out, "--"+n)
		}
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

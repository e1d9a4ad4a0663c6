package build

import (
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/burrow-oci/burrow/build/cachekey"
	"github.com/burrow-oci/burrow/build/dockerfile"
)

func TestCheckPlatform(t *testing.T) {
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{"", true}, {"linux/" + runtime.GOARCH, true}, {"linux", true},
		{"linux/s390x", false}, {"windows/amd64", false},
	} {
		if err := checkPlatform(tc.p); (err == nil) != tc.ok {
			t.Errorf("checkPlatform(%q) = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

// runOf parses a one-stage Dockerfile and returns its RUN instructions.
func runOf(t *testing.T, df string) []*instructions.RunCommand {
	t.Helper()
	f, err := dockerfile.Parse([]byte(df), "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []*instructions.RunCommand
	for _, c := range f.Stages[0].Commands {
		if r, ok := c.(*instructions.RunCommand); ok {
			out = append(out, r)
		}
	}
	return out
}

func TestArgv(t *testing.T) {
	runs := runOf(t, "FROM x\nRUN echo a b\nRUN [\"ls\", \"-l\"]\nRUN <<EOF\necho one\necho two\nEOF\nRUN cat <<EOF > /f\nbody\nEOF\n")
	s := &stage{st: &state{cfg: v1.ConfigFile{}}}
	want := [][]string{
		{"/bin/sh", "-c", "echo a b"},
		{"ls", "-l"},
		{"/bin/sh", "-c", "echo one\necho two\n"},
		{"/bin/sh", "-c", "cat <<EOF > /f\nbody\nEOF"},
	}
	for i, r := range runs {
		got, err := s.argv(r)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "|") != strings.Join(want[i], "|") {
			t.Errorf("RUN %d: argv %q, want %q", i, got, want[i])
		}
	}
	// SHELL changes the shell form.
	s.st.cfg.Config.Shell = []string{"/bin/bash", "-e", "-c"}
	if got, _ := s.argv(runs[0]); strings.Join(got, "|") != "/bin/bash|-e|-c|echo a b" {
		t.Errorf("with SHELL: %q", got)
	}
}

func TestRunEnv(t *testing.T) {
	s := &stage{
		b:      &builder{opts: Options{BuildArgs: map[string]string{"HTTP_PROXY": "http://proxy", "A": "cli"}}},
		st:     &state{cfg: v1.ConfigFile{Config: v1.Config{Env: []string{"B=from-env"}}}},
		args:   map[string]string{"A": "cli", "B": "from-arg"},
		argSeq: []string{"A", "B"},
	}
	env, keyed := s.runEnv()
	// ENV wins over an ARG of the same name; proxy args reach RUN but not the key.
	if got := strings.Join(env, " "); got != "A=cli HTTP_PROXY=http://proxy" {
		t.Errorf("env %q", got)
	}
	if got := strings.Join(keyed, " "); got != "A=cli" {
		t.Errorf("keyed %q", got)
	}
}

func TestResolveOwnerNumeric(t *testing.T) {
	for spec, want := range map[string][2]int{"10": {10, 10}, "10:20": {10, 20}, "0:0": {0, 0}} {
		o, err := resolveOwner("", spec)
		if err != nil || o.UID != want[0] || o.GID != want[1] {
			t.Errorf("resolveOwner(%q) = %+v, %v; want %v", spec, o, err, want)
		}
	}
	if _, err := resolveOwner("", "alice"); err == nil {
		t.Error("a name without an image resolved")
	}
}

func TestParseChmod(t *testing.T) {
	for v, want := range map[string]int{"755": 0o755, "4755": 0o4755, "u=rwx,g=rx,o=": 0o750, "a=r": 0o444, "=rw": 0o666} {
		if got, err := parseChmod(v); err != nil || int(got) != want {
			t.Errorf("parseChmod(%q) = %o, %v; want %o", v, got, err, want)
		}
	}
	for _, v := range []string{"u+x", "999", "z=r", "u=q"} {
		if _, err := parseChmod(v); err == nil {
			t.Errorf("parseChmod(%q) accepted", v)
		}
	}
}

// keyOf returns, with the key, what it was made of: the miss explanation
// and the note are given the parts, not told them through the stage.
func TestKeyOf(t *testing.T) {
	parts := []keyPart{{"instruction", "COPY"}, {"source files", "stage:abc"}}
	k := keyOf("parent", parts...)
	if want := cachekey.Key("parent", "COPY", "stage:abc"); k.key != want {
		t.Errorf("key %s, want %s", k.key, want)
	}
	if k.parent != "parent" || len(k.parts) != 2 || k.parts[1] != parts[1] {
		t.Errorf("keyOf kept parent %q and parts %v", k.parent, k.parts)
	}
}

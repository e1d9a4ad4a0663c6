// Package tests runs the built burrow binary as the unprivileged user the
// test process runs as (tests/run.sh runs it once as a user with
// subordinate ids and once as a user without). Every test gets its own
// HOME, XDG directories and store.
package tests

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var (
	burrowBin = flag.String("burrow", "", "path to the burrow binary under test")
	// mode is the user-namespace mode the tests expect: "full", "single"
	// or "host" (root). From BURROW_TEST_MODE, else asked of burrow.
	mode string
	// fixtures holds tarballs made once for all tests.
	fixtures string
)

func TestMain(m *testing.M) {
	if addr := os.Getenv("BURROW_TEST_UDP_WHO"); addr != "" {
		// The test binary is static (tests/run.sh builds it without cgo):
		// mounted into a busybox container, it is the UDP server busybox
		// lacks.
		udpWho(addr)
		return
	}
	flag.Parse()
	if *burrowBin == "" {
		if p, err := filepath.Abs("../bin/burrow"); err == nil {
			if _, err := os.Stat(p); err == nil {
				*burrowBin = p
			}
		}
	}
	if *burrowBin == "" {
		fmt.Println("skipping integration tests: no -burrow binary and no ../bin/burrow (run make test-integration)")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "burrow-fixtures-")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fixtures = dir
	if err := makeFixtures(dir); err != nil {
		fmt.Println("making fixtures:", err)
		os.Exit(1)
	}
	mode = os.Getenv("BURROW_TEST_MODE")
	if mode == "" {
		mode = detectMode()
	}
	fmt.Printf("burrow integration tests: uid %d, userns mode %s\n", os.Getuid(), mode)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func detectMode() string {
	e := &env{dir: must(os.MkdirTemp("", "burrow-mode-"))}
	defer e.cleanup()
	res := e.exec(nil, "info", "--format", "{{.UserNS.Mode}}")
	return strings.TrimSpace(res.stdout)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// env is one test's private world: home, config and store directories.
type env struct {
	t   *testing.T
	dir string
	// extraEnv is added to every command's environment.
	extraEnv []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir, err := os.MkdirTemp("", "burrow-test-")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir}
	for _, d := range []string{"home", "config", "data", "root", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.RemoveAll(filepath.Join(dir, "root"))
	os.RemoveAll(filepath.Join(dir, "run"))
	t.Cleanup(e.cleanup)
	return e
}

// cleanup removes the store with burrow itself (layers may hold files of
// subordinate owners that the test user cannot remove), then the rest.
func (e *env) cleanup() {
	e.exec(nil, "system", "reset", "-f")
	os.RemoveAll(e.dir)
}

func (e *env) root() string { return filepath.Join(e.dir, "root") }

// result is what a burrow run did.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("burrow %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

func (e *env) environ() []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(e.dir, "home"),
		"USER=" + os.Getenv("USER"),
		"XDG_CONFIG_HOME=" + filepath.Join(e.dir, "config"),
		"XDG_DATA_HOME=" + filepath.Join(e.dir, "data"),
		"BURROW_ROOT=" + filepath.Join(e.dir, "root"),
		"BURROW_RUNROOT=" + filepath.Join(e.dir, "run"),
	}, e.extraEnv...)
}

// exec runs burrow with stdin (may be nil) and returns what it did.
func (e *env) exec(stdin []byte, args ...string) result {
	cmd := exec.Command(*burrowBin, args...)
	cmd.Env = e.environ()
	cmd.Dir = e.dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{args: args, stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code = -1
		r.stderr += err.Error()
	}
	return r
}

// ok runs burrow and fails the test unless it exits 0.
func (e *env) ok(args ...string) result {
	e.t.Helper()
	r := e.exec(nil, args...)
	if r.code != 0 {
		e.t.Fatalf("unexpected failure: %v", r)
	}
	return r
}

// fail runs burrow and fails the test unless it exits with code and its
// stderr contains every one of wants.
func (e *env) fail(code int, wants []string, args ...string) result {
	e.t.Helper()
	r := e.exec(nil, args...)
	if r.code != code {
		e.t.Fatalf("want exit %d: %v", code, r)
	}
	for _, w := range wants {
		if !strings.Contains(r.stderr, w) {
			e.t.Fatalf("stderr lacks %q: %v", w, r)
		}
	}
	return r
}

// importBusybox imports the busybox fixture under name and returns the ID.
func (e *env) importBusybox(name string, extra ...string) string {
	e.t.Helper()
	args := append([]string{"import"}, extra...)
	args = append(args, filepath.Join(fixtures, "busybox.tar"), name)
	r := e.ok(args...)
	id := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
		e.t.Fatalf("import printed %q, want sha256:<64 hex>", id)
	}
	return strings.TrimPrefix(id, "sha256:")
}

// lines splits output into non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

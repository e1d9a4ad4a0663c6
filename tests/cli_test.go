package tests

import (
	"strings"
	"testing"
)

// TestHelpWordsAsNames: h and help are names like any other after a
// command that has no subcommands (Docker's `rm h` removes the container
// h), while --help and the help of command groups still work.
func TestHelpWordsAsNames(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	for _, name := range []string{"h", "help"} {
		e.ok("create", "--name", name, "busybox", "true")
		if got := strings.TrimSpace(e.ok("inspect", "--format", "{{.Name}}", name).stdout); got != "/"+name {
			t.Errorf("inspect %s: %q", name, got)
		}
		if got := strings.TrimSpace(e.ok("rm", name).stdout); got != name {
			t.Errorf("rm %s printed %q, want the name", name, got)
		}
	}
	if out := e.ok("ps", "-a", "-q").stdout; out != "" {
		t.Errorf("containers h and help were not removed: %q", out)
	}
	if out := e.ok("rm", "--help").stdout; !strings.Contains(out, "burrow rm") {
		t.Errorf("rm --help: %q", out)
	}
	if out := e.ok("network", "help").stdout; !strings.Contains(out, "burrow network") {
		t.Errorf("network help: %q", out)
	}
}

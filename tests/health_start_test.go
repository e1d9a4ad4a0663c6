package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHealthStartInterval: HEALTHCHECK --start-interval (Docker 25) is
// written into the image config as Docker writes it, survives save and
// load with the same image ID, passes to images built FROM it, shows in
// inspect, and makes the checks of the start period run at that interval.
func TestHealthStartInterval(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{"Dockerfile": "FROM busybox\n" +
		"HEALTHCHECK --interval=1h --start-period=1m --start-interval=300ms CMD true\n"})
	e.ok("build", "-t", "localhost/hc", ctx)
	const want = `"StartInterval":300000000`
	if got := e.ok("inspect", "-f", "{{json .Config.Healthcheck}}", "localhost/hc").stdout; !strings.Contains(got, want) {
		t.Errorf("inspect's healthcheck %s lacks %s", got, want)
	}
	id := imageID(t, e, "localhost/hc")

	archive := filepath.Join(e.dir, "hc.tar")
	e.ok("save", "-o", archive, "localhost/hc")
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"StartPeriod":60000000000,"StartInterval":300000000}`) {
		t.Errorf("the saved config lacks Docker's StartInterval field")
	}
	e2 := newEnv(t)
	e2.ok("load", "-i", archive)
	if got := imageID(t, e2, "localhost/hc"); got != id {
		t.Errorf("load gave ID %s, saved %s", got, id)
	}
	ctx2 := e2.writeContext("ctx", map[string]string{"Dockerfile": "FROM localhost/hc\nLABEL child=1\n"})
	e2.ok("build", "-t", "localhost/child", ctx2)
	if got := e2.ok("inspect", "-f", "{{json .Config.Healthcheck}}", "localhost/child").stdout; !strings.Contains(got, want) {
		t.Errorf("a child image's healthcheck %s lacks %s", got, want)
	}

	// The interval is an hour; only the start interval can make it healthy
	// within the wait.
	e2.ok("run", "-d", "--name", "hc", "localhost/child", "sleep", "100")
	waitFor(t, func() bool {
		return strings.Contains(e2.ok("ps", "--filter", "name=hc", "--format", "{{.Status}}").stdout, "(healthy)")
	})
	e2.ok("rm", "-f", "hc")

	// commit keeps the image's start interval.
	e2.ok("create", "--name", "c2", "localhost/child", "true")
	e2.ok("commit", "c2", "localhost/committed")
	if got := e2.ok("inspect", "-f", "{{json .Config.Healthcheck}}", "localhost/committed").stdout; !strings.Contains(got, want) {
		t.Errorf("a committed image's healthcheck %s lacks %s", got, want)
	}
}

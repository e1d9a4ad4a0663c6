package tests

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestRegistrySearchList pulls short names through
// unqualified-search-registries: two loopback registries, only the second
// of which has the image. The first is tried, the second serves it, and
// the store records the second's full name, as Podman does.
func TestRegistrySearchList(t *testing.T) {
	first := startRegistry(t, registrySetup{})
	second := startRegistry(t, registrySetup{})
	conf := fmt.Sprintf("[registries]\nunqualified-search-registries = [%q, %q]\n", first.host, second.host)

	src := newEnv(t)
	id := src.importBusybox(second.host + "/busybox:latest")
	src.ok("push", second.host+"/busybox:latest")
	src.ok("tag", second.host+"/busybox:latest", second.host+"/myuser/app:1")
	src.ok("push", second.host+"/myuser/app:1")

	e := newEnv(t)
	e.writeConfig(conf)
	r := e.ok("pull", "busybox")
	want := []string{"Trying to pull " + first.host + "/busybox:latest...", "Trying to pull " + second.host + "/busybox:latest...",
		"Status: Downloaded newer image for " + second.host + "/busybox:latest", second.host + "/busybox:latest"}
	if !containsLines(r.stdout, want) {
		t.Errorf("pull output lacks %q: %v", want, r)
	}
	if got := imageID(t, e, second.host+"/busybox:latest"); got != "sha256:"+id {
		t.Errorf("pulled image ID %s, want sha256:%s", got, id)
	}
	if r := e.ok("images", "--format", "{{.Repository}}:{{.Tag}}"); strings.TrimSpace(r.stdout) != second.host+"/busybox:latest" {
		t.Errorf("images shows %q, want the second registry's name", r.stdout)
	}
	// A two-part short name goes the same way.
	if r := e.ok("pull", "-q", "myuser/app:1"); strings.TrimSpace(r.stdout) != second.host+"/myuser/app:1" {
		t.Errorf("pull -q myuser/app:1 printed %q", r.stdout)
	}
	// pull --all-tags lists the tags where the short name is found.
	src.ok("tag", second.host+"/busybox:latest", second.host+"/busybox:1.36")
	src.ok("push", second.host+"/busybox:1.36")
	r = e.ok("pull", "-a", "-q", "busybox")
	got := lines(r.stdout)
	slices.Sort(got) // in the registry's order
	if !slices.Equal(got, []string{second.host + "/busybox:1.36", second.host + "/busybox:latest"}) {
		t.Errorf("pull -a busybox printed %q, want both tags of %s/busybox", got, second.host)
	}
	// run finds the short name in the store under the search registries,
	// without pulling again.
	r = e.ok("run", "--rm", "busybox", "echo", "searched")
	if strings.TrimSpace(r.stdout) != "searched" || strings.Contains(r.stderr, "Unable to find image") {
		t.Errorf("run busybox: %v", r)
	}
	// So does build's FROM: no registry is asked.
	ctx := e.writeContext("ctx", map[string]string{"Dockerfile": "FROM busybox\nRUN echo built > /built\n"})
	r = e.ok("build", "-t", "localhost/searched", ctx)
	if strings.Contains(r.stdout+r.stderr, "Trying to pull") || strings.Contains(r.stdout+r.stderr, "Pulling from") {
		t.Errorf("build FROM busybox pulled again: %v", r)
	}

	// An image no registry has: one line naming every registry tried; the
	// store unchanged.
	before := e.ok("images", "-q", "--no-trunc").stdout
	r = e.fail(1, []string{`short name "nothere" was not found`, first.host + "/nothere:latest: not found", second.host + "/nothere:latest: not found"}, "pull", "nothere")
	if n := len(lines(r.stderr)); n != 1 {
		t.Errorf("%d lines of error: %v", n, r)
	}
	if after := e.ok("images", "-q", "--no-trunc").stdout; after != before {
		t.Errorf("a failed pull changed the store: %q -> %q", before, after)
	}

	// Without the list, a short name is Docker Hub's (relocated here to
	// the first registry, which lacks it), and the error names docker.io.
	e2 := newEnv(t)
	e2.writeConfig(fmt.Sprintf("[registries]\nunqualified-search-registries = [\"docker.io\"]\n[[registries.registry]]\nprefix = \"docker.io\"\nlocation = %q\n", first.host))
	e2.fail(1, []string{"manifest for busybox:latest not found"}, "pull", "busybox")
}

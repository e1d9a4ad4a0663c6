package tests

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestVolumeLifecycle(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	if got := strings.TrimSpace(e.ok("volume", "create", "-l", "team=db", "data").stdout); got != "data" {
		t.Errorf("volume create printed %q", got)
	}
	// Creating it again returns the same volume, as Docker does.
	e.ok("volume", "create", "data")
	random := strings.TrimSpace(e.ok("volume", "create").stdout)
	if len(random) != 64 {
		t.Errorf("a volume without a name got %q", random)
	}
	out := e.ok("volume", "ls").stdout
	if !strings.HasPrefix(out, "DRIVER    VOLUME NAME\n") || !strings.Contains(out, "local     data\n") {
		t.Errorf("volume ls:\n%s", out)
	}
	if got := e.ok("volume", "ls", "-q", "--filter", "label=team=db").stdout; got != "data\n" {
		t.Errorf("volume ls --filter label: %q", got)
	}
	var docs []map[string]any
	if err := json.Unmarshal([]byte(e.ok("volume", "inspect", "data").stdout), &docs); err != nil || len(docs) != 1 {
		t.Fatalf("volume inspect: %v %v", docs, err)
	}
	for _, k := range []string{"CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"} {
		if _, ok := docs[0][k]; !ok {
			t.Errorf("volume inspect lacks %s: %v", k, docs[0])
		}
	}
	if got := strings.TrimSpace(e.ok("volume", "inspect", "--format", "{{.Driver}} {{.Name}} {{.Labels.team}}", "data").stdout); got != "local data db" {
		t.Errorf("volume inspect --format: %q", got)
	}
	// Data written by one container is seen by the next; the volume
	// outlives both.
	e.ok("run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f; chown 1000:1000 /data/f")
	e.ok("run", "--name", "user", "-v", "data:/data", "busybox", "true")
	if got := e.ok("run", "--rm", "-v", "data:/data", "busybox", "cat", "/data/f").stdout; got != "kept\n" {
		t.Errorf("the volume holds %q", got)
	}
	// In use by a container (even stopped): refused, naming it.
	r := e.fail(1, []string{"volume is in use"}, "volume", "rm", "data")
	id := strings.TrimSpace(e.ok("inspect", "--format", "{{.Id}}", "user").stdout)
	if !strings.Contains(r.stderr, id) {
		t.Errorf("the refusal does not name the container %s: %v", id, r)
	}
	e.ok("rm", "user")
	if got := e.ok("volume", "rm", "data").stdout; got != "data\n" {
		t.Errorf("volume rm printed %q", got)
	}
	e.fail(1, []string{"no such volume: data"}, "volume", "rm", "data")
	e.ok("volume", "rm", "-f", "data")
	e.fail(1, []string{"no such volume"}, "volume", "inspect", "data")
}

func TestVolumePrune(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.ok("volume", "create", "named")
	e.ok("volume", "create", "kept")
	// An anonymous volume, left by a container removed without -v.
	e.ok("run", "--name", "anon", "-v", "/scratch", "busybox", "sh", "-c", "echo x > /scratch/x")
	anon := ""
	for _, n := range lines(e.ok("volume", "ls", "-q").stdout) {
		if len(n) == 64 {
			anon = n
		}
	}
	if anon == "" {
		t.Fatal("run -v /scratch made no anonymous volume")
	}
	e.ok("rm", "anon")
	e.ok("run", "--name", "user", "-v", "kept:/k", "busybox", "true")
	e.fail(1, []string{"pass -f"}, "volume", "prune")
	// Without -a only anonymous volumes go.
	out := e.ok("volume", "prune", "-f").stdout
	if !strings.Contains(out, "Deleted Volumes:\n"+anon+"\n") || !strings.Contains(out, "Total reclaimed space: 2B") {
		t.Errorf("volume prune:\n%s", out)
	}
	if got := e.ok("volume", "ls", "-q").stdout; got != "kept\nnamed\n" {
		t.Errorf("after prune: %q", got)
	}
	// -a takes unused named volumes too, never one in use.
	e.ok("volume", "prune", "-a", "-f")
	if got := e.ok("volume", "ls", "-q").stdout; got != "kept\n" {
		t.Errorf("after prune -a: %q", got)
	}
	if got := e.ok("volume", "ls", "-q", "--filter", "dangling=true").stdout; got != "" {
		t.Errorf("dangling volumes left: %q", got)
	}
}

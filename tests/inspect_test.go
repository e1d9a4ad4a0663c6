package tests

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestInspect(t *testing.T) {
	e := newEnv(t)
	id := e.importBusybox("busybox", "--change", `CMD ["/bin/sh"]`)
	var docs []map[string]any
	r := e.ok("inspect", "busybox")
	if !strings.HasPrefix(r.stdout, "[\n    {\n        \"Id\": ") {
		t.Errorf("inspect is not indented as Docker's: %q", r.stdout[:min(60, len(r.stdout))])
	}
	if err := json.Unmarshal([]byte(r.stdout), &docs); err != nil || len(docs) != 1 {
		t.Fatalf("inspect: %v\n%s", err, r.stdout)
	}
	d := docs[0]
	for _, k := range []string{"Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Config", "Architecture", "Os", "Size", "RootFS", "Metadata", "GraphDriver"} {
		if _, ok := d[k]; !ok {
			t.Errorf("inspect lacks %s", k)
		}
	}
	if d["Id"] != "sha256:"+id || d["Os"] != "linux" || d["Size"].(float64) < 1e6 {
		t.Errorf("Id/Os/Size: %v %v %v", d["Id"], d["Os"], d["Size"])
	}
	if rootfs := d["RootFS"].(map[string]any); rootfs["Type"] != "layers" || len(rootfs["Layers"].([]any)) != 1 {
		t.Errorf("RootFS %v", rootfs)
	}
	if cmd := d["Config"].(map[string]any)["Cmd"].([]any); len(cmd) != 1 || cmd[0] != "/bin/sh" {
		t.Errorf("Config.Cmd %v", cmd)
	}
	f := e.ok("inspect", "--format", "{{.Id}} {{index .RepoTags 0}} {{.Config.Cmd}} {{json .RootFS.Type}}", "busybox")
	if strings.TrimSpace(f.stdout) != "sha256:"+id+` busybox:latest [/bin/sh] "layers"` {
		t.Errorf("--format: %q", f.stdout)
	}
	// Numbers print as Docker prints them, whole (not 1.9968e+06), and compare.
	if out := e.ok("inspect", "-f", "{{.Size}} {{if gt .Size 1000}}big{{end}}", "busybox").stdout; !regexp.MustCompile(`^[1-9][0-9]+ big\n$`).MatchString(out) {
		t.Errorf("inspect -f {{.Size}}: %q", out)
	}
	// Nulls print as Docker's typed fields: [] for a list, map[] for a
	// map; {{json}} gives null.
	e.importBusybox("localhost/nocmd")
	if out := e.ok("inspect", "-f", "{{.Config.Cmd}}|{{.Config.Entrypoint}}|{{.Config.Labels}}|{{json .Config.Cmd}}|{{if .Config.Cmd}}x{{end}}", "localhost/nocmd").stdout; out != "[]|[]|map[]|null|\n" {
		t.Errorf("inspect -f of null fields: %q", out)
	}
	// A health check's times print as durations, and as nanoseconds in JSON.
	e.ok("import", "-c", "HEALTHCHECK --interval=300ms --timeout=2s CMD true", filepath.Join(fixtures, "busybox.tar"), "localhost/hc")
	if out := e.ok("inspect", "-f", "{{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Timeout}} {{json .Config.Healthcheck.Interval}}", "localhost/hc").stdout; out != "300ms 2s 300000000\n" {
		t.Errorf("inspect -f of health check times: %q", out)
	}
	if a, b := e.ok("image", "inspect", "-f", "{{.Id}}", id[:12]).stdout, f.stdout[:71]; strings.TrimSpace(a) != b {
		t.Errorf("image inspect -f: %q", a)
	}
	// Several arguments, one unknown: the known one is printed, exit 1.
	r = e.exec(nil, "image", "inspect", "--format", "{{.Id}}", "busybox", "nope")
	if r.code != 1 || strings.TrimSpace(r.stdout) != "sha256:"+id || !strings.Contains(r.stderr, "No such image: nope:latest") {
		t.Errorf("inspect known+unknown: %v", r)
	}
	r = e.fail(1, []string{"No such object: nope"}, "inspect", "nope")
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("inspect of unknown prints %q, want []", r.stdout)
	}
}

func TestHistory(t *testing.T) {
	e := newEnv(t)
	id := e.importBusybox("busybox")
	out := lines(e.ok("history", "busybox").stdout)
	if len(out) != 2 || !regexp.MustCompile(`^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$`).MatchString(out[0]) {
		t.Fatalf("history table: %q", out)
	}
	if !regexp.MustCompile(`^` + id[:12] + `\s+.* ago\s+\d+(\.\d+)?MB\s+Imported from .*busybox.tar$`).MatchString(out[1]) {
		t.Errorf("history row %q", out[1])
	}
	if q := strings.TrimSpace(e.ok("history", "-q", "busybox").stdout); q != id[:12] {
		t.Errorf("history -q %q", q)
	}
	var row map[string]string
	if err := json.Unmarshal([]byte(e.ok("history", "--format", "json", "busybox").stdout), &row); err != nil {
		t.Fatal(err)
	}
	if row["ID"] != id[:12] || row["CreatedSince"] == "" || row["Size"] == "" || !strings.HasPrefix(row["Comment"], "Imported from") {
		t.Errorf("history json %v", row)
	}
	raw := strings.TrimSpace(e.ok("history", "--human=false", "--no-trunc", "--format", "{{.ID}} {{.Size}}", "busybox").stdout)
	if !regexp.MustCompile(`^sha256:` + id + ` \d{6,}$`).MatchString(raw) {
		t.Errorf("history --human=false --no-trunc: %q", raw)
	}
	e.fail(1, []string{"No such image: nope:latest"}, "history", "nope")
}

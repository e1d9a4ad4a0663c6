package tests

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportSources(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(fixtures)))
	defer srv.Close()
	stdin, err := os.ReadFile(filepath.Join(fixtures, "busybox.tar"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, src string
		stdin     []byte
	}{
		{"plain", filepath.Join(fixtures, "busybox.tar"), nil},
		{"gzip", filepath.Join(fixtures, "busybox.tar.gz"), nil},
		{"xz", filepath.Join(fixtures, "busybox.tar.xz"), nil},
		{"zstd", filepath.Join(fixtures, "busybox.tar.zst"), nil},
		{"bzip2", filepath.Join(fixtures, "busybox.tar.bz2"), nil},
		{"stdin", "-", stdin},
		{"url", srv.URL + "/busybox.tar.gz", nil},
		{"directory", filepath.Join(fixtures, "rootdir"), nil},
	}
	var diffIDs = map[string]string{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			if _, err := os.Stat(c.src); c.src != "-" && !strings.HasPrefix(c.src, "http") && err != nil {
				t.Skipf("fixture %s missing (compressor not installed)", c.src)
			}
			r := e.exec(c.stdin, "import", c.src, "localhost/src:"+c.name)
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			out := e.ok("inspect", "--format", "{{index .RootFS.Layers 0}}", "localhost/src:"+c.name)
			diffIDs[c.name] = strings.TrimSpace(out.stdout)
		})
	}
	e.t = t
	// Every compression of the same tarball is the same layer content.
	for _, n := range []string{"gzip", "xz", "zstd", "bzip2", "stdin", "url"} {
		if d, ok := diffIDs[n]; ok && d != diffIDs["plain"] {
			t.Errorf("%s import has diff ID %s, plain has %s", n, d, diffIDs["plain"])
		}
	}
	if diffIDs["directory"] == "" || diffIDs["directory"] == diffIDs["plain"] {
		t.Errorf("directory import diff ID %q", diffIDs["directory"])
	}
}

func TestImportChangesAndMessage(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("localhost/changed",
		"--change", `CMD ["/bin/sh", "-c", "echo hi"]`,
		"--change", "ENV GREETING=hello PATH=/usr/bin:/bin",
		"--change", "LABEL org.example.team=burrow",
		"--change", "WORKDIR /srv",
		"--change", "EXPOSE 8080",
		"--change", "USER nobody",
		"-m", "made by a test")
	var docs []struct {
		Comment string
		Config  struct {
			Cmd          []string
			Env          []string
			Labels       map[string]string
			WorkingDir   string
			User         string
			ExposedPorts map[string]struct{}
		}
	}
	r := e.ok("inspect", "localhost/changed")
	if err := json.Unmarshal([]byte(r.stdout), &docs); err != nil || len(docs) != 1 {
		t.Fatalf("inspect output does not parse: %v\n%s", err, r.stdout)
	}
	c := docs[0].Config
	if strings.Join(c.Cmd, " ") != "/bin/sh -c echo hi" || c.WorkingDir != "/srv" || c.User != "nobody" ||
		c.Labels["org.example.team"] != "burrow" || strings.Join(c.Env, ",") != "GREETING=hello,PATH=/usr/bin:/bin" {
		t.Errorf("config not as changed: %+v", c)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("EXPOSE 8080 missing: %+v", c.ExposedPorts)
	}
	if docs[0].Comment != "made by a test" {
		t.Errorf("comment %q", docs[0].Comment)
	}
	h := e.ok("history", "--format", "{{.Comment}}", "localhost/changed")
	if strings.TrimSpace(h.stdout) != "made by a test" {
		t.Errorf("history comment %q", h.stdout)
	}
	e.fail(1, []string{`invalid --change "RUN true"`}, "import", "--change", "RUN true", filepath.Join(fixtures, "tiny-0.tar"))
}

// TestImportOwners imports a tarball whose files belong to uid 1000 and
// gid 50. With full mapping the owners are kept; in single-id mode the
// import still succeeds and the files are the user's.
func TestImportOwners(t *testing.T) {
	e := newEnv(t)
	e.ok("import", filepath.Join(fixtures, "owners.tar"), "localhost/owners")
	upper := strings.TrimSpace(e.ok("inspect", "--format", "{{.GraphDriver.Data.UpperDir}}", "localhost/owners").stdout)
	stat := e.ok("unshare", "stat", "-c", "%u:%g %a", filepath.Join(upper, "home/user/file"), filepath.Join(upper, "etc/shadow"))
	got := lines(stat.stdout)
	want := map[string][]string{
		"full":   {"1000:50 640", "0:42 640"},
		"single": {"0:0 640", "0:0 640"},
		"host":   {"1000:50 640", "0:42 640"},
	}[mode]
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("owners in mode %s: got %q, want %q", mode, got, want)
	}
}

// TestImportBadInput: each bad source fails with one clear line and leaves
// the store as it was: no image, no layer.
func TestImportBadInput(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	before := storeState(t, e)
	cases := []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"truncated gzip", []string{filepath.Join(fixtures, "truncated.tar.gz"), "localhost/bad"}, 1, []string{"importing", "truncated"}},
		{"truncated tar", []string{filepath.Join(fixtures, "truncated.tar"), "localhost/bad"}, 1, []string{"importing", "truncated"}},
		{"garbage", []string{filepath.Join(fixtures, "garbage.tar"), "localhost/bad"}, 1, []string{"importing", "not a tar archive"}},
		{"missing file", []string{filepath.Join(fixtures, "nope.tar"), "localhost/bad"}, 1, []string{"nope.tar", "no such file"}},
		{"bad name", []string{filepath.Join(fixtures, "tiny-0.tar"), "Bad/Name"}, 1, []string{"invalid reference format", "lowercase"}},
		{"bad url", []string{"http://127.0.0.1:1/x.tar", "localhost/bad"}, 1, []string{"downloading http://127.0.0.1:1/x.tar"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			r := e.fail(c.code, c.wants, append([]string{"import"}, c.args...)...)
			if n := len(lines(r.stderr)); n != 1 {
				t.Errorf("want a one-line error, got %d lines: %v", n, r)
			}
			if after := storeState(t, e); after != before {
				t.Errorf("store changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// storeState summarises the store: image IDs and layer IDs, from burrow's
// own listing and from the layer records on disk.
func storeState(t *testing.T, e *env) string {
	t.Helper()
	ids := e.ok("images", "-a", "-q", "--no-trunc").stdout
	return strings.Join(lines(ids), ",") + " layers=" + strings.Join(layerIDs(t, e), ",")
}

// layerIDs lists the layers containers/storage records in the store, read
// straight from its layers.json (owned by the test user).
func layerIDs(t *testing.T, e *env) []string {
	t.Helper()
	var ids []string
	for _, driver := range []string{"overlay", "vfs"} {
		data, err := os.ReadFile(filepath.Join(e.root(), driver+"-layers", "layers.json"))
		if err != nil {
			continue
		}
		var layers []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(data, &layers); err != nil {
			t.Fatalf("layers.json: %v", err)
		}
		for _, l := range layers {
			ids = append(ids, l.ID)
		}
	}
	return ids
}

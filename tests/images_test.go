package tests

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestImagesTable(t *testing.T) {
	e := newEnv(t)
	if out := e.ok("images").stdout; strings.TrimSpace(out) != "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE" {
		t.Errorf("empty listing: %q", out)
	}
	id := e.importBusybox("busybox")
	out := lines(e.ok("images").stdout)
	if len(out) != 2 {
		t.Fatalf("want header and one row: %q", out)
	}
	row := regexp.MustCompile(`^busybox\s+latest\s+` + id[:12] + `\s+(Less than a second|\d+ seconds|About a minute) ago\s+\d+(\.\d+)?MB$`)
	if !row.MatchString(out[1]) {
		t.Errorf("row %q does not look like Docker's", out[1])
	}
	if !regexp.MustCompile(`^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$`).MatchString(out[0]) {
		t.Errorf("header %q", out[0])
	}
	if q := strings.TrimSpace(e.ok("images", "-q").stdout); q != id[:12] {
		t.Errorf("-q printed %q", q)
	}
	if q := strings.TrimSpace(e.ok("images", "-q", "--no-trunc").stdout); q != "sha256:"+id {
		t.Errorf("-q --no-trunc printed %q", q)
	}
	d := lines(e.ok("images", "--digests").stdout)
	if !regexp.MustCompile(`^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID`).MatchString(d[0]) || !strings.Contains(d[1], "<none>") {
		t.Errorf("--digests: %q", d)
	}
	// `image ls` is the same command.
	if a, b := e.ok("image", "ls", "-q").stdout, e.ok("images", "-q").stdout; a != b {
		t.Errorf("image ls %q != images %q", a, b)
	}
}

func TestImagesFormatAndFilters(t *testing.T) {
	e := newEnv(t)
	bb := e.importBusybox("busybox")
	labeled := e.importBusybox("localhost/app:v1", "--change", "LABEL tier=web")
	old := e.importBusybox("localhost/app:v2")
	e.importBusybox("localhost/app:v2") // takes the name: the previous one dangles

	// json: one object per line with Docker's keys, parsed back.
	var rows []map[string]string
	for _, l := range lines(e.ok("images", "--format", "json").stdout) {
		var m map[string]string
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("json line %q: %v", l, err)
		}
		rows = append(rows, m)
	}
	if len(rows) != 4 {
		t.Fatalf("want 4 rows (3 tags + 1 dangling), got %d: %v", len(rows), rows)
	}
	for _, k := range []string{"Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "SharedSize", "Size", "Tag", "UniqueSize", "VirtualSize"} {
		if _, ok := rows[0][k]; !ok {
			t.Errorf("json row lacks %s: %v", k, rows[0])
		}
	}
	got := func(args ...string) string {
		return strings.Join(lines(e.ok(append([]string{"images"}, args...)...).stdout), ",")
	}
	tmpl := []string{"--format", "{{.Repository}}:{{.Tag}}"}
	if s := got(append(tmpl, "--filter", "dangling=true")...); s != "<none>:<none>" {
		t.Errorf("dangling=true: %q", s)
	}
	if s := got("-q", "--filter", "dangling=true"); s != old[:12] {
		t.Errorf("dangling image is %q, want %s", s, old[:12])
	}
	if s := got(append(tmpl, "--filter", "dangling=false", "--filter", "reference=localhost/app")...); !sameSet(s, "localhost/app:v1,localhost/app:v2") {
		t.Errorf("reference filter: %q", s)
	}
	if s := got(append(tmpl, "--filter", "reference=busy*")...); s != "busybox:latest" {
		t.Errorf("reference=busy*: %q", s)
	}
	if s := got(append(tmpl, "localhost/app:v1")...); s != "localhost/app:v1" {
		t.Errorf("positional REPOSITORY:TAG: %q", s)
	}
	if s := got("-q", "--filter", "label=tier=web"); s != labeled[:12] {
		t.Errorf("label filter: %q", s)
	}
	if s := got("-q", "--filter", "label=tier"); s != labeled[:12] {
		t.Errorf("label key filter: %q", s)
	}
	if s := got("-q", "--filter", "since="+bb[:12], "--filter", "before=localhost/app:v2"); !sameSet(s, labeled[:12]+","+old[:12]) {
		t.Errorf("since/before: %q", s)
	}
	table := lines(e.ok("images", "--format", "table {{.ID}}\t{{.Tag}}", "busybox").stdout)
	if len(table) != 2 || !regexp.MustCompile(`^IMAGE ID\s+TAG$`).MatchString(table[0]) || !strings.HasPrefix(table[1], bb[:12]) {
		t.Errorf("table template: %q", table)
	}
	e.fail(1, []string{"invalid filter 'color'"}, "images", "--filter", "color=red")
	e.fail(125, []string{"template parsing error"}, "images", "--format", "{{.Nope")
}

func sameSet(a, b string) bool {
	as, bs := strings.Split(a, ","), strings.Split(b, ",")
	if len(as) != len(bs) {
		return false
	}
	m := map[string]int{}
	for _, x := range as {
		m[x]++
	}
	for _, x := range bs {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

func TestShortNames(t *testing.T) {
	e := newEnv(t)
	id := e.importBusybox("busybox")
	for _, ref := range []string{"busybox", "busybox:latest", "library/busybox", "docker.io/library/busybox:latest", "index.docker.io/library/busybox", id[:5], "sha256:" + id} {
		r := e.ok("inspect", "--format", "{{.Id}}", ref)
		if strings.TrimSpace(r.stdout) != "sha256:"+id {
			t.Errorf("%s resolved to %q", ref, r.stdout)
		}
	}
	e.ok("tag", "busybox", "localhost/mine")
	e.ok("tag", "busybox", "127.0.0.1:5000/team/tool:1.0")
	e.ok("tag", "busybox", "quay.io/someone/thing:2")
	names := e.ok("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
	if !sameSet(strings.Join(lines(names), ","), "busybox:latest,localhost/mine:latest,127.0.0.1:5000/team/tool:1.0,quay.io/someone/thing:2") {
		t.Errorf("names print in Docker's short form: %q", names)
	}
	tags := e.ok("inspect", "--format", "{{json .RepoTags}}", "busybox").stdout
	if !strings.Contains(tags, `"busybox:latest"`) || !strings.Contains(tags, `"localhost/mine:latest"`) {
		t.Errorf("RepoTags %s", tags)
	}
	e.fail(1, []string{"No such image: other:latest"}, "image", "inspect", "other")
	e.fail(1, []string{"No such image: localhost/mine:2"}, "image", "inspect", "localhost/mine:2")
	e.fail(1, []string{"No such object: other"}, "inspect", "other")
	e.fail(1, []string{"invalid reference format"}, "tag", "busybox", "UpperCase")
}

func TestTag(t *testing.T) {
	e := newEnv(t)
	a := e.importBusybox("localhost/a")
	e.ok("tag", a[:8], "localhost/b:1")
	e.ok("tag", "localhost/b:1", "localhost/c")
	for _, n := range []string{"localhost/a", "localhost/b:1", "localhost/c:latest"} {
		if got := strings.TrimSpace(e.ok("images", "-q", n).stdout); got != a[:12] {
			t.Errorf("%s is %q, want %s", n, got, a[:12])
		}
	}
	// Tagging another image with a taken name moves the name.
	b := e.importBusybox("localhost/other", "--change", "ENV X=1")
	e.ok("tag", "localhost/other", "localhost/c")
	if got := strings.TrimSpace(e.ok("images", "-q", "localhost/c").stdout); got != b[:12] {
		t.Errorf("localhost/c is %q after retag, want %s", got, b[:12])
	}
	e.fail(1, []string{"No such image: nope:latest"}, "tag", "nope", "x")
	e.fail(125, []string{`"burrow tag" requires exactly 2 arguments`}, "tag", "localhost/a")
}

func TestRmi(t *testing.T) {
	e := newEnv(t)
	id := e.importBusybox("localhost/one")
	e.ok("tag", "localhost/one", "localhost/two")
	// Removing one of two names only untags.
	if out := e.ok("rmi", "localhost/two").stdout; strings.TrimSpace(out) != "Untagged: localhost/two:latest" {
		t.Errorf("rmi of one of two names printed %q", out)
	}
	// An ID whose image has names in two repositories needs -f.
	e.ok("tag", "localhost/one", "localhost/three")
	r := e.fail(1, []string{"conflict: unable to delete " + id[:12] + " (must be forced) - image is referenced in multiple repositories"}, "rmi", id[:12])
	if n := len(lines(r.stderr)); n != 1 {
		t.Errorf("want one line: %v", r)
	}
	out := e.ok("rmi", "-f", id[:12]).stdout
	if !strings.Contains(out, "Untagged: localhost/one:latest") || !strings.Contains(out, "Untagged: localhost/three:latest") || !strings.Contains(out, "Deleted: sha256:"+id) {
		t.Errorf("rmi -f printed %q", out)
	}
	if left := e.ok("images", "-a", "-q").stdout; left != "" {
		t.Errorf("images left: %q", left)
	}
	if l := layerIDs(t, e); len(l) != 0 {
		t.Errorf("layers left after rmi: %v", l)
	}
	// Several arguments: each is reported, a bad one makes the exit 1.
	e.importBusybox("localhost/x")
	r = e.exec(nil, "rmi", "nope", "localhost/x")
	if r.code != 1 || !strings.Contains(r.stderr, "Error: No such image: nope:latest") || !strings.Contains(r.stdout, "Deleted: sha256:") {
		t.Errorf("rmi nope x: %v", r)
	}
	e.fail(125, []string{`"burrow rmi" requires at least 1 argument`}, "rmi")
}

// TestAmbiguousPrefix imports 17 images, so two IDs must share a first hex
// digit, and checks that the shared prefix is refused.
func TestAmbiguousPrefix(t *testing.T) {
	e := newEnv(t)
	seen := map[byte]string{}
	var clash byte
	for i := 0; i < 17 && clash == 0; i++ {
		out := e.ok("import", filepath.Join(fixtures, fmt.Sprintf("tiny-%d.tar", i)), fmt.Sprintf("localhost/tiny:%d", i)).stdout
		id := strings.TrimPrefix(strings.TrimSpace(out), "sha256:")
		if _, ok := seen[id[0]]; ok {
			clash = id[0]
		}
		seen[id[0]] = id
	}
	if clash == 0 {
		t.Fatal("no two IDs share a first digit among 17: impossible")
	}
	e.fail(1, []string{"ambiguous image ID prefix", "give more digits"}, "inspect", string(clash))
	e.fail(1, []string{"ambiguous image ID prefix"}, "rmi", string(clash))
}

func TestImagePrune(t *testing.T) {
	e := newEnv(t)
	dangling := e.importBusybox("localhost/app")
	// Another layer takes the name, so that pruning the first frees its layer.
	current := strings.TrimPrefix(strings.TrimSpace(e.ok("import", filepath.Join(fixtures, "tiny-1.tar"), "localhost/app").stdout), "sha256:")
	// No terminal, no -f, nothing on stdin: refused, nothing removed.
	e.fail(1, []string{"pass -f"}, "image", "prune")
	if n := len(lines(e.ok("images", "-a", "-q").stdout)); n != 2 {
		t.Fatalf("prune without confirmation removed images: %d left", n)
	}
	// "n" on stdin: nothing removed.
	if r := e.exec([]byte("n\n"), "image", "prune"); r.code != 0 || len(lines(e.ok("images", "-q").stdout)) != 2 {
		t.Fatalf("answer n: %v", r)
	}
	out := e.ok("image", "prune", "-f").stdout
	want := "Deleted Images:\ndeleted: sha256:" + dangling + "\n\nTotal reclaimed space: "
	if !strings.HasPrefix(out, want) || !regexp.MustCompile(`Total reclaimed space: \d+(\.\d+)?MB\n$`).MatchString(out) {
		t.Errorf("prune -f printed %q, want it to start %q", out, want)
	}
	if got := strings.TrimSpace(e.ok("images", "-a", "-q").stdout); got != current[:12] {
		t.Errorf("after prune: %q", got)
	}
	// until=1h keeps what is younger; -a then removes unused tagged images.
	e.ok("image", "prune", "-a", "-f", "--filter", "until=1h")
	if got := strings.TrimSpace(e.ok("images", "-q").stdout); got != current[:12] {
		t.Errorf("until=1h removed a new image: %q", got)
	}
	r := e.exec([]byte("y\n"), "image", "prune", "-a")
	if r.code != 0 || !strings.Contains(r.stdout, "WARNING! This will remove all images without at least one container associated to them.") ||
		!strings.Contains(r.stdout, "untagged: localhost/app:latest") {
		t.Errorf("prune -a answered y: %v", r)
	}
	if left := e.ok("images", "-a", "-q").stdout; left != "" {
		t.Errorf("left after prune -a: %q", left)
	}
	if l := layerIDs(t, e); len(l) != 0 {
		t.Errorf("layers left after prune -a: %v", l)
	}
	if out := e.ok("image", "prune", "-f").stdout; out != "Total reclaimed space: 0B\n" {
		t.Errorf("empty prune printed %q", out)
	}
}

// TestImagePrunePromptOnTerminal answers the confirmation prompt through a
// pseudo-terminal (util-linux's script), as a person would.
func TestImagePrunePromptOnTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux) is not installed")
	}
	e := newEnv(t)
	e.importBusybox("localhost/app")
	e.ok("import", filepath.Join(fixtures, "tiny-3.tar"), "localhost/app") // the first dangles
	viaPty := func(answer string) result {
		cmd := exec.Command("script", "-qec", *burrowBin+" image prune", "/dev/null")
		cmd.Env = e.environ()
		cmd.Stdin = strings.NewReader(answer)
		out, err := cmd.CombinedOutput()
		r := result{args: []string{"image", "prune"}, stdout: string(out)}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		}
		return r
	}
	r := viaPty("N\n")
	if r.code != 0 || !strings.Contains(r.stdout, "Are you sure you want to continue? [y/N]") || strings.Contains(r.stdout, "Deleted Images") {
		t.Errorf("answer N on a terminal: %v", r)
	}
	if n := len(lines(e.ok("images", "-a", "-q").stdout)); n != 2 {
		t.Fatalf("N removed images: %d left", n)
	}
	r = viaPty("y\n")
	if r.code != 0 || !strings.Contains(r.stdout, "Deleted Images:") || !strings.Contains(r.stdout, "Total reclaimed space:") {
		t.Errorf("answer y on a terminal: %v", r)
	}
	if n := len(lines(e.ok("images", "-a", "-q").stdout)); n != 1 {
		t.Errorf("y left %d images, want 1", n)
	}
}

package tests

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeContext writes a build context: file name -> content (a name
// ending in "/" is a directory).
func (e *env) writeContext(name string, files map[string]string) string {
	e.t.Helper()
	dir := filepath.Join(e.dir, name)
	for f, content := range files {
		p := filepath.Join(dir, f)
		if strings.HasSuffix(f, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				e.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	return dir
}

// build runs `burrow build` and fails the test unless it succeeds.
func (e *env) build(args ...string) result {
	e.t.Helper()
	return e.ok(append([]string{"build"}, args...)...)
}

func imageID(t *testing.T, e *env, ref string) string {
	t.Helper()
	return strings.TrimSpace(e.ok("inspect", "--format", "{{.Id}}", ref).stdout)
}

func TestBuildInstructions(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{
		"Dockerfile": `# a comment
ARG BASE=busybox
FROM $BASE AS base
ARG GREETING=hello
ENV APP=/srv/app NAME="two words"
LABEL org.example.name=demo version=1
WORKDIR $APP
COPY file.txt ./
COPY dir/ sub/
RUN echo "$GREETING from RUN" > run.txt && mkdir -p /data
USER nobody
EXPOSE 8080 53/udp
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s CMD true
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat run.txt"]
`,
		"file.txt":    "from the context\n",
		"dir/a":       "a\n",
		"dir/deep/b":  "b\n",
		"ignored.txt": "x",
	})
	r := e.build("-t", "demo:1", ctx)
	for _, want := range []string{"[1/15] FROM busybox AS base", "RUN echo", "Successfully built", "Successfully tagged docker.io/library/demo:1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("build output lacks %q:\n%s", want, r.stdout)
		}
	}
	got := e.ok("run", "--rm", "-u", "0", "demo:1", "cat run.txt file.txt sub/a sub/deep/b; echo $NAME; pwd").stdout
	want := "hello from RUN\nfrom the context\na\nb\ntwo words\n/srv/app\n"
	if got != want {
		t.Errorf("files and environment of the built image:\n%q\nwant\n%q", got, want)
	}
	for format, want := range map[string]string{
		"{{.Config.User}}":                              "nobody",
		"{{.Config.WorkingDir}}":                        "/srv/app",
		"{{json .Config.Entrypoint}}":                   `["/bin/sh","-c"]`,
		"{{json .Config.Cmd}}":                          `["cat run.txt"]`,
		"{{index .Config.Labels \"version\"}}":          "1",
		"{{json .Config.ExposedPorts}}":                 `{"53/udp":{},"8080/tcp":{}}`,
		"{{json .Config.Volumes}}":                      `{"/data":{}}`,
		"{{.Config.StopSignal}}":                        "SIGTERM",
		"{{json .Config.Healthcheck.Test}}":             `["CMD-SHELL","true"]`,
		"{{len .RootFS.Layers}}":                        "5",
		"{{index .Config.Env 1}}":                       "APP=/srv/app",
		"{{json .Config.Healthcheck.Interval}}":         "5000000000",
		"{{index .Config.Labels \"org.example.name\"}}": "demo",
	} {
		if got := strings.TrimSpace(e.ok("inspect", "--format", format, "demo:1").stdout); got != want {
			t.Errorf("inspect %s = %q, want %q", format, got, want)
		}
	}
	// The default command runs through the entrypoint, as the user.
	if got := e.ok("run", "--rm", "demo:1").stdout; got != "hello from RUN\n" {
		t.Errorf("default command printed %q", got)
	}
	hist := e.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Size}}", "demo:1").stdout
	for _, want := range []string{"CMD [\"cat run.txt\"]|0B", "COPY file.txt ./|", "RUN |1 GREETING=hello /bin/sh -c echo", "WORKDIR /srv/app|", "ENV APP=/srv/app NAME=two words|0B"} {
		if !strings.Contains(hist, want) {
			t.Errorf("history lacks %q:\n%s", want, hist)
		}
	}
}

func TestBuildCacheIsContentBased(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{
		"Dockerfile":    "FROM busybox\nCOPY . /ctx/\nRUN cat /ctx/a.txt > /copy.txt\nARG V=1\nRUN echo $V > /v.txt\n",
		"a.txt":         "aaaa\n",
		"skip.log":      "ignored\n",
		".dockerignore": "*.log\n",
	})
	first := e.build("-t", "c1", ctx).stdout
	if strings.Contains(first, "CACHED") {
		t.Fatalf("first build used a cache:\n%s", first)
	}
	id := imageID(t, e, "c1")
	cached := func(name string, wantCached int, args ...string) string {
		t.Helper()
		out := e.build(append(append([]string{"-t", "c1"}, args...), ctx)...).stdout
		if got := strings.Count(out, "CACHED"); got != wantCached {
			t.Errorf("%s: %d steps cached, want %d:\n%s", name, got, wantCached, out)
		}
		return imageID(t, e, "c1")
	}
	if got := cached("unchanged", 3); got != id {
		t.Errorf("a fully cached build made image %s, first %s", got, id)
	}
	a := filepath.Join(ctx, "a.txt")
	fi, _ := os.Stat(a)
	// Touched: same bytes, new mtime: still cached.
	later := fi.ModTime().Add(time.Hour)
	os.Chtimes(a, later, later)
	cached("touched", 3)
	// A changed ignored file changes nothing.
	os.WriteFile(filepath.Join(ctx, "skip.log"), []byte("other content\n"), 0o644)
	cached("ignored file changed", 3)
	// Same size and mtime, other bytes: a miss from the COPY on.
	os.WriteFile(a, []byte("bbbb\n"), 0o644)
	os.Chtimes(a, later, later)
	cached("content changed", 0)
	if got := e.ok("run", "--rm", "c1", "cat", "/copy.txt").stdout; got != "bbbb\n" {
		t.Errorf("after the change the image has %q", got)
	}
	// chmod: a miss.
	os.Chmod(a, 0o600)
	cached("chmod", 0)
	// A build arg declared before the last RUN: the steps before it hit
	// (as in Docker, every RUN after an ARG sees it).
	cached("arg", 2, "--build-arg", "V=2")
	if got := e.ok("run", "--rm", "c1", "cat", "/v.txt").stdout; got != "2\n" {
		t.Errorf("build arg V=2 gave %q", got)
	}
	// --no-cache runs every step.
	cached("no-cache", 0, "--no-cache")
}

func TestBuildMultiStageTarget(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{
		"Dockerfile": `FROM busybox AS builder
RUN echo built > /artifact
FROM busybox AS unused
RUN exit 3
FROM busybox AS second
RUN echo second > /second
FROM busybox
COPY --from=builder /artifact /from-builder
COPY --from=second /second /second
RUN cat /from-builder
`,
	})
	r := e.build("-t", "final", ctx)
	if strings.Contains(r.stdout, "exit 3") {
		t.Errorf("a stage the target does not need was built:\n%s", r.stdout)
	}
	if got := e.ok("run", "--rm", "final", "cat", "/from-builder", "/second").stdout; got != "built\nsecond\n" {
		t.Errorf("COPY --from gave %q", got)
	}
	e.build("--target", "builder", "-t", "b", ctx)
	if got := e.ok("run", "--rm", "b", "cat", "/artifact").stdout; got != "built\n" {
		t.Errorf("--target builder image has %q", got)
	}
	r = e.fail(1, []string{"exit code: 3"}, "build", "--target", "unused", ctx)
	e.fail(1, []string{`target stage "nope" could not be found`}, "build", "--target", "nope", ctx)
}

func TestBuildHeredocAndShell(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{
		"Dockerfile": `FROM busybox
RUN <<EOF
echo one > /one
echo two > /two
EOF
SHELL ["/bin/sh", "-e", "-c"]
RUN ["/bin/sh", "-c", "echo exec-form > /three"]
RUN cat <<EOF > /four
heredoc as input
EOF
`,
	})
	e.build("-t", "h", ctx)
	if got := e.ok("run", "--rm", "h", "cat", "/one", "/two", "/three", "/four").stdout; got != "one\ntwo\nexec-form\nheredoc as input\n" {
		t.Errorf("heredoc build gave %q", got)
	}
}

func TestBuildErrors(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	cases := []struct {
		name, dockerfile string
		files            map[string]string
		wants            []string
	}{
		{"unknown instruction", "FROM busybox\nRUNN echo\n", nil, []string{"Dockerfile:2:", "RUNN"}},
		{"no FROM", "RUN echo\n", nil, []string{"Dockerfile"}},
		{"failing RUN", "FROM busybox\nRUN echo start && exit 7\n", nil, []string{"exit 7", "exit code: 7"}},
		{"missing COPY source", "FROM busybox\nCOPY nothere.txt /\n", nil, []string{"Dockerfile:2:", "nothere.txt"}},
		{"excluded COPY source", "FROM busybox\nCOPY secret.txt /\n", map[string]string{"secret.txt": "s", ".dockerignore": "secret.txt\n"}, []string{"secret.txt", ".dockerignore"}},
		{"missing base image", "FROM nosuchimage:1\n", nil, []string{"nosuchimage"}},
		{"foreign platform", "FROM --platform=linux/s390x busybox\n", nil, []string{"s390x"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, dir: e.dir}
			files := map[string]string{"Dockerfile": tc.dockerfile}
			for k, v := range tc.files {
				files[k] = v
			}
			ctx := e.writeContext("ctx"+string(rune('a'+i)), files)
			e.fail(1, tc.wants, "build", "-t", "broken", ctx)
			e.fail(1, []string{"broken"}, "inspect", "broken")
		})
	}
}

func TestBuildQuietStdinAndIidfile(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	r := e.exec([]byte("FROM busybox\nRUN echo hi > /hi\n"), "build", "-q", "-t", "q", "-")
	if r.code != 0 {
		t.Fatal(r)
	}
	out := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(out, "sha256:") || len(out) != 71 || strings.Contains(out, "\n") {
		t.Errorf("build -q printed %q, want the image ID alone", r.stdout)
	}
	if id := imageID(t, e, "q"); "sha256:"+id != out && id != out {
		t.Errorf("build -q printed %s, image q is %s", out, id)
	}
	ctx := e.writeContext("ctx", map[string]string{"Dockerfile": "FROM busybox\nLABEL a=b\n"})
	iid := filepath.Join(e.dir, "iid")
	e.build("--iidfile", iid, ctx)
	data, _ := os.ReadFile(iid)
	if !strings.HasPrefix(string(data), "sha256:") {
		t.Errorf("iidfile holds %q", data)
	}
}

func TestBuildCacheMount(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{
		"Dockerfile": "FROM busybox\nRUN --mount=type=cache,target=/cache echo run >> /cache/log && wc -l < /cache/log > /count\n",
	})
	e.build("-t", "m", ctx)
	e.build("--no-cache", "-t", "m", ctx)
	if got := strings.TrimSpace(e.ok("run", "--rm", "m", "cat", "/count").stdout); got != "2" {
		t.Errorf("the cache mount held %s runs' lines, want 2", got)
	}
	if got := e.exec(nil, "run", "--rm", "m", "ls", "/cache/log"); got.code == 0 {
		t.Errorf("the cache mount's content leaked into the image")
	}
}

func TestBuildChownSeveralOwners(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{
		"Dockerfile": "FROM busybox\nRUN touch /a /b && chown 1000:1000 /a && chown 2000:3000 /b\nCOPY --chown=1234:5678 f /f\n",
		"f":          "f\n",
	})
	e.build("-t", "owners", ctx)
	got := e.ok("run", "--rm", "owners", "stat", "-c", "%u:%g", "/a", "/b", "/f").stdout
	want := "1000:1000\n2000:3000\n1234:5678\n"
	if mode == "single" {
		// One id is mapped: every file is root's (the user's), and the
		// chown calls succeed without effect.
		want = "0:0\n0:0\n0:0\n"
	}
	if got != want {
		t.Errorf("owners in the built image: %q, want %q", got, want)
	}
}

func TestBuildReproducibleWithSourceDateEpoch(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{"Dockerfile": "FROM busybox\nCOPY f /f\nENV A=1\n", "f": "f\n"})
	e.build("--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", "-t", "r1", ctx)
	time.Sleep(1100 * time.Millisecond)
	e.build("--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", "-t", "r2", ctx)
	if a, b := imageID(t, e, "r1"), imageID(t, e, "r2"); a != b {
		t.Errorf("two builds with SOURCE_DATE_EPOCH made %s and %s", a, b)
	}
	if got := strings.TrimSpace(e.ok("inspect", "--format", "{{.Created}}", "r1").stdout); !strings.HasPrefix(got, "2023-11-14T22:13:20") {
		t.Errorf("created = %s, want SOURCE_DATE_EPOCH's time", got)
	}
}

func TestBuildOnbuildAndCachedLayersSurviveRmi(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	parent := e.writeContext("parent", map[string]string{"Dockerfile": "FROM busybox\nONBUILD RUN echo triggered > /trigger\n"})
	e.build("-t", "parent", parent)
	child := e.writeContext("child", map[string]string{"Dockerfile": "FROM parent\nRUN echo child > /child\n"})
	e.build("-t", "child", child)
	if got := e.ok("run", "--rm", "child", "cat", "/trigger", "/child").stdout; got != "triggered\nchild\n" {
		t.Errorf("ONBUILD in a child build gave %q", got)
	}
	if got := strings.TrimSpace(e.ok("inspect", "--format", "{{json .Config.OnBuild}}", "child").stdout); got != "null" && got != "[]" {
		t.Errorf("the child kept the ONBUILD triggers: %s", got)
	}
	// Removing the image keeps its cached layers: the next build hits.
	e.ok("rmi", "child")
	if out := e.build("-t", "child", child).stdout; strings.Count(out, "CACHED") != 2 {
		t.Errorf("after rmi the rebuild did not use the cache:\n%s", out)
	}
	// The cache entries are not images.
	if got := e.ok("images", "-q", "-a").stdout; len(lines(got)) != 3 {
		t.Errorf("images -a lists %d images, want 3 (busybox, parent, child):\n%s", len(lines(got)), got)
	}
}

func TestBuildFileFlagIgnoreFileUserAndCopyHeredoc(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{
		"docker/app.Dockerfile":              "FROM busybox\nCOPY . /ctx/\nENV NAME=x\nCOPY <<EOF /etc/motd\nhello $NAME\nEOF\nUSER nobody\nRUN id -u > /tmp/uid\n",
		"docker/app.Dockerfile.dockerignore": "secret\n",
		".dockerignore":                      "keep\n",
		"secret":                             "s",
		"keep":                               "k",
	})
	e.build("-f", filepath.Join(ctx, "docker/app.Dockerfile"), "-t", "f", ctx)
	got := e.ok("run", "--rm", "f", "sh", "-c", "ls /ctx; cat /etc/motd /tmp/uid").stdout
	// <Dockerfile>.dockerignore replaces .dockerignore: keep is copied,
	// secret is not. The heredoc's variables expand.
	want := "docker\nkeep\nhello x\n65534\n" // the id emulated in single-id mode
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e.fail(1, []string{"no Dockerfile at"}, "build", "-f", filepath.Join(ctx, "nope"), ctx)
}

func TestBuildContextArchiveSecretLabelAndDebug(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{
		"Dockerfile": "FROM busybox\nCOPY data.txt /data.txt\nRUN --mount=type=secret,id=tok cat /run/secrets/tok > /from-secret\n",
		"data.txt":   "data\n",
	})
	secret := filepath.Join(e.dir, "token")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	// A context given as a tar archive, and the same on standard input.
	tarball := filepath.Join(e.dir, "ctx.tar")
	if out, err := exec.Command("tar", "-C", ctx, "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	e.build("--secret", "id=tok,src="+secret, "--label", "team=infra", "-t", "arch", tarball)
	got := e.ok("run", "--rm", "arch", "sh", "-c", "cat /data.txt /from-secret; ls /run/secrets 2>/dev/null | wc -l").stdout
	if got != "data\ns3cret\n0\n" {
		t.Errorf("image built from an archive context holds %q", got)
	}
	if got := strings.TrimSpace(e.ok("inspect", "--format", "{{index .Config.Labels \"team\"}}", "arch").stdout); got != "infra" {
		t.Errorf("--label gave %q", got)
	}
	data, _ := os.ReadFile(tarball)
	if r := e.exec(data, "build", "--secret", "id=tok,src="+secret, "-q", "-t", "stdin", "-"); r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("a context archive on stdin: %v", r)
	}
	// A missing required secret is a clear error.
	noSecret := e.writeContext("ctx2", map[string]string{"Dockerfile": "FROM busybox\nRUN --mount=type=secret,id=x,required cat /run/secrets/x\n"})
	e.fail(1, []string{`secret "x" is required`}, "build", noSecret)
	// At debug level a miss says what changed.
	os.WriteFile(filepath.Join(ctx, "data.txt"), []byte("other\n"), 0o644)
	r := e.exec(nil, "--debug", "build", "--secret", "id=tok,src="+secret, ctx)
	if r.code != 0 || !strings.Contains(r.stderr, "cache miss: source files") {
		t.Errorf("the debug log does not say the sources changed: %v", r)
	}
}

func TestBuilderPrune(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{
		"Dockerfile": "FROM busybox\nRUN --mount=type=cache,target=/c echo x > /x && echo y >> /c/y\nCOPY f /f\n",
		"f":          "f\n",
	})
	e.build("-t", "p", ctx)
	// The entries hold layers the image uses: a plain prune keeps them.
	out := e.ok("builder", "prune", "-f").stdout
	if !strings.Contains(out, "Total:") {
		t.Errorf("builder prune printed %q", out)
	}
	if out := e.build("-t", "p", ctx).stdout; strings.Count(out, "CACHED") != 2 {
		t.Errorf("a plain prune removed cache the image uses:\n%s", out)
	}
	// Once the image is gone, its entries are unused and go.
	e.ok("rmi", "p")
	out = e.ok("builder", "prune", "-f").stdout
	if !strings.Contains(out, "Deleted build cache objects:") {
		t.Errorf("builder prune after rmi printed %q", out)
	}
	if out := e.build("-t", "p", ctx).stdout; strings.Contains(out, "CACHED") {
		t.Errorf("the rebuild after the prune used a cache:\n%s", out)
	}
	// -a removes every entry (not the image) and the cache mounts.
	e.ok("buildx", "prune", "-a", "-f")
	if out := e.build("-t", "p", ctx).stdout; strings.Contains(out, "CACHED") {
		t.Errorf("the rebuild after prune -a used a cache:\n%s", out)
	}
	if got := e.ok("run", "--rm", "p", "cat", "/x").stdout; got != "x\n" {
		t.Errorf("the image after the prunes holds %q", got)
	}
	e.fail(1, []string{"pass -f"}, "builder", "prune")
}

func TestBuildAddURLAndArchive(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	body := []byte("downloaded content\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/files/data.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT")
		w.Write(body)
	}))
	defer srv.Close()
	sum := sha256.Sum256(body)
	// A gzip tar of the context is extracted by ADD.
	var tgz bytes.Buffer
	gz := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "pkg/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "pkg/inside.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: 7})
	tw.Write([]byte("inside\n"))
	tw.Close()
	gz.Close()
	ctx := e.writeContext("ctx", map[string]string{
		"Dockerfile": fmt.Sprintf("FROM busybox\nADD --checksum=sha256:%x %s/files/data.txt /dl/\nADD pkg.tar.gz /opt/\n", sum, srv.URL),
	})
	os.WriteFile(filepath.Join(ctx, "pkg.tar.gz"), tgz.Bytes(), 0o644)
	e.build("-t", "add", ctx)
	got := e.ok("run", "--rm", "add", "sh", "-c", "cat /dl/data.txt /opt/pkg/inside.txt; stat -c %a /dl/data.txt").stdout
	if got != "downloaded content\ninside\n600\n" {
		t.Errorf("ADD gave %q", got)
	}
	bad := e.writeContext("bad", map[string]string{
		"Dockerfile": fmt.Sprintf("FROM busybox\nADD --checksum=sha256:%064x %s/files/data.txt /dl/\n", 0, srv.URL),
	})
	e.fail(1, []string{"Dockerfile:2:", "checksum"}, "build", bad)
	missing := e.writeContext("missing", map[string]string{"Dockerfile": "FROM busybox\nADD " + srv.URL + "/nope /x\n"})
	e.fail(1, []string{"404"}, "build", missing)
}

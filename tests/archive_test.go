package tests

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// archiveImages makes the images the archive tests save: busybox (one
// layer, imported) and localhost/app:1 and :2 (built on it: a second
// layer, a CMD, history), and returns their IDs by name.
func archiveImages(t *testing.T, e *env) map[string]string {
	t.Helper()
	e.importBusybox("busybox")
	ctx := e.writeContext("appctx", map[string]string{
		"Dockerfile": "FROM busybox\nRUN echo made by RUN > /hello\nENV GREETING=hi\nCMD [\"cat\", \"/hello\"]\n",
	})
	e.build("-q", "-t", "localhost/app:1", ctx)
	e.ok("tag", "localhost/app:1", "localhost/app:2")
	return map[string]string{
		"busybox:latest":  imageID(t, e, "busybox"),
		"localhost/app:1": imageID(t, e, "localhost/app:1"),
		"localhost/app:2": imageID(t, e, "localhost/app:2"),
	}
}

// tags lists the store's "repository:tag -> ID" lines, sorted.
func tags(t *testing.T, e *env) []string {
	t.Helper()
	out := lines(e.ok("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout)
	sort.Strings(out)
	return out
}

func history(t *testing.T, e *env, ref string) string {
	t.Helper()
	return e.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Comment}}|{{.Size}}", ref).stdout
}

// loadedLines is what load prints, sorted.
func loadedLines(r result) []string {
	out := lines(r.stdout)
	sort.Strings(out)
	return out
}

// tarNames lists the entries of a tar file.
func tarNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		names = append(names, h.Name)
	}
}

func readTarFile(t *testing.T, path, name string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s has no %s: %v", path, name, err)
		}
		if h.Name == name {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
}

// TestSaveLoadRoundTrip saves two images under three tags in one
// docker-archive and loads it into an empty store: same IDs, tags and
// history, each layer written once, and the loaded image runs.
func TestSaveLoadRoundTrip(t *testing.T) {
	e := newEnv(t)
	ids := archiveImages(t, e)
	file := filepath.Join(e.dir, "all.tar")
	e.ok("save", "-o", file, "busybox", "localhost/app:1", "localhost/app:2")

	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(readTarFile(t, file, "manifest.json"), &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(manifest) != 2 {
		t.Fatalf("manifest.json has %d images, want 2: %+v", len(manifest), manifest)
	}
	layerEntries := 0
	for _, n := range tarNames(t, file) {
		if strings.HasSuffix(n, ".tar") {
			layerEntries++
		}
	}
	if layerEntries != 2 {
		t.Errorf("archive holds %d layer files, want 2 (the shared base written once): %v", layerEntries, tarNames(t, file))
	}
	var repoTags []string
	for _, m := range manifest {
		repoTags = append(repoTags, m.RepoTags...)
	}
	sort.Strings(repoTags)
	if strings.Join(repoTags, " ") != "busybox:latest localhost/app:1 localhost/app:2" {
		t.Errorf("RepoTags %v", repoTags)
	}

	e2 := newEnv(t)
	r := e2.ok("load", "-i", file)
	if got := strings.Join(loadedLines(r), "|"); got != "Loaded image: busybox:latest|Loaded image: localhost/app:1|Loaded image: localhost/app:2" {
		t.Errorf("load printed %q", r.stdout)
	}
	if a, b := tags(t, e), tags(t, e2); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("images differ:\nsaved  %v\nloaded %v", a, b)
	}
	for ref, id := range ids {
		if got := imageID(t, e2, ref); got != id {
			t.Errorf("%s: loaded ID %s, saved %s", ref, got, id)
		}
	}
	if a, b := history(t, e, "localhost/app:1"), history(t, e2, "localhost/app:1"); a != b {
		t.Errorf("history differs:\nsaved:\n%s\nloaded:\n%s", a, b)
	}
	if got := e2.ok("run", "--rm", "localhost/app:1").stdout; got != "made by RUN\n" {
		t.Errorf("the loaded image ran and printed %q", got)
	}
	// Loading again stores nothing new, and takes back a tag that moved
	// to another image, saying so as Docker does.
	before := storeState(t, e2)
	e2.ok("tag", "busybox", "localhost/app:1")
	r = e2.ok("load", "-i", file)
	if want := "The image localhost/app:1 already exists, renaming the old one with ID " + ids["busybox:latest"] + " to empty string\nLoaded image: localhost/app:1\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("a second load printed %q, want it to contain %q", r.stdout, want)
	}
	if got := imageID(t, e2, "localhost/app:1"); got != ids["localhost/app:1"] {
		t.Errorf("localhost/app:1 is %s after the second load, want %s", got, ids["localhost/app:1"])
	}
	if after := storeState(t, e2); after != before {
		t.Errorf("a second load changed the store:\n%s\n%s", before, after)
	}
	if r := e2.exec(nil, "load", "x"); r.code != 125 || !strings.Contains(r.stderr, `"burrow load" accepts no arguments`) {
		t.Errorf("load with an argument: %v", r)
	}
	// Saving by ID writes the image untagged; loading it says its ID.
	e3 := newEnv(t)
	byID := filepath.Join(e.dir, "byid.tar")
	e.ok("save", "-o", byID, ids["busybox:latest"][:12])
	r = e3.ok("load", "-i", byID)
	if want := "Loaded image ID: " + ids["busybox:latest"] + "\n"; r.stdout != want {
		t.Errorf("load of an untagged image printed %q, want %q", r.stdout, want)
	}
}

// TestLoadStdinAndCompressed loads one archive from stdin, and gzip- and
// zstd-compressed, from a file and from stdin.
func TestLoadStdinAndCompressed(t *testing.T) {
	e := newEnv(t)
	id := e.importBusybox("busybox")
	file := filepath.Join(e.dir, "bb.tar")
	e.ok("save", "-o", file, "busybox")
	plain, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	inputs := map[string][]byte{"plain": plain, "gzip": gz.Bytes()}
	if _, err := exec.LookPath("zstd"); err == nil {
		cmd := exec.Command("zstd", "-q", "-c")
		cmd.Stdin = bytes.NewReader(plain)
		z, err := cmd.Output()
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		inputs["zstd"] = z
	}
	for _, name := range []string{"plain", "gzip", "zstd"} {
		for _, how := range []string{"stdin", "file"} {
			t.Run(name+"/"+how, func(t *testing.T) {
				data, ok := inputs[name]
				if !ok {
					t.Skip("zstd is not installed")
				}
				e2 := newEnv(t)
				var r result
				if how == "stdin" {
					r = e2.exec(data, "load")
				} else {
					p := filepath.Join(e2.dir, "in.archive")
					if err := os.WriteFile(p, data, 0o644); err != nil {
						t.Fatal(err)
					}
					r = e2.exec(nil, "load", "-i", p)
				}
				if r.code != 0 || r.stdout != "Loaded image: busybox:latest\n" {
					t.Fatalf("%v", r)
				}
				if got := imageID(t, e2, "busybox"); got != "sha256:"+id {
					t.Errorf("ID %s, want %s", got, id)
				}
			})
		}
	}
}

// TestSavePipedToLoad runs `burrow save IMAGE | burrow load` between two
// stores.
func TestSavePipedToLoad(t *testing.T) {
	e := newEnv(t)
	ids := archiveImages(t, e)
	e2 := newEnv(t)
	save := exec.Command(*burrowBin, "save", "localhost/app:2")
	save.Env, save.Dir = e.environ(), e.dir
	load := exec.Command(*burrowBin, "load")
	load.Env, load.Dir = e2.environ(), e2.dir
	pipe, err := save.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	load.Stdin = pipe
	var out, errb bytes.Buffer
	load.Stdout, load.Stderr, save.Stderr = &out, &errb, &errb
	if err := save.Start(); err != nil {
		t.Fatal(err)
	}
	if err := load.Run(); err != nil {
		t.Fatalf("load: %v\n%s", err, errb.String())
	}
	if err := save.Wait(); err != nil {
		t.Fatalf("save: %v\n%s", err, errb.String())
	}
	if out.String() != "Loaded image: localhost/app:2\n" {
		t.Errorf("load printed %q", out.String())
	}
	if got := imageID(t, e2, "localhost/app:2"); got != ids["localhost/app:2"] {
		t.Errorf("ID %s, want %s", got, ids["localhost/app:2"])
	}
}

// TestSaveOCIRoundTrip saves as oci-archive and oci-dir and loads both
// back; umoci and skopeo accept the layout.
func TestSaveOCIRoundTrip(t *testing.T) {
	e := newEnv(t)
	ids := archiveImages(t, e)
	for _, format := range []string{"oci-archive", "oci-dir"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(e.dir, format)
			e.ok("save", "--format", format, "-o", out, "busybox", "localhost/app:1")
			e2 := newEnv(t)
			r := e2.ok("load", "-i", out)
			if got := strings.Join(loadedLines(r), "|"); got != "Loaded image: busybox:latest|Loaded image: localhost/app:1" {
				t.Errorf("load printed %q", r.stdout)
			}
			for _, ref := range []string{"busybox:latest", "localhost/app:1"} {
				if got := imageID(t, e2, ref); got != ids[ref] {
					t.Errorf("%s: ID %s, want %s", ref, got, ids[ref])
				}
			}
			if a, b := history(t, e, "localhost/app:1"), history(t, e2, "localhost/app:1"); a != b {
				t.Errorf("history differs:\n%s\n%s", a, b)
			}
			if format != "oci-dir" {
				return
			}
			if got := e2.ok("run", "--rm", "localhost/app:1").stdout; got != "made by RUN\n" {
				t.Errorf("the loaded image printed %q", got)
			}
			// The tag is the ref.name, as Docker writes it; app:1 is the
			// only image tagged "1".
			if _, err := exec.LookPath("umoci"); err == nil {
				cmd := exec.Command("umoci", "stat", "--image", out+":1")
				if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "made by RUN") {
					t.Errorf("umoci stat --image %s:1: %v\n%s", out, err, b)
				}
			} else {
				t.Log("umoci is not installed: not checked")
			}
			if _, err := exec.LookPath("skopeo"); err == nil {
				b, err := skopeo(e, "inspect", "--config", "oci:"+out+":1")
				if err != nil || !strings.Contains(b, "GREETING=hi") {
					t.Errorf("skopeo inspect oci:%s:1: %v\n%s", out, err, b)
				}
			}
		})
	}
}

// skopeo runs skopeo with the test's HOME (its policy comes from
// /etc/containers/policy.json, or an insecureAcceptAnything one of ours).
func skopeo(e *env, args ...string) (string, error) {
	policy := filepath.Join(e.dir, "policy.json")
	if _, err := os.Stat(policy); err != nil {
		os.WriteFile(policy, []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`), 0o644)
	}
	cmd := exec.Command("skopeo", append([]string{"--policy", policy}, args...)...)
	cmd.Env = append(e.environ(), "TMPDIR="+e.dir)
	cmd.Dir = e.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestArchiveSkopeo: skopeo reads and converts burrow's docker-archive,
// and what skopeo writes loads into burrow and runs.
func TestArchiveSkopeo(t *testing.T) {
	if _, err := exec.LookPath("skopeo"); err != nil {
		t.Skip("skopeo is not installed")
	}
	e := newEnv(t)
	ids := archiveImages(t, e)
	file := filepath.Join(e.dir, "app.tar")
	e.ok("save", "-o", file, "localhost/app:1")
	out, err := skopeo(e, "inspect", "docker-archive:"+file)
	if err != nil {
		t.Fatalf("skopeo inspect docker-archive: %v\n%s", err, out)
	}
	var info struct {
		Layers []string
		Env    []string
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil || len(info.Layers) != 2 {
		t.Errorf("skopeo inspect: %v %+v\n%s", err, info, out)
	}
	cfg, err := skopeo(e, "inspect", "--raw", "--config", "docker-archive:"+file)
	if err != nil {
		t.Fatalf("skopeo inspect --config: %v\n%s", err, cfg)
	}
	// skopeo converts a docker-archive to an OCI layout (re-encoding the
	// config, so the ID changes); that layout, with gzip layers and the
	// bare tag "app" as ref.name, loads untagged and runs.
	layoutDir := filepath.Join(e.dir, "from-skopeo")
	if out, err := skopeo(e, "copy", "docker-archive:"+file, "oci:"+layoutDir+":app"); err != nil {
		t.Fatalf("skopeo copy docker-archive: oci:: %v\n%s", err, out)
	}
	e3 := newEnv(t)
	r := e3.ok("load", "-i", layoutDir)
	id, ok := strings.CutPrefix(strings.TrimSpace(r.stdout), "Loaded image ID: ")
	if !ok {
		t.Fatalf("load of skopeo's layout printed %q", r.stdout)
	}
	if got := e3.ok("run", "--rm", id).stdout; got != "made by RUN\n" {
		t.Errorf("the image from skopeo's layout printed %q", got)
	}
	// An archive skopeo writes from burrow's OCI layout keeps the config,
	// so it loads with the same ID, under the name skopeo gave it, and runs.
	ociDir := filepath.Join(e.dir, "oci-dir")
	e.ok("save", "--format", "oci-dir", "-o", ociDir, "localhost/app:1")
	back := filepath.Join(e.dir, "skopeo-archive.tar")
	if out, err := skopeo(e, "copy", "oci:"+ociDir+":1", "docker-archive:"+back+":localhost/fromskopeo:1"); err != nil {
		t.Fatalf("skopeo copy oci: docker-archive:: %v\n%s", err, out)
	}
	e2 := newEnv(t)
	r = e2.ok("load", "-i", back)
	if r.stdout != "Loaded image: localhost/fromskopeo:1\n" {
		t.Errorf("load printed %q", r.stdout)
	}
	if got := imageID(t, e2, "localhost/fromskopeo:1"); got != ids["localhost/app:1"] {
		t.Errorf("skopeo's archive loads as %s, want %s", got, ids["localhost/app:1"])
	}
	if got := e2.ok("run", "--rm", "localhost/fromskopeo:1").stdout; got != "made by RUN\n" {
		t.Errorf("the image from skopeo printed %q", got)
	}
}

// TestLoadBadInput: each bad input fails with one clear line and leaves
// the store as it was.
func TestLoadBadInput(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	good := filepath.Join(e.dir, "good.tar")
	e.ok("import", filepath.Join(fixtures, "tiny-1.tar"), "localhost/tiny")
	e.ok("save", "-o", good, "localhost/tiny", "busybox")
	badOCI := filepath.Join(e.dir, "bad-oci")
	e.ok("save", "--format", "oci-dir", "-o", badOCI, "localhost/tiny")
	e.ok("rmi", "localhost/tiny")
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(e.dir, "truncated.tar")
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	// The tiny layer's file holds another tarball of the same size: its
	// digest no longer matches the config's diff ID.
	tiny1, _ := os.ReadFile(filepath.Join(fixtures, "tiny-1.tar"))
	tiny2, _ := os.ReadFile(filepath.Join(fixtures, "tiny-2.tar"))
	mismatch := filepath.Join(e.dir, "mismatch.tar")
	rewriteTar(t, good, mismatch, func(body []byte) []byte {
		if bytes.Equal(body, tiny1) {
			return tiny2
		}
		return body
	})
	// In the OCI layout, the layer blob is replaced likewise: its name is
	// no longer its digest.
	blobs, _ := filepath.Glob(filepath.Join(badOCI, "blobs", "sha256", "*"))
	for _, b := range blobs {
		if data, _ := os.ReadFile(b); bytes.Equal(data, tiny1) {
			os.WriteFile(b, tiny2, 0o644)
		}
	}
	before := storeState(t, e)
	cases := []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"truncated", []string{"load", "-i", truncated}, 1, []string{"open " + truncated, "truncated"}},
		{"not an archive", []string{"load", "-i", filepath.Join(fixtures, "garbage.tar")}, 1, []string{"open " + filepath.Join(fixtures, "garbage.tar"), "hint: load takes what docker save or burrow save writes"}},
		{"a rootfs tarball", []string{"load", "-i", filepath.Join(fixtures, "busybox.tar")}, 1, []string{"not a docker or OCI image archive", "hint: load takes"}},
		{"digest mismatch", []string{"load", "-i", mismatch}, 1, []string{"digest", "config lists"}},
		{"OCI blob digest mismatch", []string{"load", "-i", badOCI}, 1, []string{"loading " + badOCI + ": blobs/sha256/", "has digest", "hint: the archive is corrupt"}},
		{"missing file", []string{"load", "-i", filepath.Join(e.dir, "nope.tar")}, 1, []string{"open " + filepath.Join(e.dir, "nope.tar"), "no such file"}},
		{"unknown image", []string{"save", "-o", filepath.Join(e.dir, "x.tar"), "nosuchimage"}, 1, []string{"No such image: nosuchimage"}},
		{"bad format", []string{"save", "--format", "zip", "-o", filepath.Join(e.dir, "x.tar"), "busybox"}, 125, []string{`unknown archive format "zip"`}},
		{"bad flag", []string{"load", "--nope"}, 125, []string{"nope"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			r := e.fail(c.code, c.wants, c.args...)
			if c.name != "bad flag" {
				if n := len(lines(r.stderr)); n != 1 {
					t.Errorf("want a one-line error, got %d lines: %v", n, r)
				}
			}
			if after := storeState(t, e); after != before {
				t.Errorf("store changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	e.t = t
	if _, err := os.Stat(filepath.Join(e.dir, "x.tar")); err == nil {
		t.Errorf("a failed save left x.tar behind")
	}
	// A truncated archive on stdin fails the same way.
	r := e.exec(data[:len(data)/2], "load")
	if r.code != 1 || !strings.Contains(r.stderr, "open stdin: the archive is truncated") {
		t.Errorf("truncated stdin: %v", r)
	}
}

// rewriteTar copies the tar src to dst, each regular file's content
// passed through edit.
func rewriteTar(t *testing.T, src, dst string, edit func([]byte) []byte) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	tr, tw := tar.NewReader(in), tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		body = edit(body)
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSaveRefusesTerminal: save without -o to a terminal refuses, as
// Docker does.
func TestSaveRefusesTerminal(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlocking a pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("naming a pseudo-terminal: %v", err)
	}
	pts, err := os.OpenFile(filepath.Join("/dev/pts", strconv.Itoa(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening a pseudo-terminal: %v", err)
	}
	defer pts.Close()
	cmd := exec.Command(*burrowBin, "save", "busybox")
	cmd.Env, cmd.Dir = e.environ(), e.dir
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = pts, &errb
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || strings.TrimSpace(errb.String()) != "Error: cowardly refusing to save to a terminal. Use the -o flag or redirect" {
		t.Errorf("save to a terminal: %v, stderr %q", err, errb.String())
	}
}

// TestLoadProgressOnTerminal: on a terminal, load draws a bar per layer,
// as docker load does; elsewhere it prints only what it loaded.
func TestLoadProgressOnTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux) is not installed")
	}
	e := newEnv(t)
	e.importBusybox("busybox")
	arch := filepath.Join(e.dir, "busybox.tar")
	e.ok("save", "-o", arch, "busybox")
	e.ok("rmi", "busybox")
	cmd := exec.Command("script", "-qec", *burrowBin+" load -i "+arch, "/dev/null")
	cmd.Env = e.environ()
	out, err := cmd.CombinedOutput()
	if err != nil || !regexp.MustCompile(`[0-9a-f]{12}: Loading layer +\[=+>?\s*\] `).Match(out) || !strings.Contains(string(out), "Loaded image: busybox:latest") {
		t.Errorf("load on a terminal: %v\n%q", err, out)
	}
	e.ok("rmi", "busybox")
	if r := e.ok("load", "-i", arch); r.stdout != "Loaded image: busybox:latest\n" {
		t.Errorf("load to a pipe printed %q", r.stdout)
	}
}

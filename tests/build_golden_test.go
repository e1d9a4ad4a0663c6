package tests

// Golden tests of `burrow build`, kept as buildkit keeps its parser's
// testfiles and testfiles-negative: one directory per case.
//
// testdata/build/<case>/ holds a Dockerfile, context/ (the build context;
// absent means empty), optional args (one build flag per line, such as
// "--build-arg A=1"), optional ops (operations applied to a copy of the
// context for what git cannot store, see applyOp), and the goldens:
//   - want.json: the image config fields a Docker user checks, the Author,
//     the history entries the build added, and the number of layers;
//   - want-files.txt: every path the build added, changed or removed
//     relative to the base image, from `burrow export` of both.
//
// testdata/build-negative/<case>/ holds a Dockerfile, optional context/,
// args and ops, and want-error.txt: the exit code on line 1, then
// substrings stderr must contain.
//
// The goldens describe what Docker (BuildKit) makes of each Dockerfile, not
// merely what burrow makes of it: -update rewrites want.json and
// want-files.txt from what burrow does now, and the diff must be reviewed
// against Docker's behaviour before it is kept: where burrow differs from
// BuildKit v0.34.2, the golden says what BuildKit does and the case fails
// until burrow is fixed (so -update also undoes those corrections; keep
// them). want-error.txt is never rewritten.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

var (
	update      = flag.Bool("update", false, "rewrite the build goldens (want.json, want-files.txt) from what burrow does now")
	testdataDir = flag.String("testdata", "", "directory of the golden test cases (default: ./testdata, else testdata next to this file)")
)

// goldenCases returns the directory testdata/<kind> and the names of the
// cases in it, sorted.
func goldenCases(t *testing.T, kind string) (string, []string) {
	t.Helper()
	root := *testdataDir
	if root == "" {
		root = "testdata"
		if _, err := os.Stat(root); err != nil {
			// The test binary may run from anywhere (tests/run.sh copies
			// it): fall back to the source directory it was built from.
			_, file, _, _ := runtime.Caller(0)
			root = filepath.Join(filepath.Dir(file), "testdata")
		}
	}
	dir := filepath.Join(root, kind)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading the golden cases: %v (hint: pass -testdata DIR)", err)
	}
	var names []string
	for _, d := range entries {
		if d.IsDir() {
			names = append(names, d.Name())
		}
	}
	if len(names) == 0 {
		t.Fatalf("no golden cases in %s", dir)
	}
	return dir, names
}

func TestBuildGolden(t *testing.T) {
	if *update && mode == "single" {
		t.Fatal("-update needs real owners: run it as a user with subordinate ids")
	}
	dir, names := goldenCases(t, "build")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runGolden(t, filepath.Join(dir, name))
		})
	}
}

func TestBuildGoldenNegative(t *testing.T) {
	dir, names := goldenCases(t, "build-negative")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runGoldenNegative(t, filepath.Join(dir, name))
		})
	}
}

func runGolden(t *testing.T, dir string) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx, stamps := goldenContext(t, e, dir)
	args := append([]string{"build"}, readArgs(t, dir)...)
	e.ok(append(args, "-t", "golden", ctx)...)

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<" and ">" of shell commands readable
	enc.SetIndent("", "  ")
	img := inspectGolden(t, e, "golden")
	fromBusybox := isFromBusybox(t, e, img)
	if err := enc.Encode(describeImage(t, e, "golden", img, fromBusybox)); err != nil {
		t.Fatal(err)
	}
	gotJSON := buf.Bytes()
	gotFiles := strings.Join(fileChanges(t, e, "golden", fromBusybox, stamps), "")

	if *update {
		for name, data := range map[string][]byte{"want.json": gotJSON, "want-files.txt": []byte(gotFiles)} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	wantJSON, err := os.ReadFile(filepath.Join(dir, "want.json"))
	if err != nil {
		t.Fatalf("%v (hint: run with -update and review the result)", err)
	}
	if d := lineDiff(string(wantJSON), string(gotJSON)); d != "" {
		t.Errorf("image config differs from want.json (- want, + got):\n%s", d)
	}
	wantFiles, err := os.ReadFile(filepath.Join(dir, "want-files.txt"))
	if err != nil {
		t.Fatalf("%v (hint: run with -update and review the result)", err)
	}
	w, g := string(wantFiles), gotFiles
	if mode == "single" {
		// One id is mapped: every file is the user's, root in the image.
		w, g = ownersToRoot(w), ownersToRoot(g)
	}
	if d := lineDiff(w, g); d != "" {
		t.Errorf("image files differ from want-files.txt (- want, + got):\n%s", d)
	}
}

func runGoldenNegative(t *testing.T, dir string) {
	e := newEnv(t)
	e.importBusybox("busybox")
	data, err := os.ReadFile(filepath.Join(dir, "want-error.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := lines(string(data))
	if len(want) == 0 {
		t.Fatal("want-error.txt is empty: line 1 is the exit code")
	}
	code, err := strconv.Atoi(strings.TrimSpace(want[0]))
	if err != nil {
		t.Fatalf("want-error.txt line 1: %v", err)
	}
	ctx, _ := goldenContext(t, e, dir)
	before := e.ok("images", "-q", "-a").stdout
	args := append([]string{"build"}, readArgs(t, dir)...)
	e.fail(code, want[1:], append(args, "-t", "golden", ctx)...)
	if after := e.ok("images", "-q", "-a").stdout; after != before {
		t.Errorf("a failed build changed the images from\n%s\nto\n%s", before, after)
	}
}

// readArgs reads the case's args file: one flag per line, its value after
// the first space.
func readArgs(t *testing.T, dir string) []string {
	data, err := os.ReadFile(filepath.Join(dir, "args"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, l := range lines(string(data)) {
		name, value, ok := strings.Cut(strings.TrimSpace(l), " ")
		args = append(args, name)
		if ok {
			args = append(args, value)
		}
	}
	return args
}

// goldenContext copies the case's Dockerfile and context/ into a fresh
// context directory, with normalized modes (git keeps only the x bit, and
// the checkout's umask varies), and applies the case's ops. It returns the
// directory and the mtimes the ops set.
func goldenContext(t *testing.T, e *env, dir string) (string, map[int64]bool) {
	t.Helper()
	ctx := filepath.Join(e.dir, "ctx")
	if err := os.MkdirAll(ctx, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "context")
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if os.IsNotExist(err) && p == src {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(ctx, rel)
		switch {
		case fi.IsDir():
			return os.MkdirAll(dst, 0o755)
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err == nil {
				err = os.Symlink(target, dst)
			}
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil {
			err = os.WriteFile(dst, data, 0o644)
		}
		if err == nil && fi.Mode()&0o111 != 0 {
			err = os.Chmod(dst, 0o755)
		}
		return err
	})
	if err != nil {
		t.Fatalf("copying the context: %v", err)
	}
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), df, 0o644); err != nil {
		t.Fatal(err)
	}
	stamps := map[int64]bool{}
	ops, err := os.ReadFile(filepath.Join(dir, "ops"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, op := range lines(string(ops)) {
		if err := applyOp(ctx, strings.Fields(op), stamps); err != nil {
			t.Fatalf("ops %q: %v", op, err)
		}
	}
	return ctx, stamps
}

// applyOp applies one line of ops in the context directory ctx:
//
//	symlink TARGET NAME     hardlink EXISTING NAME   chmod 0700 NAME
//	mkdir NAME              mtime 1700000000 NAME
//	targz NAME DIR          tarzst NAME DIR          (tar of DIR's content,
//	                                                  see writeDirTar)
func applyOp(ctx string, op []string, stamps map[int64]bool) error {
	if len(op) == 0 {
		return nil
	}
	at := func(i int) string {
		if i >= len(op) {
			return ""
		}
		return filepath.Join(ctx, op[i])
	}
	if want := map[string]int{"symlink": 3, "hardlink": 3, "chmod": 3, "mkdir": 2, "mtime": 3, "targz": 3, "tarzst": 3}[op[0]]; want == 0 {
		return fmt.Errorf("unknown operation %q", op[0])
	} else if len(op) != want {
		return fmt.Errorf("%s takes %d arguments", op[0], want-1)
	}
	switch op[0] {
	case "symlink":
		return os.Symlink(op[1], at(2))
	case "hardlink":
		return os.Link(at(1), at(2))
	case "chmod":
		m, err := strconv.ParseUint(op[1], 8, 32)
		if err != nil {
			return err
		}
		// syscall's chmod takes the setuid, setgid and sticky bits as
		// written in octal, as chmod(1) does.
		return syscall.Chmod(at(2), uint32(m))
	case "mkdir":
		return os.MkdirAll(at(1), 0o755)
	case "mtime":
		sec, err := strconv.ParseInt(op[1], 10, 64)
		if err != nil {
			return err
		}
		stamps[sec] = true
		tm := time.Unix(sec, 0)
		return os.Chtimes(at(2), tm, tm)
	}
	f, err := os.Create(at(1))
	if err != nil {
		return err
	}
	defer f.Close()
	var w io.WriteCloser
	if op[0] == "targz" {
		w = gzip.NewWriter(f)
	} else if w, err = zstd.NewWriter(f); err != nil {
		return err
	}
	if err := writeDirTar(w, at(2)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}

// archiveTime is the mtime of every entry of the archives ops make, so that
// the archives are the same bytes on every run.
var archiveTime = time.Unix(1000000000, 0)

// writeDirTar writes the content of dir (not dir itself) as a tar stream,
// owned by 0:0, in name order, with mtimes archiveTime.
func writeDirTar(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Name = filepath.ToSlash(rel)
		if fi.IsDir() {
			h.Name += "/"
		}
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		h.ModTime, h.AccessTime, h.ChangeTime = archiveTime, time.Time{}, time.Time{}
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// goldenImage is want.json.
type goldenImage struct {
	Config goldenConfig `json:"config"`
	Author string       `json:"author,omitempty"`
	// History lists the entries the build added (not the base image's).
	History []goldenHistory `json:"history"`
	// Layers is the number of layers of the image, the base's included.
	Layers int `json:"layers"`
}

// goldenConfig holds the fields of the image config a Docker user checks,
// named as `docker inspect` names them.
type goldenConfig struct {
	Env          []string            `json:"Env,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	User         string              `json:"User,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Volumes      map[string]struct{} `json:"Volumes,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	Healthcheck  *struct {
		Test          []string `json:"Test,omitempty"`
		Interval      int64    `json:"Interval,omitempty"`
		Timeout       int64    `json:"Timeout,omitempty"`
		StartPeriod   int64    `json:"StartPeriod,omitempty"`
		StartInterval int64    `json:"StartInterval,omitempty"`
		Retries       int      `json:"Retries,omitempty"`
	} `json:"Healthcheck,omitempty"`
	Shell   []string `json:"Shell,omitempty"`
	OnBuild []string `json:"OnBuild,omitempty"`
}

type goldenHistory struct {
	CreatedBy  string `json:"created_by"`
	EmptyLayer bool   `json:"empty_layer"`
}

type inspected struct {
	Author string
	Config goldenConfig
	RootFS struct{ Layers []string }
}

func inspectGolden(t *testing.T, e *env, ref string) inspected {
	t.Helper()
	var docs []inspected
	if err := jsonUnmarshal(e.ok("inspect", "--type", "image", ref).stdout, &docs); err != nil || len(docs) != 1 {
		t.Fatalf("inspect %s: %v (%d documents)", ref, err, len(docs))
	}
	return docs[0]
}

// historyGolden lists ref's history, oldest first. `history` shows no
// empty_layer flag: an entry is an empty layer when its size is 0, as a
// real layer's tar stream is never empty.
func historyGolden(t *testing.T, e *env, ref string) []goldenHistory {
	t.Helper()
	var out []goldenHistory
	for _, l := range lines(e.ok("history", "--no-trunc", "--human=false", "--format", "{{json .}}", ref).stdout) {
		var row struct{ CreatedBy, Size string }
		if err := jsonUnmarshal(l, &row); err != nil {
			t.Fatalf("history line %q: %v", l, err)
		}
		// BuildKit marks the entries of steps it ran with " # buildkit", as
		// it names itself in the comment; burrow names itself in the
		// comment only. The goldens leave the marker out.
		by := strings.TrimSuffix(row.CreatedBy, " # buildkit")
		out = append([]goldenHistory{{CreatedBy: by, EmptyLayer: row.Size == "0"}}, out...)
	}
	return out
}

// isFromBusybox reports whether img's first layer is the busybox fixture's:
// such images are compared with busybox, others (FROM scratch) with nothing.
func isFromBusybox(t *testing.T, e *env, img inspected) bool {
	base := inspectGolden(t, e, "busybox")
	return len(img.RootFS.Layers) > 0 && img.RootFS.Layers[0] == base.RootFS.Layers[0]
}

// describeImage is want.json for ref, inspected as img.
func describeImage(t *testing.T, e *env, ref string, img inspected, fromBusybox bool) goldenImage {
	t.Helper()
	hist := historyGolden(t, e, ref)
	if fromBusybox {
		n := len(historyGolden(t, e, "busybox"))
		if n > len(hist) {
			t.Fatalf("the image has %d history entries, its base %d", len(hist), n)
		}
		hist = hist[n:]
	}
	if hist == nil {
		hist = []goldenHistory{}
	}
	return goldenImage{Config: img.Config, Author: img.Author, History: hist, Layers: len(img.RootFS.Layers)}
}

// fsEntry is one path of an exported root filesystem.
type fsEntry struct {
	typ      string
	mode     int64
	uid, gid int
	size     int64
	link     string
	sum      [32]byte
	mtime    int64
}

// exportFiles creates a container of ref and reads its export.
func exportFiles(t *testing.T, e *env, ref string) map[string]fsEntry {
	t.Helper()
	id := strings.TrimSpace(e.ok("create", ref, "true").stdout)
	data := e.ok("export", id).stdout
	e.ok("rm", id)
	files := map[string]fsEntry{}
	tr := tar.NewReader(strings.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("reading the export of %s: %v", ref, err)
		}
		f := fsEntry{typ: tarTypes[h.Typeflag], mode: h.Mode & 0o7777, uid: h.Uid, gid: h.Gid, mtime: h.ModTime.Unix()}
		switch h.Typeflag {
		case tar.TypeReg:
			body, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			f.size, f.sum = h.Size, sha256.Sum256(body)
		case tar.TypeSymlink:
			f.link = h.Linkname
		case tar.TypeLink:
			f.link = tarPath(h.Linkname)
		}
		if f.typ == "" {
			f.typ = fmt.Sprintf("type-%c(%d,%d)", h.Typeflag, h.Devmajor, h.Devminor)
		}
		files[tarPath(h.Name)] = f
	}
}

// tarTypes names the entry types of want-files.txt.
var tarTypes = map[byte]string{tar.TypeReg: "file", tar.TypeDir: "dir", tar.TypeSymlink: "symlink", tar.TypeLink: "hardlink", tar.TypeFifo: "fifo"}

func tarPath(name string) string {
	return "/" + strings.Trim(strings.TrimPrefix(name, "./"), "/")
}

// fileChanges lists, one line each and sorted by path, what ref's files
// add, change or delete relative to its base image (busybox or nothing).
// mtimes show only where they are one of stamps (those the case's ops set).
func fileChanges(t *testing.T, e *env, ref string, fromBusybox bool, stamps map[int64]bool) []string {
	t.Helper()
	base := map[string]fsEntry{}
	if fromBusybox {
		base = exportFiles(t, e, "busybox")
	}
	got := exportFiles(t, e, ref)
	var out []string
	for p, f := range got {
		if b, ok := base[p]; ok {
			b.mtime = f.mtime // mtimes do not make a change
			if b == f {
				continue
			}
		}
		size := "-"
		if f.typ == "file" {
			size = strconv.FormatInt(f.size, 10)
		}
		l := fmt.Sprintf("%s %s %04o %d:%d %s", p, f.typ, f.mode, f.uid, f.gid, size)
		if f.link != "" {
			l += " -> " + f.link
		}
		if stamps[f.mtime] {
			l += fmt.Sprintf(" mtime=%d", f.mtime)
		}
		out = append(out, l+"\n")
	}
	for p := range base {
		if _, ok := got[p]; !ok {
			out = append(out, p+" deleted\n")
		}
	}
	sort.Strings(out)
	return out
}

// ownersToRoot replaces the UID:GID field of every listing line with 0:0.
func ownersToRoot(listing string) string {
	ls := strings.Split(listing, "\n")
	for i, l := range ls {
		if f := strings.Split(l, " "); len(f) >= 4 {
			f[3] = "0:0"
			ls[i] = strings.Join(f, " ")
		}
	}
	return strings.Join(ls, "\n")
}

// lineDiff returns a line diff of want and got ("" when equal): common
// lines prefixed "  ", want's "- " and got's "+ ".
func lineDiff(want, got string) string {
	if want == got {
		return ""
	}
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var d strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			d.WriteString("  " + a[i] + "\n")
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			d.WriteString("- " + a[i] + "\n")
			i++
		default:
			d.WriteString("+ " + b[j] + "\n")
			j++
		}
	}
	return d.String()
}

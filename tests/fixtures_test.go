package tests

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// makeFixtures writes the tarballs the tests import:
//   - busybox.tar: a busybox rootfs from the host's busybox-static, as the
//     demo makes it;
//   - owners.tar: a tiny rootfs whose files belong to uid 1000 and gid 50;
//   - tiny-N.tar: one-file rootfs tarballs with different content;
//   - compressed and broken variants.
func makeFixtures(dir string) error {
	bb, err := busyboxPath()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		return err
	}
	out, err := exec.Command(bb, "--list").Output()
	if err != nil {
		return fmt.Errorf("listing busybox applets: %w", err)
	}
	entries := []tarEntry{
		{name: "bin/", mode: 0o755, dir: true}, {name: "etc/", mode: 0o755, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true}, {name: "root/", mode: 0o700, dir: true},
		{name: "bin/busybox", mode: 0o755, body: data},
		{name: "etc/passwd", mode: 0o644, body: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")},
		{name: "etc/group", mode: 0o644, body: []byte("root:x:0:\nnobody:x:65534:\n")},
	}
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" {
			entries = append(entries, tarEntry{name: "bin/" + a, link: "busybox"})
		}
	}
	if err := writeTar(filepath.Join(dir, "busybox.tar"), entries); err != nil {
		return err
	}
	owners := []tarEntry{
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/user/", mode: 0o750, dir: true, uid: 1000, gid: 50},
		{name: "home/user/file", mode: 0o640, uid: 1000, gid: 50, body: []byte("owned by 1000:50\n")},
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/shadow", mode: 0o640, gid: 42, body: []byte("root:*::0:::::\n")},
	}
	if err := writeTar(filepath.Join(dir, "owners.tar"), owners); err != nil {
		return err
	}
	for i := 0; i < 20; i++ {
		e := []tarEntry{{name: "hello", mode: 0o644, body: []byte(fmt.Sprintf("tiny image %d\n", i))}}
		if err := writeTar(filepath.Join(dir, fmt.Sprintf("tiny-%d.tar", i)), e); err != nil {
			return err
		}
	}
	// Compressed variants of busybox.tar, and broken inputs.
	plain, err := os.ReadFile(filepath.Join(dir, "busybox.tar"))
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "busybox.tar.gz"), gz.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "truncated.tar.gz"), gz.Bytes()[:gz.Len()/2], 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "truncated.tar"), plain[:len(plain)/2+100], 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "garbage.tar"), bytes.Repeat([]byte("this is not a tarball\n"), 100), 0o644); err != nil {
		return err
	}
	for _, c := range []struct{ tool, ext string }{{"xz", "xz"}, {"zstd", "zst"}, {"bzip2", "bz2"}} {
		if _, err := exec.LookPath(c.tool); err != nil {
			continue
		}
		cmd := exec.Command(c.tool, "-c", "-q")
		cmd.Stdin = bytes.NewReader(plain)
		z, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("compressing with %s: %w", c.tool, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "busybox.tar."+c.ext), z, 0o644); err != nil {
			return err
		}
	}
	// A directory rootfs.
	root := filepath.Join(dir, "rootdir")
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, "etc", "greeting"), []byte("from a directory\n"), 0o644)
}

func busyboxPath() (string, error) {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("busybox not found (hint: apt-get install busybox-static)")
}

type tarEntry struct {
	name     string
	mode     int64
	dir      bool
	link     string // symlink target
	body     []byte
	uid, gid int
}

func writeTar(path string, entries []tarEntry) error {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: mtime, Format: tar.FormatPAX}
		switch {
		case e.dir:
			h.Typeflag = tar.TypeDir
		case e.link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, e.link, 0o777
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if len(e.body) > 0 {
			if _, err := tw.Write(e.body); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

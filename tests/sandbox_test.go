package tests

import (
	"archive/tar"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sandboxProbe prints what a container's process sees of its sandbox:
// /dev, its mounts (without their sources, which name the store),
// identity, capabilities, seccomp, limits, and what it may not write.
const sandboxProbe = `
ls -A /dev | tr '\n' ' '; echo
awk '{for (i = 7; i <= NF; i++) if ($i == "-") print $5, $6, $(i+1), $(i+3)}' /proc/self/mountinfo | sort
grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)' /proc/self/status
ulimit -a
wc -c < /proc/keys | sed 's/^[1-9].*/some/'
ls -A /proc/acpi 2>&1 | wc -l
echo x > /proc/sys/kernel/domainname 2>/dev/null && echo proc-sys-writable
touch /sys/x 2>/dev/null && echo sys-writable
mount -t tmpfs t /mnt 2>/dev/null && echo mount-allowed
unshare -m true 2>/dev/null && echo unshare-allowed
hostname; pwd; cat /etc/hostname; grep -c localhost /etc/hosts
`

// TestSandbox: the container's init that burrow runs itself (the C init)
// builds the same sandbox as libcontainer's (BURROW_INIT=libcontainer),
// default and with the options that change it; the open-files limit is
// the caller's (not the one Go raises for itself); and a mount point that
// is a symbolic link in the image is resolved inside the root filesystem.
func TestSandbox(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	cases := [][]string{
		{},
		{"-u", "nobody", "-w", "/tmp/new/dir"},
		{"--read-only", "--cap-drop", "ALL", "--cap-add", "NET_RAW", "--security-opt", "no-new-privileges"},
		{"--network", "none", "--ulimit", "nproc=100:200", "--hostname", "probe"},
		{"--cap-add", "SYS_ADMIN", "--tmpfs", "/scratch", "-v", e.dir + ":/host:ro"},
	}
	if mode != "host" {
		// (Real root's --privileged fails here in both: the machine's
		// bounding set lacks capabilities.)
		cases = append(cases, []string{"--privileged"})
	}
	for _, c := range cases {
		args := append(append([]string{"run", "--rm"}, c...), "busybox", "sh", "-c", sandboxProbe)
		fast := e.ok(args...).stdout
		e.extraEnv = []string{"BURROW_INIT=libcontainer"}
		slow := e.ok(args...).stdout
		e.extraEnv = nil
		if norm(fast) != norm(slow) {
			t.Errorf("run %s: the sandboxes differ:\n--- burrow's init:\n%s\n--- libcontainer's:\n%s", strings.Join(c, " "), fast, slow)
		}
	}

	// The limit a program started from here gets (Go raises its own
	// soft limit and lowers it again for the programs it starts).
	want := must(exec.Command("sh", "-c", "ulimit -n").Output())
	if got := e.ok("run", "--rm", "busybox", "sh", "-c", "ulimit -n").stdout; got != string(want) {
		t.Errorf("open files in the container: %q, want the caller's %q", got, want)
	}

	// An image whose /etc/hosts is a link out of its root filesystem.
	escape := filepath.Join(e.dir, "escape")
	linkedImage(t, filepath.Join(e.dir, "linked.tar"), escape)
	e.ok("import", filepath.Join(e.dir, "linked.tar"), "linked")
	if out := e.ok("run", "--rm", "linked", "grep", "-c", "localhost", "/etc/hosts").stdout; out == "0\n" {
		t.Errorf("/etc/hosts through the link: %q", out)
	}
	if _, err := os.Lstat(escape); err == nil {
		t.Errorf("a mount point in the image escaped its root filesystem to %s", escape)
	}
}

// norm drops what differs between two runs of a container: its generated
// hostname and IDs.
func norm(s string) string {
	s = regexp.MustCompile(`[0-9a-f]{64}`).ReplaceAllString(s, "ID")
	return regexp.MustCompile(`[0-9a-f]{12}`).ReplaceAllString(s, "HOST")
}

// linkedImage writes the busybox fixture with /etc/hosts as an absolute
// link to target.
func linkedImage(t *testing.T, out, target string) {
	t.Helper()
	in, err := os.Open(filepath.Join(fixtures, "busybox.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, tw := tar.NewReader(in), tar.NewWriter(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "./") == "etc/hosts" {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "etc/hosts", Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

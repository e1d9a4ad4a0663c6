package tests

// A container's processes see the identities they ask for, in every mode:
// with subordinate ids and as root the kernel keeps them; without (single-
// id mode) a supervisor emulates them through seccomp user notification
// (issue 15). Either way a program observes the same answers.

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIdentityRunDrop: a process that drops its privileges (su, setpriv)
// sees the ids it dropped to, and its children inherit them.
func TestIdentityRunDrop(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	if got := e.ok("run", "--rm", "busybox", "su", "-s", "/bin/sh", "nobody", "-c", "id -u; id -g").stdout; got != "65534\n65534\n" {
		t.Errorf("su nobody: got %q, want 65534 twice", got)
	}
	// A chain: su to nobody, whose shell sees every id (getresuid and
	// getgroups through setpriv -d) and cannot su back to root.
	got := e.ok("run", "--rm", "busybox", "su", "-s", "/bin/sh", "nobody", "-c",
		"setpriv -d | head -5; su -s /bin/sh root -c 'id -u' </dev/null >/dev/null 2>&1 || echo refused").stdout
	if want := "uid: 65534\neuid: 65534\ngid: 65534\negid: 65534\nSupplementary groups: 65534\nrefused\n"; got != want {
		t.Errorf("su chain: got %q, want %q", got, want)
	}
}

// TestIdentityUser: -u and exec -u start the process as the user asked
// for, and a process started as a user cannot become root.
func TestIdentityUser(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	if got := e.ok("run", "--rm", "-u", "1000:1000", "busybox", "id").stdout; !strings.HasPrefix(got, "uid=1000 gid=1000") {
		t.Errorf("run -u 1000:1000: got %q, want uid=1000 gid=1000", got)
	}
	if got := e.ok("run", "--rm", "-u", "nobody", "busybox", "sh", "-c", "id -u; id -g; su -s /bin/sh root -c true </dev/null >/dev/null 2>&1 || echo refused").stdout; got != "65534\n65534\nrefused\n" {
		t.Errorf("run -u nobody: got %q", got)
	}
	e.rmOnCleanup("idc")
	e.ok("run", "-d", "--name", "idc", "busybox", "sleep", "100")
	if got := e.ok("exec", "-u", "1000", "idc", "id", "-u").stdout; got != "1000\n" {
		t.Errorf("exec -u 1000: got %q, want 1000", got)
	}
	if got := e.ok("exec", "-u", "nobody", "idc", "sh", "-c", "id -u; id -g").stdout; got != "65534\n65534\n" {
		t.Errorf("exec -u nobody: got %q", got)
	}
	if got := e.ok("exec", "idc", "id", "-u").stdout; got != "0\n" {
		t.Errorf("exec: got %q, want 0", got)
	}
	if got := e.ok("exec", "idc", "su", "-s", "/bin/sh", "nobody", "-c", "id -u").stdout; got != "65534\n" {
		t.Errorf("exec su nobody: got %q, want 65534", got)
	}
	e.ok("rm", "-f", "idc")
	// A container started with a terminal (libcontainer's init).
	if got := e.ok("run", "--rm", "-t", "-u", "1000:1000", "busybox", "id", "-u").stdout; strings.TrimSpace(got) != "1000" {
		t.Errorf("run -t -u 1000:1000: got %q, want 1000", got)
	}
}

// TestIdentityBuild: a build's RUN step that drops privileges sees its
// new ids, and USER applies to the steps after it.
func TestIdentityBuild(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	ctx := e.writeContext("ctx", map[string]string{
		"Dockerfile": `FROM busybox
RUN su -s /bin/sh nobody -c 'id -u > /tmp/u; id -g >> /tmp/u'
USER 1000:1000
RUN id -u > /tmp/user
USER root
`,
	})
	e.build("-t", "drop", ctx)
	if got := e.ok("run", "--rm", "drop", "cat", "/tmp/u", "/tmp/user").stdout; got != "65534\n65534\n1000\n" {
		t.Errorf("build: got %q, want 65534 65534 1000", got)
	}
}

// TestIdentityStop: a container whose processes are dropping their ids
// can be stopped and removed, also once its supervisor is gone.
func TestIdentityStop(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	e.rmOnCleanup("loop")
	e.ok("run", "-d", "--name", "loop", "busybox", "sh", "-c", "while :; do su -s /bin/sh nobody -c 'id -u' >/dev/null; done")
	time.Sleep(300 * time.Millisecond)
	e.ok("stop", "-t", "1", "loop")
	e.ok("rm", "loop")

	// With its supervisor (the monitor) killed, the container's faked
	// calls do not hang it: it is removed as any other.
	// (Bounded: a container whose monitor was killed outlives rm -f in
	// every mode today.)
	e.ok("run", "-d", "--name", "loop", "busybox", "sh", "-c", "end=$(($(date +%s)+15)); while [ $(date +%s) -lt $end ]; do su -s /bin/sh nobody -c 'id -u' >/dev/null 2>&1; done")
	var monitor int
	waitFor(t, func() bool {
		monitor = monitorPid(t, e, "loop")
		return monitor > 0
	})
	time.Sleep(200 * time.Millisecond)
	syscall.Kill(monitor, syscall.SIGKILL)
	time.Sleep(300 * time.Millisecond)
	e.ok("rm", "-f", "loop")
	if out := e.ok("ps", "-a", "-q").stdout; out != "" {
		t.Errorf("ps -a after rm -f: %q", out)
	}
}

// TestIdentityInfo: info says in single-id mode that identities are
// emulated, and nothing in the other modes.
func TestIdentityInfo(t *testing.T) {
	e := newEnv(t)
	got := strings.TrimSpace(e.ok("info", "--format", "{{.UserNS.Identities}}").stdout)
	if mode == "single" && !strings.HasPrefix(got, "emulated: ") || mode != "single" && got != "" {
		t.Errorf("info in %s mode: Identities %q", mode, got)
	}
	if out := e.ok("info").stdout; mode == "single" && !strings.Contains(out, "\n Identities:  emulated: ") {
		t.Errorf("info in single mode does not say identities are emulated:\n%s", out)
	}
}

package tests

// What confines a container, seen from inside it, in every way a
// container's process can start: in the foreground, detached, and by exec.
// However a container's init is made, these must hold (Docker's defaults).

import (
	"strings"
	"testing"
	"time"
)

// confinement prints what the tests compare: capabilities, seccomp,
// no_new_privs, the read-only and masked parts of /proc and /sys, what a
// filtered system call and a mount do, /dev, the ids and the mount points.
const confinement = `grep -E '^(Cap|Seccomp|NoNewPrivs)' /proc/self/status
echo firmware=$(ls -A /sys/firmware | wc -l) timer_list=$(wc -c < /proc/timer_list) keys=$(wc -c < /proc/keys)
echo ro=$(grep -E ' /proc/(sys|bus|fs|irq) ' /proc/self/mountinfo | awk '{split($6, o, ","); print $5 ":" o[1]}' | sort | tr '\n' ' ')
unshare -U true 2>&1 | grep -o 'Operation not permitted'
mount -t tmpfs none /mnt 2>&1 | grep -o 'permission denied'
echo dev=$(ls /dev | tr '\n' ' ')
echo uid=$(id -u) gid=$(id -g) umask=$(umask) cwd=$(pwd)
echo mounts=$(awk '{print $5}' /proc/self/mountinfo | sort | tr '\n' ' ')
`

// defaultConfinement is what confinement prints for a default container
// run as root (its capabilities are Docker's 14 defaults, 0xa80425fb).
const defaultConfinement = `CapInh:	0000000000000000
CapPrm:	00000000a80425fb
CapEff:	00000000a80425fb
CapBnd:	00000000a80425fb
CapAmb:	0000000000000000
NoNewPrivs:	0
Seccomp:	2
Seccomp_filters:	1
firmware=0 timer_list=0 keys=0
ro=/proc/bus:ro /proc/fs:ro /proc/irq:ro /proc/sys:ro
Operation not permitted
permission denied
dev=fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero
uid=0 gid=0 umask=0022 cwd=/
mounts=/ /dev /dev/full /dev/mqueue /dev/null /dev/pts /dev/random /dev/shm /dev/tty /dev/urandom /dev/zero /etc/hostname /etc/hosts /etc/resolv.conf /proc /proc/acpi /proc/bus /proc/fs /proc/interrupts /proc/irq /proc/keys /proc/sys /proc/timer_list /sys /sys/firmware
`

// TestContainerConfinement: a default container is confined the same
// way run in the foreground (with and without --rm), detached, and in a
// process exec'd into it; --user drops the capabilities but not the
// bounding set; --privileged, --cap-add/--cap-drop, seccomp=unconfined
// and no-new-privileges change what they say and nothing else.
func TestContainerConfinement(t *testing.T) {
	e := newEnv(t)
	e.importBusybox("busybox")
	want := defaultConfinement
	if mode == "host" {
		// Real root makes the device nodes rather than bind-mounting them.
		want = strings.Replace(want, "/dev/full /dev/mqueue /dev/null /dev/pts /dev/random /dev/shm /dev/tty /dev/urandom /dev/zero ",
			"/dev/mqueue /dev/pts /dev/shm ", 1)
	}
	defaultConfinement := want
	check := func(how, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: the container is confined differently:\n%s", how, lineDiff(want, got))
		}
	}
	check("run --rm", e.ok("run", "--rm", "busybox", "sh", "-c", confinement).stdout, defaultConfinement)
	check("run", e.ok("run", "--name", "fg", "busybox", "sh", "-c", confinement).stdout, defaultConfinement)
	e.ok("rm", "fg")

	e.rmOnCleanup("bg")
	e.ok("run", "-d", "--name", "bg", "busybox", "sh", "-c", confinement+"sleep 100")
	var logs string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if logs = e.ok("logs", "bg").stdout; strings.HasPrefix(logs, "mounts=") || strings.Contains(logs, "\nmounts=") {
			break
		}
	}
	check("run -d", logs, defaultConfinement)
	check("exec", e.ok("exec", "bg", "sh", "-c", confinement).stdout, defaultConfinement)
	e.ok("rm", "-f", "bg")

	// Without subordinate ids every process is root in the namespace and
	// a supervisor emulates the ids the identity calls report (issue 15):
	// --user shows uid 1000 there too, but the capabilities the kernel
	// shows stay root's, and seccomp=unconfined keeps the filter.
	single := mode == "single"
	user := strings.NewReplacer("CapPrm:\t00000000a80425fb", "CapPrm:\t0000000000000000",
		"CapEff:\t00000000a80425fb", "CapEff:\t0000000000000000", "uid=0 gid=0", "uid=1000 gid=1000").Replace(defaultConfinement)
	if single {
		user = strings.Replace(defaultConfinement, "uid=0 gid=0", "uid=1000 gid=1000", 1)
	}
	check("run --user 1000:1000", e.ok("run", "--rm", "--user", "1000:1000", "busybox", "sh", "-c", confinement).stdout, user)

	status := "grep -E '^(Cap|Seccomp|NoNewPrivs)' /proc/self/status"
	head := defaultConfinement[:strings.Index(defaultConfinement, "firmware=")]
	unconfined := strings.Replace(head, "Seccomp:\t2\nSeccomp_filters:\t1", "Seccomp:\t0\nSeccomp_filters:\t0", 1)
	if single {
		unconfined = head
	}
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--cap-add", "SYS_ADMIN", "--cap-drop", "NET_RAW"},
			strings.ReplaceAll(head, "00000000a80425fb", "00000000a82405fb")},
		{[]string{"--security-opt", "seccomp=unconfined"}, unconfined},
		{[]string{"--security-opt", "no-new-privileges"},
			strings.Replace(head, "NoNewPrivs:\t0", "NoNewPrivs:\t1", 1)},
	} {
		got := e.ok(append(append([]string{"run", "--rm"}, c.flags...), "busybox", "sh", "-c", status)...).stdout
		check("run "+strings.Join(c.flags, " "), got, c.want)
	}
	got := e.ok("run", "--rm", "--privileged", "busybox", "sh", "-c", status).stdout
	if (!single && !strings.Contains(got, "Seccomp:\t0\n")) || strings.Contains(got, "CapEff:\t00000000a80425fb") || !strings.Contains(got, "CapInh:\t0000000000000000") {
		t.Errorf("--privileged: want every capability and no seccomp filter:\n%s", got)
	}
}

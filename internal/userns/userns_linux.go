package userns

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Mode is how ids are mapped.
type Mode string

// The modes. ModeAuto is only a request: the constructor turns it into
// ModeFull when the caller has subordinate ranges and the setuid mappers
// exist, else into ModeSingle.
const (
	ModeAuto   Mode = "auto"
	ModeFull   Mode = "full"
	ModeSingle Mode = "single"
	// ModeHost means no user namespace: the caller is real root.
	ModeHost Mode = "host"
)

// Environment variables. _BURROW_INSIDE marks a process (and its
// children, e.g. the shell of `burrow unshare`) as inside a burrow
// namespace: "mode uid gid user|uidmap|gidmap". _BURROW_USERNS_FORCE asks
// the constructor of a re-executed burrow to enter whatever the command.
// The _CONTAINERS_* ones tell containers/storage that it runs rootless.
const (
	envInside = "_BURROW_INSIDE"
	envForce  = "_BURROW_USERNS_FORCE"
)

// ErrNoSubIDs is reported when full mode is required but the caller has no
// subordinate range or no newuidmap/newgidmap.
var ErrNoSubIDs = errors.New("no subordinate id range")

// Plan says how a process maps its ids.
type Plan struct {
	Mode     Mode
	User     string // the host user's name ("" if unknown)
	HostUID  int
	HostGID  int
	UIDMap   []IDMap // empty in ModeHost
	GIDMap   []IDMap
	Inside   bool   // this process is in the namespace (or is real root)
	Fallback string // why auto chose single mode, for the one-line notice
	// Light is set when a command that reads only the user's own files
	// mapped the user's id alone although full mapping was available.
	Light bool
}

var started Plan

// Start must be called first thing in main. It learns what the C
// constructor did, reports its failure, and records the namespace in the
// environment so that child processes know where they are.
func Start() error {
	os.Unsetenv(envForce)
	os.Unsetenv(envJoin)
	p, entered, err := constructorResult()
	if err != nil {
		return err
	}
	if entered && p.Mode == ModeHost {
		started = p
		os.Setenv(envInside, fmt.Sprintf("%s 0 0 root||", ModeHost))
		return nil
	}
	if entered {
		started = p
		inside := fmt.Sprintf("%s %d %d %s|%s|%s", p.Mode, p.HostUID, p.HostGID, p.User,
			mapperArgs(p.UIDMap), mapperArgs(p.GIDMap))
		os.Setenv(envInside, inside)
		os.Setenv("_CONTAINERS_USERNS_CONFIGURED", "done")
		os.Setenv("_CONTAINERS_ROOTLESS_UID", strconv.Itoa(p.HostUID))
		os.Setenv("_CONTAINERS_ROOTLESS_GID", strconv.Itoa(p.HostGID))
		return nil
	}
	if q, ok := inherited(); ok {
		started = q
	} else if os.Getuid() == 0 {
		started = Plan{Mode: ModeHost, User: "root", Inside: true}
	}
	return nil
}

// Current returns the plan of this process: inside is false for an
// unprivileged process that has not entered a namespace.
func Current() (p Plan, inside bool) { return started, started.Inside }

// HostUID is the caller's uid on the host: inside a burrow namespace,
// where the process is root, the uid its ancestor entered with (from
// _BURROW_INSIDE); elsewhere the process's own. Paths that belong to the
// user (configuration, run root) are chosen with it.
func HostUID() int {
	uid := os.Getuid()
	if inside := os.Getenv(envInside); inside != "" && uid == 0 {
		// Only the uid is needed; the maps are not parsed.
		var mode string
		fmt.Sscanf(inside, "%s %d", &mode, &uid)
	}
	return uid
}

// inherited returns the plan of a process whose ancestor entered the
// namespace (its uid is 0 there).
func inherited() (Plan, bool) {
	v := os.Getenv(envInside)
	if v == "" || os.Getuid() != 0 {
		return Plan{}, false
	}
	parts := strings.Split(v, "|")
	head := strings.Fields(parts[0])
	if len(head) < 3 || len(parts) != 3 {
		return Plan{}, false
	}
	uid, err1 := strconv.Atoi(head[1])
	gid, err2 := strconv.Atoi(head[2])
	um, err3 := parseMapperArgs(parts[1])
	gm, err4 := parseMapperArgs(parts[2])
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return Plan{}, false
	}
	p := Plan{Mode: Mode(head[0]), HostUID: uid, HostGID: gid, UIDMap: um, GIDMap: gm, Inside: true}
	if len(head) > 3 {
		p.User = head[3]
	}
	return p, true
}

// Enter puts a process that is not yet in its namespace there by
// re-executing the binary, whose constructor then enters it. It returns
// only on failure. The constructor enters before the runtime starts for
// every command but help and version, so this is a fallback; and for
// `run --network container:NAME`, which it leaves outside, join is NAME:
// the process re-executes in the user namespace of that container's
// process, the one that owns its network namespace.
func Enter(join string) error {
	if _, inside := Current(); inside {
		return nil
	}
	if join != "" && deferred() {
		if err := joinContainer(join); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the burrow executable: %w", err)
	}
	err = syscall.Exec(self, os.Args, append(os.Environ(), envForce+"=1"))
	return fmt.Errorf("re-executing %s in a user namespace: %w", self, err)
}

// Hint says what to do about a failure to enter the namespace.
func Hint(err error) string {
	if errors.Is(err, ErrNoSubIDs) {
		return " (hint: ask an admin to add ranges to /etc/subuid and /etc/subgid and install uidmap, or set userns = \"single\" in ~/.config/burrow/config.toml)"
	}
	var ee *EnterError
	if !errors.As(err, &ee) {
		return ""
	}
	switch {
	case ee.Errno == syscall.EPERM || ee.Errno == syscall.EACCES:
		return " (hint: unprivileged user namespaces are disabled on this host; an admin enables them with `sysctl kernel.unprivileged_userns_clone=1` or `sysctl user.max_user_namespaces=15000`)"
	case ee.Errno == syscall.ENOSPC:
		return " (hint: the limit of user namespaces is reached; an admin raises it with sysctl user.max_user_namespaces=15000)"
	case strings.Contains(ee.What, "newuidmap") || strings.Contains(ee.What, "newgidmap"):
		return " (hint: check your ranges in /etc/subuid and /etc/subgid, and that newuidmap and newgidmap are setuid root; or set userns = \"single\" in ~/.config/burrow/config.toml)"
	}
	return ""
}

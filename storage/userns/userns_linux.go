package userns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// Mode is how ids are mapped.
type Mode string

// The modes. ModeAuto is only a request: Detect turns it into ModeFull when
// the caller has subordinate ranges and the setuid mappers exist, else into
// ModeSingle.
const (
	ModeAuto   Mode = "auto"
	ModeFull   Mode = "full"
	ModeSingle Mode = "single"
	// ModeHost means no user namespace: the caller is real root.
	ModeHost Mode = "host"
)

// Environment variables that carry the plan across the re-execution. The
// _CONTAINERS_* ones tell containers/storage that it runs rootless.
const (
	envMode   = "_BURROW_USERNS"
	envUIDMap = "_BURROW_UIDMAP"
	envGIDMap = "_BURROW_GIDMAP"
	// envInside marks a process (and its children, e.g. the shell of
	// `burrow unshare`) as inside a burrow namespace: "mode uid gid", then
	// the uid and gid maps separated by "|".
	envInside = "_BURROW_INSIDE"
)

// ErrNoSubIDs is returned by Detect when full mode is required but the
// caller has no subordinate range or no newuidmap/newgidmap.
var ErrNoSubIDs = errors.New("no subordinate id range")

// Plan says how a process maps its ids.
type Plan struct {
	Mode     Mode
	User     string // the host user's name ("" if unknown)
	HostUID  int
	HostGID  int
	UIDMap   []IDMap // empty in ModeHost
	GIDMap   []IDMap
	Inside   bool   // this process is already in the namespace
	Fallback string // why auto chose single mode, for the one-line notice
}

// Detect decides how to map ids for the current (host) user. want is
// ModeAuto, ModeFull or ModeSingle. Real root gets ModeHost whatever is asked.
func Detect(want Mode) (Plan, error) {
	if p, ok := current(); ok {
		return p, nil
	}
	uid, gid := os.Getuid(), os.Getgid()
	p := Plan{HostUID: uid, HostGID: gid}
	if uid == 0 {
		p.Mode = ModeHost
		p.User = "root"
		return p, nil
	}
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		p.User = u.Username
	}
	if want == ModeSingle {
		p.Mode, p.UIDMap, p.GIDMap = ModeSingle, SingleMap(uid), SingleMap(gid)
		return p, nil
	}
	uidRanges, gidRanges, why := subordinateRanges(p.User, uid, gid)
	if why == "" {
		if _, err := exec.LookPath("newuidmap"); err != nil {
			why = "newuidmap and newgidmap are not installed (package uidmap)"
		} else if _, err := exec.LookPath("newgidmap"); err != nil {
			why = "newgidmap is not installed (package uidmap)"
		}
	}
	if why != "" {
		if want == ModeFull {
			return p, fmt.Errorf("%w: %s", ErrNoSubIDs, why)
		}
		p.Mode, p.UIDMap, p.GIDMap, p.Fallback = ModeSingle, SingleMap(uid), SingleMap(gid), why
		return p, nil
	}
	p.Mode, p.UIDMap, p.GIDMap = ModeFull, FullMap(uid, uidRanges), FullMap(gid, gidRanges)
	return p, nil
}

func subordinateRanges(name string, uid, gid int) (uids, gids []Range, why string) {
	read := func(path string, id int) ([]Range, string) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Sprintf("%s cannot be read", path)
		}
		defer f.Close()
		r, err := ParseSubIDs(f, name, id)
		if err != nil {
			return nil, fmt.Sprintf("reading %s: %v", path, err)
		}
		if len(r) == 0 {
			return nil, fmt.Sprintf("no subordinate range for %q in %s", name, path)
		}
		return r, ""
	}
	uids, why = read("/etc/subuid", uid)
	if why != "" {
		return nil, nil, why
	}
	// /etc/subgid is keyed by user name or uid too, not by gid.
	gids, why = read("/etc/subgid", uid)
	return uids, gids, why
}

// current returns the plan of a process that is already inside a burrow
// namespace, entered by this process's constructor or by an ancestor.
func current() (Plan, bool) {
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

// Start must be called first thing in main. It reports a failure of the C
// constructor, clears the request from the environment so that children do
// not repeat it, and tells whether this process is inside a namespace.
func Start() (inside bool, err error) {
	entered, err := constructorResult()
	if os.Getenv(envMode) != "" {
		os.Unsetenv(envMode)
		os.Unsetenv(envUIDMap)
		os.Unsetenv(envGIDMap)
		if err == nil && !entered {
			err = &EnterError{What: "internal error: the namespace constructor did not run"}
		}
	}
	if err != nil {
		os.Unsetenv(envInside)
		return false, err
	}
	_, inside = current()
	return inside, nil
}

// Enter re-executes the running binary with the same arguments inside the
// namespace the plan describes. It returns only on failure. In ModeHost, or
// when already inside, it does nothing and returns nil.
func Enter(p Plan) error {
	if p.Mode == ModeHost || p.Inside {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the burrow executable: %w", err)
	}
	inside := fmt.Sprintf("%s %d %d %s|%s|%s", p.Mode, p.HostUID, p.HostGID, p.User,
		mapperArgs(p.UIDMap), mapperArgs(p.GIDMap))
	env := append(os.Environ(),
		envMode+"="+string(p.Mode),
		envInside+"="+inside,
		"_CONTAINERS_USERNS_CONFIGURED=done",
		"_CONTAINERS_ROOTLESS_UID="+strconv.Itoa(p.HostUID),
		"_CONTAINERS_ROOTLESS_GID="+strconv.Itoa(p.HostGID),
	)
	if p.Mode == ModeFull {
		env = append(env, envUIDMap+"="+mapperArgs(p.UIDMap), envGIDMap+"="+mapperArgs(p.GIDMap))
	}
	err = syscall.Exec(self, os.Args, env)
	return fmt.Errorf("re-executing %s in a user namespace: %w", self, err)
}

// Hint says what to do about a failure to enter the namespace.
func Hint(err error) string {
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

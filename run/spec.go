// Package run is burrow's container lifecycle library: it creates
// containers, starts them in the foreground or under a monitor, stops,
// kills, waits on, attaches to, execs in and copies into and out of them,
// and runs build steps in the same sandbox. It is the only writer of a
// container's status.
//
// The translation of an image's config and a container's options into an
// OCI runtime spec (spec.go, seccomp.go, ulimit.go) is pure: it does no
// I/O, so it is tested without starting anything (TestSpecIsPure keeps it
// so).
package run

import (
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultPath is the PATH a container gets when neither the image nor the
// command line sets one, as in Docker.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// defaultCaps is Docker's default capability set.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// Docker's masked and read-only paths under /proc and /sys.
var (
	maskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// Network modes.
const (
	// NetworkBridge is a private network namespace served by the
	// user-mode network (run/network): Docker's default network.
	NetworkBridge = "bridge"
	NetworkHost   = "host"
	NetworkNone   = "none"
)

// Options are the command-line settings of a container that shape its
// runtime spec. The zero value runs the image's command as the image says.
type Options struct {
	// Cmd replaces the image's CMD when set; Entrypoint replaces its
	// ENTRYPOINT when non-nil (an empty slice clears it).
	Cmd        []string
	Entrypoint []string
	Env        []string // KEY=VALUE, added over the image's
	WorkingDir string
	Hostname   string
	Network    string // NetworkBridge, NetworkHost or NetworkNone
	// NetNSPath, with NetworkBridge, is the network namespace the
	// container joins (made and served by its parent).
	NetNSPath  string
	ReadOnly   bool
	Privileged bool
	CapAdd     []string
	CapDrop    []string
	Tty        bool
	// Mounts are the user's bind, volume and tmpfs mounts, on top of the
	// defaults.
	Mounts []specs.Mount
	// SingleID fakes what a one-id mapping cannot do (see DESIGN.md).
	SingleID bool
	// Seccomp is "" for the default filter, "unconfined" for none, or a
	// profile (loaded from --security-opt seccomp=FILE).
	Seccomp        string
	SeccompProfile *specs.LinuxSeccomp
	NoNewPrivs     bool
	Rlimits        []specs.POSIXRlimit
	// InitPath, if set, is the burrow binary, bind-mounted as /dev/init
	// to run as PID 1 (--init).
	InitPath string
}

// initDest is where --init's init is mounted in the container.
const initDest = "/dev/init"

// User is the identity the container's process runs as, resolved from
// the image's /etc/passwd and /etc/group.
type User struct {
	UID, GID       uint32
	AdditionalGIDs []uint32
	Home           string
}

// Files are the host paths of the files bind-mounted into the container.
type Files struct {
	Hosts, Hostname, ResolvConf string
}

// Args returns the process arguments: the entrypoint followed by the
// command, with the command-line overrides applied as Docker applies them
// (a new entrypoint drops the image's CMD).
func Args(img *v1.Config, opts Options) []string {
	entry := img.Entrypoint
	cmd := img.Cmd
	if opts.Entrypoint != nil {
		entry = opts.Entrypoint
		cmd = nil
	}
	if len(opts.Cmd) > 0 {
		cmd = opts.Cmd
	}
	return append(append([]string{}, entry...), cmd...)
}

// Env merges the image's environment with the command line's, in Docker's
// order, and makes sure PATH and HOSTNAME are set.
func Env(img *v1.Config, opts Options, hostname, home string) []string {
	var keys []string
	vals := map[string]string{}
	set := func(kv string) {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	set("PATH=" + DefaultPath)
	set("HOSTNAME=" + hostname)
	for _, kv := range img.Env {
		set(kv)
	}
	for _, kv := range opts.Env {
		set(kv)
	}
	if _, ok := vals["HOME"]; !ok {
		if home == "" {
			home = "/"
		}
		set("HOME=" + home)
	}
	if opts.Tty {
		if _, ok := vals["TERM"]; !ok {
			set("TERM=xterm")
		}
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+vals[k])
	}
	return out
}

// Spec builds the OCI runtime spec of a container whose root filesystem
// is mounted at rootfs. It is pure: it reads and starts nothing.
func Spec(rootfs string, img *v1.Config, opts Options, u User, files Files) (*specs.Spec, error) {
	args := Args(img, opts)
	if len(args) == 0 {
		return nil, fmt.Errorf("no command specified (hint: the image has no CMD or ENTRYPOINT; give a command after the image name)")
	}
	if opts.InitPath != "" {
		args = append([]string{initDest, "__init", "--"}, args...)
	}
	hostname := opts.Hostname
	cwd := opts.WorkingDir
	if cwd == "" {
		cwd = img.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	caps := capabilities(opts)
	ident := ""
	if opts.SingleID {
		// Only id 0 is mapped: the process starts as 0, and the seccomp
		// filter below makes the identity changes the container's programs
		// ask for succeed without effect. (libcontainer cannot set an
		// unmapped id, and its filter covers one thread, so glibc's
		// all-threads setgid would abort.)
		ident = identityText(u.UID, u.GID, u.AdditionalGIDs)
		u.UID, u.GID, u.AdditionalGIDs = 0, 0, nil
	}
	s := &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: rootfs, Readonly: opts.ReadOnly},
		Hostname: hostname,
		Process: &specs.Process{
			Terminal: opts.Tty,
			Args:     args,
			Env:      Env(img, opts, hostname, u.Home),
			Cwd:      cwd,
			User:     specs.User{UID: u.UID, GID: u.GID, AdditionalGids: u.AdditionalGIDs},
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
		},
		Mounts: append(mounts(opts, files), opts.Mounts...),
		Linux: &specs.Linux{
			Namespaces: namespaces(opts),
		},
	}
	if !opts.Privileged {
		s.Linux.MaskedPaths = maskedPaths
		s.Linux.ReadonlyPaths = readonlyPaths
	}
	switch {
	case opts.SeccompProfile != nil:
		s.Linux.Seccomp = opts.SeccompProfile
	case opts.Privileged || opts.Seccomp == "unconfined":
	default:
		s.Linux.Seccomp = defaultSeccomp(caps)
	}
	if opts.SingleID {
		s.Linux.Seccomp = mergeSeccomp(s.Linux.Seccomp, singleIDSeccomp(notifySupported()))
		s.Annotations = map[string]string{identityAnnotation: ident}
	}
	s.Process.NoNewPrivileges = opts.NoNewPrivs
	s.Process.Rlimits = opts.Rlimits
	if opts.InitPath != "" {
		s.Mounts = append(s.Mounts, specs.Mount{Type: "bind", Source: opts.InitPath, Destination: initDest, Options: []string{"bind", "ro", "nosuid", "nodev"}})
	}
	return s, nil
}

func namespaces(opts Options) []specs.LinuxNamespace {
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace},
		{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}}
	if opts.Network != NetworkHost {
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: opts.NetNSPath})
	}
	return ns
}

func mounts(opts Options, files Files) []specs.Mount {
	m := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
	}
	if opts.Network == NetworkHost {
		// sysfs cannot be mounted without a network namespace of our own:
		// bind the host's, read-only.
		m = append(m, specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}})
	} else {
		m = append(m, specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}})
	}
	for _, f := range []struct{ dst, src string }{
		{"/etc/hosts", files.Hosts}, {"/etc/hostname", files.Hostname}, {"/etc/resolv.conf", files.ResolvConf},
	} {
		if f.src != "" {
			m = append(m, specs.Mount{Destination: f.dst, Type: "bind", Source: f.src, Options: []string{"rbind", "rprivate"}})
		}
	}
	return m
}

// capabilities is Docker's default set with --cap-add and --cap-drop
// applied ("ALL" allowed in both), or every capability with --privileged.
// Every capability means every one burrow's own bounding set holds, as
// Docker's privileged containers get the daemon's: a process cannot give
// its container more, and a root whose session dropped one would
// otherwise be refused every --privileged container.
func capabilities(opts Options) []string {
	set := map[string]bool{}
	if opts.Privileged {
		for _, c := range boundedCaps() {
			set[c] = true
		}
	} else {
		for _, c := range defaultCaps {
			set[c] = true
		}
	}
	norm := func(c string) string {
		c = strings.ToUpper(c)
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		return c
	}
	for _, c := range opts.CapDrop {
		if strings.EqualFold(c, "ALL") {
			set = map[string]bool{}
			continue
		}
		delete(set, norm(c))
	}
	for _, c := range opts.CapAdd {
		if strings.EqualFold(c, "ALL") {
			for _, a := range boundedCaps() {
				set[a] = true
			}
			continue
		}
		set[norm(c)] = true
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// validCapability reports whether name (with or without CAP_) is a Linux
// capability, or ALL.
func validCapability(name string) bool {
	n := strings.ToUpper(name)
	if n == "ALL" {
		return true
	}
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	for _, c := range allCaps {
		if c == n {
			return true
		}
	}
	return false
}

var allCaps = []string{
	"CAP_AUDIT_CONTROL", "CAP_AUDIT_READ", "CAP_AUDIT_WRITE", "CAP_BLOCK_SUSPEND", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_KILL", "CAP_LEASE", "CAP_LINUX_IMMUTABLE",
	"CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE", "CAP_MKNOD", "CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_RAW", "CAP_PERFMON", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
	"CAP_SETUID", "CAP_SYSLOG", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_CHROOT", "CAP_SYS_MODULE",
	"CAP_SYS_NICE", "CAP_SYS_PACCT", "CAP_SYS_PTRACE", "CAP_SYS_RAWIO", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_WAKE_ALARM",
}

// singleIDSeccomp makes the calls that change owners succeed without
// effect, in the kernel, as Charliecloud does: with one id mapped they
// could only fail, and programs such as useradd and chown would stop
// there. With notify, the identity calls go to a supervisor that
// emulates each process's ids (see idemu_linux.go); without it (a kernel
// without seccomp user notification) they too succeed without effect.
func singleIDSeccomp(notify bool) *specs.LinuxSeccomp {
	zero := uint(0)
	faked := []string{"chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32"}
	sets := []string{"setuid", "setgid", "setgroups", "setreuid", "setregid", "setresuid", "setresgid",
		"setfsuid", "setfsgid", "setuid32", "setgid32", "setgroups32", "setreuid32",
		"setregid32", "setresuid32", "setresgid32", "setfsuid32", "setfsgid32"}
	if !notify {
		faked = append(faked, sets...)
	}
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: hostArches(),
		Syscalls: []specs.LinuxSyscall{{Names: faked, Action: specs.ActErrno, ErrnoRet: &zero}}}
	if notify {
		names := append(append([]string(nil), sets...), "getuid", "geteuid", "getgid", "getegid",
			"getresuid", "getresgid", "getgroups")
		s.Syscalls = append(s.Syscalls, specs.LinuxSyscall{Names: names, Action: specs.ActNotify})
	}
	return s
}

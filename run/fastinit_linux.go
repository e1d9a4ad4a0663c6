package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/burrow-oci/burrow/run/internal/cinit"
)

// The container's init is C code in burrow's own binary (run/internal/cinit)
// when the spec is one it covers: every spec Spec builds without a
// terminal, with burrow's seccomp filters and mounts outside /proc, /sys
// and /dev, in a user namespace. It is a fork of this process without a
// second Go runtime, which saves most of the start of a container.
// libcontainer starts the others, and serves exec and health checks in
// both (it loads a container started in C from a state file written when
// first needed: lazyContainer).
//
// BURROW_INIT=libcontainer turns the C init off (to compare the two).

// fastInitEnv names the variable that turns the C init off.
const fastInitEnv = "BURROW_INIT"

// defaultDevices are the host devices bound into every container's /dev.
var defaultDevices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// fastProgram turns a spec fastCovers accepts into the C init's program
// and clone flags; ok is false when the spec needs something only
// libcontainer does.
func fastProgram(p Process, bpf []byte) (prog *cinit.Program, flags uintptr, ok bool, err error) {
	s := p.Spec
	prog = &cinit.Program{}
	for _, ns := range s.Linux.Namespaces {
		flag := nsFlags[ns.Type]
		if ns.Path != "" {
			prog.SetNS(ns.Path, int(flag))
		} else {
			flags |= flag
		}
	}
	rootfs := s.Root.Path
	prog.Root(rootfs)
	for _, m := range s.Mounts {
		mf, data, prop, ok := mountFlags(m.Options)
		if !ok {
			return nil, 0, false, nil
		}
		typ := m.Type
		create := cinit.CreateDir
		if typ == "bind" || mf&unix.MS_BIND != 0 {
			typ, mf = "", mf|unix.MS_BIND
			if fi, err := os.Stat(m.Source); err == nil && !fi.IsDir() {
				create = cinit.CreateFile
			}
		}
		if !strings.HasPrefix(m.Destination, "/dev/") {
			if err := makeMountPoint(rootfs, m.Destination, create == cinit.CreateFile); err != nil {
				return nil, 0, false, err
			}
		}
		prog.Mount(m.Source, m.Destination, typ, mf, data, prop, create)
	}
	// After the mounts, as libcontainer makes them (a recursive bind of
	// a directory that holds the root filesystem shows what is there).
	devices(prog)
	prog.Pivot()
	for _, pth := range s.Linux.MaskedPaths {
		prog.Mask(pth)
	}
	for _, pth := range s.Linux.ReadonlyPaths {
		prog.Readonly(pth)
	}
	if s.Root.Readonly {
		prog.RootReadonly()
	}
	if s.Hostname != "" {
		prog.Hostname(s.Hostname)
	}
	for _, rl := range s.Process.Rlimits {
		prog.Rlimit(rlimitTypes[rl.Type], rl.Soft, rl.Hard)
	}
	if bpf != nil {
		prog.Seccomp(bpf, p.ids != nil)
	}
	u := s.Process.User
	prog.User(u.UID, u.GID, !p.SingleID, p.ids != nil, u.AdditionalGids)
	c := s.Process.Capabilities
	prog.Capabilities(cinit.Caps{
		Bounding: capMask(c.Bounding), Effective: capMask(c.Effective), Permitted: capMask(c.Permitted),
		Inheritable: capMask(c.Inheritable), Ambient: capMask(c.Ambient), NoNewPrivs: s.Process.NoNewPrivileges,
	})
	if err := makeMountPoint(rootfs, s.Process.Cwd, false); err != nil {
		return nil, 0, false, err
	}
	prog.Command(s.Process.Args, s.Process.Env, s.Process.Cwd)
	return prog, flags, true, nil
}

// devices fills a new /dev as libcontainer does in a user namespace: the
// host's default devices bound onto empty files, and the usual links.
func devices(prog *cinit.Program) {
	for _, d := range defaultDevices {
		prog.Mount("/dev/"+d, "/dev/"+d, "", unix.MS_BIND, "", 0, cinit.CreateFile)
	}
	prog.Symlink("pts/ptmx", "/dev/ptmx")
	prog.Symlink("/proc/self/fd", "/dev/fd")
	prog.Symlink("/proc/self/fd/0", "/dev/stdin")
	prog.Symlink("/proc/self/fd/1", "/dev/stdout")
	prog.Symlink("/proc/self/fd/2", "/dev/stderr")
	if _, err := os.Stat("/proc/kcore"); err == nil {
		prog.Symlink("/proc/kcore", "/dev/core")
	}
}

// makeMountPoint makes dst (a path in the container) beneath rootfs, a
// directory or an empty file, as libcontainer does before it mounts. The
// path is resolved in the root filesystem first (its symbolic links as if
// it were the root), and nothing runs in the container yet to change it;
// the C init resolves it the same way when it mounts.
func makeMountPoint(rootfs, dst string, file bool) error {
	target, err := securejoin.SecureJoin(rootfs, dst)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(target); err == nil {
		return nil
	}
	dir := target
	if file {
		dir = filepath.Dir(target)
	}
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		rel, err := filepath.Rel(rootfs, dir)
		if err != nil {
			return err
		}
		if err := pathrs.MkdirAll(rootfs, rel, 0o755); err != nil {
			return fmt.Errorf("creating the mount point %s: %w", dst, err)
		}
	}
	if !file {
		return nil
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return fmt.Errorf("creating the mount point %s: %w", dst, err)
	}
	return f.Close()
}

var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.MountNamespace: unix.CLONE_NEWNS, specs.PIDNamespace: unix.CLONE_NEWPID,
	specs.IPCNamespace: unix.CLONE_NEWIPC, specs.UTSNamespace: unix.CLONE_NEWUTS,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
}

// fastCovers reports whether the C init does all that s asks for.
func fastCovers(s *specs.Spec) bool {
	if v := os.Getenv(fastInitEnv); v == "libcontainer" {
		return false
	}
	// Real root gets a cgroup per container from libcontainer, which
	// the C init does not make (in a user namespace there is none).
	if !inUserNS() {
		return false
	}
	l, pr := s.Linux, s.Process
	if s.Root == nil || pr == nil || l == nil || pr.Terminal || s.Hooks != nil || len(pr.Args) == 0 ||
		pr.Capabilities == nil || pr.ApparmorProfile != "" || pr.SelinuxLabel != "" || pr.OOMScoreAdj != nil ||
		pr.User.Umask != nil || pr.Scheduler != nil || pr.IOPriority != nil || len(pr.User.AdditionalGids) > 256 ||
		l.Resources != nil || len(l.Sysctl) > 0 || len(l.Devices) > 0 || l.RootfsPropagation != "" ||
		l.MountLabel != "" || l.Personality != nil || l.IntelRdt != nil || len(l.UIDMappings) > 0 ||
		l.CgroupsPath != "" || l.TimeOffsets != nil {
		return false
	}
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range l.Namespaces {
		if _, ok := nsFlags[ns.Type]; !ok || seen[ns.Type] || ns.Path != "" && ns.Type != specs.NetworkNamespace {
			return false
		}
		seen[ns.Type] = true
	}
	if !seen[specs.MountNamespace] || !seen[specs.PIDNamespace] {
		return false
	}
	for _, rl := range pr.Rlimits {
		if _, ok := rlimitTypes[rl.Type]; !ok {
			return false
		}
	}
	c := pr.Capabilities
	for _, set := range [][]string{c.Bounding, c.Effective, c.Permitted, c.Inheritable, c.Ambient} {
		for _, name := range set {
			if _, ok := capNumbers[name]; !ok {
				return false
			}
		}
	}
	return fastMountsCovered(s.Mounts)
}

// fastMountsCovered: the mounts' types are known, /proc, /dev and /sys
// come once, and nothing else goes beneath them but /dev's own mounts
// and --init's binary (the C init makes one level in /dev).
func fastMountsCovered(mounts []specs.Mount) bool {
	seen := map[string]bool{}
	for _, m := range mounts {
		switch m.Type {
		case "proc", "tmpfs", "devpts", "mqueue", "sysfs", "bind":
		default:
			return false
		}
		d := path.Clean(m.Destination)
		if d != m.Destination || !path.IsAbs(d) {
			return false
		}
		for _, top := range []string{"/proc", "/sys", "/dev"} {
			if d == top {
				if seen[top] {
					return false
				}
				seen[top] = true
			} else if strings.HasPrefix(d, top+"/") {
				switch d {
				case "/dev/pts", "/dev/shm", "/dev/mqueue", initDest:
				default:
					return false
				}
				if !seen["/dev"] {
					return false
				}
			}
		}
		if _, _, _, ok := mountFlags(m.Options); !ok {
			return false
		}
	}
	return seen["/dev"]
}

// mountFlag is what a mount option sets (or clears) among the flags.
type mountFlag struct {
	clear bool
	flag  uintptr
}

var mountOptions = map[string]mountFlag{
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY},
	"nosuid": {false, unix.MS_NOSUID}, "suid": {true, unix.MS_NOSUID},
	"nodev": {false, unix.MS_NODEV}, "dev": {true, unix.MS_NODEV},
	"noexec": {false, unix.MS_NOEXEC}, "exec": {true, unix.MS_NOEXEC},
	"sync": {false, unix.MS_SYNCHRONOUS}, "async": {true, unix.MS_SYNCHRONOUS},
	"dirsync": {false, unix.MS_DIRSYNC}, "noatime": {false, unix.MS_NOATIME}, "atime": {true, unix.MS_NOATIME},
	"nodiratime": {false, unix.MS_NODIRATIME}, "diratime": {true, unix.MS_NODIRATIME},
	"relatime": {false, unix.MS_RELATIME}, "norelatime": {true, unix.MS_RELATIME},
	"strictatime": {false, unix.MS_STRICTATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
	"bind": {false, unix.MS_BIND}, "rbind": {false, unix.MS_BIND | unix.MS_REC},
	"defaults": {false, 0},
}

var propagationOptions = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// mountFlags reads a spec mount's options as libcontainer does: flags,
// propagation, and the rest as the file system's data. ok is false for
// options the C init does not handle.
func mountFlags(opts []string) (flags uintptr, data string, prop uintptr, ok bool) {
	var rest []string
	for _, o := range opts {
		if f, ok := mountOptions[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		if p, ok := propagationOptions[o]; ok {
			if prop != 0 {
				return 0, "", 0, false
			}
			prop = p
			continue
		}
		if strings.HasPrefix(o, "idmap") || strings.HasPrefix(o, "rro") || strings.HasPrefix(o, "tmpcopyup") ||
			strings.HasPrefix(o, "recursive") || strings.Contains(o, ",") {
			return 0, "", 0, false
		}
		rest = append(rest, o)
	}
	return flags, strings.Join(rest, ","), prop, true
}

func capMask(names []string) uint64 {
	var m uint64
	for _, n := range names {
		m |= 1 << capNumbers[n]
	}
	return m
}

// runFast is Run with the C init; covered says whether it applied (when
// not, nothing was started).
func runFast(ctx context.Context, p Process, signals <-chan os.Signal) (code int, covered bool, err error) {
	// A profile's own listener (not burrow's supervisor) is libcontainer's.
	if !fastCovers(p.Spec) || p.ids == nil && notifies(p.Spec.Linux.Seccomp) {
		return 0, false, nil
	}
	bpf, ok, err := seccompProgram(p.StateDir, p.Spec.Linux.Seccomp)
	if err != nil || !ok {
		return 0, ok, err
	}
	prog, flags, ok, err := fastProgram(p, bpf)
	if err != nil || !ok {
		return 0, ok, err
	}
	stdio, err := newChildStdio(p.Stdin, p.Stdout, p.Stderr)
	if err != nil {
		return 0, true, err
	}
	defer stdio.closeParent()
	child, err := cinit.Start(prog, flags, stdio.files)
	stdio.closeChild()
	if err != nil {
		return 0, true, &StartError{Err: err}
	}
	if p.ids != nil && bpf != nil {
		l, err := child.Listener()
		if err != nil {
			// The init's own report says what stopped it.
			if rerr := child.Release(); rerr != nil {
				err = rerr
			}
			_ = unix.Kill(child.Pid, unix.SIGKILL)
			_, _ = unix.Wait4(child.Pid, nil, 0, nil)
			return 0, true, classify(err, p.Spec.Process.Args[0])
		}
		p.ids.seed(child.Pid, identityOf(p.Spec))
		fd, err := unix.Dup(int(l.Fd()))
		l.Close()
		if err != nil {
			child.Abort()
			_, _ = unix.Wait4(child.Pid, nil, 0, nil)
			return 0, true, err
		}
		go p.ids.serve(fd, child.Pid)
	}
	// The child is waited for and signalled by its pid, which stays its
	// own until this process reaps it (os.FindProcess would first probe
	// the kernel's pidfd support by starting a process).
	wait := func() (unix.WaitStatus, error) {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(child.Pid, &ws, 0, nil)
			if err != unix.EINTR {
				return ws, err
			}
		}
	}
	abort := func() {
		child.Abort()
		_, _ = wait()
	}
	lc := &lazyContainer{p: p, pid: child.Pid}
	defer lc.destroy()
	if p.ExecDir != "" {
		stop, err := serveExec(p.ExecDir, lc.get, p.Spec, p.SingleID, p.hub, &p)
		if err != nil {
			abort()
			return 0, true, err
		}
		defer stop()
	}
	if p.Started != nil {
		p.Started(child.Pid)
	}
	if err := child.Release(); err != nil {
		_, _ = wait()
		return 0, true, classify(err, p.Spec.Process.Args[0])
	}
	if p.Health != nil && p.OnHealth != nil {
		hctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go healthLoop(hctx, lc.get, p.Spec, p.Health, p.OnHealth)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-signals:
				if sig, ok := s.(syscall.Signal); ok {
					_ = unix.Kill(child.Pid, sig)
				}
			case <-done:
				return
			}
		}
	}()
	ws, werr := wait()
	close(done)
	stdio.wait()
	if werr != nil {
		return 0, true, fmt.Errorf("waiting for the container: %w", werr)
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), true, nil
	}
	return ws.ExitStatus(), true, nil
}

// childStdio is the child's standard streams: the caller's files, or
// pipes copied from and to its readers and writers, or /dev/null.
type childStdio struct {
	files  [3]*os.File
	child  []*os.File // to close in the parent once the child has them
	parent []*os.File
	copies sync.WaitGroup
}

func newChildStdio(in io.Reader, out, errw io.Writer) (*childStdio, error) {
	s := &childStdio{}
	var devnull *os.File
	null := func() (*os.File, error) {
		if devnull == nil {
			f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
			if err != nil {
				return nil, err
			}
			devnull = f
			s.child = append(s.child, f)
		}
		return devnull, nil
	}
	var err error
	if f, ok := in.(*os.File); ok {
		s.files[0] = f
	} else if in == nil {
		s.files[0], err = null()
	} else {
		r, w, perr := os.Pipe()
		if perr != nil {
			return nil, perr
		}
		s.files[0], s.child = r, append(s.child, r)
		go func() { _, _ = io.Copy(w, in); w.Close() }()
	}
	if err != nil {
		return nil, err
	}
	for i, wr := range []io.Writer{out, errw} {
		if f, ok := wr.(*os.File); ok {
			s.files[i+1] = f
			continue
		}
		if wr == nil {
			if s.files[i+1], err = null(); err != nil {
				s.closeChild()
				return nil, err
			}
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			s.closeChild()
			return nil, err
		}
		s.files[i+1], s.child, s.parent = w, append(s.child, w), append(s.parent, r)
		s.copies.Add(1)
		go func(wr io.Writer) { defer s.copies.Done(); _, _ = io.Copy(wr, r) }(wr)
	}
	return s, nil
}

func (s *childStdio) closeChild() {
	for _, f := range s.child {
		f.Close()
	}
	s.child = nil
}

// wait waits for the output the child wrote to be copied.
func (s *childStdio) wait() { s.copies.Wait() }

func (s *childStdio) closeParent() {
	for _, f := range s.parent {
		f.Close()
	}
}

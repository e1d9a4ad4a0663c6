package run

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/burrow-oci/burrow/storage"
)

// Identities emulated in the kernel (single-id mode): the container's
// set*id, setgroups, get*id and getgroups calls are sent by its seccomp
// filter to a supervisor in the container's parent (SCMP_ACT_NOTIFY),
// which keeps an identity per process, as the kernel keeps credentials,
// and answers them from it. A process the supervisor has not seen takes
// its parent's identity (its thread group leader's for a thread), and an
// exec keeps the pid, hence the identity. The C init hands the listener
// over a socket pair; libcontainer sends it, with the container's state,
// to the unix socket at the profile's ListenerPath.

// idSupervisor answers the identity calls of one container's processes.
type idSupervisor struct {
	mu    sync.Mutex
	creds map[int]*cred
	// seeded is closed and replaced whenever a pid is seeded.
	seeded chan struct{}
	def    *cred
	added  int
	// pending counts the execs being started, whose pids are seeded
	// once known: their first calls wait for that.
	pending int
	ln      *net.UnixListener
	path    string
	dir     *os.File
	tmp     string // a directory of its own to remove
}

func newIDSupervisor(def *cred) *idSupervisor {
	return &idSupervisor{creds: map[int]*cred{}, seeded: make(chan struct{}), def: def}
}

// expect tells the supervisor that an exec is being started (its pid is
// seeded next); the returned function says it is over. Nil-safe.
func (s *idSupervisor) expect() func() {
	if s == nil {
		return func() {}
	}
	s.mu.Lock()
	s.pending++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.pending--
		close(s.seeded)
		s.seeded = make(chan struct{})
		s.mu.Unlock()
	}
}

// seed gives pid (the first process of a container or an exec) its
// identity. Nil-safe.
func (s *idSupervisor) seed(pid int, c *cred) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.creds[pid] = c.clone()
	close(s.seeded)
	s.seeded = make(chan struct{})
	s.mu.Unlock()
}

// listen serves libcontainer's listeners at a socket in dir; it returns
// the socket's path for ListenerPath, through a directory descriptor
// kept open (libcontainer connects from this process, and the real path
// can be longer than a socket's address allows).
func (s *idSupervisor) listen(dir string) (string, error) {
	path, d, err := shortPath(dir, identitySocket)
	if err != nil {
		return "", err
	}
	s.path = filepath.Join(dir, identitySocket)
	_ = os.Remove(s.path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		d.Close()
		return "", err
	}
	ln.SetUnlinkOnClose(false)
	s.ln, s.dir = ln, d
	go func() {
		for {
			conn, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			go s.accept(conn)
		}
	}()
	return path, nil
}

// accept reads a process's state and its listener from libcontainer.
func (s *idSupervisor) accept(conn *net.UnixConn) {
	defer conn.Close()
	buf := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return
	}
	var fds []int
	if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			if f, err := unix.ParseUnixRights(&m); err == nil {
				fds = append(fds, f...)
			}
		}
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return
	}
	for i, fd := range fds {
		if i < len(st.Fds) && st.Fds[i] == specs.SeccompFdName {
			go s.serve(fd, st.Pid)
			continue
		}
		unix.Close(fd)
	}
}

// close stops serving new listeners (those served go on until their
// processes are gone).
func (s *idSupervisor) close() {
	if s == nil {
		return
	}
	if s.ln != nil {
		s.ln.Close()
		_ = os.Remove(s.path)
		s.dir.Close()
	}
	if s.tmp != "" {
		_ = os.RemoveAll(s.tmp)
	}
}

// seccompNotif and seccompNotifResp are the kernel's structures.
type seccompNotif struct {
	id    uint64
	pid   uint32
	flags uint32
	nr    int32
	arch  uint32
	ip    uint64
	args  [6]uint64
}

type seccompNotifResp struct {
	id    uint64
	val   int64
	error int32
	flags uint32
}

// nativeArch is the audit architecture of this binary's calls; other
// ABIs' identity calls succeed without effect (get*id answer 0).
var nativeArch = map[string]uint32{"amd64": unix.AUDIT_ARCH_X86_64, "arm64": unix.AUDIT_ARCH_AARCH64,
	"ppc64le": unix.AUDIT_ARCH_PPC64LE, "s390x": unix.AUDIT_ARCH_S390X, "riscv64": unix.AUDIT_ARCH_RISCV64}[runtime.GOARCH]

// serve answers the notifications of one listener until no process uses
// its filter any more. root is the pid whose identity processes with no
// known ancestor take (0: the container's user).
func (s *idSupervisor) serve(fd int, root int) {
	defer unix.Close(fd)
	// The container's process waits for the answer: the kernel switches
	// to this thread at once rather than waking it on another CPU (6.6
	// and later; older kernels refuse the flag).
	// On those kernels a receive also returns once no process uses the
	// filter any more, so no poll is needed before it.
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SET_FLAGS, seccompSyncWakeUp)
	direct := e == 0
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		fds[0].Revents = 0
		if !direct {
			if _, err := unix.Poll(fds, -1); err != nil {
				if err == unix.EINTR {
					continue
				}
				return
			}
			if fds[0].Revents&unix.POLLIN == 0 {
				if fds[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
					return
				}
				continue
			}
		}
		var req seccompNotif
		if err := ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&req)); err != nil {
			if err == unix.ENOENT && direct {
				// A notifying process was killed, or none is left.
				if n, _ := unix.Poll(fds, 0); n > 0 && fds[0].Revents&unix.POLLIN == 0 &&
					fds[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
					return
				}
				continue
			}
			if err == unix.EINTR || err == unix.ENOENT {
				continue
			}
			return
		}
		resp := seccompNotifResp{id: req.id}
		resp.val, resp.error = s.answer(fd, &req, root)
		_ = ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp))
	}
}

func ioctlPtr(fd int, req uint, arg unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

// statusIDs reads a process's thread group leader and parent (with one
// read: this is most of what the first call of a new process costs).
func statusIDs(pid int) (tgid, ppid int, ok bool) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, false
	}
	var buf [4096]byte
	n, err := unix.Read(fd, buf[:])
	unix.Close(fd)
	if err != nil || n <= 0 {
		return 0, 0, false
	}
	for _, line := range bytes.Split(buf[:n], []byte("\n")) {
		if v, found := bytes.CutPrefix(line, []byte("Tgid:")); found {
			tgid, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		} else if v, found := bytes.CutPrefix(line, []byte("PPid:")); found {
			ppid, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			return tgid, ppid, true
		}
	}
	return 0, 0, false
}

// setupPhase: pid is still libcontainer's init, setting up the process
// (its own identity calls succeed without effect).
func setupPhase(pid int) bool {
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return err == nil && bytes.HasPrefix(comm, []byte("runc:"))
}

// credOf is the identity of pid, found from its ancestors the first time;
// nil for libcontainer's init before its command.
func (s *idSupervisor) credOf(pid, root int) *cred {
	s.mu.Lock()
	c := s.creds[pid]
	s.mu.Unlock()
	if c != nil {
		return c
	}
	p := pid
	for depth := 0; depth < 64 && c == nil; depth++ {
		tgid, ppid, ok := statusIDs(p)
		if !ok {
			break
		}
		next := ppid
		if tgid != p {
			next = tgid
		}
		if next <= 1 {
			break
		}
		s.mu.Lock()
		c = s.creds[next]
		s.mu.Unlock()
		p = next
	}
	if c == nil {
		c = s.rootCred(pid, root)
		if c == nil {
			return nil
		}
	}
	c = c.clone()
	s.mu.Lock()
	if old := s.creds[pid]; old != nil {
		c = old
	} else {
		s.creds[pid] = c
		s.added++
		if s.added%1024 == 0 {
			s.pruneLocked()
		}
	}
	s.mu.Unlock()
	return c
}

// rootCred is the identity of a process none of whose ancestors is known:
// root's once it is seeded (waiting a little for an exec being recorded),
// else the container's user.
func (s *idSupervisor) rootCred(pid, root int) *cred {
	if root == 0 {
		return s.def
	}
	if pid == root && setupPhase(pid) {
		return nil
	}
	deadline := time.After(2 * time.Second)
	for {
		s.mu.Lock()
		c, wait, pending := s.creds[root], s.seeded, s.pending
		s.mu.Unlock()
		if c != nil {
			return c
		}
		if pending == 0 {
			return s.def
		}
		select {
		case <-wait:
		case <-deadline:
			return s.def
		}
	}
}

// pruneLocked forgets processes that are gone.
func (s *idSupervisor) pruneLocked() {
	for pid := range s.creds {
		if unix.Kill(pid, 0) == unix.ESRCH {
			delete(s.creds, pid)
		}
	}
}

// callNames maps the native ABI's numbers of identityCalls to names.
var callNames = sync.OnceValue(func() map[int32]string {
	m := map[int32]string{}
	for _, n := range identityCalls {
		if nr, ok := syscallNumber(n); ok {
			m[nr] = n
		}
	}
	return m
})

const noID = ^uint32(0)

// seccompSyncWakeUp is SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP.
const seccompSyncWakeUp = 1

// answer carries out one call: its return value or errno. fd is the
// listener, to check that the caller is still waiting before its memory
// is written (its pid could otherwise be another process's by then).
func (s *idSupervisor) answer(fd int, req *seccompNotif, root int) (int64, int32) {
	name := callNames()[req.nr]
	if req.arch != nativeArch || name == "" {
		return 0, 0
	}
	pid := int(req.pid)
	c := s.credOf(pid, root)
	if c == nil { // libcontainer's init setting up
		return 0, 0
	}
	a := req.args
	s.mu.Lock()
	defer s.mu.Unlock()
	priv := c.euid == 0
	mem := callMemory{pid: pid, fd: fd, id: req.id}
	switch name {
	case "getuid":
		return int64(c.ruid), 0
	case "geteuid":
		return int64(c.euid), 0
	case "getgid":
		return int64(c.rgid), 0
	case "getegid":
		return int64(c.egid), 0
	case "getresuid":
		return mem.writeIDs([3]uint64{a[0], a[1], a[2]}, [3]uint32{c.ruid, c.euid, c.suid})
	case "getresgid":
		return mem.writeIDs([3]uint64{a[0], a[1], a[2]}, [3]uint32{c.rgid, c.egid, c.sgid})
	case "getgroups":
		return getGroups(c, mem, int(int32(a[0])), a[1])
	case "setgroups":
		return setGroups(c, mem, int(int32(a[0])), a[1], priv)
	case "setuid", "setgid":
		return setOne(c, name == "setuid", uint32(a[0]), priv)
	case "setreuid", "setregid":
		return setRE(c, name == "setreuid", uint32(a[0]), uint32(a[1]), priv)
	case "setresuid", "setresgid":
		return setRES(c, name == "setresuid", [3]uint32{uint32(a[0]), uint32(a[1]), uint32(a[2])}, priv)
	case "setfsuid", "setfsgid":
		return setFS(c, name == "setfsuid", uint32(a[0]), priv), 0
	}
	return 0, 0
}

func getGroups(c *cred, mem callMemory, n int, addr uint64) (int64, int32) {
	switch {
	case n < 0:
		return 0, int32(unix.EINVAL)
	case n == 0 || len(c.groups) == 0:
		return int64(len(c.groups)), 0
	case n < len(c.groups):
		return 0, int32(unix.EINVAL)
	}
	buf := make([]byte, 4*len(c.groups))
	for i, g := range c.groups {
		binary.NativeEndian.PutUint32(buf[4*i:], g)
	}
	if err := mem.write(addr, buf); err != nil {
		return 0, int32(unix.EFAULT)
	}
	return int64(len(c.groups)), 0
}

func setGroups(c *cred, mem callMemory, n int, addr uint64, priv bool) (int64, int32) {
	if !priv {
		return 0, int32(unix.EPERM)
	}
	if n < 0 || n > 65536 {
		return 0, int32(unix.EINVAL)
	}
	buf := make([]byte, 4*n)
	if n > 0 {
		if err := mem.read(addr, buf); err != nil {
			return 0, int32(unix.EFAULT)
		}
	}
	groups := make([]uint32, n)
	for i := range groups {
		groups[i] = binary.NativeEndian.Uint32(buf[4*i:])
	}
	c.groups = groups
	return 0, 0
}

// callMemory is the memory of a process waiting in a notified call.
type callMemory struct {
	pid, fd int
	id      uint64
}

// writeIDs stores three ids at the addresses a getres*id call gave.
func (m callMemory) writeIDs(addrs [3]uint64, v [3]uint32) (int64, int32) {
	for i, a := range addrs {
		var b [4]byte
		binary.NativeEndian.PutUint32(b[:], v[i])
		if err := m.write(a, b[:]); err != nil {
			return 0, int32(unix.EFAULT)
		}
	}
	return 0, 0
}

func (m callMemory) read(addr uint64, buf []byte) error {
	n, err := unix.ProcessVMReadv(m.pid, []unix.Iovec{{Base: &buf[0], Len: uint64(len(buf))}},
		[]unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}, 0)
	if err == nil && n != len(buf) {
		err = errors.New("short read")
	}
	return err
}

func (m callMemory) write(addr uint64, buf []byte) error {
	id := m.id
	if err := ioctlPtr(m.fd, unix.SECCOMP_IOCTL_NOTIF_ID_VALID, unsafe.Pointer(&id)); err != nil {
		return err
	}
	n, err := unix.ProcessVMWritev(m.pid, []unix.Iovec{{Base: &buf[0], Len: uint64(len(buf))}},
		[]unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}, 0)
	if err == nil && n != len(buf) {
		err = errors.New("short write")
	}
	return err
}

// identitySocket is the name of the supervisor's socket for libcontainer.
const identitySocket = "ids.sock"

// startIdentities starts the supervisor of a single-id container whose
// filter notifies the identity calls (nil otherwise), and points the
// profile's listener at it.
func startIdentities(p *Process) (*idSupervisor, error) {
	if !p.SingleID || p.Spec.Linux == nil || !notifies(p.Spec.Linux.Seccomp) {
		return nil, nil
	}
	sup := newIDSupervisor(identityOf(p.Spec))
	dir, tmp := p.ExecDir, ""
	if dir == "" {
		d, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "burrow-ids")
		if err != nil {
			return nil, err
		}
		dir, tmp = d, d
	}
	path, err := sup.listen(dir)
	if err != nil {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
		return nil, fmt.Errorf("serving the container's identities: %w", err)
	}
	sup.tmp = tmp
	sc := *p.Spec.Linux.Seccomp
	sc.ListenerPath = path
	p.Spec.Linux.Seccomp = &sc
	return sup, nil
}

// notifies reports whether a profile sends calls to a supervisor.
func notifies(s *specs.LinuxSeccomp) bool {
	if s == nil {
		return false
	}
	for _, sc := range s.Syscalls {
		if sc.Action == specs.ActNotify {
			return true
		}
	}
	return false
}

// IdentityEmulation says what single-id mode does with the identity
// calls on this kernel (burrow info).
func IdentityEmulation() string {
	if notifySupported() {
		return "emulated: set*id, setgroups, get*id and getgroups answered per process by a supervisor (seccomp user notification); chown succeeds without effect"
	}
	return "not emulated: this kernel lacks seccomp user notification, so set*id, setgroups and chown succeed without effect and get*id report root"
}

// noticeNoNotify tells the user once (per store) that identities cannot
// be emulated on this kernel, when a single-id container starts.
func noticeNoNotify(st *storage.Store, singleID bool) {
	if !singleID || notifySupported() {
		return
	}
	_ = os.MkdirAll(st.RuntimeDir(), 0o700)
	f, err := os.OpenFile(filepath.Join(st.RuntimeDir(), "no-seccomp-notify"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	f.Close()
	fmt.Fprintln(os.Stderr, "burrow: this kernel lacks seccomp user notification: in containers set*id succeed without effect and get*id report root (identities are not emulated)")
}

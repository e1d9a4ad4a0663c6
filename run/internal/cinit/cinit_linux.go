// Package cinit starts a container's init without a second Go runtime:
// burrow forks itself into the container's namespaces and C code (in
// cinit_linux.c) sets up the root filesystem, identity, capabilities and
// seccomp filter, then executes the command, following a Program built
// here. It covers the configurations run builds for common containers;
// the caller keeps libcontainer for the rest.
package cinit

/*
#cgo CFLAGS: -Wall -O2
#include "cinit_linux.h"
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Program is the list of steps the child carries out, in order.
type Program struct {
	buf    []byte
	listen bool
}

func (p *Program) u64(v uint64) { p.buf = binary.NativeEndian.AppendUint64(p.buf, v) }
func (p *Program) bytes(b []byte) {
	p.u64(uint64(len(b)))
	p.buf = append(p.buf, b...)
}
func (p *Program) str(s string) {
	p.u64(uint64(len(s) + 1))
	p.buf = append(append(p.buf, s...), 0)
}

// Create tells Mount what to make at a missing mount point.
const (
	CreateNone = 0
	CreateDir  = 1
	CreateFile = 2
)

// SetNS joins the namespace at path (type a CLONE_NEW* flag).
func (p *Program) SetNS(path string, typ int) { p.u64(C.STEP_SETNS); p.str(path); p.u64(uint64(typ)) }

// Root makes / a slave mount and binds the root filesystem onto itself.
func (p *Program) Root(path string) { p.u64(C.STEP_ROOT); p.str(path) }

// Mount mounts src on dst, a path in the container resolved beneath the
// root filesystem. A bind with read-only, nosuid, nodev or noexec is
// remounted with them; prop, if not 0, is applied last.
func (p *Program) Mount(src, dst, typ string, flags uintptr, data string, prop uintptr, create int) {
	p.u64(C.STEP_MOUNT)
	p.str(src)
	p.str(dst)
	p.str(typ)
	p.u64(uint64(flags))
	p.str(data)
	p.u64(uint64(prop))
	p.u64(uint64(create))
}

// Mkdir makes a directory in the container, whose parent exists.
func (p *Program) Mkdir(path string, mode uint32) {
	p.u64(C.STEP_MKDIR)
	p.str(path)
	p.u64(uint64(mode))
}

// Symlink makes the link path to target in the container.
func (p *Program) Symlink(target, path string) { p.u64(C.STEP_SYMLINK); p.str(target); p.str(path) }

// Pivot makes the root filesystem the process's root.
func (p *Program) Pivot() { p.u64(C.STEP_PIVOT) }

// Mask hides a path (after Pivot).
func (p *Program) Mask(path string) { p.u64(C.STEP_MASK); p.str(path) }

// Readonly makes a path read-only (after Pivot).
func (p *Program) Readonly(path string) { p.u64(C.STEP_READONLY); p.str(path) }

// RootReadonly makes the root filesystem read-only (after Pivot).
func (p *Program) RootReadonly() { p.u64(C.STEP_ROOT_READONLY) }

// Hostname sets the host name.
func (p *Program) Hostname(name string) { p.u64(C.STEP_HOSTNAME); p.str(name) }

// Rlimit sets a resource limit.
func (p *Program) Rlimit(res int, soft, hard uint64) {
	p.u64(C.STEP_RLIMIT)
	p.u64(uint64(res))
	p.u64(soft)
	p.u64(hard)
}

// Seccomp is the filter the command runs under (a BPF program); listen
// asks for a listener of its notifications (see Child.Listener).
func (p *Program) Seccomp(bpf []byte, listen bool) {
	p.u64(C.STEP_SECCOMP)
	p.bytes(bpf)
	l := uint64(0)
	if listen {
		l, p.listen = 1, true
	}
	p.u64(l)
}

// User is the identity the command runs as; setgroups false leaves the
// supplementary groups alone (they cannot be set in a one-id namespace),
// emulated leaves the process's ids as they are (a supervisor emulates
// them).
func (p *Program) User(uid, gid uint32, setgroups, emulated bool, groups []uint32) {
	p.u64(C.STEP_USER)
	p.u64(uint64(uid))
	p.u64(uint64(gid))
	sg := uint64(0)
	if setgroups {
		sg = 1
	}
	if emulated {
		sg = 2
	}
	p.u64(sg)
	p.u64(uint64(len(groups)))
	for _, g := range groups {
		p.u64(uint64(g))
	}
}

// Caps are the capability sets, as bit masks, and no_new_privs.
type Caps struct {
	Bounding, Effective, Permitted, Inheritable, Ambient uint64
	NoNewPrivs                                           bool
}

// Capabilities sets the command's capabilities.
func (p *Program) Capabilities(c Caps) {
	p.u64(C.STEP_CAPS)
	for _, v := range []uint64{c.Bounding, c.Effective, c.Permitted, c.Inheritable, c.Ambient} {
		p.u64(v)
	}
	nnp := uint64(0)
	if c.NoNewPrivs {
		nnp = 1
	}
	p.u64(nnp)
}

// Command is what is executed: its arguments, environment and working
// directory.
func (p *Program) Command(args, env []string, cwd string) {
	for _, a := range args {
		p.u64(C.STEP_ARG)
		p.str(a)
	}
	for _, e := range env {
		p.u64(C.STEP_ENV)
		p.str(e)
	}
	p.u64(C.STEP_CWD)
	p.str(cwd)
}

// Child is a started init, waiting to execute its command.
type Child struct {
	Pid   int
	goW   *os.File
	errR  *os.File
	lsock *os.File
}

// Start forks this process into new namespaces (flags, CLONE_NEW*) and
// runs prog there, with stdio as its standard streams. The child sets up
// and waits for Release.
func Start(prog *Program, flags uintptr, stdio [3]*os.File) (*Child, error) {
	goR, goW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer goR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		goW.Close()
		return nil, err
	}
	defer errW.Close()
	sfd, lsock := -1, (*os.File)(nil)
	if prog.listen {
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			goW.Close()
			errR.Close()
			return nil, err
		}
		lsock = os.NewFile(uintptr(pair[0]), "listener")
		defer unix.Close(pair[1])
		sfd = pair[1]
	}
	buf := prog.buf
	if len(buf) == 0 {
		buf = []byte{0}
	}
	pid := C.burrow_cinit_start((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(prog.buf)), C.ulong(flags),
		C.int(stdio[0].Fd()), C.int(stdio[1].Fd()), C.int(stdio[2].Fd()), C.int(goR.Fd()), C.int(errW.Fd()), C.int(sfd))
	if pid < 0 {
		goW.Close()
		errR.Close()
		if lsock != nil {
			lsock.Close()
		}
		return nil, fmt.Errorf("starting the container's init: %w", syscall.Errno(-pid))
	}
	return &Child{Pid: int(pid), goW: goW, errR: errR, lsock: lsock}, nil
}

// Listener receives the listener of the child's seccomp notifications
// (with a program whose filter asks for one), once its filter is loaded;
// the child's calls it notifies wait for it to be served.
func (c *Child) Listener() (*os.File, error) {
	if c.lsock == nil {
		return nil, errors.New("no seccomp listener asked for")
	}
	defer c.lsock.Close()
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		_, oobn, _, _, err := unix.Recvmsg(int(c.lsock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("receiving the seccomp listener: %w", err)
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) == 0 {
			return nil, errors.New("receiving the seccomp listener: the init stopped before sending it")
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			return nil, errors.New("receiving the seccomp listener: no descriptor")
		}
		return os.NewFile(uintptr(fds[0]), "seccomp-listener"), nil
	}
}

// Release lets the child execute its command and returns once it did,
// with the error that kept it from doing so (set up or exec).
func (c *Child) Release() error {
	defer c.errR.Close()
	_, _ = c.goW.Write([]byte{1})
	c.goW.Close()
	return c.result()
}

// Abort ends a child that was not released.
func (c *Child) Abort() {
	if c.lsock != nil {
		c.lsock.Close()
	}
	c.goW.Close()
	c.errR.Close()
	_ = unix.Kill(c.Pid, unix.SIGKILL)
}

// result reads the child's report: nothing when its exec succeeded.
func (c *Child) result() error {
	data, err := io.ReadAll(c.errR)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return nil
	}
	num, rest, _ := strings.Cut(string(data), "\x00")
	what, _, _ := strings.Cut(rest, "\x00")
	n, _ := strconv.Atoi(num)
	if n == 0 {
		return errors.New(what)
	}
	return fmt.Errorf("%s: %w", what, syscall.Errno(n))
}

package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/burrow-oci/burrow/storage"
)

// ExecRequest asks for a new process in a running container.
type ExecRequest struct {
	Args       []string
	Env        []string // KEY=VALUE added to the container's environment
	User       string   // "" for the container's user
	WorkingDir string
	Privileged bool
	Detach     bool
	// Tty asks for a pseudo-terminal of Width x Height; its master is sent
	// back over the console socket that comes with the request.
	Tty           bool
	Width, Height uint16
}

// copyRequest asks for a copy into or out of the container's filesystem,
// with the descriptors as the tar stream.
type copyRequest struct {
	Out  bool
	Spec CopySpec
}

// attachRequest joins a detached container's input and output until it
// exits or DetachKeys are typed.
type attachRequest struct {
	DetachKeys    string
	Width, Height uint16
}

// resizeRequest resizes a detached container's terminal.
type resizeRequest struct {
	Width, Height uint16
}

// request is what a client sends on a container's exec socket, with its
// standard streams (and a console socket for a terminal) as descriptors:
// exactly one of its fields is set.
type request struct {
	Exec    *ExecRequest    `json:",omitempty"`
	Copy    *copyRequest    `json:",omitempty"`
	Attach  *attachRequest  `json:",omitempty"`
	Resize  *resizeRequest  `json:",omitempty"`
	Network *networkRequest `json:",omitempty"`
	// Monitor, to the process that holds a network namespace, starts the
	// monitor of a container that joins it (netcontainer_linux.go).
	Monitor *monitorRequest `json:",omitempty"`
	// Attached, to that process too, runs `start -a` of such a
	// container with the request's streams.
	Attached *monitorRequest `json:",omitempty"`
}

// execReply answers an ExecRequest: the exit code once the process ends
// (or at once, for a detached one), or why it could not start.
type execReply struct {
	Code     int
	Error    string `json:",omitempty"`
	Detached bool   `json:",omitempty"`
}

// socketName is the exec socket in a container's run directory. It is
// reached through /proc/self/fd/N/ because the full path can be longer
// than a socket path may be.
const socketName = "exec.sock"

// shortPath opens dir and returns a short path naming file in it, and the
// directory to close once done.
func shortPath(dir, file string) (string, *os.File, error) {
	d, err := os.OpenFile(dir, os.O_RDONLY|unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return "", nil, err
	}
	return "/proc/self/fd/" + strconv.Itoa(int(d.Fd())) + "/" + file, d, nil
}

// serveExec listens on the container's exec socket and runs the processes
// asked for, for as long as the container lives.
// proc, if set, is the container's Process, whose network serves
// network requests.
func serveExec(dir string, ctr func() (*libcontainer.Container, error), spec *specs.Spec, singleID bool, hub *attachHub, proc *Process) (func(), error) {
	p, d, err := shortPath(dir, socketName)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	_ = os.Remove(filepath.Join(dir, socketName))
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listening for exec: %w", err)
	}
	l.SetUnlinkOnClose(false)
	go func() {
		for {
			conn, err := l.AcceptUnix()
			if err != nil {
				return
			}
			go handleExec(conn, ctr, spec, singleID, hub, proc)
		}
	}()
	return func() { l.Close(); _ = os.Remove(filepath.Join(dir, socketName)) }, nil
}

func handleExec(conn *net.UnixConn, ctr func() (*libcontainer.Container, error), spec *specs.Spec, singleID bool, hub *attachHub, p *Process) {
	defer conn.Close()
	reply := func(r execReply) { _ = json.NewEncoder(conn).Encode(r) }
	buf := make([]byte, 64*1024)
	oob := make([]byte, syscall.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return
	}
	fds, err := receivedFDs(oob[:oobn])
	if err != nil || len(fds) < 3 {
		reply(execReply{Code: 125, Error: "internal error: exec request without its standard streams"})
		return
	}
	var files []*os.File
	for i, fd := range fds {
		files = append(files, os.NewFile(uintptr(fd), "fd"+strconv.Itoa(i)))
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	var req request
	if err := json.Unmarshal(buf[:n], &req); err != nil {
		reply(execReply{Code: 125, Error: "internal error: malformed exec request"})
		return
	}
	switch {
	case req.Attach != nil || req.Resize != nil:
		if hub == nil {
			reply(execReply{Code: 1, Error: "only a detached container can be attached to (its monitor serves attach)"})
			return
		}
		if r := req.Resize; r != nil {
			hub.resize(r.Width, r.Height)
			reply(execReply{})
			return
		}
		keys, err := ParseDetachKeys(req.Attach.DetachKeys)
		if err != nil {
			reply(execReply{Code: 125, Error: err.Error()})
			return
		}
		hub.replying.Add(1)
		defer hub.replying.Done()
		code, detached := hub.attach(files[0], files[1], files[2], keys, req.Attach.Width, req.Attach.Height)
		reply(execReply{Code: code, Detached: detached})
	case req.Copy != nil:
		var err error
		if req.Copy.Out {
			err = copyOutOf(spec.Root.Path, req.Copy.Spec, files[1])
		} else {
			err = copyInto(spec.Root.Path, req.Copy.Spec, files[0])
		}
		if err != nil {
			reply(execReply{Code: 1, Error: err.Error()})
			return
		}
		reply(execReply{})
	case req.Network != nil:
		reply(serveNetwork(p, req.Network))
	case req.Monitor != nil:
		reply(monitorReply(startMonitor(*req.Monitor)))
	case req.Attached != nil:
		reply(runAttached(*req.Attached, files))
	case req.Exec != nil && len(req.Exec.Args) > 0:
		reply(runExec(ctr, spec, singleID, p.ids, *req.Exec, files))
	default:
		reply(execReply{Code: 125, Error: "internal error: malformed exec request"})
	}
}

// runExec runs an exec request's process in the container, with the
// streams (and console socket) received with it.
func runExec(getCtr func() (*libcontainer.Container, error), spec *specs.Spec, singleID bool, ids *idSupervisor, req ExecRequest, files []*os.File) execReply {
	proc, err := execProcess(req, spec, singleID)
	if err != nil {
		return execReply{Code: 126, Error: err.Error()}
	}
	if req.Tty && len(files) == 4 {
		proc.ConsoleSocket = files[3]
		proc.ConsoleWidth, proc.ConsoleHeight = req.Width, req.Height
	} else {
		proc.Stdin, proc.Stdout, proc.Stderr = files[0], files[1], files[2]
	}
	ctr, err := getCtr()
	if err == nil {
		done := ids.expect()
		err = ctr.Run(proc)
		if err == nil {
			pid, _ := proc.Pid()
			ids.seed(pid, execIdentity(req, spec))
		}
		done()
	}
	if len(files) == 4 {
		// Without this copy gone, the caller could wait for ever for a
		// terminal that a failed start never sends.
		files[3].Close()
	}
	if err != nil {
		var se *StartError
		if errors.As(classify(err, req.Args[0]), &se) {
			code := se.Code
			if code == 0 {
				code = 126
			}
			return execReply{Code: code, Error: se.Error()}
		}
		return execReply{Code: 126, Error: err.Error()}
	}
	if req.Detach {
		go proc.Wait() //nolint:errcheck // reaped so that it does not linger
		return execReply{}
	}
	code, err := exitCode(proc.Wait())
	if err != nil {
		return execReply{Code: 126, Error: err.Error()}
	}
	return execReply{Code: code}
}

// execIdentity is the emulated identity an exec starts with (single-id
// mode): its user's, or the container's.
func execIdentity(req ExecRequest, spec *specs.Spec) *cred {
	if req.User != "" {
		if u, err := ResolveUser(spec.Root.Path, req.User); err == nil {
			return newCred(u.UID, u.GID, u.AdditionalGIDs)
		}
	}
	return identityOf(spec)
}

// execProcess builds the process of an exec request from the container's
// spec: its environment, working directory, user and capabilities unless
// the request says otherwise.
func execProcess(req ExecRequest, spec *specs.Spec, singleID bool) (*libcontainer.Process, error) {
	sp := *spec.Process
	sp.Args = req.Args
	sp.Env = append(append([]string(nil), sp.Env...), req.Env...)
	if req.WorkingDir != "" {
		sp.Cwd = req.WorkingDir
	}
	if req.User != "" {
		u, err := ResolveUser(spec.Root.Path, req.User)
		if err != nil {
			return nil, err
		}
		if !singleID {
			sp.User = specs.User{UID: u.UID, GID: u.GID, AdditionalGids: u.AdditionalGIDs}
		}
	}
	if req.Privileged {
		caps := capabilities(Options{Privileged: true})
		sp.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	}
	return newProcess(&sp), nil
}

func receivedFDs(oob []byte) ([]int, error) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range msgs {
		f, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			return nil, err
		}
		fds = append(fds, f...)
	}
	return fds, nil
}

// ErrDetached is returned by Exec for an attachment the user ended with
// the detach keys.
var ErrDetached = errors.New("read escape sequence")

// Stdio are the standard streams handed to a process in a container.
type Stdio struct {
	Stdin, Stdout, Stderr *os.File
}

// Exec starts req in a running container with the given streams and
// returns its exit code. ErrNotRunning means nobody serves the container;
// a *StartError, that the command could not run. With req.Tty, the
// process's terminal is sized as stdio's output and shows there; with
// interactive too, stdio's input (which must then be a terminal, else
// ErrInputNotTerminal) is put in raw mode and typed into it.
func Exec(ctx context.Context, st *storage.Store, ctr *storage.Container, req ExecRequest, stdio Stdio, interactive bool) (int, error) {
	var terminal func(master *os.File)
	if req.Tty {
		if interactive && !isTerminal(stdio.Stdin) {
			return 0, ErrInputNotTerminal
		}
		req.Width, req.Height = TerminalSize(stdio.Stdout)
		var in *os.File
		if interactive {
			in = stdio.Stdin
		}
		terminal = func(master *os.File) { _ = ProxyTerminal(ctx, master, in, stdio.Stdout) }
	}
	dir, err := st.ContainerRunDir(ctr)
	if err != nil {
		return 0, err
	}
	var cs *consoleSocket
	if req.Tty {
		if cs, err = newConsoleSocket(); err != nil {
			return 0, err
		}
		defer cs.Close()
	}
	return send(dir, request{Exec: &req}, stdio, cs, terminal)
}

// send asks the process that serves a container's exec socket (found in
// its run directory) to carry out req with the given streams, and
// returns the exit code it answers.
func send(runDir string, req request, stdio Stdio, cs *consoleSocket, terminal func(master *os.File)) (int, error) {
	p, d, err := shortPath(runDir, socketName)
	if err != nil {
		return 0, ErrNotRunning
	}
	defer d.Close()
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		return 0, ErrNotRunning
	}
	defer conn.Close()
	body, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	fds := []int{int(stdio.Stdin.Fd()), int(stdio.Stdout.Fd()), int(stdio.Stderr.Fd())}
	if cs != nil {
		fds = append(fds, int(cs.child.Fd()))
	}
	if _, _, err := conn.WriteMsgUnix(body, syscall.UnixRights(fds...), nil); err != nil {
		return 0, fmt.Errorf("sending the exec request: %w", err)
	}
	if cs != nil {
		cs.child.Close()
		if master, err := receiveMaster(cs.parent); err == nil {
			terminal(master)
			master.Close()
		}
	}
	var r execReply
	if err := json.NewDecoder(conn).Decode(&r); err != nil {
		return 0, fmt.Errorf("the container's monitor went away during exec: %w", err)
	}
	if r.Detached {
		return 0, ErrDetached
	}
	if r.Error != "" {
		return r.Code, &StartError{Code: r.Code, Err: errors.New(r.Error)}
	}
	return r.Code, nil
}

package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/burrow-oci/burrow/storage"
)

// joinNetwork opens the network namespace ctr joins: that of the running
// container its mode names, through that container's process. It checks
// that this process may join it (it is in the namespace's user namespace)
// and that the pid still is that container's once the namespace is open.
func joinNetwork(st *storage.Store, ctr *storage.Container) (*joinedNetwork, error) {
	ref := NetworkContainer(ctr.Config.NetworkMode)
	target, s, err := runningTarget(st, ref)
	if err != nil {
		return nil, err
	}
	if target.ID == ctr.ID {
		return nil, fmt.Errorf("cannot join own network namespace")
	}
	j := &joinedNetwork{files: ContainerFiles(st, target)}
	if data, err := os.ReadFile(j.files.Hostname); err == nil {
		j.hostname = strings.TrimSpace(string(data))
	}
	proc := fmt.Sprintf("/proc/%d/ns/", s.Pid)
	if !sameFile(proc+"user", "/proc/self/ns/user") {
		// A restart policy's start, after the target was started again
		// by another command: start and restart ask the new holder.
		return nil, fmt.Errorf("joining the network namespace of container %s: it runs in another user namespace than this process (hint: burrow start %s runs it there)", target.Name, ctr.Name)
	}
	if j.ns, err = os.Open(proc + "net"); err != nil {
		return nil, fmt.Errorf("opening the network namespace of container %s: %w", target.Name, err)
	}
	if again, err := State(st, target); err != nil || again.Pid != s.Pid || again.Status != storage.StatusRunning {
		j.close()
		return nil, fmt.Errorf("cannot join network namespace of a non running container: container %s ended", target.Name)
	}
	if ns, err := j.ns.Stat(); err == nil && onHostNetwork(ns) {
		// The other container is on the host's network, which this
		// one shares as its own.
		j.close()
		j.ns = nil
	}
	return j, nil
}

// onHostNetwork reports whether a network namespace is this process's,
// the host's.
func onHostNetwork(ns os.FileInfo) bool {
	own, err := os.Stat("/proc/self/ns/net")
	return err == nil && os.SameFile(ns, own)
}

// sameFile reports whether two paths name the same file (namespaces: the
// same namespace).
func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// A container that joins another's network must run in the user
// namespace of the process that holds that namespace: `run` re-executes
// there (internal/userns), but `start` and `restart` of a container
// created earlier cannot (setns into a user namespace works only from
// outside it). Their detached start asks the holder, through its exec
// socket, to start the container's monitor instead: a child of the
// holder, it is in the right namespace. An attached start asks it to run
// `start -a` with the caller's streams, and passes signals on through the
// container's control FIFO.

// monitorRequest is a container to start: the store's global flags and
// the container's ID; Interactive keeps its input open (start -a -i).
type monitorRequest struct {
	Root, RunRoot, Driver, ID string
	Interactive               bool `json:",omitempty"`
}

// startCommand is the command that runs a created container in the
// foreground: `start -a` (commands owns its name, as MonitorCommand's).
var startCommand = []string{"start", "--attach"}

// joinHolder is the running container whose holder must start ctr's
// monitor: the one whose network ctr joins, when this process is not in
// its user namespace; nil otherwise.
func joinHolder(st *storage.Store, ctr *storage.Container) (*storage.Container, error) {
	ref := NetworkContainer(ctr.Config.NetworkMode)
	if ref == "" {
		return nil, nil
	}
	target, s, err := runningTarget(st, ref)
	if err != nil {
		return nil, err
	}
	if sameFile(fmt.Sprintf("/proc/%d/ns/user", s.Pid), "/proc/self/ns/user") {
		return nil, nil
	}
	return target, nil
}

// startThrough has holder's process start the monitor m asks for, and
// returns as StartDetached does.
func startThrough(st *storage.Store, holder *storage.Container, m monitorRequest) error {
	dir, err := st.ContainerRunDir(holder)
	if err != nil {
		return err
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	_, err = send(dir, request{Monitor: &m}, Stdio{devnull, devnull, devnull}, nil, nil)
	if errors.Is(err, ErrNotRunning) {
		return fmt.Errorf("cannot join network namespace of a non running container: container %s ended", holder.Name)
	}
	return err
}

// monitorReply is startMonitor's outcome as an exec reply, which send
// turns back into a *StartError.
func monitorReply(err error) execReply {
	if err == nil {
		return execReply{}
	}
	code := 125
	var se *StartError
	if errors.As(err, &se) && se.Code != 0 {
		code = se.Code
	}
	return execReply{Code: code, Error: err.Error()}
}

// startAttachedThrough has holder's process run ctr in the foreground
// with this process's streams, and returns its exit code (its errors
// were shown on those streams).
func startAttachedThrough(ctx context.Context, st *storage.Store, holder, ctr *storage.Container, opts AttachedOptions) (int, error) {
	in, ok1 := opts.Stdin.(*os.File)
	out, ok2 := opts.Stdout.(*os.File)
	errw, ok3 := opts.Stderr.(*os.File)
	if !ok1 || !ok2 || !ok3 {
		return 0, errors.New("internal error: a container in another's network is started attached only with the process's own streams")
	}
	dir, err := st.ContainerRunDir(holder)
	if err != nil {
		return 0, err
	}
	if !opts.NoSigProxy {
		sigs := make(chan os.Signal, 8)
		defer notifyForwarded(sigs)()
		done := make(chan struct{})
		defer close(done)
		go func() {
			for {
				select {
				case s := <-sigs:
					if sig, ok := s.(syscall.Signal); ok {
						_ = signalContainer(st, ctr, sig, false)
					}
				case <-done:
					return
				}
			}
		}()
	}
	m := monitorRequest{Root: st.Root(), RunRoot: st.RunRoot(), Driver: st.Driver(), ID: ctr.ID, Interactive: ctr.Config.OpenStdin}
	code, err := send(dir, request{Attached: &m}, Stdio{in, out, errw}, nil, nil)
	var se *StartError
	switch {
	case errors.Is(err, ErrNotRunning):
		return 0, fmt.Errorf("cannot join network namespace of a non running container: container %s ended", holder.Name)
	case err != nil && !errors.As(err, &se):
		// The holder ended with its container, which this one outlives
		// (it keeps the namespace): wait for it as `wait` does.
		if s, serr := State(st, ctr); serr == nil && Active(s) {
			if s, serr = Wait(ctx, st, ctr); serr == nil {
				return s.ExitCode, nil
			}
		}
	}
	return code, err
}

// runAttached runs `start -a` of the container m names, with the
// streams received, and replies with its exit code.
func runAttached(m monitorRequest, files []*os.File) execReply {
	self, err := os.Executable()
	if err != nil {
		return execReply{Code: 125, Error: err.Error()}
	}
	args := append([]string{"--root", m.Root, "--runroot", m.RunRoot, "--storage-driver", m.Driver}, startCommand...)
	if m.Interactive {
		args = append(args, "--interactive")
	}
	cmd := exec.Command(self, append(args, m.ID)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = files[0], files[1], files[2]
	if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
		return execReply{Code: 125, Error: err.Error()}
	}
	code, _ := exitCode(cmd.ProcessState, nil)
	return execReply{Code: code}
}

package run

import (
	"errors"
	"fmt"
	"os"
	"strings"

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
		return nil, fmt.Errorf("joining the network namespace of container %s: its user namespace is not this process's "+
			"(hint: start the container without --attach, then use burrow attach or logs)", target.Name)
	}
	if j.ns, err = os.Open(proc + "net"); err != nil {
		return nil, fmt.Errorf("opening the network namespace of container %s: %w", target.Name, err)
	}
	if again, err := State(st, target); err != nil || again.Pid != s.Pid || again.Status != storage.StatusRunning {
		j.close()
		return nil, fmt.Errorf("cannot join network namespace of a non running container: container %s ended", target.Name)
	}
	if sameFile(proc+"net", "/proc/self/ns/net") {
		// The other container is on the host's network, which this
		// one shares as its own.
		j.close()
		j.ns = nil
	}
	return j, nil
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
// holder, it is in the right namespace.

// monitorRequest is a detached container's monitor to start: the store's
// global flags and the container's ID.
type monitorRequest struct {
	Root, RunRoot, Driver, ID string
}

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

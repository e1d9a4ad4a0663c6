package run

import (
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
			"(hint: a container that joins another's network is started with it by `burrow run --network container:%s`; start and restart cannot start it)", target.Name, target.Name)
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

package run

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/burrow-oci/burrow/storage"
)

// A container may run in the network namespace of another, running one
// (Docker's --network container:NAME): same interfaces, addresses and
// published ports, and the same /etc/hosts, /etc/resolv.conf and
// hostname. Its mode is recorded as "container:" and the other's full ID.
//
// The namespace belongs to the user namespace of the burrow process that
// made it (the other container's monitor, or its foreground run), and
// only a process in that user namespace may join it: `run` re-executes
// there before it opens the store (internal/userns), and prepare checks
// that it did.

// containerNetworkPrefix starts the network mode of a container that
// joins another's namespace.
const containerNetworkPrefix = "container:"

// NetworkContainer is the container a --network value (or a recorded
// network mode) joins the namespace of: NAME in container:NAME, "" for
// any other mode.
func NetworkContainer(mode string) string {
	ref, _ := strings.CutPrefix(mode, containerNetworkPrefix)
	if ref == mode {
		return ""
	}
	return ref
}

// checkNetworkContainer validates a container that joins another's
// network, with Docker's conflicts, and records the other's full ID in
// its mode. The other container must run, so that `run` leaves nothing
// behind when it does not; name is the new container's ("" for a drawn
// one).
func checkNetworkContainer(st *storage.Store, name string, cfg *storage.ContainerConfig) error {
	ref := NetworkContainer(cfg.NetworkMode)
	if ref == "" {
		return nil
	}
	switch {
	case ref == name:
		return errors.New("cannot join own network namespace")
	case cfg.Hostname != "":
		return errors.New("conflicting options: hostname and the network mode")
	case len(cfg.DNS)+len(cfg.DNSSearch)+len(cfg.DNSOptions) > 0:
		return errors.New("conflicting options: dns and the network mode")
	case len(cfg.AddHosts) > 0:
		return errors.New("conflicting options: custom host-to-IP mapping and the network mode")
	case len(cfg.Ports) > 0:
		return errors.New(errPublishContainerMode)
	}
	target, _, err := runningTarget(st, ref)
	if err != nil {
		return err
	}
	cfg.NetworkMode = containerNetworkPrefix + target.ID
	return nil
}

// errPublishContainerMode is Docker's refusal of -p and -P with a network
// that is not the container's own.
const errPublishContainerMode = "conflicting options: port publishing and the container type network mode"

// runningTarget finds the container ref and checks that it runs.
func runningTarget(st *storage.Store, ref string) (*storage.Container, storage.ContainerState, error) {
	target, err := st.LookupContainer(ref)
	if err != nil {
		return nil, storage.ContainerState{}, err
	}
	s, err := State(st, target)
	if err != nil {
		return nil, s, err
	}
	if s.Restarting && Active(s) {
		return nil, s, fmt.Errorf("cannot join network namespace of container: Container %s is restarting, wait until the container is running", ref)
	}
	if s.Status != storage.StatusRunning || s.Pid <= 0 {
		return nil, s, fmt.Errorf("cannot join network namespace of a non running container: container %s is %s", target.Name, s.Status)
	}
	return target, s, nil
}

// maxJoinDepth bounds the chain of containers that join one another's
// network (a joins b, which joins c...), against a cycle.
const maxJoinDepth = 16

// networkOwner is the container whose network ctr's is: itself, or the
// end of its chain of container: modes.
func networkOwner(st *storage.Store, ctr *storage.Container) (*storage.Container, error) {
	for i := 0; i < maxJoinDepth; i++ {
		ref := NetworkContainer(ctr.Config.NetworkMode)
		if ref == "" {
			return ctr, nil
		}
		next, err := st.LookupContainer(ref)
		if err != nil {
			return nil, fmt.Errorf("finding the container whose network %s joins: %w", ctr.Name, err)
		}
		ctr = next
	}
	return nil, fmt.Errorf("container %s joins a chain of more than %d containers' networks", ctr.Name, maxJoinDepth)
}

// joinedNetwork is what a container that joins another's network takes
// from it.
type joinedNetwork struct {
	// ns is the namespace, open (its path names it for the OCI runtime);
	// nil when the other container is on the host's network.
	ns       *os.File
	files    Files
	hostname string
}

// path names the namespace for the OCI runtime.
func (j *joinedNetwork) path() string {
	return fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), j.ns.Fd())
}

func (j *joinedNetwork) close() {
	if j != nil && j.ns != nil {
		j.ns.Close()
	}
}

package run

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/burrow-oci/burrow/storage"
)

// ListOptions choose the containers List returns.
type ListOptions struct {
	// All lists stopped containers too; a status or exited filter
	// implies it.
	All bool
	// Last, when positive, looks only at the Last newest containers.
	Last int
	// Filters are Docker's ps filters, each a list of values of which one
	// must match: status, name (a substring), id (a prefix), ancestor (an
	// image reference), label (KEY or KEY=VALUE: each must match),
	// exited (an exit code) and network (a network's name or ID prefix,
	// among the container's own and those it was connected to).
	Filters map[string][]string
}

// Listed is a container with its state now.
type Listed struct {
	Container *storage.Container
	State     storage.ContainerState
}

// List returns the containers, newest first, that opts choose, with their
// states.
func List(st *storage.Store, opts ListOptions) ([]Listed, error) {
	ctrs, err := st.Containers()
	if err != nil {
		return nil, err
	}
	all := opts.All || len(opts.Filters["status"]) > 0 || len(opts.Filters["exited"]) > 0
	var out []Listed
	for i := range ctrs {
		if opts.Last > 0 && i >= opts.Last {
			break
		}
		ctr := &ctrs[i]
		state, err := State(st, ctr)
		if err != nil {
			return nil, err
		}
		if !all && state.Status != storage.StatusRunning {
			continue
		}
		if ok, err := matches(st, ctr, state, opts.Filters); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		out = append(out, Listed{Container: ctr, State: state})
	}
	return out, nil
}

func matches(st *storage.Store, ctr *storage.Container, state storage.ContainerState, f map[string][]string) (bool, error) {
	anyOf := func(vals []string, pred func(string) bool) bool {
		if len(vals) == 0 {
			return true
		}
		for _, v := range vals {
			if pred(v) {
				return true
			}
		}
		return false
	}
	if !anyOf(f["status"], func(v string) bool { return storage.Status(v) == state.Status }) ||
		!anyOf(f["name"], func(v string) bool { return strings.Contains(ctr.Name, v) }) ||
		!anyOf(f["id"], func(v string) bool { return strings.HasPrefix(ctr.ID, v) }) ||
		!anyOf(f["exited"], func(v string) bool { return state.Status == storage.StatusExited && strconv.Itoa(state.ExitCode) == v }) {
		return false, nil
	}
	if len(f["ancestor"]) > 0 {
		ok := false
		for _, a := range f["ancestor"] {
			if img, err := st.Lookup(a); err == nil && img.ID == ctr.ImageID {
				ok = true
			}
		}
		if !ok {
			return false, nil
		}
	}
	if len(f["network"]) > 0 && !anyOf(f["network"], func(v string) bool { return onNetwork(st, ctr, v) }) {
		return false, nil
	}
	for _, l := range f["label"] {
		if !storage.HasLabel(ctr.Config.Labels, l) {
			return false, nil
		}
	}
	return true, nil
}

// Ports are the ports a running container publishes, all of them or
// those of want ("8080" or "8080/udp"), with Docker's error when none is.
func Ports(st *storage.Store, ctr *storage.Container, want string) ([]storage.PortMapping, error) {
	state, err := State(st, ctr)
	if err != nil {
		return nil, err
	}
	if want == "" {
		return state.Ports, nil
	}
	if !strings.Contains(want, "/") {
		want += "/tcp"
	}
	var out []storage.PortMapping
	for _, p := range state.Ports {
		if fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto) == want {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("No public port '%s' published for %s", want, ctr.Name)
	}
	return out, nil
}

// onNetwork reports whether ref (a network's name, or a user-defined
// network's ID prefix) is one of the container's networks.
func onNetwork(st *storage.Store, ctr *storage.Container, ref string) bool {
	name := ref
	if n, err := st.Network(ref); err == nil {
		name = n.Name
	}
	for _, c := range ContainerNetworks(st, ctr) {
		if c == name {
			return true
		}
	}
	return false
}

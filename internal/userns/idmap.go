// Package userns puts a burrow process into the user namespace its store
// needs: the caller's id as root plus, when /etc/subuid and /etc/subgid give
// the caller a range, that range as ids 1..N ("full" mode); otherwise the
// caller's id alone ("single" mode), in which changes of owner cannot be
// represented and are dropped by the layers that write files.
//
// Entering needs no re-execution: a C constructor chooses the mode and
// unshares before the Go runtime starts (unshare(CLONE_NEWUSER) needs a
// single-threaded process), while a helper forked beforehand runs the
// setuid newuidmap and newgidmap from the parent namespace. No exec follows,
// so the process keeps the capabilities the new namespace gives it.
//
// One command joins a namespace instead: `run --network container:NAME`
// must run where NAME's network namespace belongs, the user namespace of
// the burrow process that made it. The constructor leaves that command
// outside; Enter asks `container inspect` for NAME's pid, opens its user
// namespace and re-executes, and the constructor of the new process
// setns()es into it (join_linux.go).
package userns

import (
	"fmt"
	"strconv"
	"strings"
)

// IDMap is one line of a uid_map or gid_map: Size ids starting at
// ContainerID inside the namespace are HostID... outside it.
type IDMap struct {
	ContainerID int `json:"container_id"`
	HostID      int `json:"host_id"`
	Size        int `json:"size"`
}

// mapperArgs formats a map as newuidmap's arguments (without the pid).
func mapperArgs(m []IDMap) string {
	var b strings.Builder
	for i, e := range m {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d %d %d", e.ContainerID, e.HostID, e.Size)
	}
	return b.String()
}

// parseMapperArgs is the inverse of mapperArgs.
func parseMapperArgs(s string) ([]IDMap, error) {
	f := strings.Fields(s)
	if len(f)%3 != 0 {
		return nil, fmt.Errorf("malformed id map %q", s)
	}
	var m []IDMap
	for i := 0; i < len(f); i += 3 {
		var v [3]int
		for j := range v {
			n, err := strconv.Atoi(f[i+j])
			if err != nil {
				return nil, fmt.Errorf("malformed id map %q", s)
			}
			v[j] = n
		}
		m = append(m, IDMap{ContainerID: v[0], HostID: v[1], Size: v[2]})
	}
	return m, nil
}

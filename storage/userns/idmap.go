// Package userns puts a burrow process into the user namespace its store
// needs: the caller's id as root plus, when /etc/subuid and /etc/subgid give
// the caller a range, that range as ids 1..N ("full" mode); otherwise the
// caller's id alone ("single" mode), in which changes of owner cannot be
// represented and are dropped by the layers that write files.
//
// Entering is one re-execution of the binary: a C constructor unshares
// before the Go runtime starts, so no second exec is needed to regain
// capabilities after the mapping is written.
package userns

import (
	"bufio"
	"fmt"
	"io"
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

// Range is a subordinate id range from /etc/subuid or /etc/subgid.
type Range struct {
	Start, Count int
}

// ParseSubIDs returns the ranges that a subordinate-id file (the format of
// /etc/subuid) grants to the user named name or numbered id. Malformed lines
// are skipped, as shadow-utils does.
func ParseSubIDs(r io.Reader, name string, id int) ([]Range, error) {
	var out []Range
	idStr := strconv.Itoa(id)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 || (f[0] != name && f[0] != idStr) {
			continue
		}
		start, err1 := strconv.Atoi(f[1])
		count, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || start < 0 || count <= 0 {
			continue
		}
		out = append(out, Range{Start: start, Count: count})
	}
	return out, sc.Err()
}

// FullMap maps container id 0 to the host id and container ids 1.. to the
// subordinate ranges, in order, as podman and buildah do.
func FullMap(hostID int, ranges []Range) []IDMap {
	m := []IDMap{{ContainerID: 0, HostID: hostID, Size: 1}}
	next := 1
	for _, r := range ranges {
		m = append(m, IDMap{ContainerID: next, HostID: r.Start, Size: r.Count})
		next += r.Count
	}
	return m
}

// SingleMap maps container id 0 to the host id and nothing else.
func SingleMap(hostID int) []IDMap {
	return []IDMap{{ContainerID: 0, HostID: hostID, Size: 1}}
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

// Size is the number of ids a map covers.
func Size(m []IDMap) int {
	n := 0
	for _, e := range m {
		n += e.Size
	}
	return n
}

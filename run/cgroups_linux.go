package run

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Cgroups describes the host's control-group layout as it matters to a
// rootless user: which version, and whether resource limits can be set.
type Cgroups struct {
	// Version is "v2", "v1" or "v1 hybrid" (v1 controllers with a v2
	// hierarchy mounted beside them).
	Version string
	// Delegated is true when the caller may create child cgroups with
	// controllers enabled, so --memory, --cpus and --pids-limit work.
	Delegated bool
	// Controllers lists the v2 controllers delegated to the caller.
	Controllers []string
	// Note says in one line what can and cannot be enforced and why.
	Note string
}

// DetectCgroups inspects /sys/fs/cgroup and /proc/self/cgroup.
func DetectCgroups() Cgroups {
	var st syscall.Statfs_t
	const cgroup2Magic = 0x63677270
	if err := syscall.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == cgroup2Magic {
		return detectV2("/sys/fs/cgroup")
	}
	c := Cgroups{Version: "v1"}
	if err := syscall.Statfs("/sys/fs/cgroup/unified", &st); err == nil && st.Type == cgroup2Magic {
		c.Version = "v1 hybrid"
	}
	c.Note = "cgroups v1 cannot be delegated to an unprivileged user: resource limits (--memory, --cpus, --pids-limit) cannot be enforced here and are refused with a clear error"
	return c
}

func detectV2(mount string) Cgroups {
	c := Cgroups{Version: "v2"}
	own := ownCgroupV2()
	dir := filepath.Join(mount, own)
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err == nil {
		c.Controllers = strings.Fields(string(data))
	}
	if syscall.Access(dir, 2 /* W_OK */) == nil && len(c.Controllers) > 0 {
		c.Delegated = true
		c.Note = "cgroups v2 delegated: limits can be enforced for " + strings.Join(c.Controllers, ", ")
		return c
	}
	c.Note = "cgroups v2 without delegation to this user: resource limits cannot be enforced (hint: an admin enables it with systemd's Delegate=yes for user sessions)"
	return c
}

func ownCgroupV2() string {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return "/"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return p
		}
	}
	return "/"
}

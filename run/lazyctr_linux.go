package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
)

// lazyContainer is libcontainer's view of a container started by the C
// init, made when exec or a health check first needs it: a state file as
// libcontainer writes for its own containers, loaded.
type lazyContainer struct {
	p    Process
	pid  int
	once sync.Once
	ctr  *libcontainer.Container
	err  error
	made bool
}

func (l *lazyContainer) get() (*libcontainer.Container, error) {
	l.once.Do(func() { l.ctr, l.err = l.load() })
	return l.ctr, l.err
}

func (l *lazyContainer) load() (*libcontainer.Container, error) {
	cfg, err := libcontainerConfig(l.p)
	if err != nil {
		return nil, err
	}
	start, err := processStartTime(l.pid)
	if err != nil {
		return nil, err
	}
	st := libcontainer.State{
		BaseState: libcontainer.BaseState{
			ID: l.p.ID, InitProcessPid: l.pid, InitProcessStartTime: start, Created: time.Now().UTC(), Config: *cfg,
		},
		Rootless:       cfg.RootlessEUID && cfg.RootlessCgroups,
		NamespacePaths: map[configs.NamespaceType]string{},
	}
	for _, ns := range cfg.Namespaces {
		st.NamespacePaths[ns.Type] = ns.GetPath(l.pid)
	}
	data, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(l.p.StateDir, l.p.ID)
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return nil, err
	}
	l.made = true
	if err := os.WriteFile(filepath.Join(dir, "state.json"), data, 0o600); err != nil {
		return nil, err
	}
	return libcontainer.Load(l.p.StateDir, l.p.ID)
}

// destroy removes the state file, if one was made.
func (l *lazyContainer) destroy() {
	l.once.Do(func() { l.err = errors.New("the container has ended") })
	if l.made {
		_ = os.RemoveAll(filepath.Join(l.p.StateDir, l.p.ID))
	}
}

// processStartTime is field 22 of /proc/PID/stat, which libcontainer
// checks to tell its init from a later process with the same pid.
func processStartTime(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, fmt.Errorf("reading /proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("reading /proc/%d/stat: malformed", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// libcontainerConfig is the libcontainer configuration of p's spec.
func libcontainerConfig(p Process) (*configs.Config, error) {
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:      p.ID,
		Spec:            p.Spec,
		RootlessEUID:    os.Geteuid() != 0,
		RootlessCgroups: os.Geteuid() != 0 || inUserNS(),
	})
	if err != nil {
		return nil, fmt.Errorf("preparing the container's configuration: %w", err)
	}
	if cfg.RootlessCgroups && cfg.Cgroups != nil && cfg.Cgroups.Resources != nil {
		// Without cgroup delegation there is no device cgroup to program;
		// the devices a container sees are the bind-mounted defaults.
		cfg.Cgroups.Resources.Devices = nil
	}
	return cfg, nil
}

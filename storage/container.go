package storage

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/burrow-oci/burrow/storage/atomicfile"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ContainerConfig is what a container was created with: Docker's
// container config and host config, reduced to what burrow uses. It is
// stored with the container and never changes.
type ContainerConfig struct {
	Image      string            // the name the user gave ("busybox")
	Entrypoint []string          `json:",omitempty"`
	Cmd        []string          `json:",omitempty"`
	Env        []string          `json:",omitempty"`
	WorkingDir string            `json:",omitempty"`
	User       string            `json:",omitempty"`
	Hostname   string            `json:",omitempty"`
	Labels     map[string]string `json:",omitempty"`
	StopSignal string            `json:",omitempty"`
	Tty        bool              `json:",omitempty"`
	OpenStdin  bool              `json:",omitempty"`
	// Host config.
	// NetworkMode is "bridge", "host", "none" or a user-defined network's
	// name; NetworkAliases are --network-alias on that network.
	NetworkMode    string   `json:",omitempty"`
	NetworkAliases []string `json:",omitempty"`
	AutoRemove     bool     `json:",omitempty"`
	ReadOnly       bool     `json:",omitempty"`
	Privileged     bool     `json:",omitempty"`
	CapAdd         []string `json:",omitempty"`
	CapDrop        []string `json:",omitempty"`
	Init           bool     `json:",omitempty"`
	AddHosts       []string `json:",omitempty"`
	Mounts         []Mount  `json:",omitempty"`
	SecurityOpt    []string `json:",omitempty"`
	StopTimeout    *int     `json:",omitempty"` // seconds; nil: 10
	Ulimits        []string `json:",omitempty"` // name=soft[:hard]
	// Restart is Docker's restart policy: "no", "always",
	// "unless-stopped" or "on-failure" with RestartMax tries (0: no limit).
	Restart    string       `json:",omitempty"`
	RestartMax int          `json:",omitempty"`
	Health     *HealthCheck `json:",omitempty"`
	LogMaxSize int64        `json:",omitempty"` // bytes; 0: no limit
	LogMaxFile int          `json:",omitempty"`
	// Ports are the ports published with -p and -P, as asked (a HostPort
	// of 0 is chosen when the container starts; the state records it).
	Ports []PortMapping `json:",omitempty"`
	// DNS, DNSSearch and DNSOptions are --dns, --dns-search and
	// --dns-option.
	DNS        []string `json:",omitempty"`
	DNSSearch  []string `json:",omitempty"`
	DNSOptions []string `json:",omitempty"`
}

// PortMapping is a published port: HostIP:HostPort on the host forwards
// to ContainerPort of Proto ("tcp" or "udp") in the container. An empty
// HostIP is every address (0.0.0.0). A HostPortEnd above HostPort asks
// for the first free port of HostPort-HostPortEnd (Docker's
// -p 8000-8010:80); once bound, HostPortEnd is 0.
type PortMapping struct {
	HostIP        string `json:",omitempty"`
	HostPort      uint16 `json:",omitempty"`
	HostPortEnd   uint16 `json:",omitempty"`
	ContainerPort uint16
	Proto         string
}

// HealthCheck is a container's health check (from the image's HEALTHCHECK
// or --health-* flags).
type HealthCheck struct {
	Test        []string // ["CMD", args...] or ["CMD-SHELL", "command"]
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	// StartInterval, if set, is the interval during the start period.
	StartInterval time.Duration `json:",omitempty"`
	Retries       int
}

// Health is a container's health as the monitor last saw it.
type Health struct {
	Status        string // "starting", "healthy", "unhealthy"
	FailingStreak int
	Log           []HealthResult `json:",omitempty"`
}

// HealthResult is one run of the health check.
type HealthResult struct {
	Start, End time.Time
	ExitCode   int
	Output     string
}

// Container is a stored container.
type Container struct {
	ID      string
	Name    string
	ImageID string
	LayerID string
	Created time.Time
	Config  ContainerConfig
	// kind is the backend that keeps the container (see backend.go):
	// csContainers, or ephemeralContainers for one kept in the run root
	// (LayerID is then empty).
	kind backend
}

// Ephemeral reports whether the container is one of `run --rm` in the
// foreground, kept only in the run root.
func (c *Container) Ephemeral() bool {
	_, ok := c.kind.(ephemeralContainers)
	return ok
}

// ContainerState is a container's run state, kept beside its record in
// the graph root so that it survives a reboot (or a wiped run root); the
// boot it was written in tells a container that was running before the
// machine restarted. A missing state means "created".
type ContainerState struct {
	BootID     string `json:",omitempty"`
	Status     Status
	Pid        int       `json:",omitempty"`
	MonitorPid int       `json:",omitempty"` // the detached container's monitor
	ExitCode   int       // meaningful once exited
	Error      string    `json:",omitempty"`
	StartedAt  time.Time `json:",omitempty"`
	FinishedAt time.Time `json:",omitempty"`
	// RestartCount counts the restarts of the restart policy.
	RestartCount int     `json:",omitempty"`
	Restarting   bool    `json:",omitempty"`
	Health       *Health `json:",omitempty"`
	// StoppedByUser keeps the restart policy from restarting a container
	// that stop or kill ended.
	StoppedByUser bool `json:",omitempty"`
	// Ports are the ports published while it runs, with the host ports
	// chosen for those asked as 0.
	Ports []PortMapping `json:",omitempty"`
	// IPAddress is the container's address on its network, while it runs.
	IPAddress string `json:",omitempty"`
	// NetworkIPs are its addresses on the networks it joined beyond its
	// own (Endpoints), by network name, while it runs.
	NetworkIPs map[string]string `json:",omitempty"`
}

// Status is a container's run status, as Docker names it. Package run is
// the only writer of a container's status: storage keeps what it is given.
type Status string

// The statuses a container's state records.
const (
	StatusCreated Status = "created"
	StatusRunning Status = "running"
	StatusExited  Status = "exited"
	// StatusRestarting is reported, never recorded: an exited container
	// that its restart policy is about to start again.
	StatusRestarting Status = "restarting"
)

// Sentinel errors for containers.
var (
	ErrContainerUnknown = errors.New("no such container")
	ErrNameInUse        = errors.New("container name already in use")
)

// ContainerNotFoundError is a reference that matches no container.
type ContainerNotFoundError struct{ Ref string }

func (e *ContainerNotFoundError) Error() string { return "No such container: " + e.Ref }

// Is makes errors.Is(err, ErrContainerUnknown) true.
func (e *ContainerNotFoundError) Is(target error) bool { return target == ErrContainerUnknown }

// NewContainer describes a container to create.
type NewContainer struct {
	Image  *Image
	Name   string // "" for none (the caller picks one)
	Config ContainerConfig
	// Ephemeral asks for a container that lives only in the run root, for
	// `run --rm` in the foreground (see ephemeral.go). Stores that cannot
	// (those of the vfs driver) make an ordinary one.
	Ephemeral bool
}

// CreateContainer records a container and its writable layer on the image.
// A name in use is refused with Docker's message naming the holder.
func (s *Store) CreateContainer(nc NewContainer) (*Container, error) {
	var b backend = csContainers{}
	if nc.Ephemeral && s.ephemeralSupported() {
		b = ephemeralContainers{}
	}
	return b.create(s, nc)
}

// backends are the kinds of container, each listed by Containers.
var backends = []backend{csContainers{}, ephemeralContainers{}}

// Containers lists every container, newest first.
func (s *Store) Containers() ([]Container, error) {
	var out []Container
	for _, b := range backends {
		cs, err := b.list(s)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Created.After(out[b].Created) })
	return out, nil
}

// LookupContainer finds a container by name, full ID or unique ID prefix.
func (s *Store) LookupContainer(ref string) (*Container, error) {
	return s.lookupContainer(ref, false)
}

func (s *Store) lookupContainer(ref string, nameOnly bool) (*Container, error) {
	if nameOnly {
		return s.containerNamed(strings.TrimPrefix(ref, "/"))
	}
	cs, err := s.Containers()
	if err != nil {
		return nil, err
	}
	ref = strings.TrimPrefix(ref, "/")
	for i := range cs {
		if cs[i].Name == ref || (!nameOnly && cs[i].ID == ref) {
			return &cs[i], nil
		}
	}
	if !nameOnly && isHex(ref) {
		var found *Container
		for i := range cs {
			if strings.HasPrefix(cs[i].ID, ref) {
				if found != nil {
					return nil, fmt.Errorf("multiple containers match the ID prefix %q (hint: give more digits of the ID, or the name)", ref)
				}
				found = &cs[i]
			}
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, &ContainerNotFoundError{Ref: ref}
}

// containerNamed finds the container named name, with only its ID, name
// and kind filled in: the name checks of create and rename need no more,
// and decoding every container's configuration is most of a listing's
// cost.
func (s *Store) containerNamed(name string) (*Container, error) {
	cs, err := s.cs.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	for i := range cs {
		if len(cs[i].Names) > 0 && cs[i].Names[0] == name {
			return &Container{ID: cs[i].ID, Name: name, kind: csContainers{}}, nil
		}
	}
	eph, err := s.ephemeralContainers()
	if err != nil {
		return nil, err
	}
	for i := range eph {
		if eph[i].Name == name {
			return &eph[i], nil
		}
	}
	return nil, &ContainerNotFoundError{Ref: name}
}

// MountContainer mounts the container's root filesystem and returns its
// path. The mount lives in the caller's mount namespace.
func (s *Store) MountContainer(c *Container) (string, error) {
	return c.backend().mount(s, c)
}

// UnmountContainer undoes MountContainer.
func (s *Store) UnmountContainer(c *Container) error {
	return c.backend().unmount(s, c)
}

// ContainerDir is a directory of the container's own, kept in the graph
// root with its layer (hosts, resolv.conf, hostname, logs).
func (s *Store) ContainerDir(c *Container) (string, error) {
	return c.backend().dir(s, c, dataDir)
}

// ContainerRunDir is the container's directory in the run root (state,
// runtime files).
func (s *Store) ContainerRunDir(c *Container) (string, error) {
	return c.backend().dir(s, c, runDir)
}

// State reads a container's run state as it was recorded, with the boot it
// was recorded in (BootID); a container never started is StatusCreated.
// Package run tells from it what is true now (run.State).
func (s *Store) State(c *Container) (ContainerState, error) {
	dir, err := s.ContainerDir(c)
	if err != nil {
		return ContainerState{}, err
	}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return ContainerState{Status: StatusCreated}, nil
	}
	if err != nil {
		return ContainerState{}, fmt.Errorf("reading the state of container %s: %w", short(c.ID), err)
	}
	var st ContainerState
	if err := json.Unmarshal(data, &st); err != nil {
		return ContainerState{}, fmt.Errorf("decoding the state of container %s: %w", short(c.ID), err)
	}
	return st, nil
}

// BootID identifies the running boot of the machine: a state recorded in
// another boot is that of a container the machine's restart ended.
var BootID = sync.OnceValue(func() string {
	data, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(data))
})

// SetState records a container's run state atomically.
func (s *Store) SetState(c *Container, st ContainerState) error {
	st.BootID = BootID()
	// The directory exists while the container does, and is not made
	// again for one removed meanwhile (an ephemeral container's directory
	// is its record).
	dir, err := s.ContainerDir(c)
	if err != nil {
		return err
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	// Not synced: a state lost with a crash of the machine is one of a boot
	// that ended, which run reports as such whatever it said.
	if err := atomicfile.Write(filepath.Join(dir, stateFile), data, 0o600, atomicfile.NoSync); err != nil {
		return fmt.Errorf("recording the state of container %s: %w", short(c.ID), err)
	}
	return nil
}

// stateFile is the name of a container's run state in its ContainerDir.
const stateFile = "state.json"

// stateFiles finds the state files of every container of both kinds
// without opening the store (which may be too damaged to open): those in
// containers/storage's directories (<root>/<driver>-containers/<id>/userdata,
// what ContainerDirectory returns) and those of ephemeral containers.
func stateFiles(root, runRoot string) []string {
	files, _ := filepath.Glob(filepath.Join(root, "*-containers", "*", "userdata", stateFile))
	eph, _ := filepath.Glob(filepath.Join(runRoot, ephemeralDir, "*", stateFile))
	return append(files, eph...)
}

// DeleteContainer removes a container: its layer, its directories and its
// record. The caller makes sure it is not running.
func (s *Store) DeleteContainer(c *Container) error {
	return c.backend().remove(s, c)
}

// Change is one entry of a container's filesystem diff: Kind is 'A'
// (added), 'C' (changed) or 'D' (deleted), as `docker diff` prints them.
type Change struct {
	Kind byte
	Path string
}

// Changes lists what the container changed on top of its image.
func (s *Store) Changes(c *Container) ([]Change, error) {
	chs, err := c.backend().changes(s, c)
	if err != nil {
		return nil, fmt.Errorf("comparing container %s with its image: %w", short(c.ID), err)
	}
	out := make([]Change, 0, len(chs))
	for _, ch := range chs {
		if ch.Kind == 1 && mountPoints[ch.Path] {
			continue
		}
		k := byte('C')
		switch ch.Kind {
		case 1:
			k = 'A'
		case 2:
			k = 'D'
		}
		out = append(out, Change{Kind: k, Path: ch.Path})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Path < out[b].Path })
	return out, nil
}

// mountPoints are files the runtime creates in a container's root
// filesystem to bind-mount over; like Docker, burrow leaves them out of
// diffs and commits when the image did not have them.
var mountPoints = map[string]bool{
	"/etc/hosts": true, "/etc/hostname": true, "/etc/resolv.conf": true,
	"/dev": true, "/proc": true, "/sys": true, "/dev/pts": true, "/dev/shm": true, "/dev/mqueue": true,
}

// CommitContainer makes an image of a container: its image's layers plus
// one new layer holding what the container changed (deletions as
// whiteouts), with the given config (whose RootFS lists the image's
// layers; the new one is appended).
func (s *Store) CommitContainer(ctx context.Context, c *Container, cfg *v1.ConfigFile, extra ConfigExtra, names []string) (*Image, error) {
	parent, err := s.Lookup(c.ImageID)
	if err != nil {
		return nil, err
	}
	// The diff stream holds the layer store's lock until it is closed, and
	// writing the new layer needs that lock: spool it first.
	spool, err := os.CreateTemp(s.opts.Root, ".commit-*.tar")
	if err != nil {
		return nil, fmt.Errorf("committing container %s: %w", short(c.ID), err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	diff, err := c.backend().diff(s, c)
	if err != nil {
		return nil, fmt.Errorf("reading the changes of container %s: %w", short(c.ID), err)
	}
	err = copyWithout(spool, diff, mountPoints)
	if cerr := diff.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("reading the changes of container %s: %w", short(c.ID), err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return s.CreateImage(ctx, NewImage{Parent: parent, Diff: spool, Config: cfg, Extra: extra, Names: names})
}

// copyWithout copies a tar stream, leaving out the directories and empty
// files at the given paths (the runtime's mount points).
func copyWithout(w io.Writer, r io.Reader, skip map[string]bool) error {
	_, err := copyWithoutCount(w, r, skip)
	return err
}

// copyWithoutCount is copyWithout that also counts the entries it kept.
func copyWithoutCount(w io.Writer, r io.Reader, skip map[string]bool) (int, error) {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	n := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return n, tw.Close()
		}
		if err != nil {
			return n, err
		}
		name := "/" + strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")
		if (h.Typeflag == tar.TypeReg && h.Size == 0 || h.Typeflag == tar.TypeDir) && skip[name] {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return n, err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return n, err
		}
		n++
	}
}

// RenameContainer gives a container a new name, refused with Docker's
// message when another container holds it.
func (s *Store) RenameContainer(c *Container, name string) error {
	unlock, err := s.lockWrite()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.lookupContainer(name, true); err == nil {
		return s.nameInUse(name)
	}
	return c.backend().rename(s, c, name)
}

// ContainerSize returns the size of what the container wrote (its
// writable layer) and that plus its image, as `ps -s` shows them.
func (s *Store) ContainerSize(c *Container) (rw, virtual int64, err error) {
	if rw, err = s.ContainerRWSize(c); err != nil {
		return 0, 0, err
	}
	img, err := s.Lookup(c.ImageID)
	if err != nil {
		return rw, rw, nil
	}
	return rw, rw + img.Size, nil
}

// ContainerRWSize is the bytes of what a container changed (its writable
// layer), without the image's size (which ContainerSize adds).
func (s *Store) ContainerRWSize(c *Container) (int64, error) {
	rw, err := c.backend().diffSize(s, c)
	if err != nil {
		return 0, fmt.Errorf("measuring container %s: %w", short(c.ID), err)
	}
	return rw, nil
}

// nameInUse is Docker's refusal of a container name another holds.
func (s *Store) nameInUse(name string) error {
	holder := "another container"
	if c, err := s.lookupContainer(name, true); err == nil {
		holder = c.ID
	}
	return fmt.Errorf("%w: Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name", ErrNameInUse, name, holder)
}

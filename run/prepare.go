package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	securejoin "github.com/cyphar/filepath-securejoin"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/idtools"

	"github.com/burrow-oci/burrow/run/network"
	"github.com/burrow-oci/burrow/storage"
)

// NetworkSettings are the host's choices for the user-mode network
// (config.toml's [network]); the zero value is the default.
type NetworkSettings struct {
	// HostFallback runs a container of the default network on the host's
	// network when /dev/net/tun is not usable, instead of in a private
	// namespace with loopback only.
	HostFallback bool
	// HostLoopback lets a container reach the host's 127.0.0.1 through
	// its gateway (10.0.2.2), where other users' services may listen.
	HostLoopback bool
	// Notice, if set, receives the one line that says outbound access
	// is unavailable.
	Notice func(string)
	Log    *slog.Logger
}

// ErrNoOutbound is the notice of a container on the default network
// where /dev/net/tun is not usable.
var ErrNoOutbound = errors.New("no outbound network access: /dev/net/tun is not usable here, so containers get a private network with loopback only; published ports still work (hint: run with --network host, or set fallback = \"host\" under [network] in config.toml, or ask an admin to chmod 0666 /dev/net/tun)")

// prepare mounts a container's root filesystem, resolves its user, writes
// its /etc files, makes its network (served by this process until the
// Process is closed) and builds the process Run starts.
func prepare(ctx context.Context, st *storage.Store, ctr *storage.Container, ns NetworkSettings) (p Process, err error) {
	// The network is made beside the root filesystem's mount: both wait
	// on the kernel.
	// On a user-defined network, a private namespace like the default
	// network's, whose eth0 the network's switch serves.
	mode, member, more, err := startNetworks(st, ctr, ns)
	if err != nil {
		return Process{}, err
	}
	var joined *joinedNetwork
	if NetworkContainer(mode) != "" {
		if joined, err = joinNetwork(st, ctr); err != nil {
			return Process{}, err
		}
		defer func() {
			if err != nil {
				joined.close()
			}
		}()
		mode = NetworkBridge // a namespace of its own, at NetNSPath
		if joined.ns == nil {
			mode = NetworkHost
		}
	}
	var net *network.Network
	var netErr error
	netDone := make(chan struct{})
	if mode == NetworkBridge && joined == nil {
		go func() {
			defer close(netDone)
			net, netErr = network.New(ctx, network.Options{Ports: ctr.Config.Ports, HostLoopback: ns.HostLoopback, Log: ns.Log, Member: member})
		}()
	} else {
		close(netDone)
	}
	defer func() {
		<-netDone
		if err != nil && net != nil {
			net.Close()
		}
	}()
	imgCfg, err := st.Config(ctr.ImageID)
	if err != nil {
		return Process{}, err
	}
	rootfs, err := st.MountContainer(ctr)
	if err != nil {
		return Process{}, err
	}
	userSpec := ctr.Config.User
	if userSpec == "" {
		userSpec = imgCfg.Config.User
	}
	dir, err := st.ContainerDir(ctr)
	if err != nil {
		return Process{}, err
	}
	etc := etcFiles{Network: mode, ExtraHosts: ctr.Config.AddHosts, Nameservers: ctr.Config.DNS,
		Search: ctr.Config.DNSSearch, Options: ctr.Config.DNSOptions}
	<-netDone
	if netErr != nil {
		return Process{}, netErr
	}
	if net != nil {
		if !net.Outbound() && ns.HostFallback && len(ctr.Config.Ports) == 0 && member == nil {
			net.Close()
			net, mode = nil, NetworkHost
			etc.Network = mode
		} else if !net.Outbound() && ns.Notice != nil {
			ns.Notice(ErrNoOutbound.Error())
		}
	}
	if net != nil {
		if err := connectEndpoints(ctx, st, ctr, net, ns, more); err != nil {
			return Process{}, err
		}
		etc.IP, etc.Gateway = net.IP(), net.Gateway()
		if len(etc.Nameservers) == 0 && net.DNSServer() != "" {
			etc.Nameservers = []string{net.DNSServer()}
		}
	}
	hostname := ctr.Config.Hostname
	if hostname == "" {
		hostname = defaultHostname(mode, ctr.ID[:12])
	}
	etc.Hostname = hostname
	var u User
	var files Files
	if joined != nil {
		// The other container's files and hostname, as Docker shares them.
		files = joined.files
		if joined.hostname != "" {
			hostname = joined.hostname
		}
		u, err = ResolveUser(rootfs, userSpec)
	} else {
		u, files, err = sandboxFiles(rootfs, userSpec, dir, etc)
	}
	if err != nil {
		return Process{}, err
	}
	singleID := st.SingleID()
	noticeNoNotify(st, singleID)
	opts := Options{
		Cmd: ctr.Config.Cmd, Entrypoint: ctr.Config.Entrypoint, Env: ctr.Config.Env,
		WorkingDir: ctr.Config.WorkingDir, Hostname: hostname, Network: mode,
		ReadOnly: ctr.Config.ReadOnly, Privileged: ctr.Config.Privileged,
		CapAdd: ctr.Config.CapAdd, CapDrop: ctr.Config.CapDrop, Tty: ctr.Config.Tty,
		SingleID: singleID,
	}
	if net != nil {
		opts.NetNSPath = net.Path()
	}
	if joined != nil && joined.ns != nil {
		opts.NetNSPath = joined.path()
	}
	sec, err := ParseSecurityOpts(ctr.Config.SecurityOpt)
	if err != nil {
		return Process{}, err
	}
	opts.Seccomp, opts.SeccompProfile, opts.NoNewPrivs = sec.Seccomp, sec.SeccompProfile, sec.NoNewPrivs
	for _, u := range ctr.Config.Ulimits {
		rl, err := ParseUlimit(u)
		if err != nil {
			return Process{}, err
		}
		opts.Rlimits = append(opts.Rlimits, rl)
	}
	if ctr.Config.Init {
		if opts.InitPath, err = os.Executable(); err != nil {
			return Process{}, fmt.Errorf("finding burrow's binary for --init: %w", err)
		}
	}
	if opts.Mounts, err = userMounts(st, ctr, rootfs, singleID); err != nil {
		return Process{}, err
	}
	spec, err := Spec(rootfs, &imgCfg.Config, opts, u, files)
	if err != nil {
		return Process{}, err
	}
	runDir, err := st.ContainerRunDir(ctr)
	if err != nil {
		return Process{}, err
	}
	return Process{ID: ctr.ID, Spec: spec, StateDir: st.RuntimeDir(), ExecDir: runDir, SingleID: singleID, Health: ctr.Config.Health, network: net, joined: joined}, nil
}

// defaultHostname is a sandbox's hostname when none is asked for: the
// host's on the host's network, name otherwise.
func defaultHostname(network, name string) string {
	if network == NetworkHost {
		if h, err := os.Hostname(); err == nil {
			return h
		}
	}
	return name
}

// sandboxFiles is what a container and a build step share before their
// spec: the user resolved in rootfs, and the /etc files written in dir.
func sandboxFiles(rootfs, userSpec, dir string, etc etcFiles) (User, Files, error) {
	u, err := ResolveUser(rootfs, userSpec)
	if err != nil {
		return User{}, Files{}, err
	}
	files, err := writeFiles(dir, etc)
	return u, files, err
}

// StepOptions describe a build step's process: RUN's command in a
// sandbox on the step's root filesystem.
type StepOptions struct {
	Rootfs string
	// Image is the stage's config: its user, environment, working
	// directory and shell.
	Image *v1.Config
	Args  []string
	Env   []string // added over the image's
	// Network is NetworkHost or NetworkNone.
	Network string
	// Mounts are RUN --mount's and the heredoc scripts'.
	Mounts []specs.Mount
	// Output receives the step's stdout and stderr.
	Output io.Writer
}

// Step runs a build step's command in a sandbox built as a container's is,
// and returns its exit code. Errors are as StartAttached's.
func Step(ctx context.Context, st *storage.Store, opts StepOptions) (int, error) {
	dir, err := st.TempDir("build-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	noticeNoNotify(st, st.SingleID())
	o := Options{
		Cmd: opts.Args, Entrypoint: []string{}, Env: opts.Env, Hostname: defaultHostname(opts.Network, "buildkitsandbox"),
		Network: opts.Network, SingleID: st.SingleID(), Mounts: opts.Mounts,
	}
	u, files, err := sandboxFiles(opts.Rootfs, opts.Image.User, dir, etcFiles{Hostname: o.Hostname, Network: o.Network})
	if err != nil {
		return 0, err
	}
	spec, err := Spec(opts.Rootfs, opts.Image, o, u, files)
	if err != nil {
		return 0, err
	}
	return Run(ctx, Process{
		ID: storage.NewID(), Spec: spec, StateDir: st.RuntimeDir(),
		Stdout: opts.Output, Stderr: opts.Output, SingleID: o.SingleID,
	}, nil)
}

// userMounts turns the container's -v, --mount and --tmpfs mounts into
// spec mounts. A volume used for the first time gets a copy of what the
// image has at its destination, as Docker fills a new volume.
func userMounts(st *storage.Store, ctr *storage.Container, rootfs string, singleID bool) ([]specs.Mount, error) {
	var out []specs.Mount
	for _, m := range ctr.Config.Mounts {
		opts := []string{"rbind", "rprivate"}
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		switch m.Type {
		case "bind":
			if _, err := os.Stat(m.Source); err != nil {
				return nil, fmt.Errorf("invalid mount config for type \"bind\": bind source path does not exist: %s", m.Source)
			}
			out = append(out, specs.Mount{Type: "bind", Source: m.Source, Destination: m.Destination, Options: opts})
		case "volume":
			v, created, err := st.EnsureVolume(m.Source, m.Anonymous)
			if err != nil {
				return nil, err
			}
			if created {
				if err := copyUp(rootfs, m.Destination, v.Mountpoint, singleID); err != nil {
					return nil, fmt.Errorf("filling volume %s from the image's %s: %w", m.Source, m.Destination, err)
				}
			}
			out = append(out, specs.Mount{Type: "bind", Source: v.Mountpoint, Destination: m.Destination, Options: opts})
		case "tmpfs":
			o := append([]string{"nosuid", "nodev"}, m.Options...)
			if m.ReadOnly {
				o = append(o, "ro")
			}
			out = append(out, specs.Mount{Type: "tmpfs", Source: "tmpfs", Destination: m.Destination, Options: o})
		}
	}
	return out, nil
}

// copyUp copies the image's content at dst (inside rootfs) into a new
// volume's directory, keeping owners (all the user's in single-id mode,
// where no other owner can be represented) and modes.
func copyUp(rootfs, dst, volume string, singleID bool) error {
	src, err := securejoin.SecureJoin(rootfs, dst)
	if err != nil {
		return err
	}
	fi, err := os.Stat(src)
	if err != nil || !fi.IsDir() {
		return nil // nothing there: the volume starts empty
	}
	copyTree := archive.NewDefaultArchiver().CopyWithTar
	if singleID {
		copyTree = archive.CopyWithTarAndChown(&idtools.IDPair{UID: 0, GID: 0}, nil, nil, nil)
	}
	if err := copyTree(src, volume); err != nil {
		return err
	}
	return os.Chmod(volume, fi.Mode().Perm())
}

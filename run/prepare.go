package run

import (
	"os"

	"github.com/burrow-oci/burrow/storage"
)

// Prepare mounts a container's root filesystem, resolves its user, writes
// its /etc files and builds the spec Run needs. singleID says the store is
// in single-id mode.
func Prepare(st *storage.Store, ctr *storage.Container, singleID bool) (Process, error) {
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
	u, err := ResolveUser(rootfs, userSpec)
	if err != nil {
		return Process{}, err
	}
	dir, err := st.ContainerDir(ctr)
	if err != nil {
		return Process{}, err
	}
	hostname := ctr.Config.Hostname
	if hostname == "" {
		hostname = ctr.ID[:12]
		if ctr.Config.NetworkMode == NetworkHost {
			if h, err := os.Hostname(); err == nil {
				hostname = h
			}
		}
	}
	files, err := WriteFiles(dir, hostname, ctr.Config.NetworkMode, ctr.Config.AddHosts)
	if err != nil {
		return Process{}, err
	}
	opts := Options{
		Cmd: ctr.Config.Cmd, Entrypoint: ctr.Config.Entrypoint, Env: ctr.Config.Env,
		WorkingDir: ctr.Config.WorkingDir, Hostname: hostname, Network: ctr.Config.NetworkMode,
		ReadOnly: ctr.Config.ReadOnly, Privileged: ctr.Config.Privileged,
		CapAdd: ctr.Config.CapAdd, CapDrop: ctr.Config.CapDrop, Tty: ctr.Config.Tty,
		SingleID: singleID,
	}
	spec, err := Spec(rootfs, &imgCfg.Config, opts, u, files)
	if err != nil {
		return Process{}, err
	}
	runDir, err := st.ContainerRunDir(ctr)
	if err != nil {
		return Process{}, err
	}
	return Process{ID: ctr.ID, Spec: spec, StateDir: runDir + "/runtime", ExecDir: runDir, SingleID: singleID}, nil
}

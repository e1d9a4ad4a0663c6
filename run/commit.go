package run

import (
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/storage"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"go.podman.io/storage/pkg/archive"
)

// CommitConfig is the new image's config: the image's, with what the
// container was run with (command, environment, working directory, user,
// labels) and a history entry for the new layer, as Docker records it.
func CommitConfig(img *v1.ConfigFile, ctr *storage.Container, author, message string) *v1.ConfigFile {
	cfg := *img
	cfg.Config = img.Config
	cc := ctr.Config
	if cc.Cmd != nil {
		cfg.Config.Cmd = cc.Cmd
	}
	if cc.Entrypoint != nil {
		cfg.Config.Entrypoint = cc.Entrypoint
	}
	if len(cc.Env) > 0 {
		cfg.Config.Env = Env(&img.Config, Options{Env: cc.Env}, "", "")
		// HOSTNAME and HOME are the container's, not the image's.
		var env []string
		for _, kv := range cfg.Config.Env {
			if !strings.HasPrefix(kv, "HOSTNAME=") && !(strings.HasPrefix(kv, "HOME=") && !hasEnv(img.Config.Env, "HOME") && !hasEnv(cc.Env, "HOME")) {
				env = append(env, kv)
			}
		}
		cfg.Config.Env = env
	}
	if cc.WorkingDir != "" {
		cfg.Config.WorkingDir = cc.WorkingDir
	}
	if cc.User != "" {
		cfg.Config.User = cc.User
	}
	if len(cc.Labels) > 0 {
		cfg.Config.Labels = maps.Clone(cfg.Config.Labels)
		if cfg.Config.Labels == nil {
			cfg.Config.Labels = map[string]string{}
		}
		maps.Copy(cfg.Config.Labels, cc.Labels)
	}
	now := time.Now().UTC()
	cfg.Created = v1.Time{Time: now}
	cfg.Container = ctr.ID
	if author != "" {
		cfg.Author = author
	}
	args := Args(&img.Config, Options{Cmd: cc.Cmd, Entrypoint: cc.Entrypoint})
	cfg.History = append(append([]v1.History(nil), img.History...), v1.History{
		Created: v1.Time{Time: now}, CreatedBy: strings.Join(args, " "), Author: author, Comment: message,
	})
	cfg.RootFS.DiffIDs = append([]v1.Hash(nil), img.RootFS.DiffIDs...)
	return &cfg
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

// Export opens a tar stream of a container's filesystem, which stays
// mounted until the stream is closed.
func Export(st *storage.Store, ctr *storage.Container) (io.ReadCloser, error) {
	root, err := st.MountContainer(ctr)
	if err != nil {
		return nil, err
	}
	tar, err := archive.Tar(root, archive.Uncompressed)
	if err != nil {
		_ = st.UnmountContainer(ctr)
		return nil, fmt.Errorf("exporting container %s: %w", ctr.Name, err)
	}
	return &exportStream{ReadCloser: tar, unmount: func() error { return st.UnmountContainer(ctr) }}, nil
}

type exportStream struct {
	io.ReadCloser
	unmount func() error
}

func (e *exportStream) Close() error {
	err := e.ReadCloser.Close()
	_ = e.unmount()
	return err
}

// ContainerConfig is a container's config as Docker shows it: the image's
// with the options it was created with applied.
func ContainerConfig(img *v1.Config, ctr *storage.Container) v1.Config {
	cfg := *img
	cc := ctr.Config
	cfg.Env = Env(&cfg, Options{Env: cc.Env}, cc.Hostname, "")
	if cc.Cmd != nil {
		cfg.Cmd = cc.Cmd
	}
	if cc.Entrypoint != nil {
		cfg.Entrypoint = cc.Entrypoint
	}
	if cc.WorkingDir != "" {
		cfg.WorkingDir = cc.WorkingDir
	}
	if cc.User != "" {
		cfg.User = cc.User
	}
	if cc.Hostname != "" {
		cfg.Hostname = cc.Hostname
	} else {
		cfg.Hostname = ctr.ID[:12]
	}
	if len(cc.Labels) > 0 {
		cfg.Labels = maps.Clone(cfg.Labels)
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		maps.Copy(cfg.Labels, cc.Labels)
	}
	cfg.Image, cfg.OpenStdin = cc.Image, cc.OpenStdin
	return cfg
}

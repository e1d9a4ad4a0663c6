package run

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/burrow-oci/burrow/storage"
)

// CreateOptions describe a container to create.
type CreateOptions struct {
	Image *storage.Image
	// ImageConfig is the image's config: its VOLUMEs become anonymous
	// volumes unless mounted over.
	ImageConfig *v1.Config
	// Name is the container's name; "" draws an adjective_noun one.
	Name   string
	Config storage.ContainerConfig
	// Ephemeral keeps the container in the run root only: a `run --rm` in
	// the foreground lives no longer than the command (storage/ephemeral.go).
	Ephemeral bool
}

// Create records a new container. Its status is created.
func Create(st *storage.Store, opts CreateOptions) (*storage.Container, error) {
	cfg := opts.Config
	if err := checkNetworkContainer(st, opts.Name, &cfg); err != nil {
		return nil, err
	}
	if IsUserNetwork(cfg.NetworkMode) {
		if _, err := st.Network(cfg.NetworkMode); err != nil {
			return nil, err
		}
	} else if len(cfg.NetworkAliases) > 0 {
		return nil, errors.New("network-scoped alias is supported only for containers in user defined networks")
	}
	cfg.Mounts = append([]storage.Mount(nil), cfg.Mounts...)
	taken := map[string]bool{}
	for _, m := range cfg.Mounts {
		taken[m.Destination] = true
	}
	if opts.ImageConfig != nil {
		var vols []string
		for v := range opts.ImageConfig.Volumes {
			vols = append(vols, v)
		}
		sort.Strings(vols)
		for _, v := range vols {
			if !taken[filepath.Clean(v)] {
				cfg.Mounts = append(cfg.Mounts, storage.Mount{Type: "volume", Destination: filepath.Clean(v)})
			}
		}
	}
	for i := range cfg.Mounts {
		if m := &cfg.Mounts[i]; m.Type == "volume" && m.Source == "" {
			m.Source, m.Anonymous = storage.NewID(), true
		}
	}
	// Without a name, an adjective_noun name is drawn; one that happens to
	// be taken is drawn again (the store checks names as it creates).
	name, generated := opts.Name, opts.Name == ""
	for try := 0; ; try++ {
		if generated {
			name = randomName()
			if try >= 10 {
				name += fmt.Sprintf("%d", try)
			}
		}
		ctr, err := st.CreateContainer(storage.NewContainer{Image: opts.Image, Name: name, Config: cfg, Ephemeral: opts.Ephemeral})
		if !generated || !errors.Is(err, storage.ErrNameInUse) || try == 20 {
			return ctr, err
		}
	}
}

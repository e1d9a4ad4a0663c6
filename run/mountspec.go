package run

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/burrow-oci/burrow/storage"
)

// ParseTmpfs reads --tmpfs PATH[:OPTIONS].
func ParseTmpfs(v string) storage.Mount {
	dst, opts, _ := strings.Cut(v, ":")
	m := storage.Mount{Type: "tmpfs", Destination: dst}
	if opts != "" {
		m.Options = strings.Split(opts, ",")
	}
	return m
}

// CheckMounts checks a container's mounts as Docker does, and cleans their
// destinations: absolute, each once; bind sources that exist; volume names
// Docker allows.
func CheckMounts(out []storage.Mount) error {
	seen := map[string]bool{}
	for i := range out {
		m := &out[i]
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("invalid mount path: '%s' mount path must be absolute", m.Destination)
		}
		m.Destination = filepath.Clean(m.Destination)
		if seen[m.Destination] {
			return fmt.Errorf("duplicate mount point: %s", m.Destination)
		}
		seen[m.Destination] = true
		if m.Type == "bind" {
			if _, err := os.Stat(m.Source); err != nil {
				return fmt.Errorf("invalid mount config for type \"bind\": bind source path does not exist: %s", m.Source)
			}
		}
		if m.Type == "volume" && m.Source != "" && !storage.ValidVolumeName(m.Source) {
			return fmt.Errorf("%q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", m.Source)
		}
	}
	return nil
}

// ParseVolume reads -v SRC:DST[:OPTS] or -v DST: a bind mount when SRC
// is a path, a named volume otherwise, an anonymous one without SRC.
func ParseVolume(v string) (storage.Mount, error) {
	parts := strings.Split(v, ":")
	var m storage.Mount
	switch len(parts) {
	case 1:
		return storage.Mount{Type: "volume", Destination: parts[0]}, nil
	case 2, 3:
		m.Source, m.Destination = parts[0], parts[1]
	default:
		return m, fmt.Errorf("invalid volume specification: '%s'", v)
	}
	if len(parts) == 3 {
		for _, o := range strings.Split(parts[2], ",") {
			switch o {
			case "ro":
				m.ReadOnly = true
			case "rw", "z", "Z", "shared", "rshared", "slave", "rslave", "private", "rprivate", "nocopy", "consistent", "cached", "delegated":
			default:
				return m, fmt.Errorf("invalid mode: %s", o)
			}
		}
	}
	m.Type = "volume"
	if strings.HasPrefix(m.Source, "/") || strings.HasPrefix(m.Source, ".") || strings.HasPrefix(m.Source, "~") {
		m.Type = "bind"
		src, err := absPath(m.Source)
		if err != nil {
			return m, err
		}
		m.Source = src
	}
	return m, nil
}

// ParseMount reads --mount type=...,source=...,target=...[,readonly].
func ParseMount(v string) (storage.Mount, error) {
	m := storage.Mount{Type: "volume"}
	for _, field := range strings.Split(v, ",") {
		k, val, hasVal := strings.Cut(field, "=")
		switch strings.ToLower(k) {
		case "type":
			m.Type = val
		case "source", "src":
			m.Source = val
		case "target", "destination", "dst":
			m.Destination = val
		case "readonly", "ro":
			m.ReadOnly = !hasVal || val == "true" || val == "1"
		case "tmpfs-size":
			m.Options = append(m.Options, "size="+val)
		case "tmpfs-mode":
			m.Options = append(m.Options, "mode="+val)
		case "bind-propagation", "consistency", "volume-nocopy", "bind-nonrecursive":
		default:
			return m, fmt.Errorf("invalid field '%s' must be a key=value pair", field)
		}
	}
	switch m.Type {
	case "bind":
		if m.Source == "" {
			return m, fmt.Errorf("invalid mount config for type \"bind\": field Source must not be empty")
		}
		src, err := absPath(m.Source)
		if err != nil {
			return m, err
		}
		m.Source = src
	case "volume", "tmpfs":
	default:
		return m, fmt.Errorf("invalid mount type %q (hint: bind, volume or tmpfs)", m.Type)
	}
	if m.Destination == "" {
		return m, fmt.Errorf("invalid mount config for type %q: field Target must not be empty", m.Type)
	}
	return m, nil
}

func absPath(p string) (string, error) {
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(h, p[2:])
		}
	}
	return filepath.Abs(p)
}

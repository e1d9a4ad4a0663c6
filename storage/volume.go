package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"
)

// Mount is a mount a container was created with: a bind mount of a host
// path, a volume (named, or anonymous with a generated name) or a tmpfs.
type Mount struct {
	Type        string // "bind", "volume" or "tmpfs"
	Source      string // host path, or volume name; "" for tmpfs
	Destination string
	ReadOnly    bool     `json:",omitempty"`
	Options     []string `json:",omitempty"` // tmpfs options such as size=64m
	Anonymous   bool     `json:",omitempty"` // a volume made for this container alone
}

// Volume is a named volume: a directory of the store's that outlives
// containers.
type Volume struct {
	Name      string
	CreatedAt time.Time
	Labels    map[string]string `json:",omitempty"`
	Anonymous bool              `json:",omitempty"`
	// Mountpoint is the directory containers see.
	Mountpoint string `json:"-"`
}

var validVolumeName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`) })

// ValidVolumeName reports whether name can name a volume (Docker's rule).
func ValidVolumeName(name string) bool { return validVolumeName().MatchString(name) }

func (s *Store) volumeDir(name string) string { return filepath.Join(s.opts.Root, "volumes", name) }

// EnsureVolume returns the volume called name, creating it when it does
// not exist; created says whether it did not.
func (s *Store) EnsureVolume(name string, anonymous bool) (v *Volume, created bool, err error) {
	if !ValidVolumeName(name) {
		return nil, false, fmt.Errorf("%q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed", name)
	}
	dir := s.volumeDir(name)
	meta := filepath.Join(dir, "volume.json")
	if data, err := os.ReadFile(meta); err == nil {
		var v Volume
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, false, fmt.Errorf("reading volume %s: %w", name, err)
		}
		v.Mountpoint = filepath.Join(dir, "_data")
		return &v, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("reading volume %s: %w", name, err)
	}
	v = &Volume{Name: name, CreatedAt: time.Now().UTC(), Anonymous: anonymous, Mountpoint: filepath.Join(dir, "_data")}
	if err := os.MkdirAll(v.Mountpoint, 0o755); err != nil {
		return nil, false, fmt.Errorf("creating volume %s: %w", name, err)
	}
	data, _ := json.Marshal(v)
	tmp := meta + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return nil, false, fmt.Errorf("creating volume %s: %w", name, err)
	}
	if err := os.Rename(tmp, meta); err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// RemoveVolume deletes a volume and its data.
func (s *Store) RemoveVolume(name string) error {
	if !ValidVolumeName(name) {
		return fmt.Errorf("invalid volume name %q", name)
	}
	if err := os.RemoveAll(s.volumeDir(name)); err != nil {
		return fmt.Errorf("removing volume %s: %w", name, err)
	}
	return nil
}

// RemoveAnonymousVolumes removes the volumes made for the container alone
// (rm -v, and --rm, as Docker does); named volumes stay.
func (s *Store) RemoveAnonymousVolumes(c *Container) error {
	var errs []error
	for _, m := range c.Config.Mounts {
		if m.Type == "volume" && m.Anonymous {
			errs = append(errs, s.RemoveVolume(m.Source))
		}
	}
	return errors.Join(errs...)
}

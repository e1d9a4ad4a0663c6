package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/burrow-oci/burrow/storage/atomicfile"
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
	// Options are the driver options it was created with.
	Options map[string]string `json:"-"`
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
	if _, err := os.Stat(meta); err == nil {
		v, err := s.Volume(name)
		return v, false, err
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("reading volume %s: %w", name, err)
	}
	v = &Volume{Name: name, CreatedAt: time.Now().UTC(), Anonymous: anonymous, Mountpoint: filepath.Join(dir, "_data")}
	if err := os.MkdirAll(v.Mountpoint, 0o755); err != nil {
		return nil, false, fmt.Errorf("creating volume %s: %w", name, err)
	}
	data, _ := json.Marshal(v)
	// An anonymous volume lives as long as its container: not synced, so
	// that run --rm of an image with a VOLUME pays no sync.
	d := atomicfile.Durable
	if anonymous {
		d = atomicfile.NoSync
	}
	if err := atomicfile.Write(meta, data, 0o600, d); err != nil {
		return nil, false, fmt.Errorf("creating volume %s: %w", name, err)
	}
	return v, true, nil
}

// removeVolume deletes a volume's directory and data, without the checks
// of DeleteVolume (its callers made them, or own the volume alone).
func (s *Store) removeVolume(name string) error {
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
			errs = append(errs, s.removeVolume(m.Source))
		}
	}
	return errors.Join(errs...)
}

// ErrNoSuchVolume is a volume name that names no volume.
var ErrNoSuchVolume = errors.New("no such volume")

// VolumeNotFoundError names the volume that was not found.
type VolumeNotFoundError struct{ Name string }

func (e *VolumeNotFoundError) Error() string { return "no such volume: " + e.Name }

// Is makes errors.Is(err, ErrNoSuchVolume) true.
func (e *VolumeNotFoundError) Is(target error) bool { return target == ErrNoSuchVolume }

// VolumeOptions are what `volume create` sets on a new volume.
type VolumeOptions struct {
	Labels map[string]string
	// Options are the local driver's options (-o); only a bind of a host
	// directory (type=none, o=bind, device=PATH) can be honoured without
	// privileges.
	Options map[string]string
}

// volumeFile is a volume's record, volume.json.
type volumeFile struct {
	Volume
	Options map[string]string `json:",omitempty"`
}

// CreateVolume makes a named volume (a random name when name is ""), or
// returns the existing one of that name, as Docker does.
func (s *Store) CreateVolume(name string, o VolumeOptions) (*Volume, error) {
	if name == "" {
		id := NewID()
		name = id
	}
	if v, err := s.Volume(name); err == nil {
		return v, nil
	}
	device := ""
	for k := range o.Options {
		switch k {
		case "type", "o", "device":
		default:
			return nil, fmt.Errorf("invalid option %q for the local volume driver (hint: -o type=none -o o=bind -o device=/path binds a directory)", k)
		}
	}
	if len(o.Options) > 0 {
		if o.Options["type"] != "none" || !strings.Contains(o.Options["o"], "bind") || o.Options["device"] == "" {
			return nil, fmt.Errorf("volume options %v cannot be honoured without privileges (hint: only -o type=none -o o=bind -o device=/path, a bind of a directory, can)", o.Options)
		}
		device = o.Options["device"]
		if fi, err := os.Stat(device); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("volume device %s is not a directory", device)
		}
	}
	v, _, err := s.EnsureVolume(name, false)
	if err != nil {
		return nil, err
	}
	if len(o.Labels) > 0 || device != "" {
		f := volumeFile{Volume: *v, Options: o.Options}
		f.Labels = o.Labels
		if err := s.writeVolume(&f); err != nil {
			return nil, err
		}
	}
	return s.Volume(name)
}

func (s *Store) writeVolume(f *volumeFile) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	meta := filepath.Join(s.volumeDir(f.Name), "volume.json")
	if err := atomicfile.Write(meta, data, 0o600, atomicfile.Durable); err != nil {
		return fmt.Errorf("recording volume %s: %w", f.Name, err)
	}
	return nil
}

// Volume reads a volume, or returns a *VolumeNotFoundError.
func (s *Store) Volume(name string) (*Volume, error) {
	if !ValidVolumeName(name) {
		return nil, &VolumeNotFoundError{Name: name}
	}
	data, err := os.ReadFile(filepath.Join(s.volumeDir(name), "volume.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, &VolumeNotFoundError{Name: name}
	}
	if err != nil {
		return nil, fmt.Errorf("reading volume %s: %w", name, err)
	}
	var f volumeFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("reading volume %s: %w", name, err)
	}
	v := f.Volume
	v.Options = f.Options
	v.Mountpoint = filepath.Join(s.volumeDir(name), "_data")
	if d := f.Options["device"]; d != "" {
		v.Mountpoint = d
	}
	return &v, nil
}

// Volumes lists every volume, by name.
func (s *Store) Volumes() ([]Volume, error) {
	ents, err := os.ReadDir(filepath.Join(s.opts.Root, "volumes"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	var out []Volume
	for _, e := range ents {
		v, err := s.Volume(e.Name())
		if errors.Is(err, ErrNoSuchVolume) {
			continue // a volume half created or half removed
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

// VolumeUsers maps each volume name to the IDs of the containers (running
// or not) that mount it.
func (s *Store) VolumeUsers() (map[string][]string, error) {
	ctrs, err := s.Containers()
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, c := range ctrs {
		for _, m := range c.Config.Mounts {
			if m.Type == "volume" && m.Source != "" {
				users[m.Source] = append(users[m.Source], c.ID)
			}
		}
	}
	return users, nil
}

// VolumeInUseError is a volume that containers mount.
type VolumeInUseError struct {
	Name       string
	Containers []string
}

func (e *VolumeInUseError) Error() string {
	return fmt.Sprintf("remove %s: volume is in use - [%s] (hint: remove the container first)", e.Name, strings.Join(e.Containers, ", "))
}

// DeleteVolume removes a volume no container uses, with its data (files of
// subordinate owners too: the caller is in the user namespace).
func (s *Store) DeleteVolume(name string) (int64, error) {
	unlock, err := s.lockWrite()
	if err != nil {
		return 0, err
	}
	defer unlock()
	v, err := s.Volume(name)
	if err != nil {
		return 0, err
	}
	users, err := s.VolumeUsers()
	if err != nil {
		return 0, err
	}
	if u := users[name]; len(u) > 0 {
		return 0, &VolumeInUseError{Name: name, Containers: u}
	}
	size := int64(0)
	if v.Options["device"] == "" {
		size = dirSize(v.Mountpoint)
	}
	// The record goes first, so that a removal cut short leaves no volume
	// that looks whole.
	if err := os.Remove(filepath.Join(s.volumeDir(name), "volume.json")); err != nil {
		return 0, fmt.Errorf("removing volume %s: %w", name, err)
	}
	return size, s.removeVolume(name)
}

// VolumeSize is the bytes of regular files under a volume's directory.
func (s *Store) VolumeSize(v *Volume) int64 { return dirSize(v.Mountpoint) }

// VolumePruneOptions select the volumes PruneVolumes removes.
type VolumePruneOptions struct {
	// All removes named volumes too; otherwise only anonymous ones (Docker
	// 23's rule).
	All bool
	// Keep, if set, is asked about each candidate; true keeps it.
	Keep func(v *Volume) bool
}

// PruneVolumes removes the volumes no container mounts.
func (s *Store) PruneVolumes(o VolumePruneOptions) (*Removal, error) {
	vols, err := s.Volumes()
	if err != nil {
		return nil, err
	}
	r := &Removal{}
	for i := range vols {
		v := &vols[i]
		if !o.All && !v.Anonymous {
			continue
		}
		if o.Keep != nil && o.Keep(v) {
			continue
		}
		size, err := s.DeleteVolume(v.Name)
		var inUse *VolumeInUseError
		if errors.As(err, &inUse) || errors.Is(err, ErrNoSuchVolume) {
			continue
		}
		if err != nil {
			return r, err
		}
		r.Deleted = append(r.Deleted, v.Name)
		r.Reclaimed += size
	}
	return r, nil
}

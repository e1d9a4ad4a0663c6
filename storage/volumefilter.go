package storage

import (
	"fmt"
	"strings"
)

// VolumeFilter selects volumes by Docker's `volume ls` and `volume prune`
// filters, all of which a volume must meet. The zero value keeps every
// volume.
type VolumeFilter struct {
	tests []func(v *Volume, used bool) bool
	// dangling is whether a dangling= condition needs to know which
	// volumes containers use.
	dangling bool
}

// ParseVolumeFilters reads `volume ls` filters: dangling=true|false,
// name=SUBSTRING, label=KEY[=VALUE] and label!=KEY[=VALUE]. Its errors are
// meant for the user as they are.
func ParseVolumeFilters(in []string) (VolumeFilter, error) {
	return parseVolumeFilters(in, true)
}

// ParseVolumePruneFilters reads `volume prune` filters: label= and label!=
// only.
func ParseVolumePruneFilters(in []string) (VolumeFilter, error) {
	return parseVolumeFilters(in, false)
}

func parseVolumeFilters(in []string, ls bool) (VolumeFilter, error) {
	var f VolumeFilter
	for _, kv := range in {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return VolumeFilter{}, fmt.Errorf("bad format of filter (expected name=value): %q", kv)
		}
		switch {
		case k == "dangling" && ls:
			want := val == "true" || val == "1"
			if !want && val != "false" && val != "0" {
				return VolumeFilter{}, fmt.Errorf("invalid filter 'dangling=%s' (hint: true or false)", val)
			}
			f.dangling = true
			f.tests = append(f.tests, func(_ *Volume, used bool) bool { return used != want })
		case k == "name" && ls:
			f.tests = append(f.tests, func(v *Volume, _ bool) bool { return strings.Contains(v.Name, val) })
		case k == "label" || k == "label!":
			neg := k == "label!"
			f.tests = append(f.tests, func(v *Volume, _ bool) bool { return HasLabel(v.Labels, val) != neg })
		default:
			return VolumeFilter{}, fmt.Errorf("invalid filter '%s'", k)
		}
	}
	return f, nil
}

// NeedsContainers reports whether the filter asks which volumes
// containers use (dangling=): only then must the whole store be open, not
// just its volumes.
func (f *VolumeFilter) NeedsContainers() bool { return f.dangling }

// Match reports whether v meets every condition; used says whether a
// container mounts it.
func (f *VolumeFilter) Match(v *Volume, used bool) bool {
	for _, t := range f.tests {
		if !t(v, used) {
			return false
		}
	}
	return true
}

// FilterVolumes lists the volumes f keeps, by name. It reads the
// containers only when f.NeedsContainers().
func (s *Store) FilterVolumes(f VolumeFilter) ([]Volume, error) {
	vols, err := s.Volumes()
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	if f.NeedsContainers() {
		if users, err = s.VolumeUsers(); err != nil {
			return nil, err
		}
	}
	var out []Volume
	for i := range vols {
		if f.Match(&vols[i], len(users[vols[i].Name]) > 0) {
			out = append(out, vols[i])
		}
	}
	return out, nil
}

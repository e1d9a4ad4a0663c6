package storage

import (
	"fmt"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/storage/reference"
)

// ImageFilter selects the images `images` lists: Docker's --filter
// conditions (dangling, reference, label, before, since), all of which an
// image must meet. The zero value keeps every image but the intermediate
// ones.
type ImageFilter struct {
	// Dangling, when set, keeps only images that are (true) or are not
	// (false) nameless.
	Dangling *bool
	// References are name patterns (reference.Match); an image is kept
	// when one of its names matches one of them.
	References []string
	// Labels are "key" or "key=value" conditions the image's config
	// labels must all meet.
	Labels []string
	// Before and Since are image references: only images created before
	// (after) that image are kept.
	Before, Since string
	// All keeps intermediate images too: nameless images whose top layer
	// is below another image's (a build's steps), which Docker hides.
	All bool
}

// ParseImageFilters reads `images --filter` values ("dangling=true",
// "reference=busy*", "label=k=v", "before=IMAGE", "since=IMAGE"). Its
// errors are meant for the user as they are.
func ParseImageFilters(in []string) (ImageFilter, error) {
	var f ImageFilter
	for _, kv := range in {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return ImageFilter{}, fmt.Errorf("bad format of filter (expected name=value): %q", kv)
		}
		switch strings.ToLower(k) {
		case "dangling":
			switch strings.ToLower(v) {
			case "true", "1":
				t := true
				f.Dangling = &t
			case "false", "0":
				t := false
				f.Dangling = &t
			default:
				return ImageFilter{}, fmt.Errorf("invalid filter 'dangling=%s' (hint: use dangling=true or dangling=false)", v)
			}
		case "reference":
			f.References = append(f.References, v)
		case "label":
			f.Labels = append(f.Labels, v)
		case "before":
			f.Before = v
		case "since":
			f.Since = v
		default:
			return ImageFilter{}, fmt.Errorf("invalid filter '%s' (hint: images filters are dangling, reference, label, before and since)", k)
		}
	}
	return f, nil
}

// MatchesName reports whether name matches one of the reference filters,
// or there are none: `images` lists only the names that match.
func (f *ImageFilter) MatchesName(name string) bool {
	if len(f.References) == 0 {
		return true
	}
	return matchesAny(name, f.References)
}

func matchesAny(name string, patterns []string) bool {
	for _, p := range patterns {
		if reference.Match(name, p) {
			return true
		}
	}
	return false
}

// FilterImages lists the images f keeps, newest first. Before and Since
// must name images in the store; a label condition reads the configs of
// the images that meet the other conditions.
func (s *Store) FilterImages(f ImageFilter) ([]Image, error) {
	imgs, err := s.Images()
	if err != nil {
		return nil, err
	}
	var before, since time.Time
	for _, p := range []struct {
		ref string
		t   *time.Time
	}{{f.Before, &before}, {f.Since, &since}} {
		if p.ref == "" {
			continue
		}
		img, err := s.Lookup(p.ref)
		if err != nil {
			return nil, err
		}
		*p.t = img.Created
	}
	var intermediate map[string]bool
	if !f.All {
		intermediate = intermediateImages(imgs)
	}
	var out []Image
	for i := range imgs {
		img := &imgs[i]
		if intermediate[img.ID] || !f.matchListed(img, before, since) {
			continue
		}
		if len(f.Labels) > 0 {
			ok, err := s.matchLabels(img, f.Labels)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		out = append(out, *img)
	}
	return out, nil
}

// matchListed checks the conditions that need no more than the listing.
func (f *ImageFilter) matchListed(img *Image, before, since time.Time) bool {
	if f.Dangling != nil && img.Dangling() != *f.Dangling {
		return false
	}
	if len(f.References) > 0 {
		found := false
		for _, n := range img.Names {
			if matchesAny(n, f.References) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	if !before.IsZero() && !img.Created.Before(before) {
		return false
	}
	if !since.IsZero() && !img.Created.After(since) {
		return false
	}
	return true
}

// matchLabels reports whether an image's config has every label filter
// ("key" or "key=value").
func (s *Store) matchLabels(img *Image, filters []string) (bool, error) {
	cfg, err := s.Config(img.ID)
	if err != nil {
		return false, err
	}
	for _, lf := range filters {
		if !HasLabel(cfg.Config.Labels, lf) {
			return false, nil
		}
	}
	return true, nil
}

// intermediateImages are nameless images whose top layer is below another
// image's: the steps of a build, hidden unless -a, as Docker hides them.
func intermediateImages(imgs []Image) map[string]bool {
	below := map[string]bool{}
	for _, img := range imgs {
		for _, l := range img.Layers[:max(0, len(img.Layers)-1)] {
			below[l] = true
		}
	}
	out := map[string]bool{}
	for _, img := range imgs {
		if img.Dangling() && len(img.Digests) == 0 && below[img.TopLayer] {
			out[img.ID] = true
		}
	}
	return out
}

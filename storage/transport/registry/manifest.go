package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"strings"

	"github.com/burrow-oci/burrow/storage/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// fetchManifest resolves a name to an image: for an index, the entry for the
// platform asked for. It returns the image's manifest and config, and the
// digest the name points to (the index's, for an index), as Docker
// records it. go-containerregistry checks the digest of what it fetches
// by digest.
func fetchManifest(ctx context.Context, c *client, rt http.RoundTripper, ep Endpoint, full, platform string) (*v1.Manifest, []byte, v1.Hash, error) {
	what := reference.Short(full)
	fail := func(err error) (*v1.Manifest, []byte, v1.Hash, error) {
		return nil, nil, v1.Hash{}, c.wrapManifestErr(err, what)
	}
	desc, err := remote.Get(ep.Ref, remoteOptions(ctx, rt)...)
	if err != nil {
		return fail(err)
	}
	mt := desc.MediaType
	if !mt.IsIndex() && !mt.IsImage() {
		// A registry that does not say: the manifest may.
		var probe struct {
			MediaType types.MediaType   `json:"mediaType"`
			Manifests []json.RawMessage `json:"manifests"`
		}
		_ = json.Unmarshal(desc.Manifest, &probe)
		switch {
		case probe.MediaType != "":
			mt = probe.MediaType
		case probe.Manifests != nil:
			mt = types.OCIImageIndex
		case !mt.IsSchema1():
			mt = types.OCIManifestSchema1
		}
		desc.MediaType = mt
	}
	var img v1.Image
	switch {
	case mt.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return fail(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, nil, v1.Hash{}, fmt.Errorf("decoding the index of %s: %w", what, err)
		}
		want, err := parsePlatform(platform)
		if err != nil {
			return nil, nil, v1.Hash{}, err
		}
		chosen, err := pickPlatform(im, want)
		if err != nil {
			return nil, nil, v1.Hash{}, err
		}
		if img, err = idx.Image(chosen.Digest); err != nil {
			return fail(err)
		}
		if cmt, _ := img.MediaType(); cmt.IsIndex() || cmt.IsSchema1() {
			mt, img = cmt, nil
		}
	case mt.IsImage():
		if img, err = desc.Image(); err != nil {
			return fail(err)
		}
	}
	if img == nil {
		return nil, nil, v1.Hash{}, fmt.Errorf("%s on %s is a %s, not an image (hint: burrow pulls OCI and Docker schema 2 images)", what, c.host, mt)
	}
	m, err := img.Manifest()
	if err != nil {
		return fail(err)
	}
	raw, err := img.RawConfigFile()
	if err != nil && strings.Contains(err.Error(), "error verifying") {
		return nil, nil, v1.Hash{}, &Error{Host: c.host, Err: ErrDigestMismatch,
			Msg: fmt.Sprintf("the config blob %s from %s has a different digest or size (hint: the registry's copy is damaged)", m.Config.Digest, c.host)}
	} else if err != nil {
		return nil, nil, v1.Hash{}, c.wrapErr(fmt.Errorf("reading the config blob %s: %w", m.Config.Digest, err), what)
	}
	return m, raw, desc.Digest, nil
}

// wrapManifestErr words a failure to fetch a manifest, such as one whose
// digest is not the one asked for (go-containerregistry says so in words
// only).
func (c *client) wrapManifestErr(err error, what string) error {
	var have, want string
	msg := err.Error()
	if i := strings.Index(msg, "manifest digest: "); i >= 0 && strings.Contains(msg, "does not match requested digest") {
		if _, serr := fmt.Sscanf(msg[i:], "manifest digest: %q does not match requested digest: %q", &have, &want); serr == nil {
			return &Error{Host: c.host, Err: ErrDigestMismatch,
				Msg: fmt.Sprintf("manifest for %s from %s has digest %s, not the %s asked for (hint: the registry's copy is damaged or was replaced)", what, c.host, have, want)}
		}
	}
	return c.wrapErr(err, what)
}

// parsePlatform parses "os/arch[/variant]"; "" is the host's platform.
func parsePlatform(s string) (v1.Platform, error) {
	if s == "" {
		p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
		switch runtime.GOARCH {
		case "arm64":
			p.Variant = "v8"
		case "arm":
			p.Variant = "v7"
		}
		return p, nil
	}
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return v1.Platform{}, fmt.Errorf("invalid platform %q (hint: os/arch[/variant], such as linux/amd64 or linux/arm/v7)", s)
	}
	return *p, nil
}

// pickPlatform chooses the index entry for a platform: same OS and
// architecture, and the same variant when both name one (an exact variant
// wins). Its error lists the platforms the index has.
func pickPlatform(im *v1.IndexManifest, want v1.Platform) (v1.Descriptor, error) {
	best := -1
	for i, d := range im.Manifests {
		p := d.Platform
		if p == nil || p.OS != want.OS || p.Architecture != want.Architecture {
			continue
		}
		if p.Variant == want.Variant {
			return d, nil
		}
		if (p.Variant == "" || want.Variant == "") && best < 0 {
			best = i
		}
	}
	if best >= 0 {
		return im.Manifests[best], nil
	}
	var have []string
	seen := map[string]bool{}
	for _, d := range im.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" {
			continue
		}
		s := d.Platform.OS + "/" + d.Platform.Architecture
		if d.Platform.Variant != "" {
			s += "/" + d.Platform.Variant
		}
		if !seen[s] {
			seen[s] = true
			have = append(have, s)
		}
	}
	sort.Strings(have)
	w := want.OS + "/" + want.Architecture
	if want.Variant != "" {
		w += "/" + want.Variant
	}
	return v1.Descriptor{}, &PlatformError{Want: w, Have: have}
}

// PlatformError is an image that has no manifest for the platform asked for.
type PlatformError struct {
	Want string
	Have []string
}

func (e *PlatformError) Error() string {
	return fmt.Sprintf("no matching manifest for %s in the manifest list entries (hint: the image has %s; choose one with --platform)", e.Want, strings.Join(e.Have, ", "))
}

package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strings"

	"github.com/burrow-oci/burrow/storage"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// regAccept lists the manifest types a pull takes.
var regAccept = strings.Join([]string{
	string(types.OCIImageIndex), string(types.DockerManifestList),
	string(types.OCIManifestSchema1), string(types.DockerManifestSchema2),
}, ", ")

// regGetManifest fetches a manifest by tag or digest, checking a digest.
func regGetManifest(ctx context.Context, c *regClient, hc *http.Client, repo, ref, what string) ([]byte, types.MediaType, v1.Hash, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/v2/"+repo+"/manifests/"+ref), nil)
	if err != nil {
		return nil, "", v1.Hash{}, err
	}
	req.Header.Set("Accept", regAccept)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", v1.Hash{}, c.wrapErr(err, what)
	}
	defer regDrain(resp.Body)
	if err := regCheck(resp, http.StatusOK); err != nil {
		return nil, "", v1.Hash{}, c.wrapErr(err, what)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, "", v1.Hash{}, c.wrapErr(fmt.Errorf("reading the manifest: %w", err), what)
	}
	sum := sha256.Sum256(data)
	have := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	if strings.HasPrefix(ref, "sha256:") && have.String() != ref {
		return nil, "", v1.Hash{}, &RegistryError{Registry: c.host, Err: ErrDigestMismatch,
			Msg: fmt.Sprintf("manifest for %s from %s has digest %s, not the %s asked for (hint: the registry's copy is damaged or was replaced)", what, c.host, have, ref)}
	}
	mt := types.MediaType(strings.TrimSpace(strings.Split(resp.Header.Get("Content-Type"), ";")[0]))
	var probe struct {
		MediaType types.MediaType   `json:"mediaType"`
		Manifests []json.RawMessage `json:"manifests"`
	}
	_ = json.Unmarshal(data, &probe)
	if probe.MediaType != "" {
		mt = probe.MediaType
	} else if !mt.IsIndex() && !mt.IsImage() {
		mt = types.OCIManifestSchema1
		if probe.Manifests != nil {
			mt = types.OCIImageIndex
		}
	}
	return data, mt, have, nil
}

// regImageManifest resolves a name to an image manifest: for an index,
// the entry for the platform asked for. The digest returned is the one
// the name points to (the index's, for an index), as Docker records it.
func regImageManifest(ctx context.Context, c *regClient, hc *http.Client, ep Endpoint, full, platform string) (*v1.Manifest, v1.Hash, error) {
	what := storage.ShortName(full)
	data, mt, dgst, err := regGetManifest(ctx, c, hc, ep.Repository(), ep.Ref.Identifier(), what)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	if mt.IsIndex() {
		im, err := v1.ParseIndexManifest(bytes.NewReader(data))
		if err != nil {
			return nil, v1.Hash{}, fmt.Errorf("decoding the index of %s: %w", what, err)
		}
		want, err := regParsePlatform(platform)
		if err != nil {
			return nil, v1.Hash{}, err
		}
		chosen, err := regPickPlatform(im, want)
		if err != nil {
			return nil, v1.Hash{}, err
		}
		data, mt, _, err = regGetManifest(ctx, c, hc, ep.Repository(), chosen.Digest.String(), what)
		if err != nil {
			return nil, v1.Hash{}, err
		}
	}
	if !mt.IsImage() {
		return nil, v1.Hash{}, fmt.Errorf("%s on %s is a %s, not an image (hint: burrow pulls OCI and Docker schema 2 images)", what, c.host, mt)
	}
	m, err := v1.ParseManifest(bytes.NewReader(data))
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("decoding the manifest of %s: %w", what, err)
	}
	return m, dgst, nil
}

// regGetBlob reads a small blob (a config) and checks its digest.
func regGetBlob(ctx context.Context, c *regClient, hc *http.Client, repo string, d v1.Descriptor) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/v2/"+repo+"/blobs/"+d.Digest.String()), nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer regDrain(resp.Body)
	if err := regCheck(resp, http.StatusOK); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != d.Digest.Hex {
		return nil, &RegistryError{Registry: c.host, Err: ErrDigestMismatch,
			Msg: fmt.Sprintf("the config blob %s from %s has a different digest (hint: the registry's copy is damaged)", d.Digest, c.host)}
	}
	return data, nil
}

// regParsePlatform parses "os/arch[/variant]"; "" is the host's platform.
func regParsePlatform(s string) (v1.Platform, error) {
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

// regPickPlatform chooses the index entry for a platform: same OS and
// architecture, and the same variant when both name one (an exact variant
// wins). Its error lists the platforms the index has.
func regPickPlatform(im *v1.IndexManifest, want v1.Platform) (v1.Descriptor, error) {
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

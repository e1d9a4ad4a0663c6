package registry

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestResolve(t *testing.T) {
	regs := []Config{
		{Prefix: "docker.io", Location: "registry.example:5000", Mirrors: []string{"mirror.example:5000"}},
		{Prefix: "docker.io/library/special", Location: "special.example/lib", Insecure: true},
		{Prefix: "quay.io", Mirrors: []string{"127.0.0.1:6000"}},
	}
	type ep struct {
		ref      string
		insecure bool
		mirror   bool
	}
	tests := []struct {
		name string
		full string
		pull bool
		want []ep
	}{
		{"relocated pull tries the mirror first", "docker.io/library/busybox:latest", true,
			[]ep{{"mirror.example:5000/library/busybox:latest", false, true}, {"registry.example:5000/library/busybox:latest", false, false}}},
		{"push goes to the location only", "docker.io/myuser/app:1", false,
			[]ep{{"registry.example:5000/myuser/app:1", false, false}}},
		{"longest prefix wins", "docker.io/library/special:2", true,
			[]ep{{"special.example/lib:2", true, false}}},
		{"prefix matches whole components", "docker.io/library/specialist:2", false,
			[]ep{{"registry.example:5000/library/specialist:2", false, false}}},
		{"no location keeps the prefix", "quay.io/org/x@sha256:" + sha, true,
			[]ep{{"127.0.0.1:6000/org/x@sha256:" + sha, true, true}, {"quay.io/org/x@sha256:" + sha, false, false}}},
		{"unmatched names go where they say", "ghcr.io/a/b:c", true,
			[]ep{{"ghcr.io/a/b:c", false, false}}},
		{"loopback is insecure", "localhost:5000/a:latest", false,
			[]ep{{"localhost:5000/a:latest", true, false}}},
		{"a tag and a digest fetch by digest", "127.0.0.1:5000/a:v1@sha256:" + sha, true,
			[]ep{{"127.0.0.1:5000/a@sha256:" + sha, true, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(regs, tt.full, tt.pull)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d endpoints (%v), want %d", len(got), got, len(tt.want))
			}
			for i, g := range got {
				w := tt.want[i]
				if g.Ref.Name() != w.ref || g.Insecure != w.insecure || g.Mirror != w.mirror {
					t.Errorf("endpoint %d = %s insecure=%v mirror=%v, want %s insecure=%v mirror=%v", i, g.Ref.Name(), g.Insecure, g.Mirror, w.ref, w.insecure, w.mirror)
				}
			}
		})
	}
}

const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestResolveHost(t *testing.T) {
	regs := []Config{{Prefix: "docker.io", Location: "127.0.0.1:5000"}, {Prefix: "quay.io", Insecure: true}}
	tests := []struct {
		in, host string
		insecure bool
	}{
		{"", "127.0.0.1:5000", true},
		{"https://index.docker.io/v1/", "127.0.0.1:5000", true},
		{"quay.io", "quay.io", true},
		{"ghcr.io", "ghcr.io", false},
		{"[::1]:5000", "[::1]:5000", true},
	}
	for _, tt := range tests {
		host, ins := ResolveHost(regs, tt.in)
		if host != tt.host || ins != tt.insecure {
			t.Errorf("ResolveHost(%q) = %s, %v; want %s, %v", tt.in, host, ins, tt.host, tt.insecure)
		}
	}
}

func TestPickPlatform(t *testing.T) {
	d := func(hex, os, arch, variant string) v1.Descriptor {
		return v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: hex}, Platform: &v1.Platform{OS: os, Architecture: arch, Variant: variant}}
	}
	im := &v1.IndexManifest{Manifests: []v1.Descriptor{
		d("a1", "linux", "amd64", ""),
		d("a2", "linux", "arm", "v6"),
		d("a3", "linux", "arm", "v7"),
		d("a4", "linux", "arm64", ""),
		d("a5", "unknown", "unknown", ""),
	}}
	tests := []struct {
		want v1.Platform
		hex  string
	}{
		{v1.Platform{OS: "linux", Architecture: "amd64"}, "a1"},
		{v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, "a3"},
		{v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, "a4"},
	}
	for _, tt := range tests {
		got, err := pickPlatform(im, tt.want)
		if err != nil || got.Digest.Hex != tt.hex {
			t.Errorf("pick %v = %s, %v; want %s", tt.want, got.Digest.Hex, err, tt.hex)
		}
	}
	_, err := pickPlatform(im, v1.Platform{OS: "linux", Architecture: "s390x"})
	var pe *PlatformError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a PlatformError", err)
	}
	if want := "no matching manifest for linux/s390x in the manifest list entries (hint: the image has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64; choose one with --platform)"; err.Error() != want {
		t.Errorf("error:\n %s\nwant\n %s", err, want)
	}
}

// schemes records the schemes asked for and answers plain HTTP alone.
type schemes struct {
	mu   sync.Mutex
	seen []string
}

func (r *schemes) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req.URL.Scheme)
	r.mu.Unlock()
	if req.URL.Scheme == "https" {
		return nil, errors.New("http: server gave HTTP response to HTTPS client")
	}
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req, Header: http.Header{}}, nil
}

func TestSecureRegistryNoPlainHTTP(t *testing.T) {
	// go-containerregistry would fall back to plain HTTP for a private
	// address; burrow does so only for insecure registries.
	for _, insecure := range []bool{false, true} {
		rt := &schemes{}
		opts := Options{Transport: rt}
		c, err := opts.newClientWith("10.1.2.3:5000", insecure, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.transport(context.Background())
		if insecure && err != nil {
			t.Errorf("insecure: %v", err)
		}
		if !insecure && (err == nil || !strings.Contains(err.Error(), "not marked insecure") || slices.Contains(rt.seen, "http")) {
			t.Errorf("secure: %v, schemes asked %v", err, rt.seen)
		}
	}
}

func TestCandidates(t *testing.T) {
	two := []string{"registry.example:5000", "docker.io"}
	tests := []struct {
		search []string
		ref    string
		want   []string
	}{
		{nil, "busybox", []string{"docker.io/library/busybox:latest"}},
		{[]string{"docker.io"}, "user/app:1", []string{"docker.io/user/app:1"}},
		{two, "busybox", []string{"registry.example:5000/busybox:latest", "docker.io/library/busybox:latest"}},
		{two, "user/app@sha256:" + strings.Repeat("a", 64), []string{"registry.example:5000/user/app@sha256:" + strings.Repeat("a", 64), "docker.io/user/app@sha256:" + strings.Repeat("a", 64)}},
		{two, "quay.io/x/y", []string{"quay.io/x/y:latest"}},
		{two, "localhost/y", []string{"localhost/y:latest"}},
		{two, "host:5000/y:2", []string{"host:5000/y:2"}},
	}
	for _, tt := range tests {
		got, err := Candidates(tt.search, tt.ref)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Candidates(%q, %q) = %q, %v; want %q", tt.search, tt.ref, got, err, tt.want)
		}
	}
}

// Package registry moves images between the store and OCI registries: pull,
// push, login, logout, tag listing and search. Names are relocated with
// the vocabulary of containers' registries.conf (Config), credentials come
// from Podman's and Docker's auth files, and failures reach callers as
// *Error values wrapping the sentinels below.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"

	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/google/go-containerregistry/pkg/name"
	remotetransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Config relocates image names, with the vocabulary of containers'
// registries.conf: names under Prefix are served from Location, for pull,
// push, login, logout and search alike; Mirrors are tried first, for pulls
// only.
type Config struct {
	// Prefix is a registry host ("docker.io") or a repository prefix
	// ("docker.io/library").
	Prefix string
	// Location replaces Prefix ("" keeps it).
	Location string
	// Insecure allows plain HTTP and unverified TLS (for Location and
	// Mirrors).
	Insecure bool
	// Mirrors are locations tried, in order, before Location for pulls.
	Mirrors []string
}

// Options is what every registry operation needs: where names go,
// and whose credentials to use. The zero value talks to the registries the
// names say, with the credentials of Podman's and Docker's files.
type Options struct {
	// Registries relocates names (the longest matching prefix wins).
	Registries []Config
	// SearchRegistries are the registries a short name ("busybox",
	// "user/app") is pulled from, tried in order (registries.conf's
	// unqualified-search-registries). Empty, or docker.io alone, means
	// Docker's rule: docker.io. Push, login and search ignore it.
	SearchRegistries []string
	// AuthFile is where login stores credentials ("" = DefaultAuthFile()).
	AuthFile string
	// TLSVerify, when set to false, allows plain HTTP and unverified TLS
	// for every registry (push --tls-verify=false).
	TLSVerify *bool
	// Log receives debug details; nil discards them.
	Log *slog.Logger
	// Transport is the HTTP transport under the registry protocol (tests);
	// nil means a tuned default.
	Transport http.RoundTripper
}

func (o *Options) log() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

// Endpoint is one place an image name can be fetched from or sent to.
type Endpoint struct {
	// Ref is the name as the endpoint knows it ("127.0.0.1:5000/library/busybox:latest").
	Ref name.Reference
	// Insecure allows plain HTTP and unverified TLS.
	Insecure bool
	// Mirror says the endpoint is a pull mirror.
	Mirror bool
}

// Registry is the endpoint's registry host.
func (e Endpoint) Registry() string { return normalizeHost(e.Ref.Context().RegistryStr()) }

// Repository is the repository path at the endpoint ("library/busybox").
func (e Endpoint) Repository() string { return e.Ref.Context().RepositoryStr() }

// Resolve turns a name as the store records it ("docker.io/library/busybox:latest")
// into the endpoints to try, in order: for pulls the mirrors of the
// longest matching prefix, then its location; for other uses the location
// alone. A name no prefix matches is served by the registry it names.
func Resolve(regs []Config, full string, pull bool) ([]Endpoint, error) {
	repo, suffix := splitSuffix(full)
	var best *Config
	for i := range regs {
		r := &regs[i]
		p := strings.TrimSuffix(r.Prefix, "/")
		if repo == p || strings.HasPrefix(repo, p+"/") {
			if best == nil || len(p) > len(strings.TrimSuffix(best.Prefix, "/")) {
				best = r
			}
		}
	}
	var out []Endpoint
	add := func(loc string, insecure, mirror bool) error {
		rest := strings.TrimPrefix(repo, strings.TrimSuffix(best.Prefix, "/"))
		target := strings.TrimSuffix(loc, "/") + rest
		ref, err := parseRef(target+suffix, insecure)
		if err != nil {
			return fmt.Errorf("relocating %s to %s: %w", full, loc, err)
		}
		out = append(out, Endpoint{Ref: ref, Insecure: insecure || isLoopback(ref.Context().RegistryStr()), Mirror: mirror})
		return nil
	}
	if best == nil {
		ref, err := parseRef(full, false)
		if err != nil {
			return nil, err
		}
		return []Endpoint{{Ref: ref, Insecure: isLoopback(ref.Context().RegistryStr())}}, nil
	}
	if pull {
		for _, m := range best.Mirrors {
			if err := add(m, best.Insecure, true); err != nil {
				return nil, err
			}
		}
	}
	loc := best.Location
	if loc == "" {
		loc = best.Prefix
	}
	if err := add(loc, best.Insecure, false); err != nil {
		return nil, err
	}
	return out, nil
}

// IsShortName says whether a name as a user typed it names no registry:
// its first path component has no '.' or ':' and is not "localhost", as
// Docker and containers/image decide.
func IsShortName(ref string) bool {
	i := strings.IndexByte(ref, '/')
	if i < 0 {
		return true
	}
	d := ref[:i]
	return !strings.ContainsAny(d, ".:") && d != "localhost"
}

// Candidates is the full names a pull of ref tries, in order: ref's own
// full name, unless it is a short name and search lists registries other
// than docker.io alone; then ref under each registry of search (docker.io
// adding library/ to one-part names, as Docker does; other registries
// take the name as it is, as Podman does).
func Candidates(search []string, ref string) ([]string, error) {
	full, err := reference.Normalize(ref)
	if err != nil {
		return nil, err
	}
	if !IsShortName(ref) || len(search) == 0 || len(search) == 1 && normalizeHost(search[0]) == "docker.io" {
		return []string{full}, nil
	}
	out := make([]string, 0, len(search))
	for _, r := range search {
		r = strings.TrimSuffix(r, "/")
		if normalizeHost(r) == "docker.io" {
			r = "docker.io"
		}
		c, err := reference.Normalize(r + "/" + ref)
		if err != nil {
			return nil, fmt.Errorf("unqualified-search-registries entry %q: %w", r, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// ResolveHost is the registry host that serves a registry name given to
// login, logout or search ("" means docker.io), after relocation.
func ResolveHost(regs []Config, host string) (host2 string, insecure bool) {
	host = normalizeHost(host)
	var best *Config
	for i := range regs {
		p := strings.TrimSuffix(regs[i].Prefix, "/")
		if p == host && (best == nil || len(p) > len(best.Prefix)) {
			best = &regs[i]
		}
	}
	if best == nil || best.Location == "" {
		ins := isLoopback(host)
		if best != nil {
			ins = ins || best.Insecure
		}
		return host, ins
	}
	loc := best.Location
	if i := strings.Index(loc, "/"); i >= 0 {
		loc = loc[:i]
	}
	return loc, best.Insecure || isLoopback(loc)
}

// normalizeHost turns what a user gives login ("", "https://index.docker.io/v1/",
// "registry:5000/") into a host.
func normalizeHost(h string) string {
	h = strings.TrimPrefix(strings.TrimPrefix(h, "https://"), "http://")
	if i := strings.Index(h, "/"); i >= 0 {
		h = h[:i]
	}
	switch h {
	case "", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return "docker.io"
	}
	return h
}

// splitSuffix splits a full name into its repository and its ":tag" or
// "@digest" suffix.
func splitSuffix(full string) (repo, suffix string) {
	if i := strings.Index(full, "@"); i >= 0 {
		repo, suffix = full[:i], full[i:]
		if j := strings.LastIndex(repo, ":"); j > strings.LastIndex(repo, "/") {
			repo = repo[:j]
		}
		return repo, suffix
	}
	if j := strings.LastIndex(full, ":"); j > strings.LastIndex(full, "/") {
		return full[:j], full[j:]
	}
	return full, ""
}

func parseRef(s string, insecure bool) (name.Reference, error) {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	opts = append(opts, name.WithDefaultRegistry("docker.io"))
	// A digest wins over a tag: "name:tag@sha256:..." is fetched by digest.
	if i := strings.Index(s, "@"); i >= 0 {
		repo, _ := splitSuffix(s)
		return name.NewDigest(repo+s[i:], opts...)
	}
	return name.NewTag(s, opts...)
}

// isLoopback reports whether a registry host is on this machine, which
// Docker treats as insecure by default.
func isLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Errors that callers branch on.
var (
	// ErrUnauthorized is a registry that refused the credentials.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrManifestUnknown is a tag or digest the registry does not have.
	ErrManifestUnknown = errors.New("manifest unknown")
	// ErrDigestMismatch is content whose digest is not the one asked for.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrUnreachable is a registry that cannot be reached.
	ErrUnreachable = errors.New("registry unreachable")
)

// Error is a failure of a registry operation, worded for users.
type Error struct {
	Host string // the host asked
	Msg  string // one line, with a hint
	Err  error  // a sentinel above, or the cause
}

func (e *Error) Error() string { return e.Msg }

// Unwrap gives the sentinel or the cause.
func (e *Error) Unwrap() error { return e.Err }

// wrapErr words a registry failure for users. what names the object
// ("busybox:latest") where it helps.
func (c *client) wrapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var re *Error
	if errors.As(err, &re) || errors.Is(err, context.Canceled) {
		return err
	}
	var te *remotetransport.Error
	if errors.As(err, &te) {
		switch {
		case te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden || hasCode(te, remotetransport.UnauthorizedErrorCode, remotetransport.DeniedErrorCode):
			return &Error{Host: c.host, Err: ErrUnauthorized,
				Msg: fmt.Sprintf("unauthorized: the registry %s refused access%s (hint: run `burrow login %s`, and check that the repository exists and you may use it)", c.host, forWhat(what), c.host)}
		case hasCode(te, remotetransport.ManifestUnknownErrorCode, remotetransport.NameUnknownErrorCode) || te.StatusCode == http.StatusNotFound:
			return &Error{Host: c.host, Err: ErrManifestUnknown,
				Msg: fmt.Sprintf("manifest for %s not found: manifest unknown: the registry %s has no such tag or digest (hint: check the name and tag, e.g. with `burrow search`)", what, c.host)}
		}
		return &Error{Host: c.host, Err: err, Msg: fmt.Sprintf("registry %s: %s", c.host, oneLine(errText(te)))}
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dnsErr) || errors.As(err, &opErr) || strings.Contains(err.Error(), "connection refused") {
		return &Error{Host: c.host, Err: ErrUnreachable,
			Msg: fmt.Sprintf("cannot reach the registry %s at %s: %s (hint: check that it is running and the address in the name or in config.toml's [registries])", c.host, c.v2URL(), rootCause(err))}
	}
	if strings.Contains(err.Error(), "x509:") || strings.Contains(err.Error(), "tls:") {
		return &Error{Host: c.host, Err: err,
			Msg: fmt.Sprintf("registry %s: TLS: %s (hint: for a registry with a self-signed certificate, set insecure = true for it in config.toml's [[registries.registry]], or pass --tls-verify=false)", c.host, rootCause(err))}
	}
	return &Error{Host: c.host, Err: err, Msg: fmt.Sprintf("registry %s: %s", c.host, oneLine(err.Error()))}
}

func forWhat(what string) string {
	if what == "" {
		return ""
	}
	return " to " + what
}

// rootCause is the innermost error's text.
func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return oneLine(err.Error())
		}
		err = u
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", "; ")
	return strings.TrimSpace(s)
}

// hasCode says whether a registry's error answer has one of codes.
func hasCode(te *remotetransport.Error, codes ...remotetransport.ErrorCode) bool {
	for _, d := range te.Errors {
		if slices.Contains(codes, d.Code) {
			return true
		}
	}
	return false
}

// errText is a registry's error answer without the request.
func errText(te *remotetransport.Error) string {
	var parts []string
	for _, d := range te.Errors {
		parts = append(parts, strings.ToLower(string(d.Code))+": "+d.Message)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%d %s", te.StatusCode, http.StatusText(te.StatusCode))
	}
	return strings.Join(parts, "; ")
}

// LookupSearched finds a short name in the store under each of the
// unqualified-search-registries in turn, as Podman does, so that a name
// pulled from the second registry is found without pulling again.
func LookupSearched(st *storage.Store, search []string, ref string) (*storage.Image, error) {
	img, err := st.Lookup(ref)
	if err == nil || !errors.Is(err, storage.ErrImageUnknown) {
		return img, err
	}
	cands, cerr := Candidates(search, ref)
	if cerr != nil || len(cands) < 2 {
		return img, err
	}
	for _, full := range cands {
		if found, ferr := st.Lookup(full); ferr == nil {
			return found, nil
		}
	}
	return nil, err
}

// Ensure finds ref in the store, under each search registry for a short
// name, and pulls it (with pull, told whether the store lacks it) as
// policy says, as run's and create's --pull do: missing (the default)
// pulls an image the store lacks, always pulls first, never only looks.
// An image ID is never pulled.
func Ensure(ctx context.Context, st *storage.Store, ref string, search []string, policy string, pull func(ctx context.Context, missing bool) (*storage.Image, error)) (*storage.Image, error) {
	img, err := LookupSearched(st, search, ref)
	if err == nil && policy != "always" {
		return img, nil
	}
	if err != nil && !errors.Is(err, storage.ErrImageUnknown) {
		return nil, err
	}
	if policy == "never" {
		return nil, fmt.Errorf("%w (hint: --pull=never forbids pulling; burrow pull it, or import or load it first)", err)
	}
	if _, nerr := reference.Normalize(ref); nerr != nil || err == nil && reference.IsImageID(ref) {
		return img, err
	}
	pulled, perr := pull(ctx, err != nil)
	if perr != nil && err != nil {
		return nil, fmt.Errorf("%w, and pulling it failed: %w", err, perr)
	}
	return pulled, perr
}

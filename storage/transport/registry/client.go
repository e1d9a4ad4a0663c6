package registry

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	remotetransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// The registry protocol is go-containerregistry's: its transport pings
// /v2/ (over https, and plain http as well for an insecure registry),
// follows the challenge, fetches bearer tokens for the scopes an operation
// needs or sends Basic credentials; its remote package reads and writes
// manifests and blobs. burrow adds which registry a name goes to, whose
// credentials to use, the resumable parallel layer download, and the
// errors users read.

// client is one registry host with the user's credentials for it.
type client struct {
	host string // as burrow records it: "docker.io", "127.0.0.1:5000"
	reg  name.Registry
	base http.RoundTripper
	auth authn.Authenticator
}

// newClient prepares to talk to a registry host with the credentials
// the auth files have for it; nothing is sent yet.
func (o *Options) newClient(ctx context.Context, host string, insecure bool) (*client, error) {
	c, err := o.newClientWith(host, insecure, nil)
	if err != nil {
		return nil, err
	}
	if c.auth, err = authn.Resolve(ctx, o.keychain(), c.reg); err != nil {
		return nil, err
	}
	return c, nil
}

// newClientWith is newClient with the given credentials (nil for
// none).
func (o *Options) newClientWith(host string, insecure bool, auth authn.Authenticator) (*client, error) {
	if o.TLSVerify != nil && !*o.TLSVerify {
		insecure = true
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("invalid registry %q: %w", host, err)
	}
	if auth == nil {
		auth = authn.Anonymous
	}
	base := remotetransport.NewUserAgent(o.baseTransport(insecure), "burrow")
	if !insecure {
		base = &httpsOnly{inner: base, host: reg.RegistryStr()}
	}
	return &client{host: normalizeHost(host), reg: reg, base: base, auth: auth}, nil
}

// baseTransport is an HTTP transport with more idle connections per host
// than the default (layers move in parallel) and, for insecure registries,
// no TLS verification.
func (o *Options) baseTransport(insecure bool) http.RoundTripper {
	if o.Transport != nil {
		return o.Transport
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	t.ResponseHeaderTimeout = 60 * time.Second
	if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user said so, or it is loopback
	}
	return t
}

// httpsOnly refuses plain HTTP to a registry that is not insecure:
// go-containerregistry falls back to it for private addresses (RFC 1918,
// *.local) by itself, which Docker and Podman do not do.
type httpsOnly struct {
	inner http.RoundTripper
	host  string
}

func (t *httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && req.URL.Host == t.host {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("not trying plain HTTP: the registry %s is not marked insecure (hint: if it has no TLS, set insecure = true for it in config.toml's [[registries.registry]], or pass --tls-verify=false)", t.host)
	}
	return t.inner.RoundTrip(req)
}

// v2URL is the registry's API root, as users would type it.
func (c *client) v2URL() string { return c.reg.Scheme() + "://" + c.reg.RegistryStr() + "/v2/" }

// transport pings the registry and returns a RoundTripper that
// authenticates requests to it for scopes (go-containerregistry's; see
// remotetransport.NewWithContext).
func (c *client) transport(ctx context.Context, scopes ...string) (http.RoundTripper, error) {
	rt, err := remotetransport.NewWithContext(ctx, c.reg, c.auth, c.base, scopes)
	if err != nil {
		return nil, c.wrapErr(err, "")
	}
	return rt, nil
}

// remoteOptions is the options of go-containerregistry's remote calls over rt.
func remoteOptions(ctx context.Context, rt http.RoundTripper) []remote.Option {
	return []remote.Option{remote.WithTransport(rt), remote.WithContext(ctx)}
}

// blobURL is where a repository's blob is (the scheme is settled by the
// ping: the transport changes it).
func blobURL(repo name.Repository, dgst string) string {
	u := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + "/blobs/" + dgst}
	return u.String()
}

package transport

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The registry protocol's handshake (the distribution spec's token
// authentication): ping /v2/ to learn the scheme (https, or http for an
// insecure registry) and the challenge; for Bearer, get a token for the
// scopes an operation needs from the realm, with the user's credentials
// if any; for Basic, send the credentials with each request.

// regClient talks to one registry host.
type regClient struct {
	host     string // as names spell it: "docker.io", "127.0.0.1:5000"
	api      string // where to connect: "registry-1.docker.io" for docker.io
	insecure bool
	hc       *http.Client
	user     string
	pass     string
	log      *slog.Logger

	pingOnce sync.Once
	pingErr  error
	scheme   string
	chal     regChallenge
}

// regChallenge is what /v2/ answered without credentials.
type regChallenge struct {
	kind    string // "", "bearer" or "basic"
	realm   string
	service string
}

// newRegClient prepares to talk to a registry host with the credentials
// the auth files have for it; nothing is sent yet.
func (o *RegistryOptions) newRegClient(ctx context.Context, host string, insecure bool) (*regClient, error) {
	if o.TLSVerify != nil && !*o.TLSVerify {
		insecure = true
	}
	user, pass, err := o.credentials(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("reading the credentials for %s: %w", host, err)
	}
	return o.newRegClientWith(host, insecure, user, pass), nil
}

func (o *RegistryOptions) newRegClientWith(host string, insecure bool, user, pass string) *regClient {
	api := host
	if host == "docker.io" || host == "index.docker.io" {
		api = "registry-1.docker.io"
	}
	return &regClient{host: host, api: api, insecure: insecure, user: user, pass: pass, log: o.log(),
		hc: &http.Client{Transport: o.baseTransport(insecure)}}
}

// baseTransport is an HTTP transport with more idle connections per host
// than the default (layers move in parallel) and, for insecure registries,
// no TLS verification.
func (o *RegistryOptions) baseTransport(insecure bool) http.RoundTripper {
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

// base is the registry's URL prefix ("https://host").
func (c *regClient) base() string {
	s := c.scheme
	if s == "" {
		s = "https"
	}
	return s + "://" + c.api
}

// url is the address of a registry API path.
func (c *regClient) url(path string) string { return c.base() + path }

// ping learns the registry's scheme and challenge, once. An insecure
// registry is asked over https and plain http at once: a port speaks one
// of them, so the first answer settles it (no wait for a TLS handshake to
// fail against a plain HTTP server).
func (c *regClient) ping(ctx context.Context) error {
	c.pingOnce.Do(func() {
		if !c.insecure {
			c.scheme = "https"
			ch, err := c.pingScheme(ctx, "https")
			c.chal, c.pingErr = ch, c.wrapErr(err, "")
			return
		}
		type result struct {
			scheme string
			ch     regChallenge
			err    error
		}
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		results := make(chan result, 2)
		for _, s := range []string{"https", "http"} {
			go func(s string) {
				ch, err := c.pingScheme(pctx, s)
				results <- result{s, ch, err}
			}(s)
		}
		errs := map[string]error{}
		for range 2 {
			r := <-results
			if r.err == nil {
				c.scheme, c.chal = r.scheme, r.ch
				return
			}
			errs[r.scheme] = r.err
		}
		// The telling error: a TLS server refuses plain HTTP with a 400,
		// and a plain server fails the TLS handshake.
		c.scheme = "http"
		err := errs["http"]
		if he, ok := err.(*regHTTPError); ok && he.Status == http.StatusBadRequest {
			c.scheme, err = "https", errs["https"]
		}
		c.pingErr = c.wrapErr(err, "")
	})
	return c.pingErr
}

func (c *regClient) pingScheme(ctx context.Context, scheme string) (regChallenge, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+c.api+"/v2/", nil)
	if err != nil {
		return regChallenge{}, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return regChallenge{}, err
	}
	defer regDrain(resp.Body)
	switch resp.StatusCode {
	case http.StatusOK:
		return regChallenge{}, nil
	case http.StatusUnauthorized:
		return regParseChallenge(resp.Header.Get("WWW-Authenticate")), nil
	}
	return regChallenge{}, regCheck(resp, http.StatusOK)
}

// regParseChallenge reads `Bearer realm="...",service="..."`.
func regParseChallenge(h string) regChallenge {
	kind, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	ch := regChallenge{kind: strings.ToLower(kind)}
	for rest != "" {
		var kv string
		rest = strings.TrimLeft(rest, " ,")
		if k, v, ok := strings.Cut(rest, "="); ok {
			if strings.HasPrefix(v, `"`) {
				end := strings.Index(v[1:], `"`)
				if end < 0 {
					end = len(v) - 1
				}
				kv, rest = v[1:end+1], v[min(end+2, len(v)):]
			} else {
				kv, rest, _ = strings.Cut(v, ",")
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "realm":
				ch.realm = kv
			case "service":
				ch.service = kv
			}
		} else {
			break
		}
	}
	return ch
}

// token gets a bearer token for scopes ("repository:NAME:pull,push").
func (c *regClient) token(ctx context.Context, scopes []string) (string, error) {
	u, err := url.Parse(c.chal.realm)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && (c.insecure || c.scheme == "http"))) {
		return "", fmt.Errorf("the registry %s names a bad token realm %q", c.host, c.chal.realm)
	}
	q := u.Query()
	if c.chal.service != "" {
		q.Set("service", c.chal.service)
	}
	for _, s := range scopes {
		q.Add("scope", s)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer regDrain(resp.Body)
	if err := regCheck(resp, http.StatusOK); err != nil {
		return "", err
	}
	var tr struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		return "", fmt.Errorf("reading a token from %s: %w", c.chal.realm, err)
	}
	if tr.Token == "" {
		tr.Token = tr.AccessToken
	}
	return tr.Token, nil
}

// transport pings the registry and returns a RoundTripper that
// authenticates requests to it for scopes.
func (c *regClient) transport(ctx context.Context, scopes ...string) (http.RoundTripper, error) {
	if err := c.ping(ctx); err != nil {
		return nil, err
	}
	rt := &regAuthRT{c: c}
	switch c.chal.kind {
	case "bearer":
		tok, err := c.token(ctx, scopes)
		if err != nil {
			return nil, c.wrapErr(err, "")
		}
		if tok != "" {
			rt.header = "Bearer " + tok
		}
	case "basic":
		if c.user != "" {
			req, _ := http.NewRequest(http.MethodGet, "/", nil)
			req.SetBasicAuth(c.user, c.pass)
			rt.header = req.Header.Get("Authorization")
		}
	}
	return rt, nil
}

// regAuthRT adds the registry's scheme and credentials to requests for it
// (not to redirects elsewhere, such as blob storage).
type regAuthRT struct {
	c      *regClient
	header string
}

func (t *regAuthRT) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("User-Agent", "burrow")
	if req.URL.Host == t.c.api {
		req.URL.Scheme = t.c.scheme
		if t.header != "" {
			req.Header.Set("Authorization", t.header)
		}
	}
	return t.c.hc.Transport.RoundTrip(req)
}

// regHTTPError is a registry's error answer.
type regHTTPError struct {
	Status int
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (e *regHTTPError) Error() string {
	var parts []string
	for _, d := range e.Errors {
		parts = append(parts, strings.ToLower(d.Code)+": "+d.Message)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	}
	return strings.Join(parts, "; ")
}

func (e *regHTTPError) hasCode(codes ...string) bool {
	for _, d := range e.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}

// regCheck turns an unexpected status into a *regHTTPError.
func regCheck(resp *http.Response, ok ...int) error {
	for _, c := range ok {
		if resp.StatusCode == c {
			return nil
		}
	}
	e := &regHTTPError{Status: resp.StatusCode}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(body, e)
	return e
}

package transport

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Credentials live where Podman keeps them, so that a user logged in with
// Podman is logged in here and the other way round; Docker's
// config.json (with its credential helpers) is read too.

// DefaultAuthFile is Podman's credentials file:
// $XDG_RUNTIME_DIR/containers/auth.json, or
// ~/.config/containers/auth.json when XDG_RUNTIME_DIR is unset.
func DefaultAuthFile() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "containers", "auth.json")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".config", "containers", "auth.json")
}

func (o *RegistryOptions) authFile() string {
	if o.AuthFile != "" {
		return o.AuthFile
	}
	return DefaultAuthFile()
}

// regAuthConfig is an entry of an auth file.
type regAuthConfig struct {
	Auth          string `json:"auth,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
}

// regAuthFile is the part of auth.json and config.json read here.
type regAuthFile struct {
	Auths       map[string]regAuthConfig `json:"auths"`
	CredsStore  string                   `json:"credsStore"`
	CredHelpers map[string]string        `json:"credHelpers"`
}

func regReadAuthFile(path string) (*regAuthFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &regAuthFile{}, nil
		}
		return nil, err
	}
	var f regAuthFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("reading %s: %w (hint: fix or remove the file)", path, err)
	}
	return &f, nil
}

// lookup finds the entry for host; keys may be URLs ("https://index.docker.io/v1/").
func (f *regAuthFile) lookup(host string) (user, pass string, ok bool) {
	for k, a := range f.Auths {
		if regNormalizeHost(k) != host {
			continue
		}
		if a.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				continue
			}
			u, p, _ := strings.Cut(string(raw), ":")
			return u, p, true
		}
		if a.Username != "" {
			return a.Username, a.Password, true
		}
	}
	return "", "", false
}

// credentials finds the user's credentials for a registry host: burrow's
// (Podman's) auth file, Podman's persistent one, then Docker's config with
// its credential helpers. None is not an error.
func (o *RegistryOptions) credentials(ctx context.Context, host string) (string, string, error) {
	home, _ := os.UserHomeDir()
	files := []string{o.authFile()}
	if home != "" {
		files = append(files, filepath.Join(home, ".config", "containers", "auth.json"))
	}
	for _, p := range files {
		f, err := regReadAuthFile(p)
		if err != nil {
			return "", "", err
		}
		if u, pw, ok := f.lookup(host); ok {
			return u, pw, nil
		}
	}
	dockerDir := os.Getenv("DOCKER_CONFIG")
	if dockerDir == "" && home != "" {
		dockerDir = filepath.Join(home, ".docker")
	}
	if dockerDir == "" {
		return "", "", nil
	}
	f, err := regReadAuthFile(filepath.Join(dockerDir, "config.json"))
	if err != nil {
		return "", "", err
	}
	helper := f.CredsStore
	for k, h := range f.CredHelpers {
		if regNormalizeHost(k) == host {
			helper = h
		}
	}
	if helper != "" {
		return regHelperGet(ctx, helper, host)
	}
	u, pw, _ := f.lookup(host)
	return u, pw, nil
}

// regHelperGet asks a Docker credential helper (docker-credential-NAME).
func regHelperGet(ctx context.Context, helper, host string) (string, string, error) {
	server := host
	if host == "docker.io" {
		server = "https://index.docker.io/v1/"
	}
	cmd := exec.CommandContext(ctx, "docker-credential-"+helper, "get")
	cmd.Stdin = strings.NewReader(server)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if strings.Contains(out.String()+errb.String(), "credentials not found") {
			return "", "", nil
		}
		if errors.Is(err, exec.ErrNotFound) {
			return "", "", fmt.Errorf("Docker's config names the credential helper docker-credential-%s, which is not installed (hint: install it, or remove credsStore/credHelpers from ~/.docker/config.json)", helper)
		}
		return "", "", fmt.Errorf("docker-credential-%s: %v: %s", helper, err, strings.TrimSpace(errb.String()))
	}
	var c struct{ Username, Secret string }
	if err := json.Unmarshal(out.Bytes(), &c); err != nil {
		return "", "", fmt.Errorf("docker-credential-%s: %w", helper, err)
	}
	if c.Username == "<token>" {
		return "", "", nil
	}
	return c.Username, c.Secret, nil
}

// LoginHost is the registry host login, logout and search talk to for
// what the user typed ("" = docker.io), after relocation.
func LoginHost(opts RegistryOptions, server string) (host string, insecure bool) {
	return ResolveRegistry(opts.Registries, server)
}

// Login checks credentials against a registry and stores them in the auth
// file. Refused credentials are not stored (ErrUnauthorized).
func Login(ctx context.Context, opts RegistryOptions, server, user, pass string) (host string, err error) {
	host, insecure := LoginHost(opts, server)
	c := opts.newRegClientWith(host, insecure || (opts.TLSVerify != nil && !*opts.TLSVerify), user, pass)
	if err := c.ping(ctx); err != nil {
		return host, err
	}
	if err := c.verifyLogin(ctx); err != nil {
		return host, err
	}
	return host, regUpdateAuthFile(opts.authFile(), func(f map[string]json.RawMessage) {
		for k := range f {
			if regNormalizeHost(k) == host {
				delete(f, k)
			}
		}
		entry, _ := json.Marshal(regAuthConfig{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))})
		f[host] = entry
	})
}

// verifyLogin makes an authenticated request: a token for no scope, or
// /v2/ with Basic credentials.
func (c *regClient) verifyLogin(ctx context.Context) error {
	refused := &RegistryError{Registry: c.host, Err: ErrUnauthorized,
		Msg: fmt.Sprintf("login to %s refused: unauthorized: incorrect username or password (hint: check them; nothing was stored)", c.host)}
	switch c.chal.kind {
	case "bearer":
		if _, err := c.token(ctx, nil); err != nil {
			var he *regHTTPError
			if errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden) {
				return refused
			}
			return c.wrapErr(err, "")
		}
	case "basic":
		rt, err := c.transport(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/v2/"), nil)
		if err != nil {
			return err
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return c.wrapErr(err, "")
		}
		regDrain(resp.Body)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return refused
		}
	}
	return nil
}

// Logout removes the credentials for a registry from the auth file;
// found is false when there were none.
func Logout(opts RegistryOptions, server string) (host string, found bool, err error) {
	host, _ = LoginHost(opts, server)
	err = regUpdateAuthFile(opts.authFile(), func(f map[string]json.RawMessage) {
		for k := range f {
			if regNormalizeHost(k) == host {
				delete(f, k)
				found = true
			}
		}
	})
	return host, found, err
}

// regUpdateAuthFile changes the "auths" of an auth file, keeping its other
// keys, and writes it back atomically with mode 0600.
func regUpdateAuthFile(path string, change func(map[string]json.RawMessage)) error {
	doc := map[string]json.RawMessage{}
	if data, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("reading %s: %w (hint: fix or remove the file)", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := doc["auths"]; ok {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
	}
	change(auths)
	raw, err := json.Marshal(auths)
	if err != nil {
		return err
	}
	doc["auths"] = raw
	data, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".auth.json.*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, errors.Join(werr, cerr))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/burrow-oci/burrow/storage/atomicfile"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
)

// Credentials live where Podman keeps them, so that a user logged in with
// Podman is logged in here and the other way round; Docker's
// config.json (with its credential helpers) is read too. Login writes
// Podman's format itself: docker/cli's configfile would write Docker's.

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

func (o *Options) authFile() string {
	if o.AuthFile != "" {
		return o.AuthFile
	}
	return DefaultAuthFile()
}

// keychain finds the user's credentials for a registry: in the auth file
// (REGISTRY_AUTH_FILE or DefaultAuthFile), Podman's persistent one, then
// Docker's config.json, each with the credential helpers it names. (The
// files are read by docker/cli's configfile, as go-containerregistry's
// DefaultKeychain does; that one reads only the first file it finds.)
func (o *Options) keychain() authn.Keychain {
	home, _ := os.UserHomeDir()
	files := []string{o.authFile()}
	if home != "" {
		if p := filepath.Join(home, ".config", "containers", "auth.json"); p != files[0] {
			files = append(files, p)
		}
	}
	dockerDir := os.Getenv("DOCKER_CONFIG")
	if dockerDir == "" && home != "" {
		dockerDir = filepath.Join(home, ".docker")
	}
	if dockerDir != "" {
		files = append(files, filepath.Join(dockerDir, "config.json"))
	}
	kcs := make([]authn.Keychain, len(files))
	for i, f := range files {
		kcs[i] = fileKeychain(f)
	}
	return authn.NewMultiKeychain(kcs...)
}

// fileKeychain reads one credentials file: Podman's auth.json and
// Docker's config.json share the format. A missing file has none.
type fileKeychain string

func (k fileKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	f, err := os.Open(string(k))
	if errors.Is(err, os.ErrNotExist) {
		return authn.Anonymous, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	cf, err := config.LoadFromReader(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w (hint: fix or remove the file)", k, err)
	}
	host := normalizeHost(r.RegistryStr())
	// Docker's key for Docker Hub is a URL; Podman's is "docker.io".
	ac, err := cf.GetAuthConfig(host)
	if err == nil && host == "docker.io" && noAuth(ac) {
		ac, err = cf.GetCredentialsStore(host).Get(host)
	}
	if err != nil && (cf.CredentialsStore != "" || len(cf.CredentialHelpers) > 0) {
		return nil, fmt.Errorf("reading the credentials for %s in %s: %w (hint: the credential helper it names, docker-credential-NAME, must be installed and work; or remove credsStore/credHelpers from it)", host, k, err)
	} else if err != nil {
		return nil, fmt.Errorf("reading the credentials for %s in %s: %w", host, k, err)
	}
	if noAuth(ac) {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{Username: ac.Username, Password: ac.Password, Auth: ac.Auth,
		IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}), nil
}

func noAuth(ac types.AuthConfig) bool {
	return ac.Username == "" && ac.Password == "" && ac.Auth == "" && ac.IdentityToken == "" && ac.RegistryToken == ""
}

// LoginHost is the registry host login, logout and search talk to for
// what the user typed ("" = docker.io), after relocation.
func LoginHost(opts Options, server string) (host string, insecure bool) {
	return ResolveHost(opts.Registries, server)
}

// Login checks credentials against a registry and stores them in the auth
// file. Refused credentials are not stored (ErrUnauthorized).
func Login(ctx context.Context, opts Options, server, user, pass string) (host string, err error) {
	host, insecure := LoginHost(opts, server)
	c, err := opts.newClientWith(host, insecure, authn.FromConfig(authn.AuthConfig{Username: user, Password: pass}))
	if err != nil {
		return host, err
	}
	if err := c.verifyLogin(ctx); err != nil {
		return host, err
	}
	return host, updateAuthFile(opts.authFile(), func(f map[string]json.RawMessage) {
		for k := range f {
			if normalizeHost(k) == host {
				delete(f, k)
			}
		}
		entry, _ := json.Marshal(map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))})
		f[host] = entry
	})
}

// verifyLogin has the registry check the credentials: the handshake gets
// a token with them (Bearer), and /v2/ is asked with that token or with
// the Basic credentials.
func (c *client) verifyLogin(ctx context.Context) error {
	refused := &Error{Host: c.host, Err: ErrUnauthorized,
		Msg: fmt.Sprintf("login to %s refused: unauthorized: incorrect username or password (hint: check them; nothing was stored)", c.host)}
	rt, err := c.transport(ctx)
	if errors.Is(err, ErrUnauthorized) {
		return refused
	} else if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.v2URL(), nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return c.wrapErr(err, "")
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return refused
	}
	return nil
}

// Logout removes the credentials for a registry from the auth file;
// found is false when there were none.
func Logout(opts Options, server string) (host string, found bool, err error) {
	host, _ = LoginHost(opts, server)
	err = updateAuthFile(opts.authFile(), func(f map[string]json.RawMessage) {
		for k := range f {
			if normalizeHost(k) == host {
				delete(f, k)
				found = true
			}
		}
	})
	return host, found, err
}

// updateAuthFile changes the "auths" of an auth file, keeping its other
// keys, and writes it back atomically with mode 0600.
func updateAuthFile(path string, change func(map[string]json.RawMessage)) error {
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
	return atomicfile.Write(path, append(data, '\n'), 0o600, atomicfile.Durable)
}

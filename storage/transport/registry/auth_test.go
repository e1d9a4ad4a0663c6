package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// basicAuth guards a handler with Basic credentials, as docker-registry
// with htpasswd does.
func basicAuth(h http.Handler, user, pass string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestLoginLogout(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	reg, _ := testRegistry(t)
	srv := httptest.NewServer(basicAuth(reg, "alice", "pw"))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	authFile := filepath.Join(t.TempDir(), "containers", "auth.json")
	opts := Options{AuthFile: authFile}
	ctx := context.Background()

	if _, err := Login(ctx, opts, host, "alice", "wrong"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := os.Stat(authFile); err == nil {
		t.Fatal("a refused login wrote the auth file")
	}
	if _, err := Login(ctx, opts, host, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(authFile)
	if err != nil || !strings.Contains(string(data), base64.StdEncoding.EncodeToString([]byte("alice:pw"))) {
		t.Fatalf("auth file: %s, %v", data, err)
	}
	if fi, _ := os.Stat(authFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("auth file mode %v", fi.Mode().Perm())
	}
	// The stored credentials are used.
	if _, _, err := ListTags(ctx, host+"/x/y", opts); err == nil || errors.Is(err, ErrUnauthorized) {
		t.Errorf("listing with stored credentials: %v (want the registry's not-found, not a refusal)", err)
	}
	if _, found, err := Logout(opts, host); err != nil || !found {
		t.Fatalf("logout: %v %v", found, err)
	}
	_, _, err = ListTags(ctx, host+"/x/y", opts)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "burrow login "+host) {
		t.Errorf("after logout: %v", err)
	}
	if _, found, _ := Logout(opts, host); found {
		t.Error("a second logout found credentials")
	}
}

func TestCredentialsFromDockerConfig(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CONFIG", "")
	os.MkdirAll(filepath.Join(home, ".docker"), 0o700)
	cfg := `{"auths":{"https://index.docker.io/v1/":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("bob:hub")) + `"},"reg.example:5000":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("carol:x")) + `"}}}`
	os.WriteFile(filepath.Join(home, ".docker", "config.json"), []byte(cfg), 0o600)
	opts := Options{AuthFile: filepath.Join(home, "none.json")}
	for host, want := range map[string]string{"docker.io": "bob", "reg.example:5000": "carol", "other.example": ""} {
		u, err := testUser(opts, host)
		if err != nil || u != want {
			t.Errorf("credentials(%s) = %q, %v; want %q", host, u, err, want)
		}
	}
}

// testUser is the user name the keychain has for a registry host.
func testUser(opts Options, host string) (string, error) {
	reg, err := name.NewRegistry(host)
	if err != nil {
		return "", err
	}
	a, err := authn.Resolve(context.Background(), opts.keychain(), reg)
	if err != nil {
		return "", err
	}
	cfg, err := authn.Authorization(context.Background(), a)
	if err != nil {
		return "", err
	}
	return cfg.Username, nil
}

func TestCredentialsOrderAndHelpers(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("DOCKER_AUTH_CONFIG", "")
	auth := func(u string) string { return base64.StdEncoding.EncodeToString([]byte(u + ":pw")) }
	// Podman's file: its key for Docker Hub is "docker.io".
	authFile := filepath.Join(home, "auth.json")
	os.WriteFile(authFile, []byte(`{"auths":{"docker.io":{"auth":"`+auth("podhub")+`"},"both.example":{"auth":"`+auth("pod")+`"}}}`), 0o600)
	// Docker's config: a credential helper for one registry.
	os.MkdirAll(filepath.Join(home, ".docker"), 0o700)
	os.WriteFile(filepath.Join(home, ".docker", "config.json"), []byte(`{"auths":{"both.example":{"auth":"`+auth("docker")+`"}},"credHelpers":{"helped.example":"burrowtest"}}`), 0o600)
	bin := t.TempDir()
	helper := "#!/bin/sh\nread server\necho '{\"ServerURL\":\"'$server'\",\"Username\":\"helped\",\"Secret\":\"s\"}'\n"
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-burrowtest"), []byte(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	opts := Options{AuthFile: authFile}
	for host, want := range map[string]string{"docker.io": "podhub", "both.example": "pod", "helped.example": "helped", "none.example": ""} {
		u, err := testUser(opts, host)
		if err != nil || u != want {
			t.Errorf("credentials(%s) = %q, %v; want %q", host, u, err, want)
		}
	}
}

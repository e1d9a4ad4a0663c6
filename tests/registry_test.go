package tests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The registry tests start Debian's docker-registry on a free loopback
// port with a config and storage of the test's own: plain HTTP, or TLS
// with a self-signed certificate made here and htpasswd auth. burrow
// treats loopback registries as insecure (plain HTTP and unverified TLS),
// as Docker does; the TLS tests also set insecure = true for it in
// config.toml, which is what a registry elsewhere with a self-signed
// certificate needs.

type testRegistry struct {
	host string
	dir  string
}

type registrySetup struct {
	tls        bool
	user, pass string
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (hint: apt-get install %s)", tool, map[string]string{"docker-registry": "docker-registry", "skopeo": "skopeo", "htpasswd": "apache2-utils"}[tool])
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startRegistry(t *testing.T, setup registrySetup) *testRegistry {
	t.Helper()
	needTools(t, "docker-registry")
	dir := t.TempDir()
	host := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), host)
	if setup.tls {
		certFile, keyFile := selfSigned(t, dir)
		cfg += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", certFile, keyFile)
	}
	if setup.user != "" {
		hash := htpasswdLine(t, setup.user, setup.pass)
		if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(hash+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: burrow-test\n    path: %s\n", filepath.Join(dir, "htpasswd"))
	}
	cfgFile := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker-registry", "serve", cfgFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	scheme := "http"
	if setup.tls {
		scheme = "https"
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for i := 0; ; i++ {
		resp, err := client.Get(scheme + "://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 100 {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("docker-registry did not start: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &testRegistry{host: host, dir: dir}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// htpasswdLine makes a bcrypt htpasswd entry with htpasswd -Bbn, or with
// python3's crypt module where apache2-utils is missing.
func htpasswdLine(t *testing.T, user, pass string) string {
	t.Helper()
	if _, err := exec.LookPath("htpasswd"); err == nil {
		out, err := exec.Command("htpasswd", "-Bbn", user, pass).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	out, err := exec.Command("python3", "-W", "ignore", "-c", "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))", pass).Output()
	if err != nil {
		t.Skipf("no htpasswd (apt-get install apache2-utils) and no python3 crypt to make a bcrypt password: %v", err)
	}
	return user + ":" + strings.TrimSpace(string(out))
}

func (e *env) writeConfig(toml string) {
	e.t.Helper()
	dir := filepath.Join(e.dir, "config", "burrow")
	os.MkdirAll(dir, 0o700)
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(toml), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func skopeoDigest(t *testing.T, ref string, extra ...string) string {
	t.Helper()
	needTools(t, "skopeo")
	args := append([]string{"inspect", "--tls-verify=false"}, extra...)
	out, err := exec.Command("skopeo", append(args, "docker://"+ref)...).CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo inspect %s: %v\n%s", ref, err, out)
	}
	var v struct{ Digest string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	return v.Digest
}

func TestRegistryPushPull(t *testing.T) {
	needTools(t, "skopeo")
	reg := startRegistry(t, registrySetup{})
	e := newEnv(t)
	name := reg.host + "/test/bb:1"
	id := e.importBusybox(name)
	r := e.ok("push", name)
	if !strings.Contains(r.stdout, "The push refers to repository ["+reg.host+"/test/bb]") || !strings.Contains(r.stdout, ": Pushed") {
		t.Errorf("push output: %v", r)
	}
	var digest string
	for _, l := range lines(r.stdout) {
		if rest, ok := strings.CutPrefix(l, "1: digest: "); ok {
			digest = strings.Fields(rest)[0]
		}
	}
	if digest == "" {
		t.Fatalf("push printed no digest: %v", r)
	}
	if got := skopeoDigest(t, name); got != digest {
		t.Errorf("skopeo sees digest %s, push printed %s", got, digest)
	}
	if r := e.ok("push", name); !strings.Contains(r.stdout, "Layer already exists") {
		t.Errorf("second push re-sent a layer: %v", r)
	}
	if r := e.ok("images", "--digests", "--format", "{{.Digest}}", name); strings.TrimSpace(r.stdout) != digest {
		t.Errorf("images --digests after push: %q, want %s", r.stdout, digest)
	}

	// Into an empty store: the same image ID, runnable.
	e2 := newEnv(t)
	r = e2.ok("pull", name)
	if want := []string{"1: Pulling from test/bb", ": Pull complete", "Digest: " + digest, "Status: Downloaded newer image for " + name, name}; !containsLines(r.stdout, want) {
		t.Errorf("pull output lacks %q: %v", want, r)
	}
	if got := imageID(t, e2, name); got != "sha256:"+id {
		t.Errorf("pulled image ID %s, pushed %s", got, id)
	}
	if r := e2.ok("inspect", "--format", "{{json .RepoDigests}}", name); !strings.Contains(r.stdout, reg.host+"/test/bb@"+digest) {
		t.Errorf("RepoDigests: %s", r.stdout)
	}
	if r := e2.ok("run", "--rm", name, "echo", "pulled"); strings.TrimSpace(r.stdout) != "pulled" {
		t.Errorf("run: %v", r)
	}
	if r := e2.ok("pull", "-q", name); strings.TrimSpace(r.stdout) != name {
		t.Errorf("pull -q printed %q", r.stdout)
	}
	r = e2.ok("pull", name)
	if !strings.Contains(r.stdout, "Status: Image is up to date for "+name) {
		t.Errorf("second pull: %v", r)
	}
	e2.ok("rmi", name)
	// The last tag takes the image with it, digests included (Docker's rule).
	if got := e2.ok("images", "-a", "-q", "--no-trunc").stdout; strings.Contains(got, id) {
		t.Errorf("rmi of the last tag left the image: %q", got)
	}
	r = e2.ok("pull", reg.host+"/test/bb@"+digest)
	if got := imageID(t, e2, reg.host+"/test/bb@"+digest); got != "sha256:"+id {
		t.Errorf("pull by digest gave %s", got)
	}

	// Bad input: one line each, the store unchanged.
	before := e2.ok("images", "-q", "--no-trunc").stdout
	e2.fail(1, []string{"manifest for " + reg.host + "/test/bb:nope not found", "registry " + reg.host}, "pull", reg.host+"/test/bb:nope")
	down := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	r = e2.fail(1, []string{"cannot reach the registry " + down}, "pull", down+"/x:1")
	if n := len(lines(r.stderr)); n != 1 {
		t.Errorf("registry down: %d lines of error: %v", n, r)
	}
	e2.fail(1, []string{"manifest for " + reg.host + "/test/bb@sha256:" + strings.Repeat("0", 64) + " not found"}, "pull", reg.host+"/test/bb@sha256:"+strings.Repeat("0", 64))
	if after := e2.ok("images", "-q", "--no-trunc").stdout; after != before {
		t.Errorf("failed pulls changed the store: %q -> %q", before, after)
	}
}

func containsLines(out string, want []string) bool {
	for _, w := range want {
		found := false
		for _, l := range lines(out) {
			if strings.Contains(l, w) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func TestRegistryRelocation(t *testing.T) {
	reg := startRegistry(t, registrySetup{})
	conf := fmt.Sprintf("[[registries.registry]]\nprefix = \"docker.io\"\nlocation = %q\n", reg.host)
	e := newEnv(t)
	e.writeConfig(conf)
	id := e.importBusybox("busybox")
	e.ok("push", "busybox")
	e.ok("tag", "busybox", "myuser/app")
	e.ok("push", "myuser/app")
	resp, err := http.Get("http://" + reg.host + "/v2/_catalog")
	if err != nil {
		t.Fatal(err)
	}
	var cat struct{ Repositories []string }
	json.NewDecoder(resp.Body).Decode(&cat)
	resp.Body.Close()
	if strings.Join(cat.Repositories, ",") != "library/busybox,myuser/app" {
		t.Errorf("the relocated registry holds %v", cat.Repositories)
	}
	if r := e.ok("search", "busy"); !strings.Contains(r.stdout, reg.host+"/library/busybox") || !strings.HasPrefix(r.stdout, "NAME") {
		t.Errorf("search: %v", r)
	}

	e2 := newEnv(t)
	e2.writeConfig(conf)
	r := e2.ok("run", "--rm", "busybox", "echo", "implicit")
	if strings.TrimSpace(r.stdout) != "implicit" || !strings.Contains(r.stderr, "Unable to find image 'busybox:latest' locally") {
		t.Errorf("run of a missing image: %v", r)
	}
	if got := imageID(t, e2, "busybox"); got != "sha256:"+id {
		t.Errorf("pulled %s, want %s", got, id)
	}
	r = e2.ok("run", "--pull", "always", "--rm", "busybox", "true")
	if !strings.Contains(r.stderr, "Status: Image is up to date for busybox:latest") {
		t.Errorf("run --pull always did not pull: %v", r)
	}
	e2.ok("rmi", "busybox")
	e2.fail(125, []string{"No such image"}, "run", "--pull", "never", "--rm", "busybox", "true")

	// FROM of a missing image pulls it.
	e3 := newEnv(t)
	ctx := e3.writeContext("ctx", map[string]string{"Dockerfile": "FROM " + reg.host + "/myuser/app\nRUN echo built > /built\n"})
	r = e3.ok("build", "-t", "localhost/built", ctx)
	if !strings.Contains(r.stdout, "Pulling from myuser/app") {
		t.Errorf("build did not say it pulled: %v", r)
	}
	if r := e3.ok("run", "--rm", "localhost/built", "cat", "/built"); strings.TrimSpace(r.stdout) != "built" {
		t.Errorf("built image: %v", r)
	}
	e3.ok("build", "--pull", "-t", "localhost/built", ctx)
}

func TestLoginTLSAuth(t *testing.T) {
	reg := startRegistry(t, registrySetup{tls: true, user: "alice", pass: "s3cret-pw"})
	e := newEnv(t)
	e.writeConfig(fmt.Sprintf("[[registries.registry]]\nprefix = %q\ninsecure = true\n", reg.host))
	name := reg.host + "/alice/bb:latest"
	e.importBusybox(name)
	e.fail(1, []string{"burrow login " + reg.host}, "push", name)

	authFile := filepath.Join(e.dir, "home", ".config", "containers", "auth.json")
	r := e.fail(1, []string{"incorrect username or password"}, "login", "-u", "alice", "-p", "wrong", reg.host)
	if !strings.Contains(r.stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.") {
		t.Errorf("no -p warning: %v", r)
	}
	if _, err := os.Stat(authFile); err == nil {
		data, _ := os.ReadFile(authFile)
		if strings.Contains(string(data), reg.host) {
			t.Errorf("a refused login was stored: %s", data)
		}
	}
	r = e.exec([]byte("s3cret-pw\n"), "login", "-u", "alice", "--password-stdin", reg.host)
	if r.code != 0 || !strings.Contains(r.stdout, "Login Succeeded") || strings.Contains(r.stdout+r.stderr, "s3cret-pw") {
		t.Fatalf("login: %v", r)
	}
	data, err := os.ReadFile(authFile)
	if err != nil || !strings.Contains(string(data), reg.host) {
		t.Fatalf("auth file after login: %s, %v", data, err)
	}
	e.ok("push", name)
	needTools(t, "skopeo")
	skopeoDigest(t, name, "--creds", "alice:s3cret-pw")

	e2 := newEnv(t)
	e2.writeConfig(fmt.Sprintf("[[registries.registry]]\nprefix = %q\ninsecure = true\n", reg.host))
	e2.fail(1, []string{"unauthorized", "burrow login " + reg.host}, "pull", name)

	if r := e.ok("logout", reg.host); !strings.Contains(r.stdout, "Removing login credentials for "+reg.host) {
		t.Errorf("logout: %v", r)
	}
	if data, _ := os.ReadFile(authFile); strings.Contains(string(data), reg.host) {
		t.Errorf("logout left %s", data)
	}
	e.fail(1, []string{"burrow login " + reg.host}, "push", name)
}

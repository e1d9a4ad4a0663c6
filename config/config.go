// Package config reads burrow's settings: /etc/burrow/config.toml, then
// $XDG_CONFIG_HOME/burrow/config.toml (default ~/.config/burrow), then the
// environment. A later source overrides only the keys it sets. Unknown keys
// are errors that name the key and the file, so a typo is never silently
// ignored.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// Config is the effective configuration. Its zero value is not meant to be
// used directly: Load fills in defaults.
type Config struct {
	// UserNS is "auto", "full" or "single" (see DESIGN.md, "User namespace").
	UserNS string `toml:"userns"`
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel   string     `toml:"log_level"`
	Storage    Storage    `toml:"storage"`
	Registries Registries `toml:"registries"`
	Network    Network    `toml:"network"`

	// Files lists the configuration files that were read, in order.
	Files []string `toml:"-"`
}

// Storage says where and how images and containers are stored.
type Storage struct {
	Root    string `toml:"root"`
	RunRoot string `toml:"runroot"`
	// Driver is "overlay", "vfs", or "" to choose overlay when the kernel
	// allows it and vfs otherwise.
	Driver string `toml:"driver"`

	// RunRootIsDefault is set when no file or variable chose the run root.
	RunRootIsDefault bool `toml:"-"`
}

// Network says how containers of the default network are served.
type Network struct {
	// Fallback is what a container of the default network gets where
	// /dev/net/tun is not usable: "loopback" (the default: a private
	// network with loopback only, published ports still work) or "host"
	// (the host's network, as --network host).
	Fallback string `toml:"fallback"`
	// HostLoopback lets containers reach the host's 127.0.0.1 through
	// their gateway, 10.0.2.2. Off by default: on a shared host, services
	// that other users bind to loopback would be reachable from any
	// container.
	HostLoopback bool `toml:"host_loopback"`
}

// Registries says where images are pulled from and pushed to, with the
// vocabulary of containers' registries.conf.
type Registries struct {
	// UnqualifiedSearch lists the registries a short name ("busybox") is
	// pulled from, tried in order as Podman does; unset or docker.io alone
	// keeps Docker's rule (docker.io). Push, login and search always use
	// docker.io for short names, as Docker does.
	UnqualifiedSearch []string `toml:"unqualified-search-registries"`
	// Registry relocates names: see Registry.
	Registry []Registry `toml:"registry"`
}

// Registry serves the names under Prefix from Location: pull, push,
// login, logout and search all go there.
type Registry struct {
	// Prefix is a registry host ("docker.io") or a repository prefix
	// ("docker.io/library").
	Prefix string `toml:"prefix"`
	// Location replaces Prefix in the names (default: Prefix itself).
	Location string `toml:"location"`
	// Insecure allows plain HTTP and unverified TLS.
	Insecure bool `toml:"insecure"`
	// Mirrors are tried first, for pulls only.
	Mirrors []string `toml:"mirrors"`
}

// Env holds what Load needs from the process environment, so that tests
// can pass their own.
type Env struct {
	UID    int
	Getenv func(string) string
	// SystemFile is /etc/burrow/config.toml unless a test says otherwise.
	SystemFile string
}

// SystemFile is the configuration file read first, for every user.
const SystemFile = "/etc/burrow/config.toml"

// ProcessEnv is the environment of the running process, for the caller
// whose uid on the host is uid. Inside burrow's user namespace the process
// is root but the caller keeps the user's paths, so the caller's package
// asks the namespace's owner for it rather than os.Getuid.
func ProcessEnv(uid int) Env {
	return Env{UID: uid, Getenv: os.Getenv, SystemFile: SystemFile}
}

// Files lists the configuration files Load reads, in the order that a
// later one overrides an earlier one: env.SystemFile,
// $XDG_CONFIG_HOME/burrow/config.toml (or ~/.config/burrow/config.toml),
// then $BURROW_CONFIG. Load skips those that do not exist; BURROW_USERNS
// and the other variables override them all. The user-namespace
// constructor reads the userns key along the same path, before the Go
// runtime starts; a test in commands keeps the two in step.
func Files(env Env) []string {
	var files []string
	if env.SystemFile != "" {
		files = append(files, env.SystemFile)
	}
	if dir := userConfigDir(env); dir != "" {
		files = append(files, filepath.Join(dir, "burrow", "config.toml"))
	}
	if f := env.Getenv("BURROW_CONFIG"); f != "" {
		files = append(files, f)
	}
	return files
}

// Load reads the configuration files that exist and applies the
// environment (BURROW_ROOT, BURROW_RUNROOT, BURROW_LOG, BURROW_USERNS).
func Load(env Env) (*Config, error) {
	c := &Config{UserNS: "auto", LogLevel: "warn"}
	for _, f := range Files(env) {
		if err := c.readFile(f); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		c.Files = append(c.Files, f)
	}
	if v := env.Getenv("BURROW_ROOT"); v != "" {
		c.Storage.Root = v
	}
	if v := env.Getenv("BURROW_RUNROOT"); v != "" {
		c.Storage.RunRoot = v
	}
	if v := env.Getenv("BURROW_LOG"); v != "" {
		c.LogLevel = v
	}
	if v := env.Getenv("BURROW_USERNS"); v != "" {
		c.UserNS = v
	}
	if err := c.fillDefaults(env); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

func (c *Config) readFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	md, err := toml.Decode(string(data), c)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return fmt.Errorf("reading %s: line %d: %s", path, perr.Position.Line, perr.Message)
		}
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return fmt.Errorf("reading %s: unknown key %q (known keys: userns, log_level, storage.root, storage.runroot, storage.driver, registries.unqualified-search-registries, [[registries.registry]] prefix, location, insecure, mirrors)", path, und[0].String())
	}
	return nil
}

// Validate checks the values that have a fixed vocabulary.
func (c *Config) Validate() error {
	if err := oneOf("userns", c.UserNS, "auto", "full", "single"); err != nil {
		return err
	}
	if err := oneOf("log_level", c.LogLevel, "debug", "info", "warn", "warning", "error"); err != nil {
		return err
	}
	if err := oneOf("storage.driver", c.Storage.Driver, "", "overlay", "vfs"); err != nil {
		return err
	}
	if err := oneOf("network.fallback", c.Network.Fallback, "", "loopback", "host"); err != nil {
		return err
	}
	for i, r := range c.Registries.Registry {
		if r.Prefix == "" {
			return fmt.Errorf("registries.registry #%d has no prefix (hint: prefix = \"docker.io\", the names it serves)", i+1)
		}
	}
	return nil
}

func oneOf(key, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	var quoted []string
	for _, a := range allowed {
		if a != "" {
			quoted = append(quoted, fmt.Sprintf("%q", a))
		}
	}
	return fmt.Errorf("invalid %s %q (hint: use one of %s)", key, v, strings.Join(quoted, ", "))
}

func (c *Config) fillDefaults(env Env) error {
	home := env.Getenv("HOME")
	expand := func(p string) string {
		if strings.HasPrefix(p, "~/") && home != "" {
			return filepath.Join(home, p[2:])
		}
		return os.Expand(p, env.Getenv)
	}
	c.Storage.Root = expand(c.Storage.Root)
	c.Storage.RunRoot = expand(c.Storage.RunRoot)
	if env.UID == 0 {
		if c.Storage.Root == "" {
			c.Storage.Root = "/var/lib/burrow/storage"
		}
		if c.Storage.RunRoot == "" {
			c.Storage.RunRoot = "/run/burrow"
			c.Storage.RunRootIsDefault = true
		}
		return nil
	}
	if c.Storage.Root == "" {
		data := env.Getenv("XDG_DATA_HOME")
		if data == "" {
			if home == "" {
				return errors.New("neither XDG_DATA_HOME nor HOME is set (hint: set one, or pass --root)")
			}
			data = filepath.Join(home, ".local", "share")
		}
		c.Storage.Root = filepath.Join(data, "burrow", "storage")
	}
	if c.Storage.RunRoot == "" {
		c.Storage.RunRoot = DefaultRunRoot(env)
		c.Storage.RunRootIsDefault = true
	}
	return nil
}

// DefaultRunRoot is $XDG_RUNTIME_DIR/burrow when that directory exists and
// belongs to the user, else /tmp/burrow-run-$UID (su and runuser sessions
// have no XDG_RUNTIME_DIR).
func DefaultRunRoot(env Env) string {
	if d := env.Getenv("XDG_RUNTIME_DIR"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() && ownedBy(st, env.UID) {
			return filepath.Join(d, "burrow")
		}
	}
	return fmt.Sprintf("/tmp/burrow-run-%d", env.UID)
}

// FeatureCacheDir is where what the kernel and file systems can do is kept
// for new run roots (storage.Options.FeatureCache): per boot, under the
// default run root.
func FeatureCacheDir(env Env) string {
	if env.UID == 0 {
		return "/run/burrow/overlay-checks"
	}
	return filepath.Join(DefaultRunRoot(env), "overlay-checks")
}

func userConfigDir(env Env) string {
	if d := env.Getenv("XDG_CONFIG_HOME"); d != "" {
		return d
	}
	if h := env.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".config")
	}
	return ""
}

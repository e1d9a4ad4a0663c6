package build

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
)

// runMountFroms lists the stages or images a RUN's --mount from= names.
func runMountFroms(c *instructions.RunCommand) []string {
	var out []string
	for _, m := range instructions.GetMounts(c) {
		if m.From != "" {
			out = append(out, m.From)
		}
	}
	return out
}

// argv is the command a RUN runs: the exec form as written; the shell
// form through SHELL (default /bin/sh -c), a heredoc as its script.
func (s *stage) argv(c *instructions.RunCommand) ([]string, error) {
	args := c.CmdLine
	if len(c.Files) > 0 {
		if len(args) != 1 || !c.PrependShell {
			return nil, fmt.Errorf("a heredoc works with the shell form of RUN only")
		}
		if h := parser.MustParseHeredoc(args[0]); h != nil {
			// The whole command is the heredoc: it is the script, or, with
			// a #! line, a file the shell runs (as BuildKit mounts it).
			args = []string{c.Files[0].Data}
			if strings.HasPrefix(c.Files[0].Data, "#!") {
				args = []string{pipesDir + c.Files[0].Name}
			}
		} else {
			// The shell reads the heredocs itself.
			full := args[0]
			for _, f := range c.Files {
				full += "\n" + f.Data + f.Name
			}
			args = []string{full}
		}
	}
	if !c.PrependShell {
		return append([]string(nil), args...), nil
	}
	sh := s.st.cfg.Config.Shell
	if len(sh) == 0 {
		sh = []string{"/bin/sh", "-c"}
	}
	return append(append([]string(nil), sh...), strings.Join(args, " ")), nil
}

// runEnv is what a RUN sees beyond the image's ENV: the ARGs in scope
// (ENV wins over an ARG of the same name) and the proxy variables given
// with --build-arg. keyed lists what enters the cache key: the proxy
// variables do not, as in Docker.
func (s *stage) runEnv() (env, keyed []string) {
	inEnv := map[string]bool{}
	for _, kv := range s.st.cfg.Config.Env {
		k, _, _ := strings.Cut(kv, "=")
		inEnv[k] = true
	}
	for _, k := range s.argSeq {
		if !inEnv[k] {
			env = append(env, k+"="+s.args[k])
			keyed = append(keyed, k+"="+s.args[k])
		}
	}
	for k, v := range s.b.opts.BuildArgs {
		if predefinedArgs[k] && !inEnv[k] {
			if _, declared := s.args[k]; !declared {
				env = append(env, k+"="+v)
			}
		}
	}
	return env, keyed
}

// run runs a RUN step.
func (s *stage) run(ctx context.Context, c *instructions.RunCommand, text string) error {
	argv, err := s.argv(c)
	if err != nil {
		return err
	}
	env, keyed := s.runEnv()
	network := string(instructions.GetNetwork(c))
	if network == "" || network == "default" {
		network = s.b.opts.Network
	}
	if network != run.NetworkHost && network != run.NetworkNone {
		return fmt.Errorf("RUN --network=%s is not supported (hint: use host or none)", network)
	}
	mounts := instructions.GetMounts(c)
	mountKey, err := json.Marshal(mounts)
	if err != nil {
		return err
	}
	argvJSON, _ := json.Marshal(argv)
	envJSON, _ := json.Marshal(keyed)
	// Files a bind mount reads are inputs: their content is in the key.
	inputs, err := s.mountInputs(mounts)
	if err != nil {
		return err
	}
	key := s.stepKey(keyPart{"instruction", "RUN"}, keyPart{"command", string(argvJSON)},
		keyPart{"build args", string(envJSON)}, keyPart{"mounts", string(mountKey)},
		keyPart{"network", network}, keyPart{"files bind-mounted from the context", inputs})
	hist := s.runHistory(argv)
	s.progress("%s", text)
	if s.cached(key, hist) {
		return nil
	}
	started := time.Now()
	sc, err := s.b.st.NewScratch(s.st.top)
	if err != nil {
		return err
	}
	defer s.b.st.DropScratch(sc)
	extra, cleanup, err := s.runMounts(ctx, mounts)
	defer cleanup()
	if err != nil {
		return err
	}
	scripts, err := s.heredocScripts(c)
	if err != nil {
		return err
	}
	defer os.RemoveAll(scripts.dir)
	extra = append(extra, scripts.mounts...)
	stubs := mountStubs(sc.Root, extra)
	code, err := s.container(ctx, sc.Root, argv, env, network, extra)
	if err != nil {
		return err
	}
	if code != 0 {
		return &Error{ExitCode: code, Err: fmt.Errorf("RUN %s: process %q did not complete successfully: exit code: %d", strings.Join(c.CmdLine, " "), strings.Join(argv, " "), code)}
	}
	info, changed, err := s.b.st.CommitScratch(ctx, sc, stubs)
	if err != nil {
		return err
	}
	e := storage.CacheEntry{Created: time.Now().UTC()}
	if changed {
		e.Layer, e.DiffID = info.ID, info.DiffID
	}
	return s.record(key, e, hist, started)
}

// container runs argv in a sandbox on rootfs, with the stage's config,
// and returns its exit code.
func (s *stage) container(ctx context.Context, rootfs string, argv, env []string, network string, mounts []specs.Mount) (int, error) {
	cfg := s.st.cfg.Config
	return run.Step(ctx, s.b.st, run.StepOptions{
		Rootfs: rootfs, Image: &cfg, Args: argv, Env: env, Network: network, Mounts: mounts, Output: s.b.out,
	})
}

// mountInputs digests what RUN --mount=type=bind reads from the context,
// so that a change there is a cache miss. Other stages are identified by
// their own key.
func (s *stage) mountInputs(mounts []*instructions.Mount) (string, error) {
	var parts []string
	for _, m := range mounts {
		if m.Type != instructions.MountTypeBind {
			continue
		}
		if m.From != "" {
			k, err := s.sourceKey(m.From)
			if err != nil {
				return "", err
			}
			parts = append(parts, k)
			continue
		}
		root := s.b.contextRoot()
		srcs, err := root.Select([]string{orDot(m.Source)})
		if err != nil {
			return "", err
		}
		d, err := copierDigest(root, srcs)
		if err != nil {
			return "", err
		}
		parts = append(parts, d)
	}
	return strings.Join(parts, ","), nil
}

func orDot(s string) string {
	if s == "" {
		return "."
	}
	return s
}

// runMounts turns RUN --mount flags into spec mounts.
func (s *stage) runMounts(ctx context.Context, mounts []*instructions.Mount) ([]specs.Mount, func(), error) {
	var out []specs.Mount
	var cleanups []func()
	cleanup := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	for _, m := range mounts {
		target := m.Target
		if target != "" && !filepath.IsAbs(target) {
			target = filepath.Join("/", s.st.cfg.Config.WorkingDir, target)
		}
		switch m.Type {
		case instructions.MountTypeCache:
			id := m.CacheID
			if id == "" {
				id = target
			}
			dir, created, err := s.b.st.CacheMountDir(id)
			if err != nil {
				return nil, cleanup, err
			}
			if created {
				if m.Mode != nil {
					_ = os.Chmod(dir, os.FileMode(*m.Mode))
				}
				if m.UID != nil || m.GID != nil {
					uid, gid := -1, -1
					if m.UID != nil {
						uid = int(*m.UID)
					}
					if m.GID != nil {
						gid = int(*m.GID)
					}
					_ = os.Lchown(dir, uid, gid)
				}
			}
			out = append(out, bindMount(dir, target, m.ReadOnly))
		case instructions.MountTypeTmpfs:
			opts := []string{"nosuid", "nodev"}
			if m.SizeLimit > 0 {
				opts = append(opts, fmt.Sprintf("size=%d", m.SizeLimit))
			}
			out = append(out, specs.Mount{Type: "tmpfs", Source: "tmpfs", Destination: target, Options: opts})
		case instructions.MountTypeSecret:
			id := m.CacheID
			if id == "" {
				id = filepath.Base(target)
			}
			if target == "" {
				target = "/run/secrets/" + id
			}
			src, ok := s.b.opts.Secrets[id]
			if !ok {
				if m.Required {
					return nil, cleanup, fmt.Errorf("secret %q is required but was not given (hint: burrow build --secret id=%s,src=FILE)", id, id)
				}
				continue
			}
			out = append(out, bindMount(src, target, true))
		case instructions.MountTypeBind:
			src, done, err := s.bindSource(ctx, m)
			if done != nil {
				cleanups = append(cleanups, done)
			}
			if err != nil {
				return nil, cleanup, err
			}
			// Writes to a bind mount are discarded in Docker; here a
			// writable bind mount is read-only.
			out = append(out, bindMount(src, target, true))
		default:
			return nil, cleanup, fmt.Errorf("RUN --mount=type=%s is not supported (hint: use bind, cache, tmpfs or secret)", m.Type)
		}
	}
	return out, cleanup, nil
}

// bindSource finds what RUN --mount=type=bind mounts: a path of the
// context, or of another stage or image (from=).
func (s *stage) bindSource(ctx context.Context, m *instructions.Mount) (string, func(), error) {
	root := s.b.opts.ContextDir
	var done func()
	if m.From != "" {
		r, err := s.fromRoot(ctx, m.From)
		if err != nil {
			return "", nil, err
		}
		root, done = r.Dir, r.done
	}
	p, err := securejoin.SecureJoin(root, m.Source)
	if err != nil {
		return "", done, err
	}
	if _, err := os.Stat(p); err != nil {
		return "", done, fmt.Errorf("RUN --mount source %q: %w", m.Source, err)
	}
	return p, done, nil
}

func bindMount(src, dst string, ro bool) specs.Mount {
	opts := []string{"rbind", "rprivate"}
	if ro {
		opts = append(opts, "ro")
	}
	return specs.Mount{Type: "bind", Source: src, Destination: dst, Options: opts}
}

// sortedKeys returns a map's keys in order.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// mountStubs lists the mount points of a step's own mounts, and their
// parent directories, that its root filesystem lacks: the runtime creates
// them to mount on, and they are no part of what the step made.
func mountStubs(rootfs string, mounts []specs.Mount) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range mounts {
		for p := filepath.Clean(m.Destination); p != "/" && p != "." && !seen[p]; p = filepath.Dir(p) {
			full, err := securejoin.SecureJoin(rootfs, p)
			if err != nil {
				break
			}
			if _, err := os.Lstat(full); err == nil {
				break
			}
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// pipesDir is where a RUN heredoc with a #! line is mounted, as a file.
const pipesDir = "/dev/pipes/"

type heredocFiles struct {
	dir    string
	mounts []specs.Mount
}

// heredocScripts writes a RUN heredoc that starts with #! to a file, to be
// mounted read-only and executable at /dev/pipes/NAME.
func (s *stage) heredocScripts(c *instructions.RunCommand) (heredocFiles, error) {
	var h heredocFiles
	if len(c.Files) == 0 || len(c.CmdLine) != 1 || parser.MustParseHeredoc(c.CmdLine[0]) == nil || !strings.HasPrefix(c.Files[0].Data, "#!") {
		return h, nil
	}
	dir, err := s.b.st.TempDir("heredoc-")
	if err != nil {
		return h, err
	}
	h.dir = dir
	f := filepath.Join(dir, "script")
	if err := os.WriteFile(f, []byte(c.Files[0].Data), 0o755); err != nil {
		return h, err
	}
	h.mounts = append(h.mounts, bindMount(f, pipesDir+c.Files[0].Name, true))
	return h, nil
}

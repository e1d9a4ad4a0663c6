package build

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/storage/pkg/archive"
)

// Context is a build's context directory and Dockerfile, as `build` is
// given them.
type Context struct {
	// Dir is the context directory: the one given, an archive unpacked
	// into a temporary one, or an empty one for a Dockerfile on stdin.
	Dir string
	// Dockerfile is its content; DockerfileName its name relative to
	// the context (for messages and .dockerignore rules); DockerfilePath
	// where it was read, if from a file.
	Dockerfile     []byte
	DockerfileName string
	DockerfilePath string
	cleanup        func()
}

// Close removes what OpenContext unpacked. It may be called on the zero
// Context.
func (c Context) Close() {
	if c.cleanup != nil {
		c.cleanup()
	}
}

// OpenContext finds the context directory of `build ARG` (a directory, a
// tar archive, or "-" for stdin with a Dockerfile or an archive) and reads
// the Dockerfile: file (-f) if given ("-": stdin), else Dockerfile or
// dockerfile in the context. Close the result, even with an error.
func OpenContext(arg, file string, stdin io.Reader) (Context, error) {
	var dir string
	var cleanup func()
	done := func(c Context, err error) (Context, error) {
		c.cleanup = cleanup
		return c, err
	}
	switch {
	case strings.Contains(arg, "://") || strings.HasPrefix(arg, "git@"):
		return done(Context{}, fmt.Errorf("remote build contexts (%s) are not supported (hint: clone or download it, then build the directory)", arg))
	case arg == "-":
		in := bufio.NewReader(stdin)
		head, _ := in.Peek(512)
		tmp, err := os.MkdirTemp("", "burrow-context-")
		if err != nil {
			return done(Context{}, err)
		}
		cleanup = func() { os.RemoveAll(tmp) }
		if looksLikeArchive(head) {
			if err := archive.Untar(in, tmp, &archive.TarOptions{NoLchown: true}); err != nil {
				return done(Context{}, fmt.Errorf("unpacking the context from standard input: %w", err))
			}
			dir = tmp
			break
		}
		data, err := io.ReadAll(in)
		if err != nil {
			return done(Context{}, err)
		}
		return done(Context{Dir: tmp, Dockerfile: data, DockerfileName: "Dockerfile"}, nil)
	default:
		fi, err := os.Stat(arg)
		if err != nil {
			return done(Context{}, fmt.Errorf("unable to prepare context: path %q not found", arg))
		}
		if fi.IsDir() {
			dir = arg
			break
		}
		f, err := os.Open(arg)
		if err != nil {
			return done(Context{}, err)
		}
		defer f.Close()
		tmp, err := os.MkdirTemp("", "burrow-context-")
		if err != nil {
			return done(Context{}, err)
		}
		cleanup = func() { os.RemoveAll(tmp) }
		if err := archive.Untar(f, tmp, &archive.TarOptions{NoLchown: true}); err != nil {
			return done(Context{}, fmt.Errorf("unpacking the context %s: %w (hint: a context is a directory or a tar archive)", arg, err))
		}
		dir = tmp
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return done(Context{}, err)
	}
	if file == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return done(Context{}, err)
		}
		return done(Context{Dir: abs, Dockerfile: data, DockerfileName: "Dockerfile"}, nil)
	}
	path := file
	if path == "" {
		path = filepath.Join(abs, "Dockerfile")
		if _, err := os.Stat(path); err != nil {
			if _, lerr := os.Stat(filepath.Join(abs, "dockerfile")); lerr == nil {
				path = filepath.Join(abs, "dockerfile")
			}
		}
	} else if arg != "-" && !filepath.IsAbs(path) {
		// A relative -f is relative to the current directory, as in Docker;
		// inside an unpacked archive it is relative to the archive's root.
		if dir != arg {
			path = filepath.Join(abs, path)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return done(Context{}, fmt.Errorf("no Dockerfile at %s (hint: give its path with -f)", path))
		}
		return done(Context{}, fmt.Errorf("reading the Dockerfile: %w", err))
	}
	name := filepath.Base(path)
	if rel, err := filepath.Rel(abs, path); err == nil && !strings.HasPrefix(rel, "..") {
		name = rel
	}
	return done(Context{Dir: abs, Dockerfile: data, DockerfileName: name, DockerfilePath: path}, nil)
}

// looksLikeArchive says whether the start of a stream is a tar archive or
// a compressed stream (a context), rather than a Dockerfile.
func looksLikeArchive(head []byte) bool {
	for _, magic := range [][]byte{{0x1f, 0x8b}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z', 0}, {0x28, 0xb5, 0x2f, 0xfd}} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return len(head) > 262 && string(head[257:262]) == "ustar"
}

// ParseSecret reads --secret id=ID,src=FILE (also source=, and type=file).
func ParseSecret(v string) (id, src string, err error) {
	for _, field := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(field, "=")
		switch strings.ToLower(k) {
		case "id":
			id = val
		case "src", "source":
			src = val
		case "type":
			if val != "file" {
				return "", "", fmt.Errorf("invalid --secret %q: only type=file is supported", v)
			}
		case "env":
			return "", "", fmt.Errorf("invalid --secret %q: env= secrets are not supported (hint: write it to a file and use src=)", v)
		default:
			return "", "", fmt.Errorf("invalid --secret %q: unknown key %q (hint: id=ID,src=FILE)", v, k)
		}
	}
	if id == "" && src != "" {
		id = filepath.Base(src)
	}
	if id == "" || src == "" {
		return "", "", fmt.Errorf("invalid --secret %q (hint: id=ID,src=FILE)", v)
	}
	if _, err := os.Stat(src); err != nil {
		return "", "", fmt.Errorf("secret %q: %w", id, err)
	}
	return id, src, nil
}

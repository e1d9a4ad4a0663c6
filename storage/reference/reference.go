// Package reference is the image-name grammar: it parses names as Docker
// does (no registry means Docker Hub, a one-part Docker Hub name is under
// library/, no tag means latest) and prints them in the full form the store
// records or in the short form Docker shows. It is pure: no I/O, and no
// project imports, so storage and everything above it may use it.
package reference

import (
	"fmt"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// NameError is an image name that is not a valid reference.
type NameError struct {
	Name   string
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid reference format: %q is not a valid image name: %s (hint: names look like name, name:tag, host:port/path/name:tag or name@sha256:digest)", e.Name, e.Reason)
}

// dockerHub is how the store records Docker Hub; go-containerregistry
// calls it index.docker.io.
const dockerHub = "docker.io"

// ref is a parsed image reference.
type ref struct {
	registry, repo string // "docker.io", "library/busybox"
	tag            string // "latest" when none was given
	tagged         bool   // the tag was written
	digest         string // "" or "sha256:..."
}

// parseRef parses a name as Docker does: no registry means Docker Hub, a
// one-part Docker Hub name is under library/, no tag means latest, and a
// name may carry both a tag and a digest.
func parseRef(s string) (ref, error) {
	base, dgst, hasDigest := strings.Cut(s, "@")
	bad := func(reason string) (ref, error) { return ref{}, &NameError{Name: s, Reason: reason} }
	if hasDigest {
		if _, err := name.NewDigest("x@" + dgst); err != nil {
			return bad(fmt.Sprintf("digest %q is not algorithm:hex (sha256 and 64 hex digits)", dgst))
		}
	}
	t, err := name.NewTag(base)
	if err != nil {
		return bad(nameProblem(base))
	}
	out := ref{registry: t.Context().RegistryStr(), repo: t.Context().RepositoryStr(), tag: t.TagStr(), digest: dgst}
	for _, part := range strings.Split(out.repo, "/") {
		if !validPathComponent(part) {
			return bad(fmt.Sprintf("path component %q must be lowercase letters and digits, separated by one '.', '_', '__' or '-'s", part))
		}
	}
	if !validTag(out.tag) {
		return bad(fmt.Sprintf("tag %q must start with a letter, digit or '_' and have at most 128 of letters, digits, '_', '.' and '-'", out.tag))
	}
	if out.registry == name.DefaultRegistry {
		out.registry = dockerHub
	}
	last := base[strings.LastIndex(base, "/")+1:]
	out.tagged = strings.Contains(last, ":")
	return out, nil
}

// The grammar of the OCI distribution spec for repository path components
// ([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*) and tags
// ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}), written out: compiling the tag's
// regular expression took 0.3 ms of every `run`.

func validPathComponent(s string) bool {
	alnum := func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
	for i := 0; ; {
		start := i
		for i < len(s) && alnum(s[i]) {
			i++
		}
		if i == start {
			return false // empty, or a separator first or twice
		}
		if i == len(s) {
			return true
		}
		start = i
		for i < len(s) && !alnum(s[i]) {
			i++
		}
		switch sep := s[start:i]; {
		case sep == ".", sep == "_", sep == "__", strings.Trim(sep, "-") == "":
		default:
			return false
		}
	}
}

func validTag(s string) bool {
	if len(s) == 0 || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// nameProblem says in words why a name does not parse.
func nameProblem(s string) string {
	repo := s
	if i := strings.Index(s, "/"); i >= 0 {
		repo = s[i:]
	}
	switch {
	case s == "":
		return "it is empty"
	case strings.ContainsAny(s, " \t\n"):
		return "it contains white space"
	case strings.ToLower(repo) != repo:
		return "repository name must be lowercase"
	}
	return "it does not parse as [registry/]repository[:tag][@digest]"
}

// full is the form the store records: with a tag (latest by default)
// unless only a digest was given.
func (r ref) full() string {
	s := r.registry + "/" + r.repo
	if r.tagged || r.digest == "" {
		s += ":" + r.tag
	}
	if r.digest != "" {
		s += "@" + r.digest
	}
	return s
}

// suffix is the tag and digest as written.
func (r ref) suffix() string {
	s := ""
	if r.tagged {
		s = ":" + r.tag
	}
	if r.digest != "" {
		s += "@" + r.digest
	}
	return s
}

// familiarRepo is the repository as Docker prints it: Docker Hub's
// registry and library/ left out.
func (r ref) familiarRepo() string {
	if r.registry != dockerHub {
		return r.registry + "/" + r.repo
	}
	if rest, ok := strings.CutPrefix(r.repo, "library/"); ok && !strings.Contains(rest, "/") {
		return rest
	}
	return r.repo
}

// Normalize turns a name as a user types it into the full form the store
// records, as Docker does: "busybox" is "docker.io/library/busybox:latest",
// "localhost/x" is "localhost/x:latest", and a digest reference keeps its
// digest.
func Normalize(s string) (string, error) {
	r, err := parseRef(s)
	if err != nil {
		return "", err
	}
	return r.full(), nil
}

// NormalizeAll is Normalize over a list; the first bad name fails it.
func NormalizeAll(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		full, err := Normalize(n)
		if err != nil {
			return nil, err
		}
		out = append(out, full)
	}
	return out, nil
}

// Short is the form of a name that Docker prints: Docker Hub's
// docker.io/library/ prefix dropped, tag and digest as given.
func Short(full string) string {
	r, err := parseRef(full)
	if err != nil {
		return full
	}
	return r.familiarRepo() + r.suffix()
}

// Split splits a full or short name into the repository (short form),
// the tag ("<none>" when it has none) and the digest ("" when it has none).
func Split(full string) (repo, tag, dgst string) {
	r, err := parseRef(full)
	if err != nil {
		return full, "<none>", ""
	}
	tag = "<none>"
	if r.tagged {
		tag = r.tag
	}
	return r.familiarRepo(), tag, r.digest
}

// Repository is the full repository of a name (no tag or digest).
func Repository(full string) string {
	r, err := parseRef(full)
	if err != nil {
		return full
	}
	return r.registry + "/" + r.repo
}

// Match reports whether a full name matches a Docker
// `reference=` filter pattern such as "busybox", "busy*" or "busybox:1.*":
// the pattern is matched against the familiar name with its tag, and
// against the familiar repository alone, as Docker does.
func Match(full, pattern string) bool {
	r, err := parseRef(full)
	if err != nil {
		return false
	}
	if ok, _ := path.Match(pattern, r.familiarRepo()+r.suffix()); ok {
		return true
	}
	ok, _ := path.Match(pattern, r.familiarRepo())
	return ok
}

// IsImageID says whether ref is an image ID (64 hex digits, with or
// without "sha256:") rather than a name.
func IsImageID(ref string) bool {
	id := strings.TrimPrefix(ref, "sha256:")
	return len(id) == 64 && strings.Trim(id, "0123456789abcdef") == ""
}

// Familiar is ref as Docker shows a name it was given ("busybox:latest"),
// or ref itself when it is not a valid name.
func Familiar(ref string) string {
	full, err := Normalize(ref)
	if err != nil {
		return ref
	}
	return Short(full)
}

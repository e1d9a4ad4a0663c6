package storage

import (
	"fmt"
	"path"
	"strings"

	"github.com/distribution/reference"
)

// NameError is an image name that is not a valid reference.
type NameError struct {
	Name   string
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid reference format: %q is not a valid image name: %s (hint: names look like name, name:tag, host:port/path/name:tag or name@sha256:digest, in lowercase)", e.Name, e.Reason)
}

// NormalizeName turns a name as a user types it into the full form the store
// records, as Docker does: "busybox" is "docker.io/library/busybox:latest",
// "localhost/x" is "localhost/x:latest", and a digest reference keeps its
// digest.
func NormalizeName(name string) (string, error) {
	n, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		reason := err.Error()
		if strings.ToLower(name) != name {
			reason = "repository name must be lowercase"
		}
		return "", &NameError{Name: name, Reason: reason}
	}
	return reference.TagNameOnly(n).String(), nil
}

// ShortName is the form of a full name that Docker prints: the
// docker.io/library/ prefix dropped.
func ShortName(full string) string {
	n, err := reference.ParseNormalizedNamed(full)
	if err != nil {
		return full
	}
	return reference.FamiliarString(n)
}

// SplitName splits a full or short name into the repository (short form) and
// the tag ("<none>" when it has none) and digest ("" when it has none).
func SplitName(full string) (repo, tag, dgst string) {
	n, err := reference.ParseNormalizedNamed(full)
	if err != nil {
		return full, "<none>", ""
	}
	repo = reference.FamiliarName(n)
	tag = "<none>"
	if t, ok := n.(reference.Tagged); ok {
		tag = t.Tag()
	}
	if d, ok := n.(reference.Digested); ok {
		dgst = d.Digest().String()
	}
	return repo, tag, dgst
}

// RepositoryOf is the full repository of a full name (no tag or digest).
func RepositoryOf(full string) string {
	n, err := reference.ParseNormalizedNamed(full)
	if err != nil {
		return full
	}
	return n.Name()
}

// MatchReference reports whether a full name matches a Docker
// `reference=` filter pattern such as "busybox", "busy*" or "busybox:1.*":
// the pattern is matched against the familiar name with and without its tag,
// as Docker does.
func MatchReference(full, pattern string) bool {
	n, err := reference.ParseNormalizedNamed(full)
	if err != nil {
		return false
	}
	if ok, _ := reference.FamiliarMatch(pattern, n); ok {
		return true
	}
	ok, _ := path.Match(pattern, reference.FamiliarName(n))
	return ok
}

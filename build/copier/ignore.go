package copier

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Ignore is a parsed .dockerignore. A nil *Ignore excludes nothing.
//
// It is safe for concurrent use: patternmatcher compiles patterns lazily and
// is not, so every match holds mu.
type Ignore struct {
	mu sync.Mutex
	pm *patternmatcher.PatternMatcher
	// prefixOnly is true when no "!exception" pattern has wildcards (apart
	// from a trailing /* or /**). Then an excluded directory needs walking
	// only if an exception names a path under it; otherwise every excluded
	// directory is walked. This is BuildKit's rule (fsutil filter.go).
	prefixOnly bool
	// exceptions are the exception patterns without a trailing glob, each
	// followed by a slash, for the prefix test.
	exceptions []string
}

// NewIgnore parses .dockerignore-style patterns (already split into lines,
// as ignorefile.ReadAll returns them).
func NewIgnore(patterns []string) (*Ignore, error) {
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, err
	}
	return newIgnore(pm), nil
}

func newIgnore(pm *patternmatcher.PatternMatcher) *Ignore {
	i := &Ignore{pm: pm, prefixOnly: true}
	for _, p := range pm.Patterns() {
		if !p.Exclusion() {
			continue
		}
		s := patternWithoutTrailingGlob(p.String())
		if strings.ContainsAny(s, `*[]?^\`) {
			i.prefixOnly = false
		}
		i.exceptions = append(i.exceptions, s+"/")
	}
	return i
}

// ReadIgnore reads the ignore file for a Dockerfile: <dockerfilePath>.dockerignore
// if it exists (BuildKit's rule, so one context can serve several
// Dockerfiles), else <contextDir>/.dockerignore. It returns (nil, nil) when
// neither exists. dockerfilePath may be "" (no Dockerfile-specific file).
func ReadIgnore(contextDir, dockerfilePath string) (*Ignore, error) {
	var candidates []string
	if dockerfilePath != "" {
		candidates = append(candidates, dockerfilePath+".dockerignore")
	}
	candidates = append(candidates, filepath.Join(contextDir, ".dockerignore"))
	for _, name := range candidates {
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		patterns, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		ig, err := NewIgnore(patterns)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w (hint: patterns follow Go's filepath.Match syntax, plus **)", name, err)
		}
		return ig, nil
	}
	return nil, nil
}

// Excluded reports whether the slash-separated path relative to the context
// root is excluded, either itself or through a parent directory, taking
// "!exception" lines into account.
func (i *Ignore) Excluded(rel string) (bool, error) {
	if i == nil || rel == "." || rel == "" {
		return false, nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.pm.MatchesOrParentMatches(rel)
}

// match is MatchesUsingParentResults under the lock; walks pass each
// directory's MatchInfo to its children so a deep path costs one match.
func (i *Ignore) match(rel string, parent patternmatcher.MatchInfo) (bool, patternmatcher.MatchInfo, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.pm.MatchesUsingParentResults(rel, parent)
}

// mayInclude reports whether an excluded directory can hold paths that an
// exception re-includes, so that it has to be walked.
func (i *Ignore) mayInclude(dir string) bool {
	if i == nil || len(i.exceptions) == 0 {
		return false
	}
	if !i.prefixOnly {
		return true
	}
	dirSlash := dir + "/"
	for _, e := range i.exceptions {
		if strings.HasPrefix(e, dirSlash) {
			return true
		}
	}
	return false
}

// patternWithoutTrailingGlob strips a trailing "/**" or "/*": an exception
// "!dir/*" can only re-include paths under dir.
func patternWithoutTrailingGlob(p string) string {
	p = strings.TrimSuffix(p, "/**")
	return strings.TrimSuffix(p, "/*")
}

// excludeMatcher compiles Options.Exclude. Unlike .dockerignore patterns,
// they apply to paths relative to each source (BuildKit's fsutil copy), so a
// pattern "*.txt" drops every top-level .txt file inside a copied directory.
func excludeMatcher(patterns []string) (*patternmatcher.PatternMatcher, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("parsing --exclude %q: %w (hint: patterns follow Go's filepath.Match syntax, plus **)", strings.Join(patterns, " "), err)
	}
	return pm, nil
}

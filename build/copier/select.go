package copier

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// Root is where sources are read from.
type Root struct {
	// Dir is the absolute directory sources are relative to.
	Dir string
	// Ignore excludes paths of the build context; nil for none (always nil
	// for --from roots).
	Ignore *Ignore
	// Memo lets Digest skip reading unchanged files; may be nil.
	Memo *Memo
	// Name is how errors name this root, after "in": "build context" (shown
	// as "the build context") or e.g. `stage "builder"`.
	Name string
}

// Source is one selected source: a path inside Root.Dir after wildcard
// expansion. Sources come from Select, which records where they are; one
// built by hand cannot be copied.
type Source struct {
	// Rel is slash-separated, relative to Root.Dir and cleaned ("." for the
	// root itself). For a wildcard match it is the matched path with any
	// symlinks before the first wildcard resolved, as BuildKit reports it.
	Rel string
	// Info is the Lstat of the source, except that a symlink named directly
	// (or matched by a wildcard) is followed, as Docker does, and Info
	// describes its target.
	Info fs.FileInfo

	host   string // absolute path with every symlink resolved inside Root.Dir
	lhost  string // absolute path with the final symlink not followed (--parents)
	real   string // host relative to Root.Dir, what .dockerignore is matched against
	pivot  string // for --parents: the part of Rel before a "/./" in the argument
	lexRel string // Rel as written, for --parents
}

// NotFoundError reports a source that does not exist in the root, is
// excluded by .dockerignore, or a wildcard that matches nothing.
type NotFoundError struct {
	// Path is the source relative to the root, or the wildcard pattern.
	Path string
	// Excluded is true when Path exists but .dockerignore excludes it.
	Excluded bool
	// Wildcard is true when Path is a pattern that matched nothing.
	Wildcard bool
	// Root is Root.Name.
	Root string
	// Instruction is "COPY" or "ADD"; Select does not know it and leaves it
	// empty, which reads as "COPY". Callers handling ADD set it.
	Instruction string
}

// Error words the failure as Docker does, with a hint where one helps.
func (e *NotFoundError) Error() string {
	instr := e.Instruction
	if instr == "" {
		instr = "COPY"
	}
	where := e.Root
	if where == "" || where == "build context" {
		where = "the build context"
	}
	switch {
	case e.Wildcard && e.Excluded:
		return fmt.Sprintf("%s failed: no source files were specified: %q matches only paths excluded by .dockerignore", instr, e.Path)
	case e.Wildcard:
		return fmt.Sprintf("%s failed: no source files were specified: %q matches nothing in %s", instr, e.Path, where)
	case e.Excluded:
		return fmt.Sprintf("%s failed: %q is excluded by .dockerignore (hint: remove the pattern that matches it, or add the line \"!%s\")", instr, e.Path, e.Path)
	default:
		return fmt.Sprintf("%s failed: %q not found in %s", instr, e.Path, where)
	}
}

// Select expands the COPY/ADD source arguments against the root. Leading
// "/" and "./" are ignored and ".." cannot climb out of the root ("/../x" is
// "x"). Wildcards (* ? [...] as in path.Match, per path segment, "\" escapes)
// match entries that .dockerignore does not exclude. An argument that names
// a missing or excluded path, or a wildcard that matches nothing, is a
// *NotFoundError. Results are in argument order, wildcard matches in walk
// order (sorted segment by segment).
//
// For --parents, an argument may contain "/./": the part before it is left
// out of the destination path (BuildKit's pivot).
func (r *Root) Select(srcs []string) ([]Source, error) {
	var out []Source
	for _, arg := range srcs {
		pivot := ""
		if before, _, ok := strings.Cut(arg, "/./"); ok {
			pivot = cleanRel(before)
		}
		rel := cleanRel(arg)
		if !containsWildcards(rel) {
			s, err := r.named(rel)
			if err != nil {
				return nil, err
			}
			s.pivot = pivot
			out = append(out, s)
			continue
		}
		matches, err := r.expand(rel)
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			m.pivot = pivot
			out = append(out, m)
		}
	}
	return out, nil
}

// cleanRel cleans a source argument to a root-relative slash path.
func cleanRel(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return "."
	}
	return p[1:]
}

// containsWildcards is BuildKit's test: "\" escapes the next character.
func containsWildcards(name string) bool {
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

// named resolves a source without wildcards.
func (r *Root) named(rel string) (Source, error) {
	notFound := &NotFoundError{Path: rel, Root: r.Name}
	host, err := securejoin.SecureJoin(r.Dir, rel)
	if err != nil {
		return Source{}, fmt.Errorf("resolving %q in %s: %w", rel, r.Dir, err)
	}
	info, err := os.Lstat(host)
	if err != nil {
		if securejoin.IsNotExist(err) {
			return Source{}, notFound
		}
		return Source{}, fmt.Errorf("reading %s: %w", host, err)
	}
	s, err := r.source(rel, host, info)
	if err != nil {
		return Source{}, err
	}
	excluded, err := r.excluded(rel, s.real, info)
	if err != nil {
		return Source{}, err
	}
	if excluded {
		notFound.Excluded = true
		return Source{}, notFound
	}
	return s, nil
}

// source fills a Source whose resolved host path and its Lstat are known.
func (r *Root) source(rel, host string, info fs.FileInfo) (Source, error) {
	realRel, err := filepath.Rel(r.Dir, host)
	if err != nil {
		return Source{}, fmt.Errorf("resolving %q in %s: %w", rel, r.Dir, err)
	}
	s := Source{Rel: rel, Info: info, host: host, lhost: host, real: filepath.ToSlash(realRel), lexRel: rel}
	if rel != "." {
		// The unfollowed path: parents resolved, the last element as is.
		dir, err := securejoin.SecureJoin(r.Dir, path.Dir(rel))
		if err != nil {
			return Source{}, fmt.Errorf("resolving %q in %s: %w", rel, r.Dir, err)
		}
		s.lhost = filepath.Join(dir, path.Base(rel))
	}
	return s, nil
}

// excluded reports whether .dockerignore hides a source. The path as
// written and the path with symlinks resolved must both be visible, as in
// BuildKit, where excluded files are absent from the transferred context.
// An excluded directory still exists there if an exception re-includes
// something inside it.
func (r *Root) excluded(rel, real string, info fs.FileInfo) (bool, error) {
	if r.Ignore == nil {
		return false, nil
	}
	ex, err := r.Ignore.Excluded(real)
	if err == nil && !ex && rel != real {
		ex, err = r.Ignore.Excluded(rel)
	}
	if err != nil {
		return false, fmt.Errorf("matching %q against .dockerignore: %w", rel, err)
	}
	if !ex || !info.IsDir() || !r.Ignore.mayInclude(real) {
		return ex, nil
	}
	found, err := r.anyIncluded(filepath.Join(r.Dir, filepath.FromSlash(real)), real)
	return !found, err
}

// anyIncluded reports whether a walk of the excluded directory dir (real
// relative to the root) finds an entry that an exception re-includes.
func (r *Root) anyIncluded(dir, real string) (bool, error) {
	errFound := errors.New("found")
	w := &walker{root: r, opts: &Options{}, fn: func(*entry) error { return errFound }}
	err := w.walkDir(dir, "", real, "", zeroMatch, zeroMatch)
	if errors.Is(err, errFound) {
		return true, nil
	}
	return false, err
}

// expand resolves a source with wildcards. The part before the first
// wildcard segment is resolved like a named path; the rest is matched
// segment by segment without following symlinks, as filepath.Walk does for
// BuildKit.
func (r *Root) expand(pattern string) ([]Source, error) {
	segs := strings.Split(pattern, "/")
	first := 0
	for first < len(segs) && !containsWildcards(segs[first]) {
		first++
	}
	for _, s := range segs[first:] {
		if _, err := path.Match(s, ""); err != nil {
			return nil, fmt.Errorf("bad source pattern %q: %w (hint: write a literal \"[\" as \"[[]\")", pattern, err)
		}
	}
	base := "."
	if first > 0 {
		base = strings.Join(segs[:first], "/")
	}
	notFound := &NotFoundError{Path: pattern, Wildcard: true, Root: r.Name}
	baseHost, err := securejoin.SecureJoin(r.Dir, base)
	if err != nil {
		return nil, fmt.Errorf("resolving %q in %s: %w", base, r.Dir, err)
	}
	baseReal, err := filepath.Rel(r.Dir, baseHost)
	if err != nil {
		return nil, fmt.Errorf("resolving %q in %s: %w", base, r.Dir, err)
	}
	m := &matcher{root: r, notFound: notFound}
	if err := m.walk(baseHost, filepath.ToSlash(baseReal), segs[first:]); err != nil {
		return nil, err
	}
	if len(m.out) == 0 {
		return nil, notFound
	}
	return m.out, nil
}

// matcher collects wildcard matches.
type matcher struct {
	root     *Root
	notFound *NotFoundError
	out      []Source
}

func (m *matcher) walk(dir, real string, pats []string) error {
	ents, err := readDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
			return nil
		}
		return fmt.Errorf("reading %s: %w", dir, err)
	}
	for _, d := range ents {
		if ok, _ := path.Match(pats[0], d.name); !ok {
			continue
		}
		rel := joinRel(real, d.name)
		host := filepath.Join(dir, d.name)
		isDir := kindOf(d.st.mode) == kindDir
		if len(pats) > 1 {
			if !isDir {
				continue
			}
			ex, err := m.root.Ignore.Excluded(rel)
			if err != nil {
				return fmt.Errorf("matching %q against .dockerignore: %w", rel, err)
			}
			if ex && !m.root.Ignore.mayInclude(rel) {
				continue
			}
			if err := m.walk(host, rel, pats[1:]); err != nil {
				return err
			}
			continue
		}
		if err := m.add(rel, host); err != nil {
			return err
		}
	}
	return nil
}

// add records one match, following it if it is a symlink.
func (m *matcher) add(rel, host string) error {
	resolved, err := securejoin.SecureJoin(m.root.Dir, rel)
	if err != nil {
		return fmt.Errorf("resolving %q in %s: %w", rel, m.root.Dir, err)
	}
	info, err := os.Lstat(resolved)
	if err != nil {
		if securejoin.IsNotExist(err) {
			return &NotFoundError{Path: rel, Root: m.root.Name}
		}
		return fmt.Errorf("reading %s: %w", host, err)
	}
	s, err := m.root.source(rel, resolved, info)
	if err != nil {
		return err
	}
	excluded, err := m.root.excluded(rel, s.real, info)
	if err != nil {
		return err
	}
	if excluded {
		m.notFound.Excluded = true
		return nil
	}
	m.out = append(m.out, s)
	return nil
}

// joinRel joins slash paths where "." or "" is the root.
func joinRel(dir, name string) string {
	if name == "." || name == "" {
		return dir
	}
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

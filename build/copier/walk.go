package copier

import (
	"fmt"
	"os"
	"path"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/patternmatcher"
)

// entry is one thing a copy produces, in the order Write emits it. Digest
// and Write both consume the same walk, so they agree on what is copied.
type entry struct {
	// rel is the path relative to the destination directory; "" is the
	// destination itself (a single file renamed to Dest, or destDir).
	rel  string
	host string // absolute source path on the host
	st   stat
	kind kind
	// link is a symlink's target, or for kindHardlink the rel of the first
	// name of the same file.
	link string
	// top marks a source named or matched in Select, which ADD may extract.
	top bool
	// destDir reports that a directory's contents are about to be copied
	// into the destination; st is that directory's. It is not copied itself.
	destDir bool
}

var zeroMatch patternmatcher.MatchInfo

// walker enumerates the entries a copy produces, applying .dockerignore,
// --exclude, --parents and hard-link detection.
type walker struct {
	root *Root
	opts *Options
	ex   *patternmatcher.PatternMatcher // Options.Exclude, or nil
	fn   func(*entry) error

	// pending are excluded directories being walked because exceptions may
	// re-include something inside; they are emitted, with their own
	// metadata, before the first entry found in them (BuildKit's lazy
	// parent directories).
	pending   []pendingDir
	links     map[devIno]string // first rel of each file with several links
	ancestors map[string]bool   // --parents ancestors already emitted
	e         entry             // reused for every call of fn
}

type pendingDir struct {
	host, rel string
	st        stat
	emitted   bool
}

type devIno struct{ dev, ino uint64 }

func newWalker(r *Root, opts *Options, fn func(*entry) error) (*walker, error) {
	ex, err := excludeMatcher(opts.Exclude)
	if err != nil {
		return nil, err
	}
	return &walker{root: r, opts: opts, ex: ex, fn: fn, links: map[devIno]string{}, ancestors: map[string]bool{}}, nil
}

// run walks every source.
func (w *walker) run(srcs []Source, p *plan) error {
	for i := range srcs {
		s := &srcs[i]
		var err error
		if w.opts.Parents {
			err = w.parents(s)
		} else {
			err = w.source(s, p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// source walks one source without --parents: a directory's contents go into
// the destination, anything else to dest/<basename> or dest itself.
func (w *walker) source(s *Source, p *plan) error {
	st, err := lstat(s.host)
	if err != nil {
		return fmt.Errorf("reading %s: %w", s.Rel, err)
	}
	k := kindOf(st.mode)
	if k == kindDir {
		// BuildKit copies a directory's contents (CopyDirContentsOnly),
		// never the directory itself; Write still needs to hear of it to
		// create Dest with its mtime.
		w.e = entry{host: s.host, st: st, kind: kindDir, destDir: true}
		if err := w.fn(&w.e); err != nil {
			return err
		}
		return w.walkDir(s.host, "", s.real, "", zeroMatch, zeroMatch)
	}
	// The name is the source's as written: a followed symlink keeps its
	// own name, as fsutil uses filepath.Base(src), not the target's.
	rel := ""
	if p.intoDest {
		rel = path.Base(s.Rel)
	}
	return w.emit(s.host, rel, st, true)
}

// parents walks one source with --parents: its path below the root (or the
// pivot) is kept, ancestors included, and a final symlink is not followed.
func (w *walker) parents(s *Source) error {
	prel, pivot := s.lexRel, ""
	if s.pivot != "" && s.pivot != "." {
		if rest, ok := strings.CutPrefix(prel, s.pivot+"/"); ok {
			prel, pivot = rest, s.pivot
		} else if prel == s.pivot {
			prel, pivot = ".", s.pivot
		}
	}
	if prel == "." {
		st, err := lstat(s.host)
		if err != nil {
			return fmt.Errorf("reading %s: %w", s.Rel, err)
		}
		w.e = entry{host: s.host, st: st, kind: kindDir, destDir: true}
		if err := w.fn(&w.e); err != nil {
			return err
		}
		return w.walkDir(s.host, "", s.real, "", zeroMatch, zeroMatch)
	}
	for i := 0; i < len(prel); i++ {
		if prel[i] != '/' || w.ancestors[prel[:i]] {
			continue
		}
		// As fsutil's createParentDirs, ancestors are followed if symlinks.
		a := prel[:i]
		host, err := securejoin.SecureJoin(w.root.Dir, joinRel(pivot, a))
		if err != nil {
			return fmt.Errorf("resolving %q in %s: %w", a, w.root.Dir, err)
		}
		st, err := lstat(host)
		if err != nil {
			return fmt.Errorf("reading %s: %w", a, err)
		}
		if kindOf(st.mode) != kindDir {
			return fmt.Errorf("reading %s: %w", a, errNotDir)
		}
		w.ancestors[a] = true
		w.e = entry{host: host, st: st, kind: kindDir, rel: a}
		if err := w.fn(&w.e); err != nil {
			return err
		}
	}
	st, err := lstat(s.lhost)
	if err != nil {
		return fmt.Errorf("reading %s: %w", s.Rel, err)
	}
	isDir := kindOf(st.mode) == kindDir
	exInfo := zeroMatch
	if w.ex != nil {
		m, info, err := w.ex.MatchesUsingParentResults(prel, zeroMatch)
		if err != nil {
			return fmt.Errorf("matching %q against --exclude: %w", prel, err)
		}
		exInfo = info
		if m {
			if !isDir || !w.ex.Exclusions() {
				return nil
			}
			w.pending = append(w.pending, pendingDir{host: s.lhost, rel: prel, st: st})
			err := w.walkDir(s.lhost, prel, s.real, prel, zeroMatch, exInfo)
			w.pending = w.pending[:len(w.pending)-1]
			return err
		}
	}
	if err := w.emit(s.lhost, prel, st, false); err != nil {
		return err
	}
	if isDir {
		return w.walkDir(s.lhost, prel, s.real, prel, zeroMatch, exInfo)
	}
	return nil
}

// walkDir walks the directory host, whose entries go to rel/<name>. ctxRel
// is its path relative to the root (for .dockerignore) and srcRel relative
// to the source (for --exclude); the MatchInfos are the directory's own.
func (w *walker) walkDir(host, rel, ctxRel, srcRel string, igInfo, exInfo patternmatcher.MatchInfo) error {
	ents, err := readDir(host)
	if err != nil {
		return fmt.Errorf("reading %s: %w", host, err)
	}
	for i := range ents {
		d := &ents[i]
		childHost := host + "/" + d.name
		childRel := joinRel(rel, d.name)
		isDir := kindOf(d.st.mode) == kindDir
		excluded, descend := false, isDir
		// The match paths are only built when there are patterns: a warm
		// Digest is mostly this loop.
		var childCtx, childSrc string
		var childIg, childEx patternmatcher.MatchInfo
		if w.root.Ignore != nil {
			childCtx = joinRel(ctxRel, d.name)
			m, info, err := w.root.Ignore.match(childCtx, igInfo)
			if err != nil {
				return fmt.Errorf("matching %q against .dockerignore: %w", childCtx, err)
			}
			childIg = info
			if m {
				excluded = true
				descend = descend && w.root.Ignore.mayInclude(childCtx)
			}
		}
		if w.ex != nil {
			childSrc = joinRel(srcRel, d.name)
			m, info, err := w.ex.MatchesUsingParentResults(childSrc, exInfo)
			if err != nil {
				return fmt.Errorf("matching %q against --exclude: %w", childSrc, err)
			}
			childEx = info
			if m {
				excluded = true
				descend = descend && w.ex.Exclusions()
			}
		}
		// An excluded entry is dropped, but an excluded directory is still
		// walked when its matcher has exceptions that may re-include
		// something below it: .dockerignore by the prefix rule of fsutil's
		// filter, --exclude whenever it has exceptions (fsutil's copier).
		if excluded {
			if descend {
				w.pending = append(w.pending, pendingDir{host: childHost, rel: childRel, st: d.st})
				err := w.walkDir(childHost, childRel, childCtx, childSrc, childIg, childEx)
				w.pending = w.pending[:len(w.pending)-1]
				if err != nil {
					return err
				}
			}
			continue
		}
		if err := w.emit(childHost, childRel, d.st, false); err != nil {
			return err
		}
		if isDir {
			if err := w.walkDir(childHost, childRel, childCtx, childSrc, childIg, childEx); err != nil {
				return err
			}
		}
	}
	return nil
}

// emit reports one entry, after any pending excluded parents. Sockets are
// skipped, as Docker does.
func (w *walker) emit(host, rel string, st stat, top bool) error {
	k := kindOf(st.mode)
	if k == kindSocket {
		return nil
	}
	for i := range w.pending {
		p := &w.pending[i]
		if p.emitted {
			continue
		}
		p.emitted = true
		w.e = entry{host: p.host, rel: p.rel, st: p.st, kind: kindDir}
		if err := w.fn(&w.e); err != nil {
			return err
		}
	}
	w.e = entry{host: host, rel: rel, st: st, kind: k, top: top}
	switch k {
	case kindSymlink:
		target, err := os.Readlink(host)
		if err != nil {
			return fmt.Errorf("reading symlink %s: %w", host, err)
		}
		w.e.link = target
	case kindFile:
		// Only regular files become hard links, as in fsutil's copier. The
		// key has the device too: a --from root may span filesystems.
		if st.nlink > 1 {
			key := devIno{st.dev, st.ino}
			if first, ok := w.links[key]; ok {
				w.e.kind = kindHardlink
				w.e.link = first
			} else {
				w.links[key] = rel
			}
		}
	}
	return w.fn(&w.e)
}

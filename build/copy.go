package build

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/burrow-oci/burrow/build/copier"
	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
)

// copySpec is a COPY or an ADD, expanded. Its JSON form is the
// instruction's part of the cache key.
type copySpec struct {
	Instruction string   `json:"i"`
	Sources     []string `json:"s"`
	Dest        string   `json:"d"`
	From        string   `json:"from,omitempty"`
	Chown       string   `json:"chown,omitempty"`
	Chmod       string   `json:"chmod,omitempty"`
	Parents     bool     `json:"parents,omitempty"`
	Exclude     []string `json:"exclude,omitempty"`
	Checksum    string   `json:"checksum,omitempty"`
	Unpack      *bool    `json:"unpack,omitempty"`
	// Inline holds heredoc sources (COPY <<EOF /dest).
	Inline []instructions.SourceContent `json:"inline,omitempty"`
}

func copyFromCopy(c *instructions.CopyCommand) copySpec {
	return copySpec{Instruction: "COPY", Sources: c.SourcePaths, Dest: c.DestPath, From: c.From,
		Chown: c.Chown, Chmod: c.Chmod, Parents: c.Parents, Exclude: c.ExcludePatterns, Inline: c.SourceContents}
}

func copyFromAdd(c *instructions.AddCommand) copySpec {
	return copySpec{Instruction: "ADD", Sources: c.SourcePaths, Dest: c.DestPath,
		Chown: c.Chown, Chmod: c.Chmod, Exclude: c.ExcludePatterns, Checksum: c.Checksum, Unpack: c.Unpack, Inline: c.SourceContents}
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// root is where a COPY reads from.
type root struct {
	*copier.Root
	done func() // releases it (unmounts a stage's or image's filesystem)
}

func (b *builder) contextRoot() *copier.Root {
	return &copier.Root{Dir: b.opts.ContextDir, Ignore: b.ignore, Memo: b.memo, Name: "build context"}
}

// sourceKey identifies the content of another stage (its last key) or of
// an image (its ID) for a COPY --from or a --mount from=. It waits for the
// stage to be built, but mounts nothing: a step's key needs only this.
func (s *stage) sourceKey(ref string) (string, error) {
	if j := s.b.df.StageIndex(ref, s.index); j >= 0 {
		r := s.b.results[j]
		<-r.done
		if r.err != nil {
			return "", r.err
		}
		return "stage:" + r.state.key, nil
	}
	img, err := s.b.st.Lookup(ref)
	if err != nil {
		return "", fmt.Errorf("--from=%s: no stage or image of that name (hint: name a stage with FROM IMAGE AS NAME, or import the image)", ref)
	}
	return "image:" + img.ID, nil
}

// fromRoot mounts another stage's or an image's filesystem to read from.
// Mounting is slow work (on vfs it copies every layer): callers do it only
// on a cache miss, having keyed the step with sourceKey.
func (s *stage) fromRoot(ctx context.Context, ref string) (*root, error) {
	if _, err := s.sourceKey(ref); err != nil {
		return nil, err
	}
	top := ""
	if j := s.b.df.StageIndex(ref, s.index); j >= 0 {
		top = s.b.results[j].state.top
	} else {
		img, err := s.b.st.Lookup(ref)
		if err != nil {
			return nil, err
		}
		top = img.TopLayer
	}
	sc, err := s.b.st.NewScratch(top)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("stage %q", ref)
	return &root{Root: &copier.Root{Dir: sc.Root, Name: name}, done: func() { s.b.st.DropScratch(sc) }}, nil
}

// copy runs a COPY or an ADD step.
func (s *stage) copy(ctx context.Context, spec copySpec, text string) error {
	hist := copyHistory(spec)
	dest := spec.Dest
	if !path.IsAbs(dest) {
		wd := s.st.cfg.Config.WorkingDir
		if wd == "" {
			wd = "/"
		}
		trailing := strings.HasSuffix(dest, "/") || dest == "." || strings.HasSuffix(dest, "/.")
		dest = path.Join(wd, dest)
		if trailing && dest != "/" {
			dest += "/"
		}
	}
	spec.Dest = dest
	opts := copier.Options{Instruction: spec.Instruction, Dest: dest, KeepOwners: spec.From != "",
		Parents: spec.Parents, Exclude: spec.Exclude}
	// Another stage or an image is keyed by its own key and mounted only
	// on a miss (issue 13: on vfs, mounting copies it whole). Other
	// sources are read for their digest, so they are opened first.
	fromOther := spec.From != "" && len(spec.Inline) == 0
	var (
		src   *copySource
		srcs  []copier.Source
		input string
		err   error
	)
	if fromOther {
		input, err = s.sourceKey(spec.From)
	} else {
		src, srcs, err = s.openSources(ctx, spec, &opts)
		defer src.release()
	}
	if err != nil {
		return err
	}
	if spec.Chmod != "" {
		mode, err := parseChmod(spec.Chmod)
		if err != nil {
			return err
		}
		opts.Chmod = &mode
	}
	if !fromOther {
		if input, err = copier.Digest(src.Root, srcs, opts); err != nil {
			return err
		}
	}
	norm, _ := json.Marshal(spec)
	key := s.stepKey(keyPart{"instruction", spec.Instruction}, keyPart{"arguments", string(norm)},
		keyPart{"source files", input})
	s.progress("%s", text)
	if s.cached(key, hist) {
		return nil
	}
	started := time.Now()
	if fromOther {
		src, srcs, err = s.openSources(ctx, spec, &opts)
		defer src.release()
		if err != nil {
			return err
		}
	}
	return s.writeCopy(ctx, key, spec, src.Root, srcs, opts, hist, started)
}

// writeCopy writes the layer of a COPY that missed the cache, from srcs in
// src, and records it under key.
func (s *stage) writeCopy(ctx context.Context, key stepKey, spec copySpec, src *copier.Root, srcs []copier.Source, opts copier.Options, hist string, started time.Time) error {
	var parent *storage.Scratch
	if s.st.top != "" {
		var err error
		if parent, err = s.b.st.NewScratch(s.st.top); err != nil {
			return err
		}
		defer s.b.st.DropScratch(parent)
		opts.Rootfs = parent.Root
	}
	if spec.Chown != "" {
		o, err := resolveOwner(opts.Rootfs, spec.Chown)
		if err != nil {
			return err
		}
		opts.Chown = o
	}
	pr, pw := io.Pipe()
	go func() {
		if len(srcs) == 0 {
			// Wildcards that matched nothing: an empty layer, as BuildKit.
			pw.CloseWithError(tar.NewWriter(pw).Close())
			return
		}
		pw.CloseWithError(copier.Write(pw, src, srcs, opts))
	}()
	info, err := s.b.st.NewLayer(ctx, s.st.top, pr)
	pr.CloseWithError(errors.New("layer written"))
	if err != nil {
		return err
	}
	return s.record(key, storage.CacheEntry{Layer: info.ID, DiffID: info.DiffID, Created: time.Now().UTC()}, hist, started)
}

// openSources opens a COPY's root and selects its sources in it. It sets
// opts.Extract, which depends on the root (a downloaded ADD source is
// never extracted). The root it returns, even with an error, is released
// with release.
func (s *stage) openSources(ctx context.Context, spec copySpec, opts *copier.Options) (*copySource, []copier.Source, error) {
	src, err := s.copyRoot(ctx, spec)
	if err != nil {
		return nil, nil, err
	}
	paths := spec.Sources
	if src.names != nil {
		paths = src.names
	}
	opts.Extract = spec.Instruction == "ADD" && !src.fetched && (spec.Unpack == nil || *spec.Unpack)
	srcs, err := selectSources(src.Root, paths, spec.Instruction)
	return src, srcs, err
}

// copySource is a COPY's root with what copy needs to know of it.
type copySource struct {
	root
	fetched bool     // an ADD URL, downloaded: never extracted
	names   []string // the sources' names in the root, when not as written
}

// release releases the root; it does nothing on nil.
func (c *copySource) release() {
	if c != nil && c.done != nil {
		c.done()
	}
}

// copyRoot picks where a COPY reads: the context, another stage or image
// (--from), or a directory holding an ADD's downloaded URL.
func (s *stage) copyRoot(ctx context.Context, spec copySpec) (*copySource, error) {
	if len(spec.Inline) > 0 {
		return s.inlineRoot(spec)
	}
	if spec.From != "" {
		r, err := s.fromRoot(ctx, spec.From)
		if err != nil {
			return nil, err
		}
		return &copySource{root: *r}, nil
	}
	urls := 0
	for _, p := range spec.Sources {
		if isURL(p) {
			urls++
		}
	}
	if urls == 0 {
		return &copySource{root: root{Root: s.b.contextRoot()}}, nil
	}
	if spec.Instruction != "ADD" {
		return nil, fmt.Errorf("COPY cannot fetch %s (hint: use ADD for URLs)", spec.Sources[0])
	}
	if urls != 1 || len(spec.Sources) != 1 {
		return nil, fmt.Errorf("ADD takes one URL at a time here (hint: split it into one ADD per URL)")
	}
	dir, err := s.b.st.TempDir("add-")
	if err != nil {
		return nil, err
	}
	file, name, mtime, err := copier.Fetch(ctx, spec.Sources[0], spec.Checksum, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	final := dir + "/" + name
	if file != final {
		if err := os.Rename(file, final); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	_ = os.Chmod(final, 0o600)
	if !mtime.IsZero() {
		_ = os.Chtimes(final, mtime, mtime)
	}
	return &copySource{
		root:    root{Root: &copier.Root{Dir: dir, Name: "downloaded " + spec.Sources[0]}, done: func() { os.RemoveAll(dir) }},
		fetched: true, names: []string{name},
	}, nil
}

// inlineRoot writes the heredoc sources of a COPY <<EOF into a directory
// of their own, each named after its heredoc word, as BuildKit names them.
func (s *stage) inlineRoot(spec copySpec) (*copySource, error) {
	if len(spec.Sources) > 0 {
		return nil, fmt.Errorf("%s takes either heredocs or files, not both (hint: split it)", spec.Instruction)
	}
	dir, err := s.b.st.TempDir("heredoc-")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range spec.Inline {
		name := path.Base(c.Path)
		if err := os.WriteFile(dir+"/"+name, []byte(c.Data), 0o644); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		// Content, not the time it was written, identifies it.
		_ = os.Chtimes(dir+"/"+name, time.Unix(0, 0), time.Unix(0, 0))
		names = append(names, name)
	}
	return &copySource{
		root:    root{Root: &copier.Root{Dir: dir, Name: "heredoc"}, done: func() { os.RemoveAll(dir) }},
		fetched: true, names: names,
	}, nil
}

// resolveOwner turns --chown=user[:group] into ids, names looked up in the
// image's /etc/passwd and /etc/group.
func resolveOwner(rootfs, spec string) (*copier.Owner, error) {
	u, g, hasGroup := strings.Cut(spec, ":")
	uid, uerr := strconv.Atoi(u)
	gid, gerr := strconv.Atoi(g)
	if uerr == nil && (!hasGroup || gerr == nil) {
		if !hasGroup {
			gid = uid
		}
		return &copier.Owner{UID: uid, GID: gid}, nil
	}
	if rootfs == "" {
		return nil, fmt.Errorf("--chown=%s: names need the image's /etc/passwd, and this image has no files (hint: use numeric ids)", spec)
	}
	ru, err := run.ResolveUser(rootfs, spec)
	if err != nil {
		return nil, fmt.Errorf("--chown=%s: %w", spec, err)
	}
	return &copier.Owner{UID: int(ru.UID), GID: int(ru.GID)}, nil
}

// copierDigest digests sources read by a RUN bind mount.
func copierDigest(r *copier.Root, srcs []copier.Source) (string, error) {
	return copier.Digest(r, srcs, copier.Options{Instruction: "RUN --mount", Dest: "/"})
}

// selectSources selects each source in turn: a wildcard that matches
// nothing is no error (BuildKit allows empty wildcards), a missing or
// excluded file is.
func selectSources(r *copier.Root, paths []string, instruction string) ([]copier.Source, error) {
	var out []copier.Source
	for _, p := range paths {
		srcs, err := r.Select([]string{p})
		if err != nil {
			var nf *copier.NotFoundError
			if errors.As(err, &nf) {
				if nf.Wildcard && !nf.Excluded {
					continue
				}
				nf.Instruction = instruction
			}
			return nil, err
		}
		out = append(out, srcs...)
	}
	return out, nil
}

// parseChmod reads --chmod: an octal mode ("755", "4755"), or a symbolic
// one that sets each class ("u=rwx,g=rx,o=", as chmod(1) writes it).
func parseChmod(v string) (fs.FileMode, error) {
	if m, err := strconv.ParseUint(v, 8, 32); err == nil && m <= 0o7777 {
		return fs.FileMode(m), nil
	}
	bad := fmt.Errorf("invalid --chmod=%s (hint: an octal mode such as 755, or classes set with = such as u=rwx,g=rx,o=)", v)
	var mode uint32
	for _, clause := range strings.Split(v, ",") {
		who, perms, ok := strings.Cut(clause, "=")
		if !ok || strings.ContainsAny(who, "+-") {
			return 0, bad
		}
		if who == "" || who == "a" {
			who = "ugo"
		}
		var bits uint32
		for _, p := range perms {
			switch p {
			case 'r':
				bits |= 4
			case 'w':
				bits |= 2
			case 'x':
				bits |= 1
			default:
				return 0, bad
			}
		}
		for _, w := range who {
			shift, ok := map[rune]uint{'u': 6, 'g': 3, 'o': 0}[w]
			if !ok {
				return 0, bad
			}
			mode = mode&^(7<<shift) | bits<<shift
		}
	}
	return fs.FileMode(mode), nil
}

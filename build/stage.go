package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/burrow-oci/burrow/build/cachekey"
	"github.com/burrow-oci/burrow/build/dockerfile"
	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
)

// historyComment marks the history entries burrow's builder writes, as
// BuildKit marks its own.
const historyComment = "burrow.dockerfile.v0"

// defaultPath is the PATH a stage FROM scratch gets, as in BuildKit.
const defaultPath = "PATH=" + run.DefaultPath

// state is a stage's image as its steps build it.
type state struct {
	key string // the last step's cache key
	top string // top layer ("" = none)
	cfg v1.ConfigFile
	// extra is what cfg cannot hold (HEALTHCHECK --start-interval).
	extra storage.ConfigExtra
	// created is when the content last changed: the time history entries
	// of metadata steps take, so that a fully cached build makes the same
	// image (same ID) again.
	created time.Time
}

// stage is one stage being built.
type stage struct {
	b      *builder
	index  int
	name   string // for the progress lines: "" for a lone unnamed stage
	st     *state
	args   map[string]string // declared ARGs in scope, with values
	argSeq []string          // their names, in declaration order
	cmdSet bool
	n, of  int // step number and count, for progress
}

// buildStage runs the steps of stage i.
func (b *builder) buildStage(ctx context.Context, i int) (*state, error) {
	ds := &b.df.Stages[i]
	s := &stage{b: b, index: i, args: map[string]string{}, of: len(ds.Commands) + 1}
	if len(b.df.Stages) > 1 {
		s.name = ds.Name
		if s.name == "" {
			s.name = fmt.Sprintf("stage-%d", i)
		}
	}
	s.n = 1
	s.progress("FROM %s", b.bases[i]+asName(ds.Name))
	st, onbuild, err := b.base(ctx, i)
	if err != nil {
		return nil, b.df.ErrorAt(err, ds.Location)
	}
	s.st = st
	// ONBUILD triggers of the base image run first, as Docker runs them.
	for _, trigger := range onbuild {
		cmd, err := parseTrigger(trigger)
		if err != nil {
			return nil, b.df.ErrorAt(fmt.Errorf("ONBUILD trigger %q of the base image: %w", trigger, err), ds.Location)
		}
		if err := s.step(ctx, cmd, "ONBUILD "+trigger); err != nil {
			return nil, s.errorAt(err, ds.Location)
		}
	}
	for _, cmd := range ds.Commands {
		s.n++
		if err := s.step(ctx, cmd, ""); err != nil {
			return nil, s.errorAt(err, cmd.Location())
		}
	}
	return s.st, nil
}

func asName(n string) string {
	if n == "" {
		return ""
	}
	return " AS " + n
}

// errorAt names the Dockerfile line of a failed step, unless the error is
// a failing RUN (which names its command already).
func (s *stage) errorAt(err error, loc []parser.Range) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var be *Error
	if errors.As(err, &be) {
		// A failing RUN keeps its exit code, and names its line too.
		if len(loc) > 0 {
			be.Err = fmt.Errorf("%s:%d: %w", s.b.df.Name, loc[0].Start.Line, be.Err)
		}
		return be
	}
	return s.b.df.ErrorAt(err, loc)
}

// base makes the starting state of stage i, and returns the base image's
// ONBUILD triggers.
func (b *builder) base(ctx context.Context, i int) (*state, []string, error) {
	ref := b.bases[i]
	if j := b.df.StageIndex(ref, i); j >= 0 {
		r := b.results[j]
		<-r.done
		if r.err != nil {
			return nil, nil, r.err
		}
		c := *r.state
		c.cfg = cloneConfig(&r.state.cfg)
		return &c, nil, nil
	}
	if strings.EqualFold(ref, "scratch") {
		cfg := v1.ConfigFile{
			Architecture: runtime.GOARCH, OS: "linux",
			Config: v1.Config{Env: []string{defaultPath}},
			RootFS: v1.RootFS{Type: "layers"},
		}
		return &state{key: cachekey.Base("scratch", "linux/"+runtime.GOARCH), cfg: cfg, created: b.start}, nil, nil
	}
	img, err := b.st.Lookup(ref)
	if pull := b.opts.Pull; pull != nil && (b.opts.PullAlways || errors.Is(err, storage.ErrImageUnknown)) {
		img, err = pull(ctx, ref)
	}
	if err != nil {
		if errors.Is(err, storage.ErrImageUnknown) {
			return nil, nil, fmt.Errorf("base image %q is not in the store (hint: burrow import, load or pull it first)", ref)
		}
		return nil, nil, err
	}
	cfg, err := b.st.Config(img.ID)
	if err != nil {
		return nil, nil, err
	}
	c := cloneConfig(cfg)
	// A base image without PATH gets the default one, as in BuildKit.
	hasPath := false
	for _, kv := range c.Config.Env {
		if strings.HasPrefix(kv, "PATH=") {
			hasPath = true
		}
	}
	if !hasPath {
		c.Config.Env = append(c.Config.Env, defaultPath)
	}
	onbuild := c.Config.OnBuild
	c.Config.OnBuild = nil
	c.Author = ""
	if c.OS == "" {
		c.OS = "linux"
	}
	if c.Architecture == "" {
		c.Architecture = runtime.GOARCH
	}
	created := cfg.Created.Time
	var extra storage.ConfigExtra
	if raw, err := b.st.RawConfig(img.ID); err == nil {
		extra = storage.ReadConfigExtra(raw)
	}
	return &state{key: cachekey.Base(img.ID, "linux/"+runtime.GOARCH), top: img.TopLayer, cfg: c, extra: extra, created: created}, onbuild, nil
}

func cloneConfig(c *v1.ConfigFile) v1.ConfigFile {
	data, _ := json.Marshal(c)
	var out v1.ConfigFile
	_ = json.Unmarshal(data, &out)
	return out
}

func parseTrigger(expr string) (instructions.Command, error) {
	res, err := parser.Parse(strings.NewReader(expr))
	if err != nil {
		return nil, err
	}
	if len(res.AST.Children) != 1 {
		return nil, fmt.Errorf("one instruction expected")
	}
	return instructions.ParseCommand(res.AST.Children[0])
}

// progress prints a step's line: "[2/7] RUN make" or "[builder 2/7] ...".
func (s *stage) progress(format string, a ...any) {
	prefix := fmt.Sprintf("[%d/%d]", s.n, s.of)
	if s.name != "" {
		prefix = fmt.Sprintf("[%s %d/%d]", s.name, s.n, s.of)
	}
	fmt.Fprintf(s.b.out, prefix+" "+format+"\n", a...)
}

// vars are the variables words expand against: the ARGs in scope, then
// the image's environment, which wins.
func (s *stage) vars() []string {
	out := make([]string, 0, len(s.argSeq)+len(s.st.cfg.Config.Env))
	for _, k := range s.argSeq {
		out = append(out, k+"="+s.args[k])
	}
	return append(out, s.st.cfg.Config.Env...)
}

// step runs one instruction. text overrides the history text (ONBUILD).
func (s *stage) step(ctx context.Context, cmd instructions.Command, text string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if text == "" {
		if str, ok := cmd.(fmt.Stringer); ok {
			text = str.String()
		} else {
			text = strings.ToUpper(cmd.Name())
		}
	}
	if a, ok := cmd.(*instructions.ArgCommand); ok {
		s.progress("%s", text)
		return s.arg(a)
	}
	if err := dockerfile.Expand(cmd, s.vars(), s.b.df.Escape); err != nil {
		return err
	}
	switch c := cmd.(type) {
	case *instructions.RunCommand:
		return s.run(ctx, c, text)
	case *instructions.CopyCommand:
		return s.copy(ctx, copyFromCopy(c), text)
	case *instructions.AddCommand:
		return s.copy(ctx, copyFromAdd(c), text)
	case *instructions.MaintainerCommand:
		s.progress("%s", text)
		s.st.cfg.Author = c.Maintainer
		s.metadata(cmd, metadataHistory(cmd, &s.st.cfg.Config))
		return nil
	}
	s.progress("%s", text)
	if err := dockerfile.Apply(&s.st.cfg.Config, cmd, &s.cmdSet); err != nil {
		return err
	}
	if h, ok := cmd.(*instructions.HealthCheckCommand); ok {
		s.st.extra.HealthStartInterval = h.Health.StartInterval
	}
	if _, ok := cmd.(*instructions.WorkdirCommand); ok {
		return s.workdir(ctx)
	}
	s.metadata(cmd, metadataHistory(cmd, &s.st.cfg.Config))
	return nil
}

// arg declares ARGs: --build-arg wins, then the default, then a meta ARG
// of the same name re-declared without a value.
func (s *stage) arg(a *instructions.ArgCommand) error {
	lex := shell.NewLex(s.b.df.Escape)
	var words []string
	for _, kv := range a.Args {
		v, err := s.b.argValue(kv, lex, s.vars())
		if err != nil {
			return err
		}
		if v == nil {
			if mv, ok := s.b.metaArgs[kv.Key]; ok {
				v = &mv
			}
		}
		if _, seen := s.args[kv.Key]; !seen {
			s.argSeq = append(s.argSeq, kv.Key)
		}
		if v == nil {
			s.args[kv.Key] = ""
			words = append(words, kv.Key)
			continue
		}
		s.args[kv.Key] = *v
		words = append(words, kv.Key+"="+*v)
	}
	s.history("ARG "+strings.Join(words, " "), true, s.st.created)
	return nil
}

// metadata records a step that changes only the config: its key joins the
// chain (later steps' keys depend on it) and it adds an empty history
// entry.
func (s *stage) metadata(cmd instructions.Command, text string) {
	norm, _ := json.Marshal(cmd)
	s.st.key = cachekey.Key(s.st.key, strings.ToUpper(cmd.Name()), string(norm))
	if text != "" {
		s.history(text, true, s.st.created)
	}
}

func (s *stage) history(text string, empty bool, created time.Time) {
	if s.b.opts.Epoch != nil {
		created = *s.b.opts.Epoch
	}
	s.st.cfg.History = append(s.st.cfg.History, v1.History{
		Created: v1.Time{Time: created}, CreatedBy: text, Comment: historyComment, EmptyLayer: empty,
	})
}

// cached looks a step's key up and, on a hit, applies it. It prints the
// hit or miss before any slow work.
func (s *stage) cached(k stepKey, text string) bool {
	if s.b.opts.NoCache {
		return false
	}
	e, ok := s.b.st.CacheGet(k.key)
	if ok && e.Layer != "" && !s.b.st.LayerExists(e.Layer) {
		ok = false
	}
	if !ok {
		s.explainMiss(k)
		return false
	}
	fmt.Fprintln(s.b.out, "  CACHED")
	s.history(text, e.Layer == "", e.Created)
	s.apply(k.key, e)
	return true
}

// apply moves the state past a step whose result is e.
func (s *stage) apply(key string, e *storage.CacheEntry) {
	s.st.key = key
	if e.Layer != "" {
		s.st.top = e.Layer
		h, err := v1.NewHash(e.DiffID)
		if err == nil {
			s.st.cfg.RootFS.DiffIDs = append(s.st.cfg.RootFS.DiffIDs, h)
		}
	}
	if e.Created.After(s.st.created) {
		s.st.created = e.Created
	}
}

// record stores a step's result under its key and applies it.
func (s *stage) record(k stepKey, e storage.CacheEntry, text string, started time.Time) error {
	if err := s.b.st.CachePut(k.key, e, s.st.top); err != nil {
		return err
	}
	s.note(k)
	s.history(text, e.Layer == "", e.Created)
	s.apply(k.key, &e)
	fmt.Fprintf(s.b.out, "  DONE %.1fs\n", time.Since(started).Seconds())
	return nil
}

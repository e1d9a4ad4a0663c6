// Package build turns a Dockerfile and a context into an image: it parses
// with buildkit's packages (build/dockerfile), computes each step's cache
// key before any work (build/cachekey), looks it up in the store's index,
// and on a miss runs the step (RUN in a container through package run,
// COPY and ADD as a layer written straight from the sources, through
// build/copier) and records the result.
package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/burrow-oci/burrow/build/copier"
	"github.com/burrow-oci/burrow/build/dockerfile"
	"github.com/burrow-oci/burrow/storage"
)

// Options describe a build. The zero value of each field means Docker's
// default.
type Options struct {
	// ContextDir is the build context (a directory).
	ContextDir string
	// Dockerfile is the Dockerfile's text; DockerfileName names it in
	// messages; DockerfilePath is where it is on disk ("" when it came
	// from stdin), for <Dockerfile>.dockerignore.
	Dockerfile     []byte
	DockerfileName string
	DockerfilePath string

	// Tags name the image.
	Tags []string
	// BuildArgs are --build-arg values.
	BuildArgs map[string]string
	// Target is the stage to build (default: the last).
	Target string
	// NoCache runs every step (results are still recorded).
	NoCache bool
	// Labels are added to the image's config.
	Labels map[string]string
	// Network is RUN's default network: "host" (default) or "none".
	Network string
	// Secrets maps a secret's id to the file that holds it (--secret).
	Secrets map[string]string
	// Epoch, if set (SOURCE_DATE_EPOCH), is the time every timestamp of
	// the image config takes.
	Epoch *time.Time
	// Platform is the requested platform ("" = the host's).
	Platform string
	// Pull, if set, fetches a base image the store lacks (FROM); with
	// PullAlways, every base image is fetched again (build --pull).
	Pull       func(ctx context.Context, ref string) (*storage.Image, error)
	PullAlways bool

	// Out receives the progress lines and RUN output; nil discards them.
	Out io.Writer
	// Log receives debug messages (why a step missed the cache).
	Log *slog.Logger
}

// Error is a build that failed at a step.
type Error struct {
	Err error
	// ExitCode is a failing RUN's exit code (0 for other failures).
	ExitCode int
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Build builds the target stage and returns its image, named after Tags.
// A failed build leaves no tag and no image.
func Build(ctx context.Context, st *storage.Store, opts Options) (*storage.Image, error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Network == "" {
		opts.Network = "host"
	}
	if opts.DockerfileName == "" {
		opts.DockerfileName = "Dockerfile"
	}
	if err := checkPlatform(opts.Platform); err != nil {
		return nil, err
	}
	df, err := dockerfile.Parse(opts.Dockerfile, opts.DockerfileName)
	if err != nil {
		return nil, err
	}
	release, err := st.BuildLock()
	if err != nil {
		return nil, err
	}
	defer release()
	b := &builder{st: st, opts: opts, df: df, start: time.Now().UTC(), out: &syncWriter{w: opts.Out}}
	if err := b.prepare(); err != nil {
		return nil, err
	}
	if b.ignore, err = copier.ReadIgnore(opts.ContextDir, opts.DockerfilePath); err != nil {
		return nil, err
	}
	memo := copier.LoadMemo(st.StatMemoPath())
	b.memo = memo
	target, err := b.targetStage()
	if err != nil {
		return nil, err
	}
	res, err := b.buildStages(ctx, target)
	if err != nil {
		return nil, err
	}
	if err := memo.Save(); err != nil {
		opts.Log.Debug("saving the stat memo", "err", err)
	}
	b.warnUnusedArgs()
	cfg := res.cfg
	for k, v := range opts.Labels {
		if cfg.Config.Labels == nil {
			cfg.Config.Labels = map[string]string{}
		}
		cfg.Config.Labels[k] = v
	}
	cfg.Created = v1.Time{Time: res.created}
	if opts.Epoch != nil {
		cfg.Created = v1.Time{Time: *opts.Epoch}
	}
	img, err := st.CommitImage(res.top, &cfg, res.extra, opts.Tags)
	if err != nil {
		return nil, err
	}
	return img, nil
}

// builder is one build in progress.
type builder struct {
	st    *storage.Store
	opts  Options
	df    *dockerfile.File
	start time.Time
	out   *syncWriter
	memo  *copier.Memo

	// metaArgs are the ARGs before the first FROM, with their values
	// (defaults overridden by --build-arg), plus the automatic platform
	// args.
	metaArgs map[string]string
	// usedArgs records the --build-arg names some ARG declared.
	mu       sync.Mutex
	usedArgs map[string]bool
	// bases are the stages' FROM words after expansion.
	bases []string
	// results are the stages' outcomes, as they finish.
	results []*stageResult
	// ignore is the context's .dockerignore.
	ignore *copier.Ignore
}

// prepare evaluates the meta ARGs and the stages' FROM lines.
func (b *builder) prepare() error {
	b.usedArgs = map[string]bool{}
	b.metaArgs = platformArgs()
	lex := shell.NewLex(b.df.Escape)
	for _, a := range b.df.MetaArgs {
		for _, kv := range a.Args {
			v, err := b.argValue(kv, lex, envOf(b.metaArgs))
			if err != nil {
				return b.df.ErrorAt(err, a.Location())
			}
			if v != nil {
				b.metaArgs[kv.Key] = *v
			} else {
				delete(b.metaArgs, kv.Key)
			}
		}
	}
	for i := range b.df.Stages {
		s := &b.df.Stages[i]
		base, _, err := lex.ProcessWord(s.BaseName, shell.EnvsFromSlice(envOf(b.metaArgs)))
		if err != nil {
			return b.df.ErrorAt(err, s.Location)
		}
		if base == "" {
			return b.df.ErrorAt(fmt.Errorf("FROM %s expands to an empty image name (hint: give the ARG a default or pass --build-arg)", s.BaseName), s.Location)
		}
		if s.Platform != "" {
			p, _, err := lex.ProcessWord(s.Platform, shell.EnvsFromSlice(envOf(b.metaArgs)))
			if err != nil {
				return b.df.ErrorAt(err, s.Location)
			}
			if err := checkPlatform(p); err != nil {
				return b.df.ErrorAt(err, s.Location)
			}
		}
		b.bases = append(b.bases, base)
	}
	return nil
}

// argValue is the value an ARG takes: --build-arg if given, else its
// default expanded against vars; nil when it has neither.
func (b *builder) argValue(kv instructions.KeyValuePairOptional, lex *shell.Lex, vars []string) (*string, error) {
	if v, ok := b.opts.BuildArgs[kv.Key]; ok {
		b.mu.Lock()
		b.usedArgs[kv.Key] = true
		b.mu.Unlock()
		return &v, nil
	}
	if kv.Value == nil {
		return nil, nil
	}
	v, _, err := lex.ProcessWord(*kv.Value, shell.EnvsFromSlice(vars))
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// warnUnusedArgs says which --build-arg no ARG declared, as Docker does.
func (b *builder) warnUnusedArgs() {
	var unused []string
	for k := range b.opts.BuildArgs {
		if !b.usedArgs[k] && !predefinedArgs[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		fmt.Fprintf(b.out, "[Warning] One or more build-args %v were not consumed\n", unused)
	}
}

// predefinedArgs are the ARGs every build knows without a declaration:
// they reach RUN's environment but not the cache key or the history.
var predefinedArgs = map[string]bool{
	"HTTP_PROXY": true, "http_proxy": true, "HTTPS_PROXY": true, "https_proxy": true,
	"FTP_PROXY": true, "ftp_proxy": true, "NO_PROXY": true, "no_proxy": true,
	"ALL_PROXY": true, "all_proxy": true,
}

// platformArgs are the automatic platform ARGs, for the host platform.
func platformArgs() map[string]string {
	p := "linux/" + runtime.GOARCH
	variant := ""
	if runtime.GOARCH == "arm64" {
		variant = "v8"
	}
	m := map[string]string{}
	for _, pre := range []string{"TARGET", "BUILD"} {
		m[pre+"PLATFORM"] = p
		m[pre+"OS"] = "linux"
		m[pre+"ARCH"] = runtime.GOARCH
		m[pre+"VARIANT"] = variant
	}
	return m
}

// checkPlatform accepts the host's platform only.
func checkPlatform(p string) error {
	if p == "" {
		return nil
	}
	host := "linux/" + runtime.GOARCH
	norm := strings.ToLower(p)
	if norm == host || norm == host+"/v8" && runtime.GOARCH == "arm64" || norm == "linux" {
		return nil
	}
	return fmt.Errorf("platform %q cannot be built here: burrow builds for the host's platform, %s (hint: drop --platform, or build on a %s machine)", p, host, p)
}

// envOf turns a map into KEY=value entries, sorted.
func envOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// targetStage finds the stage to build.
func (b *builder) targetStage() (int, error) {
	if b.opts.Target == "" {
		return len(b.df.Stages) - 1, nil
	}
	for i, s := range b.df.Stages {
		if strings.EqualFold(s.Name, b.opts.Target) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("target stage %q could not be found (hint: the stages are named with FROM IMAGE AS NAME)", b.opts.Target)
}

// buildStages builds the target and the stages it needs, independent ones
// at the same time, and returns the target's result.
func (b *builder) buildStages(ctx context.Context, target int) (*state, error) {
	deps, err := b.dependencies()
	if err != nil {
		return nil, err
	}
	needed := map[int]bool{}
	var mark func(int)
	mark = func(i int) {
		if needed[i] {
			return
		}
		needed[i] = true
		for _, d := range deps[i] {
			mark(d)
		}
	}
	mark(target)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	results := make([]*stageResult, len(b.df.Stages))
	for i := range results {
		results[i] = &stageResult{done: make(chan struct{})}
	}
	b.results = results
	var wg sync.WaitGroup
	for i := range b.df.Stages {
		if !needed[i] {
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := results[i]
			defer close(r.done)
			for _, d := range deps[i] {
				select {
				case <-results[d].done:
				case <-ctx.Done():
					r.err = context.Cause(ctx)
					return
				}
				if results[d].err != nil {
					r.err = results[d].err
					return
				}
			}
			r.state, r.err = b.buildStage(ctx, i)
			if r.err != nil {
				cancel(r.err)
			}
		}(i)
	}
	wg.Wait()
	r := results[target]
	if r.err != nil {
		// The first failure is the one to report, not a stage it stopped.
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return nil, cause
		}
		return nil, r.err
	}
	return r.state, nil
}

type stageResult struct {
	done  chan struct{}
	state *state
	err   error
}

// dependencies lists, for each stage, the earlier stages it uses: its
// FROM, COPY --from and RUN --mount from=.
func (b *builder) dependencies() ([][]int, error) {
	deps := make([][]int, len(b.df.Stages))
	for i := range b.df.Stages {
		add := func(ref string) {
			if j := b.df.StageIndex(ref, i); j >= 0 {
				deps[i] = append(deps[i], j)
			}
		}
		add(b.bases[i])
		for _, cmd := range b.df.Stages[i].Commands {
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				if c.From != "" {
					add(c.From)
				}
			case *instructions.RunCommand:
				for _, f := range runMountFroms(c) {
					add(f)
				}
			}
		}
	}
	return deps, nil
}

// syncWriter serialises the writes of stages that build at the same time.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

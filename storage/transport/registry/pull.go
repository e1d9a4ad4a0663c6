package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"

	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/burrow-oci/burrow/storage/transport"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	remotetransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// PullOptions tunes Pull. The zero value pulls for the host's platform.
type PullOptions struct {
	Options
	// Platform is "os/arch[/variant]" ("" = the host's).
	Platform string
	// Progress, if set, is told about each step (calls never overlap).
	Progress func(transport.Progress)
	// Jobs is how many layers download at once (default 3).
	Jobs int
	// TempDir holds blobs while they download ("" = os.TempDir()).
	TempDir string
	// Trying, if set, is told each full name before it is tried: one for
	// a qualified name, one per search registry for a short name.
	Trying func(full string)
}

// PullResult is what Pull stored.
type PullResult struct {
	Image *storage.Image
	// Name is the full name pulled, as the store records it.
	Name string
	// Digest is the manifest's (or index's) digest, "sha256:...".
	Digest string
	// Fresh says the store did not have the image before.
	Fresh bool
	// Registry is the host it came from (a mirror, or the relocated
	// location).
	Registry string
}

// Pull fetches an image by name (short or full, tag or digest) from its
// registry (after relocation; mirrors first) into the store. Layers the
// store has are not downloaded; the others download in parallel and are
// applied in order as they arrive. On failure no image is recorded, and
// only complete layers stay, so that pulling again resumes after them.
//
// A short name with SearchRegistries set is tried under each of them in
// order; the first that has it wins and names the stored image. When none
// has it the error names every registry tried.
func Pull(ctx context.Context, st *storage.Store, ref string, opts PullOptions) (*PullResult, error) {
	cands, err := Candidates(opts.SearchRegistries, ref)
	if err != nil {
		return nil, err
	}
	opts.Progress = serialize(opts.Progress)
	var errs []error
	for _, full := range cands {
		if opts.Trying != nil {
			opts.Trying(full)
		}
		res, err := pullName(ctx, st, full, &opts)
		if err == nil || len(cands) == 1 || ctx.Err() != nil {
			return res, err
		}
		opts.log().Info("search registry failed, trying the next", "name", full, "err", err)
		errs = append(errs, err)
	}
	return nil, searchError(ref, cands, errs)
}

// searchError words the failure of a short name under every search
// registry as one line; it is ErrManifestUnknown when no registry had it.
func searchError(ref string, cands []string, errs []error) error {
	parts := make([]string, len(cands))
	var cause error = ErrManifestUnknown
	for i, full := range cands {
		reason := "not found"
		if !errors.Is(errs[i], ErrManifestUnknown) {
			reason, _, _ = strings.Cut(errs[i].Error(), " (hint:")
			if cause == ErrManifestUnknown {
				cause = errs[i]
			}
		}
		parts[i] = full + ": " + reason
	}
	return &Error{Err: cause, Msg: fmt.Sprintf("short name %q was not found in any of the unqualified-search-registries (%s) (hint: give a full name such as %s, or change unqualified-search-registries in config.toml)", ref, strings.Join(parts, "; "), cands[0])}
}

// pullName pulls one full name from its registry: mirrors first, then the
// location.
func pullName(ctx context.Context, st *storage.Store, full string, opts *PullOptions) (*PullResult, error) {
	eps, err := Resolve(opts.Registries, full, true)
	if err != nil {
		return nil, err
	}
	var firstErr error
	for _, ep := range eps {
		res, err := pullFrom(ctx, st, full, ep, opts)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if !ep.Mirror {
			return nil, err
		}
		opts.log().Info("mirror failed, trying the next location", "mirror", ep.Registry(), "err", err)
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// serialize makes a progress callback safe to call from several
// goroutines.
func serialize(fn func(transport.Progress)) func(transport.Progress) {
	if fn == nil {
		return func(transport.Progress) {}
	}
	var mu sync.Mutex
	return func(p transport.Progress) {
		mu.Lock()
		defer mu.Unlock()
		fn(p)
	}
}

func pullFrom(ctx context.Context, st *storage.Store, full string, ep Endpoint, opts *PullOptions) (*PullResult, error) {
	c, err := opts.newClient(ctx, ep.Registry(), ep.Insecure)
	if err != nil {
		return nil, err
	}
	repo := ep.Ref.Context()
	rt, err := c.transport(ctx, repo.Scope(remotetransport.PullScope))
	if err != nil {
		return nil, err
	}
	m, raw, mdigest, err := fetchManifest(ctx, c, rt, ep, full, opts.Platform)
	if err != nil {
		return nil, err
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("decoding the config of %s: %w", reference.Short(full), err)
	}
	if opts.Platform != "" {
		want, err := parsePlatform(opts.Platform)
		if err != nil {
			return nil, err
		}
		if cfg.OS != want.OS || cfg.Architecture != want.Architecture || (want.Variant != "" && cfg.Variant != "" && cfg.Variant != want.Variant) {
			have := cfg.OS + "/" + cfg.Architecture
			if cfg.Variant != "" {
				have += "/" + cfg.Variant
			}
			return nil, &PlatformError{Want: opts.Platform, Have: []string{have}}
		}
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("%s on %s: the manifest lists %d layers and the config %d (hint: the image is corrupt)", reference.Short(full), c.host, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	id := storage.ImageID(raw)
	_, lookErr := st.Lookup("sha256:" + id)
	fresh := lookErr != nil

	sp, err := storage.OpenSpool(opts.TempDir)
	if err != nil {
		return nil, err
	}
	defer sp.Close()
	spool := sp.Dir
	dctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	getter := &blobGetter{client: &http.Client{Transport: rt}, repo: repo, host: c.host}
	downloads := make([]*download, len(m.Layers))
	for i, l := range m.Layers {
		downloads[i] = newDownload(l, filepath.Join(spool, fmt.Sprintf("layer-%d", i)))
	}
	getter.onBytes = func(d *download, n int64) {
		d.mu.Lock()
		cur := d.written
		d.mu.Unlock()
		opts.Progress(transport.Progress{ID: shortDigest(d.desc.Digest), Status: "Downloading", Current: cur, Total: d.desc.Size})
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = 3
	}
	var startOnce sync.Once
	// start downloads every layer from the first one the store lacks: the
	// layers after it go on a new parent, so the store cannot have them.
	start := func(from int) {
		startOnce.Do(func() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fetchAll(dctx, getter, downloads[from:], jobs, c, full, opts.Progress)
			}()
		})
	}
	in := storage.IncomingImage{Config: raw, Layers: make([]storage.IncomingLayer, len(m.Layers))}
	for i := range m.Layers {
		i := i
		in.Layers[i] = storage.IncomingLayer{
			DiffID: cfg.RootFS.DiffIDs[i],
			// The download checks the blob's digest before the store
			// reads the end of it.
			Digest: m.Layers[i].Digest,
			Open: func(ctx context.Context) (io.ReadCloser, error) {
				start(i)
				return downloads[i].open(ctx)
			},
		}
	}
	in.Progress = func(i int, _ v1.Hash, reused bool) {
		status := "Pull complete"
		if reused {
			status = "Already exists"
		}
		opts.Progress(transport.Progress{ID: shortDigest(m.Layers[i].Digest), Status: status})
	}
	if !strings.Contains(full, "@") {
		in.Names = []string{full}
	}
	in.Digests = []string{reference.Repository(full) + "@" + mdigest.String()}
	stored, err := st.PutImage(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", reference.Short(full), err)
	}
	recordBlobs(st, c.host, repo.RepositoryStr(), m.Layers, cfg.RootFS.DiffIDs, opts.log())
	return &PullResult{Image: stored, Name: full, Digest: mdigest.String(), Fresh: fresh, Registry: c.host}, nil
}

// fetchAll downloads blobs, jobs at a time, in order.
func fetchAll(ctx context.Context, g *blobGetter, ds []*download, jobs int, c *client, full string, progress func(transport.Progress)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, jobs)
	for _, d := range ds {
		progress(transport.Progress{ID: shortDigest(d.desc.Digest), Status: "Pulling fs layer"})
	}
	for i, d := range ds {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			for _, rest := range ds[i:] {
				rest.finish(ctx.Err())
			}
			return
		}
		wg.Add(1)
		go func(d *download) {
			defer wg.Done()
			defer func() { <-sem }()
			g.fetch(ctx, d)
			d.mu.Lock()
			err := d.err
			if err != nil {
				var te *remotetransport.Error
				if errors.As(err, &te) {
					d.err = c.wrapErr(err, reference.Short(full))
				}
			}
			d.mu.Unlock()
			if err == nil {
				progress(transport.Progress{ID: shortDigest(d.desc.Digest), Status: "Download complete"})
			}
		}(d)
	}
}

func shortDigest(h v1.Hash) string {
	if len(h.Hex) > 12 {
		return h.Hex[:12]
	}
	return h.Hex
}

// ListTags lists the tags of a name's repository (after relocation), for
// pull --all-tags, and returns the repository's full name. A short name is
// looked for under each unqualified-search registry in turn, as a pull of
// one tag is: the first registry that has the repository serves its tags.
func ListTags(ctx context.Context, ref string, opts Options) (string, []string, error) {
	cands, err := Candidates(opts.SearchRegistries, ref)
	if err != nil {
		return "", nil, err
	}
	errs := make([]error, len(cands))
	for i, full := range cands {
		tags, err := listTags(ctx, full, opts)
		if err == nil {
			return reference.Repository(full), tags, nil
		}
		if len(cands) == 1 {
			return "", nil, err
		}
		errs[i] = err
	}
	return "", nil, searchError(ref, cands, errs)
}

func listTags(ctx context.Context, full string, opts Options) ([]string, error) {
	eps, err := Resolve(opts.Registries, full, false)
	if err != nil {
		return nil, err
	}
	ep := eps[0]
	c, err := opts.newClient(ctx, ep.Registry(), ep.Insecure)
	if err != nil {
		return nil, err
	}
	rt, err := c.transport(ctx, ep.Ref.Context().Scope(remotetransport.PullScope))
	if err != nil {
		return nil, err
	}
	tags, err := remote.List(ep.Ref.Context(), remoteOptions(ctx, rt)...)
	if err != nil {
		return nil, c.wrapErr(err, reference.Repository(full))
	}
	return tags, nil
}

package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	remotetransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// SearchResult is one repository found by Search.
type SearchResult struct {
	Name        string
	Description string
	Stars       int
	Official    bool
}

// SearchOptions tunes Search.
type SearchOptions struct {
	Options
	// Limit is the most results wanted (default 25).
	Limit int
	// Filter selects among the results, after the limit (as Docker does:
	// Hub's API takes no filters).
	Filter SearchFilter
}

// Search looks for repositories matching term: Docker Hub's search API
// for docker.io, and the registry's catalog (/v2/_catalog) filtered by the
// term elsewhere, including where docker.io is relocated. A term may
// start with a registry ("127.0.0.1:5000/busy"). Of at most opts.Limit
// results, those opts.Filter keeps are returned.
func Search(ctx context.Context, term string, opts SearchOptions) ([]SearchResult, error) {
	res, err := search(ctx, term, opts)
	if err != nil {
		return nil, err
	}
	var out []SearchResult
	for i := range res {
		if opts.Filter.Keep(&res[i]) {
			out = append(out, res[i])
		}
	}
	return out, nil
}

func search(ctx context.Context, term string, opts SearchOptions) ([]SearchResult, error) {
	if opts.Limit <= 0 {
		opts.Limit = 25
	}
	server := ""
	if first, rest, ok := strings.Cut(term, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		server, term = first, rest
	}
	host, insecure := ResolveHost(opts.Registries, server)
	if host == "docker.io" {
		return searchHub(ctx, &opts.Options, term, opts.Limit)
	}
	c, err := opts.newClient(ctx, host, insecure)
	if err != nil {
		return nil, err
	}
	rt, err := c.transport(ctx, c.reg.Scope(remotetransport.PullScope))
	if err != nil {
		return nil, err
	}
	repos, err := remote.Catalog(ctx, c.reg, remoteOptions(ctx, rt)...)
	if err != nil {
		return nil, c.wrapErr(err, "")
	}
	var out []SearchResult
	for _, r := range repos {
		if strings.Contains(r, term) && len(out) < opts.Limit {
			out = append(out, SearchResult{Name: host + "/" + r})
		}
	}
	return out, nil
}

// searchHub asks Docker Hub's search API, which is not the registry
// protocol: a plain GET, without credentials.
func searchHub(ctx context.Context, opts *Options, term string, limit int) ([]SearchResult, error) {
	c, err := opts.newClientWith("docker.io", false, nil)
	if err != nil {
		return nil, err
	}
	u := "https://index.docker.io/v1/search?" + url.Values{"q": {term}, "n": {strconv.Itoa(limit)}}.Encode()
	var res struct {
		Results []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			StarCount   int    `json:"star_count"`
			IsOfficial  bool   `json:"is_official"`
		} `json:"results"`
	}
	if err := getJSON(ctx, &http.Client{Transport: c.base}, u, &res); err != nil {
		return nil, &Error{Host: c.host, Err: err,
			Msg: fmt.Sprintf("searching Docker Hub at https://index.docker.io/v1/search: %s (hint: without internet, relocate docker.io in config.toml's [[registries.registry]] and search there)", rootCause(err))}
	}
	out := make([]SearchResult, 0, len(res.Results))
	for _, r := range res.Results {
		if len(out) == limit {
			break
		}
		out = append(out, SearchResult{Name: r.Name, Description: r.Description, Stars: r.StarCount, Official: r.IsOfficial})
	}
	return out, nil
}

// getJSON reads a JSON answer.
func getJSON(ctx context.Context, hc *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := remotetransport.CheckError(resp, http.StatusOK); err != nil {
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decoding %s: %w", req.URL.Path, err)
	}
	return nil
}

// SearchFilter keeps the results of Docker's `search --filter` conditions.
// The zero value keeps every result.
type SearchFilter struct {
	// Official, when set, keeps only results that are (true) or are not
	// (false) official images.
	Official *bool
	// MinStars keeps results with at least this many stars.
	MinStars int
}

// ParseSearchFilters reads `search --filter` values: is-official=BOOL,
// stars=N, and is-automated= (accepted and ignored, as Docker Hub no
// longer has automated builds). Its errors are meant for the user.
func ParseSearchFilters(in []string) (SearchFilter, error) {
	var f SearchFilter
	for _, kv := range in {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "is-official":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return SearchFilter{}, fmt.Errorf("invalid filter 'is-official=%s' (hint: is-official=true or false)", v)
			}
			f.Official = &b
		case "stars":
			n, err := strconv.Atoi(v)
			if err != nil {
				return SearchFilter{}, fmt.Errorf("invalid filter 'stars=%s' (hint: a number)", v)
			}
			f.MinStars = n
		case "is-automated":
		default:
			return SearchFilter{}, fmt.Errorf("invalid filter '%s' (hint: is-official=true|false or stars=N)", k)
		}
	}
	return f, nil
}

// Keep reports whether r meets the filter's conditions.
func (f *SearchFilter) Keep(r *SearchResult) bool {
	return (f.Official == nil || r.Official == *f.Official) && r.Stars >= f.MinStars
}

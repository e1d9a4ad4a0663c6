package transport

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
	RegistryOptions
	// Limit is the most results wanted (default 25).
	Limit int
}

// Search looks for repositories matching term: Docker Hub's search API
// for docker.io, and the registry's catalog (/v2/_catalog) filtered by the
// term elsewhere, including where docker.io is relocated. A term may
// start with a registry ("127.0.0.1:5000/busy").
func Search(ctx context.Context, term string, opts SearchOptions) ([]SearchResult, error) {
	if opts.Limit <= 0 {
		opts.Limit = 25
	}
	server := ""
	if first, rest, ok := strings.Cut(term, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		server, term = first, rest
	}
	host, insecure := ResolveRegistry(opts.Registries, server)
	c, err := opts.newRegClient(ctx, host, insecure)
	if err != nil {
		return nil, err
	}
	if host == "docker.io" {
		return regSearchHub(ctx, c, term, opts.Limit)
	}
	rt, err := c.transport(ctx, "registry:catalog:*")
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: rt}
	var out []SearchResult
	u := c.url("/v2/_catalog?n=1000")
	for u != "" && len(out) < opts.Limit {
		var page struct {
			Repositories []string `json:"repositories"`
		}
		next, err := regGetJSON(ctx, hc, u, &page)
		if err != nil {
			return nil, c.wrapErr(err, "")
		}
		for _, r := range page.Repositories {
			if strings.Contains(r, term) && len(out) < opts.Limit {
				out = append(out, SearchResult{Name: host + "/" + r})
			}
		}
		u = next
	}
	return out, nil
}

func regSearchHub(ctx context.Context, c *regClient, term string, limit int) ([]SearchResult, error) {
	u := "https://index.docker.io/v1/search?" + url.Values{"q": {term}, "n": {strconv.Itoa(limit)}}.Encode()
	var res struct {
		Results []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			StarCount   int    `json:"star_count"`
			IsOfficial  bool   `json:"is_official"`
		} `json:"results"`
	}
	if _, err := regGetJSON(ctx, c.hc, u, &res); err != nil {
		return nil, &RegistryError{Registry: c.host, Err: err,
			Msg: fmt.Sprintf("searching Docker Hub at https://index.docker.io/v1/search: %s (hint: without internet, relocate docker.io in config.toml's [[registries.registry]] and search there)", regRootCause(err))}
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

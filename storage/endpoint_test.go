package storage

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEndpoints: a container's record of its networks starts absent,
// changes under UpdateEndpoints, stays as it was when the change fails,
// and may record no network at all.
func TestEndpoints(t *testing.T) {
	s := &Store{opts: Options{Root: t.TempDir(), RunRoot: t.TempDir()}}
	c := &Container{ID: strings.Repeat("a", 64), kind: ephemeralContainers{}}
	if err := os.MkdirAll(s.ephemeralPath(c.ID), 0o700); err != nil {
		t.Fatal(err)
	}
	if got, recorded, err := s.Endpoints(c); err != nil || got != nil || recorded {
		t.Fatalf("Endpoints of a new container = %v, %v, %v", got, recorded, err)
	}
	add := func(e Endpoint) func([]Endpoint, bool) ([]Endpoint, error) {
		return func(cur []Endpoint, _ bool) ([]Endpoint, error) { return append(cur, e), nil }
	}
	for _, e := range []Endpoint{{Network: "n1", Aliases: []string{"x"}}, {Network: "n2"}} {
		if err := s.UpdateEndpoints(c, add(e)); err != nil {
			t.Fatal(err)
		}
	}
	refuse := errors.New("refused")
	if err := s.UpdateEndpoints(c, func([]Endpoint, bool) ([]Endpoint, error) { return nil, refuse }); err != refuse {
		t.Errorf("a refused change returned %v", err)
	}
	got, recorded, err := s.Endpoints(c)
	want := []Endpoint{{Network: "n1", Aliases: []string{"x"}}, {Network: "n2"}}
	if d := cmp.Diff(want, got); err != nil || !recorded || d != "" {
		t.Errorf("Endpoints (-want +got): %s %v %v", d, recorded, err)
	}
	if err := s.UpdateEndpoints(c, func([]Endpoint, bool) ([]Endpoint, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if got, recorded, err := s.Endpoints(c); err != nil || len(got) != 0 || !recorded {
		t.Errorf("Endpoints after all were removed = %v, %v, %v; want none, recorded", got, recorded, err)
	}
}

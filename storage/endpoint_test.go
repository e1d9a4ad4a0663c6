package storage

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEndpoints: a container's connections start empty, change under
// UpdateEndpoints, and stay as they were when the change fails.
func TestEndpoints(t *testing.T) {
	s := &Store{opts: Options{Root: t.TempDir(), RunRoot: t.TempDir()}}
	c := &Container{ID: strings.Repeat("a", 64), kind: ephemeralContainers{}}
	if err := os.MkdirAll(s.ephemeralPath(c.ID), 0o700); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Endpoints(c); err != nil || got != nil {
		t.Fatalf("Endpoints of a new container = %v, %v", got, err)
	}
	add := func(e Endpoint) func([]Endpoint) ([]Endpoint, error) {
		return func(cur []Endpoint) ([]Endpoint, error) { return append(cur, e), nil }
	}
	for _, e := range []Endpoint{{Network: "n1", Aliases: []string{"x"}}, {Network: "n2"}} {
		if err := s.UpdateEndpoints(c, add(e)); err != nil {
			t.Fatal(err)
		}
	}
	refuse := errors.New("refused")
	if err := s.UpdateEndpoints(c, func([]Endpoint) ([]Endpoint, error) { return nil, refuse }); err != refuse {
		t.Errorf("a refused change returned %v", err)
	}
	got, err := s.Endpoints(c)
	want := []Endpoint{{Network: "n1", Aliases: []string{"x"}}, {Network: "n2"}}
	if d := cmp.Diff(want, got); err != nil || d != "" {
		t.Errorf("Endpoints (-want +got): %s %v", d, err)
	}
}

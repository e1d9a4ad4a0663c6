package run

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/burrow-oci/burrow/storage"
)

// TestInOrder: bridge, whose stack serves eth0 only, comes first; the
// other networks keep the order they were connected in.
func TestInOrder(t *testing.T) {
	eps := func(names ...string) []storage.Endpoint {
		var out []storage.Endpoint
		for _, n := range names {
			out = append(out, storage.Endpoint{Network: n})
		}
		return out
	}
	for _, tc := range []struct{ in, want []storage.Endpoint }{
		{nil, nil},
		{eps("b", "a"), eps("b", "a")},
		{eps("n1", "bridge", "n2"), eps("bridge", "n1", "n2")},
		{eps("bridge", "n1"), eps("bridge", "n1")},
	} {
		in := append([]storage.Endpoint(nil), tc.in...)
		if d := cmp.Diff(tc.want, inOrder(tc.in)); d != "" {
			t.Errorf("inOrder(%v) (-want +got):\n%s", tc.in, d)
		}
		if d := cmp.Diff(in, tc.in); d != "" {
			t.Errorf("inOrder changed its argument: %s", d)
		}
	}
}

// TestJoinable: the modes with networks to join.
func TestJoinable(t *testing.T) {
	for mode, want := range map[string]bool{"bridge": true, "n1": true, "host": false, "none": false, "container:web": false} {
		if got := joinable(mode); got != want {
			t.Errorf("joinable(%q) = %v, want %v", mode, got, want)
		}
	}
}

package storage

import (
	"errors"
	"strings"
	"testing"

	"github.com/burrow-oci/burrow/storage/reference"
)

const testDigest = "sha256:6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"

func TestLookupIn(t *testing.T) {
	var (
		idBusybox = "aaaa1111" + strings.Repeat("1", 56)
		idAlpine  = "aaaa2222" + strings.Repeat("2", 56)
		idNone    = "bbbb3333" + strings.Repeat("3", 56)
		idCafe    = "cccc4444" + strings.Repeat("4", 56)
	)
	imgs := []Image{{
		ID:      idBusybox,
		Names:   []string{"docker.io/library/busybox:latest"},
		Digests: []string{"docker.io/library/busybox@" + testDigest},
	}, {
		ID:    idAlpine,
		Names: []string{"localhost/x:latest", "docker.io/library/alpine:3.20"},
	}, {
		ID: idNone, // dangling
	}, {
		// A name made only of hex digits must still be found by name when
		// no ID starts with it.
		ID:    idCafe,
		Names: []string{"docker.io/library/cafe:latest"},
	}}

	tests := []struct {
		name   string
		ref    string
		wantID string
	}{
		{"short name", "busybox", idBusybox},
		{"short name and tag", "busybox:latest", idBusybox},
		{"full name", "docker.io/library/busybox:latest", idBusybox},
		{"library name", "library/busybox", idBusybox},
		{"digest reference", "busybox@" + testDigest, idBusybox},
		{"second name of an image", "alpine:3.20", idAlpine},
		{"localhost name", "localhost/x", idAlpine},
		{"full ID", idNone, idNone},
		{"sha256: full ID", "sha256:" + idNone, idNone},
		{"unique prefix", "bbbb", idNone},
		{"sha256: unique prefix", "sha256:bbbb33", idNone},
		{"prefix unique after more digits", "aaaa1", idBusybox},
		{"hex name with no matching ID", "cafe", idCafe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lookupIn(imgs, tt.ref)
			if err != nil {
				t.Fatalf("lookupIn(%q): %v", tt.ref, err)
			}
			if got.ID != tt.wantID {
				t.Errorf("lookupIn(%q) = image %s, want %s", tt.ref, got.ID[:12], tt.wantID[:12])
			}
			// The result points into imgs, not at a copy.
			found := false
			for i := range imgs {
				if got == &imgs[i] {
					found = true
				}
			}
			if !found {
				t.Errorf("lookupIn(%q) returned a pointer outside the slice", tt.ref)
			}
		})
	}
}

func TestLookupInErrors(t *testing.T) {
	idA := "abcd0001" + strings.Repeat("0", 56)
	idB := "abcd0002" + strings.Repeat("0", 56)
	imgs := []Image{
		{ID: idA, Names: []string{"docker.io/library/busybox:latest"}},
		{ID: idB, Names: []string{"docker.io/library/alpine:latest"}},
	}
	tests := []struct {
		name    string
		ref     string
		wantIs  error  // errors.Is target, or nil
		wantMsg string // the whole message, or "" to skip
		wantIn  []string
	}{{
		name:   "ambiguous prefix",
		ref:    "abcd",
		wantIs: ErrAmbiguousID,
		wantIn: []string{`"abcd"`, idA[:12], idB[:12]},
	}, {
		name:   "ambiguous sha256: prefix",
		ref:    "sha256:abcd000",
		wantIs: ErrAmbiguousID,
	}, {
		name:    "unknown name",
		ref:     "foo",
		wantIs:  ErrImageUnknown,
		wantMsg: "No such image: foo:latest",
	}, {
		name:    "unknown tag",
		ref:     "busybox:1.0",
		wantIs:  ErrImageUnknown,
		wantMsg: "No such image: busybox:1.0",
	}, {
		name:    "unknown full name is shown short",
		ref:     "docker.io/library/nginx:latest",
		wantIs:  ErrImageUnknown,
		wantMsg: "No such image: nginx:latest",
	}, {
		name:    "unknown full ID",
		ref:     strings.Repeat("f", 64),
		wantIs:  ErrImageUnknown,
		wantMsg: "No such image: " + strings.Repeat("f", 64),
	}, {
		name:    "unknown sha256: prefix",
		ref:     "sha256:ffff",
		wantIs:  ErrImageUnknown,
		wantMsg: "No such image: sha256:ffff",
	}, {
		name:   "unknown hex-looking name",
		ref:    "beef",
		wantIs: ErrImageUnknown,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lookupIn(imgs, tt.ref)
			if err == nil {
				t.Fatalf("lookupIn(%q) = image %s, want an error", tt.ref, got.ID[:12])
			}
			if got != nil {
				t.Errorf("lookupIn(%q) returned an image with an error", tt.ref)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("lookupIn(%q) error %q is not %v", tt.ref, err, tt.wantIs)
			}
			if tt.wantIs == ErrImageUnknown {
				var nf *NotFoundError
				if !errors.As(err, &nf) {
					t.Errorf("lookupIn(%q) error %T, want *NotFoundError", tt.ref, err)
				}
				if errors.Is(err, ErrAmbiguousID) {
					t.Errorf("lookupIn(%q) error is also ErrAmbiguousID", tt.ref)
				}
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("lookupIn(%q) error = %q, want %q", tt.ref, err, tt.wantMsg)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("lookupIn(%q) error %q does not contain %q", tt.ref, err, s)
				}
			}
		})
	}
}

func TestLookupInInvalidName(t *testing.T) {
	for _, ref := range []string{"UPPER", "a b", ":tag", ""} {
		t.Run(ref, func(t *testing.T) {
			_, err := lookupIn([]Image{{ID: strings.Repeat("a", 64), Names: []string{"docker.io/library/busybox:latest"}}}, ref)
			var ne *reference.NameError
			if !errors.As(err, &ne) {
				t.Fatalf("lookupIn(%q) error = %v (%T), want *reference.NameError", ref, err, err)
			}
			if errors.Is(err, ErrImageUnknown) {
				t.Errorf("lookupIn(%q): an invalid name is reported as an unknown image", ref)
			}
		})
	}
}

func TestLookupInEmpty(t *testing.T) {
	_, err := lookupIn(nil, "busybox")
	if !errors.Is(err, ErrImageUnknown) {
		t.Fatalf("lookupIn(nil, busybox) error = %v, want ErrImageUnknown", err)
	}
	if want := "No such image: busybox:latest"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

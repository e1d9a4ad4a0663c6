package reference

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

const testDigest = "sha256:6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"

func TestNormalize(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"busybox", "docker.io/library/busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36"},
		{"library/busybox", "docker.io/library/busybox:latest"},
		{"docker.io/busybox", "docker.io/library/busybox:latest"},
		{"docker.io/library/busybox:latest", "docker.io/library/busybox:latest"},
		{"alice/app", "docker.io/alice/app:latest"},
		{"localhost/x", "localhost/x:latest"},
		{"localhost:5000/x:dev", "localhost:5000/x:dev"},
		{"host:5000/a/b:t", "host:5000/a/b:t"},
		{"quay.io/org/repo", "quay.io/org/repo:latest"},
		{"busybox@" + testDigest, "docker.io/library/busybox@" + testDigest},
		{"busybox:1.36@" + testDigest, "docker.io/library/busybox:1.36@" + testDigest},
		{"quay.io/org/repo@" + testDigest, "quay.io/org/repo@" + testDigest},
		{"index.docker.io/busybox", "docker.io/library/busybox:latest"},
		{"busybox:V1.0-RC_2", "docker.io/library/busybox:V1.0-RC_2"}, // tags may be uppercase
		{"busybox:" + strings.Repeat("a", 128), "docker.io/library/busybox:" + strings.Repeat("a", 128)},
		{"a_b/c.d/e-f/g__h", "docker.io/a_b/c.d/e-f/g__h:latest"},
		{"127.0.0.1:5000/x", "127.0.0.1:5000/x:latest"},
		{"localhost:5000", "docker.io/library/localhost:5000"}, // a name and a tag, as Docker reads it
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if err != nil {
				t.Fatalf("Normalize(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeInvalid(t *testing.T) {
	// The grammar is Docker's (distribution/reference), which the OCI
	// distribution spec shares: a tag matches [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
	// and a path component [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*.
	tests := []struct {
		in         string
		wantReason string // a substring of NameError.Reason, or ""
		skip       string
	}{
		{in: "UPPER", wantReason: "lowercase"},
		{in: "Busybox:latest", wantReason: "lowercase"},
		{in: "host:5000/UPPER", wantReason: "lowercase"},
		{in: "a b", wantReason: "white space"},
		{in: ":tag"},
		{in: "", wantReason: "empty"},
		{in: "busybox:"},
		{in: "busybox@sha256:short", wantReason: "digest"},
		{in: "-leading-dash"},
		{in: "trailing-dash-"},
		{in: "a//b"},
		{in: "busybox:bad tag"},
		{in: "busybox:" + strings.Repeat("a", 129)},
		{in: "busybox:-x"},
		{in: "busybox:.x"},
		{in: "a..b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			got, err := Normalize(tt.in)
			if err == nil {
				t.Fatalf("Normalize(%q) = %q, want an error", tt.in, got)
			}
			var ne *NameError
			if !errors.As(err, &ne) {
				t.Fatalf("Normalize(%q) error %v is a %T, want *NameError", tt.in, err, err)
			}
			if ne.Name != tt.in {
				t.Errorf("NameError.Name = %q, want %q", ne.Name, tt.in)
			}
			if !strings.Contains(ne.Reason, tt.wantReason) {
				t.Errorf("NameError.Reason = %q, want it to contain %q", ne.Reason, tt.wantReason)
			}
			if want := `"` + tt.in + `"`; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not quote the name", err)
			}
			if got != "" {
				t.Errorf("Normalize(%q) returned %q with an error, want \"\"", tt.in, got)
			}
		})
	}
}

func TestShort(t *testing.T) {
	tests := []struct{ in, want string }{
		{"docker.io/library/busybox:latest", "busybox:latest"},
		{"docker.io/library/busybox", "busybox"},
		{"docker.io/alice/app:1", "alice/app:1"},
		{"localhost/x:latest", "localhost/x:latest"},
		{"host:5000/a/b:t", "host:5000/a/b:t"},
		{"quay.io/org/repo:v2", "quay.io/org/repo:v2"},
		{"docker.io/library/busybox@" + testDigest, "busybox@" + testDigest},
		{"busybox:latest", "busybox:latest"},
		{"UPPER", "UPPER"}, // not a reference: returned as is
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Short(tt.in); got != tt.want {
				t.Errorf("Short(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		in                  string
		repo, tag, wantDgst string
	}{
		{"docker.io/library/busybox:latest", "busybox", "latest", ""},
		{"docker.io/library/busybox", "busybox", "<none>", ""},
		{"busybox:1.36", "busybox", "1.36", ""},
		{"docker.io/alice/app:v1", "alice/app", "v1", ""},
		{"localhost/x:latest", "localhost/x", "latest", ""},
		{"host:5000/a/b:t", "host:5000/a/b", "t", ""},
		{"docker.io/library/busybox@" + testDigest, "busybox", "<none>", testDigest},
		{"docker.io/library/busybox:1.36@" + testDigest, "busybox", "1.36", testDigest},
		{"NOT VALID", "NOT VALID", "<none>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			repo, tag, dgst := Split(tt.in)
			if repo != tt.repo || tag != tt.tag || dgst != tt.wantDgst {
				t.Errorf("Split(%q) = %q, %q, %q, want %q, %q, %q", tt.in, repo, tag, dgst, tt.repo, tt.tag, tt.wantDgst)
			}
		})
	}
}

func TestRepository(t *testing.T) {
	tests := []struct{ in, want string }{
		{"docker.io/library/busybox:latest", "docker.io/library/busybox"},
		{"busybox", "docker.io/library/busybox"},
		{"docker.io/library/busybox@" + testDigest, "docker.io/library/busybox"},
		{"localhost/x:latest", "localhost/x"},
		{"host:5000/a/b:t", "host:5000/a/b"},
		{"NOT VALID", "NOT VALID"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Repository(tt.in); got != tt.want {
				t.Errorf("Repository(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		full, pattern string
		want          bool
	}{
		{"docker.io/library/busybox:latest", "busybox", true},
		{"docker.io/library/busybox:latest", "busybox:latest", true},
		{"docker.io/library/busybox:latest", "busy*", true},
		{"docker.io/library/busybox:latest", "busybox:lat*", true},
		{"docker.io/library/busybox:latest", "busybox:1.*", false},
		{"docker.io/library/busybox:1.36", "busybox:1.*", true},
		{"docker.io/library/busybox:latest", "alpine", false},
		{"docker.io/library/busybox:latest", "bus", false},
		{"docker.io/library/busybox:latest", "localhost/*", false},
		{"localhost/x:latest", "localhost/*", true},
		{"localhost/x:latest", "localhost/x", true},
		{"localhost/x:latest", "x", false},
		{"docker.io/alice/app:v1", "alice/*", true},
		{"docker.io/alice/app:v1", "app", false},
		{"not a reference", "*", false},
	}
	for _, tt := range tests {
		t.Run(tt.full+" "+tt.pattern, func(t *testing.T) {
			if got := Match(tt.full, tt.pattern); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.full, tt.pattern, got, tt.want)
			}
		})
	}
}

// TestGrammar checks the written-out grammar against the distribution
// spec's regular expressions.
func TestGrammar(t *testing.T) {
	pathRE := regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagRE := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	samples := []string{"", "a", "A", "ab", "a.b", "a..b", "a_b", "a__b", "a___b", "a-b", "a---b", "a-", "-a", ".a",
		"_a", "a_", "a.", "a._b", "a-_b", "a/b", "a b", "1.0", "v1.2.3-rc_1", "latest", "Latest", "_x", "x" + strings.Repeat("y", 127),
		"x" + strings.Repeat("y", 128), "a:b", "é", "a.b-c__d"}
	for _, s := range samples {
		if got, want := validPathComponent(s), pathRE.MatchString(s); got != want {
			t.Errorf("path component %q: %v, want %v", s, got, want)
		}
		if got, want := validTag(s), tagRE.MatchString(s); got != want {
			t.Errorf("tag %q: %v, want %v", s, got, want)
		}
	}
}

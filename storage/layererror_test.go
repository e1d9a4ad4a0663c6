package storage

import (
	"errors"
	"testing"
)

// TestLayerErrorOneLine: the unpacking children's reports reduce to their
// cause, without the lines containers/storage prints for each file whose
// owner it could not set in single-id mode.
func TestLayerErrorOneLine(t *testing.T) {
	chown := "Chown error detected. Ignoring due to ignoreChownErrors flag: potentially insufficient UIDs or GIDs available in user namespace (requested 1000:1000 for /f0): Check /etc/subuid and /etc/subgid if configured locally and run \"podman system migrate\": lchown /f0: invalid argument\n"
	cases := []struct{ err, want string }{
		{"ApplyLayer stdout:  stderr: " + chown + chown + "link /missing /l: no such file or directory exit status 1", "writing layer: link /missing /l: no such file or directory"},
		{"ApplyLayer stdout:  stderr: " + chown + "write /big: no space left on device exit status 1", "writing layer: no space left on device for the store at /s (hint: free space there, for instance with `burrow system prune -a`, or keep the store elsewhere with --root)"},
		{"ApplyLayer stdout:  stderr: open /x: permission denied exit status 1", "writing layer: open /x: permission denied"},
		{"unpacking failed (error: exit status 1; output: open /x: permission denied)", "writing layer: open /x: permission denied"},
		{"first line\nsecond", "writing layer: first line"},
	}
	for _, c := range cases {
		if got := (&LayerError{Err: errors.New(c.err), Root: "/s"}).Error(); got != c.want {
			t.Errorf("%q:\ngot  %q\nwant %q", c.err, got, c.want)
		}
	}
}

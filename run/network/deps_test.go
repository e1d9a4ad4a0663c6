package network

import (
	"os/exec"
	"strings"
	"testing"
)

// banned are packages burrow must not link (issue 14): gvisor-tap-vsock
// costs 6 ms of start-up on every command through gopacket's package
// init (3.5 ms alone) and does not build against the pinned gvisor.
var banned = []string{
	"github.com/containers/gvisor-tap-vsock",
	"github.com/google/gopacket",
	"github.com/gopacket/gopacket",
}

// TestBannedDependencies fails when burrow's binary would link a banned
// package.
func TestBannedDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/burrow-oci/burrow", "github.com/burrow-oci/burrow/run/network").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, b := range banned {
			if pkg == b || strings.HasPrefix(pkg, b+"/") {
				t.Errorf("burrow links %s (issue 14: it costs every command's start-up)", pkg)
			}
		}
	}
}

package run

import "testing"

func TestNetworkContainerModes(t *testing.T) {
	for _, c := range []struct {
		flag, mode, target, err string
	}{
		{flag: "container:web", mode: "container:web", target: "web"},
		{flag: "container:0123abcd", mode: "container:0123abcd", target: "0123abcd"},
		{flag: "container:", err: "Invalid network mode: invalid container format container:<name|id>"},
		{flag: "bridge", mode: NetworkBridge},
		{flag: "host", mode: NetworkHost},
	} {
		t.Run(c.flag, func(t *testing.T) {
			mode, err := ParseNetwork(c.flag)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("ParseNetwork(%q): error %v, want %q", c.flag, err, c.err)
				}
				return
			}
			if err != nil || mode != c.mode {
				t.Fatalf("ParseNetwork(%q) = %q, %v; want %q", c.flag, mode, err, c.mode)
			}
			if got := NetworkContainer(mode); got != c.target {
				t.Errorf("NetworkContainer(%q) = %q, want %q", mode, got, c.target)
			}
			if IsUserNetwork(mode) {
				t.Errorf("IsUserNetwork(%q) is true", mode)
			}
		})
	}
}

func TestPublishRefusedInContainerMode(t *testing.T) {
	for _, c := range []struct {
		ports []string
		all   bool
	}{{ports: []string{"8080:80"}}, {all: true}} {
		_, _, err := ParsePublish("container:web", c.ports, c.all)
		if err == nil || err.Error() != errPublishContainerMode {
			t.Errorf("ParsePublish(container:web, %v, %v): %v, want %q", c.ports, c.all, err, errPublishContainerMode)
		}
	}
	if ports, _, err := ParsePublish("container:web", nil, false); err != nil || ports != nil {
		t.Errorf("no ports in container mode: %v, %v", ports, err)
	}
}

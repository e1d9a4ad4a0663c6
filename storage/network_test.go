package storage

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestNextSubnet(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name string
		used []netip.Prefix
		want string
	}{
		{"first", nil, "10.89.0.0/24"},
		{"after the highest", []netip.Prefix{p("10.89.0.0/24"), p("10.89.3.0/24")}, "10.89.4.0/24"},
		{"other ranges do not count", []netip.Prefix{p("192.168.0.0/16")}, "10.89.0.0/24"},
		{"a wide --subnet covers several", []netip.Prefix{p("10.89.0.0/22")}, "10.89.4.0/24"},
		{"wraps to the lowest free", []netip.Prefix{p("10.89.255.0/24"), p("10.89.0.0/24")}, "10.89.1.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := nextSubnet(tt.used)
			if err != nil || got.String() != tt.want {
				t.Errorf("nextSubnet = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
	if _, err := nextSubnet([]netip.Prefix{p("10.89.0.0/16")}); err == nil {
		t.Error("nextSubnet of a full 10.89.0.0/16: no error")
	}
}

func TestNetworkRecords(t *testing.T) {
	s := &Store{opts: Options{Root: t.TempDir(), RunRoot: t.TempDir()}}
	a, err := s.CreateNetwork("a", NetworkOptions{Labels: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Subnet.String() != "10.89.0.0/24" || a.Gateway.String() != "10.89.0.1" || len(a.ID) != 64 {
		t.Errorf("a: %+v", a)
	}
	b, err := s.CreateNetwork("b", NetworkOptions{Subnet: netip.MustParsePrefix("172.30.5.9/24"), Internal: true})
	if err != nil {
		t.Fatal(err)
	}
	if b.Subnet.String() != "172.30.5.0/24" || b.Gateway.String() != "172.30.5.1" || !b.Internal {
		t.Errorf("b: %+v", b)
	}
	for _, c := range []struct{ name, subnet, err string }{
		{"a", "", "network with name a already exists"},
		{"bridge", "", "already exists"},
		{"-x", "", "invalid network name"},
		{"c", "10.89.0.128/25", "Pool overlaps"},
		{"c", "10.0.0.0/31", "invalid subnet"},
	} {
		var o NetworkOptions
		if c.subnet != "" {
			o.Subnet = netip.MustParsePrefix(c.subnet)
		}
		if _, err := s.CreateNetwork(c.name, o); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("CreateNetwork(%s, %s) = %v, want %q", c.name, c.subnet, err, c.err)
		}
	}
	got, err := s.Network(a.ID[:6])
	if err != nil || got.Name != "a" || got.Labels["k"] != "v" {
		t.Errorf("Network(id prefix) = %+v, %v", got, err)
	}
	if _, err := s.Network("nope"); !errors.Is(err, ErrNoSuchNetwork) || err.Error() != "network nope not found" {
		t.Errorf("Network(nope) = %v", err)
	}
	if err := s.DeleteNetwork(a, func() error { return errors.New("busy") }); err == nil || err.Error() != "busy" {
		t.Errorf("DeleteNetwork in use = %v", err)
	}
	if err := s.DeleteNetwork(a, nil); err != nil {
		t.Fatal(err)
	}
	nets, err := s.Networks()
	if err != nil || len(nets) != 1 || nets[0].Name != "b" {
		t.Errorf("Networks = %v, %v", nets, err)
	}
	sock, lock, err := s.NetworkSwitchPaths(b)
	if err != nil || !strings.HasSuffix(sock, b.ID[:12]+".sock") || !strings.HasSuffix(lock, ".lock") {
		t.Errorf("NetworkSwitchPaths = %s %s %v", sock, lock, err)
	}
}

package run

import "testing"

// TestResolvConf: given servers, search or options replace the host's
// lines of that kind; the others are kept; nothing given keeps the host's
// file as it is.
func TestResolvConf(t *testing.T) {
	host := "# the host's\nnameserver 10.255.255.53\nsearch corp.example\noptions edns0 trust-ad\n"
	for _, c := range []struct {
		name                     string
		servers, search, options []string
		want                     string
	}{
		{"nothing", nil, nil, nil, host},
		{"servers", []string{"10.0.2.3"}, nil, nil,
			"# the host's\nsearch corp.example\noptions edns0 trust-ad\nnameserver 10.0.2.3\n"},
		{"search and options", nil, []string{"a.example", "b.example"}, []string{"ndots:3"},
			"# the host's\nnameserver 10.255.255.53\nsearch a.example b.example\noptions ndots:3\n"},
	} {
		if got := string(resolvConf([]byte(host), c.servers, c.search, c.options)); got != c.want {
			t.Errorf("%s: got\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}

package network

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/burrow-oci/burrow/storage"
)

func TestParsePublish(t *testing.T) {
	type pm = storage.PortMapping
	tcp := func(ip string, host, ctr uint16) pm {
		return pm{HostIP: ip, HostPort: host, ContainerPort: ctr, Proto: "tcp"}
	}
	for _, tc := range []struct {
		spec string
		want []pm
	}{
		{"80", []pm{tcp("", 0, 80)}},
		{"80/udp", []pm{{ContainerPort: 80, Proto: "udp"}}},
		{"80/UDP", []pm{{ContainerPort: 80, Proto: "udp"}}},
		{"80/", []pm{tcp("", 0, 80)}},
		{":80", []pm{tcp("", 0, 80)}},
		{"3000:3000", []pm{tcp("", 3000, 3000)}},
		{"8080:80/tcp", []pm{tcp("", 8080, 80)}},
		{"0.0.0.0:8080:80", []pm{tcp("0.0.0.0", 8080, 80)}},
		{"127.0.0.1::80", []pm{tcp("127.0.0.1", 0, 80)}},
		{"[::1]:8080:80", []pm{tcp("::1", 8080, 80)}},
		{"::1:8080:80", []pm{tcp("::1", 8080, 80)}},
		{"[::]::80/udp", []pm{{HostIP: "::", ContainerPort: 80, Proto: "udp"}}},
		{"8000-8002:80-82", []pm{tcp("", 8000, 80), tcp("", 8001, 81), tcp("", 8002, 82)}},
		{"80-81", []pm{tcp("", 0, 80), tcp("", 0, 81)}},
		{"8000-8010:80", []pm{{HostPort: 8000, HostPortEnd: 8010, ContainerPort: 80, Proto: "tcp"}}},
		{"8000-8000:80", []pm{tcp("", 8000, 80)}},
		{"published=8080,target=80", []pm{tcp("", 8080, 80)}},
		{"published=53,target=53,protocol=udp", []pm{{HostPort: 53, ContainerPort: 53, Proto: "udp"}}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParsePublish(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParsePublish(%q) (-want +got):\n%s", tc.spec, diff)
			}
		})
	}
}

func TestParsePublishErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"", "no port specified: <empty>"},
		{"8080:", "no port specified: 8080:<empty>"},
		{"/udp", "no port specified: /udp<empty>"},
		{"abc", "invalid containerPort: abc"},
		{"0", "invalid containerPort: 0"},
		{"65536", "invalid containerPort: 65536"},
		{"90-80", "invalid containerPort: 90-80"},
		{"x:80", "invalid hostPort: x"},
		{"70000:80", "invalid hostPort: 70000"},
		{"80/icmp", "invalid proto: icmp"},
		{"80/sctp", "invalid proto: sctp (hint: burrow publishes tcp and udp ports)"},
		{"1.2.3:80:80", "invalid IP address: 1.2.3"},
		{"localhost:80:80", "invalid IP address: localhost"},
		{"[::1:80:80", "invalid IP address [::1: address [::1:: missing ']' in address"},
		{"8000-8005:80-90", "invalid ranges specified for container and host Ports: 80-90 and 8000-8005"},
		{"8000:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8000"},
		{"published=80,target", "invalid publish opts format (should be name=value but got 'target')"},
		{"published", "invalid containerPort: published"},
		{"target=80,=1", "invalid publish opts format (should be name=value but got '=1')"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := ParsePublish(tc.spec)
			if err == nil || err.Error() != tc.want {
				t.Errorf("ParsePublish(%q) = %v, want %q", tc.spec, err, tc.want)
			}
		})
	}
}

package network

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/burrow-oci/burrow/storage"
)

// ParsePublish reads one -p value as the Docker CLI does (its
// go-connections nat.ParsePortSpec, after convertToStandardNotation):
//
//	CTR[/PROTO]                  a free host port on every address
//	HOST:CTR[/PROTO]             8080:80, 8000-8010:80-90 (ranges of equal length)
//	HOST-RANGE:CTR[/PROTO]       8000-8010:80: the first free port of the range
//	IP:[HOST]:CTR[/PROTO]        127.0.0.1:8080:80, 127.0.0.1::80, [::1]:8080:80
//	published=H,target=C[,protocol=P]   the long form
//
// PROTO is tcp (the default) or udp. The errors are Docker's words, so a
// user's search for them finds Docker's answers. Each container port of a
// range is one mapping; an empty HostIP is every address.
func ParsePublish(spec string) ([]storage.PortMapping, error) {
	raw, err := standardNotation(spec)
	if err != nil {
		return nil, err
	}
	ip, hostPort, ctrPort := splitPublish(raw)
	ctrPort, proto, _ := strings.Cut(ctrPort, "/")
	if ctrPort == "" {
		return nil, fmt.Errorf("no port specified: %s<empty>", raw)
	}
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	switch proto {
	case "tcp", "udp":
	case "sctp":
		// Docker accepts sctp; the user-mode stack does not carry it.
		return nil, fmt.Errorf("invalid proto: sctp (hint: burrow publishes tcp and udp ports)")
	default:
		return nil, errors.New("invalid proto: " + proto)
	}
	if strings.HasPrefix(ip, "[") {
		host, _, err := net.SplitHostPort(ip + ":")
		if err != nil {
			return nil, fmt.Errorf("invalid IP address %v: %w", ip, err)
		}
		ip = host
	}
	if ip != "" && net.ParseIP(ip) == nil {
		return nil, errors.New("invalid IP address: " + ip)
	}
	start, end, err := portRange(ctrPort)
	if err != nil || start == 0 {
		return nil, errors.New("invalid containerPort: " + ctrPort)
	}
	var hStart, hEnd uint16
	if hostPort != "" {
		if hStart, hEnd, err = portRange(hostPort); err != nil {
			return nil, errors.New("invalid hostPort: " + hostPort)
		}
		// A host range with one container port is a range to choose a
		// free port from; otherwise the lengths must agree.
		if end-start != hEnd-hStart && start != end {
			return nil, fmt.Errorf("invalid ranges specified for container and host Ports: %s and %s", ctrPort, hostPort)
		}
	}
	n := int(end) - int(start) + 1
	out := make([]storage.PortMapping, 0, n)
	for i := 0; i < n; i++ {
		m := storage.PortMapping{HostIP: ip, ContainerPort: start + uint16(i), Proto: proto}
		if hostPort != "" {
			m.HostPort = hStart + uint16(i)
			if n == 1 && hEnd != hStart {
				m.HostPortEnd = hEnd
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// standardNotation turns the long form (published=8080,target=80) into
// the short one, as the Docker CLI's convertToStandardNotation does.
func standardNotation(spec string) (string, error) {
	if !strings.Contains(spec, "=") {
		return spec, nil
	}
	params := map[string]string{"protocol": "tcp"}
	for _, param := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(param, "=")
		if !ok || k == "" {
			return "", fmt.Errorf("invalid publish opts format (should be name=value but got '%s')", param)
		}
		params[k] = v
	}
	return params["published"] + ":" + params["target"] + "/" + params["protocol"], nil
}

// splitPublish splits [IP:][HOST:]CTR at its last two colons, so an
// unbracketed IPv6 address keeps its own (as Docker's splitParts).
func splitPublish(s string) (ip, host, ctr string) {
	parts := strings.Split(s, ":")
	n := len(parts)
	switch n {
	case 1:
		return "", "", parts[0]
	case 2:
		return "", parts[0], parts[1]
	default:
		return strings.Join(parts[:n-2], ":"), parts[n-2], parts[n-1]
	}
}

// portRange reads "80" or "8000-8010".
func portRange(s string) (start, end uint16, err error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return uint16(a), uint16(a), nil
	}
	b, err := strconv.ParseUint(hi, 10, 16)
	if err != nil {
		return 0, 0, err
	}
	if b < a {
		return 0, 0, fmt.Errorf("invalid range specified for port: %s", s)
	}
	return uint16(a), uint16(b), nil
}

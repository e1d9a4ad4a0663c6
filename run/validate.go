package run

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/burrow-oci/burrow/run/network"
	"github.com/burrow-oci/burrow/storage"
	units "github.com/docker/go-units"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// validName is Docker's rule for container names.
var validName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`) })

// CheckName checks a container name against Docker's rule.
func CheckName(name string) error {
	if !validName().MatchString(name) {
		return fmt.Errorf("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	return nil
}

// ParseNetwork reads --network: the default network (a private one
// served by the user-mode network; also for Podman's names of its
// default), the host's, none, another container's (container:NAME), or a
// user-defined network's name (Create checks that the network or the
// container exists).
func ParseNetwork(mode string) (string, error) {
	switch mode {
	case "", "default", "bridge", "slirp4netns", "pasta", "private":
		return NetworkBridge, nil
	case NetworkHost:
		return NetworkHost, nil
	case NetworkNone:
		return NetworkNone, nil
	}
	if strings.HasPrefix(mode, containerNetworkPrefix) {
		if NetworkContainer(mode) == "" {
			return "", errors.New("Invalid network mode: invalid container format container:<name|id>")
		}
		return mode, nil
	}
	if storage.CheckNetworkName(mode) != nil {
		return "", fmt.Errorf("network %s not found (hint: use --network bridge, host, none or the name of a network from network ls)", mode)
	}
	return mode, nil
}

// CheckCapabilities checks --cap-add and --cap-drop names.
func CheckCapabilities(names []string) error {
	for _, name := range names {
		if !validCapability(name) {
			return fmt.Errorf("invalid capability %q (hint: names such as NET_ADMIN or CAP_NET_ADMIN, or ALL)", name)
		}
	}
	return nil
}

// ParseLogOptions reads --log-driver and --log-opt: json-file, with
// max-size and max-file.
func ParseLogOptions(driver string, opts []string) (maxSize int64, maxFile int, err error) {
	if driver != "json-file" && driver != "" {
		return 0, 0, fmt.Errorf("logging driver %q is not available (hint: json-file is)", driver)
	}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "max-size":
			n, err := units.RAMInBytes(v)
			if err != nil || n <= 0 {
				return 0, 0, fmt.Errorf("invalid value for log-opt max-size: %q", v)
			}
			maxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return 0, 0, fmt.Errorf("invalid value for log-opt max-file: %q", v)
			}
			maxFile = n
		default:
			return 0, 0, fmt.Errorf("unknown log opt '%s' for json-file log driver", k)
		}
	}
	if maxFile > 1 && maxSize == 0 {
		return 0, 0, errors.New("max-file cannot be set without max-size")
	}
	return maxSize, maxFile, nil
}

// ExposedPorts are an image's EXPOSEd ports, each published on a free
// host port (-P).
func ExposedPorts(img *v1.Config) []storage.PortMapping {
	var out []storage.PortMapping
	for p := range img.ExposedPorts {
		port, proto, _ := strings.Cut(p, "/")
		if proto == "" {
			proto = "tcp"
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			continue
		}
		out = append(out, storage.PortMapping{ContainerPort: uint16(n), Proto: proto})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ContainerPort != out[j].ContainerPort {
			return out[i].ContainerPort < out[j].ContainerPort
		}
		return out[i].Proto < out[j].Proto
	})
	return out
}

// ParsePublish reads -p values (and -P) for a container on network mode:
// the host's network discards them with a warning, as Docker's does; no
// network refuses them.
func ParsePublish(mode string, values []string, all bool) (ports []storage.PortMapping, warning string, err error) {
	for _, v := range values {
		pm, err := network.ParsePublish(v)
		if err != nil {
			return nil, "", err
		}
		ports = append(ports, pm...)
	}
	if len(ports) == 0 && !all {
		return nil, "", nil
	}
	switch {
	case mode == NetworkNone || NetworkContainer(mode) != "":
		return nil, "", errors.New(errPublishContainerMode)
	case mode == NetworkHost:
		return nil, "Published ports are discarded when using host network mode", nil
	}
	return ports, "", nil
}

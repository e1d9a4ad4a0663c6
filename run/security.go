package run

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// loadSeccompProfile reads a seccomp profile in Docker's JSON format
// (defaultAction, architectures, syscalls with names, action, args).
func loadSeccompProfile(path string) (*specs.LinuxSeccomp, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading seccomp profile: %w", err)
	}
	var p specs.LinuxSeccomp
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decoding seccomp profile %s: %w", path, err)
	}
	if p.DefaultAction == "" {
		return nil, fmt.Errorf("seccomp profile %s has no defaultAction", path)
	}
	return &p, nil
}

// SecurityOpts are the --security-opt settings burrow applies.
type SecurityOpts struct {
	Seccomp        string // "", "unconfined" or a profile's path
	SeccompProfile *specs.LinuxSeccomp
	NoNewPrivs     bool
}

// ParseSecurityOpts reads --security-opt values as Docker does (key=value
// or key:value), loading a seccomp profile file.
func ParseSecurityOpts(opts []string) (SecurityOpts, error) {
	var out SecurityOpts
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if !ok {
			k, v, _ = strings.Cut(o, ":")
		}
		switch k {
		case "no-new-privileges":
			out.NoNewPrivs = v == "" || v == "true"
		case "seccomp":
			switch v {
			case "unconfined":
				out.Seccomp = v
			case "":
				return out, fmt.Errorf("invalid --security-opt %q (hint: seccomp=unconfined or seccomp=/path/to/profile.json)", o)
			default:
				p, err := loadSeccompProfile(v)
				if err != nil {
					return out, err
				}
				out.Seccomp, out.SeccompProfile = v, p
			}
		case "label", "apparmor", "systempaths", "mask", "unmask":
			// SELinux and AppArmor are the host's business; an unprivileged
			// user cannot load profiles. Accepted and ignored, as rootless
			// Podman does where they are unavailable.
		default:
			return out, fmt.Errorf("invalid --security-opt %q (hint: no-new-privileges, seccomp=unconfined or seccomp=PROFILE)", o)
		}
	}
	return out, nil
}

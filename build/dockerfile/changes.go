// Package dockerfile adapts buildkit's Dockerfile parser, typed
// instructions and shell-word expansion to burrow: it never parses
// Dockerfile syntax by hand.
package dockerfile

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// ChangeError is a --change value that cannot be applied.
type ChangeError struct {
	Change string
	Reason string
}

func (e *ChangeError) Error() string {
	return fmt.Sprintf("invalid --change %q: %s", e.Change, e.Reason)
}

// changeable lists the instructions `docker import` and `docker commit`
// accept in --change.
var changeable = map[string]bool{
	"cmd": true, "entrypoint": true, "env": true, "expose": true, "label": true, "onbuild": true,
	"user": true, "volume": true, "workdir": true, "stopsignal": true, "healthcheck": true,
	"shell": true,
}

// ApplyChanges applies Dockerfile instructions given with --change to an
// image's config, in order, with the semantics they have in a Dockerfile
// (variables expand against the config's environment; ENTRYPOINT clears a
// CMD not set by the same changes).
func ApplyChanges(cfg *v1.Config, changes []string) error {
	cmdSet := false
	for _, ch := range changes {
		res, err := parser.Parse(strings.NewReader(ch))
		if err != nil {
			return &ChangeError{Change: ch, Reason: err.Error()}
		}
		if len(res.AST.Children) != 1 {
			return &ChangeError{Change: ch, Reason: "give exactly one instruction per --change"}
		}
		node := res.AST.Children[0]
		if !changeable[strings.ToLower(node.Value)] {
			return &ChangeError{Change: ch, Reason: fmt.Sprintf("%s cannot be changed here (hint: use one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL, HEALTHCHECK, SHELL)", strings.ToUpper(node.Value))}
		}
		inst, err := instructions.ParseInstruction(node)
		if err != nil {
			return &ChangeError{Change: ch, Reason: err.Error()}
		}
		if err := apply(cfg, inst, &cmdSet); err != nil {
			return &ChangeError{Change: ch, Reason: err.Error()}
		}
	}
	return nil
}

func apply(cfg *v1.Config, inst any, cmdSet *bool) error {
	if err := Expand(inst, cfg.Env, '\\'); err != nil {
		return err
	}
	return Apply(cfg, inst, cmdSet)
}

// Expand expands the variables in an instruction's words in place, with
// the Dockerfile's rules (buildkit's shell lexer), against vars
// ("KEY=value"; a later entry wins). RUN, CMD and ENTRYPOINT are left to
// the shell, as in Docker.
func Expand(inst any, vars []string, escape rune) error {
	lex := shell.NewLex(escape)
	env := shell.EnvsFromSlice(vars)
	expand := func(word string) (string, error) {
		s, _, err := lex.ProcessWord(word, env)
		return s, err
	}
	if e, ok := inst.(instructions.SupportsSingleWordExpansion); ok {
		if err := e.Expand(expand); err != nil {
			return err
		}
	}
	if e, ok := inst.(instructions.SupportsSingleWordExpansionRaw); ok {
		// Heredoc contents: variables expand, quotes stay as written.
		raw := shell.NewLex('\\')
		raw.SkipProcessQuotes = true
		if err := e.ExpandRaw(func(word string) (string, error) {
			s, _, err := raw.ProcessWord(word, env)
			return s, err
		}); err != nil {
			return err
		}
	}
	if c, ok := inst.(*instructions.ExposeCommand); ok {
		for i, word := range c.Ports {
			p, err := expand(word)
			if err != nil {
				return err
			}
			c.Ports[i] = p
		}
	}
	return nil
}

// Apply applies a metadata instruction, already expanded, to an image
// config. cmdSet says whether CMD was set since the stage began: ENTRYPOINT
// clears a CMD that came from the base image.
func Apply(cfg *v1.Config, inst any, cmdSet *bool) error {
	switch c := inst.(type) {
	case *instructions.CmdCommand:
		cfg.Cmd = commandLine(cfg, c.ShellDependantCmdLine)
		*cmdSet = true
	case *instructions.EntrypointCommand:
		cfg.Entrypoint = commandLine(cfg, c.ShellDependantCmdLine)
		if !*cmdSet {
			cfg.Cmd = nil
		}
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
		}
	case *instructions.ExposeCommand:
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range c.Ports {
			ports, err := ExposedPorts(p)
			if err != nil {
				return err
			}
			for _, port := range ports {
				cfg.ExposedPorts[port] = struct{}{}
			}
		}
	case *instructions.LabelCommand:
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range c.Labels {
			cfg.Labels[kv.Key] = kv.Value
		}
	case *instructions.OnbuildCommand:
		cfg.OnBuild = append(cfg.OnBuild, c.Expression)
	case *instructions.UserCommand:
		cfg.User = c.User
	case *instructions.VolumeCommand:
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range c.Volumes {
			cfg.Volumes[v] = struct{}{}
		}
	case *instructions.WorkdirCommand:
		// A relative WORKDIR is relative to the previous one.
		wd := c.Path
		if !path.IsAbs(wd) {
			wd = path.Join("/", cfg.WorkingDir, wd)
		}
		cfg.WorkingDir = path.Clean(wd)
	case *instructions.StopSignalCommand:
		cfg.StopSignal = c.Signal
	case *instructions.ShellCommand:
		cfg.Shell = append([]string(nil), c.Shell...)
	case *instructions.HealthCheckCommand:
		h := c.Health
		cfg.Healthcheck = &v1.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
	default:
		return fmt.Errorf("internal error: unhandled instruction %T", inst)
	}
	return nil
}

// ExposedPorts expands an EXPOSE word ("80", "53/udp", "8000-8001/tcp")
// into the keys the config records, one per port as Docker records them.
func ExposedPorts(word string) ([]string, error) {
	ports, proto, _ := strings.Cut(word, "/")
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return nil, fmt.Errorf("invalid protocol %q in EXPOSE %s (hint: use tcp, udp or sctp)", proto, word)
	}
	lo, hi, isRange := strings.Cut(ports, "-")
	first, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("invalid port %q in EXPOSE %s", lo, word)
	}
	last := first
	if isRange {
		if last, err = strconv.ParseUint(hi, 10, 16); err != nil || last < first {
			return nil, fmt.Errorf("invalid port range %q in EXPOSE %s", ports, word)
		}
	}
	var out []string
	for p := first; p <= last; p++ {
		out = append(out, fmt.Sprintf("%d/%s", p, proto))
	}
	return out, nil
}

// commandLine turns a CMD or ENTRYPOINT into the argv the config records:
// the shell form runs through the image's SHELL (default /bin/sh -c).
func commandLine(cfg *v1.Config, cl instructions.ShellDependantCmdLine) []string {
	if !cl.PrependShell {
		return append([]string{}, cl.CmdLine...)
	}
	sh := cfg.Shell
	if len(sh) == 0 {
		sh = []string{"/bin/sh", "-c"}
	}
	return append(append([]string{}, sh...), strings.Join(cl.CmdLine, " "))
}

// setEnv sets key=value in an environment list, replacing an existing entry.
func setEnv(env []string, key, value string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}

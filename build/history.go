package build

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/burrow-oci/burrow/build/dockerfile"
)

// The history entries a build writes read as BuildKit's do, so that
// `history` (and `docker history` of a saved image) shows what Docker
// shows: expanded values, and the normalised forms BuildKit prints.

// metadataHistory is the history text of a metadata instruction, already
// expanded and applied to cfg; "" for one that adds no entry (ONBUILD).
func metadataHistory(cmd instructions.Command, cfg *v1.Config) string {
	switch c := cmd.(type) {
	case *instructions.EnvCommand:
		return "ENV" + kvText(c.Env)
	case *instructions.LabelCommand:
		return "LABEL" + kvText(c.Labels)
	case *instructions.CmdCommand:
		return fmt.Sprintf("CMD %q", cfg.Cmd)
	case *instructions.EntrypointCommand:
		return fmt.Sprintf("ENTRYPOINT %q", cfg.Entrypoint)
	case *instructions.HealthCheckCommand:
		return fmt.Sprintf("HEALTHCHECK %+v", *c.Health)
	case *instructions.UserCommand:
		return "USER " + c.User
	case *instructions.VolumeCommand:
		return fmt.Sprintf("VOLUME %v", c.Volumes)
	case *instructions.StopSignalCommand:
		return "STOPSIGNAL " + c.Signal
	case *instructions.ShellCommand:
		return fmt.Sprintf("SHELL %v", c.Shell)
	case *instructions.ExposeCommand:
		var ports []string
		for _, p := range c.Ports {
			// Already validated by Apply; ranges expand as in the config.
			ps, _ := dockerfile.ExposedPorts(p)
			ports = append(ports, ps...)
		}
		return fmt.Sprintf("EXPOSE %v", ports)
	case *instructions.MaintainerCommand:
		return "MAINTAINER " + c.Maintainer
	case *instructions.OnbuildCommand:
		return ""
	}
	return strings.ToUpper(cmd.Name())
}

func kvText(kvs instructions.KeyValuePairs) string {
	var b strings.Builder
	for _, kv := range kvs {
		b.WriteString(" " + kv.Key + "=" + kv.Value)
	}
	return b.String()
}

// copyHistory is a COPY's or ADD's history text: the flags that shape the
// files (--parents, --chown, --chmod), the sources and the destination.
func copyHistory(spec copySpec) string {
	var b strings.Builder
	b.WriteString(spec.Instruction)
	if spec.Parents {
		b.WriteString(" --parents")
	}
	if spec.Chown != "" {
		b.WriteString(" --chown=" + spec.Chown)
	}
	if spec.Chmod != "" {
		b.WriteString(" --chmod=" + spec.Chmod)
	}
	for _, src := range spec.Sources {
		b.WriteString(" " + src)
	}
	for _, in := range spec.Inline {
		b.WriteString(" <<" + in.Path)
	}
	b.WriteString(" " + spec.Dest)
	return b.String()
}

// runHistory is a RUN's history text: the stage's ARGs as the command saw
// them ("|2 A=1 B=2", ENV winning over an ARG), then the command.
func (s *stage) runHistory(argv []string) string {
	env := map[string]string{}
	for _, kv := range s.st.cfg.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var parts []string
	for _, k := range s.argSeq {
		v, ok := env[k]
		if !ok {
			v = s.args[k]
		}
		parts = append(parts, k+"="+v)
	}
	if len(parts) > 0 {
		parts = append([]string{fmt.Sprintf("|%d", len(parts))}, parts...)
	}
	return "RUN " + strings.Join(append(parts, argv...), " ")
}

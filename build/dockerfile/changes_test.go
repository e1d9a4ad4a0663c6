package dockerfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func set(keys ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		m[k] = struct{}{}
	}
	return m
}

func TestApplyChanges(t *testing.T) {
	tests := []struct {
		name    string
		cfg     v1.Config // the config before the changes
		changes []string
		want    v1.Config
		skip    string // a known bug, reported with the input
	}{{
		name:    "no changes",
		cfg:     v1.Config{Cmd: []string{"sh"}, Env: []string{"A=1"}},
		changes: nil,
		want:    v1.Config{Cmd: []string{"sh"}, Env: []string{"A=1"}},
	}, {
		name:    "CMD exec form",
		changes: []string{`CMD ["echo", "hi there"]`},
		want:    v1.Config{Cmd: []string{"echo", "hi there"}},
	}, {
		name:    "CMD shell form",
		changes: []string{`CMD echo "hi"  there`},
		want:    v1.Config{Cmd: []string{"/bin/sh", "-c", `echo "hi"  there`}},
	}, {
		name:    "CMD shell form uses the config's SHELL",
		cfg:     v1.Config{Shell: []string{"/bin/bash", "-eo", "pipefail", "-c"}},
		changes: []string{"CMD echo hi"},
		want: v1.Config{
			Shell: []string{"/bin/bash", "-eo", "pipefail", "-c"},
			Cmd:   []string{"/bin/bash", "-eo", "pipefail", "-c", "echo hi"},
		},
	}, {
		name:    "SHELL earlier in the same changes applies to CMD",
		changes: []string{`SHELL ["/bin/ash", "-c"]`, "CMD echo hi"},
		want: v1.Config{
			Shell: []string{"/bin/ash", "-c"},
			Cmd:   []string{"/bin/ash", "-c", "echo hi"},
		},
	}, {
		name:    "CMD does not expand variables",
		cfg:     v1.Config{Env: []string{"HOME=/root"}},
		changes: []string{"CMD echo $HOME"},
		want:    v1.Config{Env: []string{"HOME=/root"}, Cmd: []string{"/bin/sh", "-c", "echo $HOME"}},
	}, {
		name:    "CMD replaces the config's CMD",
		cfg:     v1.Config{Cmd: []string{"old"}},
		changes: []string{`CMD ["new"]`},
		want:    v1.Config{Cmd: []string{"new"}},
	}, {
		name:    "ENTRYPOINT clears a CMD from the config",
		cfg:     v1.Config{Cmd: []string{"sh"}},
		changes: []string{`ENTRYPOINT ["/entry"]`},
		want:    v1.Config{Entrypoint: []string{"/entry"}},
	}, {
		name:    "ENTRYPOINT shell form",
		changes: []string{"ENTRYPOINT /entry --flag"},
		want:    v1.Config{Entrypoint: []string{"/bin/sh", "-c", "/entry --flag"}},
	}, {
		name:    "ENTRYPOINT keeps a CMD set earlier in the same changes",
		cfg:     v1.Config{Cmd: []string{"sh"}},
		changes: []string{`CMD ["--help"]`, `ENTRYPOINT ["/entry"]`},
		want:    v1.Config{Cmd: []string{"--help"}, Entrypoint: []string{"/entry"}},
	}, {
		name:    "CMD after ENTRYPOINT",
		cfg:     v1.Config{Cmd: []string{"sh"}, Entrypoint: []string{"/old"}},
		changes: []string{`ENTRYPOINT ["/entry"]`, `CMD ["--help"]`},
		want:    v1.Config{Cmd: []string{"--help"}, Entrypoint: []string{"/entry"}},
	}, {
		name:    "ENV key=value",
		changes: []string{`ENV A=1 B="two words" C=three\ words`},
		want:    v1.Config{Env: []string{"A=1", "B=two words", "C=three words"}},
	}, {
		name:    "ENV key value",
		changes: []string{"ENV GREETING hello world"},
		want:    v1.Config{Env: []string{"GREETING=hello world"}},
	}, {
		name:    "ENV replaces an existing variable in place",
		cfg:     v1.Config{Env: []string{"PATH=/bin", "A=old", "Z=z"}},
		changes: []string{"ENV A=new"},
		want:    v1.Config{Env: []string{"PATH=/bin", "A=new", "Z=z"}},
	}, {
		name:    "ENV does not replace a variable whose name only starts the same",
		cfg:     v1.Config{Env: []string{"AB=1"}},
		changes: []string{"ENV A=2"},
		want:    v1.Config{Env: []string{"AB=1", "A=2"}},
	}, {
		name:    "ENV expands variables from the config",
		cfg:     v1.Config{Env: []string{"BASE=/opt", "PATH=/bin"}},
		changes: []string{"ENV PATH=$BASE/bin:${PATH} EMPTY=${UNSET:-dflt}"},
		want:    v1.Config{Env: []string{"BASE=/opt", "PATH=/opt/bin:/bin", "EMPTY=dflt"}},
	}, {
		name:    "ENV sees variables set by earlier changes",
		changes: []string{"ENV A=1", "ENV B=${A}2"},
		want:    v1.Config{Env: []string{"A=1", "B=12"}},
	}, {
		name:    "ENV in one instruction sees the environment before it",
		cfg:     v1.Config{Env: []string{"A=old"}},
		changes: []string{"ENV A=new B=$A"},
		want:    v1.Config{Env: []string{"A=new", "B=old"}},
	}, {
		name:    "ENV single quotes do not expand",
		cfg:     v1.Config{Env: []string{"A=1"}},
		changes: []string{`ENV B='$A'`},
		want:    v1.Config{Env: []string{"A=1", "B=$A"}},
	}, {
		name:    "EXPOSE adds /tcp",
		cfg:     v1.Config{ExposedPorts: set("22/tcp")},
		changes: []string{"EXPOSE 80 443/tcp 53/udp"},
		want:    v1.Config{ExposedPorts: set("22/tcp", "80/tcp", "443/tcp", "53/udp")},
	}, {
		name:    "EXPOSE expands variables",
		cfg:     v1.Config{Env: []string{"PORT=8080"}},
		changes: []string{"EXPOSE $PORT"},
		want:    v1.Config{Env: []string{"PORT=8080"}, ExposedPorts: set("8080/tcp")},
	}, {
		name:    "EXPOSE expands port ranges",
		changes: []string{"EXPOSE 8000-8001"},
		want:    v1.Config{ExposedPorts: set("8000/tcp", "8001/tcp")},
	}, {
		name:    "LABEL",
		cfg:     v1.Config{Labels: map[string]string{"keep": "me", "a": "old"}},
		changes: []string{`LABEL a=b "c d"="e f"`},
		want:    v1.Config{Labels: map[string]string{"keep": "me", "a": "b", "c d": "e f"}},
	}, {
		name:    "LABEL expands variables",
		cfg:     v1.Config{Env: []string{"V=1.2"}},
		changes: []string{"LABEL version=$V"},
		want:    v1.Config{Env: []string{"V=1.2"}, Labels: map[string]string{"version": "1.2"}},
	}, {
		name:    "USER",
		changes: []string{"USER 1000:1000"},
		want:    v1.Config{User: "1000:1000"},
	}, {
		name:    "USER expands variables",
		cfg:     v1.Config{Env: []string{"U=app"}},
		changes: []string{"USER $U"},
		want:    v1.Config{Env: []string{"U=app"}, User: "app"},
	}, {
		name:    "WORKDIR",
		cfg:     v1.Config{WorkingDir: "/old"},
		changes: []string{"WORKDIR /app"},
		want:    v1.Config{WorkingDir: "/app"},
	}, {
		name:    "WORKDIR expands variables",
		cfg:     v1.Config{Env: []string{"BASE=/opt"}},
		changes: []string{"WORKDIR $BASE/app"},
		want:    v1.Config{Env: []string{"BASE=/opt"}, WorkingDir: "/opt/app"},
	}, {
		name:    "relative WORKDIR is relative to the previous one",
		cfg:     v1.Config{WorkingDir: "/app"},
		changes: []string{"WORKDIR sub"},
		want:    v1.Config{WorkingDir: "/app/sub"},
	}, {
		name:    "VOLUME list and JSON forms",
		cfg:     v1.Config{Volumes: set("/old")},
		changes: []string{"VOLUME /data /logs", `VOLUME ["/cache"]`},
		want:    v1.Config{Volumes: set("/old", "/data", "/logs", "/cache")},
	}, {
		name:    "STOPSIGNAL",
		changes: []string{"STOPSIGNAL SIGQUIT"},
		want:    v1.Config{StopSignal: "SIGQUIT"},
	}, {
		name:    "HEALTHCHECK CMD with options",
		changes: []string{"HEALTHCHECK --interval=30s --timeout=5s --start-period=1m --retries=3 CMD curl -f http://localhost/"},
		want: v1.Config{Healthcheck: &v1.HealthConfig{
			Test:        []string{"CMD-SHELL", "curl -f http://localhost/"},
			Interval:    30 * time.Second,
			Timeout:     5 * time.Second,
			StartPeriod: time.Minute,
			Retries:     3,
		}},
	}, {
		name:    "HEALTHCHECK exec form",
		changes: []string{`HEALTHCHECK CMD ["/bin/check", "-q"]`},
		want:    v1.Config{Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/bin/check", "-q"}}},
	}, {
		name:    "HEALTHCHECK NONE",
		cfg:     v1.Config{Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "x"}}},
		changes: []string{"HEALTHCHECK NONE"},
		want:    v1.Config{Healthcheck: &v1.HealthConfig{Test: []string{"NONE"}}},
	}, {
		name:    "ONBUILD appends the trigger",
		cfg:     v1.Config{OnBuild: []string{"RUN first"}},
		changes: []string{"ONBUILD RUN echo hi", "ONBUILD COPY . /src"},
		want:    v1.Config{OnBuild: []string{"RUN first", "RUN echo hi", "COPY . /src"}},
	}, {
		name:    "instructions are case-insensitive",
		changes: []string{"env A=1", "cmd echo hi", "Workdir /w"},
		want:    v1.Config{Env: []string{"A=1"}, Cmd: []string{"/bin/sh", "-c", "echo hi"}, WorkingDir: "/w"},
	}, {
		name:    "a comment before the instruction",
		changes: []string{"# set the user\nUSER nobody"},
		want:    v1.Config{User: "nobody"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			cfg := tt.cfg
			if err := ApplyChanges(&cfg, tt.changes); err != nil {
				t.Fatalf("ApplyChanges(%q): %v", tt.changes, err)
			}
			if !reflect.DeepEqual(cfg, tt.want) {
				t.Errorf("ApplyChanges(%q) =\n%+v\nwant\n%+v", tt.changes, cfg, tt.want)
			}
		})
	}
}

func TestApplyChangesErrors(t *testing.T) {
	tests := []struct {
		name    string
		changes []string
		bad     string   // the change the error must name
		wantIn  []string // substrings of the reason
	}{{
		name:    "RUN",
		changes: []string{"RUN echo hi"},
		bad:     "RUN echo hi",
		wantIn:  []string{"RUN", "cannot be changed"},
	}, {
		name:    "FROM",
		changes: []string{"FROM busybox"},
		bad:     "FROM busybox",
		wantIn:  []string{"FROM"},
	}, {
		name:    "COPY",
		changes: []string{"COPY a b"},
		bad:     "COPY a b",
		wantIn:  []string{"COPY"},
	}, {
		name:    "unknown instruction",
		changes: []string{"FROB x"},
		bad:     "FROB x",
		wantIn:  []string{"FROB"},
	}, {
		name:    "empty string",
		changes: []string{""},
		bad:     "",
	}, {
		name:    "only a comment",
		changes: []string{"# nothing"},
		bad:     "# nothing",
	}, {
		name:    "two instructions in one change",
		changes: []string{"CMD a\nCMD b"},
		bad:     "CMD a\nCMD b",
		wantIn:  []string{"one instruction"},
	}, {
		name:    "ENV without a value",
		changes: []string{"ENV"},
		bad:     "ENV",
	}, {
		name:    "ENV key= syntax error",
		changes: []string{"ENV A=1 B"},
		bad:     "ENV A=1 B",
	}, {
		name:    "EXPOSE without a port",
		changes: []string{"EXPOSE"},
		bad:     "EXPOSE",
	}, {
		name:    "WORKDIR without a path",
		changes: []string{"WORKDIR"},
		bad:     "WORKDIR",
	}, {
		name:    "HEALTHCHECK with bad retries",
		changes: []string{"HEALTHCHECK --retries=many CMD true"},
		bad:     "HEALTHCHECK --retries=many CMD true",
	}, {
		name:    "HEALTHCHECK with a bad interval",
		changes: []string{"HEALTHCHECK --interval=soon CMD true"},
		bad:     "HEALTHCHECK --interval=soon CMD true",
	}, {
		name:    "ONBUILD FROM",
		changes: []string{"ONBUILD FROM busybox"},
		bad:     "ONBUILD FROM busybox",
	}, {
		name:    "the failing change is named, not the first",
		changes: []string{"ENV A=1", "RUN true"},
		bad:     "RUN true",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg v1.Config
			err := ApplyChanges(&cfg, tt.changes)
			if err == nil {
				t.Fatalf("ApplyChanges(%q) succeeded, want an error", tt.changes)
			}
			var ce *ChangeError
			if !errors.As(err, &ce) {
				t.Fatalf("ApplyChanges(%q) error %v is a %T, want *ChangeError", tt.changes, err, err)
			}
			if ce.Change != tt.bad {
				t.Errorf("ChangeError.Change = %q, want %q", ce.Change, tt.bad)
			}
			if ce.Reason == "" {
				t.Error("ChangeError.Reason is empty")
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(ce.Reason, s) {
					t.Errorf("ChangeError.Reason %q does not contain %q", ce.Reason, s)
				}
			}
			if !strings.Contains(err.Error(), "--change") {
				t.Errorf("error %q does not mention --change", err)
			}
		})
	}
}

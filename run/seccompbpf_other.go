//go:build !seccomp || !linux

package run

import (
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// errNoSeccompCompiler: this binary cannot compile filters itself (built
// without the seccomp tag), so libcontainer starts containers with one.
var errNoSeccompCompiler = errors.New("no seccomp compiler")

func compileSeccomp(*specs.LinuxSeccomp) ([]byte, error) { return nil, errNoSeccompCompiler }

func syscallNumber(string) (int32, bool) { return 0, false }

func notifySupported() bool { return false }

package run

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// seccompCacheDir is where compiled filters are kept, under the state
// directory: compiling the default profile is most of a filter's cost,
// and it is the same for every container with the same capabilities.
const seccompCacheDir = "seccomp"

// seccompCacheMax is how many compiled filters the cache holds at most.
const seccompCacheMax = 32

// seccompKey is the text of a profile that its compiled program is kept
// under: everything compileSeccomp reads.
func seccompKey(s *specs.LinuxSeccomp) []byte {
	var b strings.Builder
	b.WriteString("v1 " + string(s.DefaultAction))
	for _, a := range s.Architectures {
		b.WriteString(" " + string(a))
	}
	for _, sc := range s.Syscalls {
		b.WriteString("\n" + string(sc.Action))
		if sc.ErrnoRet != nil {
			b.WriteString(" errno=" + strconv.FormatUint(uint64(*sc.ErrnoRet), 10))
		}
		for _, a := range sc.Args {
			fmt.Fprintf(&b, " arg%d%s%d,%d", a.Index, a.Op, a.Value, a.ValueTwo)
		}
		b.WriteString(" :")
		for _, n := range sc.Names {
			b.WriteString(" " + n)
		}
	}
	return []byte(b.String())
}

// seccompProgram is the BPF program of a profile (nil for none), from the
// cache or compiled; ok is false for a profile the C init cannot load as
// libcontainer would.
func seccompProgram(stateDir string, s *specs.LinuxSeccomp) (bpf []byte, ok bool, err error) {
	if s == nil {
		return nil, true, nil
	}
	// A listener's path is for libcontainer: the C init hands its
	// listener to the parent itself.
	if s.DefaultAction != specs.ActAllow || len(s.Flags) > 0 || s.DefaultErrnoRet != nil ||
		s.ListenerPath != "" && !notifies(s) {
		return nil, false, nil
	}
	for _, sc := range s.Syscalls {
		if sc.Action != specs.ActErrno && sc.Action != specs.ActAllow && sc.Action != specs.ActNotify {
			return nil, false, nil
		}
	}
	sum := sha256.Sum256(seccompKey(s))
	file := filepath.Join(stateDir, seccompCacheDir, hex.EncodeToString(sum[:16])+".bpf")
	if data, err := os.ReadFile(file); err == nil && len(data) > 0 && len(data)%8 == 0 {
		return data, true, nil
	}
	bpf, err = compileSeccomp(s)
	if errors.Is(err, errNoSeccompCompiler) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	// A few profiles are in use at a time (one per set of capabilities):
	// the cache is emptied when it grows beyond that.
	if ents, err := os.ReadDir(filepath.Dir(file)); err == nil && len(ents) >= seccompCacheMax {
		_ = os.RemoveAll(filepath.Dir(file))
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err == nil {
		tmp := file + ".tmp" + strconv.Itoa(os.Getpid())
		if os.WriteFile(tmp, bpf, 0o600) == nil {
			_ = os.Rename(tmp, file)
		}
	}
	return bpf, true, nil
}

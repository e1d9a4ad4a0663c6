//go:build seccomp && linux

package run

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/opencontainers/runc/libcontainer/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// errNoSeccompCompiler: this binary cannot compile filters itself.
var errNoSeccompCompiler = errors.New("no seccomp compiler")

var seccompOps = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual: libseccomp.CompareNotEqual, specs.OpLessThan: libseccomp.CompareLess,
	specs.OpLessEqual: libseccomp.CompareLessOrEqual, specs.OpEqualTo: libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual, specs.OpGreaterThan: libseccomp.CompareGreater,
	specs.OpMaskedEqual: libseccomp.CompareMaskedEqual,
}

// compileSeccomp compiles an allow-by-default profile to a BPF program the
// way libcontainer's init builds its filter (no -ENOSYS stub is needed
// with a default of allow).
func compileSeccomp(s *specs.LinuxSeccomp) ([]byte, error) {
	filter, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		return nil, fmt.Errorf("creating the seccomp filter: %w", err)
	}
	defer filter.Release()
	for _, a := range s.Architectures {
		name, err := seccomp.ConvertStringToArch(string(a))
		if err != nil {
			return nil, err
		}
		arch, err := libseccomp.GetArchFromString(name)
		if err != nil {
			return nil, fmt.Errorf("seccomp architecture %s: %w", a, err)
		}
		if err := filter.AddArch(arch); err != nil {
			return nil, fmt.Errorf("seccomp architecture %s: %w", a, err)
		}
	}
	if len(s.Syscalls) > 32 {
		_ = filter.SetOptimize(2)
	}
	if err := filter.SetNoNewPrivsBit(false); err != nil {
		return nil, err
	}
	for _, sc := range s.Syscalls {
		if sc.Action == specs.ActAllow {
			continue // the default
		}
		act := libseccomp.ActErrno.SetReturnCode(1)
		if sc.Action == specs.ActNotify {
			act = libseccomp.ActNotify
		} else if sc.ErrnoRet != nil {
			act = libseccomp.ActErrno.SetReturnCode(int16(*sc.ErrnoRet))
		}
		var conds []libseccomp.ScmpCondition
		perArg := map[uint]int{}
		for _, a := range sc.Args {
			op, ok := seccompOps[a.Op]
			if !ok {
				return nil, fmt.Errorf("seccomp operator %s", a.Op)
			}
			c, err := libseccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
			if err != nil {
				return nil, err
			}
			conds = append(conds, c)
			perArg[a.Index]++
		}
		shared := false
		for _, n := range perArg {
			shared = shared || n > 1
		}
		for _, name := range sc.Names {
			nr, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				continue // not a call of this kernel's, as libcontainer skips it
			}
			switch {
			case len(conds) == 0:
				err = filter.AddRule(nr, act)
			case shared:
				// Conditions on one argument are separate rules, as
				// libcontainer adds them.
				for _, c := range conds {
					if err = filter.AddRuleConditional(nr, act, []libseccomp.ScmpCondition{c}); err != nil {
						break
					}
				}
			default:
				err = filter.AddRuleConditional(nr, act, conds)
			}
			if err != nil {
				return nil, fmt.Errorf("seccomp rule for %s: %w", name, err)
			}
		}
	}
	return exportBPF(filter)
}

// exportBPF writes the filter's program to memory (libseccomp before 2.6
// exports only to a file descriptor).
func exportBPF(filter *libseccomp.ScmpFilter) ([]byte, error) {
	fd, err := unix.MemfdCreate("seccomp", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "seccomp")
	defer f.Close()
	if err := filter.ExportBPF(f); err != nil {
		return nil, fmt.Errorf("exporting the seccomp filter: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

// syscallNumber is the native number of a system call.
func syscallNumber(name string) (int32, bool) {
	nr, err := libseccomp.GetSyscallFromName(name)
	return int32(nr), err == nil
}

// notifySupported reports whether the kernel (and libseccomp) support
// seccomp user notification.
var notifySupported = sync.OnceValue(func() bool {
	api, err := libseccomp.GetAPI()
	return err == nil && api >= 5
})

package run

import (
	"runtime"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The seccomp protection every container gets unless --privileged or
// --security-opt seccomp=unconfined: the system calls Docker's default
// profile refuses (its documentation lists them), refused with EPERM,
// each released by the capability that makes it legitimate. It is written
// as a deny list on an allow-by-default filter, so that new harmless
// system calls keep working.
var (
	deniedAlways = []string{
		"create_module", "get_kernel_syms", "query_module", "nfsservctl", "uselib", "ustat",
		"sysfs", "_sysctl", "vm86", "vm86old", "lookup_dcookie", "kexec_file_load", "kexec_load",
		"userfaultfd",
	}
	deniedUnless = map[string][]string{
		"CAP_SYS_ADMIN": {"mount", "umount", "umount2", "pivot_root", "setns", "unshare", "swapon",
			"swapoff", "quotactl", "name_to_handle_at", "open_by_handle_at", "fanotify_init",
			"keyctl", "add_key", "request_key", "bpf", "perf_event_open", "fsopen", "fsconfig",
			"fsmount", "fspick", "move_mount", "open_tree", "mount_setattr"},
		"CAP_SYS_PTRACE": {"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd"},
		"CAP_SYS_MODULE": {"init_module", "finit_module", "delete_module"},
		"CAP_SYS_TIME":   {"settimeofday", "stime", "clock_settime", "clock_adjtime", "adjtimex"},
		"CAP_SYS_BOOT":   {"reboot"},
		"CAP_SYS_PACCT":  {"acct"},
		"CAP_SYS_RAWIO":  {"iopl", "ioperm"},
		"CAP_SYS_NICE":   {"mbind", "set_mempolicy", "move_pages", "get_mempolicy"},
		"CAP_SYSLOG":     {"syslog"},
	}
	// Namespace flags of clone, refused without CAP_SYS_ADMIN.
	cloneNamespaceFlags = []uint64{unix.CLONE_NEWNS, unix.CLONE_NEWUTS, unix.CLONE_NEWIPC,
		unix.CLONE_NEWUSER, unix.CLONE_NEWPID, unix.CLONE_NEWNET, unix.CLONE_NEWCGROUP}
)

// hostArches lists the system-call ABIs a process on this host can use:
// the native one and the compatibility ones the kernel also serves (a
// 64-bit x86 process can make 32-bit calls through int 0x80, so a filter
// must cover them too). Foreign ABIs are left out: they cannot reach this
// kernel, and every architecture in a filter multiplies the time libseccomp
// takes to compile it, which every container start pays.
func hostArches() []specs.Arch {
	switch runtime.GOARCH {
	case "amd64":
		return []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	case "arm64":
		return []specs.Arch{specs.ArchAARCH64, specs.ArchARM}
	case "386":
		return []specs.Arch{specs.ArchX86}
	case "arm":
		return []specs.Arch{specs.ArchARM}
	case "ppc64le":
		return []specs.Arch{specs.ArchPPC64LE}
	case "s390x":
		return []specs.Arch{specs.ArchS390X, specs.ArchS390}
	case "riscv64":
		return []specs.Arch{specs.ArchRISCV64}
	}
	return nil
}

// defaultSeccomp builds the default filter for a process with caps.
func defaultSeccomp(caps []string) *specs.LinuxSeccomp {
	has := map[string]bool{}
	for _, c := range caps {
		has[c] = true
	}
	eperm := uint(unix.EPERM)
	names := append([]string(nil), deniedAlways...)
	// In a fixed order: the compiled filter is cached by the profile's
	// text (see seccompProgram).
	capNames := make([]string, 0, len(deniedUnless))
	for c := range deniedUnless {
		capNames = append(capNames, c)
	}
	sort.Strings(capNames)
	for _, c := range capNames {
		if !has[c] {
			names = append(names, deniedUnless[c]...)
		}
	}
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: hostArches(),
		Syscalls:      []specs.LinuxSyscall{{Names: names, Action: specs.ActErrno, ErrnoRet: &eperm}},
	}
	if !has["CAP_SYS_ADMIN"] {
		for _, flag := range cloneNamespaceFlags {
			s.Syscalls = append(s.Syscalls, specs.LinuxSyscall{
				Names: []string{"clone"}, Action: specs.ActErrno, ErrnoRet: &eperm,
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: flag, ValueTwo: flag, Op: specs.OpMaskedEqual}},
			})
		}
		// clone3 passes its flags in memory, where a filter cannot look:
		// ENOSYS makes the C library fall back to clone, as Docker does.
		enosys := uint(unix.ENOSYS)
		s.Syscalls = append(s.Syscalls, specs.LinuxSyscall{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys})
	}
	return s
}

// mergeSeccomp adds the rules of extra to base (extra's rules are more
// specific, so they come first).
func mergeSeccomp(base, extra *specs.LinuxSeccomp) *specs.LinuxSeccomp {
	if base == nil {
		return extra
	}
	out := *base
	out.Syscalls = append(append([]specs.LinuxSyscall(nil), extra.Syscalls...), base.Syscalls...)
	return &out
}

package userns

/*
#include <stdlib.h>
const char *const *burrow_userns_table(int which);
int burrow_userns_needs(int argc, char **argv);
int burrow_userns_config_file(int i, char *out, size_t outlen);
void burrow_userns_requested_mode(char *out, size_t outlen);
*/
import "C"

import (
	"unsafe"
)

// This file shows Go what the C constructor (nsenter_linux.go) knows of
// the command line and the configuration, so that a test can keep those
// copies in step with their owners: the command tree in commands and the
// search path in config (commands' TestConstructor*). _test files cannot
// use cgo, hence these small exported wrappers.

// Tables are the constructor's lists.
type Tables struct {
	// NoNamespace are the commands that never enter a namespace (help,
	// version, a container's init).
	NoNamespace []string
	// Groups are the commands whose subcommand decides.
	Groups []string
	// Light are the commands, and subcommands of a group, that read only
	// the user's own files: they map the caller's id alone.
	Light []string
	// ValuedFlags are the global flags followed by a value ("--root").
	ValuedFlags []string
	// BareFlags ask for help, the version or completions.
	BareFlags []string
}

// ConstructorTables returns the constructor's lists.
func ConstructorTables() Tables {
	return Tables{
		NoNamespace: cTable(0),
		Groups:      cTable(1),
		Light:       cTable(2),
		ValuedFlags: cTable(3),
		BareFlags:   cTable(4),
	}
}

func cTable(which int) []string {
	var out []string
	p := C.burrow_userns_table(C.int(which))
	for ; p != nil && *p != nil; p = (**C.char)(unsafe.Add(unsafe.Pointer(p), unsafe.Sizeof(*p))) {
		out = append(out, C.GoString(*p))
	}
	return out
}

// Need is what the constructor guesses a command line needs.
type Need int

// The needs.
const (
	NeedNone  Need = 0 // no namespace
	NeedFull  Need = 1 // the full mapping when there is one
	NeedLight Need = 2 // the caller's id alone: it reads only the user's files
)

// Needs is the constructor's guess for args (args[0] is the program).
func Needs(args []string) Need {
	argv := make([]*C.char, len(args)+1)
	for i, a := range args {
		argv[i] = C.CString(a)
		defer C.free(unsafe.Pointer(argv[i]))
	}
	return Need(C.burrow_userns_needs(C.int(len(args)), &argv[0]))
}

// ConfigFiles lists the files the constructor reads the userns key from,
// in order, with this process's environment.
func ConfigFiles() []string {
	var out []string
	var path [4096]C.char
	for i := 0; C.burrow_userns_config_file(C.int(i), &path[0], C.size_t(len(path))) == 1; i++ {
		out = append(out, C.GoString(&path[0]))
	}
	return out
}

// RequestedMode is the mode the constructor asks for with this process's
// environment and configuration files.
func RequestedMode() Mode {
	var out [32]C.char
	C.burrow_userns_requested_mode(&out[0], C.size_t(len(out)))
	return Mode(C.GoString(&out[0]))
}

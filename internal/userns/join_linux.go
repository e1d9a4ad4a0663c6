package userns

/*
extern int burrow_userns_deferred;
*/
import "C"

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// envJoin names, for the constructor of a re-executed burrow, the
// descriptor of the user namespace to join instead of making one.
const envJoin = "_BURROW_USERNS_JOIN"

// nsGetOwnerUID is the ioctl NS_GET_OWNER_UID of linux/nsfs.h: the uid
// that created a user namespace.
const nsGetOwnerUID = 0xb704

// deferred reports whether the constructor left this process outside any
// namespace because it runs a container in another's network (see
// burrow_userns_deferred in nsenter_linux.go).
func deferred() bool { return C.burrow_userns_deferred == 1 }

// joinContainer re-executes this process in the user namespace of the
// running container ref, whose network namespace (owned by that user
// namespace) the new container joins. It returns nil when it cannot find
// a process to join (no such container, not running, not the caller's):
// the caller then enters a namespace of its own and the container's
// creation reports why in its own words, with the store at hand.
func joinContainer(ref string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the burrow executable: %w", err)
	}
	pid := containerPid(self, ref)
	if pid <= 0 {
		return nil
	}
	fd, err := syscall.Open(fmt.Sprintf("/proc/%d/ns/user", pid), syscall.O_RDONLY, 0)
	if err != nil {
		return nil // the container ended meanwhile
	}
	if !ownUserNS(fd) {
		syscall.Close(fd)
		return nil
	}
	env := append(os.Environ(), envJoin+"="+strconv.Itoa(fd))
	err = syscall.Exec(self, os.Args, env)
	syscall.Close(fd)
	return fmt.Errorf("re-executing %s in the user namespace of container %s: %w", self, ref, err)
}

// containerPid asks a burrow with this command line's global flags for
// the pid of container ref's process (0 when it does not run or cannot
// be found): `container inspect` reads the store in a namespace of its
// own, and the caller, still outside, can then open the process's.
func containerPid(self, ref string) int {
	args := append(globalArgs(os.Args[1:]), "container", "inspect", "--format", "{{.State.Pid}}", ref)
	cmd := exec.Command(self, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		return 0
	}
	return pid
}

// globalArgs are the global flags at the start of args (those before the
// command), as the constructor reads them.
func globalArgs(args []string) []string {
	valued := ConstructorTables().ValuedFlags
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		for _, v := range valued {
			if args[i] == v {
				i++
				break
			}
		}
		i++
	}
	return append([]string(nil), args[:min(i, len(args))]...)
}

// ownUserNS reports whether the user namespace open at fd is one the
// caller made (so that it may join it) and not the one it is in: a pid
// reused by another process fails one or the other.
func ownUserNS(fd int) bool {
	var owner uint32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), nsGetOwnerUID, uintptr(unsafe.Pointer(&owner)))
	if errno != 0 || int(owner) != os.Getuid() {
		return false
	}
	var st, self syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || syscall.Stat("/proc/self/ns/user", &self) != nil {
		return false
	}
	return st.Dev != self.Dev || st.Ino != self.Ino
}

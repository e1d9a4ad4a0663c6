// The steps of a container's program, as program.go encodes them: each is
// a u64 code followed by its operands (u64s, and strings or byte strings
// as a u64 length and the bytes, strings with their NUL).
#ifndef BURROW_CINIT_H
#define BURROW_CINIT_H
#include <stddef.h>

enum {
	STEP_SETNS = 1,     // path, CLONE_NEW* type
	STEP_ROOT,          // path of the root filesystem (bound onto itself)
	STEP_MOUNT,         // src, dst, type, flags, data, propagation, create (0, 1 dir, 2 file)
	STEP_MKDIR,         // path, mode
	STEP_SYMLINK,       // target, path
	STEP_PIVOT,         //
	STEP_MASK,          // path (after the pivot)
	STEP_READONLY,      // path (after the pivot)
	STEP_ROOT_READONLY, //
	STEP_HOSTNAME,      // name
	STEP_RLIMIT,        // resource, soft, hard
	STEP_SECCOMP,       // BPF program (bytes), listen (send a listener over sfd)
	STEP_USER,          // uid, gid, setgroups, n, n gids
	STEP_CAPS,          // bounding, effective, permitted, inheritable, ambient, no_new_privs
	STEP_ARG,           // string
	STEP_ENV,           // string
	STEP_CWD,           // path
};

// burrow_cinit_start forks this process into the namespaces flags create
// and runs the program in buf there; it returns the child's pid, or
// -errno. The child reports a failure on efd (errno, NUL, what, NUL) and
// waits for a byte on gofd before it executes the command. A filter that
// asks for a listener sends it over sfd.
int burrow_cinit_start(const char *buf, size_t len, unsigned long flags, int in, int out, int err, int gofd, int efd,
		       int sfd);

#endif

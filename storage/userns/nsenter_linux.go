package userns

/*
#cgo CFLAGS: -Wall -O2
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

// burrow_userns_state is 0 when no user namespace was asked for, 1 when this
// process entered one before the Go runtime started, -1 when that failed
// (burrow_userns_err then says why and burrow_userns_errno holds errno).
int burrow_userns_state;
int burrow_userns_errno;
char burrow_userns_err[1024];

static void fail(const char *what, int err) {
	burrow_userns_state = -1;
	burrow_userns_errno = err;
	snprintf(burrow_userns_err, sizeof burrow_userns_err, "%s", what);
}

static int write_file(const char *path, const char *data) {
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	ssize_t n = write(fd, data, strlen(data));
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(data) ? 0 : -1;
}

// run_mapper runs "prog pid args..." with its stderr sent to errfd and
// returns its exit status (or -1 when it could not be started).
static int run_mapper(const char *prog, pid_t pid, const char *args, int errfd) {
	char *argv[260];
	char pidbuf[32];
	char *copy = strdup(args);
	int argc = 0;
	if (copy == NULL) return -1;
	snprintf(pidbuf, sizeof pidbuf, "%d", (int)pid);
	argv[argc++] = (char *)prog;
	argv[argc++] = pidbuf;
	for (char *tok = strtok(copy, " "); tok != NULL && argc < 258; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	pid_t child = fork();
	if (child < 0) { free(copy); return -1; }
	if (child == 0) {
		dup2(errfd, 1);
		dup2(errfd, 2);
		execvp(prog, argv);
		dprintf(errfd, "%s: %s", prog, strerror(errno));
		_exit(127);
	}
	free(copy);
	int st;
	while (waitpid(child, &st, 0) < 0) {
		if (errno != EINTR) return -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

// enter_full unshares a user and mount namespace and has a helper forked
// beforehand (so that it stays in the parent namespace) map the ranges with
// the setuid newuidmap and newgidmap. No exec follows the unshare, so this
// process keeps the full capability set the new namespace gives it.
static void enter_full(const char *uidmap, const char *gidmap) {
	int go[2], errp[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		fail("creating a pipe", errno);
		return;
	}
	pid_t parent = getpid();
	pid_t helper = fork();
	if (helper < 0) {
		fail("forking the id-mapping helper", errno);
		return;
	}
	if (helper == 0) {
		char c;
		close(go[1]);
		close(errp[0]);
		if (read(go[0], &c, 1) != 1) _exit(2);
		if (run_mapper("newuidmap", parent, uidmap, errp[1]) != 0) _exit(3);
		if (run_mapper("newgidmap", parent, gidmap, errp[1]) != 0) _exit(4);
		_exit(0);
	}
	close(go[0]);
	close(errp[1]);
	int unshare_err = 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) unshare_err = errno;
	if (unshare_err == 0) {
		if (write(go[1], "x", 1) != 1) unshare_err = errno;
	}
	close(go[1]);
	char msg[800] = "";
	ssize_t n, total = 0;
	while ((n = read(errp[0], msg + total, sizeof msg - 1 - total)) > 0) total += n;
	msg[total] = 0;
	while (total > 0 && (msg[total - 1] == '\n' || msg[total - 1] == ' ')) msg[--total] = 0;
	close(errp[0]);
	int st = 0;
	while (waitpid(helper, &st, 0) < 0) {
		if (errno != EINTR) break;
	}
	if (unshare_err != 0) {
		fail("unshare", unshare_err);
		return;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char what[1000];
		snprintf(what, sizeof what, "mapping ids with %s: %s",
			WIFEXITED(st) && WEXITSTATUS(st) == 4 ? "newgidmap" : "newuidmap",
			msg[0] ? msg : "the helper failed");
		fail(what, 0);
		return;
	}
	burrow_userns_state = 1;
}

// enter_single maps the caller's own uid and gid to root, which needs no
// helper: a process may map its own id once setgroups is denied.
static void enter_single(void) {
	char buf[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		fail("unshare", errno);
		return;
	}
	if (write_file("/proc/self/setgroups", "deny") < 0) {
		fail("writing /proc/self/setgroups", errno);
		return;
	}
	snprintf(buf, sizeof buf, "0 %u 1\n", (unsigned)uid);
	if (write_file("/proc/self/uid_map", buf) < 0) {
		fail("writing /proc/self/uid_map", errno);
		return;
	}
	snprintf(buf, sizeof buf, "0 %u 1\n", (unsigned)gid);
	if (write_file("/proc/self/gid_map", buf) < 0) {
		fail("writing /proc/self/gid_map", errno);
		return;
	}
	burrow_userns_state = 1;
}

// burrow_userns_enter runs before the Go runtime starts (and so while the
// process has a single thread, which unshare(CLONE_NEWUSER) requires). It
// does nothing unless the re-executing parent asked for it through the
// environment.
__attribute__((constructor)) static void burrow_userns_enter(void) {
	const char *mode = getenv("_BURROW_USERNS");
	if (mode == NULL || mode[0] == 0) return;
	if (strcmp(mode, "single") == 0) {
		enter_single();
	} else if (strcmp(mode, "full") == 0) {
		const char *u = getenv("_BURROW_UIDMAP"), *g = getenv("_BURROW_GIDMAP");
		if (u == NULL || g == NULL) {
			fail("internal error: _BURROW_UIDMAP or _BURROW_GIDMAP unset", 0);
			return;
		}
		enter_full(u, g);
	}
}
*/
import "C"

import (
	"fmt"
	"syscall"
)

// constructorResult reports what the C constructor did: whether it entered a
// namespace and, if it failed, why.
func constructorResult() (entered bool, err error) {
	switch C.burrow_userns_state {
	case 1:
		return true, nil
	case -1:
		msg := C.GoString(&C.burrow_userns_err[0])
		if e := syscall.Errno(C.burrow_userns_errno); e != 0 {
			return false, &EnterError{What: msg, Errno: e}
		}
		return false, &EnterError{What: msg}
	}
	return false, nil
}

// EnterError is a failure to enter the user namespace.
type EnterError struct {
	What  string
	Errno syscall.Errno
}

func (e *EnterError) Error() string {
	if e.Errno != 0 {
		return fmt.Sprintf("entering a user namespace: %s: %v", e.What, e.Errno)
	}
	return "entering a user namespace: " + e.What
}

func (e *EnterError) Unwrap() error {
	if e.Errno != 0 {
		return e.Errno
	}
	return nil
}

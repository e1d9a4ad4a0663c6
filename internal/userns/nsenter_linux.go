package userns

/*
#cgo CFLAGS: -Wall -O2
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

// What the constructor did, for the Go side (see constructorResult):
//   state 0: nothing (root, already inside, or a command that needs no
//            namespace); 1: entered; -1: failed (err, errno say why);
//   -2: full mode was required but is not available (fallback says why);
//   2: entered, the ids still being mapped (burrow_userns_wait finishes).
int burrow_userns_state;
int burrow_userns_errno;
char burrow_userns_err[1024];
char burrow_userns_mode[16];
char burrow_userns_user[256];
char burrow_userns_uidmap[1024];
char burrow_userns_gidmap[1024];
char burrow_userns_fallback[512];
// burrow_userns_light is 1 when a command that reads only the user's own
// files entered with the caller's id alone although full mapping was
// available: it skips the setuid mappers, the slowest part of entering.
int burrow_userns_light;
unsigned burrow_userns_hostuid, burrow_userns_hostgid;

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

// read_small reads at most size-1 bytes of a file into buf; -1 on error.
static ssize_t read_small(const char *path, char *buf, size_t size) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	ssize_t total = 0, n;
	while (total < (ssize_t)size - 1 && (n = read(fd, buf + total, size - 1 - total)) > 0) total += n;
	close(fd);
	buf[total] = 0;
	return total;
}

// The constructor's tables: what it knows of the command line, before any
// Go code runs. The command tree in commands owns these facts; the
// TestConstructor* tests there check these copies against it, through
// ConstructorTables and Needs (tables_linux.go).
//
// no_ns_cmds never enter: help, version, and the init of --init, which
// runs inside a container.
// __netswitch, a network's switch, never opens the store (it runs in the
// namespace of the member that started it).
static const char *const no_ns_cmds[] = {"version", "help", "h", "__init", "__netswitch", NULL};
// group_cmds are followed by a subcommand, which decides.
static const char *const group_cmds[] = {"image", "container", "volume", "network", NULL};
// light_cmds read or signal but never write files of other owners: they
// need no subordinate range (see burrow_userns_light). Subcommands of a
// group count too.
static const char *const light_cmds[] = {"images", "ps", "inspect", "history", "logs", "exec", "wait",
	"stop", "kill", "top", "port", "attach", "ls", "list", "exists", NULL};
// valued_flags are the global flags followed by a value.
static const char *const valued_flags[] = {"--root", "--runroot", "--storage-driver", "--log-level", "-l", NULL};
// bare_flags ask for help, the version or completions: no namespace unless
// a group came first.
static const char *const bare_flags[] = {"-h", "--help", "-v", "--version", "--generate-bash-completion", NULL};

static int in_table(const char *const *table, const char *s) {
	for (int i = 0; table[i]; i++)
		if (!strcmp(s, table[i])) return 1;
	return 0;
}

// burrow_userns_table returns one of the tables above, for the Go side
// (tables_linux.go).
const char *const *burrow_userns_table(int which) {
	switch (which) {
	case 0: return no_ns_cmds;
	case 1: return group_cmds;
	case 2: return light_cmds;
	case 3: return valued_flags;
	case 4: return bare_flags;
	}
	return NULL;
}

// needs_namespace tells from the command line whether this invocation can
// touch the store: 0 no, 2 only to read the user's own files, 1 fully. A
// command the guess misses re-executes itself with _BURROW_USERNS_FORCE.
static int needs_namespace(int argc, char **argv) {
	const char *group = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-') {
			if (group == NULL && in_table(group_cmds, a)) {
				group = a;
				continue;
			}
			if (group == NULL && in_table(no_ns_cmds, a))
				return 0;
			return in_table(light_cmds, a) ? 2 : 1;
		}
		if (in_table(bare_flags, a))
			return group ? 1 : 0;
		if (in_table(valued_flags, a)) i++;
	}
	return group ? 1 : 0; // no command: help
}

// config_userns finds a top-level `userns = "..."` in a config file. The Go
// side parses the whole file later and checks that it agrees.
static void config_userns(const char *path, char *out, size_t outlen) {
	char buf[16384];
	if (read_small(path, buf, sizeof buf) < 0) return;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		while (isspace((unsigned char)*line)) line++;
		if (*line == '[') return; // tables start: no more top-level keys
		if (strncmp(line, "userns", 6)) continue;
		char *p = line + 6;
		while (isspace((unsigned char)*p)) p++;
		if (*p++ != '=') continue;
		while (isspace((unsigned char)*p)) p++;
		char q = *p;
		if (q != '"' && q != '\'') continue;
		char *end = strchr(p + 1, q);
		if (!end) continue;
		*end = 0;
		snprintf(out, outlen, "%s", p + 1);
	}
}

// The configuration's search path, as config.Files has it.
static const char system_config[] = "/etc/burrow/config.toml";
#define MAX_CONFIG_FILES 3

// config_files fills paths with the files the userns key is read from, in
// order (a later one overrides an earlier one), and returns how many.
static int config_files(char paths[MAX_CONFIG_FILES][4096]) {
	const char *v;
	int n = 0;
	snprintf(paths[n++], 4096, "%s", system_config);
	if ((v = getenv("XDG_CONFIG_HOME")) && *v)
		snprintf(paths[n++], 4096, "%s/burrow/config.toml", v);
	else if ((v = getenv("HOME")) && *v)
		snprintf(paths[n++], 4096, "%s/.config/burrow/config.toml", v);
	if ((v = getenv("BURROW_CONFIG")) && *v) snprintf(paths[n++], 4096, "%s", v);
	return n;
}

// requested_mode is the mode the configuration asks for: the userns key of
// the last file that sets it, or BURROW_USERNS.
static void requested_mode(char *out, size_t outlen) {
	char paths[MAX_CONFIG_FILES][4096];
	const char *v;
	int n = config_files(paths);
	snprintf(out, outlen, "auto");
	for (int i = 0; i < n; i++) config_userns(paths[i], out, outlen);
	if ((v = getenv("BURROW_USERNS")) && *v) snprintf(out, outlen, "%s", v);
}

// For the Go side (tables_linux.go): the functions above, callable from
// another file of the package.
int burrow_userns_needs(int argc, char **argv) { return needs_namespace(argc, argv); }
int burrow_userns_config_file(int i, char *out, size_t outlen) {
	char paths[MAX_CONFIG_FILES][4096];
	if (i < 0 || i >= config_files(paths)) return 0;
	snprintf(out, outlen, "%s", paths[i]);
	return 1;
}
void burrow_userns_requested_mode(char *out, size_t outlen) { requested_mode(out, outlen); }

// user_name finds the name of uid in /etc/passwd ("" if it is not there,
// e.g. a directory-service user: /etc/subuid may then name the uid).
static void user_name(uid_t uid, char *out, size_t outlen) {
	static char buf[1 << 16];
	out[0] = 0;
	if (read_small("/etc/passwd", buf, sizeof buf) < 0) return;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *c1 = strchr(line, ':');
		if (!c1) continue;
		char *c2 = strchr(c1 + 1, ':');
		if (!c2) continue;
		if ((uid_t)strtoul(c2 + 1, NULL, 10) == uid && c2[1] != ':') {
			*c1 = 0;
			snprintf(out, outlen, "%s", line);
			return;
		}
	}
}

// sub_ranges builds newuidmap arguments ("0 HOST 1 1 START COUNT ...") from
// the ranges a subordinate-id file gives to name or uid; 0 when none.
static int sub_ranges(const char *path, const char *name, uid_t uid, unsigned host, char *out, size_t outlen) {
	static char buf[1 << 16];
	char uidstr[32];
	unsigned long next = 1;
	int found = 0;
	snprintf(uidstr, sizeof uidstr, "%u", (unsigned)uid);
	if (read_small(path, buf, sizeof buf) < 0) return 0;
	size_t len = snprintf(out, outlen, "0 %u 1", host);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *c1 = strchr(line, ':');
		if (!c1 || line[0] == '#') continue;
		*c1 = 0;
		if (strcmp(line, uidstr) && (!name[0] || strcmp(line, name))) continue;
		char *end;
		unsigned long start = strtoul(c1 + 1, &end, 10);
		if (*end != ':') continue;
		unsigned long count = strtoul(end + 1, &end, 10);
		if (count == 0 || (*end && !isspace((unsigned char)*end))) continue;
		len += snprintf(out + len, outlen > len ? outlen - len : 0, " %lu %lu %lu", next, start, count);
		next += count;
		found = 1;
	}
	return found && len < outlen;
}

static int in_path(const char *prog) {
	const char *path = getenv("PATH");
	char buf[4096];
	if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	for (const char *p = path; *p;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, prog);
		if (access(buf, X_OK) == 0) return 1;
		if (!colon) break;
		p = colon + 1;
	}
	return 0;
}

// spawn_mapper starts "prog pid args..." with its output sent to errfd.
static pid_t spawn_mapper(const char *prog, pid_t pid, const char *args, int errfd) {
	char *argv[260];
	char pidbuf[32];
	char copy[1024];
	int argc = 0;
	snprintf(copy, sizeof copy, "%s", args);
	snprintf(pidbuf, sizeof pidbuf, "%d", (int)pid);
	argv[argc++] = (char *)prog;
	argv[argc++] = pidbuf;
	for (char *tok = strtok(copy, " "); tok != NULL && argc < 258; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	pid_t child = fork();
	if (child == 0) {
		dup2(errfd, 1);
		dup2(errfd, 2);
		execvp(prog, argv);
		dprintf(errfd, "%s: %s", prog, strerror(errno));
		_exit(127);
	}
	return child;
}

static int wait_status(pid_t pid) {
	int st;
	if (pid < 0) return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

// The id-mapping helper of full mode, while it runs: the constructor
// does not wait for it, so that newuidmap and newgidmap run while the Go
// runtime starts; burrow_userns_wait (called first by the Go side, before
// anything depends on the ids) collects it.
static pid_t mapper_pid = -1;
static int mapper_errfd = -1;
static int mapper_unshare_err;

// enter_full unshares a user and mount namespace and has a helper forked
// beforehand (so that it stays in the parent namespace) run the setuid
// newuidmap and newgidmap, side by side. No exec follows the unshare, so
// this process keeps the full capability set the new namespace gives it.
// The helper is collected by burrow_userns_wait.
static void enter_full(void) {
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
		pid_t u = spawn_mapper("newuidmap", parent, burrow_userns_uidmap, errp[1]);
		pid_t g = spawn_mapper("newgidmap", parent, burrow_userns_gidmap, errp[1]);
		int us = wait_status(u), gs = wait_status(g);
		_exit(us != 0 ? 3 : gs != 0 ? 4 : 0);
	}
	close(go[0]);
	close(errp[1]);
	int unshare_err = 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) unshare_err = errno;
	if (unshare_err == 0 && write(go[1], "x", 1) != 1) unshare_err = errno;
	close(go[1]);
	mapper_pid = helper;
	mapper_errfd = errp[0];
	mapper_unshare_err = unshare_err;
	burrow_userns_state = 2; // pending: burrow_userns_wait finishes
}

// burrow_userns_wait waits for the id-mapping helper enter_full started, if
// any, and sets the state from its result.
void burrow_userns_wait(void) {
	if (mapper_pid < 0) return;
	char msg[800] = "";
	ssize_t n, total = 0;
	while ((n = read(mapper_errfd, msg + total, sizeof msg - 1 - total)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0) total += n;
	msg[total] = 0;
	while (total > 0 && (msg[total - 1] == '\n' || msg[total - 1] == ' ')) msg[--total] = 0;
	for (char *p = msg; *p; p++)
		if (*p == '\n') *p = ' ';
	close(mapper_errfd);
	int st = wait_status(mapper_pid);
	mapper_pid = -1;
	if (mapper_unshare_err != 0) {
		fail("unshare", mapper_unshare_err);
		return;
	}
	if (st != 0) {
		char what[1000];
		snprintf(what, sizeof what, "mapping ids with %s: %s", st == 4 ? "newgidmap" : "newuidmap",
			msg[0] ? msg : "the helper failed");
		fail(what, 0);
		return;
	}
	burrow_userns_state = 1;
}

// enter_single maps the caller's own uid and gid to root, which needs no
// helper: a process may map its own id once setgroups is denied.
static void enter_single(void) {
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		fail("unshare", errno);
		return;
	}
	if (write_file("/proc/self/setgroups", "deny") < 0) {
		fail("writing /proc/self/setgroups", errno);
		return;
	}
	char buf[sizeof burrow_userns_uidmap + 2];
	snprintf(buf, sizeof buf, "%s\n", burrow_userns_uidmap);
	if (write_file("/proc/self/uid_map", buf) < 0) {
		fail("writing /proc/self/uid_map", errno);
		return;
	}
	snprintf(buf, sizeof buf, "%s\n", burrow_userns_gidmap);
	if (write_file("/proc/self/gid_map", buf) < 0) {
		fail("writing /proc/self/gid_map", errno);
		return;
	}
	burrow_userns_state = 1;
}

// Joining another container's network (`run --network container:NAME`):
// the namespace belongs to the user namespace of the invocation that made
// it, and setns into a user namespace works only from outside, for its
// owner. So the constructor leaves such a `run` outside (deferred), the
// Go side (join_linux.go) finds the container's process and re-executes
// with _BURROW_USERNS_JOIN naming a descriptor of its user namespace, and
// the constructor of that process joins it instead of making one.
int burrow_userns_deferred;

// joins_container_network tells whether the command line is `run` (or
// `container run`) with --network/--net container:...; it may say yes for
// an argument of the container's command, which then costs one
// re-execution (the Go side decides from the parsed flags).
static int joins_container_network(int argc, char **argv) {
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++)
		if (in_table(valued_flags, argv[i])) i++;
	if (i < argc && !strcmp(argv[i], "container")) i++;
	if (i >= argc || strcmp(argv[i], "run")) return 0;
	for (i++; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		if ((!strcmp(a, "--network") || !strcmp(a, "--net")) && i + 1 < argc) v = argv[i + 1];
		else if (!strncmp(a, "--network=", 10)) v = a + 10;
		else if (!strncmp(a, "--net=", 6)) v = a + 6;
		if (v && !strncmp(v, "container:", 10)) return 1;
	}
	return 0;
}

// maps_to_args turns a /proc/PID/[ug]id_map into mapper arguments ("0
// 1000 1 1 100000 65536") and returns how many ids it maps (0 on error).
static unsigned long maps_to_args(const char *path, char *out, size_t outlen) {
	char buf[1024];
	int lines = 0;
	unsigned long ids = 0;
	size_t len = 0;
	out[0] = 0;
	if (read_small(path, buf, sizeof buf) < 0) return 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long in, host, count;
		if (sscanf(line, "%lu %lu %lu", &in, &host, &count) != 3) return 0;
		len += snprintf(out + len, outlen > len ? outlen - len : 0, "%s%lu %lu %lu", lines ? " " : "", in, host, count);
		lines++;
		ids += count;
	}
	return len < outlen ? ids : 0;
}

// join_userns enters the user namespace open at descriptor fdstr (see
// burrow_userns_deferred), then a mount namespace of its own, and records
// the plan that namespace's maps make: one id mapped is single mode,
// more is full mode.
static void join_userns(const char *fdstr, uid_t uid, gid_t gid) {
	int fd = atoi(fdstr);
	burrow_userns_hostuid = uid;
	burrow_userns_hostgid = gid;
	user_name(uid, burrow_userns_user, sizeof burrow_userns_user);
	if (setns(fd, CLONE_NEWUSER) < 0) {
		fail("joining the user namespace of the container whose network is joined", errno);
		return;
	}
	close(fd);
	if (unshare(CLONE_NEWNS) < 0) {
		fail("unshare of the mount namespace", errno);
		return;
	}
	unsigned long n = maps_to_args("/proc/self/uid_map", burrow_userns_uidmap, sizeof burrow_userns_uidmap);
	if (n == 0 || maps_to_args("/proc/self/gid_map", burrow_userns_gidmap, sizeof burrow_userns_gidmap) == 0) {
		fail("reading the id maps of the joined user namespace", errno);
		return;
	}
	snprintf(burrow_userns_mode, sizeof burrow_userns_mode, "%s", n == 1 ? "single" : "full");
	burrow_userns_state = 1;
}

// burrow_userns_enter runs before the Go runtime starts, while the process
// has a single thread, which unshare(CLONE_NEWUSER) requires. It chooses
// the mode (full when the caller has subordinate ranges and the setuid
// mappers exist, unless the config or BURROW_USERNS says otherwise) and
// enters the namespace, so that no re-execution is needed.
__attribute__((constructor)) static void burrow_userns_enter(int argc, char **argv, char **envp) {
	uid_t uid = getuid();
	gid_t gid = getgid();
	(void)envp;
	if (getenv("_BURROW_INSIDE") || getenv("_LIBCONTAINER_INITPIPE")) return;
	const char *join = getenv("_BURROW_USERNS_JOIN");
	if (join && uid != 0) {
		join_userns(join, uid, gid);
		return;
	}
	int need = getenv("_BURROW_USERNS_FORCE") ? 1 : needs_namespace(argc, argv);
	if (!need) return;
	if (need == 1 && uid != 0 && !getenv("_BURROW_USERNS_FORCE") && joins_container_network(argc, argv)) {
		burrow_userns_deferred = 1;
		return;
	}
	if (uid == 0) {
		// Real root needs no user namespace, but a private mount namespace
		// all the same, so that the store's mounts end with the process.
		snprintf(burrow_userns_mode, sizeof burrow_userns_mode, "host");
		snprintf(burrow_userns_user, sizeof burrow_userns_user, "root");
		if (unshare(CLONE_NEWNS) < 0) {
			fail("unshare of the mount namespace", errno);
			return;
		}
		if (mount("none", "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
			fail("making / a slave mount", errno);
			return;
		}
		burrow_userns_state = 1;
		return;
	}
	char want[32];
	requested_mode(want, sizeof want);
	burrow_userns_hostuid = uid;
	burrow_userns_hostgid = gid;
	user_name(uid, burrow_userns_user, sizeof burrow_userns_user);
	const char *why = NULL;
	if (strcmp(want, "single") != 0) {
		if (!sub_ranges("/etc/subuid", burrow_userns_user, uid, uid, burrow_userns_uidmap, sizeof burrow_userns_uidmap))
			why = "no subordinate range for you in /etc/subuid";
		else if (!sub_ranges("/etc/subgid", burrow_userns_user, uid, gid, burrow_userns_gidmap, sizeof burrow_userns_gidmap))
			why = "no subordinate range for you in /etc/subgid";
		else if (!in_path("newuidmap") || !in_path("newgidmap"))
			why = "newuidmap and newgidmap are not installed (package uidmap)";
		if (why == NULL && strcmp(want, "auto") && strcmp(want, "full")) {
			return; // an invalid mode: the Go side reports the config error
		}
		if (why == NULL && need == 2) {
			burrow_userns_light = 1; // falls through to the one-id map below
		} else if (why == NULL) {
			snprintf(burrow_userns_mode, sizeof burrow_userns_mode, "full");
			enter_full();
			return;
		}
		if (why != NULL && strcmp(want, "full") == 0) {
			burrow_userns_state = -2;
			snprintf(burrow_userns_fallback, sizeof burrow_userns_fallback, "%s", why);
			return;
		}
		if (why != NULL)
			snprintf(burrow_userns_fallback, sizeof burrow_userns_fallback, "%s", why);
	}
	snprintf(burrow_userns_mode, sizeof burrow_userns_mode, "single");
	snprintf(burrow_userns_uidmap, sizeof burrow_userns_uidmap, "0 %u 1", (unsigned)uid);
	snprintf(burrow_userns_gidmap, sizeof burrow_userns_gidmap, "0 %u 1", (unsigned)gid);
	enter_single();
}
*/
import "C"

import (
	"fmt"
	"syscall"
)

// constructorResult reports what the C constructor did.
func constructorResult() (p Plan, entered bool, err error) {
	C.burrow_userns_wait()
	p = Plan{
		Mode:     Mode(C.GoString(&C.burrow_userns_mode[0])),
		User:     C.GoString(&C.burrow_userns_user[0]),
		HostUID:  int(C.burrow_userns_hostuid),
		HostGID:  int(C.burrow_userns_hostgid),
		Fallback: C.GoString(&C.burrow_userns_fallback[0]),
		Light:    C.burrow_userns_light == 1,
	}
	switch C.burrow_userns_state {
	case 1:
		p.UIDMap, err = parseMapperArgs(C.GoString(&C.burrow_userns_uidmap[0]))
		if err == nil {
			p.GIDMap, err = parseMapperArgs(C.GoString(&C.burrow_userns_gidmap[0]))
		}
		p.Inside = err == nil
		return p, err == nil, err
	case -1:
		msg := C.GoString(&C.burrow_userns_err[0])
		if e := syscall.Errno(C.burrow_userns_errno); e != 0 {
			return p, false, &EnterError{What: msg, Errno: e}
		}
		return p, false, &EnterError{What: msg}
	case -2:
		return p, false, fmt.Errorf("%w: %s", ErrNoSubIDs, p.Fallback)
	}
	return p, false, nil
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

// A container's init in C: burrow forks itself (without exec) into the
// container's namespaces and this code, which runs in the child before any
// Go code could, sets up the root filesystem, the identity, the
// capabilities and the seccomp filter, then executes the container's
// command. No second Go runtime starts, as it would in libcontainer's init.
//
// The child is a fork of a multi-threaded Go process: it may only make
// system calls and use memory it owns (no malloc, no stdio, no locale, and
// no glibc wrapper that talks to other threads, such as setresuid's: the
// raw syscall() is used for those). Its program is a flat list of steps
// that the Go side (program.go) builds and checks.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "cinit_linux.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

// The program being read: a cursor over the buffer the Go side encoded.
struct cursor {
	const char *p, *end;
	int bad;
};

static uint64_t get_u64(struct cursor *c) {
	uint64_t v = 0;
	if (c->end - c->p < 8) {
		c->bad = 1;
		return 0;
	}
	memcpy(&v, c->p, 8);
	c->p += 8;
	return v;
}

// get_bytes returns n bytes; get_str a NUL-terminated string.
static const char *get_bytes(struct cursor *c, size_t *n) {
	*n = (size_t)get_u64(c);
	if (c->bad || (size_t)(c->end - c->p) < *n) {
		c->bad = 1;
		return "";
	}
	const char *s = c->p;
	c->p += *n;
	return s;
}

static const char *get_str(struct cursor *c) {
	size_t n;
	const char *s = get_bytes(c, &n);
	if (c->bad || n == 0 || s[n - 1] != 0) {
		c->bad = 1;
		return "";
	}
	return s;
}

static int errfd = -1;
// lfd is the socket the seccomp listener is sent over (-1 for none).
static int lfd = -1;

// append copies s to buf at *len, truncating at size-1.
static void append(char *buf, size_t size, size_t *len, const char *s) {
	while (*s && *len < size - 1) buf[(*len)++] = *s++;
	buf[*len] = 0;
}

// fail reports "ERRNO\0what: arg\0" to the parent and ends the child.
static void fail(const char *what, const char *arg, int err) {
	char buf[4200];
	size_t len = 0;
	char num[16];
	int i = sizeof num - 1;
	unsigned v = (unsigned)err;
	num[i] = 0;
	do {
		num[--i] = '0' + v % 10;
		v /= 10;
	} while (v && i > 0);
	append(buf, sizeof buf, &len, num + i);
	len++;
	append(buf, sizeof buf, &len, what);
	if (arg && *arg) {
		append(buf, sizeof buf, &len, " ");
		append(buf, sizeof buf, &len, arg);
	}
	len++;
	ssize_t w = write(errfd, buf, len < sizeof buf ? len : sizeof buf);
	(void)w;
	_exit(1);
}

static void fd_path(char out[32], int fd) {
	char num[16];
	int i = sizeof num - 1;
	size_t len = 0;
	num[i] = 0;
	do {
		num[--i] = '0' + fd % 10;
		fd /= 10;
	} while (fd && i > 0);
	out[0] = 0;
	append(out, 32, &len, "/proc/self/fd/");
	append(out, 32, &len, num + i);
}

static int rootfd = -1;

// The open-files limit the process started with: the Go runtime raises
// its soft limit to the hard one, and puts it back for the programs it
// executes; so does this init, unless the spec sets one.
static struct rlimit nofile;
static int have_nofile;

__attribute__((constructor)) static void save_nofile(void) {
	have_nofile = getrlimit(RLIMIT_NOFILE, &nofile) == 0;
}

// open_in_root opens path (absolute in the container) beneath the root
// filesystem, resolving symbolic links as if it were the root.
static int open_in_root(const char *path, int flags) {
	struct open_how how;
	memset(&how, 0, sizeof how);
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	int fd;
	do
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

// split_parent copies path into buf and returns its last component, with
// buf cut to the parent ("/" for a top-level name).
static const char *split_parent(const char *path, char *buf, size_t size) {
	size_t len = 0;
	append(buf, size, &len, path);
	while (len > 1 && buf[len - 1] == '/') buf[--len] = 0;
	char *slash = strrchr(buf, '/');
	if (!slash) return buf;
	const char *name = slash + 1;
	if (slash == buf) {
		static char base[256];
		size_t n = 0;
		append(base, sizeof base, &n, name);
		buf[1] = 0;
		return base;
	}
	*slash = 0;
	return name;
}

// create_in_root makes path (a directory, or an empty file when file is
// set) in an existing parent; an existing entry is fine.
static void create_in_root(const char *path, int file, unsigned mode) {
	char buf[4096];
	const char *name = split_parent(path, buf, sizeof buf);
	int dfd = open_in_root(buf, O_PATH | O_DIRECTORY);
	if (dfd < 0) fail("opening the parent of", path, errno);
	if (file) {
		int fd = openat(dfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0 && errno != EEXIST) fail("creating", path, errno);
		if (fd >= 0) close(fd);
	} else if (mkdirat(dfd, name, mode) < 0 && errno != EEXIST) {
		fail("creating", path, errno);
	}
	close(dfd);
}

// remount_flags are the flags of the mount at fd that a remount in a user
// namespace must keep (the kernel locks them).
static unsigned long remount_flags(int fd) {
	struct statfs s;
	unsigned long f = 0;
	if (fstatfs(fd, &s) < 0) return 0;
	if (s.f_flags & ST_NOSUID) f |= MS_NOSUID;
	if (s.f_flags & ST_NODEV) f |= MS_NODEV;
	if (s.f_flags & ST_NOEXEC) f |= MS_NOEXEC;
	if (s.f_flags & ST_NOATIME) f |= MS_NOATIME;
	if (s.f_flags & ST_NODIRATIME) f |= MS_NODIRATIME;
	if (s.f_flags & ST_RELATIME) f |= MS_RELATIME;
	return f;
}

// do_mount mounts src on dst (in the container) as the step says: for a
// bind with MS_RDONLY, a bind then a read-only remount; then the
// propagation, if any.
static void do_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		     const char *data, unsigned long prop, int create) {
	int fd = open_in_root(dst, O_PATH);
	if (fd < 0 && errno == ENOENT && create) {
		create_in_root(dst, create == 2, create == 2 ? 0644 : 0755);
		fd = open_in_root(dst, O_PATH);
	}
	if (fd < 0) fail("opening the mount point", dst, errno);
	char target[32];
	fd_path(target, fd);
	unsigned long first = flags;
	if (flags & MS_BIND) first &= ~(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (mount(src, target, *type ? type : NULL, first, *data ? data : NULL) < 0) {
		if ((flags & MS_BIND) == 0) fail("mounting", dst, errno);
		fail("bind-mounting onto", dst, errno);
	}
	close(fd);
	if (!(flags & MS_BIND) && !prop) return;
	fd = open_in_root(dst, O_PATH);
	if (fd < 0) fail("opening the mount", dst, errno);
	fd_path(target, fd);
	if ((flags & MS_BIND) && (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC))) {
		unsigned long rf = MS_BIND | MS_REMOUNT | (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
		if (mount(NULL, target, NULL, rf | remount_flags(fd), NULL) < 0) fail("remounting", dst, errno);
	}
	if (prop && mount(NULL, target, NULL, prop, NULL) < 0) fail("setting the propagation of", dst, errno);
	close(fd);
}

// pivot makes the root filesystem the root, and detaches the old one.
static void pivot(void) {
	int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0) fail("opening the old root", "", errno);
	if (fchdir(rootfd) < 0) fail("entering the root filesystem", "", errno);
	if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root", "", errno);
	if (fchdir(oldroot) < 0) fail("entering the old root", "", errno);
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("making the old root a slave", "", errno);
	if (umount2(".", MNT_DETACH) < 0) fail("detaching the old root", "", errno);
	if (chdir("/") < 0) fail("entering /", "", errno);
	close(oldroot);
}

// mask hides path: /dev/null over a file, an empty read-only tmpfs over a
// directory; a path that does not exist is fine.
static void mask(const char *path) {
	if (mount("/dev/null", path, NULL, MS_BIND, NULL) == 0) return;
	if (errno == ENOENT) return;
	if (errno != ENOTDIR) fail("masking", path, errno);
	if (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=4k,nr_inodes=1") < 0) fail("masking", path, errno);
}

// readonly makes path a read-only bind of itself.
static void readonly(const char *path) {
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT) return;
		fail("making read-only", path, errno);
	}
	struct statfs s;
	unsigned long f = 0;
	if (statfs(path, &s) == 0) {
		if (s.f_flags & ST_NOSUID) f |= MS_NOSUID;
		if (s.f_flags & ST_NODEV) f |= MS_NODEV;
		if (s.f_flags & ST_NOEXEC) f |= MS_NOEXEC;
	}
	if (mount(path, path, NULL, f | MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) fail("making read-only", path, errno);
}

static void root_readonly(void) {
	int fd = open("/", O_PATH | O_CLOEXEC);
	unsigned long f = fd >= 0 ? remount_flags(fd) : 0;
	if (fd >= 0) close(fd);
	if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | f, NULL) < 0)
		fail("making the root filesystem read-only", "", errno);
}

// The container's process, read from the program's last step.
struct proc {
	const char *argv[1024];
	const char *envp[4096];
	const char *cwd;
};

// find_env returns the value of key in envp, or NULL.
static const char *find_env(const char *const *envp, const char *key) {
	size_t n = strlen(key);
	for (int i = 0; envp[i]; i++)
		if (!strncmp(envp[i], key, n) && envp[i][n] == '=') return envp[i] + n + 1;
	return NULL;
}

// executable checks path as Go's exec.LookPath does: it must exist, not
// be a directory, and have an execute bit.
static int executable(const char *path) {
	struct stat st;
	if (stat(path, &st) < 0) return errno;
	if (S_ISDIR(st.st_mode)) return EISDIR;
	if ((st.st_mode & 0111) == 0) return EACCES;
	return 0;
}

static void quoted(char *buf, size_t size, const char *cmd) {
	size_t len = 0;
	append(buf, size, &len, "exec: \"");
	append(buf, size, &len, cmd);
	append(buf, size, &len, "\"");
}

// run_command finds the command as Go's exec.LookPath does, in the
// container's PATH, and executes it; it returns only on failure.
static void run_command(struct proc *pr, const sigset_t *mask) {
	const char *cmd = pr->argv[0];
	char what[4200], path[4096];
	quoted(what, sizeof what, cmd);
	const char *found = NULL;
	if (strchr(cmd, '/')) {
		int err = executable(cmd);
		if (err) {
			if (err == ENOENT) {
				size_t len = strlen(what);
				append(what, sizeof what, &len, ": stat ");
				append(what, sizeof what, &len, cmd);
			}
			fail(what, "", err);
		}
		found = cmd;
	} else {
		const char *p = find_env(pr->envp, "PATH");
		while (p && !found) {
			const char *colon = strchr(p, ':');
			size_t n = colon ? (size_t)(colon - p) : strlen(p);
			size_t len = 0;
			path[0] = 0;
			if (n == 0) {
				append(path, sizeof path, &len, ".");
			} else {
				char dir[4096];
				if (n >= sizeof dir) n = sizeof dir - 1;
				memcpy(dir, p, n);
				dir[n] = 0;
				append(path, sizeof path, &len, dir);
			}
			append(path, sizeof path, &len, "/");
			append(path, sizeof path, &len, cmd);
			if (executable(path) == 0) found = path;
			p = colon ? colon + 1 : NULL;
		}
		if (!found) {
			size_t len = strlen(what);
			append(what, sizeof what, &len, ": executable file not found in $PATH");
			what[sizeof what - 1] = 0;
			// errno 0: the message is complete.
			fail(what, "", 0);
		}
	}
	sigprocmask(SIG_SETMASK, mask, NULL);
	execve(found, (char *const *)pr->argv, (char *const *)pr->envp);
	int err = errno;
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	fail(what, "", err);
}

struct capdata {
	uint64_t bounding, effective, permitted, inheritable, ambient;
};

static void set_caps(const struct capdata *c) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(c->effective >> (32 * i));
		d[i].permitted = (uint32_t)(c->permitted >> (32 * i));
		d[i].inheritable = (uint32_t)(c->inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &h, d) < 0) fail("setting the capabilities", "", errno);
	for (int i = 0; i < 64; i++)
		if ((c->ambient >> i) & 1)
			if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
				fail("raising an ambient capability", "", errno);
}

static void drop_bounding(uint64_t keep) {
	for (int i = 0; i < 64; i++) {
		if ((keep >> i) & 1) continue;
		if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
			fail("dropping a capability from the bounding set", "", errno);
	}
}

// load_seccomp loads the filter; with lfd (not -1) it asks for a listener
// of its notifications and sends it to the parent over that socket.
static void load_seccomp(const char *prog, size_t len, int lfd) {
	struct sock_fprog fp;
	fp.len = (unsigned short)(len / sizeof(struct sock_filter));
	fp.filter = (struct sock_filter *)prog;
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, lfd >= 0 ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0, &fp);
	if (fd < 0) fail("loading the seccomp filter", "", errno);
	if (lfd < 0) return;
	char data = 0;
	struct iovec iov = {&data, 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = {0};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof u.buf;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	int ifd = (int)fd;
	memcpy(CMSG_DATA(cm), &ifd, sizeof ifd);
	ssize_t n;
	do
		n = sendmsg(lfd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) fail("sending the seccomp listener", "", errno);
	close(ifd);
	close(lfd);
}

// child runs the program; it does not return.
static void child(const char *buf, size_t buflen, const int stdio[3], int gofd, const sigset_t *sigmask) {
	struct cursor c = {buf, buf + buflen, 0};
	static struct proc pr;
	static struct capdata caps;
	uint64_t uid = 0, gid = 0, nnp = 0, setgroups = 0;
	static gid_t groups[256];
	int ngroups = 0;
	const char *seccomp = NULL;
	size_t seccomp_len = 0;
	int notify = 0;
	int nargs = 0, nenv = 0;

	// Signals: the Go runtime's handlers mean nothing here. (The kernel's
	// own sigaction layout, all zero: SIG_DFL, no flags, empty mask.)
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} dfl = {0};
	for (int s = 1; s < 65; s++) {
		if (s == SIGKILL || s == SIGSTOP) continue;
		syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof dfl.mask);
	}
	// The pipes to the parent, and the streams, out of the way of 0-2
	// first (a caller may have started burrow with them closed); then
	// the streams in place.
	errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 64);
	gofd = fcntl(gofd, F_DUPFD_CLOEXEC, 64);
	if (lfd >= 0 && (lfd = fcntl(lfd, F_DUPFD_CLOEXEC, 64)) < 0) _exit(1);
	if (errfd < 0 || gofd < 0) _exit(1);
	int hi[3];
	for (int i = 0; i < 3; i++) {
		hi[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, 64);
		if (hi[i] < 0) fail("setting up the standard streams", "", errno);
	}
	for (int i = 0; i < 3; i++)
		if (dup2(hi[i], i) < 0) fail("setting up the standard streams", "", errno);

	if (have_nofile) syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &nofile, NULL);
	while (!c.bad && c.p < c.end) {
		uint64_t op = get_u64(&c);
		switch (op) {
		case STEP_SETNS: {
			const char *path = get_str(&c);
			uint64_t type = get_u64(&c);
			if (c.bad) break;
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || setns(fd, (int)type) < 0) fail("joining the namespace", path, errno);
			close(fd);
			break;
		}
		case STEP_ROOT: {
			const char *path = get_str(&c);
			if (c.bad) break;
			if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("making / a slave mount", "", errno);
			if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) fail("bind-mounting the root filesystem", "", errno);
			rootfd = open(path, O_DIRECTORY | O_PATH | O_CLOEXEC);
			if (rootfd < 0) fail("opening the root filesystem", path, errno);
			break;
		}
		case STEP_MOUNT: {
			const char *src = get_str(&c), *dst = get_str(&c), *type = get_str(&c);
			uint64_t flags = get_u64(&c);
			const char *data = get_str(&c);
			uint64_t prop = get_u64(&c), create = get_u64(&c);
			if (c.bad) break;
			do_mount(src, dst, type, (unsigned long)flags, data, (unsigned long)prop, (int)create);
			break;
		}
		case STEP_MKDIR: {
			const char *path = get_str(&c);
			uint64_t mode = get_u64(&c);
			if (c.bad) break;
			create_in_root(path, 0, (unsigned)mode);
			break;
		}
		case STEP_SYMLINK: {
			const char *target = get_str(&c), *path = get_str(&c);
			if (c.bad) break;
			char pbuf[4096];
			const char *name = split_parent(path, pbuf, sizeof pbuf);
			int dfd = open_in_root(pbuf, O_PATH | O_DIRECTORY);
			if (dfd < 0 || (symlinkat(target, dfd, name) < 0 && errno != EEXIST)) fail("creating the link", path, errno);
			close(dfd);
			break;
		}
		case STEP_PIVOT:
			pivot();
			break;
		case STEP_MASK: {
			const char *path = get_str(&c);
			if (!c.bad) mask(path);
			break;
		}
		case STEP_READONLY: {
			const char *path = get_str(&c);
			if (!c.bad) readonly(path);
			break;
		}
		case STEP_ROOT_READONLY:
			root_readonly();
			break;
		case STEP_HOSTNAME: {
			const char *name = get_str(&c);
			if (!c.bad && sethostname(name, strlen(name)) < 0) fail("setting the hostname", name, errno);
			break;
		}
		case STEP_RLIMIT: {
			uint64_t res = get_u64(&c), soft = get_u64(&c), hard = get_u64(&c);
			if (c.bad) break;
			struct rlimit rl = {(rlim_t)soft, (rlim_t)hard};
			if (syscall(SYS_prlimit64, 0, (int)res, &rl, NULL) < 0) fail("setting a resource limit", "", errno);
			break;
		}
		case STEP_SECCOMP:
			seccomp = get_bytes(&c, &seccomp_len);
			notify = get_u64(&c) != 0;
			break;
		case STEP_USER:
			uid = get_u64(&c);
			gid = get_u64(&c);
			setgroups = get_u64(&c);
			ngroups = (int)get_u64(&c);
			if (ngroups < 0 || ngroups > 256) c.bad = 1;
			for (int i = 0; !c.bad && i < ngroups; i++) groups[i] = (gid_t)get_u64(&c);
			break;
		case STEP_CAPS:
			caps.bounding = get_u64(&c);
			caps.effective = get_u64(&c);
			caps.permitted = get_u64(&c);
			caps.inheritable = get_u64(&c);
			caps.ambient = get_u64(&c);
			nnp = get_u64(&c);
			break;
		case STEP_ARG:
			if (nargs < 1023) pr.argv[nargs++] = get_str(&c);
			else c.bad = 1;
			break;
		case STEP_ENV:
			if (nenv < 4095) pr.envp[nenv++] = get_str(&c);
			else c.bad = 1;
			break;
		case STEP_CWD:
			pr.cwd = get_str(&c);
			break;
		default:
			c.bad = 1;
		}
	}
	if (c.bad || nargs == 0 || !pr.cwd) fail("reading the container's program", "", EINVAL);
	pr.argv[nargs] = NULL;
	pr.envp[nenv] = NULL;

	// As libcontainer's init: a filter without no_new_privs is loaded
	// while the capabilities still allow it; with it, last.
	if (!notify) lfd = -1;
	if (seccomp && !nnp) load_seccomp(seccomp, seccomp_len, lfd);
	drop_bounding(caps.bounding);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail("keeping the capabilities", "", errno);
	// setgroups 2: the identity is emulated (the process stays 0).
	if (setgroups == 1 && syscall(SYS_setgroups, ngroups, groups) < 0) fail("setting the supplementary groups", "", errno);
	if (setgroups != 2 && syscall(SYS_setresgid, gid, gid, gid) < 0) fail("setting the group id", "", errno);
	if (setgroups != 2 && syscall(SYS_setresuid, uid, uid, uid) < 0) fail("setting the user id", "", errno);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail("keeping the capabilities", "", errno);
	if (chdir(pr.cwd) < 0) fail("changing to the working directory", pr.cwd, errno);
	set_caps(&caps);
	if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("setting no_new_privs", "", errno);
	if (seccomp && nnp) load_seccomp(seccomp, seccomp_len, lfd);

	// Wait for the parent to record the container as running.
	char go;
	ssize_t n;
	do
		n = read(gofd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) _exit(1);
	close(gofd);
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	run_command(&pr, sigmask);
}

int burrow_cinit_start(const char *buf, size_t len, unsigned long flags, int in, int out, int err, int gofd,
		       int efd, int sfd) {
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		int stdio[3] = {in, out, err};
		errfd = efd;
		lfd = sfd;
		sigset_t empty;
		sigemptyset(&empty);
		child(buf, len, stdio, gofd, &empty);
		_exit(1);
	}
	int saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return pid < 0 ? -saved : (int)pid;
}

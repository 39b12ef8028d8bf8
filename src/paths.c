// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The system-access layer (paths.h): the roots, each opened once as an O_PATH directory fd, and
 * the openat-style helpers every read and write of the system goes through.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probebench/paths.h"
#include "probebench/util.h"

static const char *state_dir_override;

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

const char *pb_sysfs_root(void)
{
	return PB_LIVE_SYSFS;
}

const char *pb_procfs_root(void)
{
	return env_or("PROBEBENCH_PROCFS", "/proc");
}

const char *pb_devfs_root(void)
{
	return env_or("PROBEBENCH_DEVFS", "/dev");
}

const char *pb_rundir_root(void)
{
	return env_or("PROBEBENCH_RUNDIR", "/run");
}

bool pb_udevd_running(void)
{
	return pb_access(PB_ROOT_RUN, F_OK, "udev/control") == 0;
}

bool pb_udev_hwdb_present(void)
{
	return access("/usr/lib/udev/hwdb.bin", F_OK) == 0 ||
	       access("/etc/udev/hwdb.bin", F_OK) == 0;
}

bool pb_journald_running(void)
{
	return pb_access(PB_ROOT_RUN, F_OK, "systemd/journal/socket") == 0;
}

const char *pb_state_dir(void)
{
	if (state_dir_override)
		return state_dir_override;
	return env_or("PROBEBENCH_STATE_DIR", PB_DEFAULT_STATE_DIR);
}

void pb_set_state_dir(const char *dir)
{
	state_dir_override = dir;
}

int pb_state_dir_create(void)
{
	const char *dir = pb_state_dir();
	if (mkdir(dir, 0700) < 0)
		return errno == EEXIST ? 0 : -errno;
	/* A new name in the parent: the journal's entries are only as durable as it, so the
	 * parent is fsync'd (through "..", the directory that holds the name just made). */
	char parent[PATH_MAX];
	int n = snprintf(parent, sizeof(parent), "%s/..", dir);
	if (n < 0 || (size_t)n >= sizeof(parent))
		return -ENAMETOOLONG;
	_cleanup_close_ int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

bool pb_owned_safely(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

int pb_state_dir_check(void)
{
	struct stat st;
	int fd = pb_root_fd(PB_ROOT_STATE);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return pb_owned_safely(&st) ? 0 : -EPERM;
}

const char *pb_devnode_rel(const char *devnode)
{
	size_t l = strlen(PB_DEVNODE_PREFIX);
	return strncmp(devnode, PB_DEVNODE_PREFIX, l) == 0 ? devnode + l : devnode;
}

static int vpath(char *buf, size_t size, const char *root, const char *fmt, va_list ap)
{
	int n = snprintf(buf, size, "%s/", root);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	int m = vsnprintf(buf + n, size - n, fmt, ap);
	if (m < 0 || (size_t)m >= size - n)
		return -ENAMETOOLONG;
	return 0;
}

#define DEFINE_PATH_FN(fn, rootfn)                                                                 \
	int fn(char *buf, size_t size, const char *fmt, ...)                                       \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		int r = vpath(buf, size, rootfn(), fmt, ap);                                       \
		va_end(ap);                                                                        \
		return r;                                                                          \
	}

DEFINE_PATH_FN(pb_sys_path, pb_sysfs_root)
DEFINE_PATH_FN(pb_proc_path, pb_procfs_root)
DEFINE_PATH_FN(pb_state_path, pb_state_dir)

bool pb_mounts_find(const char *mounts, const char *type, char *buf, size_t size)
{
	const char *p = mounts;
	while (p && *p) {
		char dev[256], dir[PATH_MAX], t[64];
		const char *nl = strchr(p, '\n');
		if (sscanf(p, "%255s %4095s %63s", dev, dir, t) == 3 && strcmp(t, type) == 0) {
			snprintf(buf, size, "%s", dir);
			return true;
		}
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

/* ---- the roots ---------------------------------------------------------------------------- */

struct root {
	char path[PATH_MAX]; /* as configured: what the fd was opened for */
	char real[PATH_MAX]; /* its real path, which syspaths start with */
	int fd;
};

static pthread_mutex_t roots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct root roots[PB_ROOT_COUNT] = {[0 ... PB_ROOT_COUNT - 1] = {.fd = -1}};
static char tracefs_dir[PATH_MAX];

/* tracefs where it is mounted, else the tracing directory of a mounted debugfs. */
static int find_tracefs(char *buf, size_t size)
{
	_cleanup_free_ char *mounts = NULL;
	char dir[PATH_MAX];
	struct stat st;
	int r = pb_read_file(PB_ROOT_PROC, &mounts, NULL, "mounts");
	if (r < 0)
		return r;
	if (pb_mounts_find(mounts, "tracefs", buf, size))
		return 0;
	if (!pb_mounts_find(mounts, "debugfs", dir, sizeof(dir)))
		return -ENOENT;
	if (snprintf(buf, size, "%s/tracing", dir) >= (int)size)
		return -ENAMETOOLONG;
	return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -ENOENT;
}

const char *pb_root_path(enum pb_root root)
{
	char buf[PATH_MAX];
	switch (root) {
	case PB_ROOT_SYS:
		return pb_sysfs_root();
	case PB_ROOT_PROC:
		return pb_procfs_root();
	case PB_ROOT_DEV:
		return pb_devfs_root();
	case PB_ROOT_RUN:
		return pb_rundir_root();
	case PB_ROOT_STATE:
		return pb_state_dir();
	case PB_ROOT_TRACEFS:
		if (find_tracefs(buf, sizeof(buf)) < 0)
			return NULL;
		pthread_mutex_lock(&roots_lock);
		if (strcmp(tracefs_dir, buf))
			snprintf(tracefs_dir, sizeof(tracefs_dir), "%s", buf);
		pthread_mutex_unlock(&roots_lock);
		return tracefs_dir;
	default:
		return NULL;
	}
}

static int root_path(enum pb_root root, char *buf, size_t size)
{
	if (root == PB_ROOT_TRACEFS)
		return find_tracefs(buf, size);
	const char *p = pb_root_path(root);
	if (!p)
		return -EINVAL;
	return snprintf(buf, size, "%s", p) >= (int)size ? -ENAMETOOLONG : 0;
}

int pb_root_fd(enum pb_root root)
{
	char want[PATH_MAX];
	if ((unsigned)root >= PB_ROOT_COUNT)
		return -EINVAL;
	int r = root_path(root, want, sizeof(want));
	if (r < 0)
		return r;
	struct root *e = &roots[root];
	pthread_mutex_lock(&roots_lock);
	if (e->fd < 0 || strcmp(e->path, want)) {
		int fd = open(want, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			pthread_mutex_unlock(&roots_lock);
			return r;
		}
		if (e->fd >= 0)
			close(e->fd);
		e->fd = fd;
		snprintf(e->path, sizeof(e->path), "%s", want);
		/* The directory the descriptor holds, as the kernel names it: realpath() of a
		 * path a preloaded library redirects (umockdev's testbed at /sys) names the path,
		 * not the place. */
		char self[64];
		snprintf(self, sizeof(self), PB_PATH_SELF_FD "/%d", fd);
		ssize_t n = readlink(self, e->real, sizeof(e->real) - 1);
		if (n > 0)
			e->real[n] = '\0';
		else if (!realpath(want, e->real))
			snprintf(e->real, sizeof(e->real), "%s", want);
	}
	r = e->fd;
	pthread_mutex_unlock(&roots_lock);
	return r;
}

void pb_roots_reset(void)
{
	pthread_mutex_lock(&roots_lock);
	for (size_t i = 0; i < PB_ROOT_COUNT; i++) {
		if (roots[i].fd >= 0)
			close(roots[i].fd);
		roots[i].fd = -1;
		roots[i].path[0] = roots[i].real[0] = '\0';
	}
	pthread_mutex_unlock(&roots_lock);
}

/* What follows root in path (at a component boundary), or NULL when path is not below it. */
static const char *strip_root(const char *path, const char *root)
{
	size_t l = strlen(root);
	while (l > 1 && root[l - 1] == '/')
		l--;
	if (l == 1 && root[0] == '/')
		return path;
	if (l == 0 || strncmp(path, root, l) || (path[l] != '/' && path[l] != '\0'))
		return NULL;
	return path + l;
}

const char *pb_root_strip(enum pb_root root, const char *path)
{
	if ((unsigned)root >= PB_ROOT_COUNT || pb_root_fd(root) < 0)
		return NULL;
	pthread_mutex_lock(&roots_lock);
	const char *rel = strip_root(path, roots[root].path);
	if (!rel)
		rel = strip_root(path, roots[root].real);
	pthread_mutex_unlock(&roots_lock);
	return rel;
}

static bool has_dotdot(const char *rel)
{
	for (const char *p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		p += strspn(p, "/");
	}
	return false;
}

/*
 * Formats the caller's path into buf, relative to the root (the rules of paths.h), and opens
 * the root. Returns the root's fd or -errno.
 */
static int vrel(enum pb_root root, char *buf, size_t size, const char *fmt, va_list ap)
{
	char path[PATH_MAX];
	int n = vsnprintf(path, sizeof(path), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = pb_root_fd(root);
	if (fd < 0)
		return fd;
	const char *rel = path;
	if (path[0] == '/') {
		pthread_mutex_lock(&roots_lock);
		rel = strip_root(path, roots[root].path);
		if (!rel)
			rel = strip_root(path, roots[root].real);
		pthread_mutex_unlock(&roots_lock);
		if (!rel)
			return -EXDEV;
	}
	rel += strspn(rel, "/");
	if (has_dotdot(rel))
		return -EXDEV;
	if (snprintf(buf, size, "%s", *rel ? rel : ".") >= (int)size)
		return -ENAMETOOLONG;
	return fd;
}

#define REL(root, rel, fmt)                                                                        \
	({                                                                                         \
		va_list ap_;                                                                       \
		va_start(ap_, fmt);                                                                \
		int fd_ = vrel(root, rel, sizeof(rel), fmt, ap_);                                  \
		va_end(ap_);                                                                       \
		fd_;                                                                               \
	})

/* ---- the helpers -------------------------------------------------------------------------- */

/* Opens path and keeps it only when it is of the expected kind: a regular file, or a device node
 * (character or block). */
static int open_typed(int dirfd, const char *path, int flags, bool node)
{
	/* A file opened to be written is never reached through a link of its own name (the
	 * directories on the way may be links: sysfs is made of them). */
	if (flags & (O_WRONLY | O_RDWR))
		flags |= O_NOFOLLOW;
	int fd = openat(dirfd, path, flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0600);
	struct stat st;
	if (fd < 0)
		return -errno;
	int r = fstat(fd, &st) < 0 ? -errno : 0;
	bool ok = node ? S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) : S_ISREG(st.st_mode);
	if (r == 0 && !ok)
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int pb_open_regular_at(int dirfd, const char *path, int flags)
{
	return open_typed(dirfd, path, flags, false);
}

/* Reads fd into buf from *len on, until the end of the file (1) or until buf holds cap - 1 bytes
 * (0), leaving room for a NUL; -errno on an error. */
static int read_into(int fd, char *buf, size_t cap, size_t *len)
{
	while (*len + 1 < cap) {
		ssize_t n = read(fd, buf + *len, cap - 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 1;
		*len += (size_t)n;
	}
	return 0;
}

int pb_read_str_at(int dirfd, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = pb_open_regular_at(dirfd, path, O_RDONLY);
	if (fd < 0)
		return fd;
	size_t len = 0;
	int r = read_into(fd, buf, size, &len);
	if (r <= 0)
		return r < 0 ? r : -ENAMETOOLONG;
	buf[len] = '\0';
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return (int)len;
}

int pb_write_str_at(int dirfd, const char *path, const char *s)
{
	_cleanup_close_ int fd = pb_open_regular_at(dirfd, path, O_WRONLY);
	if (fd < 0)
		return fd;
	size_t len = strlen(s);
	ssize_t n;
	do
		n = write(fd, s, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

int pb_open_file(enum pb_root root, int flags, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	return dfd < 0 ? dfd : pb_open_regular_at(dfd, rel, flags);
}

int pb_open_node(enum pb_root root, int flags, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	return dfd < 0 ? dfd : open_typed(dfd, rel, flags, true);
}

static int open_dir_rel(int dfd, const char *rel)
{
	int fd = openat(dfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

int pb_open_dir(enum pb_root root, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	return dfd < 0 ? dfd : open_dir_rel(dfd, rel);
}

int pb_opendir(enum pb_root root, DIR **ret, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	if (dfd < 0)
		return dfd;
	int fd = open_dir_rel(dfd, rel);
	if (fd < 0)
		return fd;
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}
	*ret = d;
	return 0;
}

int pb_fopen(enum pb_root root, FILE **ret, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	if (dfd < 0)
		return dfd;
	int fd = pb_open_regular_at(dfd, rel, O_RDONLY);
	if (fd < 0)
		return fd;
	/* Back to blocking reads: a regular file never blocks, and stdio takes EAGAIN as an end. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	FILE *f = fdopen(fd, "re");
	if (!f) {
		int r = -errno;
		close(fd);
		return r;
	}
	*ret = f;
	return 0;
}

/* The rest of fd, up to max bytes, NUL-terminated, into *ret: -EFBIG when there is more. */
static int read_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = max < 16383 ? max + 2 : 16384;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	int r;
	while ((r = read_into(fd, buf, cap, &len)) == 0) {
		if (len > max)
			return -EFBIG;
		size_t ncap = cap > (max + 2) / 2 ? max + 2 : cap * 2;
		char *p = realloc(buf, ncap);
		if (!p)
			return -ENOMEM;
		buf = p;
		cap = ncap;
	}
	if (r < 0)
		return r;
	if (len > max)
		return -EFBIG;
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int pb_read_regular_at(int dirfd, const char *path, int flags, size_t max, char **ret,
		       size_t *ret_len)
{
	_cleanup_close_ int fd = pb_open_regular_at(dirfd, path, O_RDONLY | flags);
	if (fd < 0)
		return fd;
	return read_all(fd, max, ret, ret_len);
}

int pb_read_file(enum pb_root root, char **ret, size_t *ret_len, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	if (dfd < 0)
		return dfd;
	return pb_read_regular_at(dfd, rel, 0, SIZE_MAX - 2, ret, ret_len);
}

static int readlink_rel(int dfd, const char *rel, char *buf, size_t size)
{
	if (size == 0)
		return -ENAMETOOLONG;
	ssize_t n = readlinkat(dfd, rel, buf, size);
	if (n < 0)
		return -errno;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return (int)n;
}

int pb_readlink(enum pb_root root, char *buf, size_t size, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	return dfd < 0 ? dfd : readlink_rel(dfd, rel, buf, size);
}

int pb_readlink_base_at(int dirfd, const char *path, char *buf, size_t size)
{
	char target[PATH_MAX];
	int r = readlink_rel(dirfd, path, target, sizeof(target));
	if (r < 0)
		return r;
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

int pb_readlink_name(enum pb_root root, char *buf, size_t size, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	return dfd < 0 ? dfd : pb_readlink_base_at(dfd, rel, buf, size);
}

int pb_stat(enum pb_root root, struct stat *st, int flags, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	if (dfd < 0)
		return dfd;
	return fstatat(dfd, rel, st, flags) < 0 ? -errno : 0;
}

int pb_access(enum pb_root root, int mode, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	if (dfd < 0)
		return dfd;
	return faccessat(dfd, rel, mode, 0) < 0 ? -errno : 0;
}

int pb_realpath(enum pb_root root, char *buf, const char *fmt, ...)
{
	char rel[PATH_MAX], path[PATH_MAX * 2];
	int dfd = REL(root, rel, fmt);
	if (dfd < 0)
		return dfd;
	pthread_mutex_lock(&roots_lock);
	snprintf(path, sizeof(path), "%s/%s", roots[root].path, rel);
	pthread_mutex_unlock(&roots_lock);
	return realpath(path, buf) ? 0 : -errno;
}

int pb_unlink(enum pb_root root, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	if (dfd < 0)
		return dfd;
	return unlinkat(dfd, rel, 0) < 0 ? -errno : 0;
}

int pb_fsync_dir(enum pb_root root, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	if (dfd < 0)
		return dfd;
	_cleanup_close_ int fd = open_dir_rel(dfd, rel);
	if (fd < 0)
		return fd;
	return fsync(fd) < 0 ? -errno : 0;
}

int pb_read_attr(enum pb_root root, char *buf, size_t size, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	return dfd < 0 ? dfd : pb_read_str_at(dfd, rel, buf, size);
}

int pb_read_attr_long(enum pb_root root, long *ret, const char *fmt, ...)
{
	char rel[PATH_MAX], buf[64];
	int dfd = REL(root, rel, fmt);
	if (dfd < 0)
		return dfd;
	int r = pb_read_str_at(dfd, rel, buf, sizeof(buf));
	if (r < 0)
		return r;
	return pb_parse_long(buf, 0, LONG_MIN, LONG_MAX, ret);
}

int pb_write_attr(enum pb_root root, const char *s, const char *fmt, ...)
{
	char rel[PATH_MAX];
	int dfd = REL(root, rel, fmt);
	return dfd < 0 ? dfd : pb_write_str_at(dfd, rel, s);
}

static int rel_of(enum pb_root root, char *rel, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int rel_of(enum pb_root root, char *rel, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int fd = vrel(root, rel, size, fmt, ap);
	va_end(ap);
	return fd;
}

int pb_write_atomic(enum pb_root root, const char *path, const void *data, size_t len, mode_t mode,
		    unsigned flags)
{
	char rel[PATH_MAX];
	int dfd = rel_of(root, rel, sizeof(rel), "%s", path);
	return dfd < 0 ? dfd : pb_write_file_atomic_at(dfd, rel, data, len, mode, flags);
}

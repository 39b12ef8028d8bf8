// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "probebench/paths.h"
#include "probebench/util.h"

int pb_read_str(const char *path, char *buf, size_t size)
{
	return pb_read_str_at(AT_FDCWD, path, buf, size);
}

int pb_read_long(const char *path, long *ret)
{
	char buf[64];
	int r = pb_read_str(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	return pb_parse_long(buf, 0, LONG_MIN, LONG_MAX, ret);
}

int pb_write_str(const char *path, const char *s)
{
	return pb_write_str_at(AT_FDCWD, path, s);
}

/* Fills name with ".BASE.tmp.XXXXXXXXXXXXXXXX" beside path: hidden, and no *.json or *.prom. */
static int temp_name(const char *path, char *buf, size_t size)
{
	static unsigned counter;
	uint64_t rnd;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		/* early boot without entropy: still unique, and the open is exclusive anyway */
		rnd = pb_now_ns() ^ ((uint64_t)getpid() << 32) ^
		      __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path + 1) : 0;
	const char *base = slash ? slash + 1 : path;
	if (!*base)
		return -EISDIR;
	int n = snprintf(buf, size, "%.*s.%s.tmp.%016llx", dir_len, path, base,
			 (unsigned long long)rnd);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int fsync_dir_of(int dirfd, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	_cleanup_close_ int fd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t k = write(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

int pb_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 unsigned flags)
{
	return pb_write_file_atomic_at(AT_FDCWD, path, data, len, mode, flags);
}

int pb_write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
			    unsigned flags)
{
	bool sync = !(flags & PB_WRITE_ATOMIC_NO_SYNC);
	char tmp[PATH_MAX];
	int fd = -1, r;
	for (int attempt = 0; fd < 0 && attempt < 16; attempt++) {
		if ((r = temp_name(path, tmp, sizeof(tmp))) < 0)
			return r;
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	r = write_all(fd, data, len);
	if (r == 0 && sync && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, path) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	return sync ? fsync_dir_of(dirfd, path) : 0;
}

int pb_parse_long(const char *s, int base, long min, long max, long *ret)
{
	if (!s || !*s)
		return -EINVAL;
	char *end;
	errno = 0;
	long v = strtol(s, &end, base);
	if (end == s || *end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int pb_parse_double(const char *s, double min, double max, double *ret)
{
	if (!s || !*s)
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || isnan(v))
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int pb_parse_duration_ns(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {
	    {"ns", 1},	 {"us", 1e3},	{"ms", 1e6},   {"s", 1e9},
	    {"m", 60e9}, {"min", 60e9}, {"h", 3600e9},
	};
	if (!s || !*s)
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || isnan(v) || v < 0 || errno == ERANGE)
		return -EINVAL;
	double mult = 1e9; /* a bare number is seconds */
	if (*end) {
		size_t i;
		for (i = 0; i < PB_ARRAY_SIZE(units); i++)
			if (strcmp(end, units[i].suffix) == 0)
				break;
		if (i == PB_ARRAY_SIZE(units))
			return -EINVAL;
		mult = units[i].mult;
	}
	double ns = v * mult;
	if (ns > 1.8e19)
		return -ERANGE;
	*ret = (uint64_t)ns;
	return 0;
}

uint64_t pb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int pb_readlink_base(const char *path, char *buf, size_t size)
{
	return pb_readlink_base_at(AT_FDCWD, path, buf, size);
}

bool pb_path_below(const char *path, const char *dir)
{
	size_t l = strlen(dir);
	return strncmp(path, dir, l) == 0 && path[l] == '/' && path[l + 1] != '\0';
}

uint64_t pb_mono_to_realtime_ns(uint64_t due_mono_ns, uint64_t now_mono_ns, uint64_t now_real_ns)
{
	return pb_add_sat_u64(now_real_ns,
			      due_mono_ns > now_mono_ns ? due_mono_ns - now_mono_ns : 0);
}

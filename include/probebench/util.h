/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define PB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void pb_freep(void *p)
{
	free(*(void **)p);
}
static inline void pb_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_free_	__attribute__((cleanup(pb_freep)))
#define _cleanup_close_ __attribute__((cleanup(pb_closep)))

/* Hands ownership of *p to the caller and leaves NULL behind. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _tp = (p);                                                           \
		(p) = NULL;                                                                        \
		_tp;                                                                               \
	})

/*
 * Reads a small text attribute (sysfs, procfs) into buf, NUL-terminated, trailing newline
 * stripped. Retries EINTR. Returns the length, -ENAMETOOLONG when it does not fit, -EISDIR for a
 * directory, -EINVAL for any other file that is not a regular one (a FIFO or a device node where
 * an attribute belongs is not read, and its open does not block), or -errno.
 */
int pb_read_str(const char *path, char *buf, size_t size);
/* Reads an integer attribute ("-1", "0x1af4", "42"). Returns 0 or -errno / -EINVAL. */
int pb_read_long(const char *path, long *ret);
/* Writes s to path (a regular file, as pb_read_str) in a single write(2). Returns 0, -EISDIR or
 * -EINVAL when path is not a regular file, or -errno (the kernel's answer). */
int pb_write_str(const char *path, const char *s);

enum {
	/*
	 * Skips both fsyncs: the replacement is still atomic (a reader sees the old file or the
	 * new one) but may be lost in a crash. Only for updates whose loss is harmless.
	 */
	PB_WRITE_ATOMIC_NO_SYNC = 1 << 0,
};
/*
 * Replaces path with data, atomically: the bytes go to a new file created exclusively under an
 * unpredictable name in path's directory (".NAME.tmp.XXXXXXXXXXXXXXXX", mode as open(2) applies
 * it), which is fsync'd, renamed over path, and then the directory is fsync'd. On failure the
 * temporary file is removed and path is untouched. Returns 0 or -errno.
 */
int pb_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 unsigned flags);
/* The same with path relative to dirfd (openat(2)). */
int pb_write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
			    unsigned flags);
/*
 * Strict number parsing: the whole string, base 10 (or 0x for hex with base 0), within
 * [min, max]. Returns 0, -EINVAL for garbage, -ERANGE outside the range.
 */
int pb_parse_long(const char *s, int base, long min, long max, long *ret);
int pb_parse_double(const char *s, double min, double max, double *ret);
/* Parses "10", "10ms", "2.5s", "1m", "500us", "100ns" into nanoseconds. */
int pb_parse_duration_ns(const char *s, uint64_t *ret);

/* a + b, or UINT64_MAX when the sum does not fit (a deadline far off stays far off). */
static inline uint64_t pb_add_sat_u64(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}
/*
 * The CLOCK_REALTIME ns of a CLOCK_MONOTONIC deadline (due), given both clocks now: never
 * before now (a deadline passed is now), UINT64_MAX when it lies beyond the realtime range.
 */
uint64_t pb_mono_to_realtime_ns(uint64_t due_mono_ns, uint64_t now_mono_ns, uint64_t now_real_ns);

/* CLOCK_MONOTONIC in ns. */
uint64_t pb_now_ns(void);
/* Basename of the symlink target at path (e.g. a device's "driver" link). -errno on failure. */
int pb_readlink_base(const char *path, char *buf, size_t size);
/* Is path strictly below dir (at a path component boundary, not a mere string prefix)? */
bool pb_path_below(const char *path, const char *dir);

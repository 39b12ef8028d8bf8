/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The way to the system: every file the tool reads or writes under /sys, /proc, /dev, /run,
 * tracefs and its state directory is opened here, relative to a directory fd of its root, so
 * tests can point the tool at fixture trees and see what it touches. The system's own paths are
 * named in this file and src/paths.c only.
 *
 * Roots come from the environment (PROBEBENCH_PROCFS, PROBEBENCH_DEVFS, PROBEBENCH_RUNDIR,
 * PROBEBENCH_STATE_DIR) or from pb_set_state_dir(); the defaults are the real system paths.
 * sysfs is always /sys: libudev reads /sys whatever the tool is told, so tests give the tool a
 * fixture tree at /sys through umockdev's preload library (doc/testing.md) instead. tracefs
 * is where PROC/mounts says it is mounted (or DEBUGFS/tracing when only debugfs is). Each root is
 * opened once, O_PATH | O_DIRECTORY, on first use, and again only when its path changes (a test's
 * setenv(), pb_set_state_dir()); a root that cannot be opened is not remembered. Change roots only
 * while no other thread uses them.
 *
 * The helpers below take a path relative to a root, printf-style. Their rules:
 *  - an absolute path is accepted only when it names a place below the root (its path as
 *    configured, or its real path: a device's syspath); it is then taken relative to the root;
 *  - a ".." component is refused (-EXDEV), as is an absolute path elsewhere: a name the tool
 *    was given or found (a selector, a directory entry, a config value) cannot lead out of the
 *    root. Symbolic links the system made are followed: sysfs is built of them, and /proc's fd
 *    links are what the policy stats. Guarding against a hostile tree is not the aim;
 *  - files are opened O_CLOEXEC | O_NONBLOCK (a FIFO put where an attribute belongs neither
 *    blocks the open nor is read) and checked with fstat: a directory gives -EISDIR, anything
 *    else that is not a regular file -EINVAL; a directory expected and something else found
 *    gives -ENOTDIR;
 *  - errors are negative errno values.
 *
 * Not system paths, and opened where they are used: the configuration file, the daemon's result
 * store (a directory the configuration names), compare's input files, the observer's debugging
 * dump. Libraries that read the system themselves (libudev, libpci, libtracefs) keep doing so.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

enum pb_root {
	PB_ROOT_SYS,
	PB_ROOT_PROC,
	PB_ROOT_DEV,
	PB_ROOT_RUN,
	PB_ROOT_TRACEFS,
	PB_ROOT_STATE,
	PB_ROOT_COUNT,
};

/* The system's own places that are named rather than opened (messages, defaults, prefixes). */
#define PB_LIVE_SYSFS	       "/sys"
#define PB_DEVNODE_PREFIX      "/dev/"
#define PB_DEFAULT_STATE_DIR   "/var/lib/probebench"
#define PB_DEFAULT_RESULTS_DIR PB_DEFAULT_STATE_DIR "/runs"
#define PB_PATH_PERF_PARANOID  "/proc/sys/kernel/perf_event_paranoid"
#define PB_PATH_MOUNTS	       "/proc/mounts"
#define PB_PATH_FILESYSTEMS    "/proc/filesystems"
#define PB_PATH_KALLSYMS       "/proc/kallsyms"
#define PB_PATH_UDEV_CONTROL   "/run/udev/control"
#define PB_PATH_INITCALL_DEBUG "/sys/module/kernel/parameters/initcall_debug"
#define PB_PATH_MEMORY_BLOCK   "/sys/devices/system/memory/block_size_bytes"
#define PB_PATH_KMSG	       "/dev/kmsg"
#define PB_PATH_ZONEINFO       "/proc/zoneinfo"
#define PB_PATH_TRACING	       "/sys/kernel/tracing"
#define PB_PATH_KPROBE_PMU     "/sys/bus/event_source/devices/kprobe"
/* a descriptor of this process by path ("/proc/self/fd/N"), for a library that takes paths */
#define PB_PATH_SELF_FD "/proc/self/fd"

const char *pb_sysfs_root(void);
const char *pb_procfs_root(void);
const char *pb_devfs_root(void);
const char *pb_rundir_root(void);
/* udevd runs (its control socket exists under the run root). */
bool pb_udevd_running(void);
/* udev's compiled hardware database is installed (the system's, not below any root). */
bool pb_udev_hwdb_present(void);
/* journald listens (its socket exists under the run root). */
bool pb_journald_running(void);
const char *pb_state_dir(void);
void pb_set_state_dir(const char *dir);
/* Creates the state directory (mode 0700) when it is missing, durably (its parent fsync'd).
 * Returns 0 or -errno. */
int pb_state_dir_create(void);
/* The state directory may be trusted: a directory owned by this user, not writable by group or
 * others (-EPERM otherwise, -ENOTDIR, or -errno). */
/* The part of the absolute PATH below ROOT ("/devices/..." of "/sys/devices/..."), whether
 * PATH names the root as configured or by its real place; NULL when PATH is not below it. */
const char *pb_root_strip(enum pb_root root, const char *path);
int pb_state_dir_check(void);
/* Owned by this user and not writable by group or others. */
bool pb_owned_safely(const struct stat *st);

/* Formats ROOT + "/" + fmt into buf. Returns 0, or -ENAMETOOLONG when it does not fit. */
int pb_sys_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int pb_proc_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pb_state_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The first mount of type `type` in a mount table (PROC/mounts format): its mount point into
 * buf. Returns true when found.
 */
bool pb_mounts_find(const char *mounts, const char *type, char *buf, size_t size);
/* The root's path: the configured one (tracefs: the mount point found), or NULL for a tracefs
 * that is not mounted. Valid until the root changes. */
const char *pb_root_path(enum pb_root root);
/* The root's O_PATH directory fd, opened on first use. Owned by the access layer. */
int pb_root_fd(enum pb_root root);
/* Closes every root fd; the next use opens them again (for tests that replace a tree). */
void pb_roots_reset(void);
/*
 * A devnode as udev names it ("/dev/sda") relative to the device root ("sda"): the kernel's
 * devnodes live under the dev root whatever its path. Anything else is returned unchanged.
 */
const char *pb_devnode_rel(const char *devnode);

/*
 * Opens a regular file. flags: O_RDONLY, O_WRONLY or O_RDWR, with O_CREAT (mode 0600), O_TRUNC,
 * O_APPEND as needed; O_CLOEXEC | O_NONBLOCK are added. Returns the fd or -errno.
 */
int pb_open_file(enum pb_root root, int flags, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Opens a device node (character or block), O_CLOEXEC | O_NONBLOCK | O_NOCTTY added; anything
 * else: -EISDIR or -EINVAL. Returns the fd or -errno. */
int pb_open_node(enum pb_root root, int flags, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Opens a directory (O_RDONLY | O_DIRECTORY). Returns the fd, -ENOTDIR for anything else. */
int pb_open_dir(enum pb_root root, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same as a directory stream in *ret. Returns 0 or -errno. */
int pb_opendir(enum pb_root root, DIR **ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A regular file opened for reading as a stdio stream in *ret. Returns 0 or -errno. */
int pb_fopen(enum pb_root root, FILE **ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A whole regular file, NUL-terminated, malloc'd into *ret (length in *ret_len if not NULL). */
int pb_read_file(enum pb_root root, char **ret, size_t *ret_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A symlink's target into buf. Returns its length, -ENAMETOOLONG when it does not fit. */
int pb_readlink(enum pb_root root, char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The basename of a symlink's target (a device's "driver" link). Returns 0 or -errno. */
int pb_readlink_name(enum pb_root root, char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* fstatat() below the root; flags: 0 or AT_SYMLINK_NOFOLLOW. Returns 0 or -errno. */
int pb_stat(enum pb_root root, struct stat *st, int flags, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* faccessat() below the root (real ids, as access(2)); mode F_OK, R_OK, W_OK. Returns 0 or -errno.
 */
int pb_access(enum pb_root root, int mode, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The canonical absolute path of a place below the root into buf (PATH_MAX bytes). */
int pb_realpath(enum pb_root root, char *buf, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Removes a file below the root. Returns 0 or -errno. */
int pb_unlink(enum pb_root root, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* fsync()s a directory below the root ("." for the root itself). Returns 0 or -errno. */
int pb_fsync_dir(enum pb_root root, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A small text attribute, as pb_read_str() (util.h): NUL-terminated, trailing newline and
 * spaces stripped. Returns the length or -errno.
 */
int pb_read_attr(enum pb_root root, char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An integer attribute ("-1", "0x1af4", "42"). Returns 0 or -errno / -EINVAL. */
int pb_read_attr_long(enum pb_root root, long *ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes s to a regular file in one write(2). Returns 0 or -errno (the kernel's answer). */
int pb_write_attr(enum pb_root root, const char *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* pb_write_file_atomic() (util.h) of a file below the root. */
int pb_write_atomic(enum pb_root root, const char *rel, const void *data, size_t len, mode_t mode,
		    unsigned flags);

/*
 * The same rules for a path anywhere (AT_FDCWD, no root): the regular-file open behind
 * pb_read_str() and pb_write_str().
 */
int pb_open_regular_at(int dirfd, const char *path, int flags);
int pb_read_str_at(int dirfd, const char *path, char *buf, size_t size);
/*
 * A whole regular file of at most max bytes, NUL-terminated, malloc'd into *ret (its length in
 * *ret_len if not NULL): -EFBIG when it is longer (a file that grows while read included), and
 * the open's rules above for anything else (a FIFO does not block, /dev/zero is not read). flags:
 * 0 or O_NOFOLLOW. For files the tool is pointed at (its configuration, its result store).
 */
int pb_read_regular_at(int dirfd, const char *path, int flags, size_t max, char **ret,
		       size_t *ret_len);
int pb_write_str_at(int dirfd, const char *path, const char *s);
int pb_readlink_base_at(int dirfd, const char *path, char *buf, size_t size);

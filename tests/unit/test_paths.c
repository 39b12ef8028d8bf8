// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The system-access layer (paths.h) against a temporary tree per test: the roots taken from the
 * environment, the kinds of file each helper refuses, and the paths that may not lead out of a
 * root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "probebench/paths.h"
#include "probebench/util.h"

static char tmp[64];

static void put(const char *rel, const char *text)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mkdir_in(const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	assert_int_equal(mkdir(p, 0700), 0);
}

static void link_in(const char *target, const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	assert_int_equal(symlink(target, p), 0);
}

static void set_root(const char *var, const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	setenv(var, p, 1);
}

/*
 * tmp/sys: attr ("42\n"), dir/, fifo, loop -> loop, up -> ../outside, bus/pci/devices/dev ->
 * ../../../devices/dev (a device link as sysfs makes them), devices/dev/{driver -> ../../drv,
 * numa_node}; tmp/outside ("secret"); tmp/state/.
 */
static int setup(void **st)
{
	(void)st;
	strcpy(tmp, "/tmp/pb-paths-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	mkdir_in("sys");
	put("sys/attr", "42\n");
	mkdir_in("sys/dir");
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/sys/fifo", tmp);
	assert_int_equal(mkfifo(p, 0600), 0);
	link_in("loop", "sys/loop");
	link_in("../outside", "sys/up");
	put("outside", "secret");
	mkdir_in("sys/bus");
	mkdir_in("sys/bus/pci");
	mkdir_in("sys/bus/pci/devices");
	mkdir_in("sys/devices");
	mkdir_in("sys/devices/dev");
	mkdir_in("sys/drv");
	put("sys/devices/dev/numa_node", "1\n");
	link_in("../../drv", "sys/devices/dev/driver");
	link_in("../../../devices/dev", "sys/bus/pci/devices/dev");
	mkdir_in("state");
	set_root("PROBEBENCH_PROCFS", "sys");
	set_root("PROBEBENCH_STATE_DIR", "state");
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	unsetenv("PROBEBENCH_SYSFS");
	unsetenv("PROBEBENCH_PROCFS");
	unsetenv("PROBEBENCH_DEVFS");
	unsetenv("PROBEBENCH_RUNDIR");
	unsetenv("PROBEBENCH_STATE_DIR");
	pb_set_state_dir(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void reads_and_writes_regular_files(void **st)
{
	(void)st;
	char buf[32];
	long v;
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "attr"), 2);
	assert_string_equal(buf, "42");
	assert_int_equal(pb_read_attr_long(PB_ROOT_PROC, &v, "%s/numa_node", "devices/dev"), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pb_write_attr(PB_ROOT_PROC, "7", "attr"), 0);
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "attr"), 2);
	assert_string_equal(buf, "72"); /* one write(2) at offset 0, as to a sysfs attribute */
	FILE *f;
	assert_int_equal(pb_fopen(PB_ROOT_PROC, &f, "attr"), 0);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "72\n");
	char *text;
	size_t len;
	assert_int_equal(pb_read_file(PB_ROOT_PROC, &text, &len, "attr"), 0);
	assert_int_equal(len, 3);
	assert_string_equal(text, "72\n");
	free(text);
	/* a file larger than the first buffer: read whole, NUL-terminated; too long for a string */
	static char big[50000];
	memset(big, 'x', sizeof(big) - 1);
	put("sys/big", big);
	assert_int_equal(pb_read_file(PB_ROOT_PROC, &text, &len, "big"), 0);
	assert_int_equal(len, sizeof(big) - 1);
	assert_int_equal(strlen(text), sizeof(big) - 1);
	free(text);
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "big"), -ENAMETOOLONG);
	/* a link the system made is followed, also upwards inside the root */
	assert_int_equal(pb_readlink_name(PB_ROOT_PROC, buf, sizeof(buf), "devices/dev/driver"), 0);
	assert_string_equal(buf, "drv");
	assert_int_equal(pb_readlink(PB_ROOT_PROC, buf, sizeof(buf), "devices/dev/driver"), 9);
	assert_string_equal(buf, "../../drv");
	assert_int_equal(
	    pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "bus/pci/devices/dev/numa_node"), 1);
	char real[PATH_MAX], want[PATH_MAX];
	assert_non_null(realpath(tmp, want));
	strcat(want, "/sys/devices/dev");
	assert_int_equal(pb_realpath(PB_ROOT_PROC, real, "bus/pci/devices/dev"), 0);
	assert_string_equal(real, want);
	struct stat s;
	assert_int_equal(pb_stat(PB_ROOT_PROC, &s, 0, "bus/pci/devices/dev"), 0);
	assert_true(S_ISDIR(s.st_mode));
	assert_int_equal(pb_stat(PB_ROOT_PROC, &s, AT_SYMLINK_NOFOLLOW, "bus/pci/devices/dev"), 0);
	assert_true(S_ISLNK(s.st_mode));
	assert_int_equal(pb_access(PB_ROOT_PROC, F_OK, "nothing"), -ENOENT);
}

/* A FIFO where a file belongs: neither read nor written, and no open blocks on it. */
static void refuses_fifo(void **st)
{
	(void)st;
	char buf[32], p[PATH_MAX];
	FILE *f;
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "fifo"), -EINVAL);
	assert_int_equal(pb_fopen(PB_ROOT_PROC, &f, "fifo"), -EINVAL);
	assert_int_equal(pb_open_file(PB_ROOT_PROC, O_RDONLY, "fifo"), -EINVAL);
	/* no reader: the non-blocking open says so instead of waiting */
	assert_int_equal(pb_write_attr(PB_ROOT_PROC, "1", "fifo"), -ENXIO);
	snprintf(p, sizeof(p), "%s/sys/fifo", tmp);
	int rfd = open(p, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	assert_int_equal(pb_write_attr(PB_ROOT_PROC, "1", "fifo"), -EINVAL);
	assert_int_equal(read(rfd, buf, sizeof(buf)), 0);
	close(rfd);
	assert_int_equal(pb_open_dir(PB_ROOT_PROC, "fifo"), -ENOTDIR);
	assert_int_equal(pb_open_node(PB_ROOT_PROC, O_RDONLY, "fifo"), -EINVAL);
}

static void refuses_directory_as_file(void **st)
{
	(void)st;
	char buf[32];
	FILE *f;
	char *text;
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "dir"), -EISDIR);
	assert_int_equal(pb_write_attr(PB_ROOT_PROC, "1", "dir"), -EISDIR);
	assert_int_equal(pb_fopen(PB_ROOT_PROC, &f, "dir"), -EISDIR);
	assert_int_equal(pb_read_file(PB_ROOT_PROC, &text, NULL, "dir"), -EISDIR);
	assert_int_equal(pb_open_node(PB_ROOT_PROC, O_RDONLY, "dir"), -EISDIR);
	/* the root itself is a directory too */
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "."), -EISDIR);
}

static void refuses_file_as_directory(void **st)
{
	(void)st;
	DIR *d;
	assert_int_equal(pb_open_dir(PB_ROOT_PROC, "attr"), -ENOTDIR);
	assert_int_equal(pb_opendir(PB_ROOT_PROC, &d, "attr"), -ENOTDIR);
	assert_int_equal(pb_opendir(PB_ROOT_PROC, &d, "attr/x"), -ENOTDIR);
	/* and a directory is one */
	assert_int_equal(pb_opendir(PB_ROOT_PROC, &d, "dir"), 0);
	closedir(d);
	int fd = pb_open_dir(PB_ROOT_PROC, ".");
	assert_true(fd >= 0);
	close(fd);
}

static void refuses_symlink_loop(void **st)
{
	(void)st;
	char buf[32];
	DIR *d;
	struct stat s;
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "loop"), -ELOOP);
	assert_int_equal(pb_write_attr(PB_ROOT_PROC, "1", "loop"), -ELOOP);
	assert_int_equal(pb_opendir(PB_ROOT_PROC, &d, "loop"), -ELOOP);
	assert_int_equal(pb_stat(PB_ROOT_PROC, &s, 0, "loop"), -ELOOP);
	/* the link itself can still be read */
	assert_int_equal(pb_readlink(PB_ROOT_PROC, buf, sizeof(buf), "loop"), 4);
}

/* A device node is opened by pb_open_node() and refused where a regular file belongs. */
static void device_nodes(void **st)
{
	(void)st;
	char buf[8];
	mkdir_in("dev");
	link_in("/dev/null", "dev/null"); /* the one real node a test may open */
	put("dev/plain", "x");
	set_root("PROBEBENCH_DEVFS", "dev");
	int fd = pb_open_node(PB_ROOT_DEV, O_RDONLY, "%s", pb_devnode_rel("/dev/null"));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pb_open_node(PB_ROOT_DEV, O_RDONLY, "plain"), -EINVAL);
	assert_int_equal(pb_read_attr(PB_ROOT_DEV, buf, sizeof(buf), "null"), -EINVAL);
	assert_string_equal(pb_devnode_rel("/dev/sda"), "sda");
	assert_string_equal(pb_devnode_rel("sda"), "sda");
}

/*
 * Paths the tool was given or found cannot lead out of a root: ".." components and absolute
 * paths elsewhere are refused. Absolute paths below the root (as configured, or its real path)
 * are taken relative to it.
 */
static void no_escape(void **st)
{
	(void)st;
	char buf[32], p[PATH_MAX];
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "../outside"), -EXDEV);
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "dir/../../outside"), -EXDEV);
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "dir/../attr"), -EXDEV);
	assert_int_equal(pb_access(PB_ROOT_PROC, F_OK, ".."), -EXDEV);
	assert_int_equal(pb_write_attr(PB_ROOT_PROC, "1", "%s/outside", tmp), -EXDEV);
	assert_int_equal(pb_write_atomic(PB_ROOT_STATE, "../outside", "x", 1, 0600, 0), -EXDEV);
	assert_int_equal(pb_unlink(PB_ROOT_PROC, "../outside"), -EXDEV);
	/* a root's name as a prefix of another directory's is not below it */
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "%s/sysx/attr", tmp), -EXDEV);
	/* a name that only starts with two dots is a name */
	put("sys/..x", "ok");
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "..x"), 2);
	/* absolute below the root, as configured and through its real path */
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "%s/sys/attr", tmp), 2);
	assert_non_null(realpath(tmp, p));
	link_in(p, "alias");
	set_root("PROBEBENCH_PROCFS", "alias/sys");
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "%s/sys/attr", p), 2);
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "%s/alias/sys/attr", tmp), 2);
	/* the system's own links are followed, even out of the root: sysfs is built of them */
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "up"), 6);
	assert_string_equal(buf, "secret");
}

/* Each root follows its variable, and is opened again when the variable changes. */
static void roots_from_environment(void **st)
{
	(void)st;
	char buf[32], p[PATH_MAX];
	mkdir_in("sys2");
	put("sys2/attr", "second");
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "attr"), 2);
	set_root("PROBEBENCH_PROCFS", "sys2");
	snprintf(p, sizeof(p), "%s/sys2", tmp);
	assert_string_equal(pb_root_path(PB_ROOT_PROC), p);
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "attr"), 6);
	assert_string_equal(buf, "second");
	unsetenv("PROBEBENCH_PROCFS");
	assert_string_equal(pb_root_path(PB_ROOT_PROC), "/proc");
	/* sysfs is /sys whatever the environment says (fixtures go there through umockdev) */
	setenv("PROBEBENCH_SYSFS", tmp, 1);
	assert_string_equal(pb_root_path(PB_ROOT_SYS), "/sys");
	unsetenv("PROBEBENCH_SYSFS");
	/* empty is unset */
	setenv("PROBEBENCH_PROCFS", "", 1);
	assert_string_equal(pb_root_path(PB_ROOT_PROC), "/proc");

	const struct {
		const char *var;
		enum pb_root root;
	} vars[] = {
	    {"PROBEBENCH_PROCFS", PB_ROOT_PROC},
	    {"PROBEBENCH_DEVFS", PB_ROOT_DEV},
	    {"PROBEBENCH_RUNDIR", PB_ROOT_RUN},
	    {"PROBEBENCH_STATE_DIR", PB_ROOT_STATE},
	};
	for (size_t i = 0; i < PB_ARRAY_SIZE(vars); i++) {
		char rel[16];
		snprintf(rel, sizeof(rel), "r%zu", i);
		mkdir_in(rel);
		snprintf(p, sizeof(p), "%s/file", rel);
		put(p, rel);
		set_root(vars[i].var, rel);
		assert_int_equal(pb_read_attr(vars[i].root, buf, sizeof(buf), "file"), 2);
		assert_string_equal(buf, rel);
	}
	/* pb_set_state_dir() wins over the environment */
	snprintf(p, sizeof(p), "%s/state", tmp);
	pb_set_state_dir(p);
	assert_string_equal(pb_state_dir(), p);
	assert_int_equal(pb_write_atomic(PB_ROOT_STATE, "note", "Y", 1, 0600, 0), 0);
	assert_int_equal(pb_read_attr(PB_ROOT_STATE, buf, sizeof(buf), "note"), 1);
	assert_int_equal(pb_unlink(PB_ROOT_STATE, "note"), 0);
	assert_int_equal(pb_unlink(PB_ROOT_STATE, "note"), -ENOENT);
	assert_int_equal(pb_fsync_dir(PB_ROOT_STATE, "."), 0);
	/* a missing state directory is made on request */
	snprintf(p, sizeof(p), "%s/state/new", tmp);
	pb_set_state_dir(p);
	assert_int_equal(pb_access(PB_ROOT_STATE, F_OK, "."), -ENOENT);
	assert_int_equal(pb_state_dir_create(), 0);
	assert_int_equal(pb_access(PB_ROOT_STATE, F_OK, "."), 0);
	/* the run root's sockets */
	mkdir_in("r2/udev");
	put("r2/udev/control", "");
	assert_true(pb_udevd_running());
	assert_false(pb_journald_running());
}

/* A tree replaced at the same path is seen after pb_roots_reset(). */
static void reset_reopens(void **st)
{
	(void)st;
	char buf[32], p[PATH_MAX], q[PATH_MAX];
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "attr"), 2);
	mkdir_in("new");
	put("new/attr", "new");
	snprintf(p, sizeof(p), "%s/sys", tmp);
	snprintf(q, sizeof(q), "%s/old", tmp);
	assert_int_equal(rename(p, q), 0);
	snprintf(q, sizeof(q), "%s/new", tmp);
	assert_int_equal(rename(q, p), 0);
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "attr"), 2); /* the old fd */
	pb_roots_reset();
	assert_int_equal(pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "attr"), 3);
	assert_string_equal(buf, "new");
}

/* tracefs: where the mount table says, else debugfs's tracing directory, else none. */
static void tracefs_root(void **st)
{
	(void)st;
	char mounts[PATH_MAX * 2], p[PATH_MAX];
	mkdir_in("proc");
	mkdir_in("tracing");
	put("tracing/kprobe_events", "");
	mkdir_in("debug");
	mkdir_in("debug/tracing");
	put("debug/tracing/kprobe_events", "");
	set_root("PROBEBENCH_PROCFS", "proc");
	put("proc/mounts", "proc /proc proc rw 0 0\n");
	assert_null(pb_root_path(PB_ROOT_TRACEFS));
	assert_int_equal(pb_access(PB_ROOT_TRACEFS, F_OK, "kprobe_events"), -ENOENT);
	snprintf(mounts, sizeof(mounts), "debugfs %s/debug debugfs rw 0 0\n", tmp);
	put("proc/mounts", mounts);
	snprintf(p, sizeof(p), "%s/debug/tracing", tmp);
	assert_string_equal(pb_root_path(PB_ROOT_TRACEFS), p);
	assert_int_equal(pb_access(PB_ROOT_TRACEFS, F_OK, "kprobe_events"), 0);
	snprintf(mounts, sizeof(mounts),
		 "debugfs %s/debug debugfs rw 0 0\ntracefs %s/tracing tracefs rw 0 0\n", tmp, tmp);
	put("proc/mounts", mounts);
	snprintf(p, sizeof(p), "%s/tracing", tmp);
	assert_string_equal(pb_root_path(PB_ROOT_TRACEFS), p);
	assert_int_equal(pb_unlink(PB_ROOT_TRACEFS, "kprobe_events"), 0);
	assert_int_equal(pb_access(PB_ROOT_TRACEFS, F_OK, "kprobe_events"), -ENOENT);
}

/* The path-based helpers of util.h keep the same rules, relative to the working directory. */
static void path_helpers_same_rules(void **st)
{
	(void)st;
	char buf[32], p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/sys/fifo", tmp);
	assert_int_equal(pb_read_str(p, buf, sizeof(buf)), -EINVAL);
	snprintf(p, sizeof(p), "%s/sys/dir", tmp);
	assert_int_equal(pb_read_str(p, buf, sizeof(buf)), -EISDIR);
	snprintf(p, sizeof(p), "%s/sys/devices/dev/driver", tmp);
	assert_int_equal(pb_readlink_base(p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "drv");
}

/* Whole files the tool is pointed at: bounded, and only regular ones (no FIFO, no /dev/zero). */
static void whole_regular_files_bounded(void **st)
{
	(void)st;
	char p[PATH_MAX], *text = NULL;
	size_t len = 0;
	alarm(10); /* a FIFO that blocked would hang here: fail instead */
	snprintf(p, sizeof(p), "%s/sys/attr", tmp);
	assert_int_equal(pb_read_regular_at(AT_FDCWD, p, 0, 3, &text, &len), 0);
	assert_string_equal(text, "42\n");
	assert_int_equal(len, 3);
	free(text);
	assert_int_equal(pb_read_regular_at(AT_FDCWD, p, 0, 2, &text, &len), -EFBIG);
	snprintf(p, sizeof(p), "%s/sys/fifo", tmp);
	assert_int_equal(pb_read_regular_at(AT_FDCWD, p, 0, 1 << 20, &text, NULL), -EINVAL);
	assert_int_equal(pb_read_regular_at(AT_FDCWD, "/dev/zero", 0, 1 << 20, &text, NULL),
			 -EINVAL);
	snprintf(p, sizeof(p), "%s/sys/dir", tmp);
	assert_int_equal(pb_read_regular_at(AT_FDCWD, p, 0, 1 << 20, &text, NULL), -EISDIR);
	snprintf(p, sizeof(p), "%s/zero", tmp);
	assert_int_equal(symlink("/dev/zero", p), 0);
	assert_int_equal(pb_read_regular_at(AT_FDCWD, p, O_NOFOLLOW, 1 << 20, &text, NULL), -ELOOP);
	alarm(0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(reads_and_writes_regular_files),
	    T(refuses_fifo),
	    T(refuses_directory_as_file),
	    T(refuses_file_as_directory),
	    T(refuses_symlink_loop),
	    T(device_nodes),
	    T(no_escape),
	    T(roots_from_environment),
	    T(reset_reopens),
	    T(tracefs_root),
	    T(path_helpers_same_rules),
	    T(whole_regular_files_bounded),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "probebench/paths.h"
#include "probebench/util.h"

static void parse_long_strict(void **state)
{
	(void)state;
	long v;
	assert_int_equal(pb_parse_long("42", 10, 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(pb_parse_long("0x1af4", 0, 0, 0xffff, &v), 0);
	assert_int_equal(v, 0x1af4);
	assert_int_equal(pb_parse_long("-1", 10, -1, 10, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(pb_parse_long("12abc", 10, 0, 100, &v), -EINVAL);
	assert_int_equal(pb_parse_long("", 10, 0, 100, &v), -EINVAL);
	assert_int_equal(pb_parse_long("101", 10, 0, 100, &v), -ERANGE);
	assert_int_equal(pb_parse_long("99999999999999999999999", 10, LONG_MIN, LONG_MAX, &v),
			 -ERANGE);
}

static void parse_duration(void **state)
{
	(void)state;
	uint64_t ns;
	assert_int_equal(pb_parse_duration_ns("2", &ns), 0);
	assert_true(ns == 2000000000ull);
	assert_int_equal(pb_parse_duration_ns("10ms", &ns), 0);
	assert_true(ns == 10000000ull);
	assert_int_equal(pb_parse_duration_ns("1.5s", &ns), 0);
	assert_true(ns == 1500000000ull);
	assert_int_equal(pb_parse_duration_ns("250us", &ns), 0);
	assert_true(ns == 250000ull);
	assert_int_equal(pb_parse_duration_ns("1m", &ns), 0);
	assert_true(ns == 60000000000ull);
	assert_int_equal(pb_parse_duration_ns("5parsecs", &ns), -EINVAL);
	assert_int_equal(pb_parse_duration_ns("-1s", &ns), -EINVAL);
	assert_int_equal(pb_parse_duration_ns("", &ns), -EINVAL);
}

static void read_str_strips_newline(void **state)
{
	(void)state;
	char path[] = "/tmp/pb-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "virtio-pci\n", 11), 11);
	close(fd);
	char buf[32];
	assert_int_equal(pb_read_str(path, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "virtio-pci");
	char small[4];
	assert_int_equal(pb_read_str(path, small, sizeof(small)), -ENAMETOOLONG);
	unlink(path);
	assert_int_equal(pb_read_str(path, buf, sizeof(buf)), -ENOENT);
}

/* Below means at a path component boundary, never a mere prefix, never itself. */
static void path_below(void **state)
{
	(void)state;
	assert_true(pb_path_below("/sys/devices/pci0000:00/0000:00:05.0/virtio4",
				  "/sys/devices/pci0000:00/0000:00:05.0"));
	assert_false(pb_path_below("/sys/devices/pci0000:00/0000:00:05.0",
				   "/sys/devices/pci0000:00/0000:00:05.0"));
	assert_false(pb_path_below("/sys/devices/pci0000:00/0000:00:05.00",
				   "/sys/devices/pci0000:00/0000:00:05.0"));
	assert_false(pb_path_below("/sys/devices/pci0000:00/0000:00:05.0/",
				   "/sys/devices/pci0000:00/0000:00:05.0"));
}

/* A FIFO or a directory where an attribute belongs is refused, and opening the FIFO (no writer
 * on the other end) does not block. */
static void only_regular_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/pb-test-XXXXXX", fifo[64], buf[32];
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(pb_read_str(fifo, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(pb_read_str(dir, buf, sizeof(buf)), -EISDIR);
	assert_int_equal(pb_write_str(dir, "1"), -EISDIR);
	/* no reader: the non-blocking open says so instead of waiting */
	assert_int_equal(pb_write_str(fifo, "1"), -ENXIO);
	unlink(fifo);
	rmdir(dir);
}

/* The run root's sockets tell whether udevd and journald are there. */
static void run_root_daemons(void **state)
{
	(void)state;
	char dir[] = "/tmp/pb-test-XXXXXX", p[128];
	assert_non_null(mkdtemp(dir));
	setenv("PROBEBENCH_RUNDIR", dir, 1);
	assert_false(pb_udevd_running());
	snprintf(p, sizeof(p), "%s/udev", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/udev/control", dir);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	assert_true(pb_udevd_running());
	assert_false(pb_journald_running());
	unlink(p);
	snprintf(p, sizeof(p), "%s/udev", dir);
	rmdir(p);
	rmdir(dir);
	unsetenv("PROBEBENCH_RUNDIR");
}

static void paths_follow_environment(void **state)
{
	(void)state;
	char buf[64];
	/* sysfs is /sys whatever the environment says (tests put a tree there with umockdev). */
	setenv("PROBEBENCH_SYSFS", "/tmp/fake-sys", 1);
	assert_int_equal(pb_sys_path(buf, sizeof(buf), "bus/%s/drivers", "pci"), 0);
	assert_string_equal(buf, "/sys/bus/pci/drivers");
	unsetenv("PROBEBENCH_SYSFS");
	assert_int_equal(pb_sys_path(buf, sizeof(buf), "bus/pci"), 0);
	assert_string_equal(buf, "/sys/bus/pci");
	assert_int_equal(pb_sys_path(buf, 8, "bus/pci/devices"), -ENAMETOOLONG);
}

/* Entries of dir other than "." and ".."; their names joined with '/' into names. */
static size_t dir_entries(const char *dir, char *names, size_t size)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	names[0] = '\0';
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			n++;
			snprintf(names + strlen(names), size - strlen(names), "%s/", e->d_name);
		}
	closedir(d);
	return n;
}

static void read_all(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static void atomic_write_content_and_mode(void **state)
{
	(void)state;
	char dir[] = "/tmp/pb-atomic-XXXXXX", path[64], buf[64], names[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f.json", dir);
	mode_t old = umask(022);
	assert_int_equal(pb_write_file_atomic(path, "one\n", 4, 0640, 0), 0);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, "one\n");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* a replacement is a new file: its own mode, the old content gone, nothing else left */
	assert_int_equal(pb_write_file_atomic(path, "two", 3, 0600, PB_WRITE_ATOMIC_NO_SYNC), 0);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, "two");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* the umask applies as it does to open(2) */
	assert_int_equal(pb_write_file_atomic(path, "", 0, 0666, 0), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_size, 0);
	umask(old);
	assert_int_equal(dir_entries(dir, names, sizeof(names)), 1);
	assert_string_equal(names, "f.json/");
	/* a relative path works in the current directory */
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(pb_write_file_atomic("g", "x", 1, 0644, 0), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(dir_entries(dir, names, sizeof(names)), 2);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -r '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void atomic_write_failures_leave_nothing(void **state)
{
	(void)state;
	char dir[] = "/tmp/pb-atomic-XXXXXX", path[96], names[256], buf[16];
	assert_non_null(mkdtemp(dir));
	/* the directory does not exist */
	snprintf(path, sizeof(path), "%s/missing/f", dir);
	assert_int_equal(pb_write_file_atomic(path, "a", 1, 0644, 0), -ENOENT);
	/* the target is a directory: the rename fails, the temporary file goes away */
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(pb_write_file_atomic(path, "a", 1, 0644, 0), -EISDIR);
	assert_int_equal(pb_write_file_atomic(path, "a", 1, 0644, PB_WRITE_ATOMIC_NO_SYNC),
			 -EISDIR);
	assert_int_equal(dir_entries(dir, names, sizeof(names)), 1);
	assert_string_equal(names, "sub/");
	/* a path naming a directory ("dir/") is refused before anything is created */
	snprintf(path, sizeof(path), "%s/", dir);
	assert_int_equal(pb_write_file_atomic(path, "a", 1, 0644, 0), -EISDIR);
	assert_int_equal(dir_entries(dir, names, sizeof(names)), 1);
	/* a failed replacement leaves the old file as it was */
	snprintf(path, sizeof(path), "%s/sub/keep", dir);
	assert_int_equal(pb_write_file_atomic(path, "old", 3, 0644, 0), 0);
	snprintf(path, sizeof(path), "%s/sub/keep/x", dir);
	assert_int_equal(pb_write_file_atomic(path, "new", 3, 0644, 0), -ENOTDIR);
	snprintf(path, sizeof(path), "%s/sub/keep", dir);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, "old");
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(dir_entries(path, names, sizeof(names)), 1);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -r '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Deadlines far off: no wrap into the past. */
static void saturating_time(void **state)
{
	(void)state;
	assert_true(pb_add_sat_u64(1, 2) == 3);
	assert_true(pb_add_sat_u64(UINT64_MAX - 1, 1) == UINT64_MAX);
	assert_true(pb_add_sat_u64(UINT64_MAX - 1, 5) == UINT64_MAX);
	uint64_t now_mono = 5000000000ull, now_real = 1795601700ull * 1000000000ull;
	assert_true(pb_mono_to_realtime_ns(now_mono + 7, now_mono, now_real) == now_real + 7);
	/* passed: now */
	assert_true(pb_mono_to_realtime_ns(now_mono - 7, now_mono, now_real) == now_real);
	/* every 1.8e10 s (the longest a config takes): beyond the realtime range, never before now
	 */
	uint64_t every = 18000000000ull * 1000000000ull;
	uint64_t due = pb_add_sat_u64(now_mono, every);
	assert_true(pb_mono_to_realtime_ns(due, now_mono, now_real) == UINT64_MAX);
	assert_true(pb_mono_to_realtime_ns(due, now_mono, now_real) > now_real);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_long_strict),
	    cmocka_unit_test(parse_duration),
	    cmocka_unit_test(read_str_strips_newline),
	    cmocka_unit_test(path_below),
	    cmocka_unit_test(only_regular_files),
	    cmocka_unit_test(run_root_daemons),
	    cmocka_unit_test(paths_follow_environment),
	    cmocka_unit_test(atomic_write_content_and_mode),
	    cmocka_unit_test(atomic_write_failures_leave_nothing),
	    cmocka_unit_test(saturating_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

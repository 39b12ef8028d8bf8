// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

static void paths_follow_environment(void **state)
{
	(void)state;
	char buf[64];
	setenv("PROBEBENCH_SYSFS", "/tmp/fake-sys", 1);
	assert_int_equal(pb_sys_path(buf, sizeof(buf), "bus/%s/drivers", "pci"), 0);
	assert_string_equal(buf, "/tmp/fake-sys/bus/pci/drivers");
	unsetenv("PROBEBENCH_SYSFS");
	assert_int_equal(pb_sys_path(buf, sizeof(buf), "bus/pci"), 0);
	assert_string_equal(buf, "/sys/bus/pci");
	assert_int_equal(pb_sys_path(buf, 8, "bus/pci/devices"), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_long_strict),
	    cmocka_unit_test(parse_duration),
	    cmocka_unit_test(read_str_strips_newline),
	    cmocka_unit_test(paths_follow_environment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

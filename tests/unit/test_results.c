// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "probebench/results.h"

#define S 1000000000ull

static void ids(void **state)
{
	(void)state;
	char id[PB_RESULT_ID_MAX];
	/* 2026-11-25T10:15:00.123Z */
	uint64_t t = 1795601700ull * S + 123000000ull;
	assert_int_equal(pb_result_id_make(t, "rng", id, sizeof(id)), 0);
	assert_string_equal(id, "20261125T101500.123Z-rng");
	uint64_t back;
	const char *plan;
	assert_int_equal(pb_result_id_parse(id, &back, &plan), 0);
	assert_true(back == t);
	assert_string_equal(plan, "rng");
	/* anything that could walk out of the directory or is not ours is refused */
	assert_false(pb_result_id_valid("../../etc/passwd"));
	assert_false(pb_result_id_valid("20261125T101500.123Z-../x"));
	assert_false(pb_result_id_valid("20261125T101500.123Z-"));
	assert_false(pb_result_id_valid("20261125T101500.123Z-a/b"));
	assert_false(pb_result_id_valid("latest"));
	assert_false(pb_result_id_valid("20261125T101500.123Z-.hidden"));
	assert_true(pb_result_id_valid("20261125T101500.123Z-a.b_c-d"));
}

static void retention(void **state)
{
	(void)state;
	char *list[] = {
	    (char *)"20261101T000000.000Z-a",
	    (char *)"20261120T000000.000Z-a",
	    (char *)"20261124T000000.000Z-a",
	    (char *)"20261125T000000.000Z-a",
	};
	bool del[4];
	uint64_t now = 1795608000ull * S; /* 2026-11-25T12:00:00Z */
	assert_int_equal(pb_retention_select(list, 4, 0, 0, now, del), 0);
	assert_int_equal(pb_retention_select(list, 4, 2, 0, now, del), 2);
	assert_true(del[0] && del[1] && !del[2] && !del[3]);
	/* 3 days: only the first two are older */
	assert_int_equal(pb_retention_select(list, 4, 0, 3 * 86400 * S, now, del), 2);
	assert_true(del[0] && del[1] && !del[2] && !del[3]);
	/* count and age together: the union */
	assert_int_equal(pb_retention_select(list, 4, 1, 10 * 86400 * S, now, del), 3);
	assert_true(del[0] && del[1] && del[2] && !del[3]);
	/* an age near 2^64 ns keeps everything (t + age wrapped and deleted every run) */
	assert_int_equal(pb_retention_select(list, 4, 0, UINT64_MAX - 1000, now, del), 0);
	assert_int_equal(pb_retention_select(list, 4, 0, 18000000000ull * S, now, del), 0);
	/* an age longer than the clock has run: nothing is older */
	assert_int_equal(pb_retention_select(list, 4, 0, now + 1, now, del), 0);
	assert_int_equal(pb_retention_select(list, 4, 0, now, now, del), 0);
}

static void store_list_read_retain(void **state)
{
	(void)state;
	char dir[] = "/tmp/pb-results-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char sub[64];
	snprintf(sub, sizeof(sub), "%s/runs", dir);
	const char *names[] = {"20261125T100000.000Z-b", "20261125T090000.000Z-a",
			       "20261125T110000.000Z-a"};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(pb_results_write(sub, names[i], "{\"x\": 1}\n"), 0);
	assert_int_equal(pb_results_write(sub, "../evil", "{}"), -EINVAL);
	char stray[128];
	snprintf(stray, sizeof(stray), "%s/notes.json", sub);
	FILE *f = fopen(stray, "w");
	assert_non_null(f);
	fclose(f);
	char **ids;
	size_t n;
	assert_int_equal(pb_results_list(sub, &ids, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0], names[1]);
	assert_string_equal(ids[2], names[2]);
	pb_results_ids_free(ids, n);
	char *text;
	assert_int_equal(pb_results_read(sub, names[0], &text), 0);
	assert_string_equal(text, "{\"x\": 1}\n");
	free(text);
	uint64_t size = 0;
	int fd = pb_results_open(sub, names[0], &size);
	assert_true(fd >= 0);
	assert_int_equal(size, 9);
	close(fd);
	assert_int_equal(pb_results_read(sub, "20261125T100000.000Z-zz", &text), -ENOENT);
	assert_int_equal(pb_results_apply_retention(sub, 1, 0, 0), 2);
	assert_int_equal(pb_results_list(sub, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], names[2]);
	pb_results_ids_free(ids, n);
	/* no temporary file is left behind, and files we do not own are untouched */
	assert_int_equal(access(stray, F_OK), 0);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s | grep tmp)\" && rm -r %s", sub, dir);
	assert_int_equal(system(cmd), 0);
}

/* A FIFO or a link to /dev/zero in the results directory is neither waited on nor read. */
static void special_files_not_read(void **state)
{
	(void)state;
	char dir[] = "/tmp/pb-results-XXXXXX", p[128], *text = NULL;
	uint64_t size = 0;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/20261125T100000.000Z-fifo.json", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	snprintf(p, sizeof(p), "%s/20261125T100000.000Z-zero.json", dir);
	assert_int_equal(symlink("/dev/zero", p), 0);
	alarm(10);
	assert_int_equal(pb_results_read(dir, "20261125T100000.000Z-fifo", &text), -EINVAL);
	assert_int_equal(pb_results_open(dir, "20261125T100000.000Z-fifo", &size), -EINVAL);
	assert_int_equal(pb_results_read(dir, "20261125T100000.000Z-zero", &text), -ELOOP);
	assert_int_equal(pb_results_open(dir, "20261125T100000.000Z-zero", &size), -ELOOP);
	alarm(0);
	assert_null(text);
	snprintf(p, sizeof(p), "rm -r %s", dir);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ids),
	    cmocka_unit_test(retention),
	    cmocka_unit_test(store_list_read_retain),
	    cmocka_unit_test(special_files_not_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

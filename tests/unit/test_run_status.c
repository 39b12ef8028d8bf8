// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * How a run ended (enum pb_run_status, run.h) and what each side makes of it: the exit code of
 * `probebench run` (cmd.h, doc/run.md), the number a stored record carries as "exit_code" and
 * reads back, the name the daemon labels it with. The three were one number before the library
 * had its own type; none of them may change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "probebench/cmd.h"
#include "probebench/record.h"
#include "probebench/run.h"

static const struct {
	enum pb_run_status st;
	int exit_code; /* doc/run.md, `probebench run --help` */
	const char *name;
} table[] = {
    {PB_RUN_OK, 0, "ok"},
    {PB_RUN_FAILED, 1, "failure"},
    {PB_RUN_INVALID, 2, "usage"},
    {PB_RUN_REFUSED, 3, "refused"},
    {PB_RUN_BIND_FAILED, 4, "bind_failed"},
    {PB_RUN_HUNG, 5, "timeout"},
    {PB_RUN_INTERRUPTED, 6, "interrupted"},
    {PB_RUN_GONE, 7, "gone"},
};

static void exit_codes_and_names(void **state)
{
	(void)state;
	assert_int_equal(sizeof(table) / sizeof(table[0]), PB_RUN_STATUS__MAX);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		assert_int_equal(pb_exit_of_run(table[i].st), table[i].exit_code);
		assert_string_equal(pb_run_status_name(table[i].st), table[i].name);
	}
	assert_string_equal(pb_run_status_name(PB_RUN_STATUS__MAX), "unknown");
	assert_string_equal(pb_run_status_name(-1), "unknown");
}

static int64_t written_exit_code(const struct pb_run_record *r)
{
	struct json_object *j = pb_run_record_to_json(r);
	struct json_object *v = json_object_object_get(j, "exit_code");
	assert_non_null(v);
	assert_true(json_object_is_type(v, json_type_int));
	int64_t n = json_object_get_int64(v);
	json_object_put(j);
	return n;
}

/* A stored record carries the exit code `probebench run` gave, and reads back as the status. */
static void record_number(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct pb_run_record *r = calloc(1, sizeof(*r));
		assert_non_null(r);
		r->run_status = table[i].st;
		assert_int_equal(written_exit_code(r), table[i].exit_code);
		struct json_object *j = pb_run_record_to_json(r);
		struct pb_run_record *back = NULL;
		char err[200] = "";
		assert_int_equal(pb_run_record_from_json(j, &back, err, sizeof(err)), 0);
		assert_int_equal(back->run_status, table[i].st);
		json_object_put(j);
		pb_run_record_free(back);
		pb_run_record_free(r);
	}
}

/* A number no run gives is read as a failure, not kept as a status that does not exist. */
static void record_unknown_number(void **state)
{
	(void)state;
	struct pb_run_record *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	struct json_object *j = pb_run_record_to_json(r);
	json_object_object_add(j, "exit_code", json_object_new_int(9));
	struct pb_run_record *back = NULL;
	char err[200] = "";
	assert_int_equal(pb_run_record_from_json(j, &back, err, sizeof(err)), 0);
	assert_int_equal(back->run_status, PB_RUN_FAILED);
	json_object_put(j);
	pb_run_record_free(back);
	pb_run_record_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exit_codes_and_names),
	    cmocka_unit_test(record_number),
	    cmocka_unit_test(record_unknown_number),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

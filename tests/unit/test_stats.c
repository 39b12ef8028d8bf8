// SPDX-License-Identifier: GPL-2.0-or-later
#include <json-c/json.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "probebench/stats.h"

static void one_to_hundred(void **state)
{
	(void)state;
	uint64_t v[100];
	/* shuffled order: the result must not depend on it */
	for (int i = 0; i < 100; i++)
		v[i] = (uint64_t)((i * 37) % 100 + 1);
	struct pb_stats s;
	assert_int_equal(pb_stats_compute(v, 100, &s), 0);
	assert_int_equal(s.n, 100);
	assert_int_equal(s.min, 1);
	assert_int_equal(s.max, 100);
	assert_true(fabs(s.mean - 50.5) < 1e-9);
	assert_true(fabs(s.stddev - sqrt((100.0 * 100.0 - 1.0) / 12.0)) < 1e-9);
	assert_int_equal(s.percentile[0], 50); /* nearest rank: ceil(0.5 * 100) = 50 */
	assert_int_equal(s.percentile[1], 90);
	assert_int_equal(s.percentile[2], 99);
	assert_int_equal(s.percentile[3], 100); /* ceil(99.9) = 100 */
	/* log2 buckets: [1,2) 1, [2,4) 2, [4,8) 4, ..., [64,128) 37 */
	assert_int_equal(s.bins[1], 1);
	assert_int_equal(s.bins[2], 2);
	assert_int_equal(s.bins[3], 4);
	assert_int_equal(s.bins[6], 32);
	assert_int_equal(s.bins[7], 37);
	assert_int_equal(s.bins[0], 0);
}

static void nearest_rank_small(void **state)
{
	(void)state;
	uint64_t sorted[] = {10, 20, 30, 40};
	assert_int_equal(pb_stats_percentile_sorted(sorted, 4, 50), 20);
	assert_int_equal(pb_stats_percentile_sorted(sorted, 4, 51), 30);
	assert_int_equal(pb_stats_percentile_sorted(sorted, 4, 99.9), 40);
	assert_int_equal(pb_stats_percentile_sorted(sorted, 4, 0), 10);
	uint64_t thousand[1000];
	for (int i = 0; i < 1000; i++)
		thousand[i] = i + 1;
	assert_int_equal(pb_stats_percentile_sorted(thousand, 1000, 99.9), 999);
	assert_int_equal(pb_stats_percentile_sorted(thousand, 1000, 90), 900);
}

static void empty_and_single(void **state)
{
	(void)state;
	struct pb_stats s;
	assert_int_equal(pb_stats_compute(NULL, 0, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.max, 0);
	uint64_t one = 4200000;
	assert_int_equal(pb_stats_compute(&one, 1, &s), 0);
	assert_int_equal(s.min, 4200000);
	assert_int_equal(s.percentile[3], 4200000);
	assert_true(s.stddev == 0.0);
	assert_int_equal(s.bins[23], 1); /* 2^22 = 4194304 <= 4200000 < 2^23 */
}

static void bucket_floor(void **state)
{
	(void)state;
	assert_int_equal(pb_stats_bucket_floor(0), 0);
	assert_int_equal(pb_stats_bucket_floor(1), 1);
	assert_int_equal(pb_stats_bucket_floor(3), 2);
	assert_int_equal(pb_stats_bucket_floor(1024), 1024);
	assert_int_equal(pb_stats_bucket_floor(2047), 1024);
	assert_true(pb_stats_bucket_floor(UINT64_MAX) == UINT64_C(1) << 63);
}

static void large_values_stable(void **state)
{
	(void)state;
	/* ns timestamps-sized values with a tiny spread: the naive sum of squares loses this */
	uint64_t v[] = {1000000000000001, 1000000000000003, 1000000000000005};
	struct pb_stats s;
	assert_int_equal(pb_stats_compute(v, 3, &s), 0);
	assert_true(fabs(s.stddev - sqrt(8.0 / 3.0)) < 0.01);
}

static void json_shape(void **state)
{
	(void)state;
	uint64_t v[] = {0, 5, 5, 1500};
	struct pb_stats s;
	assert_int_equal(pb_stats_compute(v, 4, &s), 0);
	struct json_object *o = pb_stats_to_json(&s), *x, *y;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "N", &x));
	assert_int_equal(json_object_get_int(x), 4);
	assert_true(json_object_object_get_ex(o, "percentile", &x));
	assert_true(json_object_object_get_ex(x, "99.900000", &y));
	assert_int_equal(json_object_get_int(y), 1500);
	assert_true(json_object_object_get_ex(x, "50.000000", &y));
	assert_int_equal(json_object_get_int(y), 5);
	assert_true(json_object_object_get_ex(o, "bins", &x));
	assert_int_equal(json_object_object_length(x), 3); /* 0, 4, 1024: non-empty only */
	assert_true(json_object_object_get_ex(x, "4", &y));
	assert_int_equal(json_object_get_int(y), 2);
	assert_true(json_object_object_get_ex(x, "1024", &y));
	assert_true(json_object_object_get_ex(x, "0", &y));
	json_object_put(o);
	char key[32];
	pb_stats_percentile_key(99.9, key, sizeof(key));
	assert_string_equal(key, "99.900000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(one_to_hundred),	   cmocka_unit_test(nearest_rank_small),
	    cmocka_unit_test(empty_and_single),	   cmocka_unit_test(bucket_floor),
	    cmocka_unit_test(large_values_stable), cmocka_unit_test(json_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

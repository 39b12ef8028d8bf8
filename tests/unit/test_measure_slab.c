// SPDX-License-Identifier: GPL-2.0-or-later
/* Slab objects by cache and node (measure_slab.c): SLUB's objects file, before/after deltas. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probebench/measure.h"
#include "probebench/observer.h"

static void parse_objects(void **state)
{
	(void)state;
	uint64_t total, by[4];
	unsigned n;
	assert_int_equal(pb_slab_parse_objects("3114 N0=3114\n", &total, by, 4, &n), 0);
	assert_true(total == 3114 && by[0] == 3114 && n == 1);
	assert_int_equal(pb_slab_parse_objects("120 N0=20 N1=100", &total, by, 4, &n), 0);
	assert_true(total == 120 && by[0] == 20 && by[1] == 100 && n == 2);
	/* a node beyond what is kept: the total stays, the node is dropped */
	assert_int_equal(pb_slab_parse_objects("7 N0=2 N9=5", &total, by, 4, &n), 0);
	assert_true(total == 7 && by[0] == 2 && n == 1);
	assert_int_equal(pb_slab_parse_objects("0\n", &total, by, 4, &n), 0);
	assert_true(total == 0 && n == 0);
	assert_int_equal(pb_slab_parse_objects("", &total, by, 4, &n), -EINVAL);
	assert_int_equal(pb_slab_parse_objects("12 N0=x", &total, by, 4, &n), -EINVAL);
	assert_int_equal(pb_slab_parse_objects("N0=4", &total, by, 4, &n), -EINVAL);
}

static struct pb_slab_count cache(const char *name, uint64_t n0, uint64_t n1)
{
	struct pb_slab_count c = {.total = n0 + n1, .by_node = {n0, n1}, .n_nodes = 2};
	snprintf(c.cache, sizeof(c.cache), "%s", name);
	return c;
}

static void deltas(void **state)
{
	(void)state;
	struct pb_slab_count b[] = {cache("a", 10, 0), cache("kmalloc-64", 100, 5),
				    cache("same", 3, 3), cache("shrunk", 50, 50)};
	struct pb_slab_count a[] = {cache("a", 12, 0), cache("kmalloc-64", 100, 45),
				    cache("new", 0, 7), cache("same", 3, 3),
				    cache("shrunk", 40, 50)};
	struct pb_slab_snap before = {b, 4}, after = {a, 5};
	struct pb_slab_delta *d;
	size_t n;
	assert_int_equal(pb_slab_diff(&before, &after, 16, &d, &n), 0);
	assert_int_equal(n, 4); /* "same" did not change */
	/* largest change first, whichever its sign */
	assert_string_equal(d[0].cache, "kmalloc-64");
	assert_true(d[0].total == 40 && d[0].by_node[0] == 0 && d[0].by_node[1] == 40);
	assert_string_equal(d[1].cache, "shrunk");
	assert_true(d[1].total == -10 && d[1].by_node[0] == -10);
	assert_string_equal(d[2].cache, "new");
	assert_true(d[2].total == 7 && d[2].by_node[1] == 7);
	assert_string_equal(d[3].cache, "a");
	assert_true(d[3].total == 2);
	free(d);
	assert_int_equal(pb_slab_diff(&before, &after, 2, &d, &n), 0);
	assert_int_equal(n, 2);
	free(d);
	assert_int_equal(pb_slab_diff(&before, &before, 16, &d, &n), 0);
	assert_int_equal(n, 0);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_objects),
	    cmocka_unit_test(deltas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

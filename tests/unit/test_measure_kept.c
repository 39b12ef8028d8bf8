// SPDX-License-Identifier: GPL-2.0-or-later
/* Pages freed again and pages kept (measure_kept.c): pairing, the pfn filter, the tally. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "probebench/measure.h"
#include "probebench/observer.h"
#include "probebench/record.h"

static struct pb_mevent freed(uint64_t ts, uint64_t pfn, unsigned order)
{
	return (struct pb_mevent){.type = PB_EV_PAGE_FREE, .ts = ts, .page = {pfn, order}};
}

/* A free counts for a block only after the block was allocated, and only over its pages. */
static void frees_pair_with_blocks(void **state)
{
	(void)state;
	struct pb_page_block b[] = {
	    {.pfn = 100, .order = 0, .node = 0, .ts = 10},  /* freed at 20 */
	    {.pfn = 200, .order = 2, .node = 1, .ts = 10},  /* pages 200..203: 201 and 203 freed */
	    {.pfn = 300, .order = 0, .node = 1, .ts = 50},  /* freed at 20: before its allocation */
	    {.pfn = 400, .order = 0, .node = 1, .ts = 10},  /* inside an order-3 free 400..407 */
	    {.pfn = 500, .order = 1, .node = -1, .ts = 10}, /* freed twice: counted once */
	    {.pfn = 600, .order = 0, .node = 0, .ts = 10},  /* a neighbour freed, not it */
	};
	struct pb_mevent ev[] = {
	    freed(20, 100, 0),
	    freed(30, 201, 0),
	    freed(31, 203, 0),
	    freed(20, 300, 0),
	    freed(40, 400, 3),
	    freed(41, 500, 1),
	    freed(42, 500, 1),
	    freed(43, 601, 0),
	    {.type = PB_EV_PAGE_ALLOC, .ts = 44, .page = {600, 0}}, /* not a free */
	};
	assert_int_equal(pb_blocks_apply_frees(b, 6, ev, sizeof(ev) / sizeof(ev[0])), 0);
	assert_true(b[0].freed == 1);
	assert_true(b[1].freed == 2);
	assert_true(b[2].freed == 0);
	assert_true(b[3].freed == 1);
	assert_true(b[4].freed == 2);
	assert_true(b[5].freed == 0);

	/* A second pass (the watch after the window) adds to what the window freed. */
	struct pb_mevent later[] = {freed(60, 200, 0), freed(61, 202, 0)};
	assert_int_equal(pb_blocks_apply_frees(&b[1], 1, later, 2), 0);
	assert_true(b[1].freed == 4);

	struct pb_kept_pages k = {0};
	pb_kept_from_blocks(b, 6, &k);
	/* held: 100 0, 200.. 0, 300 1 (node 1), 400 0, 500 0 (unknown), 600 1 (node 0) */
	assert_true(k.pages_total == 2);
	assert_true(k.pages_by_node[0] == 1 && k.pages_by_node[1] == 1);
	assert_int_equal(k.n_nodes, 2);
	assert_true(k.pages_unknown_node == 0);
	assert_true(k.freed_pages == 1 + 4 + 1 + 2);
}

/* No free at all: nothing freed, everything held; an empty list of events is fine. */
static void no_frees(void **state)
{
	(void)state;
	struct pb_page_block b[] = {{.pfn = 7, .order = 3, .node = 2, .ts = 1}};
	assert_int_equal(pb_blocks_apply_frees(b, 1, NULL, 0), 0);
	struct pb_kept_pages k = {0};
	pb_kept_from_blocks(b, 1, &k);
	assert_true(k.pages_total == 8 && k.pages_by_node[2] == 8 && k.n_nodes == 3);
}

static void pfn_filter(void **state)
{
	(void)state;
	char buf[512];
	struct pb_page_block b[] = {
	    {.pfn = 10, .order = 0},
	    {.pfn = 11, .order = 1},  /* 10..12: one range */
	    {.pfn = 100, .order = 2}, /* 100..103 */
	    {.pfn = 50, .order = 0},  /* out of order */
	};
	int n = pb_blocks_pfn_filter(b, 4, 8, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "(pfn >= 10 && pfn < 13) || (pfn >= 50 && pfn < 51) || "
				 "(pfn >= 100 && pfn < 104)");
	/* two ranges at most: the closest neighbours (13..50, gap 37) join first */
	n = pb_blocks_pfn_filter(b, 4, 2, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "(pfn >= 10 && pfn < 51) || (pfn >= 100 && pfn < 104)");
	n = pb_blocks_pfn_filter(b, 4, 1, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "(pfn >= 10 && pfn < 104)");
	assert_int_equal(pb_blocks_pfn_filter(b, 4, 8, buf, 20), -ENOSPC);
	assert_int_equal(pb_blocks_pfn_filter(b, 0, 8, buf, sizeof(buf)), -EINVAL);
}

/* The shared record: the facts and the watch each hold a reference; JSON of each state. */
static void kept_record(void **state)
{
	(void)state;
	struct pb_kept_pages *k = pb_kept_new();
	assert_non_null(k);
	assert_int_equal(k->state, PB_KEPT_WATCHING);
	assert_ptr_equal(pb_kept_ref(k), k);
	assert_int_equal(k->refs, 2);
	pb_kept_unref(k);
	assert_int_equal(k->refs, 1);

	struct pb_iteration_facts f = {.memory_measured = true,
				       .pfn_map_source = "memory_blocks",
				       .n_nodes = 2,
				       .frees_measured = true,
				       .frees_exact = true,
				       .pages_freed_total = 3,
				       .kept = k};
	f.pages_freed_by_node[1] = 3;
	k->state = PB_KEPT_NEXT_UNBIND;
	k->pages_by_node[1] = 16;
	k->n_nodes = 2;
	k->pages_total = 16;
	k->watched_ns = 5000;
	struct json_object *j = pb_iteration_facts_to_json(&f), *mem, *kj, *x;
	assert_true(json_object_object_get_ex(j, "memory", &mem));
	assert_true(json_object_object_get_ex(mem, "kept", &kj));
	assert_true(json_object_object_get_ex(kj, "state", &x));
	assert_string_equal(json_object_get_string(x), "next_unbind");
	assert_true(json_object_object_get_ex(kj, "pages_total", &x));
	assert_int_equal(json_object_get_int64(x), 16);
	assert_true(json_object_object_get_ex(mem, "freed_in_window", &x));
	assert_true(json_object_object_get_ex(x, "pages_total", &x));
	assert_int_equal(json_object_get_int64(x), 3);
	json_object_put(j);

	k->state = PB_KEPT_UNKNOWN;
	snprintf(k->why, sizeof(k->why), "reading the page-free events: No such device");
	j = pb_iteration_facts_to_json(&f);
	assert_true(json_object_object_get_ex(j, "memory", &mem));
	assert_true(json_object_object_get_ex(mem, "kept", &kj));
	assert_true(json_object_object_get_ex(kj, "pages_total", &x));
	assert_null(x); /* unknown: no figure */
	assert_true(json_object_object_get_ex(kj, "why", &x));
	assert_non_null(x);
	json_object_put(j);
	pb_iteration_facts_clear(&f); /* drops the facts' reference: k freed (ASan checks) */
	assert_null(f.kept);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(frees_pair_with_blocks),
	    cmocka_unit_test(no_frees),
	    cmocka_unit_test(pfn_filter),
	    cmocka_unit_test(kept_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

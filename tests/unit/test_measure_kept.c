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

/* Every page of every block lies in one of the filter's ranges; returns how many ranges. */
static size_t filter_covers(const char *f, const struct pb_page_block *b, size_t n)
{
	unsigned long long lo[128], hi[128];
	size_t m = 0;
	for (const char *p = f; (p = strstr(p, "(pfn >= ")) && m < 128; p++)
		assert_int_equal(sscanf(p, "(pfn >= %llu && pfn < %llu)", &lo[m], &hi[m]), 2), m++;
	for (size_t i = 0; i < n; i++) {
		bool in = false;
		for (size_t k = 0; k < m && !in; k++)
			in = b[i].pfn >= lo[k] && b[i].pfn + (1ull << b[i].order) <= hi[k];
		if (!in)
			fail_msg("block %llu (order %u) is not in the filter %s",
				 (unsigned long long)b[i].pfn, b[i].order, f);
	}
	return m;
}

/* The shared watch's filter: two targets' blocks, far apart and many; as many ranges as fit a
 * page (the perf ioctl's limit), fewer and larger when the text would not fit. */
static void pfn_filter_of_watches(void **state)
{
	(void)state;
	struct pb_page_block b[100];
	char buf[4096];
	for (size_t i = 0; i < 100; i++) /* target A's blocks, then target B's, 10^10 on */
		b[i] = (struct pb_page_block){
		    .pfn = 10000000000ull + (i % 2 ? 5000000 : 0) + i * 1000, .order = i % 3};
	int n = pb_blocks_pfn_filter_fit(b, 100, 64, buf, sizeof(buf));
	assert_true(n > 0 && n < (int)sizeof(buf));
	assert_int_equal(filter_covers(buf, b, 100), 64);
	/* a smaller buffer: 64 ranges do not fit, 32 do not either, 16 do */
	char small[1024];
	assert_int_equal(pb_blocks_pfn_filter(b, 100, 64, small, sizeof(small)), -ENOSPC);
	assert_int_equal(pb_blocks_pfn_filter(b, 100, 32, small, sizeof(small)), -ENOSPC);
	n = pb_blocks_pfn_filter_fit(b, 100, 64, small, sizeof(small));
	assert_true(n > 0);
	assert_int_equal(filter_covers(small, b, 100), 16);
	/* what fits: nothing at all, or every range */
	assert_int_equal(pb_blocks_pfn_filter_fit(b, 100, 64, small, 10), -ENOSPC);
	n = pb_blocks_pfn_filter_fit(b, 4, 64, small, sizeof(small));
	assert_int_equal(filter_covers(small, b, 4), 4);
	assert_int_equal(pb_blocks_pfn_filter_fit(b, 0, 64, buf, sizeof(buf)), -EINVAL);
}

/*
 * Two targets' watches on one set of events, moved to a second set when B's watch starts: each
 * takes the frees of its own pages, from its own start, none twice. A watches from 10 on set 1;
 * B starts at 50 on set 2 (its filter covers both), A moves to set 2 at 55: set 1's records
 * before 55 are A's until then, set 2's from 55 on (it has 52 as well: not counted twice).
 */
static void shared_watch_demux(void **state)
{
	(void)state;
	struct pb_page_block a[] = {{.pfn = 100, .order = 1, .node = 0, .ts = 10},
				    {.pfn = 300, .order = 0, .node = 0, .ts = 10}};
	struct pb_page_block b[] = {{.pfn = 200, .order = 2, .node = 1, .ts = 50},
				    {.pfn = 301, .order = 0, .node = 1, .ts = 50}};
	struct pb_mevent set1[] = {
	    freed(5, 100, 0),  /* before A's watch */
	    freed(20, 100, 0), /* A */
	    freed(52, 101, 0), /* A, seen by both sets */
	    freed(56, 300, 0), /* A, after the move: set 2's */
	};
	struct pb_mevent set2[] = {
	    freed(51, 200, 0), /* B */
	    freed(52, 101, 0), /* A: set 1 had it */
	    freed(53, 201, 1), /* B: 201 and 202 */
	    freed(56, 300, 0), /* A */
	    freed(57, 400, 0), /* neither: the filter's ranges may let more through */
	    freed(58, 301, 0), /* B */
	};
	size_t n2 = sizeof(set2) / sizeof(set2[0]);
	assert_int_equal(pb_blocks_move(a, 2, set1, 4, 55), 0);
	assert_true(a[0].freed == 2 && a[1].freed == 0);
	assert_true(a[0].ts == 55 && a[1].ts == 55);
	/* the watches end: each handle's records of set 2 */
	assert_int_equal(pb_blocks_apply_frees(a, 2, set2, n2), 0);
	assert_int_equal(pb_blocks_apply_frees(b, 2, set2, n2), 0);
	assert_true(a[0].freed == 2 && a[1].freed == 1);
	assert_true(b[0].freed == 3 && b[1].freed == 1);
	struct pb_kept_pages ka = {0}, kb = {0};
	pb_kept_from_blocks(a, 2, &ka);
	pb_kept_from_blocks(b, 2, &kb);
	assert_true(ka.pages_total == 0 && ka.freed_pages == 3);
	assert_true(kb.pages_total == 1 && kb.pages_by_node[1] == 1 && kb.freed_pages == 4);
	/* a free both sets saw counts once: the old set's, before the move */
	struct pb_page_block c = {.pfn = 300, .order = 1, .ts = 10};
	struct pb_mevent both[] = {freed(52, 300, 0)};
	assert_int_equal(pb_blocks_move(&c, 1, both, 1, 55), 0);
	assert_int_equal(pb_blocks_apply_frees(&c, 1, both, 1), 0);
	assert_true(c.freed == 1);
	assert_int_equal(pb_blocks_apply_frees_until(&c, 1, set2, n2, 56), 0);
	assert_true(c.freed == 1); /* 56 is not before 56 */
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
	    cmocka_unit_test(pfn_filter_of_watches),
	    cmocka_unit_test(shared_watch_demux),
	    cmocka_unit_test(kept_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

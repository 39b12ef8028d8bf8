// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probebench/measure.h"
#include "testbed.h"

static void use_root(const char *name)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/measure/%s", getenv("PB_FIXTURES"), name);
	assert_int_equal(testbed_enter(p), 0);
	snprintf(p, sizeof(p), "%s/measure/%s/proc", getenv("PB_FIXTURES"), name);
	setenv("PROBEBENCH_PROCFS", p, 1);
}

/* 128 MiB blocks, 4 KiB pages: 32768 pfns per block; node0 = blocks 0-1, node1 = 2, 3, 5. */
static void blocks_two_nodes(void **state)
{
	(void)state;
	struct pb_pfnmap m = {.source = "none"};
	use_root("blocks2");
	assert_int_equal(pb_pfnmap_load(&m, 4096), 0);
	assert_string_equal(m.source, "memory_blocks");
	assert_int_equal(m.n_nodes, 2);
	assert_int_equal(m.n, 3); /* 0-1 and 2-3 merged, 5 alone */
	assert_int_equal(pb_pfnmap_node(&m, 0), 0);
	assert_int_equal(pb_pfnmap_node(&m, 65535), 0);
	assert_int_equal(pb_pfnmap_node(&m, 65536), 1);
	assert_int_equal(pb_pfnmap_node(&m, 131071), 1);
	assert_int_equal(pb_pfnmap_node(&m, 131072), -1); /* block 4: offline hole */
	assert_int_equal(pb_pfnmap_node(&m, 163840), 1);
	assert_int_equal(pb_pfnmap_node(&m, 196607), 1);
	assert_int_equal(pb_pfnmap_node(&m, 196608), -1);
	/* 64 KiB pages: 2048 pfns per block. */
	assert_int_equal(pb_pfnmap_load_blocks(&m, 65536), 0);
	assert_int_equal(pb_pfnmap_node(&m, 4096), 1);
	assert_int_equal(pb_pfnmap_node(&m, 4095), 0);
	assert_int_equal(pb_pfnmap_load_blocks(&m, 3000), -EINVAL); /* block not a multiple */
	pb_pfnmap_clear(&m);
}

/* Block 3 is linked under node0 and node1: its pfns have no single node (unknown). */
static void block_under_two_nodes(void **state)
{
	(void)state;
	struct pb_pfnmap m = {.source = "none"};
	use_root("blocks_shared");
	assert_int_equal(pb_pfnmap_load(&m, 4096), 0);
	assert_int_equal(pb_pfnmap_node(&m, 65536), 1);	 /* block 2 */
	assert_int_equal(pb_pfnmap_node(&m, 98304), -1); /* block 3 */
	assert_int_equal(pb_pfnmap_node(&m, 131071), -1);
	assert_int_equal(pb_pfnmap_node(&m, 65535), 0);	 /* block 1 */
	assert_int_equal(pb_pfnmap_node(&m, 163840), 1); /* block 5 */
	pb_pfnmap_clear(&m);
}

static void zoneinfo_fallback(void **state)
{
	(void)state;
	struct pb_pfnmap m = {.source = "none"};
	use_root("noblocks");
	assert_int_equal(pb_pfnmap_load_blocks(&m, 4096), -ENOENT);
	assert_int_equal(pb_pfnmap_load(&m, 4096), 0);
	assert_string_equal(m.source, "zoneinfo");
	assert_int_equal(m.n_nodes, 2);
	assert_int_equal(pb_pfnmap_node(&m, 0), -1);
	assert_int_equal(pb_pfnmap_node(&m, 1), 0);
	assert_int_equal(pb_pfnmap_node(&m, 1572863), 0);
	assert_int_equal(pb_pfnmap_node(&m, 1572864), 1);
	assert_int_equal(pb_pfnmap_node(&m, 2621439), 1);
	assert_int_equal(pb_pfnmap_node(&m, 2621440), -1);
	pb_pfnmap_clear(&m);
}

static void zoneinfo_malformed(void **state)
{
	(void)state;
	struct pb_pfnmap m = {.source = "none"};
	assert_int_equal(pb_pfnmap_parse_zoneinfo("  start_pfn: 5\n", &m), -EINVAL);
	assert_int_equal(
	    pb_pfnmap_parse_zoneinfo("Node 0, zone DMA\n spanned 0\n start_pfn: 1\n", &m), -ENOENT);
	assert_int_equal(pb_pfnmap_parse_zoneinfo("Node 99, zone DMA\n", &m), -EINVAL);
	assert_int_equal(pb_pfnmap_node(&m, 1), -1);
	pb_pfnmap_clear(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(blocks_two_nodes),
	    cmocka_unit_test(block_under_two_nodes),
	    cmocka_unit_test(zoneinfo_fallback),
	    cmocka_unit_test(zoneinfo_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* The pure half of placement: numa_maps, maps and status lines, and the sums per device. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probebench/placement.h"

#define KB 1024ULL

static void numa_maps_device_line(void **state)
{
	(void)state;
	struct pb_numa_maps_entry e;
	assert_int_equal(pb_numa_maps_parse_line("7f1c2a400000 default file=/dev/nvme0n1 mapped=15 "
						 "mapmax=2 N0=12 N1=3 kernelpagesize_kB=4\n",
						 4096, &e),
			 0);
	assert_int_equal(e.start, 0x7f1c2a400000ULL);
	assert_string_equal(e.policy, "default");
	assert_string_equal(e.file, "/dev/nvme0n1");
	assert_int_equal(e.mapped, 15);
	assert_int_equal(e.kernelpagesize_kb, 4);
	assert_int_equal(e.by_node.bytes[0], 12 * 4 * KB);
	assert_int_equal(e.by_node.bytes[1], 3 * 4 * KB);
	assert_int_equal(e.by_node.total_bytes, 15 * 4 * KB);
	assert_int_equal(e.by_node.huge_bytes, 0);
	assert_false(e.huge);
}

static void numa_maps_huge_and_tags(void **state)
{
	(void)state;
	struct pb_numa_maps_entry e;
	/* hugetlbfs: the counts are huge pages, kernelpagesize_kB their size */
	assert_int_equal(pb_numa_maps_parse_line("7f0000000000 bind:1 file=/mnt/huge/x huge "
						 "dirty=2 N1=2 kernelpagesize_kB=2048",
						 4096, &e),
			 0);
	assert_true(e.huge);
	assert_string_equal(e.policy, "bind:1");
	assert_int_equal(e.by_node.bytes[1], 2 * 2048 * KB);
	assert_int_equal(e.by_node.huge_bytes, 2 * 2048 * KB);
	assert_int_equal(e.by_node.bytes[0], 0);

	assert_int_equal(pb_numa_maps_parse_line("55d0c8a2e000 default heap anon=33 dirty=33 "
						 "active=0 N0=30 N3=3 kernelpagesize_kB=4",
						 4096, &e),
			 0);
	assert_true(e.heap);
	assert_int_equal(e.anon, 33);
	assert_int_equal(e.file[0], '\0');
	assert_int_equal(e.by_node.bytes[3], 3 * 4 * KB);
	assert_int_equal(e.by_node.total_bytes, 33 * 4 * KB);

	/* a mapping with no page in memory: no counts, no page size */
	assert_int_equal(pb_numa_maps_parse_line("7ffd1000 default stack", 4096, &e), 0);
	assert_true(e.stack);
	assert_int_equal(e.by_node.total_bytes, 0);
	assert_int_equal(e.kernelpagesize_kb, 0);

	/* an escaped path with '=' in it (the kernel writes it as \075) stays one field */
	assert_int_equal(pb_numa_maps_parse_line("1000 default file=/tmp/a\\040b\\075c mapped=1 "
						 "N0=1 kernelpagesize_kB=4",
						 4096, &e),
			 0);
	assert_string_equal(e.file, "/tmp/a\\040b\\075c");

	/* a node beyond the ones counted one by one */
	assert_int_equal(
	    pb_numa_maps_parse_line("1000 default anon=5 N70=5 kernelpagesize_kB=4", 4096, &e), 0);
	assert_int_equal(e.by_node.other_bytes, 5 * 4 * KB);
	assert_int_equal(e.by_node.total_bytes, 5 * 4 * KB);
}

static void numa_maps_malformed(void **state)
{
	(void)state;
	struct pb_numa_maps_entry e;
	assert_int_equal(pb_numa_maps_parse_line("", 4096, &e), -EINVAL);
	assert_int_equal(pb_numa_maps_parse_line("zz default", 4096, &e), -EINVAL);
	assert_int_equal(pb_numa_maps_parse_line("1000", 4096, &e), -EINVAL);
	assert_int_equal(pb_numa_maps_parse_line("1000 default N0=x kernelpagesize_kB=4", 4096, &e),
			 -EINVAL);
	assert_int_equal(
	    pb_numa_maps_parse_line("1000 default N0=-1 kernelpagesize_kB=4", 4096, &e), -EINVAL);
	assert_int_equal(pb_numa_maps_parse_line("1000 default Nx=1 kernelpagesize_kB=4", 4096, &e),
			 0); /* an unknown key is not a node */
	/* pages without their size */
	assert_int_equal(pb_numa_maps_parse_line("1000 default N0=3", 4096, &e), -EINVAL);
}

static void maps_line(void **state)
{
	(void)state;
	struct pb_maps_entry m;
	assert_int_equal(
	    pb_maps_parse_line("7f8a1c000000-7f8a1c001000 rw-s 00000000 00:15 12345   "
			       "         /sys/devices/pci0000:00/0000:00:05.0/resource4",
			       &m),
	    0);
	assert_int_equal(m.start, 0x7f8a1c000000ULL);
	assert_int_equal(m.end, 0x7f8a1c001000ULL);
	assert_string_equal(m.perms, "rw-s");
	assert_int_equal(m.dev_major, 0);
	assert_int_equal(m.dev_minor, 0x15);
	assert_int_equal(m.inode, 12345);
	assert_string_equal(m.path, "/sys/devices/pci0000:00/0000:00:05.0/resource4");
	assert_int_equal(pb_maps_parse_line("7ffd0000-7ffd1000 rw-p 00000000 00:00 0 ", &m), 0);
	assert_int_equal(m.inode, 0);
	assert_string_equal(m.path, "");
	assert_int_equal(pb_maps_parse_line("7ffd0000-7ffd1000 rw-p 00000000 103:0a 7 /x", &m), 0);
	assert_int_equal(m.dev_major, 0x103);
	assert_int_equal(m.dev_minor, 0xa);
	assert_int_equal(pb_maps_parse_line("garbage", &m), -EINVAL);
	assert_int_equal(pb_maps_parse_line("2000-1000 rw-p 0 00:00 0", &m), -EINVAL);
}

static void status_allowed(void **state)
{
	(void)state;
	static const char status[] = "Name:\tdd\nUmask:\t0022\nState:\tR (running)\n"
				     "Cpus_allowed:\t0000000c\nCpus_allowed_list:\t2-3\n"
				     "Mems_allowed:\t00000000,00000002\nMems_allowed_list:\t1\n"
				     "voluntary_ctxt_switches:\t1\n";
	struct pb_proc_allowed a;
	assert_int_equal(pb_proc_status_parse(status, &a), 0);
	assert_string_equal(a.cpus_list, "2-3");
	assert_string_equal(a.mems_list, "1");
	assert_int_equal(a.n_cpus, 2);
	assert_int_equal(a.cpus[0], 2);
	assert_int_equal(a.cpus[1], 3);
	assert_int_equal(a.n_mems, 1);
	assert_int_equal(a.mems[0], 1);
	pb_proc_allowed_clear(&a);

	/* "Cpus_allowed:" (the mask) is not "Cpus_allowed_list:" */
	assert_int_equal(pb_proc_status_parse("Cpus_allowed:\tf\n", &a), -ENOENT);
	assert_int_equal(pb_proc_status_parse("Cpus_allowed_list:\t0-x\n", &a), -EINVAL);
	assert_int_equal(pb_proc_status_parse("Cpus_allowed_list:\t0,2-3,8\n", &a), 0);
	assert_int_equal(a.n_cpus, 4);
	assert_int_equal(a.cpus[3], 8);
	assert_int_equal(a.n_mems, 0);
	pb_proc_allowed_clear(&a);
}

static void cpus_to_nodes(void **state)
{
	(void)state;
	static const int n0[] = {0, 1}, n1[] = {2, 3};
	const int *node_cpus[] = {n1, n0};
	const size_t node_n[] = {2, 2};
	const int ids[] = {1, 0};
	int *nodes;
	size_t n;
	static const int cpus_a[] = {3, 0};
	assert_int_equal(pb_cpus_to_nodes(cpus_a, 2, node_cpus, node_n, ids, 2, &nodes, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(nodes[0], 0);
	assert_int_equal(nodes[1], 1);
	free(nodes);
	static const int cpus_b[] = {2, 9};
	assert_int_equal(pb_cpus_to_nodes(cpus_b, 2, node_cpus, node_n, ids, 2, &nodes, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(nodes[0], 1);
	free(nodes);
}

/* Consumers from numa_maps text, as the scan makes them. */
static void consumer_from(struct pb_placement_consumer *c, const char *const *lines, size_t n)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		struct pb_numa_maps_entry e;
		assert_int_equal(pb_numa_maps_parse_line(lines[i], 4096, &e), 0);
		pb_node_bytes_add(&c->total, &e.by_node);
	}
}

static void device_aggregation(void **state)
{
	(void)state;
	static const char *const a[] = {
	    "400000 default file=/usr/bin/dd mapped=10 N0=10 kernelpagesize_kB=4",
	    "7f0000 default anon=256 N0=6 N1=250 kernelpagesize_kB=4",
	};
	static const char *const b[] = {
	    "400000 default file=/usr/bin/dd mapped=10 N0=10 kernelpagesize_kB=4",
	    "7f0000 default anon=1 huge dirty=1 N1=1 kernelpagesize_kB=2048",
	};
	struct pb_placement_consumer cs[3];
	consumer_from(&cs[0], a, 2);
	consumer_from(&cs[1], b, 2);
	consumer_from(&cs[2], a, 2);
	cs[2].pages_err = -EACCES; /* its pages unknown: not summed */
	struct pb_placement_device d = {.node = 1, .consumers = cs, .n_consumers = 3};
	pb_placement_device_summarise(&d);
	uint64_t on0 = (10 + 6 + 10) * 4 * KB, on1 = 250 * 4 * KB + 2048 * KB;
	assert_int_equal(d.total.bytes[0], on0);
	assert_int_equal(d.total.bytes[1], on1);
	assert_int_equal(d.total.total_bytes, on0 + on1);
	assert_int_equal(d.total.huge_bytes, 2048 * KB);
	assert_true(d.has_ratio);
	assert_true(fabs(d.on_node_ratio - (double)on1 / (double)(on0 + on1)) < 1e-12);

	/* the same consumers of a node-less device: no share */
	d.node = -1;
	pb_placement_device_summarise(&d);
	assert_false(d.has_ratio);
	assert_int_equal(d.total.total_bytes, on0 + on1);

	/* no consumer: nothing, no share */
	d.node = 0;
	d.n_consumers = 0;
	pb_placement_device_summarise(&d);
	assert_false(d.has_ratio);
	assert_int_equal(d.total.total_bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(numa_maps_device_line), cmocka_unit_test(numa_maps_huge_and_tags),
	    cmocka_unit_test(numa_maps_malformed),   cmocka_unit_test(maps_line),
	    cmocka_unit_test(status_allowed),	     cmocka_unit_test(cpus_to_nodes),
	    cmocka_unit_test(device_aggregation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pb_measure_summary_make() and its JSON: grouping of probes, node shares, uevent stats, page
 * sums, iterations left out (no probe seen, lost records).
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#include <cmocka.h>

#include "probebench/record.h"

/* virtio-pci's probe (depth 0, hopped) with virtio_rng's (depth 1) inside; pages p0/p1 on nodes
 * 0/1 and `unknown` of no known node; slab proxy 5 on node 0 (sampled), counted 9/1. */
static struct pb_measurement *facts(uint64_t pci_ns, uint64_t child_ns, int on_node, int64_t uevent,
				    unsigned p0, unsigned p1, unsigned unknown)
{
	struct pb_measurement *m = pb_measurement_new();
	struct pb_iteration_facts *f = &m->facts;
	f->method = PB_METHOD_TRACEPOINT;
	f->probes = calloc(2, sizeof(*f->probes));
	f->n_probes = 2;
	struct pb_probe_fact *c = &f->probes[0], *p = &f->probes[1];
	snprintf(c->device, sizeof(c->device), "virtio4");
	snprintf(c->bus, sizeof(c->bus), "virtio");
	snprintf(c->driver, sizeof(c->driver), "virtio_rng");
	c->depth = 1;
	c->duration_ns = child_ns;
	c->on_device_node = on_node;
	snprintf(p->device, sizeof(p->device), "0000:00:05.0");
	snprintf(p->bus, sizeof(p->bus), "pci");
	snprintf(p->driver, sizeof(p->driver), "virtio-pci");
	p->duration_ns = pci_ns;
	p->on_device_node = on_node;
	p->hop = true;
	f->uevent_kernel_ns = uevent;
	f->uevent_udev_ns = -1;
	f->memory_measured = true;
	f->pfn_map_source = "memory_blocks";
	f->n_nodes = 2;
	f->pages_by_node[0] = p0;
	f->pages_by_node[1] = p1;
	f->pages_total = p0 + p1 + unknown;
	f->pages_unknown_node = unknown;
	f->slab_sampled = true;
	f->slab_allocs_by_node[0] = 5;
	f->slab_counted = true;
	f->n_slab_counted_nodes = 2;
	f->slab_counted_by_node[0] = 9;
	f->slab_counted_by_node[1] = 1;
	f->lost_slab_records = 7;
	return m;
}

static int64_t geti(struct json_object *o, const char *path)
{
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *k = strtok(tmp, "/"); k; k = strtok(NULL, "/")) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(k));
		else if (!json_object_object_get_ex(o, k, &o))
			return -999;
	}
	return o ? json_object_get_int64(o) : -998;
}

static void groups_shares_sums(void **st)
{
	(void)st;
	struct pb_measurement *ms[5] = {
	    facts(5000, 2000, 1, 100, 2, 0, 0),
	    facts(7000, 3000, 0, 300, 1, 3, 1),
	    NULL, /* an iteration without facts */
	    pb_measurement_error("arming the observer failed", -EBUSY),
	    facts(6000, 2500, -1, 200, 0, 0, 0),
	};
	struct pb_measure_summary sum;
	assert_int_equal(
	    pb_measure_summary_make((const struct pb_measurement *const *)ms, 5, true, &sum), 0);
	assert_int_equal(sum.measured, 3);
	assert_int_equal(sum.n_groups, 2);
	assert_int_equal(sum.groups[0].probe_ns.n, 3);
	struct json_object *s = pb_measure_summary_to_json(&sum);
	pb_measure_summary_clear(&sum);
	assert_non_null(s);
	assert_int_equal(geti(s, "iterations_measured"), 3);
	assert_string_equal(json_object_get_string(json_object_object_get(s, "method")),
			    "tracepoint");
	/* sorted by depth: the target's own probe first */
	struct json_object *p = json_object_object_get(s, "probes");
	assert_int_equal(json_object_array_length(p), 2);
	assert_int_equal(geti(p, "0/depth"), 0);
	assert_string_equal(json_object_get_string(
				json_object_object_get(json_object_array_get_idx(p, 0), "driver")),
			    "virtio-pci");
	assert_int_equal(geti(p, "0/probe_ns/N"), 3);
	assert_int_equal(geti(p, "0/probe_ns/min"), 5000);
	assert_int_equal(geti(p, "0/probe_ns/max"), 7000);
	assert_int_equal(geti(p, "0/probe_ns/percentile/50.000000"), 6000);
	assert_int_equal(geti(p, "0/on_device_node/yes"), 1);
	assert_int_equal(geti(p, "0/on_device_node/no"), 1);
	assert_int_equal(geti(p, "0/on_device_node/unknown"), 1);
	assert_int_equal(geti(p, "0/hops"), 3);
	assert_int_equal(geti(p, "1/hops"), 0);
	assert_int_equal(geti(p, "1/probe_ns/percentile/50.000000"), 2500);
	double share = json_object_get_double(json_object_object_get(
	    json_object_object_get(json_object_array_get_idx(p, 0), "on_device_node"), "share"));
	assert_true(share > 0.49 && share < 0.51);
	assert_int_equal(geti(s, "uevent_kernel_ns/N"), 3);
	assert_int_equal(geti(s, "uevent_kernel_ns/percentile/50.000000"), 200);
	assert_null(json_object_object_get(s, "uevent_udev_ns"));
	assert_int_equal(geti(s, "memory/pages_by_node/0"), 3);
	assert_int_equal(geti(s, "memory/pages_by_node/1"), 3);
	assert_int_equal(geti(s, "memory/bytes_by_node/1"), 3 * sysconf(_SC_PAGESIZE));
	assert_int_equal(geti(s, "memory/pages_total"), 7);
	assert_int_equal(geti(s, "memory/pages_unknown_node"), 1);
	assert_true(json_object_get_boolean(
	    json_object_object_get(json_object_object_get(s, "memory"), "slab_sampled")));
	assert_int_equal(geti(s, "memory/slab_allocs_by_node/0"), 15);
	assert_int_equal(geti(s, "memory/slab_counted_by_node/0"), 27);
	assert_int_equal(geti(s, "memory/slab_counted_by_node/1"), 3);
	assert_int_equal(geti(s, "lost_records"), 0);
	assert_int_equal(geti(s, "lost_slab_records"), 21);
	json_object_put(s);
	for (int i = 0; i < 5; i++)
		pb_measurement_free(ms[i]);
}

/* A bind without a probe seen and a window that lost records are counted, not summarised
 * (unless lossy ones are asked for); the method's change is kept in the iteration's JSON. */
static void left_out(void **st)
{
	(void)st;
	struct pb_measurement *ms[3] = {facts(5000, 2000, 1, 100, 1, 0, 0),
					facts(9000, 4000, 1, 100, 1, 0, 0), pb_measurement_new()};
	ms[1]->facts.lost_records = 4;
	ms[2]->facts.method = PB_METHOD_KPROBE;
	ms[2]->facts.uevent_kernel_ns = ms[2]->facts.uevent_udev_ns = -1;
	snprintf(ms[2]->missing_probe, sizeof(ms[2]->missing_probe), "no probe");
	ms[2]->method_after = PB_METHOD_TRACEPOINT;
	struct pb_measure_summary sum;
	for (int lossy = 0; lossy < 2; lossy++) {
		assert_int_equal(pb_measure_summary_make((const struct pb_measurement *const *)ms,
							 3, lossy, &sum),
				 0);
		assert_int_equal(sum.measured, 3);
		assert_int_equal(sum.missing_probe, 1);
		assert_int_equal(sum.lossy, 1);
		assert_int_equal(sum.lost_records, 4);
		assert_string_equal(sum.method, "tracepoint");
		assert_int_equal(sum.groups[0].probe_ns.n, lossy ? 2 : 1);
		assert_int_equal(sum.pages_by_node[0], lossy ? 2 : 1);
		pb_measure_summary_clear(&sum);
	}
	struct json_object *j = pb_measurement_to_json(ms[2]);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "missing_probe")),
			    "no probe");
	assert_string_equal(json_object_get_string(json_object_object_get(j, "method_after")),
			    "tracepoint");
	assert_int_equal(json_object_array_length(json_object_object_get(j, "probes")), 0);
	json_object_put(j);
	j = pb_measurement_to_json(ms[0]);
	assert_null(json_object_object_get(j, "method_after"));
	json_object_put(j);
	for (int i = 0; i < 3; i++)
		pb_measurement_free(ms[i]);
}

/* Slab allocations counted, not sampled (the default): the sampled figures are absent from the
 * iteration's and the summary's JSON, not zero, and an unsampled iteration's arrays (whatever
 * they hold) never reach the sums of the sampled ones. */
static void slab_not_sampled(void **st)
{
	(void)st;
	struct pb_measurement *ms[2] = {facts(5000, 2000, 1, 100, 1, 0, 0),
					facts(6000, 2000, 1, 100, 1, 0, 0)};
	for (int i = 0; i < 2; i++)
		ms[i]->facts.slab_sampled = false;
	struct pb_measure_summary sum;
	assert_int_equal(
	    pb_measure_summary_make((const struct pb_measurement *const *)ms, 2, false, &sum), 0);
	assert_false(sum.slab_sampled);
	assert_int_equal(sum.n_slab_nodes, 0);
	struct json_object *s = pb_measure_summary_to_json(&sum);
	pb_measure_summary_clear(&sum);
	struct json_object *mem = json_object_object_get(s, "memory");
	assert_non_null(mem);
	assert_false(json_object_get_boolean(json_object_object_get(mem, "slab_sampled")));
	assert_false(json_object_object_get_ex(mem, "slab_allocs_by_node", NULL));
	assert_int_equal(geti(s, "memory/slab_counted_by_node/0"), 18);
	assert_int_equal(geti(s, "memory/slab_counted_by_node/1"), 2);
	json_object_put(s);

	struct json_object *j = pb_measurement_to_json(ms[0]);
	struct json_object *sp =
	    json_object_object_get(json_object_object_get(j, "memory"), "slab_proxy");
	assert_non_null(sp);
	assert_false(json_object_get_boolean(json_object_object_get(sp, "sampled")));
	assert_false(json_object_object_get_ex(sp, "allocs_by_node", NULL));
	assert_false(json_object_object_get_ex(sp, "bytes_by_node", NULL));
	assert_int_equal(geti(sp, "counted_by_node/0"), 9);
	json_object_put(j);

	/* one of them sampled: the summary sums its samples alone */
	ms[1]->facts.slab_sampled = true;
	ms[1]->facts.slab_allocs_by_node[1] = 4;
	assert_int_equal(
	    pb_measure_summary_make((const struct pb_measurement *const *)ms, 2, false, &sum), 0);
	assert_true(sum.slab_sampled);
	assert_int_equal(sum.n_slab_nodes, 2);
	assert_int_equal(sum.slab_by_node[0], 5);
	assert_int_equal(sum.slab_by_node[1], 4);
	pb_measure_summary_clear(&sum);
	j = pb_measurement_to_json(ms[1]);
	sp = json_object_object_get(json_object_object_get(j, "memory"), "slab_proxy");
	assert_true(json_object_get_boolean(json_object_object_get(sp, "sampled")));
	assert_int_equal(geti(sp, "allocs_by_node/1"), 4);
	json_object_put(j);
	for (int i = 0; i < 2; i++)
		pb_measurement_free(ms[i]);
}

static void nothing_measured(void **st)
{
	(void)st;
	struct pb_measure_summary sum;
	assert_int_equal(pb_measure_summary_make(NULL, 0, false, &sum), 0);
	struct json_object *s = pb_measure_summary_to_json(&sum);
	pb_measure_summary_clear(&sum);
	assert_non_null(s);
	assert_int_equal(geti(s, "iterations_measured"), 0);
	assert_int_equal(json_object_array_length(json_object_object_get(s, "probes")), 0);
	assert_null(json_object_object_get(s, "method"));
	assert_null(json_object_object_get(s, "memory"));
	assert_null(json_object_object_get(s, "uevent_kernel_ns"));
	json_object_put(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(groups_shares_sums),
	    cmocka_unit_test(left_out),
	    cmocka_unit_test(slab_not_sampled),
	    cmocka_unit_test(nothing_measured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

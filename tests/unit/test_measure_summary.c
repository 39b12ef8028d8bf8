// SPDX-License-Identifier: GPL-2.0-or-later
/* pb_measure_summary_json(): grouping of probes, node shares, uevent stats, page sums. */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probebench/run_measure.h"

static struct json_object *facts(int64_t pci_ns, int64_t child_ns, int on_node, int64_t uevent,
				 int p0, int p1, int unknown)
{
	char buf[2048];
	snprintf(
	    buf, sizeof(buf),
	    "{\"method\":\"tracepoint\",\"probes\":["
	    "{\"device\":\"virtio4\",\"bus\":\"virtio\",\"driver\":\"virtio_rng\",\"depth\":1,"
	    "\"duration_ns\":%lld,\"on_device_node\":%s,\"hop\":null},"
	    "{\"device\":\"0000:00:05.0\",\"bus\":\"pci\",\"driver\":\"virtio-pci\",\"depth\":0,"
	    "\"duration_ns\":%lld,\"on_device_node\":%s,\"hop\":{\"function\":\"f\"}}],"
	    "\"uevent_kernel_ns\":%lld,\"uevent_udev_ns\":null,"
	    "\"memory\":{\"pages_by_node\":[%d,%d],\"bytes_by_node\":[%d,%d],"
	    "\"pages_total\":%d,\"pages_unknown_node\":%d,"
	    "\"slab_proxy\":{\"allocs_by_node\":[5],\"counted_by_node\":[9,1]}},\"lost_records\":1,"
	    "\"lost_slab_records\":7}",
	    (long long)child_ns,
	    on_node < 0 ? "null"
	    : on_node	? "true"
			: "false",
	    (long long)pci_ns,
	    on_node < 0 ? "null"
	    : on_node	? "true"
			: "false",
	    (long long)uevent, p0, p1, p0 * 4096, p1 * 4096, p0 + p1 + unknown, unknown);
	return json_tokener_parse(buf);
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
	struct json_object *ms[5] = {
	    facts(5000, 2000, 1, 100, 2, 0, 0),
	    facts(7000, 3000, 0, 300, 1, 3, 1),
	    NULL, /* an iteration without facts */
	    json_tokener_parse("{\"error\":\"arming the observer failed: x\"}"),
	    facts(6000, 2500, -1, 200, 0, 0, 0),
	};
	struct json_object *s = pb_measure_summary_json(ms, 5, true);
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
	assert_int_equal(geti(s, "memory/bytes_by_node/1"), 3 * 4096);
	assert_int_equal(geti(s, "memory/pages_total"), 7);
	assert_int_equal(geti(s, "memory/pages_unknown_node"), 1);
	assert_int_equal(geti(s, "memory/slab_allocs_by_node/0"), 15);
	assert_int_equal(geti(s, "memory/slab_counted_by_node/0"), 27);
	assert_int_equal(geti(s, "memory/slab_counted_by_node/1"), 3);
	assert_int_equal(geti(s, "lost_records"), 3);
	assert_int_equal(geti(s, "lost_slab_records"), 21);
	json_object_put(s);
	for (int i = 0; i < 5; i++)
		json_object_put(ms[i]);
}

static void nothing_measured(void **st)
{
	(void)st;
	struct json_object *s = pb_measure_summary_json(NULL, 0, false);
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
	    cmocka_unit_test(nothing_measured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

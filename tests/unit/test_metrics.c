// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "probebench/metrics.h"

static const char record[] =
    "{\"schema\": \"x\", \"status\": \"ok\", \"targets\": [{\"name\": \"0000:00:05.0\", \"bus\": "
    "\"pci\", \"driver\": \"virtio-pci\", \"syspath\": \"/sys/devices/pci0000:00/0000:00:05.0\", "
    "\"numa_node\": 1}],"
    " \"summary\": [{\"target\": \"0000:00:05.0\", \"writer_node\": 0, \"bind_ns\": {\"N\": 10, "
    "\"min\": 1000000, \"max\": 3000000, \"mean\": 2000000, \"stddev\": 500000, \"percentile\": "
    "{\"50.000000\": 1900000, \"99.000000\": 2900000}}, \"unbind_ns\": {\"N\": 10, \"mean\": "
    "400000}, \"measurement\": {\"probes\": [{\"depth\": 0, \"bus\": \"pci\", \"driver\": "
    "\"virtio-pci\", \"probe_ns\": {\"N\": 10, \"mean\": 1500000, \"percentile\": "
    "{\"50.000000\": 1400000}}, \"on_device_node\": {\"yes\": 3, \"no\": 7, \"unknown\": 0, "
    "\"share\": 0.3}}, {\"depth\": 1, \"bus\": \"virtio\", \"driver\": \"virtio_rng\", "
    "\"probe_ns\": null, \"on_device_node\": {\"share\": null}}], \"memory\": "
    "{\"pages_by_node\": [2, 5]}, \"iterations_missing_probe\": 1, \"iterations_lossy\": "
    "2}},"
    " {\"target\": \"0000:00:05.0\", \"writer_node\": 1, \"bind_ns\": {\"percentile\": "
    "{\"90.000000\": 2500000}}}]}";

static __attribute__((noinline)) int count(const char *hay, const char *needle)
{
	int n = 0;
	for (size_t i = 0; hay[i]; i++)
		n += strncmp(hay + i, needle, strlen(needle)) == 0;
	return n;
}

static char *render(struct json_object *rec)
{
	char *text = NULL;
	struct pb_metrics_plan p = {
	    .name = "rng\"x",
	    .runs_by_exit = {3, 0, 0, 1},
	    .has_last = true,
	    .last_exit = 3,
	    .last_end_time_s = 1795601700.5,
	    .last_duration_s = 2.25,
	    .last_record = rec,
	};
	struct pb_metrics_daemon d = {.version = "0.1.0", .start_time_s = 1795601000.0};
	int r = pb_metrics_render(&d, &p, 1, &text);
	assert_int_equal(r, 0);
	return text;
}

static void full_record(void **state)
{
	(void)state;
	struct json_object *rec = json_tokener_parse(record);
	assert_non_null(rec);
	char *t = render(rec);
	/* labels: plan (escaped), device, driver and node from targets[], writer node */
	const char *want[] = {
	    "# TYPE probebench_bind_duration_seconds summary\n",
	    "probebench_bind_duration_seconds{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\",quantile=\"0.5\"} 0.0019\n",
	    "quantile=\"0.99\"} 0.0029\n",
	    "probebench_bind_duration_seconds_sum{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\"} 0.02\n",
	    "probebench_bind_duration_seconds_count{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\"} 10\n",
	    "writer_node=\"1\",quantile=\"0.9\"} 0.0025\n",
	    "probebench_bind_duration_min_seconds{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\"} 0.001\n",
	    "probebench_bind_duration_stddev_seconds{",
	    "probebench_unbind_duration_seconds_sum{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\"} 0.004\n",
	    "probebench_runs_total{plan=\"rng\\\"x\",result=\"ok\"} 3\n",
	    "probebench_runs_total{plan=\"rng\\\"x\",result=\"refused\"} 1\n",
	    "probebench_last_run_exit_code{plan=\"rng\\\"x\"} 3\n",
	    "probebench_last_run_end_time_seconds{plan=\"rng\\\"x\"} 1795601700.500\n",
	    "probebench_last_run_duration_seconds{plan=\"rng\\\"x\"} 2.25\n",
	    "probebench_build_info{version=\"0.1.0\"} 1\n",
	    /* probe facts from summary[].measurement: the probed driver, its depth */
	    "# TYPE probebench_probe_duration_seconds summary\n",
	    "probebench_probe_duration_seconds{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\",depth=\"0\",quantile=\"0.5\"} "
	    "0.0014\n",
	    "probebench_probe_duration_seconds_count{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\",depth=\"0\"} 10\n",
	    "probebench_probe_on_device_node_ratio{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\",depth=\"0\"} 0.3\n",
	    "probebench_probe_pages{plan=\"rng\\\"x\",device=\"0000:00:05.0\",driver=\"virtio-"
	    "pci\","
	    "node=\"1\",writer_node=\"0\",page_node=\"1\"} 5\n",
	    /* iterations left out of the statistics, by why */
	    "probebench_measurement_excluded_iterations{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\",reason=\"missing_probe\"} 1\n",
	    "writer_node=\"0\",reason=\"lossy\"} 2\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(t, want[i]))
			fail_msg("missing '%s' in:\n%s", want[i], t);
	/* the second entry has no N/mean: no _sum/_count for it, and no min for it */
	assert_null(strstr(t, "writer_node=\"1\"} "));
	/* unbind has no min/max/stddev/percentiles in the record: those families are omitted */
	assert_null(strstr(t, "probebench_unbind_duration_min_seconds"));
	assert_null(strstr(t, "probebench_unbind_duration_seconds{"));
	/* each family announced once */
	assert_int_equal(count(t, "# TYPE probebench_bind_duration_seconds "), 1);
	/* a probe group without stats or share gives nothing */
	assert_null(strstr(t, "driver=\"virtio_rng\""));
	free(t);
	json_object_put(rec);
}

/* Records missing keys (or with the wrong types) lose metrics, never produce made-up ones. */
static void defensive(void **state)
{
	(void)state;
	static const char *const partial[] = {
	    "{}",
	    "{\"summary\": 3}",
	    "{\"summary\": [{\"bind_ns\": {\"N\": 1, \"mean\": 5}}]}", /* no target */
	    "{\"summary\": [{\"target\": \"x\", \"bind_ns\": \"fast\"}]}",
	    "{\"summary\": [{\"target\": \"x\", \"bind_ns\": {\"N\": \"1\", \"mean\": 5}}]}",
	};
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		struct json_object *rec = json_tokener_parse(partial[i]);
		assert_non_null(rec);
		char *t = render(rec);
		if (strstr(t, "probebench_bind_duration"))
			fail_msg("case %zu produced duration metrics:\n%s", i, t);
		assert_non_null(strstr(t, "probebench_last_run_exit_code"));
		free(t);
		json_object_put(rec);
	}
	/* a target missing from targets[]: driver and node are "unknown", the value is kept */
	struct json_object *rec =
	    json_tokener_parse("{\"summary\": [{\"target\": \"0000:00:06.0\", \"bind_ns\": {\"N\": "
			       "2, \"mean\": 1e6}}]}");
	char *t = render(rec);
	assert_non_null(strstr(t, "probebench_bind_duration_seconds_count{plan=\"rng\\\"x\","
				  "device=\"0000:00:06.0\",driver=\"unknown\",node=\"unknown\","
				  "writer_node=\"any\"} 2\n"));
	free(t);
	json_object_put(rec);
	/* no record at all */
	t = render(NULL);
	assert_null(strstr(t, "probebench_bind_duration"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(full_record),
	    cmocka_unit_test(defensive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The Prometheus text of the daemon's state and of each plan's latest run record, the record read
 * back as the daemon does after a restart (pb_run_record_from_json: summaries recomputed from the
 * iterations).
 */
#include <errno.h>
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
#include "probebench/record.h"

/* One ok iteration's JSON: bind and unbind times, the target's probe and its child's. */
#define ITER(pl, bind, dur, on, extra)                                                             \
	"{\"iteration\": 0, \"target\": \"0000:00:05.0\", \"placement\": \"" pl "\", "             \
	"\"writer_node\": 0, \"unbind_ns\": 400000, \"bind_ns\": " bind ", \"outcome\": \"ok\", "  \
	"\"measurement\": {\"method\": \"kprobe\", \"probes\": [{\"device\": \"0000:00:05.0\", "   \
	"\"bus\": \"pci\", \"driver\": \"virtio-pci\", \"depth\": 0, \"duration_ns\": " dur ", "   \
	"\"on_device_node\": " on "}, {\"device\": \"virtio4\", \"bus\": \"virtio\", \"driver\": " \
	"\"virtio_rng\", \"depth\": 1, \"duration_ns\": 500000, \"on_device_node\": null}], "      \
	"\"uevent_kernel_ns\": null, \"memory\": {\"pages_by_node\": [1, 2], \"pages_total\": 3, " \
	"\"pages_unknown_node\": 0}" extra "}}"

/* Placement node0: three ok binds (1, 2, 3 ms), the last of which lost records, then one bind
 * without a probe seen; node1: one bind that failed (no samples: no series). */
static const char record[] =
    "{\"schema\": {\"name\": \"probebench-run\", \"version\": 2}, \"status\": \"complete\", "
    "\"exit_code\": 0, \"options\": {\"include_lossy\": false}, \"measurement\": {\"enabled\": "
    "true}, \"targets\": [{\"name\": \"0000:00:05.0\", \"bus\": \"pci\", \"driver\": "
    "\"virtio-pci\", \"syspath\": \"/sys/devices/pci0000:00/0000:00:05.0\", \"numa_node\": 1}], "
    "\"placements\": [{\"label\": \"node0\", \"cpu\": -1, \"node\": 0}, {\"label\": \"node1\", "
    "\"cpu\": -1, \"node\": 1}], \"iterations\": [" ITER(
	"node0", "1000000", "1400000", "false",
	"") ", " ITER("node0", "2000000", "1400000", "true",
		      "") ", " ITER("node0", "3000000", "2000000", "true",
				    ", \"lost_records\": 2") ", " ITER("node0", "1500000", "1",
								       "null",
								       ", \"missing_probe\": \"no "
								       "probe\"") ", "
										  "{\"iteration\": "
										  "0, \"target\": "
										  "\"0000:00:05."
										  "0\", "
										  "\"placement\": "
										  "\"node1\", "
										  "\"bind_ns\": 9, "
										  "\"outcome\": "
										  "\"bind-failed\"}"
										  "]}";

static __attribute__((noinline)) int count(const char *hay, const char *needle)
{
	int n = 0;
	for (size_t i = 0; hay[i]; i++)
		n += strncmp(hay + i, needle, strlen(needle)) == 0;
	return n;
}

static char *render(const struct pb_run_record *rec)
{
	char *text = NULL;
	struct pb_metrics_plan p = {
	    .name = "rng\"x",
	    .runs_by_status = {3, 0, 0, 1},
	    .has_last = true,
	    .last_status = PB_RUN_REFUSED,
	    .last_end_time_s = 1795601700.5,
	    .last_duration_s = 2.25,
	    .last_record = rec,
	};
	struct pb_metrics_daemon d = {.version = "0.1.0", .start_time_s = 1795601000.0};
	int r = pb_metrics_render(&d, &p, 1, &text);
	assert_int_equal(r, 0);
	return text;
}

static struct pb_run_record *load(const char *text)
{
	struct json_object *j = json_tokener_parse(text);
	assert_non_null(j);
	struct pb_run_record *r = NULL;
	char err[200] = "";
	if (pb_run_record_from_json(j, &r, err, sizeof(err)) < 0)
		fail_msg("cannot load: %s", err);
	json_object_put(j);
	return r;
}

static void full_record(void **state)
{
	(void)state;
	struct pb_run_record *rec = load(record);
	assert_int_equal(rec->n_iterations, 5);
	assert_int_equal(rec->n_summaries, 2);
	char *t = render(rec);
	/* labels: plan (escaped), device, driver and node from targets[], the placement's node */
	const char *want[] = {
	    "# TYPE probebench_bind_duration_seconds summary\n",
	    "probebench_bind_duration_seconds{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\",quantile=\"0.5\"} 0.0015\n",
	    "quantile=\"0.99\"} 0.003\n",
	    "probebench_bind_duration_seconds_sum{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\"} 0.0075\n",
	    "probebench_bind_duration_seconds_count{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\"} 4\n",
	    "probebench_bind_duration_min_seconds{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\"} 0.001\n",
	    "probebench_bind_duration_stddev_seconds{",
	    "probebench_unbind_duration_seconds_sum{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\"} 0.0016\n",
	    "probebench_runs_total{plan=\"rng\\\"x\",result=\"ok\"} 3\n",
	    "probebench_runs_total{plan=\"rng\\\"x\",result=\"refused\"} 1\n",
	    "probebench_last_run_exit_code{plan=\"rng\\\"x\"} 3\n",
	    "probebench_last_run_end_time_seconds{plan=\"rng\\\"x\"} 1795601700.500\n",
	    "probebench_last_run_duration_seconds{plan=\"rng\\\"x\"} 2.25\n",
	    "probebench_build_info{version=\"0.1.0\"} 1\n",
	    /* probe facts: the probed driver, its depth; the lossy and the probe-less iterations
	     * are left out of them */
	    "# TYPE probebench_probe_duration_seconds summary\n",
	    "probebench_probe_duration_seconds{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\",depth=\"0\",quantile=\"0.5\"} "
	    "0.0014\n",
	    "probebench_probe_duration_seconds_count{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\",depth=\"0\"} 2\n",
	    "probebench_probe_duration_seconds_count{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio_rng\",node=\"1\",writer_node=\"0\",depth=\"1\"} 2\n",
	    "probebench_probe_on_device_node_ratio{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\",depth=\"0\"} 0.5\n",
	    "probebench_probe_pages{plan=\"rng\\\"x\",device=\"0000:00:05.0\",driver=\"virtio-"
	    "pci\",node=\"1\",writer_node=\"0\",page_node=\"1\"} 4\n",
	    /* iterations left out of the statistics, by why */
	    "probebench_measurement_excluded_iterations{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
	    "driver=\"virtio-pci\",node=\"1\",writer_node=\"0\",reason=\"missing_probe\"} 1\n",
	    "writer_node=\"0\",reason=\"lossy\"} 1\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(t, want[i])) {
			fprintf(stderr, "%s", t); /* cmocka cuts long messages */
			fail_msg("missing '%s'", want[i]);
		}
	/* node1's only bind failed: no duration series for it, its probe facts count nothing */
	assert_null(strstr(t, "_duration_seconds_count{plan=\"rng\\\"x\",device=\"0000:00:05.0\","
			      "driver=\"virtio-pci\",node=\"1\",writer_node=\"1\"}"));
	assert_null(strstr(t, "probebench_bind_duration_min_seconds{plan=\"rng\\\"x\","
			      "device=\"0000:00:05.0\",driver=\"virtio-pci\",node=\"1\","
			      "writer_node=\"1\"}"));
	/* each family announced once */
	assert_int_equal(count(t, "# TYPE probebench_bind_duration_seconds "), 1);
	/* a probe group whose node is never known gives no share */
	assert_null(
	    strstr(t, "ratio{plan=\"rng\\\"x\",device=\"0000:00:05.0\",driver=\"virtio_rng\""));
	free(t);
	pb_run_record_free(rec);
}

/* Records that are not run records, or name what they do not hold, are refused with the cause;
 * a record of no iteration gives no duration metrics. */
static void refused_and_empty(void **state)
{
	(void)state;
	static const struct {
		const char *json, *why;
	} bad[] = {
	    {"{}", "not a run record"},
	    {"{\"schema\": {\"name\": \"probebench-run\"}}", "no targets or placements"},
	    {"{\"schema\": {\"name\": \"probebench-run\"}, \"targets\": [], \"placements\": [], "
	     "\"iterations\": [{\"target\": \"x\", \"placement\": \"any\", \"outcome\": \"ok\"}]}",
	     "iteration 0 names target \"x\""},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *j = json_tokener_parse(bad[i].json);
		struct pb_run_record *r = (void *)1;
		char err[200] = "";
		assert_int_equal(pb_run_record_from_json(j, &r, err, sizeof(err)), -EINVAL);
		assert_null(r);
		if (!strstr(err, bad[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].why);
		json_object_put(j);
	}
	struct pb_run_record *rec = load(
	    "{\"schema\": {\"name\": \"probebench-run\"}, \"targets\": [{\"name\": \"t\", "
	    "\"numa_node\": -1}], \"placements\": [{\"label\": \"any\", \"cpu\": -1, \"node\": "
	    "-1}], \"iterations\": []}");
	char *t = render(rec);
	assert_null(strstr(t, "probebench_bind_duration"));
	assert_non_null(strstr(t, "probebench_last_run_exit_code"));
	free(t);
	pb_run_record_free(rec);
	/* no record at all */
	t = render(NULL);
	assert_null(strstr(t, "probebench_bind_duration"));
	assert_null(strstr(t, "probebench_restore_at_start"));
	free(t);
}

/* The restore at start: the entries it found and its exit code, only when it ran. */
static void restore_at_start(void **state)
{
	(void)state;
	struct pb_metrics_daemon d = {
	    .version = "0.1.0", .restore_ran = true, .restore_entries = 2, .restore_exit = 1};
	char *t = NULL;
	assert_int_equal(pb_metrics_render(&d, NULL, 0, &t), 0);
	assert_non_null(strstr(t, "# TYPE probebench_restore_at_start_entries gauge\n"
				  "probebench_restore_at_start_entries 2\n"));
	assert_non_null(strstr(t, "# TYPE probebench_restore_at_start_exit_code gauge\n"
				  "probebench_restore_at_start_exit_code 1\n"));
	free(t);
}

/*
 * A stored record is not trusted: numbers beyond the fields they are read into (a node of
 * 2^32 + 1, a negative or 2^63 ns time, a huge ratio) neither wrap into plausible values nor reach
 * a conversion the language leaves undefined (the clang -fsanitize=float-cast-overflow build of
 * the unit tests runs this too).
 */
static void out_of_range_values(void **state)
{
	(void)state;
	struct pb_run_record *rec = load(
	    "{\"schema\": {\"name\": \"probebench-run\", \"version\": 4294967298}, "
	    "\"targets\": [{\"name\": \"t\", \"driver\": \"d\", \"numa_node\": 4294967297}], "
	    "\"placements\": [{\"label\": \"p\", \"cpu\": -1, \"node\": 4294967296}], "
	    "\"iterations\": [{\"target\": \"t\", \"placement\": \"p\", \"outcome\": \"ok\", "
	    "\"bind_ns\": -5, \"unbind_ns\": 9223372036854775807, \"writer_node\": -4294967295, "
	    "\"measurement\": {\"method\": \"kprobe\", \"probes\": [{\"device\": \"t\", "
	    "\"driver\": \"d\", \"depth\": 4294967296, \"duration_ns\": -1, \"start_ns\": -7, "
	    "\"on_device_node\": true}], \"memory\": {\"pages_by_node\": [-3, "
	    "9223372036854775807], \"pages_total\": 18446744073709551615, \"local_ratio\": "
	    "1e300}}}]}");
	assert_int_equal(rec->targets[0].t.numa_node, -1);
	assert_int_equal(rec->placements[0].node, -1);
	assert_int_equal(rec->iterations[0].res.bind_ns, 0);
	assert_int_equal(rec->iterations[0].res.writer_node, -1);
	char *t = render(rec);
	/* the node is unknown, not node 1 (2^32 + 1 cut to an int) */
	assert_non_null(strstr(t, "probebench_bind_duration_max_seconds{plan=\"rng\\\"x\",device="
				  "\"t\",driver=\"d\",node=\"-1\",writer_node=\"any\"} 0\n"));
	assert_null(strstr(t, "node=\"1\""));
	/* a negative time is no time, not 2^64 - 5 ns */
	assert_null(strstr(t, "18446744073"));
	free(t);
	pb_run_record_free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(full_record),
	    cmocka_unit_test(refused_and_empty),
	    cmocka_unit_test(out_of_range_values),
	    cmocka_unit_test(restore_at_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

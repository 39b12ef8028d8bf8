// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The typed run record and its JSON: what record_json.c writes, record_load.c reads back into
 * the same iterations and the same summaries (the daemon after a restart, compare).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "probebench/record.h"

static struct pb_measurement *measured(uint64_t dur, int on_node, unsigned lost)
{
	struct pb_measurement *m = pb_measurement_new();
	struct pb_iteration_facts *f = &m->facts;
	f->method = PB_METHOD_KPROBE;
	f->probes = calloc(1, sizeof(*f->probes));
	f->n_probes = 1;
	struct pb_probe_fact *p = &f->probes[0];
	snprintf(p->device, sizeof(p->device), "pbtest1");
	snprintf(p->bus, sizeof(p->bus), "pbtest");
	snprintf(p->driver, sizeof(p->driver), "pbtest");
	snprintf(p->comm, sizeof(p->comm), "kworker/u8:1");
	p->duration_ns = dur;
	f->write_start_ns = 5000000;
	p->start_ns = 5001000;
	p->hop_queue_ns = 5001100;
	p->hop_start_ns = 5001200;
	p->hop_on_cpu_ns = 800000;
	p->hop_switches = 3;
	p->start_exact = true;
	p->on_device_node = on_node;
	p->cpu = 2;
	p->node = 1;
	p->device_node = 1;
	p->ret_known = true;
	p->method = PB_METHOD_KPROBE;
	p->hop = true;
	snprintf(p->hop_function, sizeof(p->hop_function), "pbtest_node_work_fn");
	p->hop_pid = 77;
	p->hop_cpu = 2;
	p->pages_measured = true;
	p->n_page_nodes = 2;
	p->pages_by_node[1] = 4;
	f->uevent_kernel_ns = (int64_t)dur + 10;
	f->uevent_udev_ns = -1;
	f->memory_measured = true;
	f->pfn_map_source = "memory_blocks";
	f->n_nodes = 2;
	f->pages_by_node[1] = 4;
	f->pages_total = 4;
	f->local_ratio = 0.75;
	f->lost_records = lost;
	return m;
}

static struct pb_run_record *example(void)
{
	struct pb_run_record *r = calloc(1, sizeof(*r));
	r->schema_version = 2;
	snprintf(r->status, sizeof(r->status), "complete");
	r->measure_enabled = true;
	r->options.measure = true;
	r->targets = calloc(1, sizeof(*r->targets));
	r->n_targets = 1;
	struct pb_target *t = &r->targets[0].t;
	snprintf(t->name, sizeof(t->name), "pbtest1");
	snprintf(t->bus, sizeof(t->bus), "pbtest");
	snprintf(t->driver, sizeof(t->driver), "pbtest");
	snprintf(t->syspath, sizeof(t->syspath), "/sys/devices/pci0000:80/0000:80:00.0/pbtest1");
	t->numa_node = 1;
	r->placements = calloc(2, sizeof(*r->placements));
	r->n_placements = 2;
	for (int i = 0; i < 2; i++) {
		snprintf(r->placements[i].label, sizeof(r->placements[i].label), "node%d", i);
		r->placements[i].cpu = -1;
		r->placements[i].node = i;
	}
	for (unsigned i = 0; i < 6; i++) {
		struct pb_record_iteration it = {
		    .target = 0,
		    .placement = i % 2,
		    .iteration = i / 2,
		    .res = {.outcome = i == 5 ? PB_CYCLE_BIND_FAILED : PB_CYCLE_OK,
			    .bind_ns = 1000000 + i,
			    .unbind_ns = 500000,
			    .bind_errno = i == 5 ? 5 : 0,
			    .verified = i != 5,
			    .writer_cpu = (int)(i % 2) * 2,
			    .writer_node = (int)(i % 2)},
		    .measurement = i == 3
				       ? pb_measurement_error("arming the observer failed", -EBUSY)
				       : measured(900000 + i, (int)(i % 2), i == 4)};
		assert_int_equal(pb_run_record_add_iteration(r, &it), 0);
	}
	assert_int_equal(pb_run_record_summarise(r), 0);
	return r;
}

static const char *member_text(struct json_object *j, const char *key)
{
	return json_object_to_json_string_ext(json_object_object_get(j, key),
					      JSON_C_TO_STRING_PLAIN);
}

static void round_trip(void **state)
{
	(void)state;
	struct pb_run_record *r = example();
	assert_int_equal(r->n_summaries, 2);
	assert_int_equal(r->summaries[0].bind_ns.n, 3);
	assert_int_equal(r->summaries[1].bind_ns.n, 2);		   /* the failed bind is left out */
	assert_int_equal(r->summaries[1].measurement.measured, 1); /* and the observer error */
	assert_int_equal(r->summaries[0].measurement.lossy, 1);
	struct json_object *a = pb_run_record_to_json(r);
	struct pb_run_record *back = NULL;
	char err[200] = "";
	assert_int_equal(pb_run_record_from_json(a, &back, err, sizeof(err)), 0);
	struct json_object *b = pb_run_record_to_json(back);
	static const char *const same[] = {"iterations", "summary",	"placements",
					   "status",	 "exit_code",	"warmup_done",
					   "schema",	 "tool_version"};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		char *x = strdup(member_text(a, same[i]));
		if (strcmp(x, member_text(b, same[i]))) {
			/* in full: cmocka cuts long messages */
			fprintf(stderr, "written:\n%s\nread back and written:\n%s\n", x,
				member_text(b, same[i]));
			fail_msg("%s differs after the round trip", same[i]);
		}
		free(x);
	}
	json_object_put(a);
	json_object_put(b);
	pb_run_record_free(back);
	pb_run_record_free(r);
}

/* A stored record is not trusted: a number json-c had to clamp, or a double, is no value; a
 * name too long for its field is refused, not cut (cut, two names could become one). */
static void untrusted_fields(void **state)
{
	(void)state;
	struct pb_run_record *r = example(), *back = NULL;
	struct json_object *a = pb_run_record_to_json(r), *its, *it, *t;
	char err[200] = "";
	assert_true(json_object_object_get_ex(a, "iterations", &its));
	it = json_object_array_get_idx(its, 0);
	json_object_object_add(it, "bind_ns", json_object_new_int64(INT64_MAX));
	json_object_object_add(it, "unbind_ns", json_object_new_double(1e308));
	assert_int_equal(pb_run_record_from_json(a, &back, err, sizeof(err)), 0);
	assert_true(back->iterations[0].res.bind_ns == 0);
	assert_true(back->iterations[0].res.unbind_ns == 0);
	pb_run_record_free(back);
	back = NULL;

	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_true(json_object_object_get_ex(a, "targets", &its));
	t = json_object_array_get_idx(its, 0);
	json_object_object_add(t, "name", json_object_new_string(longname));
	assert_int_equal(pb_run_record_from_json(a, &back, err, sizeof(err)), -EINVAL);
	assert_null(back);
	assert_non_null(strstr(err, "name is longer"));
	json_object_put(a);
	pb_run_record_free(r);
}

static struct json_object *iteration_memory(struct json_object *rec, size_t i)
{
	struct json_object *its, *m;
	assert_true(json_object_object_get_ex(rec, "iterations", &its));
	assert_true(
	    json_object_object_get_ex(json_object_array_get_idx(its, i), "measurement", &m));
	return json_object_object_get(m, "memory");
}

/* The slab proxy, sampled or not: records of both kinds load, and records from before the
 * "sampled" member (allocs_by_node always there) load as sampled. */
static void slab_proxy_sampled_or_not(void **state)
{
	(void)state;
	struct pb_run_record *r = example(), *back = NULL;
	struct json_object *a = pb_run_record_to_json(r);
	char err[200] = "";
	struct json_object *sp = json_object_object_get(iteration_memory(a, 0), "slab_proxy");
	assert_false(json_object_get_boolean(json_object_object_get(sp, "sampled")));
	assert_false(json_object_object_get_ex(sp, "allocs_by_node", NULL));

	/* iteration 0 as an old record wrote it, iteration 1 says not sampled (its stray
	 * allocs_by_node is not taken), iteration 2 sampled as now and counted from an ftrace
	 * buffer's records (the others: by perf, absent in older records) */
	const char *old = "{\"allocs_by_node\": [0, 3], \"bytes_by_node\": [0, 96], "
			  "\"counted_by_node\": [1, 20]}";
	const char *unsampled = "{\"sampled\": false, \"allocs_by_node\": [0, 50], "
				"\"counted_by_node\": [2, 30]}";
	const char *sampled = "{\"sampled\": true, \"allocs_by_node\": [2, 1], "
			      "\"bytes_by_node\": [64, 32], \"counted_from\": \"ftrace records\", "
			      "\"counted_by_node\": [3, 9]}";
	json_object_object_add(iteration_memory(a, 0), "slab_proxy", json_tokener_parse(old));
	json_object_object_add(iteration_memory(a, 1), "slab_proxy", json_tokener_parse(unsampled));
	json_object_object_add(iteration_memory(a, 2), "slab_proxy", json_tokener_parse(sampled));
	assert_int_equal(pb_run_record_from_json(a, &back, err, sizeof(err)), 0);
	const struct pb_iteration_facts *f0 = &back->iterations[0].measurement->facts,
					*f1 = &back->iterations[1].measurement->facts,
					*f2 = &back->iterations[2].measurement->facts;
	assert_true(f0->slab_sampled);
	assert_int_equal(f0->slab_allocs_by_node[1], 3);
	assert_int_equal(f0->slab_bytes_by_node[1], 96);
	assert_true(f0->slab_counted);
	assert_int_equal(f0->slab_counted_by_node[1], 20);
	assert_false(f1->slab_sampled);
	assert_int_equal(f1->slab_allocs_by_node[1], 0);
	assert_int_equal(f1->slab_counted_by_node[1], 30);
	assert_true(f2->slab_sampled);
	assert_int_equal(f2->slab_allocs_by_node[0], 2);
	assert_false(f0->slab_counted_ftrace);
	assert_false(f1->slab_counted_ftrace);
	assert_true(f2->slab_counted_ftrace);

	/* written again: each as it was loaded (the old one now says sampled) */
	struct json_object *b = pb_run_record_to_json(back);
	sp = json_object_object_get(iteration_memory(b, 0), "slab_proxy");
	assert_true(json_object_get_boolean(json_object_object_get(sp, "sampled")));
	assert_int_equal(json_object_get_int(json_object_array_get_idx(
			     json_object_object_get(sp, "allocs_by_node"), 1)),
			 3);
	assert_string_equal(json_object_get_string(json_object_object_get(sp, "counted_from")),
			    "perf counting events");
	sp = json_object_object_get(iteration_memory(b, 1), "slab_proxy");
	assert_false(json_object_object_get_ex(sp, "allocs_by_node", NULL));
	struct json_object *want = json_tokener_parse(sampled);
	assert_string_equal(member_text(iteration_memory(b, 2), "slab_proxy"),
			    json_object_to_json_string_ext(want, JSON_C_TO_STRING_PLAIN));
	json_object_put(want);
	json_object_put(b);

	/* summarised: placement 0 holds iterations 0 and 2 (sampled), placement 1 iteration 1 */
	assert_int_equal(pb_run_record_summarise(back), 0);
	assert_true(back->summaries[0].measurement.slab_sampled);
	assert_int_equal(back->summaries[0].measurement.slab_by_node[0], 2);
	assert_int_equal(back->summaries[0].measurement.slab_by_node[1], 4);
	assert_false(back->summaries[1].measurement.slab_sampled);
	assert_true(back->summaries[0].measurement.slab_counted_ftrace);
	assert_false(back->summaries[1].measurement.slab_counted_ftrace);
	json_object_put(a);
	pb_run_record_free(back);
	pb_run_record_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(untrusted_fields),
	    cmocka_unit_test(slab_proxy_sampled_or_not),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
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
#include "probebench/report_html.h"

/* A hostile name: every character HTML gives a meaning to. */
#define EVIL	     "<script>alert(\"x\")</script>&'"
#define EVIL_ESCAPED "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
/* The same inside a JSON string. */
#define EVIL_JSON "<script>alert(\\\"x\\\")</script>&'"

static char *render(const struct pb_run_record *const *recs, const char *const *names, size_t n,
		    struct json_object *cmp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(pb_report_html(f, recs, names, n, cmp), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* One probe: device, driver, CPU, node of that CPU, duration; the device sits on node 1. */
static void probe(struct pb_probe_fact *p, int depth, const char *bus, const char *driver, int cpu,
		  uint64_t start, uint64_t dur)
{
	snprintf(p->device, sizeof(p->device), depth ? "virtio7" : "0000:82:00.0");
	snprintf(p->bus, sizeof(p->bus), "%s", bus);
	snprintf(p->driver, sizeof(p->driver), "%s", driver);
	snprintf(p->comm, sizeof(p->comm), "probebench");
	p->cpu = cpu;
	p->node = cpu / 2;
	p->device_node = 1;
	p->on_device_node = p->node == 1;
	p->pid = 100;
	p->start_ns = start;
	p->start_exact = true;
	p->duration_ns = dur;
	p->depth = depth;
	p->method = PB_METHOD_KPROBE;
	p->pages_measured = true;
	p->n_page_nodes = 2;
	p->pages_by_node[p->node] = 3;
}

/*
 * Two placements (node0, node1) of one target whose name and driver are hostile, n iterations
 * each; measured: a probe with a nested probe, the node1 probe hopping into a worker on CPU 3.
 * The iteration k of node0 fails.
 */
static struct pb_run_record *record(bool measured, unsigned n)
{
	struct pb_run_record *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	snprintf(r->host, sizeof(r->host), "host " EVIL);
	snprintf(r->kernel_release, sizeof(r->kernel_release), "6.1.0-test");
	snprintf(r->tool_version, sizeof(r->tool_version), "0.1.0");
	snprintf(r->status, sizeof(r->status), "complete");
	r->start_unix_ns = 1764547200000000000; /* 2025-12-01 00:00:00 UTC */
	r->end_unix_ns = r->start_unix_ns + 60000000000;
	r->options.iterations = n;
	r->options.warmup = 2;
	r->warmup_done = 2;
	r->measure_enabled = measured;
	if (!measured)
		snprintf(r->measure_why_not, sizeof(r->measure_why_not),
			 "measurement off (--no-measure) <bare>");
	r->options.measure = measured;
	r->n_targets = 1;
	r->targets = calloc(1, sizeof(*r->targets));
	snprintf(r->targets[0].t.name, sizeof(r->targets[0].t.name), "dev" EVIL);
	snprintf(r->targets[0].t.bus, sizeof(r->targets[0].t.bus), "pci");
	snprintf(r->targets[0].t.driver, sizeof(r->targets[0].t.driver), "drv<b>");
	r->targets[0].t.numa_node = 1;
	r->n_placements = 2;
	r->placements = calloc(2, sizeof(*r->placements));
	for (int p = 0; p < 2; p++) {
		snprintf(r->placements[p].label, sizeof(r->placements[p].label), "node%d", p);
		r->placements[p].node = p;
		r->placements[p].cpu = -1;
	}
	for (unsigned i = 0; i < n; i++)
		for (size_t p = 0; p < 2; p++) {
			struct pb_record_iteration it = {
			    .target = 0, .placement = p, .iteration = i};
			it.res.outcome = p == 0 && i == n / 2 ? PB_CYCLE_BIND_FAILED : PB_CYCLE_OK;
			it.res.bind_ns = 4000000 + 10000 * i + 500000 * p;
			it.res.unbind_ns = 1000000 + 1000 * i;
			it.res.writer_cpu = (int)(2 * p);
			it.res.writer_node = (int)p;
			if (measured) {
				struct pb_measurement *m = pb_measurement_new();
				struct pb_iteration_facts *fa = &m->facts;
				uint64_t t0 = 1000000000ull * (i + 1);
				fa->method = PB_METHOD_KPROBE;
				fa->write_start_ns = t0;
				fa->writer_tid = 100;
				fa->probes = calloc(2, sizeof(*fa->probes));
				fa->n_probes = 2;
				probe(&fa->probes[0], 0, "pci", "drv<b>", (int)(2 * p), t0 + 20000,
				      3000000 + 1000 * i);
				probe(&fa->probes[1], 1, "virtio", "child&rng", (int)(2 * p),
				      t0 + 1000000, 1500000);
				if (p == 1) {
					struct pb_probe_fact *pf = &fa->probes[0];
					pf->hop = true;
					pf->hop_cpu = 3;
					pf->hop_pid = 42;
					snprintf(pf->hop_comm, sizeof(pf->hop_comm), "kworker/3:1");
					snprintf(pf->hop_function, sizeof(pf->hop_function),
						 "work_for_cpu_fn");
					pf->hop_start_ns = t0 + 30000;
					pf->hop_duration_ns = 2900000;
				}
				fa->uevent_kernel_ns = 4500000;
				fa->uevent_udev_ns = -1;
				fa->memory_measured = true;
				fa->pfn_map_source = "memory_blocks";
				fa->n_nodes = 2;
				fa->pages_by_node[p] = 6;
				fa->pages_total = 6;
				/* slab allocations counted on both, sampled on node1 only */
				fa->slab_counted = true;
				fa->n_slab_counted_nodes = 2;
				fa->slab_counted_by_node[p] = 40;
				fa->slab_sampled = p == 1;
				fa->slab_allocs_by_node[p] = fa->slab_sampled ? 30 : 0;
				it.measurement = m;
			}
			assert_int_equal(pb_run_record_add_iteration(r, &it), 0);
		}
	assert_int_equal(pb_run_record_summarise(r), 0);
	return r;
}

static void escape(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	pb_html_escape(f, EVIL);
	pb_html_escape(f, NULL);
	pb_html_escape(f, "plain ü");
	fclose(f);
	assert_string_equal(buf, EVIL_ESCAPED "plain ü");
	free(buf);
}

/* Every string of the record is escaped: the page holds the page's own one script only. */
static void record_strings_escaped(void **state)
{
	(void)state;
	struct pb_run_record *r = record(true, 9);
	const struct pb_run_record *recs[] = {r};
	const char *names[] = {"runs/" EVIL ".json"};
	char *html = render(recs, names, 1, NULL);
	assert_int_equal(count(html, "<script"), 1);
	assert_null(strstr(html, "alert(\""));
	assert_null(strstr(html, "drv<b>"));
	assert_non_null(strstr(html, "host " EVIL_ESCAPED));
	assert_non_null(strstr(html, "runs/" EVIL_ESCAPED ".json"));
	assert_non_null(strstr(html, "drv&lt;b&gt;"));
	assert_non_null(strstr(html, "child&amp;rng"));
	free(html);
	pb_run_record_free(r);
}

/* The figures of each target x placement, by id and class; the timeline has the hop's lane and
 * the nested probe; the failed iteration is marked; no time of day but the record's own. */
static void figures(void **state)
{
	(void)state;
	struct pb_run_record *r = record(true, 9);
	const struct pb_run_record *recs[] = {r};
	const char *names[] = {"a.json"};
	char *html = render(recs, names, 1, NULL);
	const char *ids[] = {"id=\"dist-r0-t0-p0\"",	 "id=\"series-r0-t0-p0\"",
			     "id=\"node-r0-t0-p0\"",	 "id=\"pages-r0-t0-p0\"",
			     "id=\"timeline-r0-t0-p0\"", "id=\"dist-r0-t0-p1\"",
			     "id=\"timeline-r0-t0-p1\""};
	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++)
		assert_non_null(strstr(html, ids[k]));
	/* every figure has its method and blind spots */
	size_t figs = count(html, "<figure class=\"fig ");
	assert_int_equal(figs, 10);
	assert_int_equal(count(html, "<span class=\"method\">"), figs);
	assert_int_equal(count(html, "<span class=\"blind\">"), figs);
	assert_int_equal(count(html, "class=\"pt failed\""), 1);
	/* node1's median bind: the writer on CPU 2, the hop worker on CPU 3 */
	const char *tl = strstr(html, "id=\"timeline-r0-t0-p1\"");
	assert_non_null(strstr(tl, ">CPU 2<"));
	assert_non_null(strstr(tl, ">CPU 3<"));
	assert_non_null(strstr(tl, "class=\"tl-hop\""));
	assert_non_null(strstr(tl, "class=\"tl-probe depth1\""));
	assert_non_null(strstr(tl, "hop worker kworker/3:1[42] (work_for_cpu_fn)"));
	/* 9 binds on node1: the median is iteration 4, 4.54 ms */
	assert_non_null(strstr(tl, "Iteration 4, bind write 4.54 ms"));
	/* node0 ran its probes on node 0, node1 on node 1: on-node 0/8 and 9/9 */
	assert_non_null(strstr(strstr(html, "id=\"node-r0-t0-p0\""), ">0/8<"));
	assert_non_null(strstr(strstr(html, "id=\"node-r0-t0-p1\""), ">9/9<"));
	assert_non_null(strstr(html, "2025-12-01 00:00:00 UTC"));
	assert_null(strstr(html, "class=\"why-not\""));
	/* the slab allocations' method: node0 counted only, node1 sampled too */
	const char *pg0 = strstr(html, "id=\"pages-r0-t0-p0\""),
		   *pg1 = strstr(html, "id=\"pages-r0-t0-p1\"");
	assert_non_null(pg0);
	assert_non_null(pg1);
	const char *unsampled =
	    strstr(pg0, "counted per CPU by perf; sizes not sampled: --slab-samples");
	assert_true(unsampled && unsampled < pg1);
	assert_null(strstr(pg1, "sizes not sampled"));
	free(html);
	pb_run_record_free(r);
}

/* Same input, same bytes: twice from memory, twice from the stored JSON text. */
static void deterministic(void **state)
{
	(void)state;
	struct pb_run_record *r = record(true, 7);
	const struct pb_run_record *recs[] = {r};
	const char *names[] = {"a.json"};
	char *one = render(recs, names, 1, NULL), *two = render(recs, names, 1, NULL);
	assert_string_equal(one, two);
	char *text = pb_run_record_json_text(r);
	assert_non_null(text);
	char *h1 = NULL, *h2 = NULL, err[128];
	size_t l1 = 0, l2 = 0;
	assert_int_equal(pb_report_html_from_text(text, "a.json", &h1, &l1, err, sizeof(err)), 0);
	assert_int_equal(pb_report_html_from_text(text, "a.json", &h2, &l2, err, sizeof(err)), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(h1, h2, l1);
	assert_non_null(strstr(h1, "id=\"timeline-r0-t0-p1\""));
	/* not a run record */
	char *h3 = (char *)1;
	assert_int_equal(pb_report_html_from_text("{\"a\": 1}", "x", &h3, &l1, err, sizeof(err)),
			 -EINVAL);
	assert_null(h3);
	assert_int_equal(pb_report_html_from_text("[1", "x", &h3, &l1, err, sizeof(err)), -EINVAL);
	free(text);
	free(h1);
	free(h2);
	free(one);
	free(two);
	pb_run_record_free(r);
}

/* A record made with --no-measure: bind figures, and instead of the probe figures the reason. */
static void not_measured(void **state)
{
	(void)state;
	struct pb_run_record *r = record(false, 5);
	const struct pb_run_record *recs[] = {r};
	const char *names[] = {"bare.json"};
	char *html = render(recs, names, 1, NULL);
	assert_non_null(strstr(html, "id=\"dist-r0-t0-p0\""));
	assert_non_null(strstr(html, "id=\"series-r0-t0-p1\""));
	assert_null(strstr(html, "id=\"node-r0"));
	assert_null(strstr(html, "id=\"timeline-r0"));
	assert_int_equal(count(html, "class=\"why-not\""), 2);
	assert_non_null(strstr(html, "measurement off (--no-measure) &lt;bare&gt;"));
	free(html);
	pb_run_record_free(r);
}

/* Measured, but every iteration of one cell lost perf records: that cell says so instead of
 * drawing probe figures; the other cell has them. */
static void all_lossy(void **state)
{
	(void)state;
	struct pb_run_record *r = record(true, 6);
	for (size_t i = 0; i < r->n_iterations; i++)
		if (r->iterations[i].placement == 1)
			r->iterations[i].measurement->facts.lost_records = 3;
	assert_int_equal(pb_run_record_summarise(r), 0);
	const struct pb_run_record *recs[] = {r};
	const char *names[] = {"lossy.json"};
	char *html = render(recs, names, 1, NULL);
	assert_non_null(strstr(html, "id=\"timeline-r0-t0-p0\""));
	assert_null(strstr(html, "id=\"timeline-r0-t0-p1\""));
	assert_non_null(strstr(html,
			       "id=\"why-r0-t0-p1\">No probe figures (on-node share, pages by "
			       "node, timeline): every measured iteration is left out: 6 lost "
			       "perf records"));
	free(html);
	pb_run_record_free(r);
}

/* A comparison: A next to B with the shift, its interval and the verdict; the samples of both
 * sides from the records given. */
static void comparison(void **state)
{
	(void)state;
	struct pb_run_record *a = record(true, 7), *b = record(true, 7);
	for (size_t i = 0; i < b->n_iterations; i++)
		b->iterations[i].res.bind_ns += 1000000;
	assert_int_equal(pb_run_record_summarise(b), 0);
	const char *doc =
	    "{\"schema\": \"probebench-compare/1\", \"alpha\": 0.01, \"min_change\": 0.02,"
	    " \"ci_level\": 0.99, \"adjustment\": \"holm\", \"method\": \"kprobe\","
	    " \"baseline\": {\"runs\": [{\"file\": \"/x/a.json\", \"kernel\": \"k<1>\"}]},"
	    " \"candidate\": {\"runs\": [{\"file\": \"b.json\", \"kernel\": \"k2\"}]},"
	    " \"comparisons\": [{\"target\": \"dev" EVIL_JSON "\", \"placement\": \"node1\","
	    " \"metric\": \"bind_ns\", \"method\": null,"
	    " \"baseline\": {\"N\": 7, \"records\": 1, \"median\": 4530000, \"p90\": 4550000,"
	    "   \"min\": 4500000, \"max\": 4560000},"
	    " \"candidate\": {\"N\": 7, \"records\": 1, \"median\": 5530000, \"p90\": 5550000,"
	    "   \"min\": 5500000, \"max\": 5560000},"
	    " \"ratio\": 1.22, \"p\": 0.0006, \"p_method\": \"exact\", \"p_adjusted\": 0.0012,"
	    " \"shift_ns\": {\"estimate\": 1000000, \"low\": 990000, \"high\": 1010000,"
	    "   \"level\": 0.99, \"interval_method\": \"exact\"}, \"verdict\": \"slower\"}],"
	    " \"node_shares\": [], \"only_in_baseline\": [], \"only_in_candidate\": ["
	    " {\"target\": \"t\", \"placement\": \"any\", \"metric\": \"m<i>\", \"method\": "
	    "null}]}";
	struct json_object *j = json_tokener_parse(doc);
	assert_non_null(j);
	const struct pb_run_record *recs[] = {a, b};
	const char *names[] = {"a.json", "b.json"};
	char *html = render(recs, names, 2, j);
	assert_non_null(strstr(html, "id=\"compare\""));
	assert_non_null(strstr(html, "id=\"cmp-0\""));
	assert_non_null(strstr(html, "id=\"cmpdist-0\""));
	assert_non_null(strstr(html, "shift +1.00 ms, 99% interval [+990.0 us, +1.01 ms]"));
	assert_non_null(strstr(html, "<b class=\"slower\">slower</b>"));
	assert_non_null(strstr(html, "k&lt;1&gt;"));
	assert_non_null(strstr(html, "m&lt;i&gt;"));
	assert_int_equal(count(html, "<script"), 1);
	/* the ECDF of both sides: 7 binds of node1 a side */
	const char *cd = strstr(html, "id=\"cmpdist-0\"");
	assert_non_null(strstr(cd, "A baseline</td><td>7</td><td>4.53 ms</td>"));
	assert_non_null(strstr(cd, "B candidate</td><td>7</td><td>5.53 ms</td>"));
	/* without the records of a side: no samples figure */
	char *html1 = render(recs, names, 1, j);
	assert_null(strstr(html1, "id=\"cmpdist-0\""));
	free(html1);
	/* two files of one name: told apart by their paths only */
	json_object_object_add(
	    json_object_array_get_idx(
		json_object_object_get(json_object_object_get(j, "baseline"), "runs"), 0),
	    "file", json_object_new_string("one/results.json"));
	json_object_object_add(
	    json_object_array_get_idx(
		json_object_object_get(json_object_object_get(j, "candidate"), "runs"), 0),
	    "file", json_object_new_string("two/results.json"));
	const char *same[] = {"one/results.json", "two/results.json"},
		   *other[] = {"x/results.json", "y/results.json"};
	html1 = render(recs, same, 2, j);
	assert_non_null(strstr(html1, "id=\"cmpdist-0\""));
	free(html1);
	html1 = render(recs, other, 2, j);
	assert_null(strstr(html1, "id=\"cmpdist-0\""));
	free(html1);
	free(html);
	json_object_put(j);
	pb_run_record_free(a);
	pb_run_record_free(b);
}

/* A real record of the NUMA test guest (scripts/demo, two rng functions, the writer on either
 * node): its four cells have every figure; the PCI probe ran in a worker (work_on_cpu) on the
 * device's node, a lane of its own; every probe on the device's node. */
static void guest_record(void **state)
{
	(void)state;
	char path[4096];
	snprintf(path, sizeof(path), "%s/report/guest-numa.json", getenv("PB_FIXTURES"));
	struct pb_run_record *r = pb_run_record_read(path);
	assert_non_null(r);
	const struct pb_run_record *recs[] = {r};
	const char *names[] = {"guest-numa.json"};
	char *html = render(recs, names, 1, NULL), *again = render(recs, names, 1, NULL);
	assert_string_equal(html, again);
	for (int t = 0; t < 2; t++)
		for (int p = 0; p < 2; p++) {
			char id[64];
			snprintf(id, sizeof(id), "id=\"timeline-r0-t%d-p%d\"", t, p);
			const char *tl = strstr(html, id);
			assert_non_null(tl);
			assert_non_null(strstr(tl, "class=\"tl-hop\""));
			snprintf(id, sizeof(id), "id=\"node-r0-t%d-p%d\"", t, p);
			assert_non_null(strstr(strstr(html, id), ">4/4<"));
			snprintf(id, sizeof(id), "id=\"pages-r0-t%d-p%d\"", t, p);
			assert_non_null(strstr(html, id));
		}
	assert_non_null(strstr(html, "0000:21:00.0 <small>pci/virtio-pci, node 0</small>"));
	assert_non_null(strstr(html, "0000:82:00.0 <small>pci/virtio-pci, node 1</small>"));
	assert_null(strstr(html, "class=\"why-not\""));
	free(html);
	free(again);
	pb_run_record_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(escape),	    cmocka_unit_test(record_strings_escaped),
	    cmocka_unit_test(figures),	    cmocka_unit_test(deterministic),
	    cmocka_unit_test(not_measured), cmocka_unit_test(comparison),
	    cmocka_unit_test(guest_record), cmocka_unit_test(all_lossy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

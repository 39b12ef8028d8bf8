// SPDX-License-Identifier: GPL-2.0-or-later
/* Prometheus text format for the daemon (see metrics.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/inventory.h"
#include "probebench/metrics.h"
#include "probebench/placement.h"
#include "probebench/record.h"
#include "probebench/stats.h"
#include "probebench/util.h"

static void put_label_value(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_double(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else if (fabs(v) >= 1e6)
		fprintf(f, "%.3f", v); /* timestamps: keep the milliseconds */
	else
		fprintf(f, "%.9g", v);
}

/* Labels of one summary: device, driver, node (the device's), writer node, plan. */
struct entry_labels {
	const char *plan;
	const char *device;
	const char *driver;
	char node[16];
	char writer_node[16];
};

/* The writer's node: the placement's, else the one every ok iteration of it ran on, else any. */
static void writer_node_label(const struct pb_run_record *r, const struct pb_record_summary *s,
			      char *buf, size_t size)
{
	int node = r->placements[s->placement].node;
	for (size_t i = 0; node < 0 && i < r->n_iterations; i++) {
		const struct pb_record_iteration *it = &r->iterations[i];
		if (it->target != s->target || it->placement != s->placement ||
		    it->res.outcome != PB_CYCLE_OK)
			continue;
		if (it->res.writer_node < 0)
			break;
		bool same = true;
		for (size_t k = i + 1; same && k < r->n_iterations; k++) {
			const struct pb_record_iteration *o = &r->iterations[k];
			same = o->target != s->target || o->placement != s->placement ||
			       o->res.outcome != PB_CYCLE_OK ||
			       o->res.writer_node == it->res.writer_node;
		}
		if (same)
			node = it->res.writer_node;
		break;
	}
	if (node >= 0)
		snprintf(buf, size, "%d", node);
	else
		snprintf(buf, size, "any");
}

static void find_labels(const char *plan, const struct pb_run_record *r,
			const struct pb_record_summary *s, struct entry_labels *l)
{
	const struct pb_target *t = &r->targets[s->target].t;
	*l = (struct entry_labels){.plan = plan, .device = t->name};
	l->driver = t->driver[0] ? t->driver : NULL;
	snprintf(l->node, sizeof(l->node), "%d", t->numa_node);
	writer_node_label(r, s, l->writer_node, sizeof(l->writer_node));
}

/* The entry's labels, then up to two more (a NULL key: not that one). */
static void put_labels_x(FILE *f, const struct entry_labels *l, const char *k1, const char *v1,
			 const char *k2, const char *v2)
{
	fputs("{plan=\"", f);
	put_label_value(f, l->plan);
	fputs("\",device=\"", f);
	put_label_value(f, l->device);
	fputs("\",driver=\"", f);
	put_label_value(f, l->driver ? l->driver : "unknown");
	fprintf(f, "\",node=\"%s\",writer_node=\"%s\"", l->node, l->writer_node);
	const char *k[2] = {k1, k2}, *v[2] = {v1, v2};
	for (int n = 0; n < 2; n++) {
		if (!k[n])
			continue;
		fprintf(f, ",%s=\"", k[n]);
		put_label_value(f, v[n]);
		fputc('"', f);
	}
	fputc('}', f);
}

static void put_labels(FILE *f, const struct entry_labels *l, const char *extra_key,
		       const char *extra_val)
{
	put_labels_x(f, l, extra_key, extra_val, NULL, NULL);
}

/* Iterates the summaries of every plan's latest record: ENTRY the summary, LABELS its labels. */
#define FOREACH_ENTRY(plans, n_plans, ENTRY, LABELS, ...)                                          \
	for (size_t _p = 0; _p < (n_plans); _p++) {                                                \
		const struct pb_run_record *_rec = (plans)[_p].last_record;                        \
		for (size_t _i = 0; _rec && _i < _rec->n_summaries; _i++) {                        \
			const struct pb_record_summary *ENTRY = &_rec->summaries[_i];              \
			struct entry_labels LABELS;                                                \
			find_labels((plans)[_p].name, _rec, ENTRY, &LABELS);                       \
			__VA_ARGS__                                                                \
		}                                                                                  \
	}

/* Writes one summary (quantiles, _sum, _count) of ns stats in seconds; false when it has none. */
static bool put_summary(FILE *f, const char *name, const struct entry_labels *l,
			const char *extra_key, const char *extra_val, const struct pb_stats *s)
{
	if (!s->n)
		return false;
	for (size_t k = 0; k < PB_STATS_N_PERCENTILES; k++) {
		char qs[32];
		snprintf(qs, sizeof(qs), "%g", pb_stats_percentiles[k] / 100.0);
		fputs(name, f);
		put_labels_x(f, l, extra_key, extra_val, "quantile", qs);
		fputc(' ', f);
		put_double(f, (double)s->percentile[k] / 1e9);
		fputc('\n', f);
	}
	fprintf(f, "%s_sum", name);
	put_labels(f, l, extra_key, extra_val);
	fputc(' ', f);
	put_double(f, s->mean * (double)s->n / 1e9);
	fprintf(f, "\n%s_count", name);
	put_labels(f, l, extra_key, extra_val);
	fprintf(f, " %zu\n", s->n);
	return true;
}

/* The bind or unbind times of a summary. */
static const struct pb_stats *step_stats(const struct pb_record_summary *s, bool bind)
{
	return bind ? &s->bind_ns : &s->unbind_ns;
}

static void durations(FILE *f, const struct pb_metrics_plan *plans, size_t n_plans, bool bind)
{
	const char *what = bind ? "bind" : "unbind";
	char name[96], help[256];
	bool any = false;
	snprintf(name, sizeof(name), "probebench_%s_duration_seconds", what);
	FOREACH_ENTRY(plans, n_plans, e, l, {
		if (!step_stats(e, bind)->n)
			continue;
		if (!any) {
			snprintf(help, sizeof(help),
				 "Time of the %s write in the latest run, per measured iteration, "
				 "from the run pipeline's per-iteration timing (quantiles over the "
				 "run; _sum is mean times count).",
				 what);
			header(f, name, "summary", help);
			any = true;
		}
		put_summary(f, name, &l, NULL, NULL, step_stats(e, bind));
	});
	static const struct {
		const char *suffix, *help;
	} extra[] = {
	    {"min", "Shortest"},
	    {"max", "Longest"},
	    {"stddev", "Standard deviation of the"},
	};
	for (size_t k = 0; k < PB_ARRAY_SIZE(extra); k++) {
		any = false;
		snprintf(name, sizeof(name), "probebench_%s_duration_%s_seconds", what,
			 extra[k].suffix);
		FOREACH_ENTRY(plans, n_plans, e, l, {
			const struct pb_stats *s = step_stats(e, bind);
			if (!s->n)
				continue;
			if (!any) {
				snprintf(
				    help, sizeof(help),
				    "%s %s write time in the latest run (measured iterations).",
				    extra[k].help, what);
				header(f, name, "gauge", help);
				any = true;
			}
			double v = k == 0 ? (double)s->min : k == 1 ? (double)s->max : s->stddev;
			fputs(name, f);
			put_labels(f, &l, NULL, NULL);
			fputc(' ', f);
			put_double(f, v / 1e9);
			fputc('\n', f);
		});
	}
}

/*
 * Iterates the probe groups (summary measurement groups) of every plan's latest record: GR the
 * group, LABELS the entry's labels with the probed driver, DEPTH its depth as a string.
 */
#define FOREACH_PROBE_GROUP(plans, n_plans, GR, LABELS, DEPTH, ...)                                \
	FOREACH_ENTRY(plans, n_plans, _e, _l, {                                                    \
		for (size_t _g = 0; _e->measured && _g < _e->measurement.n_groups; _g++) {         \
			const struct pb_summary_group *GR = &_e->measurement.groups[_g];           \
			struct entry_labels LABELS = _l;                                           \
			LABELS.driver = GR->driver;                                                \
			char DEPTH[16];                                                            \
			snprintf(DEPTH, sizeof(DEPTH), "%d", GR->depth);                           \
			__VA_ARGS__                                                                \
		}                                                                                  \
	})

/*
 * Per-probe facts of the latest runs (summary measurements): probe durations by probed driver
 * and depth, the share on the device's node, pages by the node they landed on.
 */

/* One gauge per summary and page node: the pages allocated inside the windows, or kept. */
static void pages_by_node(FILE *f, const struct pb_metrics_plan *plans, size_t n_plans,
			  const char *name, bool kept, const char *help)
{
	bool any = false;
	FOREACH_ENTRY(plans, n_plans, e, l, {
		const struct pb_measure_summary *m = &e->measurement;
		if (!e->measured || !m->memory || (kept && !m->kept_iterations))
			continue;
		unsigned n = kept ? m->n_kept_nodes : m->n_page_nodes;
		for (unsigned k = 0; k < n; k++) {
			if (!any)
				header(f, name, "gauge", help);
			any = true;
			char ks[16];
			snprintf(ks, sizeof(ks), "%u", k);
			fputs(name, f);
			put_labels(f, &l, "page_node", ks);
			fprintf(f, " %" PRIu64 "\n",
				kept ? m->kept_by_node[k] : m->pages_by_node[k]);
		}
	});
}

static void probes(FILE *f, const struct pb_metrics_plan *plans, size_t n_plans)
{
	bool any = false;
	const char *name = "probebench_probe_duration_seconds";
	FOREACH_PROBE_GROUP(plans, n_plans, gr, pl, ds, {
		if (!gr->probe_ns.n)
			continue;
		if (!any) {
			header(f, name, "summary",
			       "Duration of each driver probe inside the bind writes of the "
			       "latest run, by probed driver and depth (0: the target, 1: a "
			       "child probed inside it), measured by the run's observer "
			       "(kprobe/kretprobe on really_probe, else the kernel's "
			       "initcall_debug duration; the run record names the method).");
			any = true;
		}
		put_summary(f, name, &pl, "depth", ds, &gr->probe_ns);
	});
	any = false;
	name = "probebench_probe_on_device_node_ratio";
	FOREACH_PROBE_GROUP(plans, n_plans, gr, pl, ds, {
		uint64_t known = gr->on_node_yes + gr->on_node_no;
		if (!known)
			continue;
		if (!any) {
			header(f, name, "gauge",
			       "Share (0..1) of the latest run's probes that ran on a CPU of "
			       "the device's NUMA node (the CPU from the observer's samples; "
			       "probes whose CPU or device node is unknown are left out).");
			any = true;
		}
		fputs(name, f);
		put_labels(f, &pl, "depth", ds);
		fputc(' ', f);
		put_double(f, (double)gr->on_node_yes / (double)known);
		fputc('\n', f);
	});
	pages_by_node(
	    f, plans, n_plans, "probebench_probe_pages", false,
	    "Pages allocated by the probing tasks inside the bind writes of the latest run, "
	    "by the NUMA node they landed on (kmem:mm_page_alloc pfn mapped to its node; "
	    "new pages only: slab reuse hides small allocations).");
	pages_by_node(
	    f, plans, n_plans, "probebench_probe_kept_pages", true,
	    "Of those pages, the ones the device still held when it was next unbound (or "
	    "the run ended), summed over the latest run's binds whose watch settled (page "
	    "frees of the held pfns, kmem:mm_page_free with a pfn filter).");
}

/* Iterations of the latest runs whose facts were left out of the statistics, by why. */
static void measurement_failures(FILE *f, const struct pb_metrics_plan *plans, size_t n_plans)
{
	const char *name = "probebench_measurement_excluded_iterations";
	bool any = false;
	FOREACH_ENTRY(plans, n_plans, e, l, {
		if (!e->measured)
			continue;
		const struct {
			uint64_t v;
			const char *reason;
		} kinds[] = {{e->measurement.missing_probe, "missing_probe"},
			     {e->measurement.lossy, "lossy"}};
		for (size_t k = 0; k < PB_ARRAY_SIZE(kinds); k++) {
			if (!any) {
				header(f, name, "gauge",
				       "Iterations of the latest run whose observer facts are left "
				       "out of its statistics: missing_probe (the bind succeeded "
				       "and the method saw no probe: a measurement failure), lossy "
				       "(the perf rings lost records; counted in unless the run "
				       "had --include-lossy).");
				any = true;
			}
			fputs(name, f);
			put_labels(f, &l, "reason", kinds[k].reason);
			fprintf(f, " %" PRIu64 "\n", kinds[k].v);
		}
	});
}

/* The targets' users sampled after each plan's latest run (doc/placement.md). */
static void consumers(FILE *f, const struct pb_metrics_plan *plans, size_t n_plans)
{
	for (int ratio = 0; ratio < 2; ratio++) {
		bool any = false;
		for (size_t p = 0; p < n_plans; p++) {
			const struct pb_placement_report *r = plans[p].placement;
			for (size_t i = 0; r && i < r->n_devices; i++) {
				const struct pb_placement_device *d = &r->devices[i];
				if (ratio ? !d->has_ratio : !d->n_consumers)
					continue;
				const char *name = ratio
						       ? "probebench_consumer_on_device_node_ratio"
						       : "probebench_consumer_pages";
				if (!any)
					header(
					    f, name, "gauge",
					    ratio
						? "Share of the consumers' pages on the device's "
						  "NUMA node, sampled after the plan's latest run; "
						  "absent for a node-less device."
						: "Resident pages (base pages) of the processes "
						  "that "
						  "held or mapped the device's nodes or resource "
						  "files, sampled after the plan's latest run, by "
						  "the "
						  "node the pages are on (numa_maps; shared pages "
						  "counted in every process).");
				any = true;
				for (int n = 0; n < (ratio ? 1 : PB_PLACEMENT_MAX_NODES); n++) {
					if (!ratio && !d->total.bytes[n])
						continue;
					fprintf(f, "%s{plan=\"", name);
					put_label_value(f, plans[p].name);
					fputs("\",device=\"", f);
					put_label_value(f, d->dev->sysname);
					if (ratio) {
						fputs("\"} ", f);
						put_double(f, d->on_node_ratio);
						fputc('\n', f);
					} else {
						fprintf(f, "\",node=\"%d\"} %" PRIu64 "\n", n,
							d->total.bytes[n] / r->page_bytes);
					}
				}
			}
		}
	}
}

int pb_metrics_render(const struct pb_metrics_daemon *d, const struct pb_metrics_plan *plans,
		      size_t n_plans, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;

	header(f, "probebench_build_info", "gauge", "Version of the running daemon (always 1).");
	fputs("probebench_build_info{version=\"", f);
	put_label_value(f, d->version);
	fputs("\"} 1\n", f);
	header(f, "probebench_daemon_start_time_seconds", "gauge",
	       "Time the daemon started, seconds since the Unix epoch (CLOCK_REALTIME).");
	fputs("probebench_daemon_start_time_seconds ", f);
	put_double(f, d->start_time_s);
	fputc('\n', f);
	header(f, "probebench_run_in_progress", "gauge", "1 while a plan is being run, else 0.");
	fprintf(f, "probebench_run_in_progress %d\n", d->run_in_progress ? 1 : 0);
	header(f, "probebench_results_stored", "gauge",
	       "Run records in the results directory after retention.");
	fprintf(f, "probebench_results_stored %zu\n", d->results_stored);
	header(f, "probebench_config_reloads_total", "counter",
	       "Configuration reloads (SIGHUP) since start, by result.");
	fprintf(f, "probebench_config_reloads_total{result=\"ok\"} %llu\n",
		(unsigned long long)d->config_reloads_ok);
	fprintf(f, "probebench_config_reloads_total{result=\"failed\"} %llu\n",
		(unsigned long long)d->config_reloads_failed);
	if (d->restore_ran) {
		header(f, "probebench_restore_at_start_entries", "gauge",
		       "Journal entries (devices an interrupted run left) the daemon found when it "
		       "started and handed to restore; 0 after a clean stop.");
		fprintf(f, "probebench_restore_at_start_entries %u\n", d->restore_entries);
		header(f, "probebench_restore_at_start_exit_code", "gauge",
		       "Exit code of the restore at start (0 all put back or nothing to do, 1 "
		       "entries remain, 5 a write hung).");
		fprintf(f, "probebench_restore_at_start_exit_code %d\n", d->restore_exit);
	}

	if (n_plans) {
		header(
		    f, "probebench_runs_total", "counter",
		    "Runs finished since the daemon started, by plan and result (exit code name).");
		for (size_t p = 0; p < n_plans; p++)
			for (int c = 0; c < PB_RUN_STATUS__MAX; c++) {
				if (c != PB_RUN_OK && !plans[p].runs_by_status[c])
					continue;
				fputs("probebench_runs_total{plan=\"", f);
				put_label_value(f, plans[p].name);
				fprintf(f, "\",result=\"%s\"} %llu\n", pb_run_status_name(c),
					(unsigned long long)plans[p].runs_by_status[c]);
			}
	}
	static const struct {
		const char *name, *help;
		int which;
	} last[] = {
	    {"probebench_last_run_exit_code",
	     "Exit code of the plan's latest run (0 ok; see probebench(1) for the others).", 0},
	    {"probebench_last_run_end_time_seconds",
	     "When the plan's latest run ended, seconds since the Unix epoch (CLOCK_REALTIME).", 1},
	    {"probebench_last_run_duration_seconds",
	     "Wall time of the plan's latest run (CLOCK_MONOTONIC), including warm-up.", 2},
	};
	for (size_t k = 0; k < PB_ARRAY_SIZE(last); k++) {
		bool any = false;
		for (size_t p = 0; p < n_plans; p++) {
			if (!plans[p].has_last)
				continue;
			if (!any) {
				header(f, last[k].name, "gauge", last[k].help);
				any = true;
			}
			fprintf(f, "%s{plan=\"", last[k].name);
			put_label_value(f, plans[p].name);
			fputs("\"} ", f);
			if (last[k].which == 0)
				fprintf(f, "%d", (int)plans[p].last_status);
			else
				put_double(f, last[k].which == 1 ? plans[p].last_end_time_s
								 : plans[p].last_duration_s);
			fputc('\n', f);
		}
	}
	durations(f, plans, n_plans, true);
	durations(f, plans, n_plans, false);
	probes(f, plans, n_plans);
	measurement_failures(f, plans, n_plans);
	consumers(f, plans, n_plans);

	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

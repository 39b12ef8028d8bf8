// SPDX-License-Identifier: GPL-2.0-or-later
/* Prometheus text format for the daemon (see metrics.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "probebench/metrics.h"
#include "probebench/util.h"

const char *pb_metrics_exit_name(int code)
{
	static const char *const names[PB_METRICS_MAX_EXIT] = {
	    "ok", "failure", "usage", "refused", "bind_failed", "timeout", "interrupted", "gone",
	};
	return code >= 0 && code < PB_METRICS_MAX_EXIT ? names[code] : "unknown";
}

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

/* Reads a number (int or double) member; false when absent or not a number. */
static bool get_num(struct json_object *o, const char *key, double *ret)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v))
		return false;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return false;
	*ret = json_object_get_double(v);
	return true;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Labels of one summary entry: device, driver, node (the device's), writer node, plan. */
struct entry_labels {
	const char *plan;
	const char *device;
	const char *driver;
	char node[16];
	char writer_node[16];
};

static void find_labels(const char *plan, struct json_object *record, struct json_object *entry,
			struct entry_labels *l)
{
	memset(l, 0, sizeof(*l));
	l->plan = plan;
	l->device = get_str(entry, "target");
	strcpy(l->node, "unknown");
	strcpy(l->writer_node, "any");
	double wn;
	if (get_num(entry, "writer_node", &wn) && wn >= 0)
		snprintf(l->writer_node, sizeof(l->writer_node), "%d", (int)wn);
	struct json_object *targets;
	if (!l->device || !json_object_object_get_ex(record, "targets", &targets) ||
	    !json_object_is_type(targets, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		struct json_object *t = json_object_array_get_idx(targets, i);
		const char *name = get_str(t, "name");
		const char *sys = get_str(t, "syspath");
		const char *base = sys ? strrchr(sys, '/') : NULL;
		if (!(name && !strcmp(name, l->device)) && !(sys && !strcmp(sys, l->device)) &&
		    !(base && !strcmp(base + 1, l->device)))
			continue;
		l->driver = get_str(t, "driver");
		double node;
		if (get_num(t, "numa_node", &node))
			snprintf(l->node, sizeof(l->node), "%d", (int)node);
		if (name)
			l->device = name;
		return;
	}
}

/* The entry's labels, then up to two more (key NULL: none). */
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
	for (int n = 0; n < 2 && k[n]; n++) {
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

/* Iterates the summary entries of every plan's latest record that carry `stat` ("bind_ns"). */
#define FOREACH_ENTRY(plans, n_plans, stat, ENTRY, STATS, LABELS, ...)                             \
	for (size_t _p = 0; _p < (n_plans); _p++) {                                                \
		struct json_object *_rec = (plans)[_p].last_record, *_sum;                         \
		if (!_rec || !json_object_object_get_ex(_rec, "summary", &_sum) ||                 \
		    !json_object_is_type(_sum, json_type_array))                                   \
			continue;                                                                  \
		for (size_t _i = 0; _i < json_object_array_length(_sum); _i++) {                   \
			struct json_object *ENTRY = json_object_array_get_idx(_sum, _i), *STATS;   \
			if (!json_object_object_get_ex(ENTRY, (stat), &STATS) ||                   \
			    !json_object_is_type(STATS, json_type_object))                         \
				continue;                                                          \
			struct entry_labels LABELS;                                                \
			find_labels((plans)[_p].name, _rec, ENTRY, &LABELS);                       \
			if (!LABELS.device)                                                        \
				continue;                                                          \
			__VA_ARGS__                                                                \
		}                                                                                  \
	}

static void durations(FILE *f, const struct pb_metrics_plan *plans, size_t n_plans,
		      const char *stat, const char *what)
{
	char name[96], help[256];
	bool any = false;
	snprintf(name, sizeof(name), "probebench_%s_duration_seconds", what);
	FOREACH_ENTRY(plans, n_plans, stat, e, s, l, {
		double n, mean;
		struct json_object *pct;
		bool has_pct = json_object_object_get_ex(s, "percentile", &pct) &&
			       json_object_is_type(pct, json_type_object);
		bool has_count = get_num(s, "N", &n) && get_num(s, "mean", &mean);
		if (!has_pct && !has_count)
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
		if (has_pct) {
			json_object_object_foreach(pct, key, val)
			{
				double q, v;
				if (pb_parse_double(key, 0, 100, &q) < 0 ||
				    (!json_object_is_type(val, json_type_int) &&
				     !json_object_is_type(val, json_type_double)))
					continue;
				v = json_object_get_double(val);
				char qs[32];
				snprintf(qs, sizeof(qs), "%g", q / 100.0);
				fputs(name, f);
				put_labels(f, &l, "quantile", qs);
				fputc(' ', f);
				put_double(f, v / 1e9);
				fputc('\n', f);
			}
		}
		if (has_count) {
			fprintf(f, "%s_sum", name);
			put_labels(f, &l, NULL, NULL);
			fputc(' ', f);
			put_double(f, mean * n / 1e9);
			fprintf(f, "\n%s_count", name);
			put_labels(f, &l, NULL, NULL);
			fprintf(f, " %.0f\n", n);
		}
	});
	static const struct {
		const char *key, *suffix, *help;
	} extra[] = {
	    {"min", "min", "Shortest"},
	    {"max", "max", "Longest"},
	    {"stddev", "stddev", "Standard deviation of the"},
	};
	for (size_t k = 0; k < PB_ARRAY_SIZE(extra); k++) {
		any = false;
		snprintf(name, sizeof(name), "probebench_%s_duration_%s_seconds", what,
			 extra[k].suffix);
		FOREACH_ENTRY(plans, n_plans, stat, e, s, l, {
			double v;
			if (!get_num(s, extra[k].key, &v))
				continue;
			if (!any) {
				snprintf(
				    help, sizeof(help),
				    "%s %s write time in the latest run (measured iterations).",
				    extra[k].help, what);
				header(f, name, "gauge", help);
				any = true;
			}
			fputs(name, f);
			put_labels(f, &l, NULL, NULL);
			fputc(' ', f);
			put_double(f, v / 1e9);
			fputc('\n', f);
		});
	}
}

/* Writes one summary (quantiles, _sum, _count) of ns stats in seconds; false when it has none. */
static bool put_summary(FILE *f, const char *name, const struct entry_labels *l,
			const char *extra_key, const char *extra_val, struct json_object *s)
{
	double n, mean;
	struct json_object *pct;
	bool has_pct = json_object_object_get_ex(s, "percentile", &pct) &&
		       json_object_is_type(pct, json_type_object);
	bool has_count = get_num(s, "N", &n) && get_num(s, "mean", &mean);
	if (!has_pct || !has_count)
		return false;
	json_object_object_foreach(pct, key, val)
	{
		double q;
		if (pb_parse_double(key, 0, 100, &q) < 0 ||
		    (!json_object_is_type(val, json_type_int) &&
		     !json_object_is_type(val, json_type_double)))
			continue;
		char qs[32];
		snprintf(qs, sizeof(qs), "%g", q / 100.0);
		fputs(name, f);
		put_labels_x(f, l, extra_key, extra_val, "quantile", qs);
		fputc(' ', f);
		put_double(f, json_object_get_double(val) / 1e9);
		fputc('\n', f);
	}
	fprintf(f, "%s_sum", name);
	put_labels(f, l, extra_key, extra_val);
	fputc(' ', f);
	put_double(f, mean * n / 1e9);
	fprintf(f, "\n%s_count", name);
	put_labels(f, l, extra_key, extra_val);
	fprintf(f, " %.0f\n", n);
	return true;
}

/*
 * Iterates the probe groups (summary[].measurement.probes[]) of every plan's latest record: GR
 * the group, LABELS the entry's labels with the probed driver, DEPTH its depth as a string.
 */
#define FOREACH_PROBE_GROUP(plans, n_plans, GR, LABELS, DEPTH, ...)                                \
	FOREACH_ENTRY(plans, n_plans, "measurement", _e, _m, _l, {                                 \
		struct json_object *_groups;                                                       \
		if (!json_object_object_get_ex(_m, "probes", &_groups) ||                          \
		    !json_object_is_type(_groups, json_type_array))                                \
			continue;                                                                  \
		for (size_t _g = 0; _g < json_object_array_length(_groups); _g++) {                \
			struct json_object *GR = json_object_array_get_idx(_groups, _g);           \
			double _depth;                                                             \
			if (!get_num(GR, "depth", &_depth))                                        \
				continue;                                                          \
			struct entry_labels LABELS = _l;                                           \
			LABELS.driver = get_str(GR, "driver");                                     \
			char DEPTH[16];                                                            \
			snprintf(DEPTH, sizeof(DEPTH), "%d", (int)_depth);                         \
			__VA_ARGS__                                                                \
		}                                                                                  \
	})

/*
 * Per-probe facts of the latest runs (summary[].measurement): probe durations by probed driver
 * and depth, the share on the device's node, pages by the node they landed on.
 */
static void probes(FILE *f, const struct pb_metrics_plan *plans, size_t n_plans)
{
	bool any = false;
	const char *name = "probebench_probe_duration_seconds";
	FOREACH_PROBE_GROUP(plans, n_plans, gr, pl, ds, {
		struct json_object *st;
		if (!json_object_object_get_ex(gr, "probe_ns", &st) || !st)
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
		put_summary(f, name, &pl, "depth", ds, st);
	});
	any = false;
	name = "probebench_probe_on_device_node_ratio";
	FOREACH_PROBE_GROUP(plans, n_plans, gr, pl, ds, {
		struct json_object *on;
		double share;
		if (!json_object_object_get_ex(gr, "on_device_node", &on) ||
		    !get_num(on, "share", &share))
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
		put_double(f, share);
		fputc('\n', f);
	});
	any = false;
	name = "probebench_probe_pages";
	FOREACH_ENTRY(plans, n_plans, "measurement", e, m, l, {
		struct json_object *mem, *byn;
		if (!json_object_object_get_ex(m, "memory", &mem) || !mem ||
		    !json_object_object_get_ex(mem, "pages_by_node", &byn) ||
		    !json_object_is_type(byn, json_type_array))
			continue;
		for (size_t k = 0; k < json_object_array_length(byn); k++) {
			if (!any) {
				header(
				    f, name, "gauge",
				    "Pages allocated by the probing tasks inside the bind writes "
				    "of the latest run, by the NUMA node they landed on "
				    "(kmem:mm_page_alloc pfn mapped to its node; new pages only: "
				    "slab reuse hides small allocations).");
				any = true;
			}
			char ks[16];
			snprintf(ks, sizeof(ks), "%zu", k);
			fputs(name, f);
			put_labels(f, &l, "page_node", ks);
			fprintf(f, " %" PRId64 "\n",
				json_object_get_int64(json_object_array_get_idx(byn, k)));
		}
	});
}

/* Iterations of the latest runs whose facts were left out of the statistics, by why. */
static void measurement_failures(FILE *f, const struct pb_metrics_plan *plans, size_t n_plans)
{
	static const struct {
		const char *key, *reason;
	} kinds[] = {{"iterations_missing_probe", "missing_probe"}, {"iterations_lossy", "lossy"}};
	const char *name = "probebench_measurement_excluded_iterations";
	bool any = false;
	FOREACH_ENTRY(plans, n_plans, "measurement", e, m, l, {
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			double v;
			if (!get_num(m, kinds[k].key, &v))
				continue;
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
			fprintf(f, " %.0f\n", v);
		}
	});
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

	if (n_plans) {
		header(
		    f, "probebench_runs_total", "counter",
		    "Runs finished since the daemon started, by plan and result (exit code name).");
		for (size_t p = 0; p < n_plans; p++)
			for (int c = 0; c < PB_METRICS_MAX_EXIT; c++) {
				if (c != 0 && !plans[p].runs_by_exit[c])
					continue;
				fputs("probebench_runs_total{plan=\"", f);
				put_label_value(f, plans[p].name);
				fprintf(f, "\",result=\"%s\"} %llu\n", pb_metrics_exit_name(c),
					(unsigned long long)plans[p].runs_by_exit[c]);
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
				fprintf(f, "%d", plans[p].last_exit);
			else
				put_double(f, last[k].which == 1 ? plans[p].last_end_time_s
								 : plans[p].last_duration_s);
			fputc('\n', f);
		}
	}
	durations(f, plans, n_plans, "bind_ns", "bind");
	durations(f, plans, n_plans, "unbind_ns", "unbind");
	probes(f, plans, n_plans);
	measurement_failures(f, plans, n_plans);

	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

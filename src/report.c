// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "probebench/report.h"

void pb_report_fmt_ns(char *buf, size_t size, double ns)
{
	if (ns >= 1e9)
		snprintf(buf, size, "%.2f s", ns / 1e9);
	else if (ns >= 1e6)
		snprintf(buf, size, "%.2f ms", ns / 1e6);
	else if (ns >= 1e3)
		snprintf(buf, size, "%.1f us", ns / 1e3);
	else
		snprintf(buf, size, "%.0f ns", ns);
}

void pb_report_progress(FILE *f, uint64_t done, uint64_t total, uint64_t median_bind_ns,
			uint64_t eta_ns)
{
	char med[32], eta[32];
	pb_report_fmt_ns(med, sizeof(med), (double)median_bind_ns);
	pb_report_fmt_ns(eta, sizeof(eta), (double)eta_ns);
	fprintf(f, "\r\033[Kiteration %" PRIu64 "/%" PRIu64 "  median bind %s  ETA %s", done, total,
		med, eta);
	fflush(f);
}

static double get_num(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k1, &v))
		return 0;
	if (k2 && !json_object_object_get_ex(v, k2, &v))
		return 0;
	return json_object_get_double(v);
}

static void row(FILE *f, const char *target, const char *placement, const char *what,
		struct json_object *s)
{
	char mn[24], md[24], p99[24], mx[24];
	pb_report_fmt_ns(mn, sizeof(mn), get_num(s, "min", NULL));
	pb_report_fmt_ns(md, sizeof(md), get_num(s, "percentile", "50.000000"));
	pb_report_fmt_ns(p99, sizeof(p99), get_num(s, "percentile", "99.000000"));
	pb_report_fmt_ns(mx, sizeof(mx), get_num(s, "max", NULL));
	fprintf(f, "%-28s %-10s %-7s %6.0f %10s %10s %10s %10s\n", target, placement, what,
		get_num(s, "N", NULL), mn, md, p99, mx);
}

static void label_row(FILE *f, const char *label, struct json_object *s)
{
	char mn[24], md[24], p99[24], mx[24];
	pb_report_fmt_ns(mn, sizeof(mn), get_num(s, "min", NULL));
	pb_report_fmt_ns(md, sizeof(md), get_num(s, "percentile", "50.000000"));
	pb_report_fmt_ns(p99, sizeof(p99), get_num(s, "percentile", "99.000000"));
	pb_report_fmt_ns(mx, sizeof(mx), get_num(s, "max", NULL));
	fprintf(f, "%-47s %6.0f %10s %10s %10s %10s\n", label, get_num(s, "N", NULL), mn, md, p99,
		mx);
}

static const char *method_label(const char *m)
{
	if (!m)
		return "none";
	if (!strcmp(m, "kprobe"))
		return "kprobe";
	if (!strcmp(m, "tracepoint"))
		return "tracepoint+printk";
	if (!strcmp(m, "kmsg"))
		return "kmsg";
	return m;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : NULL;
}

/* The same, "?" when missing: for printing. */
static const char *jstr_p(struct json_object *o, const char *key)
{
	const char *s = jstr(o, key);
	return s ? s : "?";
}

/* The observer's rows below a target x placement: probes, uevents, node shares, pages. */
static void measurement_rows(FILE *f, struct json_object *m)
{
	struct json_object *probes, *s, *mem, *v;
	const char *meth = method_label(jstr(m, "method"));
	char label[160];
	if (json_object_object_get_ex(m, "probes", &probes))
		for (size_t i = 0; i < json_object_array_length(probes); i++) {
			struct json_object *p = json_object_array_get_idx(probes, i);
			if (!json_object_object_get_ex(p, "probe_ns", &s) || !s)
				continue;
			int depth = (int)get_num(p, "depth", NULL);
			char kind[16] = "probe";
			if (depth == 1)
				snprintf(kind, sizeof(kind), "child");
			else if (depth > 1)
				snprintf(kind, sizeof(kind), "child%d", depth);
			snprintf(label, sizeof(label), "  %s %s/%s (%s)", kind, jstr_p(p, "bus"),
				 jstr_p(p, "driver"), meth);
			label_row(f, label, s);
		}
	if (json_object_object_get_ex(m, "uevent_kernel_ns", &s) && s)
		label_row(f, "  uevent kernel (netlink, incl. wake-up)", s);
	if (json_object_object_get_ex(m, "uevent_udev_ns", &s) && s)
		label_row(f, "  uevent udev (netlink)", s);
	if (json_object_object_get_ex(m, "probes", &probes) && json_object_array_length(probes)) {
		fprintf(f, "  probe ran on the device's node (%s):", meth);
		for (size_t i = 0; i < json_object_array_length(probes); i++) {
			struct json_object *p = json_object_array_get_idx(probes, i), *on;
			if (!json_object_object_get_ex(p, "on_device_node", &on))
				continue;
			double yes = get_num(on, "yes", NULL), no = get_num(on, "no", NULL),
			       unk = get_num(on, "unknown", NULL);
			fprintf(f, " %s %.0f/%.0f", jstr_p(p, "driver"), yes, yes + no);
			if (unk > 0)
				fprintf(f, " (%.0f unknown: no device node or no CPU)", unk);
		}
		fputc('\n', f);
	}
	if (json_object_object_get_ex(m, "memory", &mem) && mem &&
	    json_object_object_get_ex(mem, "pages_by_node", &v)) {
		fprintf(f, "  pages by node (%s, kmem:mm_page_alloc):", meth);
		for (size_t i = 0; i < json_object_array_length(v); i++)
			fprintf(f, " node%zu %" PRId64, i,
				json_object_get_int64(json_object_array_get_idx(v, i)));
		fprintf(f, "; total %.0f; new pages only: slab reuse hides small allocations\n",
			get_num(mem, "pages_total", NULL));
		if (json_object_object_get_ex(mem, "slab_counted_by_node", &v) &&
		    json_object_array_length(v) > 0) {
			fprintf(f, "  slab allocations (perf-counted kmalloc+kmem_cache_alloc, all "
				   "tasks, by CPU node):");
			for (size_t i = 0; i < json_object_array_length(v); i++)
				fprintf(f, " node%zu %" PRId64, i,
					json_object_get_int64(json_object_array_get_idx(v, i)));
			fputc('\n', f);
		}
	}
	if (get_num(m, "lost_records", NULL) > 0)
		fprintf(f,
			"  lost records: %.0f (probes, hops, switches or pages may be missing; a "
			"larger --ring-pages keeps them)\n",
			get_num(m, "lost_records", NULL));
	if (get_num(m, "iterations_missing_probe", NULL) > 0)
		fprintf(
		    f,
		    "  measurement failures: %.0f bind(s) succeeded and %s saw no probe (a bind "
		    "always runs really_probe); left out of the statistics\n",
		    get_num(m, "iterations_missing_probe", NULL), meth);
	if (get_num(m, "iterations_lossy", NULL) > 0)
		fprintf(f, "  iterations that lost records: %.0f, %s\n",
			get_num(m, "iterations_lossy", NULL),
			json_object_get_boolean(json_object_object_get(m, "lossy_included"))
			    ? "counted in these statistics (--include-lossy)"
			    : "left out of these statistics (--include-lossy counts them)");
	if (get_num(m, "lost_slab_records", NULL) > 0)
		fprintf(f,
			"  lost slab records: %.0f (the slab proxy is undercounted; a larger "
			"--ring-pages keeps them)\n",
			get_num(m, "lost_slab_records", NULL));
}

void pb_report_summary(FILE *f, struct json_object *record)
{
	struct json_object *summary, *status;
	if (!json_object_object_get_ex(record, "summary", &summary))
		return;
	fprintf(f, "%-28s %-10s %-7s %6s %10s %10s %10s %10s\n", "target", "placement", "step", "N",
		"min", "median", "p99", "max");
	for (size_t i = 0; i < json_object_array_length(summary); i++) {
		struct json_object *e = json_object_array_get_idx(summary, i), *t, *p, *s;
		if (!json_object_object_get_ex(e, "target", &t) ||
		    !json_object_object_get_ex(e, "placement", &p))
			continue;
		if (json_object_object_get_ex(e, "unbind_ns", &s))
			row(f, json_object_get_string(t), json_object_get_string(p), "unbind", s);
		if (json_object_object_get_ex(e, "bind_ns", &s))
			row(f, json_object_get_string(t), json_object_get_string(p), "bind", s);
		if (json_object_object_get_ex(e, "measurement", &s) && s)
			measurement_rows(f, s);
	}
	if (json_object_object_get_ex(record, "status", &status))
		fprintf(
		    f,
		    "status: %s; times are CLOCK_MONOTONIC around each write(2) in the writer "
		    "thread (wall clock: includes preemption, not the deferred work after it)\n",
		    json_object_get_string(status));
	struct json_object *m, *en, *obs;
	if (json_object_object_get_ex(record, "measurement", &m) &&
	    json_object_object_get_ex(m, "enabled", &en) && json_object_get_boolean(en)) {
		fprintf(f,
			"probe times: really_probe of each device inside the bind write (kprobe: "
			"exact; tracepoint+printk/kmsg: the kernel's initcall_debug us); they do "
			"not see work a driver defers past its probe\n");
		if (json_object_object_get_ex(m, "observers", &obs))
			for (size_t i = 0; i < json_object_array_length(obs); i++) {
				struct json_object *e = json_object_array_get_idx(obs, i);
				if (jstr(e, "error"))
					fprintf(f, "measurement off for %s: %s\n",
						jstr_p(e, "target"), jstr_p(e, "error"));
			}
	} else if (m)
		fprintf(f, "measurement off: %s\n",
			jstr(m, "why_not") ? jstr(m, "why_not") : "not enabled");
}

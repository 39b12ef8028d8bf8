// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "probebench/record.h"
#include "probebench/report.h"
#include "probebench/stats.h"

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

/* A duration as "4.2s", "42s", "6m30s", "2h05m". */
static void fmt_secs(char *buf, size_t size, uint64_t ns)
{
	uint64_t s = (ns + 500000000ull) / 1000000000ull;
	if (ns < 9950000000ull)
		snprintf(buf, size, "%.1fs", (double)ns / 1e9);
	else if (s < 60)
		snprintf(buf, size, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
}

void pb_report_progress_line(FILE *f, const char *what, uint64_t done, uint64_t total,
			     uint64_t elapsed_ns, uint64_t eta_ns)
{
	char el[32], eta[32];
	fmt_secs(el, sizeof(el), elapsed_ns);
	fmt_secs(eta, sizeof(eta), eta_ns);
	fprintf(f, "progress: %s%s%" PRIu64, what ? what : "", what ? "; " : "", done);
	if (total)
		fprintf(f, "/%" PRIu64 " iterations (%" PRIu64 "%%)", total, done * 100 / total);
	else
		fputs(" iterations", f);
	fprintf(f, ", elapsed %s, ETA %s\n", el, eta);
	fflush(f);
}

static void stats_cells(const struct pb_stats *s, char mn[24], char md[24], char p99[24],
			char mx[24])
{
	pb_report_fmt_ns(mn, 24, (double)s->min);
	pb_report_fmt_ns(md, 24, (double)s->percentile[0]);  /* 50 */
	pb_report_fmt_ns(p99, 24, (double)s->percentile[2]); /* 99 */
	pb_report_fmt_ns(mx, 24, (double)s->max);
}

static void row(FILE *f, const char *target, const char *placement, const char *what,
		const struct pb_stats *s)
{
	char mn[24], md[24], p99[24], mx[24];
	stats_cells(s, mn, md, p99, mx);
	fprintf(f, "%-28s %-10s %-7s %6zu %10s %10s %10s %10s\n", target, placement, what, s->n, mn,
		md, p99, mx);
}

/* A row of statistics (nothing when they count nothing). */
static void label_row(FILE *f, const char *label, const struct pb_stats *s)
{
	if (!s->n)
		return;
	char mn[24], md[24], p99[24], mx[24];
	stats_cells(s, mn, md, p99, mx);
	fprintf(f, "%-47s %6zu %10s %10s %10s %10s\n", label, s->n, mn, md, p99, mx);
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

static void by_node(FILE *f, const uint64_t *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fprintf(f, " node%u %" PRIu64, i, v[i]);
}

/* The slab caches that grew or shrank most around the binds (SLUB's counts, every task). */
static void slab_cache_row(FILE *f, const struct pb_measure_summary *m)
{
	if (!m->slab_cache_iterations)
		return;
	fprintf(f,
		"  slab objects after - before the bind, sum of %" PRIu64
		" bind(s) (SLUB sysfs counts, every task):",
		m->slab_cache_iterations);
	for (size_t i = 0; i < m->n_slab_caches && i < 5; i++) {
		const struct pb_slab_delta *d = &m->slab_caches[i];
		fprintf(f, "%s %s %+" PRId64 " (", i ? "," : "", d->cache, d->total);
		for (unsigned k = 0; k < d->n_nodes; k++)
			fprintf(f, "%snode%u %+" PRId64, k ? " " : "", k, d->by_node[k]);
		fputc(')', f);
	}
	if (!m->n_slab_caches)
		fputs(" none changed", f);
	fputc('\n', f);
}

/* Of those pages: freed again inside the windows, kept by the devices until their next unbind. */
static void kept_rows(FILE *f, const struct pb_measure_summary *m)
{
	if (!m->kept_iterations && !m->kept_unknown)
		return;
	fprintf(f, "  freed again inside the windows (kmem:mm_page_free): %" PRIu64 " pages\n",
		m->pages_freed_total);
	fprintf(f,
		"  kept until the next unbind (page frees of the held pfns): %" PRIu64
		" pages in %" PRIu64 " bind(s):",
		m->kept_total, m->kept_iterations);
	by_node(f, m->kept_by_node, m->n_kept_nodes);
	if (m->kept_unknown)
		fprintf(f, "; %" PRIu64 " bind(s) not settled (the record's kept.why)",
			m->kept_unknown);
	fputc('\n', f);
}

/* The observer's rows below a target x placement: probes, uevents, node shares, pages. */
static void measurement_rows(FILE *f, const struct pb_measure_summary *m)
{
	const char *meth = method_label(m->method);
	char label[160];
	for (size_t i = 0; i < m->n_groups; i++) {
		const struct pb_summary_group *g = &m->groups[i];
		char kind[16] = "probe";
		if (g->depth == 1)
			snprintf(kind, sizeof(kind), "child");
		else if (g->depth > 1)
			snprintf(kind, sizeof(kind), "child%d", g->depth);
		snprintf(label, sizeof(label), "  %s %s/%s (%s)", kind, g->bus, g->driver, meth);
		label_row(f, label, &g->probe_ns);
	}
	label_row(f, "  uevent kernel (netlink, incl. wake-up)", &m->uevent_kernel_ns);
	label_row(f, "  uevent udev (netlink)", &m->uevent_udev_ns);
	if (m->n_groups) {
		fprintf(f, "  probe ran on the device's node (%s):", meth);
		for (size_t i = 0; i < m->n_groups; i++) {
			const struct pb_summary_group *g = &m->groups[i];
			fprintf(f, " %s %" PRIu64 "/%" PRIu64, g->driver, g->on_node_yes,
				g->on_node_yes + g->on_node_no);
			if (g->on_node_unknown > 0)
				fprintf(f, " (%" PRIu64 " unknown: no device node or no CPU)",
					g->on_node_unknown);
		}
		fputc('\n', f);
	}
	if (m->memory) {
		fprintf(f, "  pages by node (%s, kmem:mm_page_alloc):", meth);
		by_node(f, m->pages_by_node, m->n_page_nodes);
		fprintf(f,
			"; total %" PRIu64 "; new pages only: slab reuse hides small allocations\n",
			m->pages_total);
		if (m->n_slab_counted_nodes > 0) {
			fputs(
			    m->slab_sampled && m->slab_counted_ftrace
				? "  slab allocations (kmalloc+kmem_cache_alloc counted from the "
				  "ftrace buffer's records, all tasks, by CPU node):"
			    : m->slab_sampled
				? "  slab allocations (perf-counted kmalloc+kmem_cache_alloc, all "
				  "tasks, by CPU node):"
			    : m->slab_counted_ftrace
				? "  slab allocations (kmalloc+kmem_cache_alloc, all tasks, by CPU "
				  "node; counted from the ftrace buffer's records; sizes not "
				  "sampled: "
				  "--slab-samples):"
				: "  slab allocations (kmalloc+kmem_cache_alloc, all tasks, by CPU "
				  "node; counted per CPU by perf; sizes not sampled: "
				  "--slab-samples):",
			    f);
			by_node(f, m->slab_counted_by_node, m->n_slab_counted_nodes);
			fputc('\n', f);
		}
		kept_rows(f, m);
		slab_cache_row(f, m);
	}
	if (m->lost_records > 0)
		fprintf(f,
			"  lost records: %" PRIu64
			" (probes, hops, switches or pages may be missing; "
			"a larger --ring-pages keeps them)\n",
			m->lost_records);
	if (m->missing_probe > 0)
		fprintf(f,
			"  measurement failures: %" PRIu64
			" bind(s) succeeded and %s saw no probe (a "
			"bind always runs really_probe); left out of the statistics\n",
			m->missing_probe, meth);
	if (m->lossy > 0)
		fprintf(f, "  iterations that lost records: %" PRIu64 ", %s\n", m->lossy,
			m->lossy_included
			    ? "counted in these statistics (--include-lossy)"
			    : "left out of these statistics (--include-lossy counts them)");
	if (m->lost_slab_records > 0 && m->slab_sampled)
		fprintf(f,
			"  lost slab records: %" PRIu64
			" (the slab proxy is undercounted; a larger "
			"--ring-pages keeps them)\n",
			m->lost_slab_records);
	else if (m->lost_slab_records > 0) /* the flood ring holds only the page frees */
		fprintf(f,
			"  lost page-free records: %" PRIu64
			" (the pages freed in the windows are not exact; a larger "
			"--ring-pages keeps them)\n",
			m->lost_slab_records);
}

static int64_t field(struct json_object *j, const char *name)
{
	struct json_object *v;
	return json_object_object_get_ex(j, name, &v) ? json_object_get_int64(v) : 0;
}

static bool is_ftrace(struct json_object *o)
{
	struct json_object *v;
	return json_object_object_get_ex(o, "buffer", &v) &&
	       !strcmp(json_object_get_string(v), "ftrace");
}

/* What the observers held (measurement.observer), with the method of each figure. */
static void observer_row(FILE *f, struct json_object *info)
{
	struct json_object *o;
	if (!info || !json_object_object_get_ex(info, "observer", &o) || !o)
		return;
	fprintf(f,
		"observer: %" PRId64 " fds, %.1f MiB %s (%s: %" PRId64 " rings, %" PRId64
		" pages each on %" PRId64 " CPUs, shared by %" PRId64
		" target(s); kept-page watch %" PRId64 " fds, %.1f MiB)\n",
		field(o, "fds"), (double)field(o, "locked_bytes") / (1 << 20),
		is_ftrace(o) ? "of kernel memory" : "locked",
		is_ftrace(o) ? "ftrace instance buffers, per CPU" : "perf mmap rings",
		field(o, "rings"), field(o, "ring_pages"), field(o, "cpus"), field(o, "targets"),
		field(o, "kept_fds"), (double)field(o, "kept_locked_bytes") / (1 << 20));
}

void pb_report_summary(FILE *f, const struct pb_run_record *rec)
{
	fprintf(f, "%-28s %-10s %-7s %6s %10s %10s %10s %10s\n", "target", "placement", "step", "N",
		"min", "median", "p99", "max");
	for (size_t i = 0; i < rec->n_summaries; i++) {
		const struct pb_record_summary *s = &rec->summaries[i];
		const char *t = rec->targets[s->target].t.name,
			   *p = rec->placements[s->placement].label;
		row(f, t, p, "unbind", &s->unbind_ns);
		row(f, t, p, "bind", &s->bind_ns);
		if (s->measured)
			measurement_rows(f, &s->measurement);
	}
	fprintf(f,
		"status: %s; times are CLOCK_MONOTONIC around each write(2) in the writer "
		"thread (wall clock: includes preemption, not the deferred work after it)\n",
		rec->status);
	if (rec->measure_enabled) {
		fprintf(f,
			"probe times: really_probe of each device inside the bind write (kprobe: "
			"exact; tracepoint+printk/kmsg: the kernel's initcall_debug us); they do "
			"not see work a driver defers past its probe\n");
		observer_row(f, rec->measurement_info);
		for (size_t i = 0; i < rec->n_targets; i++)
			if (rec->targets[i].observer_error[0])
				fprintf(f, "measurement off for %s: %s\n", rec->targets[i].t.name,
					rec->targets[i].observer_error);
	} else
		fprintf(f, "measurement off: %s\n",
			rec->measure_why_not[0] ? rec->measure_why_not : "not enabled");
}

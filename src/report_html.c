// SPDX-License-Identifier: GPL-2.0-or-later
/* The HTML report (report_html.h): figures are inline SVG drawn here, numbers as report.c
 * formats them for the terminal. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "probebench/record.h"
#include "probebench/report.h"
#include "probebench/report_html.h"
#include "probebench/util.h"

#define FIG_W 640
#define FIG_H 260

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
				      "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
#define N_PALETTE (sizeof(palette) / sizeof(palette[0]))

void pb_html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
}

#define E(s) pb_html_escape(f, (s))

static void ns_text(FILE *f, double ns)
{
	char b[32];
	pb_report_fmt_ns(b, sizeof(b), ns);
	fputs(b, f);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- a growing array of samples -------------------------------------------------------- */
struct vals {
	uint64_t *v;
	size_t n, cap;
};

static void vals_add(struct vals *s, uint64_t x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return; /* a figure with fewer points rather than none */
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
}

/* ---- plot frames ----------------------------------------------------------------------- */
struct plot {
	int w, h, ml, mr, mt, mb;
	double x0, x1, y0, y1;
};

static double px(const struct plot *p, double x)
{
	double span = p->x1 > p->x0 ? p->x1 - p->x0 : 1;
	return p->ml + (x - p->x0) / span * (p->w - p->ml - p->mr);
}

static double py(const struct plot *p, double y)
{
	double span = p->y1 > p->y0 ? p->y1 - p->y0 : 1;
	return p->h - p->mb - (y - p->y0) / span * (p->h - p->mt - p->mb);
}

/* A 1-2-5 step giving about `ticks` intervals over [lo, hi], and the range widened to it. */
static double nice_range(double *lo, double *hi, int ticks)
{
	if (!(*hi > *lo))
		*hi = *lo + (*lo > 0 ? *lo : 1);
	double raw = (*hi - *lo) / ticks, mag = pow(10, floor(log10(raw))), step = mag;
	if (raw / mag > 5)
		step = 10 * mag;
	else if (raw / mag > 2)
		step = 5 * mag;
	else if (raw / mag > 1)
		step = 2 * mag;
	*lo = floor(*lo / step) * step;
	*hi = ceil(*hi / step) * step;
	return step;
}

enum unit { U_NS, U_PLAIN, U_SHARE };

static void tick_label(FILE *f, double v, enum unit u)
{
	if (u == U_NS) {
		if (v < 0)
			fputc('-', f);
		ns_text(f, fabs(v));
	} else if (u == U_SHARE)
		fprintf(f, "%.0f%%", v * 100);
	else
		fprintf(f, "%g", v);
}

static void svg_open(FILE *f, const struct plot *p, const char *label)
{
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\" role=\"img\" aria-label=\"",
		p->w, p->h, p->w, p->h);
	E(label);
	fputs("\">\n", f);
}

/* Axes, grid and tick labels; xstep/ystep 0: no ticks on that axis. */
static void axes(FILE *f, const struct plot *p, double xstep, enum unit xu, double ystep,
		 enum unit yu, const char *xlabel, const char *ylabel)
{
	fprintf(f, "<g class=\"axes\">");
	for (int k = 0; xstep > 0 && k <= 40; k++) {
		double v = p->x0 + k * xstep;
		if (v > p->x1 + xstep * 1e-6)
			break;
		fprintf(f,
			"<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
			px(p, v), p->mt, px(p, v), p->h - p->mb, px(p, v), p->h - p->mb + 14);
		tick_label(f, v, xu);
		fputs("</text>", f);
	}
	for (int k = 0; ystep > 0 && k <= 40; k++) {
		double v = p->y0 + k * ystep;
		if (v > p->y1 + ystep * 1e-6)
			break;
		fprintf(f,
			"<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
			p->ml, py(p, v), p->w - p->mr, py(p, v), p->ml - 4, py(p, v) + 4);
		tick_label(f, v, yu);
		fputs("</text>", f);
	}
	fprintf(f,
		"<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		"<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
		p->ml, p->h - p->mb, p->w - p->mr, p->h - p->mb, p->ml, p->mt, p->ml, p->h - p->mb);
	if (xlabel) {
		fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
			(p->ml + p->w - p->mr) / 2.0, p->h - 4);
		E(xlabel);
		fputs("</text>", f);
	}
	if (ylabel) {
		fprintf(f,
			"<text class=\"label\" x=\"12\" y=\"%.1f\" text-anchor=\"middle\" "
			"transform=\"rotate(-90 12 %.1f)\">",
			(p->mt + p->h - p->mb) / 2.0, (p->mt + p->h - p->mb) / 2.0);
		E(ylabel);
		fputs("</text>", f);
	}
	fputs("</g>\n", f);
}

/* <figure class="fig CLS" id="ID"> with a heading. */
static void figure_open(FILE *f, const char *cls, const char *id, const char *title)
{
	fprintf(f, "<figure class=\"fig %s\" id=\"%s\">\n<h4>", cls, id);
	E(title);
	fputs("</h4>\n", f);
}

/* The caption every figure has: how it was measured, what it cannot see. */
static void caption(FILE *f, const char *method, const char *blind)
{
	fputs("<figcaption><span class=\"method\"><b>Method:</b> ", f);
	E(method);
	fputs("</span> <span class=\"blind\"><b>Cannot see:</b> ", f);
	E(blind);
	fputs("</span></figcaption>\n</figure>\n", f);
}

/* ---- what the record says about methods ------------------------------------------------- */
static const char *method_long(const char *m)
{
	if (!m)
		return "none";
	if (!strcmp(m, "kprobe"))
		return "kprobe + kretprobe on really_probe (exact start, duration, task, CPU)";
	if (!strcmp(m, "tracepoint"))
		return "tracepoint+printk: the kernel's initcall_debug duration (us) of "
		       "really_probe, "
		       "its task and CPU; the start is the end minus that duration";
	if (!strcmp(m, "kmsg"))
		return "kmsg: the kernel's initcall_debug duration (us) read from /dev/kmsg; no "
		       "CPU, "
		       "no task, no memory placement";
	if (!strcmp(m, "mixed"))
		return "mixed: the method changed during the run (auto fell back)";
	return m;
}

static const char write_method[] =
    "CLOCK_MONOTONIC right around each write(2) of DRV/bind (or drivers_probe) in the "
    "writer thread";
static const char write_blind[] =
    "wall clock: it includes preemption of the writer, and not the work a driver defers "
    "past the write (asynchronous or deferred probe); only iterations with outcome ok";
static const char probe_blind[] =
    "work a driver defers past its probe; iterations whose bind succeeded without a probe "
    "seen (a measurement failure) and, unless the run counted them, iterations whose perf "
    "rings lost records are left out";

/* ---- samples of one target x placement --------------------------------------------------- */
static bool it_in(const struct pb_record_iteration *it, size_t t, size_t p)
{
	return it->target == t && it->placement == p;
}

/* The iteration's facts as the summaries count them (record.h), or NULL. */
static const struct pb_iteration_facts *counted_facts(const struct pb_run_record *r,
						      const struct pb_record_iteration *it)
{
	const struct pb_measurement *m = it->measurement;
	if (it->res.outcome != PB_CYCLE_OK || !pb_measurement_has_facts(m) || m->missing_probe[0])
		return NULL;
	if (m->facts.lost_records > 0 && !r->options.include_lossy)
		return NULL;
	return &m->facts;
}

/* The probes of group g (depth, bus, driver) in the cell's counted iterations. */
static void group_values(const struct pb_run_record *r, size_t t, size_t p,
			 const struct pb_summary_group *g, struct vals *out)
{
	for (size_t i = 0; i < r->n_iterations; i++) {
		const struct pb_record_iteration *it = &r->iterations[i];
		const struct pb_iteration_facts *fa = it_in(it, t, p) ? counted_facts(r, it) : NULL;
		for (size_t k = 0; fa && k < fa->n_probes; k++) {
			const struct pb_probe_fact *pf = &fa->probes[k];
			const char *bus = pf->bus[0] ? pf->bus : "?",
				   *drv = pf->driver[0] ? pf->driver : "?";
			if (pf->depth == g->depth && !strcmp(bus, g->bus) &&
			    !strcmp(drv, g->driver))
				vals_add(out, pf->duration_ns);
		}
	}
}

static void bind_values(const struct pb_run_record *r, size_t t, size_t p, bool bind,
			struct vals *out)
{
	for (size_t i = 0; i < r->n_iterations; i++) {
		const struct pb_record_iteration *it = &r->iterations[i];
		if (it_in(it, t, p) && it->res.outcome == PB_CYCLE_OK)
			vals_add(out, bind ? it->res.bind_ns : it->res.unbind_ns);
	}
}

static void group_name(char *buf, size_t size, const struct pb_summary_group *g)
{
	snprintf(buf, size, "%s %s/%s", g->depth == 0 ? "probe" : "nested probe", g->bus,
		 g->driver);
}

/* ---- the distribution: ECDF per series, p50 and p99 marked ----------------------------- */
struct series {
	char name[128];
	struct vals v; /* sorted before drawing */
};

static void ecdf_figure(FILE *f, const char *cls, const char *id, const char *title,
			struct series *s, size_t n, const char *method, const char *blind)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t k = 0; k < n; k++) {
		qsort(s[k].v.v, s[k].v.n, sizeof(uint64_t), cmp_u64);
		if (s[k].v.n) {
			lo = s[k].v.v[0] < lo ? s[k].v.v[0] : lo;
			hi = s[k].v.v[s[k].v.n - 1] > hi ? s[k].v.v[s[k].v.n - 1] : hi;
		}
	}
	figure_open(f, cls, id, title);
	if (lo > hi) {
		fputs("<p class=\"empty\">No iteration with outcome ok: nothing to draw.</p>\n", f);
		caption(f, method, blind);
		return;
	}
	struct plot p = {FIG_W, FIG_H, 64, 30, 10, 40, (double)lo, (double)hi, 0, 1};
	double xstep = nice_range(&p.x0, &p.x1, 6);
	svg_open(f, &p, title);
	axes(f, &p, xstep, U_NS, 0.25, U_SHARE, "time (linear scale)", "share of samples <= x");
	for (size_t k = 0; k < n; k++) {
		const struct vals *v = &s[k].v;
		if (!v->n)
			continue;
		const char *col = palette[k % N_PALETTE];
		fprintf(f, "<g class=\"series\" data-series=\"%zu\"><title>", k);
		E(s[k].name);
		fprintf(
		    f,
		    "</title><path fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" d=\"M%.1f %.1f",
		    col, px(&p, (double)v->v[0]), py(&p, 0));
		for (size_t i = 0; i < v->n; i++)
			fprintf(f, " H%.1f V%.1f", px(&p, (double)v->v[i]),
				py(&p, (double)(i + 1) / (double)v->n));
		fputs("\"/>", f);
		static const double qs[] = {50, 99};
		for (size_t q = 0; q < 2; q++) {
			uint64_t x = pb_stats_percentile_sorted(v->v, v->n, qs[q]);
			fprintf(
			    f,
			    "<line class=\"q\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%d\" "
			    "stroke=\"%s\"/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\">"
			    "<title>p%g ",
			    px(&p, (double)x), py(&p, qs[q] / 100), px(&p, (double)x), p.h - p.mb,
			    col, px(&p, (double)x), py(&p, qs[q] / 100), col, qs[q]);
			ns_text(f, (double)x);
			fputs("</title></circle>", f);
		}
		fputs("</g>\n", f);
	}
	fputs("</svg>\n<table class=\"legend\"><tr><th></th><th>series</th><th>N</th><th>p50</th>"
	      "<th>p99</th><th>max</th></tr>\n",
	      f);
	for (size_t k = 0; k < n; k++) {
		const struct vals *v = &s[k].v;
		fprintf(f,
			"<tr><td><span class=\"swatch\" style=\"background:%s\"></span></td><td>",
			palette[k % N_PALETTE]);
		E(s[k].name);
		fprintf(f, "</td><td>%zu</td>", v->n);
		if (v->n) {
			fputs("<td>", f);
			ns_text(f, (double)pb_stats_percentile_sorted(v->v, v->n, 50));
			fputs("</td><td>", f);
			ns_text(f, (double)pb_stats_percentile_sorted(v->v, v->n, 99));
			fputs("</td><td>", f);
			ns_text(f, (double)v->v[v->n - 1]);
			fputs("</td>", f);
		} else
			fputs("<td>-</td><td>-</td><td>-</td>", f);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
	caption(f, method, blind);
}

static void series_free(struct series *s, size_t n)
{
	for (size_t k = 0; k < n; k++)
		free(s[k].v.v);
	free(s);
}

static void dist_figure(FILE *f, const struct pb_run_record *r, const struct pb_record_summary *sm,
			const char *id)
{
	size_t groups = sm->measured ? sm->measurement.n_groups : 0;
	struct series *s = calloc(1 + groups, sizeof(*s));
	if (!s)
		return;
	snprintf(s[0].name, sizeof(s[0].name), "bind write");
	bind_values(r, sm->target, sm->placement, true, &s[0].v);
	for (size_t g = 0; g < groups; g++) {
		group_name(s[1 + g].name, sizeof(s[1 + g].name), &sm->measurement.groups[g]);
		group_values(r, sm->target, sm->placement, &sm->measurement.groups[g], &s[1 + g].v);
	}
	char method[512];
	snprintf(method, sizeof(method),
		 "bind write: %s; probes: %s. Marks: p50 and p99 (nearest rank)", write_method,
		 groups ? method_long(sm->measurement.method) : "not measured");
	char blind[512];
	snprintf(blind, sizeof(blind), "%s; %s", write_blind, groups ? probe_blind : "probe times");
	ecdf_figure(f, "fig-dist", id, "Distribution of bind and probe times (ECDF)", s, 1 + groups,
		    method, blind);
	series_free(s, 1 + groups);
}

/* ---- per-iteration series -------------------------------------------------------------- */
static void series_figure(FILE *f, const struct pb_run_record *r,
			  const struct pb_record_summary *sm, const char *id)
{
	uint64_t hi = 0;
	unsigned last = 0, failed = 0;
	for (size_t i = 0; i < r->n_iterations; i++) {
		const struct pb_record_iteration *it = &r->iterations[i];
		if (!it_in(it, sm->target, sm->placement))
			continue;
		hi = it->res.bind_ns > hi ? it->res.bind_ns : hi;
		last = it->iteration > last ? it->iteration : last;
		failed += it->res.outcome != PB_CYCLE_OK;
	}
	figure_open(f, "fig-series", id, "Bind time per iteration (warm-up, drift)");
	struct plot p = {FIG_W, FIG_H - 40, 64, 30, 10, 40, 0, last ? last : 1, 0, (double)hi};
	double xstep = nice_range(&p.x0, &p.x1, 8), ystep = nice_range(&p.y0, &p.y1, 4);
	if (xstep < 1) /* iterations are whole */
		xstep = 1;
	svg_open(f, &p, "bind time per iteration");
	axes(f, &p, xstep, U_PLAIN, ystep, U_NS, "iteration (measured; warm-up not recorded)",
	     NULL);
	fprintf(f, "<path class=\"line\" fill=\"none\" stroke=\"%s\" d=\"", palette[0]);
	bool first = true;
	for (size_t i = 0; i < r->n_iterations; i++) {
		const struct pb_record_iteration *it = &r->iterations[i];
		if (!it_in(it, sm->target, sm->placement) || it->res.outcome != PB_CYCLE_OK)
			continue;
		fprintf(f, "%s%.1f %.1f", first ? "M" : " L", px(&p, it->iteration),
			py(&p, (double)it->res.bind_ns));
		first = false;
	}
	fputs("\"/>\n", f);
	for (size_t i = 0; i < r->n_iterations; i++) {
		const struct pb_record_iteration *it = &r->iterations[i];
		if (!it_in(it, sm->target, sm->placement))
			continue;
		bool ok = it->res.outcome == PB_CYCLE_OK;
		fprintf(f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\"><title>#%u ",
			ok ? "pt" : "pt failed", px(&p, it->iteration),
			py(&p, (double)it->res.bind_ns), ok ? "2.2" : "4", it->iteration);
		ns_text(f, (double)it->res.bind_ns);
		fprintf(f, "%s</title></circle>", ok ? "" : " (failed)");
		/* the target's own probe, when measured and counted */
		const struct pb_iteration_facts *fa = counted_facts(r, it);
		for (size_t k = 0; fa && k < fa->n_probes; k++)
			if (fa->probes[k].depth == 0)
				fprintf(
				    f,
				    "<rect class=\"pt-probe\" x=\"%.1f\" y=\"%.1f\" width=\"4\" "
				    "height=\"4\" fill=\"%s\"/>",
				    px(&p, it->iteration) - 2,
				    py(&p, (double)fa->probes[k].duration_ns) - 2, palette[1]);
	}
	fputs("\n</svg>\n", f);
	fprintf(
	    f,
	    "<p class=\"note\">Dots: bind write per measured iteration (line through those with "
	    "outcome ok); squares: the target's own probe (depth 0), when measured. %u warm-up "
	    "cycle(s) ran before iteration 0 and are not in the record; %u iteration(s) failed "
	    "(large dots).</p>\n",
	    r->warmup_done, failed);
	caption(f, write_method,
		"cycles of other targets and placements interleaved round-robin between these "
		"(drift hits every cell alike); the warm-up cycles themselves");
}

/* ---- on-node share and pages by node ----------------------------------------------------- */
static void node_figure(FILE *f, const struct pb_measure_summary *m, const char *id)
{
	figure_open(f, "fig-node", id, "Probes on the device's NUMA node");
	int rows = (int)m->n_groups;
	struct plot p = {FIG_W, 30 + 26 * rows + 30, 220, 16, 10, 30, 0, 1, 0, 1};
	svg_open(f, &p, "share of probes on the device's node");
	axes(f, &p, 0.25, U_SHARE, 0, U_PLAIN, "share of probes", NULL);
	for (int g = 0; g < rows; g++) {
		const struct pb_summary_group *gr = &m->groups[g];
		uint64_t all = gr->on_node_yes + gr->on_node_no + gr->on_node_unknown;
		double y = p.mt + 6 + 26 * g, x = px(&p, 0);
		char name[128];
		group_name(name, sizeof(name), gr);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", p.ml - 6, y + 13);
		E(name);
		fputs("</text>", f);
		const struct {
			uint64_t n;
			const char *cls, *what;
		} parts[] = {
		    {gr->on_node_yes, "yes", "on the device's node"},
		    {gr->on_node_no, "no", "on another node"},
		    {gr->on_node_unknown, "unknown", "unknown (no device node or no CPU)"}};
		for (size_t k = 0; all && k < 3; k++) {
			double w = px(&p, (double)parts[k].n / (double)all) - px(&p, 0);
			fprintf(f,
				"<rect class=\"share %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"18\"><title>%" PRIu64 " of %" PRIu64 " %s</title></rect>",
				parts[k].cls, x, y, w, parts[k].n, all, parts[k].what);
			x += w;
		}
		fprintf(f,
			"<text class=\"count\" x=\"%.1f\" y=\"%.1f\">%" PRIu64 "/%" PRIu64
			"</text>\n",
			px(&p, 0) + 4, y + 13, gr->on_node_yes, gr->on_node_yes + gr->on_node_no);
	}
	fputs("</svg>\n<p class=\"note\"><span class=\"key yes\"></span> on the device's node "
	      "<span class=\"key no\"></span> another node <span class=\"key unknown\"></span> "
	      "unknown</p>\n",
	      f);
	char method[400];
	snprintf(method, sizeof(method),
		 "the NUMA node of the CPU that ran the driver's probe (%s) against the device's "
		 "numa_node (its own, else its nearest ancestor's)",
		 m->method ? m->method : "none");
	caption(f, method,
		"where the probe's memory went (see pages by node); a device without a NUMA node "
		"and a method without CPUs (kmsg) count as unknown");
}

/* One panel of bars by node. */
static void node_bars(FILE *f, const uint64_t *v, unsigned n, const char *cls, const char *what,
		      const char *label)
{
	uint64_t hi = 1;
	for (unsigned k = 0; k < n; k++)
		hi = v[k] > hi ? v[k] : hi;
	struct plot p = {310, 190, 56, 10, 10, 40, 0, n, 0, (double)hi};
	double ystep = nice_range(&p.y0, &p.y1, 4), slot = px(&p, 1) - px(&p, 0);
	svg_open(f, &p, label);
	axes(f, &p, 0, U_PLAIN, ystep, U_PLAIN, label, NULL);
	for (unsigned k = 0; k < n; k++) {
		fprintf(f,
			"<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\"><title>node%u: %" PRIu64 " %s</title></rect>",
			cls, px(&p, k) + slot * 0.2, py(&p, (double)v[k]), slot * 0.6,
			py(&p, 0) - py(&p, (double)v[k]), k, v[k], what);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">node%u</text>\n",
			px(&p, k) + slot / 2, p.h - p.mb + 14, k);
	}
	fputs("</svg>\n", f);
}

static void pages_figure(FILE *f, const struct pb_measure_summary *m, const char *id)
{
	figure_open(f, "fig-pages", id, "Pages and slab allocations by node");
	fputs("<div class=\"ab\">", f);
	node_bars(f, m->pages_by_node, m->n_page_nodes ? m->n_page_nodes : 1, "pages", "pages",
		  "pages by node");
	if (m->n_slab_counted_nodes)
		node_bars(f, m->slab_counted_by_node, m->n_slab_counted_nodes, "slab",
			  "slab allocations", "slab allocations by CPU node");
	fprintf(f,
		"</div>\n<p class=\"note\"><span class=\"key pages\"></span> pages "
		"(kmem:mm_page_alloc, by the node they landed on; total %" PRIu64 ", %" PRIu64
		" of unknown node) <span class=\"key slab\"></span> slab allocations "
		"(%s kmalloc + kmem_cache_alloc of all tasks, by the allocating CPU's "
		"node%s)</p>\n",
		m->pages_total, m->pages_unknown_node,
		m->slab_counted_ftrace ? "ftrace-recorded" : "perf-counted",
		m->slab_sampled ? ""
		: m->slab_counted_ftrace
		    ? "; counted from the ftrace buffer's records; sizes not sampled: "
		      "--slab-samples"
		    : "; counted per CPU by perf; sizes not sampled: --slab-samples");
	char method[300];
	snprintf(method, sizeof(method),
		 "pages the probing tasks allocated inside the bind windows (%s, kmem events), "
		 "summed over the counted iterations",
		 m->method ? m->method : "none");
	caption(f, method,
		"new pages only: slab reuse hides small allocations; memory freed again inside "
		"the window still counts; lost records undercount it");
}

/* ---- the median bind on a timeline -------------------------------------------------------- */
/* The counted iteration of the cell with probes whose bind time is the median (lower). */
static const struct pb_record_iteration *median_bind(const struct pb_run_record *r, size_t t,
						     size_t p)
{
	struct vals v = {};
	for (size_t i = 0; i < r->n_iterations; i++) {
		const struct pb_iteration_facts *fa =
		    it_in(&r->iterations[i], t, p) ? counted_facts(r, &r->iterations[i]) : NULL;
		if (fa && fa->n_probes)
			vals_add(&v, r->iterations[i].res.bind_ns);
	}
	const struct pb_record_iteration *best = NULL;
	if (v.n) {
		qsort(v.v, v.n, sizeof(uint64_t), cmp_u64);
		uint64_t med = v.v[(v.n - 1) / 2];
		for (size_t i = 0; i < r->n_iterations && !best; i++) {
			const struct pb_iteration_facts *fa =
			    it_in(&r->iterations[i], t, p) ? counted_facts(r, &r->iterations[i])
							   : NULL;
			if (fa && fa->n_probes && r->iterations[i].res.bind_ns == med)
				best = &r->iterations[i];
		}
	}
	free(v.v);
	return best;
}

struct lanes {
	int cpu[64];
	size_t n;
};

static void lane_add(struct lanes *l, int cpu)
{
	for (size_t k = 0; k < l->n; k++)
		if (l->cpu[k] == cpu)
			return;
	if (l->n < 64)
		l->cpu[l->n++] = cpu;
}

static int cmp_lane(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	if (x < 0 || y < 0) /* unknown last */
		return (x < 0) - (y < 0);
	return (x > y) - (x < y);
}

static double lane_y(const struct lanes *l, int cpu)
{
	for (size_t k = 0; k < l->n; k++)
		if (l->cpu[k] == cpu)
			return 12 + 46.0 * (double)k;
	return 14;
}

static uint64_t rel(uint64_t t, uint64_t t0)
{
	return t > t0 ? t - t0 : 0;
}

static void timeline_bar(FILE *f, const struct plot *p, double y, double h, uint64_t a, uint64_t b,
			 const char *cls, const char *label)
{
	double x0 = px(p, (double)a), x1 = px(p, (double)b);
	fprintf(f,
		"<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>",
		cls, x0, y, x1 - x0 > 1 ? x1 - x0 : 1, h);
	E(label);
	fputs(" ", f);
	ns_text(f, (double)a);
	fputs(" .. ", f);
	ns_text(f, (double)b);
	fputs("</title></rect>", f);
	if (x1 - x0 > 60 && h >= 12) {
		fprintf(f, "<text class=\"bar-label\" x=\"%.1f\" y=\"%.1f\">", x0 + 3, y + h - 4);
		E(label);
		fputs("</text>", f);
	}
}

static void timeline_figure(FILE *f, const struct pb_run_record *r,
			    const struct pb_record_summary *sm, const char *id)
{
	const struct pb_record_iteration *it = median_bind(r, sm->target, sm->placement);
	figure_open(f, "fig-timeline", id, "Probes of the median bind, a lane per CPU");
	if (!it) {
		fputs(
		    "<p class=\"empty\">No counted iteration with a probe seen: no timeline.</p>\n",
		    f);
		caption(f, method_long(sm->measurement.method), probe_blind);
		return;
	}
	const struct pb_iteration_facts *fa = &it->measurement->facts;
	uint64_t t0 = fa->write_start_ns, end = it->res.bind_ns;
	struct lanes l = {};
	lane_add(&l, it->res.writer_cpu);
	for (size_t k = 0; k < fa->n_probes; k++) {
		const struct pb_probe_fact *pf = &fa->probes[k];
		lane_add(&l, pf->cpu);
		uint64_t e = rel(pf->start_ns, t0) + pf->duration_ns;
		end = e > end ? e : end;
		if (pf->hop) {
			lane_add(&l, pf->hop_cpu);
			e = rel(pf->hop_start_ns, t0) + pf->hop_duration_ns;
			end = e > end ? e : end;
		}
	}
	if (fa->uevent_kernel_ns > 0 && (uint64_t)fa->uevent_kernel_ns > end)
		end = (uint64_t)fa->uevent_kernel_ns;
	qsort(l.cpu, l.n, sizeof(int), cmp_lane);
	struct plot p = {FIG_W, (int)(46 * l.n) + 56, 70, 30, 10, 40, 0, (double)end, 0, 1};
	double xstep = nice_range(&p.x0, &p.x1, 6);
	svg_open(f, &p, "timeline of the median bind");
	axes(f, &p, xstep, U_NS, 0, U_PLAIN, "time since the bind write began", NULL);
	for (size_t k = 0; k < l.n; k++) {
		if (k) /* a line between lanes */
			fprintf(
			    f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>",
			    p.ml - 40, lane_y(&l, l.cpu[k]) - 3, p.w - p.mr,
			    lane_y(&l, l.cpu[k]) - 3);
		fprintf(f, "<text class=\"lane\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
			p.ml - 6, lane_y(&l, l.cpu[k]) + 22);
		if (l.cpu[k] >= 0)
			fprintf(f, "CPU %d", l.cpu[k]);
		else
			fputs("CPU ?", f);
		fputs("</text>", f);
	}
	char label[200];
	snprintf(label, sizeof(label), "writer: bind write (tid %d)", (int)fa->writer_tid);
	timeline_bar(f, &p, lane_y(&l, it->res.writer_cpu), 7, 0, it->res.bind_ns, "tl-write",
		     label);
	for (size_t k = 0; k < fa->n_probes; k++) {
		const struct pb_probe_fact *pf = &fa->probes[k];
		if (pf->hop) {
			snprintf(label, sizeof(label), "hop worker %s[%d] (%s)", pf->hop_comm,
				 (int)pf->hop_pid, pf->hop_function);
			timeline_bar(
			    f, &p, lane_y(&l, pf->hop_cpu) + 8, 7, rel(pf->hop_start_ns, t0),
			    rel(pf->hop_start_ns, t0) + pf->hop_duration_ns, "tl-hop", label);
		}
		snprintf(label, sizeof(label), "%s%s/%s %s [%s %d]", pf->depth ? "nested " : "",
			 pf->bus, pf->driver, pf->device, pf->comm, (int)pf->pid);
		char cls[64];
		snprintf(cls, sizeof(cls), "tl-probe depth%d%s", pf->depth > 3 ? 3 : pf->depth,
			 pf->start_exact ? "" : " inexact");
		timeline_bar(f, &p, lane_y(&l, pf->cpu) + (pf->depth ? 31 : 17), pf->depth ? 8 : 12,
			     rel(pf->start_ns, t0), rel(pf->start_ns, t0) + pf->duration_ns, cls,
			     label);
	}
	if (fa->uevent_kernel_ns > 0)
		fprintf(f,
			"<line class=\"uevent\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"><title>"
			"the kernel's bind uevent</title></line>",
			px(&p, (double)fa->uevent_kernel_ns), p.mt,
			px(&p, (double)fa->uevent_kernel_ns), p.h - p.mb);
	fputs("\n</svg>\n<p class=\"note\">Iteration ", f);
	fprintf(f, "%u, bind write ", it->iteration);
	ns_text(f, (double)it->res.bind_ns);
	fputs(" (the median of the counted binds). <span class=\"key tl-write\"></span> the "
	      "writer's bind write <span class=\"key tl-probe\"></span> a probe (nested probes "
	      "thinner, below) <span class=\"key tl-hop\"></span> the hop into a worker; a dashed "
	      "line: the kernel's bind uevent.</p>\n",
	      f);
	char method[400];
	snprintf(
	    method, sizeof(method), "%s; the writer's write from the run's own clock",
	    method_long(fa->method == PB_METHOD_AUTO ? NULL : pb_measure_method_name(fa->method)));
	caption(
	    f, method,
	    "a probe bar with a dashed outline starts at its end minus the kernel's microseconds "
	    "(not exact); kmsg has no CPU (lane ?); work deferred past the probe; what other "
	    "tasks ran on these CPUs meanwhile");
}

/* ---- one target x placement -------------------------------------------------------------- */
static void stats_row(FILE *f, const char *what, const struct pb_stats *s)
{
	fputs("<tr><td>", f);
	E(what);
	fprintf(f, "</td><td>%zu</td>", s->n);
	const double v[] = {(double)s->min, (double)s->percentile[0], (double)s->percentile[2],
			    (double)s->max};
	for (size_t k = 0; k < 4; k++) {
		fputs("<td>", f);
		if (s->n)
			ns_text(f, v[k]);
		else
			fputs("-", f);
		fputs("</td>", f);
	}
	fputs("</tr>\n", f);
}

static void cell(FILE *f, const struct pb_run_record *r, size_t ri,
		 const struct pb_record_summary *sm)
{
	const struct pb_record_target *t = &r->targets[sm->target];
	const struct pb_record_placement *pl = &r->placements[sm->placement];
	char id[64], fid[80];
	snprintf(id, sizeof(id), "r%zu-t%zu-p%zu", ri, sm->target, sm->placement);
	fprintf(f, "<section class=\"cell\" id=\"%s\">\n<h3>", id);
	E(t->t.name);
	fputs(" <small>", f);
	E(t->t.bus);
	fputs("/", f);
	E(t->t.driver);
	if (t->t.numa_node >= 0)
		fprintf(f, ", node %d", t->t.numa_node);
	else
		fputs(", no NUMA node", f);
	fputs("</small> &middot; writer ", f);
	E(pl->label);
	fputs("</h3>\n<table class=\"stats\"><tr><th>step</th><th>N</th><th>min</th><th>median</th>"
	      "<th>p99</th><th>max</th></tr>\n",
	      f);
	stats_row(f, "unbind", &sm->unbind_ns);
	stats_row(f, "bind", &sm->bind_ns);
	for (size_t g = 0; sm->measured && g < sm->measurement.n_groups; g++) {
		char name[128];
		group_name(name, sizeof(name), &sm->measurement.groups[g]);
		stats_row(f, name, &sm->measurement.groups[g].probe_ns);
	}
	stats_row(f, "uevent kernel", &sm->measurement.uevent_kernel_ns);
	fputs("</table>\n<div class=\"figs\">\n", f);
	snprintf(fid, sizeof(fid), "dist-%s", id);
	dist_figure(f, r, sm, fid);
	snprintf(fid, sizeof(fid), "series-%s", id);
	series_figure(f, r, sm, fid);
	const struct pb_measure_summary *ms = &sm->measurement;
	char left_out[200];
	snprintf(left_out, sizeof(left_out),
		 "every measured iteration is left out: %" PRIu64 " lost perf records (a larger "
		 "--ring-pages keeps them, --include-lossy counts them), %" PRIu64 " saw no probe",
		 ms->lossy, ms->missing_probe);
	const char *why =
	    !r->measure_enabled
		? (r->measure_why_not[0] ? r->measure_why_not : "measurement was not enabled")
	    : t->observer_error[0]						? t->observer_error
	    : sm->measured && !ms->n_groups && (ms->lossy || ms->missing_probe) ? left_out
	    : !sm->measured || !ms->method
		? "no iteration of this target and placement was measured"
		: NULL;
	if (why) {
		fprintf(f,
			"<p class=\"why-not\" id=\"why-%s\">No probe figures (on-node share, pages "
			"by node, timeline): ",
			id);
		E(why);
		fputs("</p>\n", f);
	} else {
		const struct pb_measure_summary *m = &sm->measurement;
		snprintf(fid, sizeof(fid), "node-%s", id);
		if (m->n_groups)
			node_figure(f, m, fid);
		snprintf(fid, sizeof(fid), "pages-%s", id);
		if (m->memory)
			pages_figure(f, m, fid);
		else
			fprintf(f,
				"<p class=\"why-not\" id=\"why-pages-%s\">No pages by node: the "
				"method measured no memory placement (kmsg, or kmem events "
				"unavailable).</p>\n",
				id);
		snprintf(fid, sizeof(fid), "timeline-%s", id);
		timeline_figure(f, r, sm, fid);
		if (m->missing_probe || m->lossy || m->lost_records)
			fprintf(f,
				"<p class=\"note warn\">Left out: %" PRIu64
				" bind(s) with no probe seen, %" PRIu64
				" iteration(s) that lost records%s; %" PRIu64
				" records lost in all.</p>\n",
				m->missing_probe, m->lossy,
				m->lossy_included ? " (counted: --include-lossy)" : "",
				m->lost_records);
	}
	fputs("</div>\n</section>\n", f);
}

static void utc(FILE *f, int64_t unix_ns)
{
	time_t s = (time_t)(unix_ns / 1000000000);
	struct tm tm;
	char b[64];
	if (unix_ns > 0 && gmtime_r(&s, &tm) &&
	    strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S UTC", &tm))
		fputs(b, f);
	else
		fputs("-", f);
}

static void record_section(FILE *f, const struct pb_run_record *r, const char *name, size_t ri)
{
	fprintf(f, "<section class=\"record\" id=\"r%zu\">\n<h2>Run ", ri);
	E(name);
	fputs("</h2>\n<table class=\"meta\">\n<tr><th>host</th><td>", f);
	E(r->host);
	fputs("</td></tr>\n<tr><th>kernel</th><td>", f);
	E(r->kernel_release);
	fputs("</td></tr>\n<tr><th>tool</th><td>probebench ", f);
	E(r->tool_version);
	fputs("</td></tr>\n<tr><th>started / ended</th><td>", f);
	utc(f, r->start_unix_ns);
	fputs(" / ", f);
	utc(f, r->end_unix_ns);
	fputs("</td></tr>\n<tr><th>status</th><td>", f);
	E(r->status);
	fprintf(f,
		" (exit %d)</td></tr>\n<tr><th>entry</th><td>%s</td></tr>\n<tr><th>iterations"
		"</th><td>%u per target and placement, %u warm-up; %zu recorded%s</td></tr>\n"
		"<tr><th>measurement</th><td>",
		(int)r->run_status, r->options.entry == PB_ENTRY_PROBE ? "probe" : "bind",
		r->options.iterations, r->options.warmup, r->n_iterations,
		r->options.parallel ? "; targets cycled in parallel" : "");
	if (r->measure_enabled)
		fprintf(f, "on (method asked: %s)", pb_measure_method_name(r->options.method));
	else {
		fputs("off: ", f);
		E(r->measure_why_not[0] ? r->measure_why_not : "not enabled");
	}
	fputs("</td></tr>\n</table>\n", f);
	for (size_t i = 0; i < r->n_summaries; i++)
		cell(f, r, ri, &r->summaries[i]);
	fputs("</section>\n", f);
}

/* ---- the comparison ------------------------------------------------------------------------ */
static struct json_object *jget(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v = jget(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool jnum(struct json_object *o, const char *k, double *ret)
{
	struct json_object *v = jget(o, k);
	if (!v ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return false;
	*ret = json_object_get_double(v);
	return true;
}

static void jnum_cell(FILE *f, struct json_object *o, const char *k, bool ns, const char *fmt)
{
	double v;
	fputs("<td>", f);
	if (!jnum(o, k, &v))
		fputs("-", f);
	else if (ns)
		ns_text(f, v);
	else
		fprintf(f, fmt, v);
	fputs("</td>", f);
}

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* How a side's runs name file: 2 by its path, 1 by its file name only, 0 not. */
static int side_names(struct json_object *side, const char *file)
{
	struct json_object *runs = jget(side, "runs");
	int best = 0;
	for (size_t i = 0; runs && i < json_object_array_length(runs); i++) {
		const char *r = jstr(json_object_array_get_idx(runs, i), "file");
		if (r && !strcmp(r, file))
			return 2;
		if (r && !strcmp(basename_of(r), basename_of(file)))
			best = 1;
	}
	return best;
}

/* Whether the record file is one of side s (0 baseline, 1 candidate): named there by its path,
 * or by its file name when the other side names no file of that name (two results.json of two
 * directories are told apart by their paths only). */
static bool of_side(struct json_object *doc, int s, const char *file)
{
	int here = side_names(jget(doc, s ? "candidate" : "baseline"), file),
	    there = side_names(jget(doc, s ? "baseline" : "candidate"), file);
	return here == 2 || (here == 1 && there == 0);
}

/* The samples of a compared series in one record (cmd compare's series: doc/compare.md). */
static void compared_values(const struct pb_run_record *r, struct json_object *c, struct vals *out)
{
	const char *target = jstr(c, "target"), *place = jstr(c, "placement"),
		   *metric = jstr(c, "metric"), *method = jstr(c, "method");
	char bus[32], drv[64];
	int depth = -1;
	bool probe = metric && sscanf(metric, "probe %31[^/]/%63s depth %d", bus, drv, &depth) == 3;
	for (size_t i = 0; target && place && metric && i < r->n_iterations; i++) {
		const struct pb_record_iteration *it = &r->iterations[i];
		if (strcmp(r->targets[it->target].t.name, target) ||
		    strcmp(r->placements[it->placement].label, place) ||
		    it->res.outcome != PB_CYCLE_OK)
			continue;
		if (!strcmp(metric, "bind_ns"))
			vals_add(out, it->res.bind_ns);
		else if (!strcmp(metric, "unbind_ns"))
			vals_add(out, it->res.unbind_ns);
		const struct pb_iteration_facts *fa = counted_facts(r, it);
		if (!fa)
			continue;
		if (!strcmp(metric, "uevent_kernel_ns") && fa->uevent_kernel_ns >= 0)
			vals_add(out, (uint64_t)fa->uevent_kernel_ns);
		for (size_t k = 0; probe && k < fa->n_probes; k++) {
			const struct pb_probe_fact *pf = &fa->probes[k];
			const char *m = pb_measure_method_name(pf->method);
			if (pf->depth == depth && !strcmp(pf->bus, bus) &&
			    !strcmp(pf->driver, drv) &&
			    (!method || !strcmp(method, m) || pf->method == PB_METHOD_AUTO))
				vals_add(out, pf->duration_ns);
		}
	}
}

/* One side's row of the A/B strip: min-max line, median-p90 box, median dot. */
static void strip_row(FILE *f, const struct plot *p, double y, struct json_object *side,
		      const char *cls, const char *label)
{
	double mn = 0, md = 0, p90 = 0, mx = 0;
	fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", p->ml - 6, y + 5,
		label);
	if (!jnum(side, "min", &mn) || !jnum(side, "median", &md) || !jnum(side, "p90", &p90) ||
	    !jnum(side, "max", &mx))
		return;
	fprintf(f,
		"<line class=\"range %s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		"<rect class=\"box %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"12\"/>"
		"<circle class=\"med %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>",
		cls, px(p, mn), y, px(p, mx), y, cls, px(p, md), y - 6,
		px(p, p90) - px(p, md) > 1 ? px(p, p90) - px(p, md) : 1, cls, px(p, md), y);
	fputs(label, f);
	fputs(" median ", f);
	ns_text(f, md);
	fputs("</title></circle>", f);
}

static void compare_figure(FILE *f, struct json_object *c, size_t k, const char *const *names,
			   const struct pb_run_record *const *recs, size_t n,
			   struct json_object *doc)
{
	struct json_object *A = jget(c, "baseline"), *B = jget(c, "candidate"),
			   *sh = jget(c, "shift_ns");
	char id[32], title[400];
	snprintf(id, sizeof(id), "cmp-%zu", k);
	const char *method = jstr(c, "method");
	snprintf(title, sizeof(title), "%s %s %s%s%s%s", jstr(c, "target") ?: "?",
		 jstr(c, "placement") ?: "?", jstr(c, "metric") ?: "?", method ? " [" : "",
		 method ?: "", method ? "]" : "");
	figure_open(f, "fig-compare", id, title);
	double lo = INFINITY, hi = 0, v = 0;
	const char *keys[] = {"min", "max"};
	for (size_t s = 0; s < 2; s++)
		for (size_t q = 0; q < 2; q++)
			if (jnum(s ? B : A, keys[q], &v)) {
				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
			}
	fputs("<div class=\"ab\">", f);
	if (lo <= hi) {
		struct plot p = {390, 110, 90, 26, 8, 40, lo, hi, 0, 1};
		double xstep = nice_range(&p.x0, &p.x1, 4);
		svg_open(f, &p, "baseline next to candidate");
		axes(f, &p, xstep, U_NS, 0, U_PLAIN, "min, median..p90, max", NULL);
		strip_row(f, &p, 28, A, "a", "A baseline");
		strip_row(f, &p, 58, B, "b", "B candidate");
		fputs("</svg>", f);
	} else
		fputs("<p class=\"empty\">A side has no samples.</p>", f);
	double est = 0, low = 0, high = 0;
	bool has_est = jnum(sh, "estimate", &est),
	     has_ci = jnum(sh, "low", &low) && jnum(sh, "high", &high);
	if (has_est) {
		double a = has_ci ? fmin(low, est) : est, b = has_ci ? fmax(high, est) : est;
		a = fmin(a, 0);
		b = fmax(b, 0);
		if (!(b > a))
			b = a + 1;
		double pad = (b - a) * 0.1;
		struct plot p = {230, 110, 26, 26, 8, 40, a - pad, b + pad, 0, 1};
		double xstep = nice_range(&p.x0, &p.x1, 3);
		svg_open(f, &p, "shift with its interval");
		axes(f, &p, xstep, U_NS, 0, U_PLAIN, "shift B - A", NULL);
		fprintf(f, "<line class=\"zero\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>",
			px(&p, 0), p.mt, px(&p, 0), p.h - p.mb);
		if (has_ci)
			fprintf(f,
				"<line class=\"ci\" x1=\"%.1f\" y1=\"43\" x2=\"%.1f\" y2=\"43\"/>"
				"<line class=\"ci\" x1=\"%.1f\" y1=\"37\" x2=\"%.1f\" y2=\"49\"/>"
				"<line class=\"ci\" x1=\"%.1f\" y1=\"37\" x2=\"%.1f\" y2=\"49\"/>",
				px(&p, low), px(&p, high), px(&p, low), px(&p, low), px(&p, high),
				px(&p, high));
		fprintf(f, "<circle class=\"est\" cx=\"%.1f\" cy=\"43\" r=\"4.5\"/></svg>",
			px(&p, est));
	}
	fputs("</div>\n<table class=\"cmp\"><tr><th></th><th>N</th><th>records</th><th>median</th>"
	      "<th>p90</th><th>min</th><th>max</th></tr>\n",
	      f);
	for (size_t s = 0; s < 2; s++) {
		struct json_object *side = s ? B : A;
		fprintf(f, "<tr><td>%s</td>", s ? "B candidate" : "A baseline");
		jnum_cell(f, side, "N", false, "%.0f");
		jnum_cell(f, side, "records", false, "%.0f");
		jnum_cell(f, side, "median", true, NULL);
		jnum_cell(f, side, "p90", true, NULL);
		jnum_cell(f, side, "min", true, NULL);
		jnum_cell(f, side, "max", true, NULL);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n<p class=\"verdict\">shift ", f);
	if (has_est) {
		fputs(est >= 0 ? "+" : "-", f);
		ns_text(f, fabs(est));
	} else
		fputs("n/a", f);
	double level = 0;
	jnum(sh, "level", &level);
	fprintf(f, ", %g%% interval ", level * 100);
	if (has_ci) {
		fputs("[", f);
		fputs(low < 0 ? "-" : "+", f);
		ns_text(f, fabs(low));
		fputs(", ", f);
		fputs(high < 0 ? "-" : "+", f);
		ns_text(f, fabs(high));
		fputs("]", f);
	} else
		fputs("n/a (samples too small for that level)", f);
	double ratio = 0, pv = 0, padj = 0;
	if (jnum(c, "ratio", &ratio))
		fprintf(f, "; ratio %.3f", ratio);
	if (jnum(c, "p", &pv))
		fprintf(f, "; p %.3g", pv);
	fputs(" (", f);
	E(jstr(c, "p_method") ?: "no test");
	fputs(")", f);
	if (jnum(c, "p_adjusted", &padj))
		fprintf(f, ", Holm-adjusted %.3g", padj);
	const char *verdict = jstr(c, "verdict") ?: "?";
	bool changed = !strcmp(verdict, "slower") || !strcmp(verdict, "faster");
	fprintf(f, ": <b class=\"%s\">",
		changed ? (strcmp(verdict, "slower") ? "faster" : "slower") : "same");
	E(verdict);
	fputs("</b></p>\n", f);

	caption(f,
		"Hodges-Lehmann shift (median of all pairwise differences B - A) with its "
		"distribution-free interval; two-sided Mann-Whitney U, Holm-adjusted over the "
		"comparison's duration tests (doc/compare.md)",
		"drift within a run and differences between boots when pooled (read the records' "
		"medians); a change of shape rather than a shift (read p90 and max)");

	/* the samples themselves, when the records of both sides are among the inputs */
	struct series s[2] = {};
	snprintf(s[0].name, sizeof(s[0].name), "A baseline");
	snprintf(s[1].name, sizeof(s[1].name), "B candidate");
	bool have[2] = {};
	for (size_t i = 0; i < n; i++)
		for (size_t side = 0; side < 2; side++)
			if (of_side(doc, (int)side, names[i])) {
				have[side] = true;
				compared_values(recs[i], c, &s[side].v);
			}
	if (have[0] && have[1] && s[0].v.n && s[1].v.n) {
		char fid[48];
		snprintf(fid, sizeof(fid), "cmpdist-%zu", k);
		snprintf(title, sizeof(title), "A and B, every sample (ECDF): %s %s %s",
			 jstr(c, "target") ?: "?", jstr(c, "placement") ?: "?",
			 jstr(c, "metric") ?: "?");
		ecdf_figure(
		    f, "fig-compare-dist", fid, title, s, 2,
		    "the samples of the records given to the report, pooled per side as compare "
		    "pools them (outcome ok; lossy and missing-probe windows left out)",
		    "records of a side that were not given to the report");
	}
	free(s[0].v.v);
	free(s[1].v.v);
}

static void runs_table(FILE *f, struct json_object *side, const char *what)
{
	struct json_object *runs = jget(side, "runs");
	fprintf(f, "<tr><th colspan=\"5\">%s</th></tr>\n", what);
	for (size_t i = 0; runs && i < json_object_array_length(runs); i++) {
		struct json_object *r = json_object_array_get_idx(runs, i);
		const char *k[] = {"file", "kernel", "host", "status", "entry"};
		fputs("<tr>", f);
		for (size_t j = 0; j < 5; j++) {
			fputs("<td>", f);
			E(jstr(r, k[j]) ?: "-");
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
}

static void keys_list(FILE *f, struct json_object *a, const char *what)
{
	size_t n = a ? json_object_array_length(a) : 0;
	if (!n)
		return;
	fprintf(f, "<p class=\"only\">%s:</p><ul>\n", what);
	for (size_t i = 0; i < n; i++) {
		struct json_object *k = json_object_array_get_idx(a, i);
		fputs("<li>", f);
		E(jstr(k, "target") ?: "?");
		fputs(" ", f);
		E(jstr(k, "placement") ?: "?");
		fputs(" ", f);
		E(jstr(k, "metric") ?: "?");
		if (jstr(k, "method")) {
			fputs(" [", f);
			E(jstr(k, "method"));
			fputs("]", f);
		}
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}

static void compare_section(FILE *f, struct json_object *doc,
			    const struct pb_run_record *const *recs, const char *const *names,
			    size_t n)
{
	double alpha = 0, minc = 0, lvl = 0;
	jnum(doc, "alpha", &alpha);
	jnum(doc, "min_change", &minc);
	jnum(doc, "ci_level", &lvl);
	fputs("<section class=\"compare\" id=\"compare\">\n<h2>Comparison: A baseline, B "
	      "candidate</h2>\n<table class=\"meta\"><tr><th>file</th><th>kernel</th><th>host</th>"
	      "<th>status</th><th>entry</th></tr>\n",
	      f);
	runs_table(f, jget(doc, "baseline"), "A baseline");
	runs_table(f, jget(doc, "candidate"), "B candidate");
	fprintf(f,
		"</table>\n<p>Verdicts: slower or faster when the Holm-adjusted p &lt; %g and the "
		"medians differ by %g%% or more; intervals at %g%%. Series methods: ",
		alpha, minc * 100, lvl * 100);
	E(jstr(doc, "method") ?: "-");
	fputs("</p>\n<div class=\"figs\">\n", f);
	struct json_object *cs = jget(doc, "comparisons");
	for (size_t k = 0; cs && k < json_object_array_length(cs); k++)
		compare_figure(f, json_object_array_get_idx(cs, k), k, names, recs, n, doc);
	fputs("</div>\n", f);
	struct json_object *ns = jget(doc, "node_shares");
	if (ns && json_object_array_length(ns)) {
		fputs("<h3>Probes on the device's node</h3>\n<table class=\"shares\" id=\"shares\">"
		      "<tr><th>target</th><th>placement</th><th>series</th><th>A share</th><th>B "
		      "share</th><th>p (Fisher)</th><th>p adj</th><th>verdict</th></tr>\n",
		      f);
		for (size_t k = 0; k < json_object_array_length(ns); k++) {
			struct json_object *s = json_object_array_get_idx(ns, k);
			fputs("<tr><td>", f);
			E(jstr(s, "target"));
			fputs("</td><td>", f);
			E(jstr(s, "placement"));
			fputs("</td><td>", f);
			E(jstr(s, "metric"));
			fputs("</td>", f);
			jnum_cell(f, s, "baseline_share", false, "%.2f");
			jnum_cell(f, s, "candidate_share", false, "%.2f");
			jnum_cell(f, s, "p", false, "%.3g");
			jnum_cell(f, s, "p_adjusted", false, "%.3g");
			fputs("<td>", f);
			E(jstr(s, "verdict"));
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n<p class=\"note\">Fisher's exact test, two-sided, Holm-adjusted "
		      "over "
		      "the share tests. Cannot see: where the memory went (pages by node "
		      "above).</p>\n",
		      f);
	}
	keys_list(f, jget(doc, "only_in_baseline"), "Only in A (baseline)");
	keys_list(f, jget(doc, "only_in_candidate"), "Only in B (candidate)");
	fputs("</section>\n", f);
}

/* ---- the page ------------------------------------------------------------------------------ */
static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1400px;color:#222;"
    "padding:0 1em}\n"
    "h1{font-size:1.6em}h2{border-bottom:2px solid #444;margin-top:2em}h3{margin:1.5em 0 .4em}\n"
    "h4{margin:.2em 0}small{color:#666;font-weight:normal}\n"
    "table{border-collapse:collapse;margin:.4em 0}td,th{padding:2px 8px;text-align:left;"
    "border-bottom:1px solid #ddd}\n"
    "table.stats td:nth-child(n+2),table.cmp td:nth-child(n+2){text-align:right}\n"
    ".figs{display:flex;flex-wrap:wrap;gap:1em}\n"
    "figure.fig{margin:0;padding:.5em;border:1px solid #ccc;border-radius:4px;max-width:660px;"
    "box-sizing:border-box;break-inside:avoid;page-break-inside:avoid}\n"
    "figure svg{display:block;max-width:100%;height:auto}\n"
    "figcaption{font-size:12px;color:#444;margin-top:.3em}\n"
    "svg text{font:11px system-ui,sans-serif;fill:#333}svg text.label{fill:#555}\n"
    ".grid{stroke:#eee}.axis{stroke:#555}.q{stroke-dasharray:3 3;opacity:.6}\n"
    ".pt{fill:#1f77b4}.pt.failed{fill:#d62728}.line{stroke-width:1}\n"
    ".share.yes,.key.yes{fill:#2ca02c;background:#2ca02c}"
    ".share.no,.key.no{fill:#ff7f0e;background:#ff7f0e}"
    ".share.unknown,.key.unknown{fill:#bbb;background:#bbb}\n"
    ".bar.pages,.key.pages{fill:#1f77b4;background:#1f77b4}"
    ".bar.slab,.key.slab{fill:#9467bd;background:#9467bd}\n"
    ".tl-write,.key.tl-write{fill:#7f7f7f;background:#7f7f7f}"
    ".tl-probe,.key.tl-probe{fill:#1f77b4;background:#1f77b4}"
    ".tl-probe.depth1{fill:#17becf}.tl-probe.depth2,.tl-probe.depth3{fill:#9edae5}"
    ".tl-probe.inexact{stroke:#000;stroke-dasharray:2 2}"
    ".tl-hop,.key.tl-hop{fill:#ff7f0e;background:#ff7f0e}\n"
    ".uevent{stroke:#d62728;stroke-dasharray:4 3}.bar-label{font-size:10px;fill:#fff}\n"
    ".key,.swatch{display:inline-block;width:.9em;height:.9em;vertical-align:middle}\n"
    ".range{stroke:#555;stroke-width:1.5}.box.a{fill:#9ecae1}.box.b{fill:#fdae6b}"
    ".med.a{fill:#1f77b4}.med.b{fill:#e6550d}.zero{stroke:#999;stroke-dasharray:3 3}"
    ".ci{stroke:#222;stroke-width:2}.est{fill:#222}\n"
    ".ab{display:flex;gap:.5em;flex-wrap:wrap}b.slower{color:#c00}b.faster{color:#080}\n"
    ".why-not{background:#fff6d5;border-left:4px solid #e0b000;padding:.4em .8em;"
    "max-width:640px}\n"
    ".warn{color:#a50}.note{font-size:12px;color:#444;max-width:640px}\n"
    "@media print{body{max-width:none;margin:0}figure.fig{border:none}h2{break-before:auto}"
    "section.cell{break-inside:avoid-page}}\n";

/* The script only marks that it ran (the browser test looks for it) and lets a click on a
 * figure's heading fold it. */
static const char script[] =
    "(function(){\n"
    "document.querySelectorAll('figure.fig h4').forEach(function(h){\n"
    "h.style.cursor='pointer';h.addEventListener('click',function(){\n"
    "var f=h.parentNode;f.classList.toggle('folded');\n"
    "f.querySelectorAll('svg,table,p').forEach(function(e){\n"
    "e.style.display=f.classList.contains('folded')?'none':'';});});});\n"
    "var m=document.getElementById('pb-script');m.textContent='script ran';"
    "m.setAttribute('data-ok','1');\n"
    "})();\n";

int pb_report_html(FILE *f, const struct pb_run_record *const *recs, const char *const *names,
		   size_t n, struct json_object *compare)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
	      "<title>probebench report</title>\n<style>\n",
	      f);
	fputs(css, f);
	fputs("</style>\n</head>\n<body>\n<h1>probebench report</h1>\n<p>", f);
	fprintf(f, "%zu run record(s)%s: ", n, compare ? " and a comparison" : "");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s<a href=\"#r%zu\">", i ? ", " : "", i);
		E(names[i]);
		fputs("</a>", f);
	}
	if (compare)
		fputs("; <a href=\"#compare\">comparison</a>", f);
	fputs(". Times are ns-resolution, shown in the unit that reads best. Each figure names "
	      "its method and what it cannot see (doc/measurement.md).</p>\n"
	      "<p id=\"pb-script\" hidden></p>\n",
	      f);
	if (compare)
		compare_section(f, compare, recs, names, n);
	for (size_t i = 0; i < n; i++)
		record_section(f, recs[i], names[i], i);
	fputs("<script>\n", f);
	fputs(script, f);
	fputs("</script>\n</body>\n</html>\n", f);
	return ferror(f) ? -EIO : 0;
}

int pb_report_html_from_text(const char *json_text, const char *name, char **ret, size_t *ret_len,
			     char *err, size_t err_size)
{
	*ret = NULL;
	struct json_object *j = json_tokener_parse(json_text);
	struct pb_run_record *r = NULL;
	int rc;
	if (!j || !json_object_is_type(j, json_type_object)) {
		snprintf(err, err_size, "not a JSON object");
		rc = -EINVAL;
	} else
		rc = pb_run_record_from_json(j, &r, err, err_size);
	json_object_put(j);
	if (rc < 0)
		return rc;
	FILE *f = open_memstream(ret, ret_len);
	if (!f) {
		pb_run_record_free(r);
		return -ENOMEM;
	}
	const struct pb_run_record *recs[] = {r};
	rc = pb_report_html(f, recs, &name, 1, NULL);
	if (fclose(f) != 0 && rc == 0)
		rc = -ENOMEM;
	pb_run_record_free(r);
	if (rc < 0) {
		free(*ret);
		*ret = NULL;
	}
	return rc;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Summary of the observer's facts over the iterations of one target x placement (pure: typed in,
 * typed out; see pb_measure_summary_make() in record.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "probebench/record.h"

/* Appends x; the array holds 16 values, then doubles whenever n reaches a power of two. */
static int push(uint64_t **v, size_t *n, uint64_t x)
{
	if (*n == 0 || (*n >= 16 && (*n & (*n - 1)) == 0)) {
		uint64_t *nv = realloc(*v, (*n ? *n * 2 : 16) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static void add_by_node(uint64_t *acc, unsigned *n_acc, const uint64_t *v, unsigned n)
{
	for (unsigned i = 0; i < n && i < PB_MEASURE_MAX_NODES; i++)
		acc[i] += v[i];
	if (n > *n_acc)
		*n_acc = n > PB_MEASURE_MAX_NODES ? PB_MEASURE_MAX_NODES : n;
}

/* The samples gathered while summarising, turned into statistics at the end. */
struct samples {
	uint64_t *v;
	size_t n;
};

struct gather {
	struct samples *probe_ns; /* [group], in the order groups are made */
	struct samples uevent_kernel, uevent_udev;
};

static int cmp_group(const void *a, const void *b)
{
	const struct pb_summary_group *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	int c = strcmp(x->bus, y->bus);
	return c ? c : strcmp(x->driver, y->driver);
}

/* The index of p's group, made when new; -ENOMEM. */
static ssize_t group_of(struct pb_measure_summary *s, struct gather *g,
			const struct pb_probe_fact *p)
{
	const char *bus = p->bus[0] ? p->bus : "?", *drv = p->driver[0] ? p->driver : "?";
	for (size_t j = 0; j < s->n_groups; j++) {
		const struct pb_summary_group *x = &s->groups[j];
		if (x->depth == p->depth && !strcmp(x->bus, bus) && !strcmp(x->driver, drv))
			return (ssize_t)j;
	}
	struct pb_summary_group *ng = realloc(s->groups, (s->n_groups + 1) * sizeof(*ng));
	if (ng)
		s->groups = ng;
	struct samples *ns = realloc(g->probe_ns, (s->n_groups + 1) * sizeof(*ns));
	if (ns)
		g->probe_ns = ns;
	if (!ng || !ns)
		return -ENOMEM;
	g->probe_ns[s->n_groups] = (struct samples){0};
	struct pb_summary_group *x = &s->groups[s->n_groups];
	*x = (struct pb_summary_group){.depth = p->depth};
	snprintf(x->bus, sizeof(x->bus), "%s", bus);
	snprintf(x->driver, sizeof(x->driver), "%s", drv);
	return (ssize_t)s->n_groups++;
}

/* Adds an iteration's slab cache deltas to the summary's sums, cache by cache. */
static int add_slab_caches(struct pb_measure_summary *s, const struct pb_iteration_facts *f)
{
	s->slab_cache_iterations++;
	for (size_t i = 0; i < f->n_slab_caches; i++) {
		const struct pb_slab_delta *d = &f->slab_caches[i];
		struct pb_slab_delta *t = NULL;
		for (size_t k = 0; k < s->n_slab_caches && !t; k++)
			if (!strcmp(s->slab_caches[k].cache, d->cache))
				t = &s->slab_caches[k];
		if (!t) {
			void *q = realloc(s->slab_caches, (s->n_slab_caches + 1) * sizeof(*t));
			if (!q)
				return -ENOMEM;
			s->slab_caches = q;
			t = &s->slab_caches[s->n_slab_caches++];
			memset(t, 0, sizeof(*t));
			snprintf(t->cache, sizeof(t->cache), "%s", d->cache);
		}
		t->total += d->total;
		for (unsigned k = 0; k < d->n_nodes; k++)
			t->by_node[k] += d->by_node[k];
		if (d->n_nodes > t->n_nodes)
			t->n_nodes = d->n_nodes;
	}
	return 0;
}

static int add_facts(struct pb_measure_summary *s, struct gather *g,
		     const struct pb_iteration_facts *f)
{
	for (size_t k = 0; k < f->n_probes; k++) {
		const struct pb_probe_fact *p = &f->probes[k];
		ssize_t j = group_of(s, g, p);
		if (j < 0 || push(&g->probe_ns[j].v, &g->probe_ns[j].n, p->duration_ns) < 0)
			return -ENOMEM;
		struct pb_summary_group *x = &s->groups[j];
		if (p->on_device_node < 0)
			x->on_node_unknown++;
		else
			*(p->on_device_node ? &x->on_node_yes : &x->on_node_no) += 1;
		x->hops += p->hop;
	}
	if (f->uevent_kernel_ns >= 0 &&
	    push(&g->uevent_kernel.v, &g->uevent_kernel.n, (uint64_t)f->uevent_kernel_ns) < 0)
		return -ENOMEM;
	if (f->uevent_udev_ns >= 0 &&
	    push(&g->uevent_udev.v, &g->uevent_udev.n, (uint64_t)f->uevent_udev_ns) < 0)
		return -ENOMEM;
	if (f->memory_measured) {
		s->memory = true;
		add_by_node(s->pages_by_node, &s->n_page_nodes, f->pages_by_node, f->n_nodes);
		if (f->slab_sampled) {
			s->slab_sampled = true;
			add_by_node(s->slab_by_node, &s->n_slab_nodes, f->slab_allocs_by_node,
				    f->n_nodes);
		}
		s->slab_counted_ftrace |= f->slab_counted && f->slab_counted_ftrace;
		if (f->slab_counted)
			add_by_node(s->slab_counted_by_node, &s->n_slab_counted_nodes,
				    f->slab_counted_by_node, f->n_slab_counted_nodes);
		s->pages_total += f->pages_total;
		s->pages_unknown_node += f->pages_unknown_node;
		s->pages_freed_total += f->pages_freed_total;
		if (f->slab_caches_measured && add_slab_caches(s, f) < 0)
			return -ENOMEM;
		const struct pb_kept_pages *k = f->kept;
		if (k && k->state == PB_KEPT_UNKNOWN)
			s->kept_unknown++;
		else if (k && k->state != PB_KEPT_WATCHING) {
			s->kept_iterations++;
			s->kept_total += k->pages_total;
			add_by_node(s->kept_by_node, &s->n_kept_nodes, k->pages_by_node,
				    k->n_nodes);
		}
	}
	return 0;
}

/* The statistics of what was gathered, once for every reader of the summary. */
static int conclude(struct pb_measure_summary *s, const struct gather *g)
{
	int r = 0;
	for (size_t j = 0; j < s->n_groups && r == 0; j++)
		r = pb_stats_compute(g->probe_ns[j].v, g->probe_ns[j].n, &s->groups[j].probe_ns);
	if (r == 0)
		r = pb_stats_compute(g->uevent_kernel.v, g->uevent_kernel.n, &s->uevent_kernel_ns);
	if (r == 0)
		r = pb_stats_compute(g->uevent_udev.v, g->uevent_udev.n, &s->uevent_udev_ns);
	return r;
}

static void gather_clear(struct gather *g, size_t n_groups)
{
	for (size_t j = 0; g->probe_ns && j < n_groups; j++)
		free(g->probe_ns[j].v);
	free(g->probe_ns);
	free(g->uevent_kernel.v);
	free(g->uevent_udev.v);
}

int pb_measure_summary_make(const struct pb_measurement *const *ms, size_t n, bool include_lossy,
			    struct pb_measure_summary *out)
{
	*out = (struct pb_measure_summary){.lossy_included = include_lossy};
	struct gather g = {0};
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct pb_measurement *m = ms[i];
		if (!pb_measurement_has_facts(m))
			continue; /* timing only, or the observer failed */
		const struct pb_iteration_facts *f = &m->facts;
		out->measured++;
		/* Shown in the iteration records, counted here, left out of the statistics. */
		bool lossy = f->lost_records > 0;
		out->lossy += lossy;
		out->lost_records += f->lost_records;
		out->lost_slab_records += f->lost_slab_records;
		if (m->missing_probe[0]) {
			out->missing_probe++;
			continue;
		}
		if (lossy && !include_lossy)
			continue;
		const char *mm = pb_measure_method_name(f->method);
		if (!out->method)
			out->method = mm;
		else if (strcmp(mm, out->method))
			out->method = "mixed";
		r = add_facts(out, &g, f);
	}
	if (r == 0)
		r = conclude(out, &g);
	gather_clear(&g, out->n_groups);
	if (r < 0) {
		pb_measure_summary_clear(out);
		return r;
	}
	if (out->n_groups)
		qsort(out->groups, out->n_groups, sizeof(*out->groups), cmp_group);
	if (out->n_slab_caches) {
		qsort(out->slab_caches, out->n_slab_caches, sizeof(*out->slab_caches),
		      pb_slab_delta_cmp);
		if (out->n_slab_caches > PB_SLAB_MAX_CACHES)
			out->n_slab_caches = PB_SLAB_MAX_CACHES;
	}
	return 0;
}

void pb_measure_summary_clear(struct pb_measure_summary *s)
{
	free(s->groups);
	free(s->slab_caches);
	*s = (struct pb_measure_summary){0};
}

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

static int cmp_group(const void *a, const void *b)
{
	const struct pb_summary_group *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	int c = strcmp(x->bus, y->bus);
	return c ? c : strcmp(x->driver, y->driver);
}

static struct pb_summary_group *group_of(struct pb_measure_summary *s,
					 const struct pb_probe_fact *p)
{
	const char *bus = p->bus[0] ? p->bus : "?", *drv = p->driver[0] ? p->driver : "?";
	for (size_t j = 0; j < s->n_groups; j++) {
		struct pb_summary_group *g = &s->groups[j];
		if (g->depth == p->depth && !strcmp(g->bus, bus) && !strcmp(g->driver, drv))
			return g;
	}
	struct pb_summary_group *ng = realloc(s->groups, (s->n_groups + 1) * sizeof(*ng));
	if (!ng)
		return NULL;
	s->groups = ng;
	struct pb_summary_group *g = &s->groups[s->n_groups++];
	*g = (struct pb_summary_group){.depth = p->depth};
	snprintf(g->bus, sizeof(g->bus), "%s", bus);
	snprintf(g->driver, sizeof(g->driver), "%s", drv);
	return g;
}

static int add_facts(struct pb_measure_summary *s, const struct pb_iteration_facts *f)
{
	for (size_t k = 0; k < f->n_probes; k++) {
		const struct pb_probe_fact *p = &f->probes[k];
		struct pb_summary_group *g = group_of(s, p);
		if (!g || push(&g->ns, &g->n, p->duration_ns) < 0)
			return -ENOMEM;
		if (p->on_device_node < 0)
			g->on_node_unknown++;
		else
			*(p->on_device_node ? &g->on_node_yes : &g->on_node_no) += 1;
		g->hops += p->hop;
	}
	if (f->uevent_kernel_ns >= 0 &&
	    push(&s->uevent_kernel_ns, &s->n_uevent_kernel, (uint64_t)f->uevent_kernel_ns) < 0)
		return -ENOMEM;
	if (f->uevent_udev_ns >= 0 &&
	    push(&s->uevent_udev_ns, &s->n_uevent_udev, (uint64_t)f->uevent_udev_ns) < 0)
		return -ENOMEM;
	if (f->memory_measured) {
		s->memory = true;
		add_by_node(s->pages_by_node, &s->n_page_nodes, f->pages_by_node, f->n_nodes);
		add_by_node(s->slab_by_node, &s->n_slab_nodes, f->slab_allocs_by_node, f->n_nodes);
		if (f->slab_counted)
			add_by_node(s->slab_counted_by_node, &s->n_slab_counted_nodes,
				    f->slab_counted_by_node, f->n_slab_counted_nodes);
		s->pages_total += f->pages_total;
		s->pages_unknown_node += f->pages_unknown_node;
	}
	return 0;
}

int pb_measure_summary_make(const struct pb_measurement *const *ms, size_t n, bool include_lossy,
			    struct pb_measure_summary *out)
{
	*out = (struct pb_measure_summary){.lossy_included = include_lossy};
	for (size_t i = 0; i < n; i++) {
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
		if (add_facts(out, f) < 0) {
			pb_measure_summary_clear(out);
			return -ENOMEM;
		}
	}
	if (out->n_groups)
		qsort(out->groups, out->n_groups, sizeof(*out->groups), cmp_group);
	return 0;
}

void pb_measure_summary_clear(struct pb_measure_summary *s)
{
	for (size_t j = 0; j < s->n_groups; j++)
		free(s->groups[j].ns);
	free(s->groups);
	free(s->uevent_kernel_ns);
	free(s->uevent_udev_ns);
	*s = (struct pb_measure_summary){0};
}

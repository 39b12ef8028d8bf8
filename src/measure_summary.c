// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Summary of the observer's facts over the iterations of one target x placement (pure: JSON in,
 * JSON out; see pb_measure_summary_json() in run_measure.h).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/observer.h"
#include "probebench/run_measure.h"
#include "probebench/stats.h"

struct group {
	int depth;
	char bus[32], driver[64];
	uint64_t *ns;
	size_t n, cap;
	uint64_t yes, no, unknown, hops;
};

static const char *str_or(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return dflt;
	return json_object_get_string(v);
}

/* 1: integer found; 0: null or missing. */
static int get_i64(struct json_object *o, const char *key, int64_t *ret)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	*ret = json_object_get_int64(v);
	return 1;
}

static int push(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		uint64_t *nv = realloc(*v, c * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static struct json_object *stats_or_null(const uint64_t *v, size_t n)
{
	struct pb_stats s;
	if (!n || pb_stats_compute(v, n, &s) < 0)
		return NULL;
	return pb_stats_to_json(&s);
}

static void add_by_node(uint64_t *acc, unsigned *n_acc, struct json_object *arr)
{
	if (!arr || !json_object_is_type(arr, json_type_array))
		return;
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n && i < PB_MEASURE_MAX_NODES; i++) {
		int64_t v = json_object_get_int64(json_object_array_get_idx(arr, i));
		acc[i] += v > 0 ? (uint64_t)v : 0;
	}
	if (n > *n_acc)
		*n_acc = n > PB_MEASURE_MAX_NODES ? PB_MEASURE_MAX_NODES : (unsigned)n;
}

static struct json_object *node_array(const uint64_t *v, unsigned n)
{
	struct json_object *a = json_object_new_array();
	for (unsigned i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int64((int64_t)v[i]));
	return a;
}

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	int c = strcmp(x->bus, y->bus);
	return c ? c : strcmp(x->driver, y->driver);
}

struct json_object *pb_measure_summary_json(struct json_object *const *ms, size_t n_ms,
					    bool include_lossy)
{
	uint64_t n_lossy = 0, n_missing = 0;
	struct group *g = NULL;
	size_t n_g = 0;
	uint64_t *uk = NULL, *uu = NULL;
	size_t n_uk = 0, cap_uk = 0, n_uu = 0, cap_uu = 0, measured = 0;
	uint64_t pages[PB_MEASURE_MAX_NODES] = {0}, bytes[PB_MEASURE_MAX_NODES] = {0},
		 slab[PB_MEASURE_MAX_NODES] = {0}, slab_counted[PB_MEASURE_MAX_NODES] = {0};
	unsigned n_pages = 0, n_bytes = 0, n_slab = 0, n_slab_counted = 0;
	uint64_t pages_total = 0, pages_unknown = 0, lost = 0, lost_slab = 0;
	bool memory = false;
	const char *method = NULL;
	struct json_object *out = NULL;
	int r = 0;

	for (size_t i = 0; i < n_ms && r == 0; i++) {
		struct json_object *m = ms[i], *probes, *mem, *v;
		if (!m || !json_object_object_get_ex(m, "probes", &probes) ||
		    !json_object_is_type(probes, json_type_array))
			continue; /* no facts: timing only, or an {"error"} */
		measured++;
		int64_t u;
		/* Shown in the iteration records, counted here, left out of the statistics. */
		bool lossy = get_i64(m, "lost_records", &u) && u > 0;
		n_lossy += lossy;
		if (lossy)
			lost += (uint64_t)u;
		if (get_i64(m, "lost_slab_records", &u) && u > 0)
			lost_slab += (uint64_t)u;
		if (json_object_object_get_ex(m, "missing_probe", &v) && v) {
			n_missing++;
			continue;
		}
		if (lossy && !include_lossy)
			continue;
		const char *mm = str_or(m, "method", NULL);
		if (mm && !method)
			method = mm;
		else if (mm && strcmp(mm, method))
			method = "mixed";
		for (size_t k = 0; k < json_object_array_length(probes) && r == 0; k++) {
			struct json_object *p = json_object_array_get_idx(probes, k), *on, *hop;
			int64_t depth = 0, dur;
			get_i64(p, "depth", &depth);
			if (!get_i64(p, "duration_ns", &dur) || dur < 0)
				continue;
			const char *bus = str_or(p, "bus", "?"), *drv = str_or(p, "driver", "?");
			struct group *x = NULL;
			for (size_t j = 0; j < n_g && !x; j++)
				if (g[j].depth == depth && !strcmp(g[j].bus, bus) &&
				    !strcmp(g[j].driver, drv))
					x = &g[j];
			if (!x) {
				struct group *ng = realloc(g, (n_g + 1) * sizeof(*ng));
				if (!ng) {
					r = -ENOMEM;
					break;
				}
				g = ng;
				x = &g[n_g++];
				*x = (struct group){.depth = (int)depth};
				snprintf(x->bus, sizeof(x->bus), "%s", bus);
				snprintf(x->driver, sizeof(x->driver), "%s", drv);
			}
			r = push(&x->ns, &x->n, &x->cap, (uint64_t)dur);
			if (json_object_object_get_ex(p, "on_device_node", &on) &&
			    json_object_is_type(on, json_type_boolean))
				*(json_object_get_boolean(on) ? &x->yes : &x->no) += 1;
			else
				x->unknown++;
			if (json_object_object_get_ex(p, "hop", &hop) && hop)
				x->hops++;
		}
		if (r == 0 && get_i64(m, "uevent_kernel_ns", &u) && u >= 0)
			r = push(&uk, &n_uk, &cap_uk, (uint64_t)u);
		if (r == 0 && get_i64(m, "uevent_udev_ns", &u) && u >= 0)
			r = push(&uu, &n_uu, &cap_uu, (uint64_t)u);
		if (json_object_object_get_ex(m, "memory", &mem) && mem &&
		    json_object_is_type(mem, json_type_object)) {
			memory = true;
			json_object_object_get_ex(mem, "pages_by_node", &v);
			add_by_node(pages, &n_pages, v);
			v = NULL;
			json_object_object_get_ex(mem, "bytes_by_node", &v);
			add_by_node(bytes, &n_bytes, v);
			if (get_i64(mem, "pages_total", &u) && u > 0)
				pages_total += (uint64_t)u;
			if (get_i64(mem, "pages_unknown_node", &u) && u > 0)
				pages_unknown += (uint64_t)u;
			struct json_object *sp;
			v = NULL;
			if (json_object_object_get_ex(mem, "slab_proxy", &sp) &&
			    json_object_object_get_ex(sp, "allocs_by_node", &v))
				add_by_node(slab, &n_slab, v);
			v = NULL;
			if (json_object_object_get_ex(mem, "slab_proxy", &sp) &&
			    json_object_object_get_ex(sp, "counted_by_node", &v) && v)
				add_by_node(slab_counted, &n_slab_counted, v);
		}
	}
	if (r < 0)
		goto out;

	if (n_g)
		qsort(g, n_g, sizeof(*g), cmp_group);
	out = json_object_new_object();
	json_object_object_add(out, "method", method ? json_object_new_string(method) : NULL);
	json_object_object_add(out, "iterations_measured",
			       json_object_new_int64((int64_t)measured));
	json_object_object_add(out, "iterations_missing_probe",
			       json_object_new_int64((int64_t)n_missing));
	json_object_object_add(out, "iterations_lossy", json_object_new_int64((int64_t)n_lossy));
	json_object_object_add(out, "lossy_included", json_object_new_boolean(include_lossy));
	struct json_object *pa = json_object_new_array();
	for (size_t j = 0; j < n_g; j++) {
		struct json_object *e = json_object_new_object(), *on = json_object_new_object();
		json_object_object_add(e, "depth", json_object_new_int(g[j].depth));
		json_object_object_add(e, "bus", json_object_new_string(g[j].bus));
		json_object_object_add(e, "driver", json_object_new_string(g[j].driver));
		json_object_object_add(e, "probe_ns", stats_or_null(g[j].ns, g[j].n));
		json_object_object_add(on, "yes", json_object_new_int64((int64_t)g[j].yes));
		json_object_object_add(on, "no", json_object_new_int64((int64_t)g[j].no));
		json_object_object_add(on, "unknown", json_object_new_int64((int64_t)g[j].unknown));
		json_object_object_add(
		    on, "share",
		    g[j].yes + g[j].no
			? json_object_new_double((double)g[j].yes / (double)(g[j].yes + g[j].no))
			: NULL);
		json_object_object_add(e, "on_device_node", on);
		json_object_object_add(e, "hops", json_object_new_int64((int64_t)g[j].hops));
		json_object_array_add(pa, e);
	}
	json_object_object_add(out, "probes", pa);
	json_object_object_add(out, "uevent_kernel_ns", stats_or_null(uk, n_uk));
	json_object_object_add(out, "uevent_udev_ns", stats_or_null(uu, n_uu));
	if (memory) {
		struct json_object *mo = json_object_new_object();
		json_object_object_add(mo, "pages_by_node", node_array(pages, n_pages));
		json_object_object_add(mo, "bytes_by_node", node_array(bytes, n_bytes));
		json_object_object_add(mo, "pages_total",
				       json_object_new_int64((int64_t)pages_total));
		json_object_object_add(mo, "pages_unknown_node",
				       json_object_new_int64((int64_t)pages_unknown));
		json_object_object_add(mo, "slab_allocs_by_node", node_array(slab, n_slab));
		json_object_object_add(mo, "slab_counted_by_node",
				       node_array(slab_counted, n_slab_counted));
		json_object_object_add(out, "memory", mo);
	} else
		json_object_object_add(out, "memory", NULL);
	json_object_object_add(out, "lost_records", json_object_new_int64((int64_t)lost));
	json_object_object_add(out, "lost_slab_records", json_object_new_int64((int64_t)lost_slab));
out:
	for (size_t j = 0; j < n_g; j++)
		free(g[j].ns);
	free(g);
	free(uk);
	free(uu);
	return out;
}

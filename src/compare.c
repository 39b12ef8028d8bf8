// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Comparing two run records: series matched by (target, placement, metric), medians, ratio,
 * Mann-Whitney U; shares on the device's node with a two-proportion z test.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "probebench/compare.h"
#include "probebench/stats.h"

/* ---- statistics ------------------------------------------------------------------------- */

struct ranked {
	uint64_t v;
	int from_a;
};

static int cmp_ranked(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;
	return a->v < b->v ? -1 : a->v > b->v;
}

int pb_mann_whitney(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, struct pb_mwu *ret)
{
	*ret = (struct pb_mwu){.p = 1};
	if (!na || !nb)
		return 0;
	size_t n = na + nb;
	struct ranked *r = malloc(n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < na; i++)
		r[i] = (struct ranked){a[i], 1};
	for (size_t i = 0; i < nb; i++)
		r[na + i] = (struct ranked){b[i], 0};
	qsort(r, n, sizeof(*r), cmp_ranked);
	double rank_sum_a = 0, ties = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && r[j].v == r[i].v)
			j++;
		double t = (double)(j - i), mid = (double)(i + 1 + j) / 2.0; /* ranks i+1..j */
		for (size_t k = i; k < j; k++)
			if (r[k].from_a)
				rank_sum_a += mid;
		ties += t * t * t - t;
		i = j;
	}
	free(r);
	double n1 = (double)na, n2 = (double)nb, nn = (double)n;
	ret->u = rank_sum_a - n1 * (n1 + 1) / 2.0;
	double mu = n1 * n2 / 2.0;
	double var = n1 * n2 / 12.0 * ((nn + 1) - ties / (nn * (nn - 1)));
	if (var <= 0)
		return 0; /* every value tied: no evidence either way */
	double d = ret->u - mu;
	double cc = d > 0 ? -0.5 : d < 0 ? 0.5 : 0; /* continuity correction towards the mean */
	ret->z = (d + cc) / sqrt(var);
	ret->p = erfc(fabs(ret->z) / sqrt(2.0));
	if (ret->p > 1)
		ret->p = 1;
	ret->valid = true;
	return 0;
}

double pb_two_proportion_p(uint64_t ya, uint64_t na, uint64_t yb, uint64_t nb)
{
	if (!na || !nb)
		return 1;
	double pa = (double)ya / (double)na, pb = (double)yb / (double)nb;
	double pool = (double)(ya + yb) / (double)(na + nb);
	double se = sqrt(pool * (1 - pool) * (1.0 / (double)na + 1.0 / (double)nb));
	if (se <= 0)
		return 1;
	return erfc(fabs(pa - pb) / se / sqrt(2.0));
}

/* ---- series from a record ------------------------------------------------------------------ */

struct series {
	char target[128], placement[32], metric[160];
	uint64_t *v;
	size_t n, cap;
	uint64_t on_yes, on_no; /* probe groups: probes on / off the device's node */
	bool is_probe;
};

struct set {
	struct series *s;
	size_t n, cap;
};

static struct series *series_get(struct set *set, const char *target, const char *placement,
				 const char *metric)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->s[i].target, target) && !strcmp(set->s[i].placement, placement) &&
		    !strcmp(set->s[i].metric, metric))
			return &set->s[i];
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct series *ns = realloc(set->s, cap * sizeof(*ns));
		if (!ns)
			return NULL;
		set->s = ns;
		set->cap = cap;
	}
	struct series *s = &set->s[set->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->target, sizeof(s->target), "%s", target);
	snprintf(s->placement, sizeof(s->placement), "%s", placement);
	snprintf(s->metric, sizeof(s->metric), "%s", metric);
	return s;
}

static int series_add(struct series *s, uint64_t v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		uint64_t *nv = realloc(s->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return 0;
}

static void set_free(struct set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->s[i].v);
	free(set->s);
	*set = (struct set){0};
}

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) &&
		       json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : NULL;
}

/* For the text table: a missing string is shown as "-" (printf's "%s" must not get NULL). */
static const char *str_or_dash(struct json_object *o, const char *key)
{
	const char *s = str_of(o, key);
	return s ? s : "-";
}

static bool num_of(struct json_object *o, const char *key, uint64_t *ret)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return false;
	int64_t x = json_object_get_int64(v);
	if (x < 0)
		return false;
	*ret = (uint64_t)x;
	return true;
}

static int add_value(struct set *set, const char *t, const char *pl, const char *metric,
		     struct json_object *o, const char *key)
{
	uint64_t v;
	if (!num_of(o, key, &v))
		return 0;
	struct series *s = series_get(set, t, pl, metric);
	return s ? series_add(s, v) : -ENOMEM;
}

static int load(struct json_object *rec, struct set *set)
{
	struct json_object *its;
	if (!json_object_object_get_ex(rec, "iterations", &its) ||
	    !json_object_is_type(its, json_type_array))
		return -EINVAL;
	for (size_t i = 0; i < json_object_array_length(its); i++) {
		struct json_object *it = json_object_array_get_idx(its, i), *m, *probes;
		const char *t = str_of(it, "target"), *pl = str_of(it, "placement"),
			   *oc = str_of(it, "outcome");
		if (!t || !pl || !oc || strcmp(oc, "ok"))
			continue;
		int r = add_value(set, t, pl, "bind_ns", it, "bind_ns");
		if (r == 0)
			r = add_value(set, t, pl, "unbind_ns", it, "unbind_ns");
		if (r < 0)
			return r;
		if (!json_object_object_get_ex(it, "measurement", &m) || !m ||
		    !json_object_is_type(m, json_type_object))
			continue;
		if ((r = add_value(set, t, pl, "uevent_kernel_ns", m, "uevent_kernel_ns")) < 0)
			return r;
		if (!json_object_object_get_ex(m, "probes", &probes) ||
		    !json_object_is_type(probes, json_type_array))
			continue;
		for (size_t k = 0; k < json_object_array_length(probes); k++) {
			struct json_object *p = json_object_array_get_idx(probes, k), *on;
			uint64_t depth;
			const char *bus = str_of(p, "bus"), *drv = str_of(p, "driver");
			if (!num_of(p, "depth", &depth))
				continue;
			char metric[160];
			snprintf(metric, sizeof(metric), "probe %s/%s depth %" PRIu64,
				 bus ? bus : "?", drv ? drv : "?", depth);
			struct series *s = series_get(set, t, pl, metric);
			if (!s)
				return -ENOMEM;
			s->is_probe = true;
			uint64_t d;
			if (num_of(p, "duration_ns", &d) && (r = series_add(s, d)) < 0)
				return r;
			if (json_object_object_get_ex(p, "on_device_node", &on) &&
			    json_object_is_type(on, json_type_boolean))
				*(json_object_get_boolean(on) ? &s->on_yes : &s->on_no) += 1;
		}
	}
	return 0;
}

/* ---- the document ------------------------------------------------------------------------ */

/* One side's summary; st NULL when the series is empty. */
static struct json_object *side(size_t n, const struct pb_stats *st)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "N", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "median",
			       st ? json_object_new_int64((int64_t)st->percentile[0]) : NULL);
	json_object_object_add(o, "p90",
			       st ? json_object_new_int64((int64_t)st->percentile[1]) : NULL);
	json_object_object_add(o, "min", st ? json_object_new_int64((int64_t)st->min) : NULL);
	json_object_object_add(o, "max", st ? json_object_new_int64((int64_t)st->max) : NULL);
	return o;
}

static struct json_object *run_info(struct json_object *rec, const char *name)
{
	struct json_object *o = json_object_new_object(), *un;
	json_object_object_add(o, "file", json_object_new_string(name));
	const char *rel =
	    json_object_object_get_ex(rec, "uname", &un) ? str_of(un, "release") : NULL;
	json_object_object_add(o, "kernel", rel ? json_object_new_string(rel) : NULL);
	const char *host = str_of(rec, "host"), *ver = str_of(rec, "tool_version"),
		   *st = str_of(rec, "status");
	json_object_object_add(o, "host", host ? json_object_new_string(host) : NULL);
	json_object_object_add(o, "tool_version", ver ? json_object_new_string(ver) : NULL);
	json_object_object_add(o, "status", st ? json_object_new_string(st) : NULL);
	return o;
}

int pb_compare_runs(struct json_object *base, const char *base_name, struct json_object *cand,
		    const char *cand_name, double alpha, double min_change,
		    struct json_object **ret, char *err, size_t err_size)
{
	struct set A = {0}, B = {0};
	int r = load(base, &A);
	if (r == -EINVAL)
		snprintf(err, err_size, "%s: not a run record (no iterations[])", base_name);
	if (r == 0 && (r = load(cand, &B)) == -EINVAL)
		snprintf(err, err_size, "%s: not a run record (no iterations[])", cand_name);
	if (r < 0)
		goto out;

	/* The lists hang in doc from the start: freeing doc frees everything. */
	struct json_object *doc = json_object_new_object(), *cmp = json_object_new_array(),
			   *shares = json_object_new_array(), *only_a = json_object_new_array(),
			   *only_b = json_object_new_array();
	json_object_object_add(doc, "comparisons", cmp);
	json_object_object_add(doc, "node_shares", shares);
	json_object_object_add(doc, "only_in_baseline", only_a);
	json_object_object_add(doc, "only_in_candidate", only_b);
	json_object_object_add(doc, "schema", json_object_new_string("probebench-compare/1"));
	json_object_object_add(doc, "baseline", run_info(base, base_name));
	json_object_object_add(doc, "candidate", run_info(cand, cand_name));
	json_object_object_add(doc, "alpha", json_object_new_double(alpha));
	json_object_object_add(doc, "min_change", json_object_new_double(min_change));
	json_object_object_add(
	    doc, "method",
	    json_object_new_string(
		"medians (nearest rank) of the ok iterations of each (target, "
		"placement, metric); two-sided Mann-Whitney U, normal "
		"approximation with tie and continuity correction; on-node shares: "
		"two-sided two-proportion z test. The values themselves come from "
		"each record (CLOCK_MONOTONIC around the writes; the observer's "
		"method for probes)."));
	size_t matched = 0;
	for (size_t i = 0; i < A.n; i++) {
		struct series *a = &A.s[i], *b = NULL;
		for (size_t k = 0; k < B.n && !b; k++)
			if (!strcmp(B.s[k].target, a->target) &&
			    !strcmp(B.s[k].placement, a->placement) &&
			    !strcmp(B.s[k].metric, a->metric))
				b = &B.s[k];
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "target", json_object_new_string(a->target));
		json_object_object_add(e, "placement", json_object_new_string(a->placement));
		json_object_object_add(e, "metric", json_object_new_string(a->metric));
		if (!b) {
			json_object_array_add(only_a, e);
			continue;
		}
		matched++;
		json_object_array_add(cmp, e);
		struct pb_stats sa, sb;
		struct pb_mwu t;
		bool ha = a->n > 0, hb = b->n > 0;
		if ((ha && (r = pb_stats_compute(a->v, a->n, &sa)) < 0) ||
		    (hb && (r = pb_stats_compute(b->v, b->n, &sb)) < 0) ||
		    (r = pb_mann_whitney(a->v, a->n, b->v, b->n, &t)) < 0) {
			json_object_put(doc);
			goto out;
		}
		json_object_object_add(e, "baseline", side(a->n, ha ? &sa : NULL));
		json_object_object_add(e, "candidate", side(b->n, hb ? &sb : NULL));
		/* ratio of the medians (candidate / baseline); NAN when undefined */
		double ratio = ha && hb && sa.percentile[0]
				   ? (double)sb.percentile[0] / (double)sa.percentile[0]
				   : NAN;
		json_object_object_add(e, "ratio",
				       isnan(ratio) ? NULL : json_object_new_double(ratio));
		json_object_object_add(e, "u", t.valid ? json_object_new_double(t.u) : NULL);
		json_object_object_add(e, "z", t.valid ? json_object_new_double(t.z) : NULL);
		json_object_object_add(e, "p", json_object_new_double(t.p));
		const char *word = "no significant change";
		if (a->n < 5 || b->n < 5)
			word = "too few samples";
		else if (t.valid && t.p < alpha && !isnan(ratio) && fabs(ratio - 1) >= min_change)
			word = ratio > 1 ? "slower" : "faster";
		else if (t.valid && t.p < alpha)
			word = "no change beyond min_change";
		json_object_object_add(e, "verdict", json_object_new_string(word));
		if (a->is_probe && (a->on_yes + a->on_no) && (b->on_yes + b->on_no)) {
			struct json_object *s = json_object_new_object();
			uint64_t na = a->on_yes + a->on_no, nb = b->on_yes + b->on_no;
			double share_a = (double)a->on_yes / (double)na,
			       share_b = (double)b->on_yes / (double)nb;
			double p = pb_two_proportion_p(a->on_yes, na, b->on_yes, nb);
			json_object_object_add(s, "target", json_object_new_string(a->target));
			json_object_object_add(s, "placement",
					       json_object_new_string(a->placement));
			json_object_object_add(s, "metric", json_object_new_string(a->metric));
			json_object_object_add(s, "baseline_share",
					       json_object_new_double(share_a));
			json_object_object_add(s, "baseline_n", json_object_new_int64((int64_t)na));
			json_object_object_add(s, "candidate_share",
					       json_object_new_double(share_b));
			json_object_object_add(s, "candidate_n",
					       json_object_new_int64((int64_t)nb));
			json_object_object_add(s, "p", json_object_new_double(p));
			json_object_object_add(
			    s, "verdict",
			    json_object_new_string(p < alpha ? (share_b > share_a
								    ? "more on the device's node"
								    : "fewer on the device's node")
							     : "no significant change"));
			json_object_array_add(shares, s);
		}
	}
	for (size_t k = 0; k < B.n; k++) {
		bool found = false;
		for (size_t i = 0; i < A.n && !found; i++)
			found = !strcmp(B.s[k].target, A.s[i].target) &&
				!strcmp(B.s[k].placement, A.s[i].placement) &&
				!strcmp(B.s[k].metric, A.s[i].metric);
		if (found)
			continue;
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "target", json_object_new_string(B.s[k].target));
		json_object_object_add(e, "placement", json_object_new_string(B.s[k].placement));
		json_object_object_add(e, "metric", json_object_new_string(B.s[k].metric));
		json_object_array_add(only_b, e);
	}
	if (!matched) {
		snprintf(err, err_size,
			 "%s and %s share no (target, placement, metric) with ok iterations: "
			 "nothing to compare",
			 base_name, cand_name);
		json_object_put(doc);
		r = -EINVAL;
		goto out;
	}
	*ret = doc;
	r = 0;
out:
	set_free(&A);
	set_free(&B);
	return r;
}

/* ---- the table ---------------------------------------------------------------------------- */

static double num(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return NAN;
	return json_object_get_double(v);
}

static void fmt_ns(char *buf, size_t size, double ns)
{
	if (isnan(ns))
		snprintf(buf, size, "-");
	else if (ns >= 1e9)
		snprintf(buf, size, "%.3f s", ns / 1e9);
	else if (ns >= 1e6)
		snprintf(buf, size, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, size, "%.1f us", ns / 1e3);
}

void pb_compare_print(FILE *f, struct json_object *doc)
{
	struct json_object *b, *c, *arr;
	json_object_object_get_ex(doc, "baseline", &b);
	json_object_object_get_ex(doc, "candidate", &c);
	fprintf(f, "baseline:  %s (kernel %s)\ncandidate: %s (kernel %s)\n", str_or_dash(b, "file"),
		str_of(b, "kernel") ? str_of(b, "kernel") : "?", str_or_dash(c, "file"),
		str_of(c, "kernel") ? str_of(c, "kernel") : "?");
	fprintf(f, "%-22s %-9s %-34s %5s %11s %11s %7s %9s  %s\n", "target", "placement", "metric",
		"N", "base p50", "cand p50", "ratio", "p", "verdict");
	json_object_object_get_ex(doc, "comparisons", &arr);
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *sa, *sb;
		json_object_object_get_ex(e, "baseline", &sa);
		json_object_object_get_ex(e, "candidate", &sb);
		char ma[24], mb[24], n[24];
		fmt_ns(ma, sizeof(ma), num(sa, "median"));
		fmt_ns(mb, sizeof(mb), num(sb, "median"));
		snprintf(n, sizeof(n), "%.0f/%.0f", num(sa, "N"), num(sb, "N"));
		double ratio = num(e, "ratio");
		fprintf(f, "%-22.22s %-9.9s %-34.34s %5s %11s %11s ", str_or_dash(e, "target"),
			str_or_dash(e, "placement"), str_or_dash(e, "metric"), n, ma, mb);
		if (isnan(ratio))
			fprintf(f, "%7s", "-");
		else
			fprintf(f, "%7.3f", ratio);
		fprintf(f, " %9.2g  %s\n", num(e, "p"), str_or_dash(e, "verdict"));
	}
	json_object_object_get_ex(doc, "node_shares", &arr);
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		fprintf(f,
			"on the device's node: %s %s %s: %.0f%% of %.0f -> %.0f%% of %.0f (p %.2g) "
			"%s\n",
			str_of(e, "target"), str_of(e, "placement"), str_of(e, "metric"),
			100 * num(e, "baseline_share"), num(e, "baseline_n"),
			100 * num(e, "candidate_share"), num(e, "candidate_n"), num(e, "p"),
			str_of(e, "verdict"));
	}
	static const char *const only[] = {"only_in_baseline", "only_in_candidate"};
	for (int k = 0; k < 2; k++) {
		json_object_object_get_ex(doc, only[k], &arr);
		for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
			struct json_object *e = json_object_array_get_idx(arr, i);
			fprintf(f, "%s: %s %s %s\n",
				k ? "only in the candidate" : "only in the baseline",
				str_of(e, "target"), str_of(e, "placement"), str_of(e, "metric"));
		}
	}
	fprintf(f, "method: %s\n", str_of(doc, "method"));
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Comparing two run records: series matched by (target, placement, metric), medians, ratio,
 * Mann-Whitney U; shares on the device's node with Fisher's exact test (compare_stats.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "probebench/compare.h"
#include "probebench/record.h"
#include "probebench/stats.h"

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

static int add_value(struct set *set, const char *t, const char *pl, const char *metric, uint64_t v)
{
	struct series *s = series_get(set, t, pl, metric);
	return s ? series_add(s, v) : -ENOMEM;
}

/* The probe facts of an iteration that count, as in the run's own summaries: facts of windows
 * that lost records, or whose bind succeeded while the method saw no probe, are left out (lossy
 * ones kept when the run said so). NULL: none. */
static const struct pb_iteration_facts *counted_facts(const struct pb_run_record *rec,
						      const struct pb_record_iteration *it)
{
	const struct pb_measurement *m = it->measurement;
	if (!pb_measurement_has_facts(m) || m->missing_probe[0] ||
	    (!rec->options.include_lossy && m->facts.lost_records > 0))
		return NULL;
	return &m->facts;
}

static int load(const struct pb_run_record *rec, struct set *set)
{
	for (size_t i = 0; i < rec->n_iterations; i++) {
		const struct pb_record_iteration *it = &rec->iterations[i];
		if (it->res.outcome != PB_CYCLE_OK)
			continue;
		const char *t = rec->targets[it->target].t.name,
			   *pl = rec->placements[it->placement].label;
		int r = add_value(set, t, pl, "bind_ns", it->res.bind_ns);
		if (r == 0)
			r = add_value(set, t, pl, "unbind_ns", it->res.unbind_ns);
		if (r < 0)
			return r;
		const struct pb_iteration_facts *f = counted_facts(rec, it);
		if (!f)
			continue;
		if (f->uevent_kernel_ns >= 0 && (r = add_value(set, t, pl, "uevent_kernel_ns",
							       (uint64_t)f->uevent_kernel_ns)) < 0)
			return r;
		for (size_t k = 0; k < f->n_probes; k++) {
			const struct pb_probe_fact *p = &f->probes[k];
			char metric[160];
			snprintf(metric, sizeof(metric), "probe %s/%s depth %d",
				 p->bus[0] ? p->bus : "?", p->driver[0] ? p->driver : "?",
				 p->depth);
			struct series *s = series_get(set, t, pl, metric);
			if (!s)
				return -ENOMEM;
			s->is_probe = true;
			if ((r = series_add(s, p->duration_ns)) < 0)
				return r;
			if (p->on_device_node >= 0)
				*(p->on_device_node ? &s->on_yes : &s->on_no) += 1;
		}
	}
	return 0;
}

/* ---- the comparison ------------------------------------------------------------------------ */

static void run_info(const struct pb_run_record *rec, const char *name, struct pb_compare_run *o)
{
	snprintf(o->file, sizeof(o->file), "%s", name);
	snprintf(o->kernel, sizeof(o->kernel), "%s", rec->kernel_release);
	snprintf(o->host, sizeof(o->host), "%s", rec->host);
	snprintf(o->tool_version, sizeof(o->tool_version), "%s", rec->tool_version);
	snprintf(o->status, sizeof(o->status), "%s", rec->status);
}

static void key_of(const struct series *s, struct pb_compare_key *k)
{
	snprintf(k->target, sizeof(k->target), "%s", s->target);
	snprintf(k->placement, sizeof(k->placement), "%s", s->placement);
	snprintf(k->metric, sizeof(k->metric), "%s", s->metric);
}

static const struct series *find_series(const struct set *set, const struct series *like)
{
	for (size_t k = 0; k < set->n; k++)
		if (!strcmp(set->s[k].target, like->target) &&
		    !strcmp(set->s[k].placement, like->placement) &&
		    !strcmp(set->s[k].metric, like->metric))
			return &set->s[k];
	return NULL;
}

static int compare_pair(struct pb_compare *c, const struct series *a, const struct series *b)
{
	struct pb_compare_entry *e = &c->entries[c->n_entries++];
	key_of(a, &e->key);
	e->n_base = a->n;
	e->n_cand = b->n;
	int r;
	if ((a->n && (r = pb_stats_compute(a->v, a->n, &e->base)) < 0) ||
	    (b->n && (r = pb_stats_compute(b->v, b->n, &e->cand)) < 0) ||
	    (r = pb_mann_whitney(a->v, a->n, b->v, b->n, &e->mwu)) < 0)
		return r;
	e->ratio = a->n && b->n && e->base.percentile[0]
		       ? (double)e->cand.percentile[0] / (double)e->base.percentile[0]
		       : NAN;
	const struct pb_mwu *t = &e->mwu;
	e->verdict = "no significant change";
	if (a->n < 5 || b->n < 5)
		e->verdict = "too few samples";
	else if (t->valid && t->p < c->alpha && !isnan(e->ratio) &&
		 fabs(e->ratio - 1) >= c->min_change)
		e->verdict = e->ratio > 1 ? "slower" : "faster";
	else if (t->valid && t->p < c->alpha)
		e->verdict = "no change beyond min_change";
	uint64_t na = a->on_yes + a->on_no, nb = b->on_yes + b->on_no;
	if (!a->is_probe || !na || !nb)
		return 0;
	struct pb_compare_share *s = &c->shares[c->n_shares++];
	s->key = e->key;
	s->base_yes = a->on_yes;
	s->base_n = na;
	s->cand_yes = b->on_yes;
	s->cand_n = nb;
	s->p = pb_fisher_exact_p(a->on_yes, a->on_no, b->on_yes, b->on_no);
	double share_a = (double)a->on_yes / (double)na, share_b = (double)b->on_yes / (double)nb;
	s->verdict = s->p < c->alpha ? (share_b > share_a ? "more on the device's node"
							  : "fewer on the device's node")
				     : "no significant change";
	return 0;
}

int pb_compare_runs(const struct pb_run_record *base, const char *base_name,
		    const struct pb_run_record *cand, const char *cand_name, double alpha,
		    double min_change, struct pb_compare **ret, char *err, size_t err_size)
{
	struct set A = {0}, B = {0};
	struct pb_compare *c = calloc(1, sizeof(*c));
	*ret = NULL;
	int r = c ? load(base, &A) : -ENOMEM;
	if (r == 0)
		r = load(cand, &B);
	if (r == 0) {
		size_t n = A.n + B.n + 1;
		c->entries = calloc(n, sizeof(*c->entries));
		c->shares = calloc(n, sizeof(*c->shares));
		c->only_base = calloc(n, sizeof(*c->only_base));
		c->only_cand = calloc(n, sizeof(*c->only_cand));
		if (!c->entries || !c->shares || !c->only_base || !c->only_cand)
			r = -ENOMEM;
	}
	if (r < 0)
		goto out;
	c->alpha = alpha;
	c->min_change = min_change;
	run_info(base, base_name, &c->base);
	run_info(cand, cand_name, &c->cand);
	for (size_t i = 0; r == 0 && i < A.n; i++) {
		const struct series *b = find_series(&B, &A.s[i]);
		if (b)
			r = compare_pair(c, &A.s[i], b);
		else
			key_of(&A.s[i], &c->only_base[c->n_only_base++]);
	}
	for (size_t k = 0; r == 0 && k < B.n; k++)
		if (!find_series(&A, &B.s[k]))
			key_of(&B.s[k], &c->only_cand[c->n_only_cand++]);
	if (r == 0 && !c->n_entries) {
		snprintf(err, err_size,
			 "%s and %s share no (target, placement, metric) with ok iterations: "
			 "nothing to compare",
			 base_name, cand_name);
		r = -EINVAL;
	}
out:
	set_free(&A);
	set_free(&B);
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, err_size, "out of memory");
		pb_compare_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void pb_compare_free(struct pb_compare *c)
{
	if (!c)
		return;
	free(c->entries);
	free(c->shares);
	free(c->only_base);
	free(c->only_cand);
	free(c);
}

/* ---- the document ------------------------------------------------------------------------ */

static struct json_object *str_or_null(const char *s)
{
	return s[0] ? json_object_new_string(s) : NULL;
}

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

static struct json_object *run_json(const struct pb_compare_run *r)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "file", json_object_new_string(r->file));
	json_object_object_add(o, "kernel", str_or_null(r->kernel));
	json_object_object_add(o, "host", str_or_null(r->host));
	json_object_object_add(o, "tool_version", str_or_null(r->tool_version));
	json_object_object_add(o, "status", str_or_null(r->status));
	return o;
}

static struct json_object *key_json(const struct pb_compare_key *k)
{
	struct json_object *e = json_object_new_object();
	json_object_object_add(e, "target", json_object_new_string(k->target));
	json_object_object_add(e, "placement", json_object_new_string(k->placement));
	json_object_object_add(e, "metric", json_object_new_string(k->metric));
	return e;
}

static const char *const method_text =
    "medians (nearest rank) of the ok iterations of each (target, placement, metric); "
    "two-sided Mann-Whitney U, exact when both sides have fewer than 50 values and none is "
    "tied, else the normal approximation with tie and continuity correction; "
    "on-node shares: two-sided Fisher exact test. The values themselves come from each "
    "record (CLOCK_MONOTONIC around the writes; the observer's method for probes).";

struct json_object *pb_compare_to_json(const struct pb_compare *c)
{
	struct json_object *doc = json_object_new_object(), *cmp = json_object_new_array(),
			   *shares = json_object_new_array(), *only_a = json_object_new_array(),
			   *only_b = json_object_new_array();
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct pb_compare_entry *x = &c->entries[i];
		struct json_object *e = key_json(&x->key);
		json_object_object_add(e, "baseline", side(x->n_base, x->n_base ? &x->base : NULL));
		json_object_object_add(e, "candidate",
				       side(x->n_cand, x->n_cand ? &x->cand : NULL));
		json_object_object_add(e, "ratio",
				       isnan(x->ratio) ? NULL : json_object_new_double(x->ratio));
		json_object_object_add(e, "u",
				       x->mwu.valid ? json_object_new_double(x->mwu.u) : NULL);
		json_object_object_add(e, "z",
				       x->mwu.valid ? json_object_new_double(x->mwu.z) : NULL);
		json_object_object_add(e, "p", json_object_new_double(x->mwu.p));
		json_object_object_add(e, "verdict", json_object_new_string(x->verdict));
		json_object_array_add(cmp, e);
	}
	for (size_t i = 0; i < c->n_shares; i++) {
		const struct pb_compare_share *x = &c->shares[i];
		struct json_object *s = key_json(&x->key);
		json_object_object_add(
		    s, "baseline_share",
		    json_object_new_double((double)x->base_yes / (double)x->base_n));
		json_object_object_add(s, "baseline_n", json_object_new_int64((int64_t)x->base_n));
		json_object_object_add(
		    s, "candidate_share",
		    json_object_new_double((double)x->cand_yes / (double)x->cand_n));
		json_object_object_add(s, "candidate_n", json_object_new_int64((int64_t)x->cand_n));
		json_object_object_add(s, "p", json_object_new_double(x->p));
		json_object_object_add(s, "verdict", json_object_new_string(x->verdict));
		json_object_array_add(shares, s);
	}
	for (size_t i = 0; i < c->n_only_base; i++)
		json_object_array_add(only_a, key_json(&c->only_base[i]));
	for (size_t i = 0; i < c->n_only_cand; i++)
		json_object_array_add(only_b, key_json(&c->only_cand[i]));
	json_object_object_add(doc, "comparisons", cmp);
	json_object_object_add(doc, "node_shares", shares);
	json_object_object_add(doc, "only_in_baseline", only_a);
	json_object_object_add(doc, "only_in_candidate", only_b);
	json_object_object_add(doc, "schema", json_object_new_string("probebench-compare/1"));
	json_object_object_add(doc, "baseline", run_json(&c->base));
	json_object_object_add(doc, "candidate", run_json(&c->cand));
	json_object_object_add(doc, "alpha", json_object_new_double(c->alpha));
	json_object_object_add(doc, "min_change", json_object_new_double(c->min_change));
	json_object_object_add(doc, "method", json_object_new_string(method_text));
	return doc;
}

/* ---- the table ---------------------------------------------------------------------------- */

static const char *or_q(const char *s)
{
	return s[0] ? s : "?";
}

static void fmt_ns(char *buf, size_t size, bool known, uint64_t ns)
{
	if (!known)
		snprintf(buf, size, "-");
	else if (ns >= 1000000000ull)
		snprintf(buf, size, "%.3f s", (double)ns / 1e9);
	else if (ns >= 1000000ull)
		snprintf(buf, size, "%.2f ms", (double)ns / 1e6);
	else
		snprintf(buf, size, "%.1f us", (double)ns / 1e3);
}

void pb_compare_print(FILE *f, const struct pb_compare *c)
{
	fprintf(f, "baseline:  %s (kernel %s)\ncandidate: %s (kernel %s)\n", or_q(c->base.file),
		or_q(c->base.kernel), or_q(c->cand.file), or_q(c->cand.kernel));
	fprintf(f, "%-22s %-9s %-34s %5s %11s %11s %7s %9s  %s\n", "target", "placement", "metric",
		"N", "base p50", "cand p50", "ratio", "p", "verdict");
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct pb_compare_entry *e = &c->entries[i];
		char ma[24], mb[24], n[48];
		fmt_ns(ma, sizeof(ma), e->n_base > 0, e->base.percentile[0]);
		fmt_ns(mb, sizeof(mb), e->n_cand > 0, e->cand.percentile[0]);
		snprintf(n, sizeof(n), "%zu/%zu", e->n_base, e->n_cand);
		fprintf(f, "%-22.22s %-9.9s %-34.34s %5s %11s %11s ", e->key.target,
			e->key.placement, e->key.metric, n, ma, mb);
		if (isnan(e->ratio))
			fprintf(f, "%7s", "-");
		else
			fprintf(f, "%7.3f", e->ratio);
		fprintf(f, " %9.2g  %s\n", e->mwu.p, e->verdict);
	}
	for (size_t i = 0; i < c->n_shares; i++) {
		const struct pb_compare_share *e = &c->shares[i];
		fprintf(f,
			"on the device's node: %s %s %s: %.0f%% of %" PRIu64
			" -> %.0f%% of %" PRIu64 " (p %.2g) %s\n",
			e->key.target, e->key.placement, e->key.metric,
			100.0 * (double)e->base_yes / (double)e->base_n, e->base_n,
			100.0 * (double)e->cand_yes / (double)e->cand_n, e->cand_n, e->p,
			e->verdict);
	}
	for (size_t i = 0; i < c->n_only_base; i++)
		fprintf(f, "only in the baseline: %s %s %s\n", c->only_base[i].target,
			c->only_base[i].placement, c->only_base[i].metric);
	for (size_t i = 0; i < c->n_only_cand; i++)
		fprintf(f, "only in the candidate: %s %s %s\n", c->only_cand[i].target,
			c->only_cand[i].placement, c->only_cand[i].metric);
	fprintf(f, "method: %s\n", method_text);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Comparing run records, one or more a side: series matched by (target, placement, metric,
 * method) and pooled over a side's records, medians, ratio, Mann-Whitney U, Hodges-Lehmann
 * shift, the spread between records apart from the spread within; shares on the device's node
 * with Fisher's exact test; Holm's adjustment over each family of tests. The tests themselves:
 * compare_stats.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "probebench/compare.h"
#include "probebench/run.h"
#include "probebench/record.h"
#include "probebench/stats.h"

/* ---- series from the records of a side ------------------------------------------------------ */

struct series {
	struct pb_compare_key key;
	uint64_t *v; /* pooled, record after record */
	size_t n, cap;
	size_t *per_record;	    /* how many of v each record of the side gave */
	uint64_t on_yes, on_no;	    /* probe groups: probes on / off the device's node */
	uint64_t *rec_yes, *rec_no; /* the same, per record of the side */
	uint64_t by_node[PB_MEASURE_MAX_NODES]; /* probe groups: probes by the node of their CPU */
	bool is_probe;
};

/* Iterations of a (target, placement) left out; lossy and missing_probe by the method. */
struct dropped {
	char target[128], placement[32], method[16];
	uint64_t not_ok, lossy, missing_probe;
};

struct set {
	struct series *s;
	size_t n, cap;
	size_t *index, index_cap; /* open addressing: series number + 1, 0 free; a power of two */
	size_t n_records, record; /* records of the side; the one being read */
	struct dropped *d;
	size_t n_d, cap_d;
};

static void key_set(struct pb_compare_key *k, const char *target, const char *placement,
		    const char *metric, const char *method)
{
	snprintf(k->target, sizeof(k->target), "%s", target);
	snprintf(k->placement, sizeof(k->placement), "%s", placement);
	snprintf(k->metric, sizeof(k->metric), "%s", metric);
	snprintf(k->method, sizeof(k->method), "%s", method);
}

static bool key_eq(const struct pb_compare_key *a, const struct pb_compare_key *b)
{
	return !strcmp(a->target, b->target) && !strcmp(a->placement, b->placement) &&
	       !strcmp(a->metric, b->metric) && !strcmp(a->method, b->method);
}

/* Grows *v (of *cap elements of size) to hold one more than n; -ENOMEM. */
static int grow(void **v, size_t *cap, size_t n, size_t size, size_t first)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : first;
	void *nv = realloc(*v, c * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

/* FNV-1a over the key's four strings: a record can hold tens of thousands of series. */
static size_t key_hash(const struct pb_compare_key *k)
{
	const char *parts[] = {k->target, k->placement, k->metric, k->method};
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < 4; i++) {
		for (const char *c = parts[i]; *c; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull; /* between the parts */
	}
	return (size_t)h;
}

static const struct series *find_series(const struct set *set, const struct pb_compare_key *k)
{
	if (!set->index_cap)
		return NULL;
	for (size_t i = key_hash(k) & (set->index_cap - 1);; i = (i + 1) & (set->index_cap - 1)) {
		size_t e = set->index[i];
		if (!e)
			return NULL;
		if (key_eq(&set->s[e - 1].key, k))
			return &set->s[e - 1];
	}
}

/* Puts series number n in the index, which grows to stay at most half full. -ENOMEM. */
static int index_add(struct set *set, size_t n)
{
	if (2 * (set->n + 1) > set->index_cap) {
		size_t cap = set->index_cap ? 2 * set->index_cap : 64;
		size_t *v = calloc(cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		free(set->index);
		set->index = v;
		set->index_cap = cap;
		for (size_t j = 0; j < set->n; j++) /* the series before n */
			if (j != n && index_add(set, j) < 0)
				return -ENOMEM;
	}
	size_t i = key_hash(&set->s[n].key) & (set->index_cap - 1);
	while (set->index[i])
		i = (i + 1) & (set->index_cap - 1);
	set->index[i] = n + 1;
	return 0;
}

static struct series *series_get(struct set *set, const struct pb_compare_key *k)
{
	struct series *s = (struct series *)find_series(set, k);
	if (s)
		return s;
	if (grow((void **)&set->s, &set->cap, set->n, sizeof(*set->s), 16) < 0)
		return NULL;
	s = &set->s[set->n];
	memset(s, 0, sizeof(*s));
	if (!(s->per_record = calloc(set->n_records, sizeof(*s->per_record))) ||
	    !(s->rec_yes = calloc(set->n_records, sizeof(*s->rec_yes))) ||
	    !(s->rec_no = calloc(set->n_records, sizeof(*s->rec_no)))) {
		free(s->per_record);
		free(s->rec_yes);
		return NULL;
	}
	s->key = *k;
	if (index_add(set, set->n) < 0)
		return NULL;
	set->n++;
	return s;
}

static int series_add(struct set *set, struct series *s, uint64_t v)
{
	if (grow((void **)&s->v, &s->cap, s->n, sizeof(*s->v), 32) < 0)
		return -ENOMEM;
	s->v[s->n++] = v;
	s->per_record[set->record]++;
	return 0;
}

static struct dropped *dropped_get(struct set *set, const char *target, const char *placement,
				   const char *method)
{
	for (size_t i = 0; i < set->n_d; i++)
		if (!strcmp(set->d[i].target, target) && !strcmp(set->d[i].placement, placement) &&
		    !strcmp(set->d[i].method, method))
			return &set->d[i];
	if (grow((void **)&set->d, &set->cap_d, set->n_d, sizeof(*set->d), 8) < 0)
		return NULL;
	struct dropped *d = &set->d[set->n_d++];
	memset(d, 0, sizeof(*d));
	snprintf(d->target, sizeof(d->target), "%s", target);
	snprintf(d->placement, sizeof(d->placement), "%s", placement);
	snprintf(d->method, sizeof(d->method), "%s", method);
	return d;
}

static void set_free(struct set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->s[i].v);
		free(set->s[i].per_record);
		free(set->s[i].rec_yes);
		free(set->s[i].rec_no);
	}
	free(set->s);
	free(set->index);
	free(set->d);
	*set = (struct set){0};
}

static int add_value(struct set *set, const char *t, const char *pl, const char *metric, uint64_t v)
{
	struct pb_compare_key k;
	key_set(&k, t, pl, metric, "");
	struct series *s = series_get(set, &k);
	return s ? series_add(set, s, v) : -ENOMEM;
}

/* The probe facts of an iteration that count, as in the run's own summaries: facts of windows
 * that lost records, or whose bind succeeded while the method saw no probe, are left out (lossy
 * ones kept when the run said so) and counted. NULL: none. */
static const struct pb_iteration_facts *counted_facts(const struct pb_run_record *rec,
						      const struct pb_record_iteration *it,
						      struct dropped *d)
{
	const struct pb_measurement *m = it->measurement;
	if (!pb_measurement_has_facts(m))
		return NULL;
	if (m->missing_probe[0]) {
		d->missing_probe++;
		return NULL;
	}
	if (!rec->options.include_lossy && m->facts.lost_records > 0) {
		d->lossy++;
		return NULL;
	}
	return &m->facts;
}

/* The method a probe was measured by: its own, else its iteration's (older records). */
static const char *probe_method(const struct pb_iteration_facts *f, const struct pb_probe_fact *p)
{
	return pb_measure_method_name(p->method != PB_METHOD_AUTO ? p->method : f->method);
}

static int add_probe(struct set *set, const char *t, const char *pl,
		     const struct pb_iteration_facts *f, const struct pb_probe_fact *p)
{
	struct pb_compare_key k;
	char metric[160];
	snprintf(metric, sizeof(metric), "probe %s/%s depth %d", p->bus[0] ? p->bus : "?",
		 p->driver[0] ? p->driver : "?", p->depth);
	key_set(&k, t, pl, metric, probe_method(f, p));
	struct series *s = series_get(set, &k);
	if (!s)
		return -ENOMEM;
	s->is_probe = true;
	int r = series_add(set, s, p->duration_ns);
	if (r < 0)
		return r;
	if (p->on_device_node > 0) {
		s->on_yes++;
		s->rec_yes[set->record]++;
	} else if (p->on_device_node == 0) {
		s->on_no++;
		s->rec_no[set->record]++;
	}
	if (p->node >= 0 && p->node < PB_MEASURE_MAX_NODES)
		s->by_node[p->node]++;
	return 0;
}

static int load(const struct pb_run_record *rec, struct set *set)
{
	for (size_t i = 0; i < rec->n_iterations; i++) {
		const struct pb_record_iteration *it = &rec->iterations[i];
		const char *t = rec->targets[it->target].t.name,
			   *pl = rec->placements[it->placement].label;
		struct dropped *d =
		    dropped_get(set, t, pl,
				it->measurement && pb_measurement_has_facts(it->measurement)
				    ? pb_measure_method_name(it->measurement->facts.method)
				    : "");
		if (!d)
			return -ENOMEM;
		if (it->res.outcome != PB_CYCLE_OK) {
			d->not_ok++;
			continue;
		}
		int r = add_value(set, t, pl, "bind_ns", it->res.bind_ns);
		if (r == 0)
			r = add_value(set, t, pl, "unbind_ns", it->res.unbind_ns);
		if (r < 0)
			return r;
		const struct pb_iteration_facts *f = counted_facts(rec, it, d);
		if (!f)
			continue;
		if (f->uevent_kernel_ns >= 0 && (r = add_value(set, t, pl, "uevent_kernel_ns",
							       (uint64_t)f->uevent_kernel_ns)) < 0)
			return r;
		for (size_t k = 0; k < f->n_probes; k++)
			if ((r = add_probe(set, t, pl, f, &f->probes[k])) < 0)
				return r;
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
	snprintf(o->entry, sizeof(o->entry), "%s", pb_entry_name(rec->options.entry));
}

/* Iterations of s's (target, placement) left out of it: not ok for every series; lossy and
 * missing a probe for the observer's (uevent: any method; probes: theirs). */
static void left_out(const struct set *set, const struct series *s, struct pb_compare_spread *o)
{
	bool observed = s->is_probe || !strcmp(s->key.metric, "uevent_kernel_ns");
	for (size_t i = 0; i < set->n_d; i++) {
		const struct dropped *d = &set->d[i];
		if (strcmp(d->target, s->key.target) || strcmp(d->placement, s->key.placement))
			continue;
		o->not_ok += d->not_ok;
		if (observed && (!s->is_probe || !strcmp(d->method, s->key.method))) {
			o->lossy += d->lossy;
			o->missing_probe += d->missing_probe;
		}
	}
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/*
 * The records of a side apart: each record's median, and the one-way random-effects analysis
 * of variance with the records as groups (pb_anova_between_share()).
 */
static int spread(const struct set *set, const struct series *s, struct pb_compare_spread *o)
{
	*o = (struct pb_compare_spread){.sd_between = NAN, .sd_within = NAN, .between_share = NAN};
	left_out(set, s, o);
	size_t k = set->n_records;
	o->record_median = malloc((k ? k : 1) * sizeof(*o->record_median));
	uint64_t *tmp = malloc((s->n ? s->n : 1) * sizeof(*tmp));
	double *mean = calloc(k ? k : 1, sizeof(*mean)), *ss = calloc(k ? k : 1, sizeof(*ss));
	int r = o->record_median && tmp && mean && ss ? 0 : -ENOMEM;
	size_t off = 0;
	for (size_t i = 0; r == 0 && i < k; i++) {
		size_t n = s->per_record[i];
		o->record_median[i] = -1;
		if (!n)
			continue;
		memcpy(tmp, s->v + off, n * sizeof(*tmp));
		qsort(tmp, n, sizeof(*tmp), cmp_u64);
		o->record_median[i] = (int64_t)pb_stats_percentile_sorted(tmp, n, 50);
		for (size_t j = 0; j < n; j++)
			mean[i] += (double)tmp[j] / (double)n;
		for (size_t j = 0; j < n; j++)
			ss[i] += ((double)tmp[j] - mean[i]) * ((double)tmp[j] - mean[i]);
		o->records++;
		off += n;
	}
	if (r == 0)
		o->between_share = pb_anova_between_share(s->per_record, mean, ss, k,
							  &o->sd_between, &o->sd_within);
	free(tmp);
	free(mean);
	free(ss);
	return r;
}

/* The between-record share of a probe series' on/off-node outcomes (0/1 per probe): a record's
 * mean is its share, its squared deviations n p (1 - p). *records: records with outcomes. */
static double share_between(const struct set *set, const struct series *s, size_t *records)
{
	size_t k = set->n_records;
	size_t *n = calloc(k ? k : 1, sizeof(*n));
	double *mean = calloc(k ? k : 1, sizeof(*mean)), *ss = calloc(k ? k : 1, sizeof(*ss));
	double share = NAN;
	*records = 0;
	if (n && mean && ss) {
		for (size_t i = 0; i < k; i++) {
			n[i] = (size_t)(s->rec_yes[i] + s->rec_no[i]);
			if (!n[i])
				continue;
			mean[i] = (double)s->rec_yes[i] / (double)n[i];
			ss[i] = (double)n[i] * mean[i] * (1 - mean[i]);
			(*records)++;
		}
		share = pb_anova_between_share(n, mean, ss, k, NULL, NULL);
	}
	free(n);
	free(mean);
	free(ss);
	return share;
}

/* Kish's design effect 1 + (m - 1) ICC of two sides' clustered samples: the larger of the two
 * between-record shares (an undefined one counts as none), m the mean record size; 1 when a
 * side has fewer than two records (its boot-to-boot variance is not known: said in the doc). */
static double kish(double share_a, size_t records_a, double share_b, size_t records_b, uint64_t n)
{
	if (records_a < 2 || records_b < 2)
		return 1;
	double icc = 0;
	if (!isnan(share_a) && share_a > icc)
		icc = share_a;
	if (!isnan(share_b) && share_b > icc)
		icc = share_b;
	double m = (double)n / (double)(records_a + records_b);
	return m > 1 ? 1 + (m - 1) * icc : 1;
}

static int commonest_node(const struct series *s)
{
	int best = -1;
	for (int i = 0; i < PB_MEASURE_MAX_NODES; i++)
		if (s->by_node[i] && (best < 0 || s->by_node[i] > s->by_node[best]))
			best = i;
	return best;
}

/*
 * With two or more records a side the iterations of one boot share that boot: pooled, they
 * are fewer independent samples than they look (identical sides were called different in one
 * A/B round of three). Kish's design effect from the records' spread.
 */
static double design_effect(const struct pb_compare_entry *e)
{
	const struct pb_compare_spread *x = &e->spread_base, *y = &e->spread_cand;
	return kish(x->between_share, x->records, y->between_share, y->records,
		    e->n_base + e->n_cand);
}

static int compare_pair(struct pb_compare *c, const struct set *A, const struct series *a,
			const struct set *B, const struct series *b)
{
	struct pb_compare_entry *e = &c->entries[c->n_entries++];
	e->key = a->key;
	e->n_base = a->n;
	e->n_cand = b->n;
	e->node_base = commonest_node(a);
	e->node_cand = commonest_node(b);
	int r;
	if ((a->n && (r = pb_stats_compute(a->v, a->n, &e->base)) < 0) ||
	    (b->n && (r = pb_stats_compute(b->v, b->n, &e->cand)) < 0) ||
	    (r = pb_mann_whitney(a->v, a->n, b->v, b->n, &e->mwu)) < 0 ||
	    (r = pb_hodges_lehmann(a->v, a->n, b->v, b->n, c->ci_level, &e->hl)) < 0 ||
	    (r = spread(A, a, &e->spread_base)) < 0 || (r = spread(B, b, &e->spread_cand)) < 0)
		return r;
	e->design_effect = design_effect(e);
	pb_mwu_clustered(&e->mwu, &e->hl, e->design_effect);
	e->p_adjusted = e->mwu.p;
	e->ratio = a->n && b->n && e->base.percentile[0]
		       ? (double)e->cand.percentile[0] / (double)e->base.percentile[0]
		       : NAN;
	uint64_t na = a->on_yes + a->on_no, nb = b->on_yes + b->on_no;
	if (!a->is_probe || !na || !nb)
		return 0;
	struct pb_compare_share *s = &c->shares[c->n_shares++];
	s->key = e->key;
	s->base_yes = a->on_yes;
	s->base_n = na;
	s->cand_yes = b->on_yes;
	s->cand_n = nb;
	/* a boot's probes share it too: the same correction as for durations, from the records'
	 * on-node shares */
	size_t ra, rb;
	double sa = share_between(A, a, &ra), sb = share_between(B, b, &rb);
	s->design_effect = kish(sa, ra, sb, rb, na + nb);
	s->p = pb_fisher_clustered_p(a->on_yes, a->on_no, b->on_yes, b->on_no, s->design_effect);
	return 0;
}

/* Holm over the defined duration tests, then over the share tests; the verdicts from them. */
static int adjust_and_judge(struct pb_compare *c)
{
	size_t n = c->n_entries > c->n_shares ? c->n_entries : c->n_shares, m = 0;
	double *p = calloc(n + 1, sizeof(*p)), *adj = calloc(n + 1, sizeof(*adj));
	size_t *which = calloc(n + 1, sizeof(*which));
	int r = p && adj && which ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < c->n_entries; i++)
		if (c->entries[i].mwu.valid) {
			which[m] = i;
			p[m++] = c->entries[i].mwu.p;
		}
	if (r == 0 && (r = pb_holm_adjust(p, m, adj)) == 0)
		for (size_t i = 0; i < m; i++)
			c->entries[which[i]].p_adjusted = adj[i];
	for (size_t i = 0; r == 0 && i < c->n_shares; i++)
		p[i] = c->shares[i].p;
	if (r == 0 && (r = pb_holm_adjust(p, c->n_shares, adj)) == 0)
		for (size_t i = 0; i < c->n_shares; i++)
			c->shares[i].p_adjusted = adj[i];
	free(p);
	free(adj);
	free(which);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_entries; i++) {
		struct pb_compare_entry *e = &c->entries[i];
		bool sig = e->mwu.valid && e->p_adjusted < c->alpha;
		e->verdict = "no significant change";
		if (e->n_base < 5 || e->n_cand < 5)
			e->verdict = "too few samples";
		else if (sig && !isnan(e->ratio) && fabs(e->ratio - 1) >= c->min_change)
			e->verdict = e->ratio > 1 ? "slower" : "faster";
		else if (sig)
			e->verdict = "no change beyond min_change";
	}
	for (size_t i = 0; i < c->n_shares; i++) {
		struct pb_compare_share *s = &c->shares[i];
		double share_a = (double)s->base_yes / (double)s->base_n,
		       share_b = (double)s->cand_yes / (double)s->cand_n;
		s->verdict = s->p_adjusted < c->alpha
				 ? (share_b > share_a ? "more on the device's node"
						      : "fewer on the device's node")
				 : "no significant change";
	}
	return 0;
}

/* Reads the records of one side into set. */
static int load_side(const struct pb_run_record *const *recs, const char *const *names, size_t n,
		     struct set *set, struct pb_compare_run **runs)
{
	set->n_records = n;
	if (!(*runs = calloc(n, sizeof(**runs))))
		return -ENOMEM;
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		run_info(recs[i], names[i], &(*runs)[i]);
		set->record = i;
		r = load(recs[i], set);
	}
	return r;
}

static void names_of(char *buf, size_t size, const char *const *names, size_t n)
{
	size_t len = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", names[i]);
}

int pb_compare_records(const struct pb_run_record *const *base, const char *const *base_names,
		       size_t n_base, const struct pb_run_record *const *cand,
		       const char *const *cand_names, size_t n_cand, double alpha,
		       double min_change, struct pb_compare **ret, char *err, size_t err_size)
{
	struct set A = {0}, B = {0};
	*ret = NULL;
	if (!n_base || !n_cand) {
		snprintf(err, err_size, "the %s has no run record",
			 n_base ? "candidate" : "baseline");
		return -EINVAL;
	}
	struct pb_compare *c = calloc(1, sizeof(*c));
	int r = c ? load_side(base, base_names, n_base, &A, &c->base_runs) : -ENOMEM;
	if (r == 0)
		r = load_side(cand, cand_names, n_cand, &B, &c->cand_runs);
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
	c->n_base_runs = n_base;
	c->n_cand_runs = n_cand;
	c->base = c->base_runs[0];
	c->cand = c->cand_runs[0];
	c->alpha = alpha;
	c->min_change = min_change;
	c->ci_level = 1 - alpha;
	for (size_t i = 0; r == 0 && i < A.n; i++) {
		const struct series *b = find_series(&B, &A.s[i].key);
		if (b)
			r = compare_pair(c, &A, &A.s[i], &B, b);
		else
			c->only_base[c->n_only_base++] = A.s[i].key;
	}
	for (size_t k = 0; r == 0 && k < B.n; k++)
		if (!find_series(&A, &B.s[k].key))
			c->only_cand[c->n_only_cand++] = B.s[k].key;
	if (r == 0 && !c->n_entries) {
		char a[160], b[160];
		names_of(a, sizeof(a), base_names, n_base);
		names_of(b, sizeof(b), cand_names, n_cand);
		snprintf(err, err_size,
			 "%s and %s share no (target, placement, metric) with ok iterations: "
			 "nothing to compare",
			 a, b);
		r = -EINVAL;
	}
	if (r == 0)
		r = adjust_and_judge(c);
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

int pb_compare_runs(const struct pb_run_record *base, const char *base_name,
		    const struct pb_run_record *cand, const char *cand_name, double alpha,
		    double min_change, struct pb_compare **ret, char *err, size_t err_size)
{
	return pb_compare_records(&base, &base_name, 1, &cand, &cand_name, 1, alpha, min_change,
				  ret, err, err_size);
}

void pb_compare_free(struct pb_compare *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_entries; i++) {
		free(c->entries[i].spread_base.record_median);
		free(c->entries[i].spread_cand.record_median);
	}
	free(c->entries);
	free(c->shares);
	free(c->only_base);
	free(c->only_cand);
	free(c->base_runs);
	free(c->cand_runs);
	free(c);
}

/* ---- the document ------------------------------------------------------------------------ */

static struct json_object *str_or_null(const char *s)
{
	return s[0] ? json_object_new_string(s) : NULL;
}

static struct json_object *num_or_null(double v)
{
	return isnan(v) ? NULL : json_object_new_double(v);
}

/* One side's summary; st NULL when the series is empty. */
static struct json_object *side(size_t n, const struct pb_stats *st,
				const struct pb_compare_spread *sp, size_t n_records, bool probe,
				int node)
{
	struct json_object *o = json_object_new_object(), *meds = json_object_new_array(),
			   *left = json_object_new_object();
	json_object_object_add(o, "N", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "median",
			       st ? json_object_new_int64((int64_t)st->percentile[0]) : NULL);
	json_object_object_add(o, "p90",
			       st ? json_object_new_int64((int64_t)st->percentile[1]) : NULL);
	json_object_object_add(o, "min", st ? json_object_new_int64((int64_t)st->min) : NULL);
	json_object_object_add(o, "max", st ? json_object_new_int64((int64_t)st->max) : NULL);
	json_object_object_add(o, "records", json_object_new_int64((int64_t)sp->records));
	for (size_t r = 0; r < n_records; r++)
		json_object_array_add(meds, sp->record_median[r] >= 0
						? json_object_new_int64(sp->record_median[r])
						: NULL);
	json_object_object_add(o, "record_medians", meds);
	json_object_object_add(o, "sd_between", num_or_null(sp->sd_between));
	json_object_object_add(o, "sd_within", num_or_null(sp->sd_within));
	json_object_object_add(o, "between_share", num_or_null(sp->between_share));
	json_object_object_add(left, "not_ok", json_object_new_int64((int64_t)sp->not_ok));
	json_object_object_add(left, "lossy", json_object_new_int64((int64_t)sp->lossy));
	json_object_object_add(left, "missing_probe",
			       json_object_new_int64((int64_t)sp->missing_probe));
	json_object_object_add(o, "left_out", left);
	json_object_object_add(o, "node", probe && node >= 0 ? json_object_new_int(node) : NULL);
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
	json_object_object_add(o, "entry", json_object_new_string(r->entry));
	return o;
}

/* A side: its first record as the single-record form had it, the count and every record. */
static struct json_object *side_runs_json(const struct pb_compare_run *runs, size_t n)
{
	struct json_object *o = run_json(&runs[0]), *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, run_json(&runs[i]));
	json_object_object_add(o, "records", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "runs", a);
	return o;
}

static struct json_object *key_json(const struct pb_compare_key *k)
{
	struct json_object *e = json_object_new_object();
	json_object_object_add(e, "target", json_object_new_string(k->target));
	json_object_object_add(e, "placement", json_object_new_string(k->placement));
	json_object_object_add(e, "metric", json_object_new_string(k->metric));
	json_object_object_add(e, "method", str_or_null(k->method));
	return e;
}

static struct json_object *shift_json(const struct pb_hl *hl, double deff)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "estimate", hl->valid ? json_object_new_double(hl->shift) : NULL);
	json_object_object_add(o, "low", hl->ci_valid ? json_object_new_double(hl->lo) : NULL);
	json_object_object_add(o, "high", hl->ci_valid ? json_object_new_double(hl->hi) : NULL);
	json_object_object_add(o, "level", json_object_new_double(hl->level));
	json_object_object_add(o, "interval_method",
			       hl->ci_valid ? json_object_new_string(deff > 1	 ? "clustered"
								     : hl->exact ? "exact"
										 : "normal")
					    : NULL);
	return o;
}

static const char *const method_text =
    "samples of each (target, placement, metric, probe method) pooled over a side's records, "
    "ok iterations only; medians by nearest rank; two-sided Mann-Whitney U, exact when both "
    "sides have fewer than 50 values and none is tied, else the normal approximation with tie "
    "and continuity correction; Hodges-Lehmann shift (median of the candidate - baseline "
    "differences) with its distribution-free interval at 1 - alpha; with two records or more "
    "on both sides, z and the interval corrected by Kish's design effect 1 + (m - 1) ICC "
    "(samples of one boot are not independent); on-node shares: two-sided "
    "Fisher exact test; Holm's adjustment over the duration tests and apart over the share "
    "tests, verdicts on the adjusted p; records apart: per-record medians and a one-way "
    "random-effects analysis of variance (between / within records). The values themselves "
    "come from each record (CLOCK_MONOTONIC around the writes; the observer's method for "
    "probes).";

struct json_object *pb_compare_to_json(const struct pb_compare *c)
{
	struct json_object *doc = json_object_new_object(), *cmp = json_object_new_array(),
			   *shares = json_object_new_array(), *only_a = json_object_new_array(),
			   *only_b = json_object_new_array();
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct pb_compare_entry *x = &c->entries[i];
		struct json_object *e = key_json(&x->key);
		bool probe = x->key.method[0];
		json_object_object_add(e, "baseline",
				       side(x->n_base, x->n_base ? &x->base : NULL, &x->spread_base,
					    c->n_base_runs, probe, x->node_base));
		json_object_object_add(e, "candidate",
				       side(x->n_cand, x->n_cand ? &x->cand : NULL, &x->spread_cand,
					    c->n_cand_runs, probe, x->node_cand));
		json_object_object_add(e, "ratio", num_or_null(x->ratio));
		json_object_object_add(e, "u",
				       x->mwu.valid ? json_object_new_double(x->mwu.u) : NULL);
		json_object_object_add(e, "z",
				       x->mwu.valid ? json_object_new_double(x->mwu.z) : NULL);
		json_object_object_add(e, "p", json_object_new_double(x->mwu.p));
		json_object_object_add(
		    e, "p_method",
		    x->mwu.valid ? json_object_new_string(x->design_effect > 1 ? "clustered"
							  : x->mwu.exact       ? "exact"
									       : "normal")
				 : NULL);
		json_object_object_add(e, "design_effect",
				       json_object_new_double(x->design_effect));
		json_object_object_add(e, "p_adjusted", json_object_new_double(x->p_adjusted));
		json_object_object_add(e, "shift_ns", shift_json(&x->hl, x->design_effect));
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
		json_object_object_add(
		    s, "p_method",
		    json_object_new_string(x->design_effect > 1 ? "fisher, clustered" : "fisher"));
		json_object_object_add(s, "design_effect",
				       json_object_new_double(x->design_effect));
		json_object_object_add(s, "p_adjusted", json_object_new_double(x->p_adjusted));
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
	json_object_object_add(doc, "baseline", side_runs_json(c->base_runs, c->n_base_runs));
	json_object_object_add(doc, "candidate", side_runs_json(c->cand_runs, c->n_cand_runs));
	json_object_object_add(doc, "alpha", json_object_new_double(c->alpha));
	json_object_object_add(doc, "min_change", json_object_new_double(c->min_change));
	json_object_object_add(doc, "ci_level", json_object_new_double(c->ci_level));
	json_object_object_add(doc, "adjustment", json_object_new_string("holm"));
	json_object_object_add(doc, "method", json_object_new_string(method_text));
	return doc;
}

/* ---- the tables --------------------------------------------------------------------------- */

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

/* The unit for a magnitude in ns, and how many decimals keep three significant digits. */
static const char *unit_of(double mag, double *div, int *decimals)
{
	static const struct {
		double div;
		const char *name;
	} units[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}, {1, "ns"}};
	size_t u = 0;
	while (u + 1 < sizeof(units) / sizeof(units[0]) && mag < units[u].div)
		u++;
	*div = units[u].div;
	double v = mag / *div;
	*decimals = u + 1 == sizeof(units) / sizeof(units[0]) ? 0 : v >= 100 ? 0 : v >= 10 ? 1 : 2;
	return units[u].name;
}

/* 52.1us: three significant digits, no space (the verdict table is narrow) */
static void fmt_short(char *buf, size_t size, uint64_t ns)
{
	double div;
	int dec;
	const char *u = unit_of((double)ns, &div, &dec);
	snprintf(buf, size, "%.*f%s", dec, (double)ns / div, u);
}

/* -1.80 [-2.50,-1.10]us: the shift and its interval in one unit; "-" when undefined. */
static void fmt_shift(char *buf, size_t size, const struct pb_hl *hl)
{
	if (!hl->valid) {
		snprintf(buf, size, "-");
		return;
	}
	double mag = fabs(hl->shift), div;
	if (hl->ci_valid)
		mag = fmax(mag, fmax(fabs(hl->lo), fabs(hl->hi)));
	int dec;
	const char *u = unit_of(mag, &div, &dec);
	if (hl->ci_valid)
		snprintf(buf, size, "%+.*f [%+.*f,%+.*f]%s", dec, hl->shift / div, dec,
			 hl->lo / div, dec, hl->hi / div, u);
	else
		snprintf(buf, size, "%+.*f [n/a]%s", dec, hl->shift / div, u);
}

/* The entry path of a side's records: "bind", "probe", or "mixed". */
static const char *side_entry(const struct pb_compare_run *runs, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(runs[i].entry, runs[0].entry))
			return "mixed";
	return runs[0].entry;
}

static void print_side(FILE *f, const char *label, const struct pb_compare_run *runs, size_t n)
{
	fprintf(f, "%s %zu record%s: ", label, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", runs[i].file);
	bool same = true;
	for (size_t i = 1; i < n; i++)
		same = same && !strcmp(runs[i].kernel, runs[0].kernel);
	if (same) {
		fprintf(f, " (kernel %s)\n", or_q(runs[0].kernel));
		return;
	}
	fprintf(f, " (kernels");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %s", i ? "," : "", or_q(runs[i].kernel));
	fprintf(f, ")\n");
}

/* The metric as the tables show it: with its method in brackets. */
static void fmt_metric(char *buf, size_t size, const struct pb_compare_key *k)
{
	if (k->method[0])
		snprintf(buf, size, "%s [%s]", k->metric, k->method);
	else
		snprintf(buf, size, "%s", k->metric);
}

static void print_spread(FILE *f, const char *label, const struct pb_compare_spread *s, size_t n)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t r = 0; r < n; r++)
		if (s->record_median[r] >= 0) {
			uint64_t m = (uint64_t)s->record_median[r];
			lo = m < lo ? m : lo;
			hi = m > hi ? m : hi;
		}
	char a[24], b[24], sb[24], sw[24];
	fmt_short(a, sizeof(a), lo);
	fmt_short(b, sizeof(b), hi);
	fmt_short(sb, sizeof(sb), isnan(s->sd_between) ? 0 : (uint64_t)llround(s->sd_between));
	fmt_short(sw, sizeof(sw), isnan(s->sd_within) ? 0 : (uint64_t)llround(s->sd_within));
	fprintf(f, "%s %zu of %zu records", label, s->records, n);
	if (s->records)
		fprintf(f, ", medians %s..%s", a, b);
	if (!isnan(s->between_share))
		fprintf(f, ", sd between %s within %s (%.0f%% between)", sb, sw,
			100 * s->between_share);
}

static void print_left_out(FILE *f, const char *label, const struct pb_compare_spread *s)
{
	fprintf(f, "%s %" PRIu64 " not ok, %" PRIu64 " lossy, %" PRIu64 " missing probe", label,
		s->not_ok, s->lossy, s->missing_probe);
}

static const struct pb_compare_share *share_of(const struct pb_compare *c,
					       const struct pb_compare_key *k)
{
	for (size_t i = 0; i < c->n_shares; i++)
		if (key_eq(&c->shares[i].key, k))
			return &c->shares[i];
	return NULL;
}

/* n0,38%: the commonest node of the probing CPU and the share on the device's node */
static void fmt_node(char *buf, size_t size, int node, uint64_t yes, uint64_t n)
{
	char share[16] = "";
	if (n)
		snprintf(share, sizeof(share), ",%.0f%%", 100.0 * (double)yes / (double)n);
	if (node >= 0)
		snprintf(buf, size, "n%d%s", node, share);
	else
		snprintf(buf, size, "?%s", share);
}

/* "probe BUS/DRIVER depth D": the driver's name and the depth. */
static int driver_of(const struct pb_compare_key *k, char *drv, size_t size)
{
	char bus[32], d[64];
	int depth;
	if (sscanf(k->metric, "probe %31[^/]/%63s depth %d", bus, d, &depth) != 3) {
		snprintf(drv, size, "%s", k->metric);
		return 0;
	}
	snprintf(drv, size, "%s", d);
	return depth;
}

static void verdict_row(FILE *f, const struct pb_compare *c, const struct pb_compare_entry *e,
			const char *ea, const char *eb)
{
	char drv[64], driver[80], how[48], na[24], nb[24], node[64], ma[16], mb[16], p50[40],
	    shift[64], p[24];
	int depth = driver_of(&e->key, drv, sizeof(drv));
	snprintf(driver, sizeof(driver), "%s%s", depth > 0 ? "+" : "", drv);
	if (!strcmp(ea, eb))
		snprintf(how, sizeof(how), "%s/%s", ea, e->key.method);
	else
		snprintf(how, sizeof(how), "%s>%s/%s", ea, eb, e->key.method);
	const struct pb_compare_share *s = share_of(c, &e->key);
	fmt_node(na, sizeof(na), e->node_base, s ? s->base_yes : 0, s ? s->base_n : 0);
	fmt_node(nb, sizeof(nb), e->node_cand, s ? s->cand_yes : 0, s ? s->cand_n : 0);
	snprintf(node, sizeof(node), "%s->%s", na, nb);
	fmt_short(ma, sizeof(ma), e->base.percentile[0]);
	fmt_short(mb, sizeof(mb), e->cand.percentile[0]);
	snprintf(p50, sizeof(p50), "%s->%s", ma, mb);
	fmt_shift(shift, sizeof(shift), &e->hl);
	bool sig = !strcmp(e->verdict, "slower") || !strcmp(e->verdict, "faster");
	snprintf(p, sizeof(p), "%.2g%s", e->p_adjusted, sig ? "*" : "");
	fprintf(f, "%-12.12s %-14.14s %-16.16s %-6.6s %-16.16s %-16.16s %-22.22s %s\n",
		e->key.target, driver, how, e->key.placement, node, p50, shift, p);
}

void pb_compare_print_verdicts(FILE *f, const struct pb_compare *c)
{
	size_t rows = 0;
	for (size_t i = 0; i < c->n_entries; i++)
		rows += c->entries[i].key.method[0] != 0;
	bool *done = rows ? calloc(c->n_entries, sizeof(*done)) : NULL;
	if (!done) {
		fprintf(f, rows ? "out of memory for the verdict table\n"
				: "no probe series in both: no verdict table\n");
		return;
	}
	char level[16], drv[64];
	snprintf(level, sizeof(level), "%g%% CI", 100 * c->ci_level);
	fprintf(f, "%-12s %-14s %-16s %-6s %-16s %-16s %-22s %s\n", "device", "driver",
		"entry/method", "place", "node,on-dev", "probe p50", "shift", "p adj");
	fprintf(f, "%-12s %-14s %-16s %-6s %-16s %-16s %s\n", "", "", "", "", "before->after",
		"before->after", level);
	const char *ea = side_entry(c->base_runs, c->n_base_runs),
		   *eb = side_entry(c->cand_runs, c->n_cand_runs);
	/* each target's own probe followed by the probes nested in it (same target, placement
	 * and method); then nested ones whose parent is not in both */
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct pb_compare_entry *e = &c->entries[i];
		if (!e->key.method[0] || driver_of(&e->key, drv, sizeof(drv)) > 0)
			continue;
		verdict_row(f, c, e, ea, eb);
		done[i] = true;
		for (size_t k = 0; k < c->n_entries; k++) {
			const struct pb_compare_key *x = &c->entries[k].key;
			if (!done[k] && x->method[0] && !strcmp(x->target, e->key.target) &&
			    !strcmp(x->placement, e->key.placement) &&
			    !strcmp(x->method, e->key.method) &&
			    driver_of(x, drv, sizeof(drv)) > 0) {
				verdict_row(f, c, &c->entries[k], ea, eb);
				done[k] = true;
			}
		}
	}
	for (size_t i = 0; i < c->n_entries; i++)
		if (c->entries[i].key.method[0] && !done[i])
			verdict_row(f, c, &c->entries[i], ea, eb);
	free(done);
	fprintf(
	    f,
	    "node: commonest NUMA node of the CPUs that ran the probe, on-dev: share on the "
	    "device's node;\n"
	    "shift: Hodges-Lehmann, candidate - baseline; p adj: Mann-Whitney U, Holm-adjusted; "
	    "* slower/faster:\n"
	    "p adj < %g and the medians %.3g%% or more apart; + a probe nested in the "
	    "target's (depth 1)\n",
	    c->alpha, 100 * c->min_change);
}

void pb_compare_print(FILE *f, const struct pb_compare *c)
{
	print_side(f, "baseline: ", c->base_runs, c->n_base_runs);
	print_side(f, "candidate:", c->cand_runs, c->n_cand_runs);
	fprintf(f, "%-22s %-9s %-44s %7s %11s %11s %7s %9s %-6s %9s  %s\n", "target", "placement",
		"metric", "N", "base p50", "cand p50", "ratio", "p", "test", "p adj", "verdict");
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct pb_compare_entry *e = &c->entries[i];
		char ma[24], mb[24], n[48], metric[200];
		fmt_ns(ma, sizeof(ma), e->n_base > 0, e->base.percentile[0]);
		fmt_ns(mb, sizeof(mb), e->n_cand > 0, e->cand.percentile[0]);
		snprintf(n, sizeof(n), "%zu/%zu", e->n_base, e->n_cand);
		fmt_metric(metric, sizeof(metric), &e->key);
		fprintf(f, "%-22.22s %-9.9s %-44.44s %7s %11s %11s ", e->key.target,
			e->key.placement, metric, n, ma, mb);
		if (isnan(e->ratio))
			fprintf(f, "%7s", "-");
		else
			fprintf(f, "%7.3f", e->ratio);
		fprintf(f, " %9.2g %-6s %9.2g  %s\n", e->mwu.p,
			!e->mwu.valid	       ? "-"
			: e->design_effect > 1 ? "clust"
			: e->mwu.exact	       ? "exact"
					       : "normal",
			e->p_adjusted, e->verdict);
	}
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct pb_compare_entry *e = &c->entries[i];
		char metric[200];
		fmt_metric(metric, sizeof(metric), &e->key);
		if (c->n_base_runs > 1 || c->n_cand_runs > 1) {
			fprintf(f, "boot to boot: %s %s %s:", e->key.target, e->key.placement,
				metric);
			print_spread(f, " baseline", &e->spread_base, c->n_base_runs);
			print_spread(f, "; candidate", &e->spread_cand, c->n_cand_runs);
			fprintf(f, "\n");
		}
		const struct pb_compare_spread *a = &e->spread_base, *b = &e->spread_cand;
		if (a->not_ok + a->lossy + a->missing_probe + b->not_ok + b->lossy +
		    b->missing_probe) {
			fprintf(f, "left out: %s %s %s:", e->key.target, e->key.placement, metric);
			print_left_out(f, " baseline", a);
			print_left_out(f, "; candidate", b);
			fprintf(f, "\n");
		}
	}
	for (size_t i = 0; i < c->n_shares; i++) {
		const struct pb_compare_share *e = &c->shares[i];
		char metric[200];
		fmt_metric(metric, sizeof(metric), &e->key);
		fprintf(f,
			"on the device's node: %s %s %s: %.0f%% of %" PRIu64
			" -> %.0f%% of %" PRIu64 " (Fisher p %.2g%s, adjusted %.2g) %s\n",
			e->key.target, e->key.placement, metric,
			100.0 * (double)e->base_yes / (double)e->base_n, e->base_n,
			100.0 * (double)e->cand_yes / (double)e->cand_n, e->cand_n, e->p,
			e->design_effect > 1 ? ", clustered" : "", e->p_adjusted, e->verdict);
	}
	for (size_t i = 0; i < c->n_only_base; i++) {
		char metric[200];
		fmt_metric(metric, sizeof(metric), &c->only_base[i]);
		fprintf(f, "only in the baseline: %s %s %s\n", c->only_base[i].target,
			c->only_base[i].placement, metric);
	}
	for (size_t i = 0; i < c->n_only_cand; i++) {
		char metric[200];
		fmt_metric(metric, sizeof(metric), &c->only_cand[i]);
		fprintf(f, "only in the candidate: %s %s %s\n", c->only_cand[i].target,
			c->only_cand[i].placement, metric);
	}
	fprintf(f, "method: %s\n\n", method_text);
	pb_compare_print_verdicts(f, c);
}

// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <math.h>

#include "probebench/compare.h"
#include "probebench/record.h"

#define CLOSE(x, want, tol) assert_true(fabs((x) - (want)) < (tol))

/* Exact two-sided p of U: 2 P(U <= min(U, mn - U)) under the null hypothesis, as R's
 * wilcox.test(exact = TRUE) gives it. The counts of U are those of the arrangements of the two
 * samples: for 5 vs 5, C(10, 5) = 252 arrangements, one with U = 0 (complete separation), so
 * p = 2/252; for 3 vs 4, C(7, 3) = 35, one each with U = 0 and U = 1. */
static void mann_whitney_exact(void **state)
{
	(void)state;
	struct pb_mwu t;
	const uint64_t a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10};
	assert_int_equal(pb_mann_whitney(a, 5, b, 5, &t), 0);
	assert_true(t.valid);
	assert_true(t.exact);
	CLOSE(t.u, 0, 1e-9);
	CLOSE(t.p, 2.0 / 252, 1e-9); /* 0.007937: significant at 0.01, as no normal p is */
	assert_true(t.p < 0.01);
	/* symmetric: U of the other side is n1*n2 - U, same p */
	assert_int_equal(pb_mann_whitney(b, 5, a, 5, &t), 0);
	CLOSE(t.u, 25, 1e-9);
	CLOSE(t.p, 2.0 / 252, 1e-9);
	/* 3 vs 4, complete separation: 2/35 = 0.05714 */
	const uint64_t c3[] = {1, 2, 3}, d4[] = {4, 5, 6, 7};
	assert_int_equal(pb_mann_whitney(c3, 3, d4, 4, &t), 0);
	CLOSE(t.p, 2.0 / 35, 1e-9);
	/* {1, 2, 4} vs {3, 5, 6, 7}: ranks 1, 2, 4, U = 7 - 6 = 1; P(U <= 1) = 2/35, p = 4/35 */
	const uint64_t e3[] = {1, 2, 4}, f4[] = {3, 5, 6, 7};
	assert_int_equal(pb_mann_whitney(e3, 3, f4, 4, &t), 0);
	CLOSE(t.u, 1, 1e-9);
	CLOSE(t.p, 4.0 / 35, 1e-9);
	/* one value a side: U is 0 or 1, each with probability 1/2: p = 1 */
	const uint64_t one[] = {1}, two[] = {2};
	assert_int_equal(pb_mann_whitney(one, 1, two, 1, &t), 0);
	assert_true(t.exact);
	CLOSE(t.p, 1, 1e-12);
	/* one value below nine: U = 0 has probability 1/10, p = 0.2; in the middle (U = 4 of 9):
	 * P(U <= 4) = 5/10, p = 1 */
	const uint64_t nine[] = {1, 2, 3, 4, 6, 7, 8, 9, 10}, zero[] = {0}, five[] = {5};
	assert_int_equal(pb_mann_whitney(zero, 1, nine, 9, &t), 0);
	CLOSE(t.p, 0.2, 1e-12);
	assert_int_equal(pb_mann_whitney(five, 1, nine, 9, &t), 0);
	CLOSE(t.u, 4, 1e-9);
	CLOSE(t.p, 1, 1e-12);
	/* the published critical value of U for 10 vs 10, two-sided 0.05, is 23: U = 23 gives
	 * p = 0.04326 (R: 2 * pwilcox(23, 10, 10)), U = 24 gives 0.05243. U counts the pairs with
	 * x above y: y = 100, 200, .., 1000 and x[i] = 100 g[i] + 1 + i lies above g[i] of them,
	 * U = 10 + 10 + g[2] with g[2] = 3 or 4, every other g 0. */
	uint64_t x[10], y[10];
	for (unsigned u = 23; u <= 24; u++) {
		for (unsigned i = 0; i < 10; i++) {
			unsigned g = i < 2 ? 10 : i == 2 ? u - 20 : 0;
			x[i] = 100 * g + 1 + i;
			y[i] = 100 * (i + 1);
		}
		assert_int_equal(pb_mann_whitney(x, 10, y, 10, &t), 0);
		assert_true(t.exact);
		CLOSE(t.u, u, 1e-9);
		CLOSE(t.p, u == 23 ? 0.043257 : 0.052426, 1e-6);
	}
}

/* With ties, or 50 values or more on a side: the normal approximation with tie and continuity
 * correction (R's wilcox.test(exact = FALSE, correct = TRUE)). */
static void mann_whitney_normal(void **state)
{
	(void)state;
	struct pb_mwu t;
	/* ties: a = {1,2,2,3}, b = {2,3,3,4}; ranks 1,3,3,3,6,6,6,8 -> R_a = 1+3+3+6 = 13, U = 3;
	 * tie term (27-3)+(27-3) = 48; var = 16/12 * (9 - 48/56) = 10.857; z = (3-8+0.5)/3.295 =
	 * -1.3657, p = 0.1720 (R: W = 3, p-value = 0.172) */
	const uint64_t c[] = {1, 2, 2, 3}, d[] = {2, 3, 3, 4};
	assert_int_equal(pb_mann_whitney(c, 4, d, 4, &t), 0);
	assert_false(t.exact);
	CLOSE(t.u, 3, 1e-9);
	CLOSE(t.z, -4.5 / sqrt(16.0 / 12.0 * (9 - 48.0 / 56.0)), 1e-9);
	CLOSE(t.p, 0.172034, 1e-6);
	/* a tie between the samples only: still the normal approximation.
	 * {1,2,3,4,5} vs {5,6,7,8,9}: the 5s take rank 5.5: R_a = 15.5, U = 0.5, tie term 6,
	 * var = 25/12 * (11 - 6/90), z = (0.5 - 12.5 + 0.5) / sqrt(var) */
	const uint64_t a[] = {1, 2, 3, 4, 5}, b[] = {5, 6, 7, 8, 9};
	assert_int_equal(pb_mann_whitney(a, 5, b, 5, &t), 0);
	assert_false(t.exact);
	CLOSE(t.u, 0.5, 1e-9);
	double z = -11.5 / sqrt(25.0 / 12.0 * (11 - 6.0 / 90.0));
	CLOSE(t.z, z, 1e-9);
	CLOSE(t.p, erfc(fabs(z) / sqrt(2.0)), 1e-12);
	/* 50 against 5 without ties: past the exact bound. Complete separation: U = 0,
	 * z = (0 - 125 + 0.5) / sqrt(250 * 56 / 12) */
	uint64_t big[50], small[5];
	for (int i = 0; i < 50; i++)
		big[i] = 100 + (uint64_t)i;
	for (int i = 0; i < 5; i++)
		small[i] = (uint64_t)i;
	assert_int_equal(pb_mann_whitney(small, 5, big, 50, &t), 0);
	assert_false(t.exact);
	z = -124.5 / sqrt(250.0 * 56.0 / 12.0);
	CLOSE(t.z, z, 1e-9);
	CLOSE(t.p, erfc(fabs(z) / sqrt(2.0)), 1e-15);
	/* 49 against 5: exact, P(U = 0) = 1 / C(54, 5) */
	assert_int_equal(pb_mann_whitney(small, 5, big, 49, &t), 0);
	assert_true(t.exact);
	CLOSE(t.p / (2.0 / 3162510.0), 1, 1e-9);
	/* identical samples: p = 1; all tied: not valid; empty: not valid */
	assert_int_equal(pb_mann_whitney(c, 4, c, 4, &t), 0);
	CLOSE(t.p, 1, 1e-12);
	const uint64_t e[] = {7, 7, 7};
	assert_int_equal(pb_mann_whitney(e, 3, e, 3, &t), 0);
	assert_false(t.valid);
	CLOSE(t.p, 1, 1e-12);
	assert_int_equal(pb_mann_whitney(a, 0, b, 5, &t), 0);
	assert_false(t.valid);
}

/* Fisher's exact test, two-sided: the probabilities of every table with the observed margins
 * no more probable than the observed one. */
static void fisher_exact(void **state)
{
	(void)state;
	/* the lady tasting tea: [[3,1],[1,3]]; P = 16/70 each for the observed and its mirror,
	 * 1/70 each for the extremes: p = 34/70 = 0.4857 */
	CLOSE(pb_fisher_exact_p(3, 1, 1, 3), 34.0 / 70, 1e-9);
	/* complete separation of 5 and 5: 2 / C(10, 5) = 0.007937 */
	CLOSE(pb_fisher_exact_p(5, 0, 0, 5), 2.0 / 252, 1e-9);
	/* the textbook dieting table [[1,9],[11,3]]: p = 0.002759 (R: 0.002759) */
	CLOSE(pb_fisher_exact_p(1, 9, 11, 3), 0.0027595, 1e-7);
	/* a zero margin (no probe on the device's node on either side): one table, p = 1 */
	CLOSE(pb_fisher_exact_p(0, 5, 0, 5), 1, 1e-12);
	CLOSE(pb_fisher_exact_p(20, 0, 20, 0), 1, 1e-12);
	/* the same share on both sides */
	CLOSE(pb_fisher_exact_p(5, 5, 5, 5), 1, 1e-9);
}

/* Hodges-Lehmann, as in Hollander & Wolfe: a = {10, 13, 16, 19, 22} (baseline), b = {15, 20,
 * 24, 27, 33} (candidate). The 25 differences b - a sorted: -7 -4 -2 -1 1 2 2 4 5 5 5 7 [8] 8
 * 10 11 11 11 14 14 14 17 17 20 23; the 13th is the estimate, 8. For 5 vs 5 the counts of
 * U = 0, 1, 2, 3 are 1, 1, 2, 3 of 252: at 95 % k is the smallest with P(U <= k) >= 0.025,
 * k = 3 (7/252), the interval [d(3), d(23)] = [-2, 17] (coverage 1 - 2 * 4/252 = 0.968); at
 * 99 %, k = 1 (2/252 >= 0.005): [d(1), d(25)] = [-7, 23]. */
static void hodges_lehmann(void **state)
{
	(void)state;
	struct pb_hl hl;
	const uint64_t a[] = {22, 10, 16, 13, 19}, b[] = {33, 15, 27, 20, 24};
	assert_int_equal(pb_hodges_lehmann(a, 5, b, 5, 0.95, &hl), 0);
	assert_true(hl.valid && hl.ci_valid && hl.exact);
	CLOSE(hl.shift, 8, 1e-12);
	CLOSE(hl.lo, -2, 1e-12);
	CLOSE(hl.hi, 17, 1e-12);
	assert_int_equal(pb_hodges_lehmann(a, 5, b, 5, 0.99, &hl), 0);
	CLOSE(hl.lo, -7, 1e-12);
	CLOSE(hl.hi, 23, 1e-12);
	/* reversed: every difference negated */
	assert_int_equal(pb_hodges_lehmann(b, 5, a, 5, 0.95, &hl), 0);
	CLOSE(hl.shift, -8, 1e-12);
	CLOSE(hl.lo, -17, 1e-12);
	CLOSE(hl.hi, 2, 1e-12);
	/* an even number of differences: the mean of the middle two. a = {10, 12, 15},
	 * b = {14, 18, 20, 25}: -1 2 3 4 5 [6 8] 8 10 10 13 15, estimate 7. 3 vs 4 at 95 %:
	 * P(U = 0) = 1/35 > 0.025, no interval reaches 95 %; at 80 %: k = 2 (P(U <= 2) = 4/35 >=
	 * 0.1), [d(2), d(11)] = [2, 13] */
	const uint64_t c[] = {10, 12, 15}, d[] = {14, 18, 20, 25};
	assert_int_equal(pb_hodges_lehmann(c, 3, d, 4, 0.95, &hl), 0);
	assert_true(hl.valid);
	CLOSE(hl.shift, 7, 1e-12);
	assert_false(hl.ci_valid);
	assert_int_equal(pb_hodges_lehmann(c, 3, d, 4, 0.8, &hl), 0);
	assert_true(hl.ci_valid);
	CLOSE(hl.lo, 2, 1e-12);
	CLOSE(hl.hi, 13, 1e-12);
	/* 60 a side (normal): b = a + 100 and a = 0..59: the differences are 100 + (j - i),
	 * the estimate 100; k = floor(mn/2 - z_0.005 sqrt(mn (m+n+1) / 12)) with z_0.005 =
	 * 2.575829, and the interval [d(k), d(mn + 1 - k)] of the sorted differences */
	uint64_t x[60], y[60];
	int64_t diffs[3600];
	for (int i = 0; i < 60; i++) {
		x[i] = (uint64_t)i * 3;
		y[i] = x[i] + 100;
	}
	for (int i = 0; i < 60; i++)
		for (int j = 0; j < 60; j++)
			diffs[i * 60 + j] = (int64_t)y[j] - (int64_t)x[i];
	for (int i = 1; i < 3600; i++) /* insertion sort: the test's own, plain ordering */
		for (int j = i; j > 0 && diffs[j - 1] > diffs[j]; j--) {
			int64_t t = diffs[j];
			diffs[j] = diffs[j - 1];
			diffs[j - 1] = t;
		}
	int k = (int)floor(1800 - 2.5758293035489 * sqrt(3600.0 * 121 / 12));
	assert_int_equal(pb_hodges_lehmann(x, 60, y, 60, 0.99, &hl), 0);
	assert_false(hl.exact);
	CLOSE(hl.shift, 100, 1e-12);
	CLOSE(hl.lo, (double)diffs[k - 1], 1e-12);
	CLOSE(hl.hi, (double)diffs[3600 - k], 1e-12);
	assert_true(hl.lo < 100 && hl.hi > 100);
	CLOSE(hl.lo - 100, 100 - hl.hi, 1e-12);
	/* empty: nothing */
	assert_int_equal(pb_hodges_lehmann(x, 0, y, 60, 0.99, &hl), 0);
	assert_false(hl.valid);
}

/* Holm: the i-th smallest of m p-values times m - i + 1, kept monotone, at most 1. */
static void holm(void **state)
{
	(void)state;
	/* sorted 0.005, 0.01, 0.03, 0.04 -> 4 * 0.005 = 0.02, 3 * 0.01 = 0.03, 2 * 0.03 = 0.06,
	 * max(1 * 0.04, 0.06) = 0.06 */
	const double p[] = {0.01, 0.04, 0.03, 0.005};
	double adj[4];
	assert_int_equal(pb_holm_adjust(p, 4, adj), 0);
	CLOSE(adj[0], 0.03, 1e-12);
	CLOSE(adj[1], 0.06, 1e-12);
	CLOSE(adj[2], 0.06, 1e-12);
	CLOSE(adj[3], 0.02, 1e-12);
	const double q[] = {0.6, 0.5}, one[] = {0.2};
	assert_int_equal(pb_holm_adjust(q, 2, adj), 0);
	CLOSE(adj[0], 1, 1e-12);
	CLOSE(adj[1], 1, 1e-12);
	assert_int_equal(pb_holm_adjust(one, 1, adj), 0);
	CLOSE(adj[0], 0.2, 1e-12);
}

/* A stored run record with one target and placement: bind values and a probe per iteration
 * (another target on placement node1 when extra_metric_target is set). */
static struct json_object *record_json(const char *kernel, uint64_t bind0, uint64_t step, int n,
				       int on_node, const char *extra_metric_target)
{
	struct json_object *r = json_object_new_object(), *its = json_object_new_array(),
			   *un = json_object_new_object(), *sc = json_object_new_object(),
			   *ts = json_object_new_array(), *pls = json_object_new_array();
	json_object_object_add(sc, "name", json_object_new_string("probebench-run"));
	json_object_object_add(r, "schema", sc);
	json_object_object_add(un, "release", json_object_new_string(kernel));
	json_object_object_add(r, "uname", un);
	json_object_object_add(r, "status", json_object_new_string("complete"));
	const char *names[] = {"0000:81:00.0", extra_metric_target}, *labels[] = {"node0", "node1"};
	for (int k = 0; k < 2; k++) {
		struct json_object *t = json_object_new_object(), *p = json_object_new_object();
		if (names[k]) {
			json_object_object_add(t, "name", json_object_new_string(names[k]));
			json_object_array_add(ts, t);
		} else
			json_object_put(t);
		json_object_object_add(p, "label", json_object_new_string(labels[k]));
		json_object_array_add(pls, p);
	}
	json_object_object_add(r, "targets", ts);
	json_object_object_add(r, "placements", pls);
	for (int i = 0; i < n; i++) {
		struct json_object *it = json_object_new_object(), *m = json_object_new_object(),
				   *ps = json_object_new_array(), *p = json_object_new_object();
		json_object_object_add(it, "target", json_object_new_string("0000:81:00.0"));
		json_object_object_add(it, "placement", json_object_new_string("node0"));
		json_object_object_add(it, "outcome", json_object_new_string("ok"));
		json_object_object_add(it, "bind_ns",
				       json_object_new_int64((int64_t)(bind0 + step * i)));
		json_object_object_add(it, "unbind_ns", json_object_new_int64(1000));
		json_object_object_add(p, "depth", json_object_new_int(0));
		json_object_object_add(p, "bus", json_object_new_string("pci"));
		json_object_object_add(p, "driver", json_object_new_string("e1000e"));
		json_object_object_add(p, "duration_ns",
				       json_object_new_int64((int64_t)(bind0 / 2 + i)));
		json_object_object_add(p, "on_device_node", json_object_new_boolean(i < on_node));
		json_object_array_add(ps, p);
		json_object_object_add(m, "probes", ps);
		json_object_object_add(it, "measurement", m);
		json_object_array_add(its, it);
	}
	/* a failed iteration never counts */
	struct json_object *bad = json_object_new_object();
	json_object_object_add(bad, "target", json_object_new_string("0000:81:00.0"));
	json_object_object_add(bad, "placement", json_object_new_string("node0"));
	json_object_object_add(bad, "outcome", json_object_new_string("bind-failed"));
	json_object_object_add(bad, "bind_ns", json_object_new_int64(1));
	json_object_array_add(its, bad);
	if (extra_metric_target) {
		struct json_object *it = json_object_new_object();
		json_object_object_add(it, "target", json_object_new_string(extra_metric_target));
		json_object_object_add(it, "placement", json_object_new_string("node1"));
		json_object_object_add(it, "outcome", json_object_new_string("ok"));
		json_object_object_add(it, "bind_ns", json_object_new_int64(5));
		json_object_array_add(its, it);
	}
	json_object_object_add(r, "iterations", its);
	return r;
}

/* The record as compare reads it (pb_run_record_from_json); takes j. */
static struct pb_run_record *typed(struct json_object *j)
{
	struct pb_run_record *r = NULL;
	char err[256] = "";
	if (pb_run_record_from_json(j, &r, err, sizeof(err)) < 0)
		fail_msg("cannot load the record: %s", err);
	json_object_put(j);
	return r;
}

static struct pb_run_record *record(const char *kernel, uint64_t bind0, uint64_t step, int n,
				    int on_node, const char *extra_metric_target)
{
	return typed(record_json(kernel, bind0, step, n, on_node, extra_metric_target));
}

static const struct pb_compare_entry *find(const struct pb_compare *c, const char *metric)
{
	for (size_t i = 0; i < c->n_entries; i++)
		if (!strcmp(c->entries[i].key.metric, metric))
			return &c->entries[i];
	return NULL;
}

static const char *verdict(const struct pb_compare_entry *e)
{
	assert_non_null(e);
	return e->verdict;
}

static const struct pb_compare_share *find_share(const struct pb_compare *c, const char *metric)
{
	for (size_t i = 0; i < c->n_shares; i++)
		if (!strcmp(c->shares[i].key.metric, metric))
			return &c->shares[i];
	return NULL;
}

static bool listed(const struct pb_compare_key *k, size_t n, const char *metric)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(k[i].metric, metric))
			return true;
	return false;
}

static void compares_records(void **state)
{
	(void)state;
	/* candidate binds take twice as long; probes 8/20 -> 20/20 on the device's node */
	struct pb_run_record *a = record("6.1.0", 1000000, 1000, 20, 8, "0000:21:00.0");
	struct pb_run_record *b = record("6.1.0-numa", 2000000, 1000, 20, 20, "0000:22:00.0");
	struct pb_compare *c = NULL;
	char err[256] = "";
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &c, err, sizeof(err)), 0);
	const struct pb_compare_entry *bind = find(c, "bind_ns");
	assert_string_equal(verdict(bind), "slower");
	/* nearest-rank medians: rank ceil(0.5 * 20) = 10, i.e. bind0 + 9000 */
	CLOSE(bind->ratio, 2009000.0 / 1009000.0, 1e-9);
	assert_int_equal(bind->n_base, 20); /* the failed iteration left out */
	/* unbind identical on both sides */
	assert_string_equal(verdict(find(c, "unbind_ns")), "no significant change");
	assert_string_equal(verdict(find(c, "probe pci/e1000e depth 0")), "slower");
	assert_non_null(find_share(c, "probe pci/e1000e depth 0"));
	assert_string_equal(find_share(c, "probe pci/e1000e depth 0")->verdict,
			    "more on the device's node");
	/* each side's extra target is listed, not compared */
	assert_true(listed(c->only_base, c->n_only_base, "bind_ns"));
	assert_true(listed(c->only_cand, c->n_only_cand, "bind_ns"));
	assert_string_equal(c->cand.kernel, "6.1.0-numa");
	/* the document says the same */
	struct json_object *doc = pb_compare_to_json(c), *x;
	assert_true(json_object_object_get_ex(doc, "candidate", &x));
	assert_string_equal(json_object_get_string(json_object_object_get(x, "kernel")),
			    "6.1.0-numa");
	x = json_object_array_get_idx(json_object_object_get(doc, "comparisons"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(x, "metric")), "bind_ns");
	assert_int_equal(
	    json_object_get_int(json_object_object_get(json_object_object_get(x, "baseline"), "N")),
	    20);
	json_object_put(doc);
	/* a change smaller than min_change: significant, but not reported as slower */
	pb_compare_free(c);
	pb_run_record_free(b);
	b = record("6.1.0", 1010000, 1000, 20, 8, NULL);
	/* b: 1 % slower, very consistent */
	assert_int_equal(pb_compare_runs(a, "a.json", b, "b.json", 0.5, 0.02, &c, err, sizeof(err)),
			 0);
	assert_string_equal(verdict(find(c, "bind_ns")), "no change beyond min_change");
	pb_compare_free(c);
	pb_run_record_free(b);
	/* too few samples */
	b = record("6.1.0", 2000000, 1000, 3, 3, NULL);
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &c, err, sizeof(err)), 0);
	assert_string_equal(verdict(find(c, "bind_ns")), "too few samples");
	pb_compare_free(c);
	pb_run_record_free(b);
	pb_run_record_free(a);
}

static size_t probe_n(const struct pb_compare *c)
{
	const struct pb_compare_entry *e = find(c, "probe pci/e1000e depth 0");
	assert_non_null(e);
	return e->n_base;
}

/* A window that lost records, or whose bind succeeded with no probe seen, gives no probe facts
 * (as in the run's own summaries); the run's --include-lossy keeps the lossy ones. */
static void leaves_out_lossy_and_missing(void **state)
{
	(void)state;
	struct json_object *aj = record_json("6.1.0", 1000000, 1000, 20, 8, NULL);
	struct pb_run_record *b = record("6.1.0", 1000000, 1000, 20, 8, NULL);
	struct json_object *its = json_object_object_get(aj, "iterations");
	struct pb_compare *c = NULL;
	char err[256] = "";
	for (int i = 0; i < 3; i++)
		json_object_object_add(
		    json_object_object_get(json_object_array_get_idx(its, i), "measurement"),
		    "lost_records", json_object_new_int(5));
	json_object_object_add(
	    json_object_object_get(json_object_array_get_idx(its, 3), "measurement"),
	    "missing_probe", json_object_new_string("the bind succeeded and kprobe saw no probe"));
	struct pb_run_record *a = typed(json_object_get(aj));
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &c, err, sizeof(err)), 0);
	assert_int_equal(probe_n(c), 16);
	/* counted: 3 lossy, 1 missing a probe, and the failed iteration (not ok) */
	const struct pb_compare_entry *e = find(c, "probe pci/e1000e depth 0");
	assert_int_equal(e->spread_base.lossy, 3);
	assert_int_equal(e->spread_base.missing_probe, 1);
	assert_int_equal(e->spread_base.not_ok, 1);
	assert_int_equal(e->spread_cand.lossy, 0);
	/* the write times keep those iterations: only the failed one is left out */
	e = find(c, "bind_ns");
	assert_int_equal(e->n_base, 20);
	assert_int_equal(e->spread_base.lossy, 0);
	assert_int_equal(e->spread_base.not_ok, 1);
	struct json_object *doc = pb_compare_to_json(c), *x = NULL;
	struct json_object *cmp = json_object_object_get(doc, "comparisons");
	for (size_t i = 0; i < json_object_array_length(cmp); i++)
		if (!strcmp(json_object_get_string(json_object_object_get(
				json_object_array_get_idx(cmp, i), "metric")),
			    "probe pci/e1000e depth 0"))
			x = json_object_array_get_idx(cmp, i);
	assert_non_null(x);
	x = json_object_object_get(json_object_object_get(x, "baseline"), "left_out");
	assert_int_equal(json_object_get_int(json_object_object_get(x, "lossy")), 3);
	assert_int_equal(json_object_get_int(json_object_object_get(x, "missing_probe")), 1);
	json_object_put(doc);
	pb_compare_free(c);
	pb_run_record_free(a);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "include_lossy", json_object_new_boolean(true));
	json_object_object_add(aj, "options", o);
	a = typed(aj);
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &c, err, sizeof(err)), 0);
	assert_int_equal(probe_n(c), 19);
	assert_int_equal(find(c, "probe pci/e1000e depth 0")->spread_base.lossy, 0);
	pb_compare_free(c);
	pb_run_record_free(a);
	pb_run_record_free(b);
}

/* The measurement of a stored record's iteration i, NULL without; *n: how many iterations. */
static struct json_object *measurement_at(struct json_object *r, size_t i, size_t *n)
{
	struct json_object *its = json_object_object_get(r, "iterations");
	*n = json_object_array_length(its);
	return i < *n ? json_object_object_get(json_object_array_get_idx(its, i), "measurement")
		      : NULL;
}

/* Sets key to v on every probe of measurement m; takes v. */
static void set_on_probes(struct json_object *m, const char *key, struct json_object *v)
{
	struct json_object *ps = json_object_object_get(m, "probes");
	for (size_t k = 0; k < json_object_array_length(ps); k++)
		json_object_object_add(json_object_array_get_idx(ps, k), key, json_object_get(v));
	json_object_put(v);
}

/* The method of a stored record's measurements and probes (as `run --method` writes it). */
static struct json_object *with_method(struct json_object *r, const char *method)
{
	size_t n = 1;
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = measurement_at(r, i, &n);
		if (!m)
			continue;
		json_object_object_add(m, "method", json_object_new_string(method));
		set_on_probes(m, "method", json_object_new_string(method));
	}
	return r;
}

static const struct pb_compare_key *listed_key(const struct pb_compare_key *k, size_t n,
					       const char *metric)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(k[i].metric, metric))
			return &k[i];
	return NULL;
}

/* kprobe and tracepoint durations are not one series: a kprobe record and a tracepoint record
 * share their bind and unbind series only. */
static void method_in_the_key(void **state)
{
	(void)state;
	struct pb_run_record
	    *a = typed(with_method(record_json("6.1", 1000000, 1000, 20, 8, NULL), "kprobe")),
	    *b = typed(with_method(record_json("6.1", 1000000, 1000, 20, 8, NULL), "tracepoint")),
	    *b2 = typed(with_method(record_json("6.1", 1000000, 1000, 20, 8, NULL), "kprobe"));
	struct pb_compare *c = NULL;
	char err[256] = "";
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &c, err, sizeof(err)), 0);
	assert_non_null(find(c, "bind_ns"));
	assert_string_equal(find(c, "bind_ns")->key.method, "");
	assert_null(find(c, "probe pci/e1000e depth 0"));
	assert_int_equal(c->n_shares, 0);
	const struct pb_compare_key *ka = listed_key(c->only_base, c->n_only_base,
						     "probe pci/e1000e depth 0"),
				    *kb = listed_key(c->only_cand, c->n_only_cand,
						     "probe pci/e1000e depth 0");
	assert_non_null(ka);
	assert_non_null(kb);
	assert_string_equal(ka->method, "kprobe");
	assert_string_equal(kb->method, "tracepoint");
	struct json_object *doc = pb_compare_to_json(c);
	struct json_object *o =
	    json_object_array_get_idx(json_object_object_get(doc, "only_in_candidate"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "method")),
			    "tracepoint");
	json_object_put(doc);
	pb_compare_free(c);
	/* the same method on both sides: one series, keyed kprobe */
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b2, "b.json", 0.01, 0.02, &c, err, sizeof(err)), 0);
	assert_non_null(find(c, "probe pci/e1000e depth 0"));
	assert_string_equal(find(c, "probe pci/e1000e depth 0")->key.method, "kprobe");
	pb_compare_free(c);
	pb_run_record_free(a);
	pb_run_record_free(b);
	pb_run_record_free(b2);
}

/*
 * Several records a side, pooled, with the spread between records apart from the spread within.
 * Boot to boot: records with bind 1000000 + i and 2000000 + i (i = 0..9): within each the
 * sample variance of 0..9, 82.5 / 9; MS_w = (82.5 + 82.5) / 18; MS_b = 10 * 2 * 500000^2 / 1;
 * n0 = (20 - 200/20) / 1 = 10; variance between (MS_b - MS_w) / 10: nearly all of it.
 * Within: two records of the same 1000000 + 100000 i: equal means, MS_b = 0, the between
 * variance 0 and MS_w = 100000^2 * 82.5 / 9.
 */
/*
 * Kish's correction by hand: z 4 with a design effect of 4 is z 2, two-sided p erfc(2 / sqrt 2)
 * = 0.0455003; the interval [3, 8] around a shift of 5 grows by sqrt 4 = 2 each side: [1, 11].
 * A smaller p than the pooled one never comes out; a design effect of 1 changes nothing.
 */
static void clustered_samples(void **state)
{
	(void)state;
	struct pb_mwu m = {.z = 4, .p = 6.334e-5, .valid = true, .exact = true};
	struct pb_hl hl = {.shift = 5, .lo = 3, .hi = 8, .valid = true, .ci_valid = true};
	pb_mwu_clustered(&m, &hl, 4);
	CLOSE(m.z, 2, 1e-12);
	CLOSE(m.p, 0.0455003, 1e-6);
	assert_false(m.exact);
	CLOSE(hl.lo, 1, 1e-12);
	CLOSE(hl.hi, 11, 1e-12);
	struct pb_mwu big = {.z = 0.1, .p = 0.9, .valid = true};
	pb_mwu_clustered(&big, NULL, 4);
	CLOSE(big.p, erfc(0.05 / sqrt(2.0)), 1e-12); /* 0.960: larger, taken */
	struct pb_mwu exact = {.z = 0.1, .p = 0.99, .valid = true, .exact = true};
	pb_mwu_clustered(&exact, NULL, 4);
	CLOSE(exact.p, 0.99, 1e-12); /* the pooled exact p was larger still: kept */
	struct pb_mwu same = {.z = 4, .p = 6.334e-5, .valid = true, .exact = true};
	pb_mwu_clustered(&same, NULL, 1);
	CLOSE(same.p, 6.334e-5, 1e-12);
	assert_true(same.exact);
}

/* The one-way random-effects ICC(1) of Shrout and Fleiss: (MS_b - MS_w) / (MS_b + (n0 - 1) MS_w).
 * Groups {1,2,3} and {4,5,6}: MS_b 13.5, MS_w 1, n0 3: 12.5 / 15.5. */
static void anova_between_share(void **state)
{
	(void)state;
	size_t n[] = {3, 3, 0};
	double mean[] = {2, 5, 0}, ss[] = {2, 2, 0}, sb, sw;
	CLOSE(pb_anova_between_share(n, mean, ss, 3, &sb, &sw), 12.5 / 15.5, 1e-12);
	CLOSE(sw, 1, 1e-12);
	CLOSE(sb, sqrt(12.5 / 3), 1e-12);
	/* one group with values: no between share, the within spread still */
	assert_true(isnan(pb_anova_between_share(n, mean, ss, 1, &sb, &sw)));
	assert_true(isnan(sb));
	CLOSE(sw, 1, 1e-12);
	/* all values equal: nothing to share */
	double flat_mean[] = {1, 1}, flat_ss[] = {0, 0};
	assert_true(isnan(pb_anova_between_share(n, flat_mean, flat_ss, 2, NULL, NULL)));
}

/* Fisher on a table whose cells are divided by the design effect, never below the plain p. */
static void fisher_clustered(void **state)
{
	(void)state;
	CLOSE(pb_fisher_clustered_p(5, 0, 0, 5, 1), 2.0 / 252, 1e-12);
	/* 10/20 against 20/20 in records of 10: deff 10 leaves 1/2 against 2/2, p 1 */
	double plain = pb_fisher_exact_p(10, 10, 20, 0);
	assert_true(plain < 0.001);
	CLOSE(pb_fisher_clustered_p(10, 10, 20, 0, 10), pb_fisher_exact_p(1, 1, 2, 0), 1e-12);
	CLOSE(pb_fisher_clustered_p(10, 10, 20, 0, 10), 1, 1e-12);
	/* 20 against 0 of 20 each, deff 2: 10/10 against 0/10, p 2 / C(20,10) */
	CLOSE(pb_fisher_clustered_p(20, 0, 0, 20, 2), 2.0 / 184756, 1e-12);
	/* a division that would make p smaller keeps the plain one */
	assert_true(pb_fisher_clustered_p(3, 1, 1, 3, 1.01) >= pb_fisher_exact_p(3, 1, 1, 3));
}

/* Compares base records A (named a1.json, a2.json) with candidate records B (b1.json, b2.json)
 * at alpha 0.01, min_change 0.02; the comparison must succeed. */
static struct pb_compare *compare_sides(const struct pb_run_record *const *A, size_t na,
					const struct pb_run_record *const *B, size_t nb)
{
	static const char *an[] = {"a1.json", "a2.json"}, *bn[] = {"b1.json", "b2.json"};
	struct pb_compare *c = NULL;
	char err[256] = "";
	if (pb_compare_records(A, an, na, B, bn, nb, 0.01, 0.02, &c, err, sizeof(err)) < 0)
		fail_msg("compare: %s", err);
	return c;
}

/* A boot whose probes all ran on the device's node and one whose probes all ran elsewhere are
 * two observations, not twenty: the share test is clustered like the durations. */
static void clustered_shares(void **state)
{
	(void)state;
	struct pb_run_record *a1 = record("6.1", 1000000, 1, 10, 10, NULL),
			     *a2 = record("6.1", 1000000, 1, 10, 0, NULL),
			     *b1 = record("6.2", 1000000, 1, 10, 10, NULL),
			     *b2 = record("6.2", 1000000, 1, 10, 10, NULL);
	const struct pb_run_record *A[] = {a1, a2}, *B[] = {b1, b2};
	struct pb_compare *c = compare_sides(A, 2, B, 2);
	const struct pb_compare_share *s = find_share(c, "probe pci/e1000e depth 0");
	assert_non_null(s);
	assert_int_equal(s->base_yes, 10);
	assert_int_equal(s->base_n, 20);
	assert_int_equal(s->cand_yes, 20);
	/* side A's ICC is 1 (each record all or nothing), side B's undefined: 1 + 9 * 1 */
	CLOSE(s->design_effect, 10, 1e-9);
	CLOSE(s->p, 1, 1e-12);
	assert_string_equal(s->verdict, "no significant change");
	struct json_object *doc = pb_compare_to_json(c);
	struct json_object *x =
	    json_object_array_get_idx(json_object_object_get(doc, "node_shares"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(x, "p_method")),
			    "fisher, clustered");
	CLOSE(json_object_get_double(json_object_object_get(x, "design_effect")), 10, 1e-9);
	json_object_put(doc);
	pb_compare_free(c);
	/* one record a side: nothing known of boot to boot, the plain test */
	const struct pb_run_record *A1[] = {a2}, *B1[] = {b1};
	c = compare_sides(A1, 1, B1, 1);
	s = find_share(c, "probe pci/e1000e depth 0");
	CLOSE(s->design_effect, 1, 1e-12);
	CLOSE(s->p, pb_fisher_exact_p(0, 10, 10, 0), 1e-15);
	assert_string_equal(s->verdict, "more on the device's node");
	doc = pb_compare_to_json(c);
	x = json_object_array_get_idx(json_object_object_get(doc, "node_shares"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(x, "p_method")),
			    "fisher");
	json_object_put(doc);
	pb_compare_free(c);
	pb_run_record_free(a1);
	pb_run_record_free(a2);
	pb_run_record_free(b1);
	pb_run_record_free(b2);
}

static void several_records(void **state)
{
	(void)state;
	struct pb_run_record *a1 = record("6.1", 1000000, 1, 10, 10, NULL),
			     *a2 = record("6.1", 2000000, 1, 10, 10, NULL),
			     *b1 = record("6.2", 1000000, 100000, 10, 10, NULL),
			     *b2 = record("6.2", 1000000, 100000, 10, 10, NULL);
	const struct pb_run_record *A[] = {a1, a2}, *B[] = {b1, b2};
	const char *an[] = {"a1.json", "a2.json"}, *bn[] = {"b1.json", "b2.json"};
	struct pb_compare *c = compare_sides(A, 2, B, 2);
	char err[256] = "";
	assert_int_equal(c->n_base_runs, 2);
	assert_int_equal(c->n_cand_runs, 2);
	assert_string_equal(c->base_runs[1].file, "a2.json");
	const struct pb_compare_entry *e = find(c, "bind_ns");
	assert_non_null(e);
	assert_int_equal(e->n_base, 20); /* pooled */
	assert_int_equal(e->n_cand, 20);
	const struct pb_compare_spread *sa = &e->spread_base, *sb = &e->spread_cand;
	assert_int_equal(sa->records, 2);
	/* nearest-rank medians of 10: the 5th value, + 4 */
	assert_int_equal(sa->record_median[0], 1000004);
	assert_int_equal(sa->record_median[1], 2000004);
	double ms_w = 165.0 / 18;
	CLOSE(sa->sd_within, sqrt(ms_w), 1e-6);
	CLOSE(sa->sd_between, sqrt((5e12 - ms_w) / 10), 1e-3);
	assert_true(sa->between_share > 0.999999);
	assert_int_equal(sb->record_median[0], 1400000);
	assert_int_equal(sb->record_median[1], 1400000);
	CLOSE(sb->sd_between, 0, 1e-12);
	CLOSE(sb->between_share, 0, 1e-12);
	CLOSE(sb->sd_within, 100000 * sqrt(82.5 / 9), 1e-3);
	/* the document says how many records and lists them */
	struct json_object *doc = pb_compare_to_json(c), *x;
	x = json_object_object_get(doc, "baseline");
	assert_int_equal(json_object_get_int(json_object_object_get(x, "records")), 2);
	assert_int_equal(json_object_array_length(json_object_object_get(x, "runs")), 2);
	x = json_object_object_get(
	    json_object_array_get_idx(json_object_object_get(doc, "comparisons"), 0), "baseline");
	assert_int_equal(json_object_array_length(json_object_object_get(x, "record_medians")), 2);
	CLOSE(json_object_get_double(json_object_object_get(x, "between_share")), sa->between_share,
	      1e-12);
	json_object_put(doc);
	/* clustered: 10 samples per record, ICC ~1 on side A: design effect 1 + 9 * ICC */
	CLOSE(e->design_effect, 1 + 9 * sa->between_share, 1e-9);
	pb_compare_free(c);
	/* one record a side: the within spread only */
	c = compare_sides(A, 1, B, 1);
	e = find(c, "bind_ns");
	assert_int_equal(e->spread_base.records, 1);
	assert_true(isnan(e->spread_base.sd_between));
	assert_true(isnan(e->spread_base.between_share));
	CLOSE(e->spread_base.sd_within, sqrt(82.5 / 9), 1e-9);
	pb_compare_free(c);
	/* an empty side is refused */
	assert_int_equal(pb_compare_records(A, an, 2, B, bn, 0, 0.01, 0.02, &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "candidate has no run record"));
	pb_run_record_free(a1);
	pb_run_record_free(a2);
	pb_run_record_free(b1);
	pb_run_record_free(b2);
}

/* Holm over the duration series: two series each with the exact 5 vs 5 p of 2/252 (bind and the
 * probe; unbind is all tied, no test) are adjusted to 2 * 2/252 = 0.0159: not below 0.01, below
 * 0.02. The shares (5/5 on the node against 0/5: Fisher 2/252, the only share test) stay. */
static void holm_over_the_series(void **state)
{
	(void)state;
	struct pb_run_record *a = record("6.1", 1000000, 1000, 5, 0, NULL),
			     *b = record("6.1", 2000000, 1000, 5, 5, NULL);
	struct pb_compare *c = NULL;
	char err[256] = "";
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &c, err, sizeof(err)), 0);
	const struct pb_compare_entry *bind = find(c, "bind_ns"),
				      *probe = find(c, "probe pci/e1000e depth 0");
	assert_true(bind->mwu.exact);
	CLOSE(bind->mwu.p, 2.0 / 252, 1e-9);
	CLOSE(bind->p_adjusted, 4.0 / 252, 1e-9);
	CLOSE(probe->p_adjusted, 4.0 / 252, 1e-9);
	assert_false(find(c, "unbind_ns")->mwu.valid);
	assert_string_equal(bind->verdict, "no significant change");
	const struct pb_compare_share *s = find_share(c, "probe pci/e1000e depth 0");
	CLOSE(s->p, 2.0 / 252, 1e-9);
	CLOSE(s->p_adjusted, 2.0 / 252, 1e-9);
	assert_string_equal(s->verdict, "more on the device's node");
	/* the shift: every candidate bind 1000000 later, HL = 1000000 exactly; at 99 % (alpha
	 * 0.01) the interval is the whole range of the differences, 996000..1004000 */
	CLOSE(bind->hl.shift, 1000000, 1e-9);
	CLOSE(c->ci_level, 0.99, 1e-12);
	CLOSE(bind->hl.lo, 996000, 1e-9);
	CLOSE(bind->hl.hi, 1004000, 1e-9);
	pb_compare_free(c);
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.02, 0.02, &c, err, sizeof(err)), 0);
	assert_string_equal(find(c, "bind_ns")->verdict, "slower");
	pb_compare_free(c);
	pb_run_record_free(a);
	pb_run_record_free(b);
}

/* Every probe of a stored record ran on a CPU of node; a probe nested in the target's (depth 1,
 * virtio/child_drv, 300 us) listed before it in each iteration. */
static struct json_object *with_child_on_node(struct json_object *r, int node)
{
	size_t n = 1;
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = measurement_at(r, i, &n);
		if (!m)
			continue;
		struct json_object *ps = json_object_object_get(m, "probes"),
				   *child = json_object_new_object(),
				   *all = json_object_new_array();
		json_object_object_add(child, "depth", json_object_new_int(1));
		json_object_object_add(child, "bus", json_object_new_string("virtio"));
		json_object_object_add(child, "driver", json_object_new_string("child_drv"));
		json_object_object_add(child, "duration_ns", json_object_new_int64(300000 + i));
		json_object_array_add(all, child);
		for (size_t k = 0; k < json_object_array_length(ps); k++)
			json_object_array_add(all,
					      json_object_get(json_object_array_get_idx(ps, k)));
		json_object_object_add(m, "probes", all);
		set_on_probes(m, "node", json_object_new_int(node));
	}
	return r;
}

/* The verdict table: one row per probe series, the target's own probe first and the one nested
 * in it after it, at most 120 columns. */
static void verdict_table(void **state)
{
	(void)state;
	struct pb_run_record *a =
	    typed(with_child_on_node(record_json("6.1.0", 1000000, 1000, 20, 8, NULL), 1));
	struct json_object *bj = with_child_on_node(
			       record_json("6.1.0-numa", 2000000, 1000, 20, 20, NULL), 0),
			   *o = json_object_new_object();
	json_object_object_add(o, "entry", json_object_new_string("probe"));
	json_object_object_add(bj, "options", o);
	struct pb_run_record *b = typed(bj);
	struct pb_compare *c = NULL;
	char err[256] = "", *text = NULL, line[512];
	size_t size = 0, rows = 0;
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &c, err, sizeof(err)), 0);
	FILE *f = open_memstream(&text, &size);
	pb_compare_print_verdicts(f, c);
	fclose(f);
	f = fmemopen(text, size, "r");
	while (fgets(line, sizeof(line), f)) {
		assert_true(strlen(line) <= 121); /* 120 and the newline */
		if (strncmp(line, "0000:81:00.0", 12))
			continue;
		/* the entry paths of the two sides and the method */
		assert_non_null(strstr(line, " bind>probe/auto "));
		if (rows++ == 0) {
			/* the target's own probe: node 1 with 8 of 20 on the device's node before,
			 * node 0 with all after; the medians before -> after (the nearest-rank
			 * median of 500000 + i is 500009); the significant p */
			assert_non_null(strstr(line, " e1000e "));
			assert_non_null(strstr(line, " n1,40%->n0,100% "));
			assert_non_null(strstr(line, "500us->1.00ms"));
			assert_non_null(strstr(line, "*"));
		} else {
			/* the nested one after it: no device node, so no share. The same 300000 +
			 * i, i = 0..19, on both sides: every value tied twice, so the normal
			 * interval: var U = 400/12 * (41 - 20 * 6 / (40 * 39)) = 1364.1, k =
			 * floor(200 - 2.5758 * 36.93) = 104; the differences are j - i, and 91 of
			 * them are <= -7 (1 + 2 + .. + 13), 105 <= -6: d(104) = -6, and d(297) = +6
			 */
			assert_non_null(strstr(line, " +child_drv "));
			assert_non_null(strstr(line, " n1->n0 "));
			assert_non_null(strstr(line, " 300us->300us "));
			assert_non_null(strstr(line, " +0 [-6,+6]ns "));
			assert_null(strstr(line, "*"));
		}
	}
	fclose(f);
	assert_int_equal(rows, 2);
	free(text);
	pb_compare_free(c);
	pb_run_record_free(a);
	pb_run_record_free(b);
}

static void refuses_what_cannot_be_compared(void **state)
{
	(void)state;
	struct pb_run_record *a = record("6.1.0", 1000, 1, 10, 0, NULL);
	struct pb_compare *c = NULL;
	char err[256] = "";
	/* nothing in common: another target */
	struct pb_run_record *b = record("6.1.0", 1000, 1, 0, 0, "0000:99:00.0");
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "share no (target, placement, metric)"));
	assert_null(c);
	pb_run_record_free(a);
	pb_run_record_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(mann_whitney_exact),
	    cmocka_unit_test(mann_whitney_normal),
	    cmocka_unit_test(fisher_exact),
	    cmocka_unit_test(hodges_lehmann),
	    cmocka_unit_test(holm),
	    cmocka_unit_test(anova_between_share),
	    cmocka_unit_test(fisher_clustered),
	    cmocka_unit_test(clustered_shares),
	    cmocka_unit_test(compares_records),
	    cmocka_unit_test(leaves_out_lossy_and_missing),
	    cmocka_unit_test(method_in_the_key),
	    cmocka_unit_test(several_records),
	    cmocka_unit_test(clustered_samples),
	    cmocka_unit_test(holm_over_the_series),
	    cmocka_unit_test(verdict_table),
	    cmocka_unit_test(refuses_what_cannot_be_compared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

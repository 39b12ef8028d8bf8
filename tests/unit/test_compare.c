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

/* Textbook cases, p from the normal approximation with continuity correction (as R's
 * wilcox.test(exact = FALSE) and SciPy's mannwhitneyu(method="asymptotic") compute it). */
static void mann_whitney_known(void **state)
{
	(void)state;
	struct pb_mwu t;
	const uint64_t a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10};
	assert_int_equal(pb_mann_whitney(a, 5, b, 5, &t), 0);
	assert_true(t.valid);
	CLOSE(t.u, 0, 1e-9);
	CLOSE(t.z, -2.5067, 1e-3);
	CLOSE(t.p, 0.012186, 1e-5);
	/* symmetric: U of the other side is n1*n2 - U, same p */
	assert_int_equal(pb_mann_whitney(b, 5, a, 5, &t), 0);
	CLOSE(t.u, 25, 1e-9);
	CLOSE(t.p, 0.012186, 1e-5);
	/* ties: a = {1,2,2,3}, b = {2,3,3,4}; ranks 1,3,3,3,6,6,6,8 -> R_a = 1+3+3+6 = 13, U = 3;
	 * tie term (27-3)+(27-3) = 48; var = 16/12 * (9 - 48/56) = 10.857; z = (3-8+0.5)/3.295 */
	const uint64_t c[] = {1, 2, 2, 3}, d[] = {2, 3, 3, 4};
	assert_int_equal(pb_mann_whitney(c, 4, d, 4, &t), 0);
	CLOSE(t.u, 3, 1e-9);
	CLOSE(t.z, -4.5 / sqrt(16.0 / 12.0 * (9 - 48.0 / 56.0)), 1e-9);
	/* identical samples: p = 1; all tied: not valid; empty: not valid */
	assert_int_equal(pb_mann_whitney(a, 5, a, 5, &t), 0);
	CLOSE(t.p, 1, 1e-12);
	const uint64_t e[] = {7, 7, 7};
	assert_int_equal(pb_mann_whitney(e, 3, e, 3, &t), 0);
	assert_false(t.valid);
	CLOSE(t.p, 1, 1e-12);
	assert_int_equal(pb_mann_whitney(a, 0, b, 5, &t), 0);
	assert_false(t.valid);
}

static void two_proportions(void **state)
{
	(void)state;
	/* 10/20 vs 18/20: pooled 0.7, se = sqrt(.21 * .1) = 0.1449, z = 2.760, p = 0.00578 */
	CLOSE(pb_two_proportion_p(10, 20, 18, 20), 0.00578, 1e-4);
	CLOSE(pb_two_proportion_p(5, 10, 5, 10), 1, 1e-12);
	CLOSE(pb_two_proportion_p(10, 10, 10, 10), 1, 1e-12); /* no variance */
	CLOSE(pb_two_proportion_p(0, 0, 1, 2), 1, 1e-12);
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
	pb_compare_free(c);
	pb_run_record_free(a);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "include_lossy", json_object_new_boolean(true));
	json_object_object_add(aj, "options", o);
	a = typed(aj);
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &c, err, sizeof(err)), 0);
	assert_int_equal(probe_n(c), 19);
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
	    cmocka_unit_test(mann_whitney_known),
	    cmocka_unit_test(two_proportions),
	    cmocka_unit_test(compares_records),
	    cmocka_unit_test(leaves_out_lossy_and_missing),
	    cmocka_unit_test(refuses_what_cannot_be_compared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

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

/* A run record with one target and placement: bind values and a probe per iteration. */
static struct json_object *record(const char *kernel, uint64_t bind0, uint64_t step, int n,
				  int on_node, const char *extra_metric_target)
{
	struct json_object *r = json_object_new_object(), *its = json_object_new_array(),
			   *un = json_object_new_object();
	json_object_object_add(un, "release", json_object_new_string(kernel));
	json_object_object_add(r, "uname", un);
	json_object_object_add(r, "status", json_object_new_string("complete"));
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
	json_object_object_add(bad, "outcome", json_object_new_string("bind_failed"));
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

static struct json_object *find(struct json_object *doc, const char *list, const char *metric)
{
	struct json_object *arr;
	assert_true(json_object_object_get_ex(doc, list, &arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *m;
		if (json_object_object_get_ex(e, "metric", &m) &&
		    !strcmp(json_object_get_string(m), metric))
			return e;
	}
	return NULL;
}

static const char *verdict(struct json_object *e)
{
	struct json_object *v;
	assert_non_null(e);
	assert_true(json_object_object_get_ex(e, "verdict", &v));
	return json_object_get_string(v);
}

static void compares_records(void **state)
{
	(void)state;
	/* candidate binds take twice as long; probes 8/20 -> 20/20 on the device's node */
	struct json_object *a = record("6.1.0", 1000000, 1000, 20, 8, "0000:21:00.0");
	struct json_object *b = record("6.1.0-numa", 2000000, 1000, 20, 20, "0000:22:00.0");
	struct json_object *doc = NULL;
	char err[256] = "";
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &doc, err, sizeof(err)), 0);
	struct json_object *bind = find(doc, "comparisons", "bind_ns");
	assert_string_equal(verdict(bind), "slower");
	struct json_object *x;
	assert_true(json_object_object_get_ex(bind, "ratio", &x));
	/* nearest-rank medians: rank ceil(0.5 * 20) = 10, i.e. bind0 + 9000 */
	CLOSE(json_object_get_double(x), 2009000.0 / 1009000.0, 1e-9);
	assert_true(json_object_object_get_ex(bind, "baseline", &x));
	assert_true(json_object_object_get_ex(x, "N", &x));
	assert_int_equal(json_object_get_int(x), 20); /* the failed iteration left out */
	/* unbind identical on both sides */
	assert_string_equal(verdict(find(doc, "comparisons", "unbind_ns")),
			    "no significant change");
	assert_string_equal(verdict(find(doc, "comparisons", "probe pci/e1000e depth 0")),
			    "slower");
	assert_string_equal(verdict(find(doc, "node_shares", "probe pci/e1000e depth 0")),
			    "more on the device's node");
	/* each side's extra target is listed, not compared */
	assert_non_null(find(doc, "only_in_baseline", "bind_ns"));
	assert_non_null(find(doc, "only_in_candidate", "bind_ns"));
	assert_true(json_object_object_get_ex(doc, "candidate", &x));
	assert_true(json_object_object_get_ex(x, "kernel", &x));
	assert_string_equal(json_object_get_string(x), "6.1.0-numa");
	/* a change smaller than min_change: significant, but not reported as slower */
	json_object_put(doc);
	json_object_put(b);
	b = record("6.1.0", 1010000, 1000, 20, 8, NULL);
	/* b: 1 % slower, very consistent */
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.5, 0.02, &doc, err, sizeof(err)), 0);
	assert_string_equal(verdict(find(doc, "comparisons", "bind_ns")),
			    "no change beyond min_change");
	json_object_put(doc);
	json_object_put(b);
	/* too few samples */
	b = record("6.1.0", 2000000, 1000, 3, 3, NULL);
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &doc, err, sizeof(err)), 0);
	assert_string_equal(verdict(find(doc, "comparisons", "bind_ns")), "too few samples");
	json_object_put(doc);
	json_object_put(b);
	json_object_put(a);
}

static int64_t probe_n(struct json_object *doc)
{
	struct json_object *x, *e = find(doc, "comparisons", "probe pci/e1000e depth 0");
	assert_non_null(e);
	assert_true(json_object_object_get_ex(e, "baseline", &x));
	assert_true(json_object_object_get_ex(x, "N", &x));
	return json_object_get_int64(x);
}

/* A window that lost records, or whose bind succeeded with no probe seen, gives no probe facts
 * (as in the run's own summaries); the run's --include-lossy keeps the lossy ones. */
static void leaves_out_lossy_and_missing(void **state)
{
	(void)state;
	struct json_object *a = record("6.1.0", 1000000, 1000, 20, 8, NULL);
	struct json_object *b = record("6.1.0", 1000000, 1000, 20, 8, NULL);
	struct json_object *its = json_object_object_get(a, "iterations"), *doc = NULL;
	char err[256] = "";
	for (int i = 0; i < 3; i++)
		json_object_object_add(
		    json_object_object_get(json_object_array_get_idx(its, i), "measurement"),
		    "lost_records", json_object_new_int(5));
	json_object_object_add(
	    json_object_object_get(json_object_array_get_idx(its, 3), "measurement"),
	    "missing_probe", json_object_new_string("the bind succeeded and kprobe saw no probe"));
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &doc, err, sizeof(err)), 0);
	assert_int_equal(probe_n(doc), 16);
	json_object_put(doc);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "include_lossy", json_object_new_boolean(true));
	json_object_object_add(a, "options", o);
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &doc, err, sizeof(err)), 0);
	assert_int_equal(probe_n(doc), 19);
	json_object_put(doc);
	json_object_put(a);
	json_object_put(b);
}

static void refuses_what_cannot_be_compared(void **state)
{
	(void)state;
	struct json_object *a = record("6.1.0", 1000, 1, 10, 0, NULL), *doc = NULL;
	struct json_object *notrec = json_object_new_object();
	char err[256] = "";
	assert_int_equal(
	    pb_compare_runs(a, "a.json", notrec, "x.json", 0.01, 0.02, &doc, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "x.json: not a run record"));
	assert_null(doc);
	/* nothing in common */
	struct json_object *b = json_object_new_object();
	json_object_object_add(b, "iterations", json_object_new_array());
	assert_int_equal(
	    pb_compare_runs(a, "a.json", b, "b.json", 0.01, 0.02, &doc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "share no (target, placement, metric)"));
	assert_null(doc);
	json_object_put(a);
	json_object_put(b);
	json_object_put(notrec);
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

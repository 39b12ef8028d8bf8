/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Comparing two run records (a baseline and a candidate, e.g. a kernel before and after a change
 * to the probe path). Pure: reads json-c objects, builds a json-c document; no I/O but printing.
 *
 * Series are matched by (target, placement) and metric: bind_ns, unbind_ns, the kernel's bind
 * uevent, and each probe group's duration (depth, bus, driver); only iterations with outcome
 * "ok" count. Each pair of series gets its medians, their ratio and a two-sided Mann-Whitney U
 * test; the share of probes on the device's node gets a two-proportion z test.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json_object;

struct pb_mwu {
	double u;   /* U of the first sample */
	double z;   /* normal approximation, continuity- and tie-corrected */
	double p;   /* two-sided p-value */
	bool valid; /* false when either sample is empty or every value is tied */
};

/* Two-sided Mann-Whitney U test (normal approximation). Returns 0 or -ENOMEM. */
int pb_mann_whitney(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, struct pb_mwu *ret);

/* Two-sided two-proportion z test of ya/na against yb/nb; p = 1 when undefined. */
double pb_two_proportion_p(uint64_t ya, uint64_t na, uint64_t yb, uint64_t nb);

/*
 * The comparison document (schema/compare.schema.json). alpha: significance level of the
 * verdicts; min_change: relative change of the medians below which a significant difference is
 * still reported as "no change" (e.g. 0.02). -EINVAL with a reason in err when a record is not
 * a run record or the two share no (target, placement).
 */
int pb_compare_runs(struct json_object *base, const char *base_name, struct json_object *cand,
		    const char *cand_name, double alpha, double min_change,
		    struct json_object **ret, char *err, size_t err_size);

/* The terminal table of a comparison document. */
void pb_compare_print(FILE *f, struct json_object *doc);

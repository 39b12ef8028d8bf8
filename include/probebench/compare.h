/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Comparing two run records (a baseline and a candidate, e.g. a kernel before and after a change
 * to the probe path). Pure: typed records in, a typed comparison out (and its JSON document);
 * no I/O but printing.
 *
 * Series are matched by (target, placement) and metric: bind_ns, unbind_ns, the kernel's bind
 * uevent, and each probe group's duration (depth, bus, driver); only iterations with outcome
 * "ok" count. Each pair of series gets its medians, their ratio and a two-sided Mann-Whitney U
 * test (exact for small samples without ties); the share of probes on the device's node gets
 * Fisher's exact test. The tests and estimates themselves: compare_stats.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probebench/stats.h"

struct json_object;

/* The exact distribution of U is used when both samples are smaller than this and no value is
 * tied (as R's wilcox.test does); else the normal approximation. */
#define PB_MWU_EXACT_MAX 50

struct pb_mwu {
	double u;   /* U of the first sample */
	double z;   /* normal approximation, continuity- and tie-corrected */
	double p;   /* two-sided p-value */
	bool valid; /* false when either sample is empty or every value is tied */
	bool exact; /* p from the exact distribution of U; else from z */
};

/* Whether samples of na and nb values get the exact distribution of U. */
bool pb_mwu_exact_applies(size_t na, size_t nb, bool ties);

/* Two-sided Mann-Whitney U test. Returns 0 or -ENOMEM. */
int pb_mann_whitney(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, struct pb_mwu *ret);

/* The Hodges-Lehmann estimate of the shift from a to b and its confidence interval. */
struct pb_hl {
	double shift;  /* median of the na * nb differences b[j] - a[i] */
	double lo, hi; /* the interval, when ci_valid */
	double level;  /* its nominal confidence level, e.g. 0.99 */
	bool valid;    /* false when either sample is empty */
	bool ci_valid; /* false when no interval of that level exists (samples too small) */
	bool exact;    /* interval from the exact distribution of U; else the normal one */
};

/*
 * Shift and interval at confidence level (0 < level < 1): the interval between the k-th
 * smallest and the k-th largest difference, k from the exact distribution of U (no ties, both
 * samples below PB_MWU_EXACT_MAX) or its normal approximation. Returns 0 or -ENOMEM.
 */
int pb_hodges_lehmann(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, double level,
		      struct pb_hl *ret);

/* Fisher's exact test of the 2x2 table [[a, b], [c, d]], two-sided (R's fisher.test). */
double pb_fisher_exact_p(uint64_t a, uint64_t b, uint64_t c, uint64_t d);

/* Holm's step-down adjustment of n p-values into adj (may not alias p). 0 or -ENOMEM. */
int pb_holm_adjust(const double *p, size_t n, double *adj);

struct pb_run_record;

/* One record's identity in a comparison. */
struct pb_compare_run {
	char file[256], kernel[128], host[128], tool_version[32], status[16]; /* "" unknown */
};

/* A (target, placement, metric) series. */
struct pb_compare_key {
	char target[128], placement[32], metric[160];
};

struct pb_compare_entry {
	struct pb_compare_key key;
	size_t n_base, n_cand;
	struct pb_stats base, cand; /* meaningful when n_base, n_cand > 0 */
	double ratio;		    /* of the medians, candidate / baseline; NAN when undefined */
	struct pb_mwu mwu;
	const char *verdict; /* slower, faster, no significant change, too few samples, ... */
};

/* Share of a probe group's probes on the device's node, on both sides. */
struct pb_compare_share {
	struct pb_compare_key key;
	uint64_t base_yes, base_n, cand_yes, cand_n;
	double p;
	const char *verdict;
};

struct pb_compare {
	struct pb_compare_run base, cand;
	double alpha, min_change;
	struct pb_compare_entry *entries;
	size_t n_entries;
	struct pb_compare_share *shares;
	size_t n_shares;
	struct pb_compare_key *only_base, *only_cand; /* series one side has and the other not */
	size_t n_only_base, n_only_cand;
};

/*
 * Compares two run records (record.h). alpha: significance level of the verdicts; min_change:
 * relative change of the medians below which a significant difference is still reported as "no
 * change" (e.g. 0.02). -EINVAL with a reason in err when the two share no (target, placement,
 * metric), -ENOMEM.
 */
int pb_compare_runs(const struct pb_run_record *base, const char *base_name,
		    const struct pb_run_record *cand, const char *cand_name, double alpha,
		    double min_change, struct pb_compare **ret, char *err, size_t err_size);
void pb_compare_free(struct pb_compare *c);

/* The comparison document (schema/compare.schema.json). */
struct json_object *pb_compare_to_json(const struct pb_compare *c);

/* The terminal table. */
void pb_compare_print(FILE *f, const struct pb_compare *c);

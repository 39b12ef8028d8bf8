/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Comparing run records: one or more of a baseline against one or more of a candidate (e.g. a
 * kernel before and after a change to the probe path, each record one boot). Pure: typed
 * records in, a typed comparison out (and its JSON document); no I/O but printing.
 *
 * Series are matched by (target, placement), metric and, for probe durations, the measurement
 * method: bind_ns, unbind_ns, the kernel's bind uevent, and each probe group's duration (depth,
 * bus, driver); only iterations with outcome "ok" count. The samples of a side are pooled over
 * its records; the spread between the records (boot to boot) is reported apart from the spread
 * within them. Each pair of series gets its medians, their ratio, a two-sided Mann-Whitney U
 * test (exact for small samples without ties) and the Hodges-Lehmann shift with its interval;
 * the share of probes on the device's node gets Fisher's exact test. Holm's adjustment runs
 * over the duration tests of a comparison, and apart from it over the share tests.
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

/* The test and interval of samples clustered in records: z / sqrt(deff), p from it (never below
 * the p given), the interval's half-widths times sqrt(deff). deff <= 1 changes nothing. */
void pb_mwu_clustered(struct pb_mwu *m, struct pb_hl *hl, double deff);

/*
 * Shift and interval at confidence level (0 < level < 1): the interval between the k-th
 * smallest and the k-th largest difference, k from the exact distribution of U (no ties, both
 * samples below PB_MWU_EXACT_MAX) or its normal approximation. Returns 0 or -ENOMEM.
 */
int pb_hodges_lehmann(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, double level,
		      struct pb_hl *ret);

/* Fisher's exact test of the 2x2 table [[a, b], [c, d]], two-sided (R's fisher.test). */
double pb_fisher_exact_p(uint64_t a, uint64_t b, uint64_t c, uint64_t d);

/*
 * One-way random-effects analysis of variance with k groups of n[i] values, given each group's
 * mean and the sum of squared deviations from it: the share of the variance that lies between
 * groups (the intraclass correlation), NAN when it is not defined (fewer than two groups, or no
 * variance at all); sd_between and sd_within when not NULL (NAN when not defined).
 */
double pb_anova_between_share(const size_t *n, const double *mean, const double *ss_within,
			      size_t k, double *sd_between, double *sd_within);

/* Fisher's exact test of counts clustered in records: every cell divided by the design effect
 * deff and rounded (the table's effective size), never below the p of the table as given.
 * deff <= 1: pb_fisher_exact_p(). */
double pb_fisher_clustered_p(uint64_t a, uint64_t b, uint64_t c, uint64_t d, double deff);

/* Holm's step-down adjustment of n p-values into adj (may not alias p). 0 or -ENOMEM. */
int pb_holm_adjust(const double *p, size_t n, double *adj);

struct pb_run_record;

/* One record's identity in a comparison. */
struct pb_compare_run {
	char file[256], kernel[128], host[128], tool_version[32], status[16]; /* "" unknown */
	char entry[8]; /* bind, probe, module */
};

/* A (target, placement, metric, method) series; method "" for series of no probe method. */
struct pb_compare_key {
	char target[128], placement[32], metric[160], method[16];
};

/* One side of a series, record by record. */
struct pb_compare_spread {
	size_t records;		/* records of the side with samples in this series */
	int64_t *record_median; /* per record of the side, in order; -1: none there */
	/* Square roots of the variance components of a one-way random-effects analysis of
	 * variance (records the groups): between records (boot to boot) and within them; their
	 * share of the sum. NAN when undefined (one record, or fewer samples than records + 1). */
	double sd_between, sd_within, between_share;
	/* iterations of this (target, placement) left out: outcome not ok; for the observer's
	 * series (uevent, probes of the method) also lost records and a missing probe */
	uint64_t not_ok, lossy, missing_probe;
};

struct pb_compare_entry {
	struct pb_compare_key key;
	size_t n_base, n_cand;
	struct pb_stats base, cand; /* meaningful when n_base, n_cand > 0 */
	double ratio;		    /* of the medians, candidate / baseline; NAN when undefined */
	struct pb_mwu mwu;
	double p_adjusted; /* Holm, over the duration series of the comparison */
	struct pb_hl hl;   /* candidate - baseline, at the comparison's ci_level */
	struct pb_compare_spread spread_base, spread_cand;
	/* Several records a side: the samples of one record (boot) are not independent. The design
	 * effect 1 + (m - 1) ICC (Kish; m samples per record, ICC the larger between-record share
	 * of the two sides) divides z^2 and widens the interval; 1: none applied. */
	double design_effect;
	int node_base, node_cand; /* probe series: the commonest node of the probing CPU; -1 */
	const char *verdict;	  /* slower, faster, no significant change, too few samples, ... */
};

/* Share of a probe group's probes on the device's node, on both sides. */
struct pb_compare_share {
	struct pb_compare_key key;
	uint64_t base_yes, base_n, cand_yes, cand_n;
	double p; /* Fisher's exact test, clustered when design_effect > 1 */
	double
	    design_effect; /* of the probes' on/off outcomes in their records, as for durations */
	double p_adjusted; /* Holm, over the share tests of the comparison */
	const char *verdict;
};

struct pb_compare {
	struct pb_compare_run base, cand;	      /* the first record of each side */
	struct pb_compare_run *base_runs, *cand_runs; /* every record of each side */
	size_t n_base_runs, n_cand_runs;
	double alpha, min_change;
	double ci_level; /* of the Hodges-Lehmann intervals: 1 - alpha */
	struct pb_compare_entry *entries;
	size_t n_entries;
	struct pb_compare_share *shares;
	size_t n_shares;
	struct pb_compare_key *only_base, *only_cand; /* series one side has and the other not */
	size_t n_only_base, n_only_cand;
};

/*
 * Compares n_base run records (record.h) with n_cand others, each side's samples pooled per
 * series. alpha: significance level of the verdicts (on Holm-adjusted p); min_change: relative
 * change of the medians below which a significant difference is still reported as "no change"
 * (e.g. 0.02). -EINVAL with a reason in err when the two sides share no series or a side is
 * empty, -ENOMEM.
 */
int pb_compare_records(const struct pb_run_record *const *base, const char *const *base_names,
		       size_t n_base, const struct pb_run_record *const *cand,
		       const char *const *cand_names, size_t n_cand, double alpha,
		       double min_change, struct pb_compare **ret, char *err, size_t err_size);
/* One record against one. */
int pb_compare_runs(const struct pb_run_record *base, const char *base_name,
		    const struct pb_run_record *cand, const char *cand_name, double alpha,
		    double min_change, struct pb_compare **ret, char *err, size_t err_size);
void pb_compare_free(struct pb_compare *c);

/* The comparison document (schema/compare.schema.json). */
struct json_object *pb_compare_to_json(const struct pb_compare *c);

/* The terminal tables: every series, then the verdict table (at most 120 columns). */
void pb_compare_print(FILE *f, const struct pb_compare *c);
/* Only the verdict table: one row per probe series, to paste under a patch. */
void pb_compare_print_verdicts(FILE *f, const struct pb_compare *c);

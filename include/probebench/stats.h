/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Summary statistics of a sample of unsigned nanosecond (or any uint64) values. Pure: no I/O,
 * no allocation beyond a sorted copy. Shared by the cycle engine (bind/unbind wall-clock times)
 * and the probe measurement (probe durations).
 *
 * Percentiles use the nearest-rank method on the sorted sample: p-th percentile is the value at
 * 1-based rank ceil(p/100 * N). The log2 histogram counts each value v >= 1 in the bucket
 * [2^k, 2^(k+1)) keyed by its floor 2^k; v == 0 is keyed 0.
 */
#include <stddef.h>
#include <stdint.h>

struct json_object;

#define PB_STATS_N_PERCENTILES 4
extern const double pb_stats_percentiles[PB_STATS_N_PERCENTILES]; /* 50, 90, 99, 99.9 */

#define PB_STATS_N_BINS 65

struct pb_stats {
	size_t n;
	uint64_t min, max;
	double mean, stddev; /* population standard deviation */
	uint64_t percentile[PB_STATS_N_PERCENTILES];
	uint64_t bins[PB_STATS_N_BINS]; /* bins[0]: value 0; bins[k + 1]: [2^k, 2^(k+1)) */
};

/* Fills *ret from n samples (n may be 0: everything zero). Returns 0 or -ENOMEM. */
int pb_stats_compute(const uint64_t *samples, size_t n, struct pb_stats *ret);

/* Nearest-rank percentile of an already sorted array; n > 0. */
uint64_t pb_stats_percentile_sorted(const uint64_t *sorted, size_t n, double p);

/* The floor of v's log2 bucket: 0 for 0, else the largest power of two <= v. */
uint64_t pb_stats_bucket_floor(uint64_t v);

/* fio-style key of a percentile: 99.9 -> "99.900000". buf >= 16 bytes. */
void pb_stats_percentile_key(double p, char *buf, size_t size);

/*
 * {"N", "min", "max", "mean", "stddev", "percentile": {"50.000000": ...}, "bins": {"1024": 3}}.
 * bins lists only non-empty buckets. NULL on allocation failure.
 */
struct json_object *pb_stats_to_json(const struct pb_stats *s);

// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/stats.h"

const double pb_stats_percentiles[PB_STATS_N_PERCENTILES] = {50.0, 90.0, 99.0, 99.9};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t pb_stats_percentile_sorted(const uint64_t *sorted, size_t n, double p)
{
	/* Rank in 1..n; the small epsilon keeps 0.999 * 1000 from rounding up to 1000.0000001. */
	double r = ceil(p / 100.0 * (double)n - 1e-9);
	size_t rank = r < 1.0 ? 1 : (size_t)r;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

uint64_t pb_stats_bucket_floor(uint64_t v)
{
	if (!v)
		return 0;
	return UINT64_C(1) << (63 - __builtin_clzll(v));
}

static size_t bucket_index(uint64_t v)
{
	return v ? (size_t)(64 - __builtin_clzll(v)) : 0;
}

void pb_stats_percentile_key(double p, char *buf, size_t size)
{
	snprintf(buf, size, "%f", p);
}

int pb_stats_compute(const uint64_t *samples, size_t n, struct pb_stats *ret)
{
	struct pb_stats s = {.n = n};
	if (n) {
		uint64_t *sorted = malloc(n * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		memcpy(sorted, samples, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), cmp_u64);
		s.min = sorted[0];
		s.max = sorted[n - 1];
		/* Welford: stable for large values with small spread. */
		double mean = 0, m2 = 0;
		for (size_t i = 0; i < n; i++) {
			double x = (double)sorted[i], d = x - mean;
			mean += d / (double)(i + 1);
			m2 += d * (x - mean);
			s.bins[bucket_index(sorted[i])]++;
		}
		s.mean = mean;
		s.stddev = sqrt(m2 / (double)n);
		for (size_t k = 0; k < PB_STATS_N_PERCENTILES; k++)
			s.percentile[k] =
			    pb_stats_percentile_sorted(sorted, n, pb_stats_percentiles[k]);
		free(sorted);
	}
	*ret = s;
	return 0;
}

struct json_object *pb_stats_to_json(const struct pb_stats *s)
{
	struct json_object *o = json_object_new_object(), *pct = json_object_new_object(),
			   *bins = json_object_new_object();
	if (!o || !pct || !bins) {
		json_object_put(o);
		json_object_put(pct);
		json_object_put(bins);
		return NULL;
	}
	json_object_object_add(o, "N", json_object_new_uint64(s->n));
	json_object_object_add(o, "min", json_object_new_uint64(s->min));
	json_object_object_add(o, "max", json_object_new_uint64(s->max));
	json_object_object_add(o, "mean", json_object_new_double(s->mean));
	json_object_object_add(o, "stddev", json_object_new_double(s->stddev));
	for (size_t k = 0; k < PB_STATS_N_PERCENTILES; k++) {
		char key[32];
		pb_stats_percentile_key(pb_stats_percentiles[k], key, sizeof(key));
		json_object_object_add(pct, key, json_object_new_uint64(s->percentile[k]));
	}
	json_object_object_add(o, "percentile", pct);
	for (size_t i = 0; i < PB_STATS_N_BINS; i++) {
		if (!s->bins[i])
			continue;
		char key[32];
		snprintf(key, sizeof(key), "%" PRIu64, i ? UINT64_C(1) << (i - 1) : 0);
		json_object_object_add(bins, key, json_object_new_uint64(s->bins[i]));
	}
	json_object_object_add(o, "bins", bins);
	return o;
}

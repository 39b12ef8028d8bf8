// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The shared observer's pure parts (no I/O): how big each per-CPU ring is, and which of the
 * decoded records belong to one target's window. measure_perf.c does the perf plumbing.
 */
#include <stdlib.h>
#include <string.h>

#include "probebench/measure.h"

unsigned pb_perf_ring_pages_for(long n_cpus, unsigned asked)
{
	if (asked)
		return asked;
	if (n_cpus < 1)
		n_cpus = 1;
	/* PB_RING_BUDGET_PAGES per kind of ring over all CPUs, at least PB_RING_MIN_PAGES each. */
	unsigned long per = PB_RING_BUDGET_PAGES / (unsigned long)n_cpus;
	unsigned pages = PB_RING_MIN_PAGES;
	while (pages < PB_RING_MAX_PAGES && (unsigned long)pages * 2 <= per)
		pages *= 2;
	return pages;
}

static int cmp_ts(const void *a, const void *b)
{
	const struct pb_mevent *x = a, *y = b;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

size_t pb_mevent_window(const struct pb_mevent *pool, size_t n, uint64_t start, uint64_t stop,
			struct pb_mevent *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (pool[i].ts >= start && pool[i].ts <= stop)
			out[k++] = pool[i];
	if (k > 1)
		qsort(out, k, sizeof(*out), cmp_ts);
	return k;
}

size_t pb_mevent_trim(struct pb_mevent *pool, size_t n, uint64_t keep_from)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (pool[i].ts >= keep_from) {
			if (k != i)
				pool[k] = pool[i];
			k++;
		}
	return k;
}

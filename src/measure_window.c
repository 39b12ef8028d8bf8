// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The shared observer's pure parts (no I/O): how big each per-CPU ring is, and which of the
 * decoded records belong to one target's window. measure_perf.c does the perf plumbing.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/measure.h"
#include "probebench/util.h"

/* budget pages over n_cpus CPUs: the largest power of two within the share, min to max. */
static unsigned share(long n_cpus, unsigned budget, unsigned min, unsigned max)
{
	if (n_cpus < 1)
		n_cpus = 1;
	unsigned long per = budget / (unsigned long)n_cpus;
	unsigned pages = min;
	while (pages < max && (unsigned long)pages * 2 <= per)
		pages *= 2;
	return pages;
}

unsigned pb_perf_ring_pages_for(long n_cpus, unsigned asked)
{
	return asked ? asked
		     : share(n_cpus, PB_RING_BUDGET_PAGES, PB_RING_MIN_PAGES, PB_RING_MAX_PAGES);
}

unsigned pb_perf_kept_ring_pages_for(long n_cpus)
{
	return share(n_cpus, PB_KEPT_RING_BUDGET_PAGES, PB_KEPT_RING_MIN_PAGES,
		     PB_KEPT_RING_MAX_PAGES);
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

const char *pb_buffer_name(enum pb_buffer b)
{
	return b == PB_BUFFER_PERF ? "perf" : b == PB_BUFFER_FTRACE ? "ftrace" : "auto";
}

int pb_buffer_parse(const char *s)
{
	for (int b = PB_BUFFER_AUTO; b <= PB_BUFFER_FTRACE; b++)
		if (!strcmp(s, pb_buffer_name((enum pb_buffer)b)))
			return b;
	return -EINVAL;
}

enum pb_buffer pb_buffer_choose(enum pb_buffer asked, size_t n_events, long n_cpus, char *why,
				size_t why_size)
{
	size_t fds = n_events * (size_t)(n_cpus > 0 ? n_cpus : 1);
	if (asked != PB_BUFFER_AUTO) {
		snprintf(why, why_size, "--buffer %s", pb_buffer_name(asked));
		return asked;
	}
	bool perf = fds <= PB_PERF_AUTO_MAX_FDS;
	snprintf(why, why_size,
		 "auto: perf events would hold %zu descriptors (%zu events on %ld CPUs), %s %u",
		 fds, n_events, n_cpus, perf ? "within" : "more than", PB_PERF_AUTO_MAX_FDS);
	return perf ? PB_BUFFER_PERF : PB_BUFFER_FTRACE;
}

int pb_ftrace_stats_dropped(const char *stats, uint64_t *dropped)
{
	const char *d = stats ? strstr(stats, "dropped events:") : NULL;
	char num[24];
	long v;
	if (!d)
		return -EINVAL;
	d += strlen("dropped events:");
	d += strspn(d, " \t");
	size_t len = strcspn(d, "\n");
	if (len == 0 || len >= sizeof(num) || *d < '0' || *d > '9')
		return -EINVAL;
	memcpy(num, d, len);
	num[len] = 0;
	if (pb_parse_long(num, 10, 0, LONG_MAX, &v) < 0)
		return -EINVAL;
	*dropped = (uint64_t)v;
	return 0;
}

long pb_ftrace_instance_pid(const char *name)
{
	static const char prefix[] = PB_FTRACE_INSTANCE_PREFIX;
	if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
		return -EINVAL;
	const char *p = name + sizeof(prefix) - 1;
	size_t len = strspn(p, "0123456789");
	char num[16];
	long pid;
	if (len == 0 || len >= sizeof(num) || p[len] != '_')
		return -EINVAL;
	memcpy(num, p, len);
	num[len] = 0;
	return pb_parse_long(num, 10, 1, INT32_MAX, &pid) < 0 ? -EINVAL : pid;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pages a probe allocated and freed again, and what the device kept: pairing allocated blocks
 * with page-free events, the pfn filter of the kept-page watch, and the shared kept record.
 * Pure: no I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/measure.h"
#include "probebench/observer.h"

/* Largest block a free event can cover: MAX_ORDER is 10 (x86) or 12-13 (arm64 with 64K pages). */
#define MAX_FREE_ORDER 13

static uint64_t block_pages(unsigned order)
{
	return UINT64_C(1) << (order > MAX_FREE_ORDER ? MAX_FREE_ORDER : order);
}

struct pb_kept_pages *pb_kept_new(void)
{
	struct pb_kept_pages *k = calloc(1, sizeof(*k));
	if (k) {
		k->refs = 1;
		k->state = PB_KEPT_WATCHING;
		k->exact = true;
	}
	return k;
}

struct pb_kept_pages *pb_kept_ref(struct pb_kept_pages *k)
{
	if (k)
		k->refs++;
	return k;
}

void pb_kept_unref(struct pb_kept_pages *k)
{
	if (k && !--k->refs)
		free(k);
}

const char *pb_kept_state_name(enum pb_kept_state s)
{
	switch (s) {
	case PB_KEPT_WATCHING:
		return "watching";
	case PB_KEPT_NEXT_UNBIND:
		return "next_unbind";
	case PB_KEPT_RUN_END:
		return "run_end";
	case PB_KEPT_NONE_HELD:
		return "none_held";
	case PB_KEPT_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}

struct free_range {
	uint64_t start, end, ts; /* [start, end) */
};

static int cmp_range(const void *x, const void *y)
{
	const struct free_range *a = x, *b = y;
	return a->start < b->start ? -1 : a->start > b->start;
}

/* First range whose start is >= pfn. */
static size_t lower_bound(const struct free_range *r, size_t n, uint64_t pfn)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].start < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int pb_blocks_apply_frees(struct pb_page_block *b, size_t n, const struct pb_mevent *ev,
			  size_t n_ev)
{
	return pb_blocks_apply_frees_until(b, n, ev, n_ev, UINT64_MAX);
}

static bool free_before(const struct pb_mevent *e, uint64_t until)
{
	return e->type == PB_EV_PAGE_FREE && e->ts < until;
}

int pb_blocks_apply_frees_until(struct pb_page_block *b, size_t n, const struct pb_mevent *ev,
				size_t n_ev, uint64_t until)
{
	size_t nf = 0;
	for (size_t i = 0; i < n_ev; i++)
		nf += free_before(&ev[i], until);
	struct free_range *f = nf ? malloc(nf * sizeof(*f)) : NULL;
	if (nf && !f)
		return -ENOMEM;
	nf = 0;
	for (size_t i = 0; i < n_ev; i++)
		if (free_before(&ev[i], until))
			f[nf++] = (struct free_range){
			    ev[i].page.pfn, ev[i].page.pfn + block_pages(ev[i].page.order),
			    ev[i].ts};
	if (nf)
		qsort(f, nf, sizeof(*f), cmp_range);
	uint64_t reach = block_pages(MAX_FREE_ORDER);
	for (size_t i = 0; i < n; i++) {
		uint64_t start = b[i].pfn, size = block_pages(b[i].order), end = start + size;
		uint64_t freed = 0;
		for (size_t j = lower_bound(f, nf, start > reach ? start - reach : 0);
		     j < nf && f[j].start < end; j++) {
			if (f[j].ts < b[i].ts || f[j].end <= start)
				continue;
			uint64_t lo = f[j].start > start ? f[j].start : start;
			uint64_t hi = f[j].end < end ? f[j].end : end;
			freed += hi - lo;
		}
		freed += b[i].freed; /* what earlier frees took already */
		b[i].freed = freed > size ? size : freed;
	}
	free(f);
	return 0;
}

int pb_blocks_pfn_filter(const struct pb_page_block *b, size_t n, size_t max_ranges, char *buf,
			 size_t size)
{
	if (!n || !max_ranges)
		return -EINVAL;
	struct free_range *r = malloc(n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		r[i] = (struct free_range){b[i].pfn, b[i].pfn + block_pages(b[i].order), 0};
	qsort(r, n, sizeof(*r), cmp_range);
	size_t m = 0; /* merge touching and overlapping blocks */
	for (size_t i = 0; i < n; i++) {
		if (m && r[i].start <= r[m - 1].end) {
			if (r[i].end > r[m - 1].end)
				r[m - 1].end = r[i].end;
		} else
			r[m++] = r[i];
	}
	while (m > max_ranges) { /* join the two neighbours with the smallest gap */
		size_t best = 0;
		for (size_t i = 1; i + 1 < m; i++)
			if (r[i + 1].start - r[i].end < r[best + 1].start - r[best].end)
				best = i;
		r[best].end = r[best + 1].end;
		memmove(&r[best + 1], &r[best + 2], (m - best - 2) * sizeof(*r));
		m--;
	}
	size_t len = 0;
	int ret = 0;
	for (size_t i = 0; i < m && !ret; i++) {
		int w = snprintf(buf + len, size - len, "%s(pfn >= %llu && pfn < %llu)",
				 i ? " || " : "", (unsigned long long)r[i].start,
				 (unsigned long long)r[i].end);
		if (w < 0 || (size_t)w >= size - len)
			ret = -ENOSPC;
		else
			len += (size_t)w;
	}
	free(r);
	return ret < 0 ? ret : (int)len;
}

int pb_blocks_move(struct pb_page_block *b, size_t n, const struct pb_mevent *ev, size_t n_ev,
		   uint64_t at)
{
	int r = pb_blocks_apply_frees_until(b, n, ev, n_ev, at);
	for (size_t i = 0; i < n && r == 0; i++)
		b[i].ts = at;
	return r;
}

int pb_blocks_pfn_filter_fit(const struct pb_page_block *b, size_t n, size_t max_ranges, char *buf,
			     size_t size)
{
	int r = -ENOSPC;
	for (size_t m = max_ranges; m && r == -ENOSPC; m /= 2)
		r = pb_blocks_pfn_filter(b, n, m, buf, size);
	return r;
}

void pb_kept_from_blocks(const struct pb_page_block *b, size_t n, struct pb_kept_pages *k)
{
	memset(k->pages_by_node, 0, sizeof(k->pages_by_node));
	k->n_nodes = 0;
	k->pages_unknown_node = k->pages_total = k->freed_pages = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t size = block_pages(b[i].order), held = size - b[i].freed;
		k->freed_pages += b[i].freed;
		k->pages_total += held;
		if (b[i].node < 0 || b[i].node >= PB_MEASURE_MAX_NODES) {
			k->pages_unknown_node += held;
			continue;
		}
		k->pages_by_node[b[i].node] += held;
		if ((unsigned)b[i].node + 1 > k->n_nodes)
			k->n_nodes = (unsigned)b[i].node + 1;
	}
}

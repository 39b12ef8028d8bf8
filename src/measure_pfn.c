// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pfn -> NUMA node. Memory blocks (CONFIG_MEMORY_HOTPLUG) are exact per block; without them the
 * per-node zone spans of /proc/zoneinfo are used, which include holes and may overlap between
 * nodes on interleaved layouts (the first node whose span holds the pfn wins).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/measure.h"
#include "probebench/paths.h"
#include "probebench/util.h"

static int add_range(struct pb_pfnmap *m, size_t *cap, uint64_t s, uint64_t e, int node)
{
	if (*cap == m->n) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct pb_pfn_range *r = realloc(m->r, nc * sizeof(*r));
		if (!r)
			return -ENOMEM;
		m->r = r;
		*cap = nc;
	}
	m->r[m->n++] = (struct pb_pfn_range){.start_pfn = s, .end_pfn = e, .node = node};
	if ((unsigned)node + 1 > m->n_nodes)
		m->n_nodes = node + 1;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct pb_pfn_range *x = a, *y = b;
	return x->start_pfn < y->start_pfn ? -1 : x->start_pfn > y->start_pfn;
}

/* Sorts and merges touching or overlapping ranges of one node. */
static void normalize(struct pb_pfnmap *m)
{
	if (!m->n)
		return;
	qsort(m->r, m->n, sizeof(*m->r), cmp_range);
	size_t w = 0;
	/* A memory block linked under two nodes has no single node: unknown, not either one. */
	if (!strcmp(m->source, "memory_blocks"))
		for (size_t i = 1; i < m->n; i++)
			if (m->r[i].start_pfn == m->r[i - 1].start_pfn &&
			    m->r[i].node != m->r[i - 1].node)
				m->r[i].node = m->r[i - 1].node = -1;
	for (size_t i = 1; i < m->n; i++) {
		/* sorted by start: same node, overlapping or touching */
		if (m->r[i].node == m->r[w].node && m->r[i].start_pfn <= m->r[w].end_pfn) {
			if (m->r[i].end_pfn > m->r[w].end_pfn)
				m->r[w].end_pfn = m->r[i].end_pfn;
		} else
			m->r[++w] = m->r[i];
	}
	m->n = w + 1;
}

void pb_pfnmap_clear(struct pb_pfnmap *m)
{
	free(m->r);
	*m = (struct pb_pfnmap){.source = "none"};
}

int pb_pfnmap_load_blocks(struct pb_pfnmap *m, long page_size)
{
	char buf[64];
	struct pb_pfnmap out = {.source = "memory_blocks"};
	size_t cap = 0;
	int r;

	if (page_size <= 0)
		return -EINVAL;
	r = pb_read_attr(PB_ROOT_SYS, buf, sizeof(buf), "devices/system/memory/block_size_bytes");
	if (r < 0)
		return r;
	/* The kernel prints the block size in hex without 0x. */
	char *end;
	errno = 0;
	unsigned long long bs = strtoull(buf, &end, 16);
	if (errno || end == buf || *end || bs == 0 || bs % (unsigned long long)page_size)
		return -EINVAL;
	uint64_t pfns_per_block = bs / (unsigned long long)page_size;

	DIR *nd;
	r = pb_opendir(PB_ROOT_SYS, &nd, "devices/system/node");
	if (r < 0)
		return r;
	struct dirent *de;
	while ((de = readdir(nd))) {
		long node;
		if (strncmp(de->d_name, "node", 4) ||
		    pb_parse_long(de->d_name + 4, 10, 0, PB_MEASURE_MAX_NODES - 1, &node) < 0)
			continue;
		DIR *md;
		if (pb_opendir(PB_ROOT_SYS, &md, "devices/system/node/%s", de->d_name) < 0)
			continue;
		struct dirent *me;
		while ((me = readdir(md))) {
			long blk;
			if (strncmp(me->d_name, "memory", 6) ||
			    pb_parse_long(me->d_name + 6, 10, 0, (long)(UINT64_MAX >> 32), &blk) <
				0)
				continue;
			r = add_range(&out, &cap, (uint64_t)blk * pfns_per_block,
				      (uint64_t)(blk + 1) * pfns_per_block, (int)node);
			if (r < 0)
				break;
		}
		closedir(md);
		if (r < 0)
			break;
	}
	closedir(nd);
	if (r < 0 || out.n == 0) {
		free(out.r);
		return r < 0 ? r : -ENOENT;
	}
	normalize(&out);
	pb_pfnmap_clear(m);
	*m = out;
	return 0;
}

int pb_pfnmap_parse_zoneinfo(const char *text, struct pb_pfnmap *m)
{
	struct pb_pfnmap out = {.source = "zoneinfo"};
	size_t cap = 0;
	long node = -1;
	unsigned long long spanned = 0;
	bool have_spanned = false;
	int r = 0;

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[256];
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = 0;
		p = nl ? nl + 1 : NULL;

		int n;
		unsigned long long v;
		if (sscanf(line, "Node %d, zone", &n) == 1) {
			if (n < 0 || n >= PB_MEASURE_MAX_NODES) {
				r = -EINVAL;
				break;
			}
			node = n;
			have_spanned = false;
		} else if (sscanf(line, " spanned %llu", &v) == 1) {
			spanned = v;
			have_spanned = true;
		} else if (sscanf(line, " start_pfn: %llu", &v) == 1) {
			if (node < 0 || !have_spanned) {
				r = -EINVAL;
				break;
			}
			if (spanned) {
				r = add_range(&out, &cap, v, v + spanned, (int)node);
				if (r < 0)
					break;
			}
		}
	}
	if (r < 0 || out.n == 0) {
		free(out.r);
		return r < 0 ? r : -ENOENT;
	}
	/* Zone spans of one node may overlap (Movable inside Normal): keep order, merge touching.
	 */
	normalize(&out);
	pb_pfnmap_clear(m);
	*m = out;
	return 0;
}

int pb_pfnmap_load(struct pb_pfnmap *m, long page_size)
{
	int r = pb_pfnmap_load_blocks(m, page_size);
	if (r >= 0)
		return 0;
	char *text;
	size_t len;
	r = pb_read_file(PB_ROOT_PROC, &text, &len, "zoneinfo");
	if (r < 0)
		return r;
	if (len == 0) {
		free(text);
		return -ENOENT;
	}
	r = pb_pfnmap_parse_zoneinfo(text, m);
	free(text);
	return r;
}

int pb_pfnmap_node(const struct pb_pfnmap *m, uint64_t pfn)
{
	if (!m || !m->n)
		return -1;
	if (!strcmp(m->source, "zoneinfo")) {
		/* Spans can overlap between nodes: linear, first match. */
		for (size_t i = 0; i < m->n; i++)
			if (pfn >= m->r[i].start_pfn && pfn < m->r[i].end_pfn)
				return m->r[i].node;
		return -1;
	}
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (pfn < m->r[mid].start_pfn)
			hi = mid;
		else if (pfn >= m->r[mid].end_pfn)
			lo = mid + 1;
		else
			return m->r[mid].node;
	}
	return -1;
}

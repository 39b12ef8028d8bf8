// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Slab objects by cache and node around a bind: SLUB's per-node counts of objects in use
 * (/sys/kernel/slab/CACHE/objects, "TOTAL N0=.. N1=..") read before and after, and what changed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probebench/measure.h"
#include "probebench/paths.h"

#define SLAB_DIR "kernel/slab"

int pb_slab_parse_objects(const char *text, uint64_t *total, uint64_t *by_node, unsigned max_nodes,
			  unsigned *n_nodes)
{
	char *end;
	errno = 0;
	unsigned long long t = strtoull(text, &end, 10);
	if (end == text || errno)
		return -EINVAL;
	*total = t;
	*n_nodes = 0;
	memset(by_node, 0, max_nodes * sizeof(*by_node));
	for (const char *p = end; *p;) {
		p += strspn(p, " \t\n");
		if (!*p)
			break;
		unsigned node;
		unsigned long long v;
		int used = 0;
		if (sscanf(p, "N%u=%llu%n", &node, &v, &used) != 2 || !used)
			return -EINVAL;
		if (node < max_nodes) {
			by_node[node] = v;
			if (node + 1 > *n_nodes)
				*n_nodes = node + 1;
		}
		p += used;
	}
	return 0;
}

void pb_slab_snap_clear(struct pb_slab_snap *s)
{
	free(s->caches);
	*s = (struct pb_slab_snap){0};
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct pb_slab_count *)a)->cache,
		      ((const struct pb_slab_count *)b)->cache);
}

int pb_slab_snapshot(struct pb_slab_snap *s)
{
	DIR *d;
	struct dirent *de;
	size_t cap = 0;
	pb_slab_snap_clear(s);
	int r = pb_opendir(PB_ROOT_SYS, &d, SLAB_DIR);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		char buf[512];
		struct stat st;
		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(s->caches[0].cache))
			continue;
		/* merged caches appear once as a directory and again as links to it */
		if (pb_stat(PB_ROOT_SYS, &st, AT_SYMLINK_NOFOLLOW, SLAB_DIR "/%s", de->d_name) <
			0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (pb_read_attr(PB_ROOT_SYS, buf, sizeof(buf), SLAB_DIR "/%s/objects",
				 de->d_name) < 0)
			continue; /* a cache gone meanwhile, or no SLUB statistics */
		if (s->n == cap) {
			size_t nc = cap ? 2 * cap : 256;
			void *q = realloc(s->caches, nc * sizeof(*s->caches));
			if (!q) {
				closedir(d);
				return -ENOMEM;
			}
			s->caches = q;
			cap = nc;
		}
		struct pb_slab_count *c = &s->caches[s->n];
		snprintf(c->cache, sizeof(c->cache), "%s", de->d_name);
		if (pb_slab_parse_objects(buf, &c->total, c->by_node, PB_MEASURE_MAX_NODES,
					  &c->n_nodes) == 0)
			s->n++;
	}
	closedir(d);
	if (s->n)
		qsort(s->caches, s->n, sizeof(*s->caches), cmp_name);
	return s->n ? 0 : -ENOENT;
}

int pb_slab_delta_cmp(const void *a, const void *b)
{
	const struct pb_slab_delta *x = a, *y = b;
	int64_t ax = x->total < 0 ? -x->total : x->total, ay = y->total < 0 ? -y->total : y->total;
	if (ax != ay)
		return ax > ay ? -1 : 1;
	return strcmp(x->cache, y->cache);
}

int pb_slab_diff(const struct pb_slab_snap *before, const struct pb_slab_snap *after,
		 size_t max_caches, struct pb_slab_delta **ret, size_t *ret_n)
{
	struct pb_slab_delta *v = NULL;
	size_t n = 0;
	*ret = NULL;
	*ret_n = 0;
	for (size_t i = 0, j = 0; j < after->n; j++) {
		const struct pb_slab_count *a = &after->caches[j], *b = NULL;
		while (i < before->n && strcmp(before->caches[i].cache, a->cache) < 0)
			i++;
		if (i < before->n && !strcmp(before->caches[i].cache, a->cache))
			b = &before->caches[i];
		if (b && b->total == a->total &&
		    !memcmp(b->by_node, a->by_node, sizeof(a->by_node)))
			continue;
		void *q = realloc(v, (n + 1) * sizeof(*v));
		if (!q) {
			free(v);
			return -ENOMEM;
		}
		v = q;
		struct pb_slab_delta *d = &v[n++];
		memset(d, 0, sizeof(*d));
		snprintf(d->cache, sizeof(d->cache), "%s", a->cache);
		d->total = (int64_t)a->total - (int64_t)(b ? b->total : 0);
		unsigned bn = b ? b->n_nodes : 0;
		d->n_nodes = a->n_nodes > bn ? a->n_nodes : bn;
		for (unsigned k = 0; k < d->n_nodes; k++)
			d->by_node[k] = (int64_t)a->by_node[k] - (int64_t)(b ? b->by_node[k] : 0);
	}
	if (n)
		qsort(v, n, sizeof(*v), pb_slab_delta_cmp);
	*ret = v;
	*ret_n = n < max_caches ? n : max_caches;
	return 0;
}

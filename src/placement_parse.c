// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pure half of placement (placement.h): the parsers of /proc/PID/numa_maps, maps and status
 * lines, and the sums per device. No I/O.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/inventory.h"
#include "probebench/placement.h"

void pb_node_bytes_add(struct pb_node_bytes *to, const struct pb_node_bytes *from)
{
	for (size_t i = 0; i < PB_PLACEMENT_MAX_NODES; i++)
		to->bytes[i] += from->bytes[i];
	to->other_bytes += from->other_bytes;
	to->total_bytes += from->total_bytes;
	to->huge_bytes += from->huge_bytes;
}

/* A decimal u64 spanning exactly [s, end). */
static int parse_u64(const char *s, const char *end, int base, uint64_t *ret)
{
	if (s == end)
		return -EINVAL;
	char *e;
	errno = 0;
	unsigned long long v = strtoull(s, &e, base);
	if (errno || e != end || *s == '-' || *s == '+')
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Copies [s, end) into buf (cut to its size). */
static void copy_span(char *buf, size_t size, const char *s, const char *end)
{
	size_t n = (size_t)(end - s);
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/*
 * The kernel's show_numa_map(): "START POLICY [file=PATH|heap|stack] [huge] [anon=N] [dirty=N]
 * [mapped=N] [mapmax=N] [swapcache=N] [active=N] [writeback=N] [N<node>=N...]
 * [kernelpagesize_kB=N]". The counts are in pages of the mapping's kernel page size (a hugetlb
 * mapping counts huge pages; a transparent huge page counts as its base pages). The path is
 * escaped (space, tab, newline and '=' as octal), so fields split at spaces.
 */
int pb_numa_maps_parse_line(const char *line, uint64_t base_page_bytes,
			    struct pb_numa_maps_entry *ret)
{
	struct pb_numa_maps_entry e = {0};
	uint64_t node_pages[PB_PLACEMENT_MAX_NODES] = {0}, other_pages = 0;
	const char *p = line;
	int field = 0;
	while (*p && *p != '\n') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			break;
		const char *end = p + strcspn(p, " \t\n");
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (field == 0) {
			if (parse_u64(p, end, 16, &e.start) < 0)
				return -EINVAL;
		} else if (field == 1) {
			copy_span(e.policy, sizeof(e.policy), p, end);
		} else if (!eq) {
			size_t n = (size_t)(end - p);
			if (n == 4 && !memcmp(p, "heap", 4))
				e.heap = true;
			else if (n == 5 && !memcmp(p, "stack", 5))
				e.stack = true;
			else if (n == 4 && !memcmp(p, "huge", 4))
				e.huge = true;
			/* other tags a later kernel may add are not needed here */
		} else if (eq - p == 4 && !memcmp(p, "file", 4)) {
			copy_span(e.file, sizeof(e.file), eq + 1, end);
		} else {
			uint64_t v;
			if (parse_u64(eq + 1, end, 10, &v) < 0)
				return -EINVAL;
			size_t klen = (size_t)(eq - p);
			if (p[0] == 'N' && klen > 1 && p[1] >= '0' && p[1] <= '9') {
				uint64_t node;
				if (parse_u64(p + 1, eq, 10, &node) < 0)
					return -EINVAL;
				if (node < PB_PLACEMENT_MAX_NODES)
					node_pages[node] += v;
				else
					other_pages += v;
			} else if (klen == 17 && !memcmp(p, "kernelpagesize_kB", 17)) {
				e.kernelpagesize_kb = v;
			} else if (klen == 4 && !memcmp(p, "anon", 4)) {
				e.anon = v;
			} else if (klen == 6 && !memcmp(p, "mapped", 6)) {
				e.mapped = v;
			}
		}
		field++;
		p = end;
	}
	if (field < 2)
		return -EINVAL;
	/* Pages without a page size would be pages of an unknown size: the kernel prints the size
	 * whenever it prints a count. */
	uint64_t page = e.kernelpagesize_kb * 1024;
	bool any = other_pages > 0;
	for (size_t i = 0; i < PB_PLACEMENT_MAX_NODES && !any; i++)
		any = node_pages[i] > 0;
	if (any && page == 0)
		return -EINVAL;
	for (size_t i = 0; i < PB_PLACEMENT_MAX_NODES; i++) {
		e.by_node.bytes[i] = node_pages[i] * page;
		e.by_node.total_bytes += e.by_node.bytes[i];
	}
	e.by_node.other_bytes = other_pages * page;
	e.by_node.total_bytes += e.by_node.other_bytes;
	if (base_page_bytes && page > base_page_bytes)
		e.by_node.huge_bytes = e.by_node.total_bytes;
	*ret = e;
	return 0;
}

int pb_maps_parse_line(const char *line, struct pb_maps_entry *ret)
{
	struct pb_maps_entry e = {0};
	unsigned long long start, end, off, ino;
	int pos = 0;
	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, e.perms, &off,
		   &e.dev_major, &e.dev_minor, &ino, &pos) < 7 ||
	    pos == 0 || end < start)
		return -EINVAL;
	e.start = start;
	e.end = end;
	e.inode = ino;
	e.path = line + pos;
	*ret = e;
	return 0;
}

void pb_proc_allowed_clear(struct pb_proc_allowed *a)
{
	if (!a)
		return;
	free(a->cpus);
	free(a->mems);
	memset(a, 0, sizeof(*a));
}

/* The value of "Key:\tvalue" in a status file into buf; false when the key is absent. */
static bool status_value(const char *status, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	for (const char *p = status; p && *p;) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			const char *v = p + klen + 1;
			v += strspn(v, " \t");
			copy_span(buf, size, v, v + strcspn(v, "\n"));
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

int pb_proc_status_parse(const char *status, struct pb_proc_allowed *ret)
{
	struct pb_proc_allowed a = {0};
	if (!status_value(status, "Cpus_allowed_list", a.cpus_list, sizeof(a.cpus_list)))
		return -ENOENT;
	status_value(status, "Mems_allowed_list", a.mems_list, sizeof(a.mems_list));
	int r = pb_cpulist_parse(a.cpus_list, &a.cpus, &a.n_cpus);
	if (r == 0)
		r = pb_cpulist_parse(a.mems_list, &a.mems, &a.n_mems);
	if (r < 0) {
		pb_proc_allowed_clear(&a);
		return r;
	}
	*ret = a;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int pb_cpus_to_nodes(const int *cpus, size_t n_cpus, const int *const *node_cpus,
		     const size_t *node_n_cpus, const int *node_ids, size_t n_nodes, int **ret,
		     size_t *ret_n)
{
	int *nodes = calloc(n_nodes ? n_nodes : 1, sizeof(int));
	size_t n = 0;
	if (!nodes)
		return -ENOMEM;
	for (size_t i = 0; i < n_nodes; i++) {
		bool hit = false;
		for (size_t c = 0; c < node_n_cpus[i] && !hit; c++)
			for (size_t k = 0; k < n_cpus && !hit; k++)
				hit = node_cpus[i][c] == cpus[k];
		if (hit)
			nodes[n++] = node_ids[i];
	}
	if (n > 1)
		qsort(nodes, n, sizeof(int), cmp_int);
	*ret = nodes;
	*ret_n = n;
	return 0;
}

void pb_placement_device_summarise(struct pb_placement_device *d)
{
	memset(&d->total, 0, sizeof(d->total));
	for (size_t i = 0; i < d->n_consumers; i++)
		if (d->consumers[i].pages_err == 0)
			pb_node_bytes_add(&d->total, &d->consumers[i].total);
	d->has_ratio = false;
	d->on_node_ratio = 0;
	if (d->node < 0 || d->total.total_bytes == 0)
		return;
	uint64_t on = d->node < PB_PLACEMENT_MAX_NODES ? d->total.bytes[d->node] : 0;
	d->has_ratio = true;
	d->on_node_ratio = (double)on / (double)d->total.total_bytes;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* Pure parts of the inventory: device records, tree building, node inheritance, cpulists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/inventory.h"
#include "probebench/util.h"

struct pb_device *pb_device_new(const char *syspath, const char *root)
{
	struct pb_device *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->syspath = strdup(syspath);
	if (!dev->syspath) {
		free(dev);
		return NULL;
	}
	size_t rl = root ? strlen(root) : 0;
	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	if (rl > 0 && strncmp(syspath, root, rl) == 0 && syspath[rl] == '/')
		dev->devpath = dev->syspath + rl;
	else
		dev->devpath = dev->syspath;
	dev->own_node = -1;
	dev->numa_node = -1;
	return dev;
}

static void pci_info_free(struct pb_pci_info *pci)
{
	if (!pci)
		return;
	free(pci->vendor_name);
	free(pci->device_name);
	free(pci->subsys_vendor_name);
	free(pci->subsys_name);
	free(pci->class_name);
	free(pci->iommu_group);
	free(pci->local_cpulist);
	free(pci->local_cpus);
	free(pci);
}

void pb_device_free(struct pb_device *dev)
{
	if (!dev)
		return;
	for (size_t i = 0; i < dev->n_children; i++)
		pb_device_free(dev->children[i]);
	free(dev->children);
	for (size_t i = 0; i < dev->n_devnodes; i++)
		free(dev->devnodes[i]);
	free(dev->devnodes);
	pci_info_free(dev->pci);
	free(dev->syspath);
	free(dev->subsystem);
	free(dev->sysname);
	free(dev->driver);
	free(dev->devtype);
	free(dev);
}

int pb_device_add_devnode(struct pb_device *dev, const char *s)
{
	for (size_t i = 0; i < dev->n_devnodes; i++)
		if (strcmp(dev->devnodes[i], s) == 0)
			return 0;
	char **n = realloc(dev->devnodes, (dev->n_devnodes + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	dev->devnodes = n;
	n[dev->n_devnodes] = strdup(s);
	if (!n[dev->n_devnodes])
		return -ENOMEM;
	dev->n_devnodes++;
	return 0;
}

static int add_child(struct pb_device *parent, struct pb_device *child)
{
	struct pb_device **c =
	    realloc(parent->children, (parent->n_children + 1) * sizeof(*parent->children));
	if (!c)
		return -ENOMEM;
	parent->children = c;
	c[parent->n_children++] = child;
	child->parent = parent;
	return 0;
}

static int cmp_syspath(const void *a, const void *b)
{
	const struct pb_device *da = *(struct pb_device *const *)a;
	const struct pb_device *db = *(struct pb_device *const *)b;
	/* Natural order (virtio2 before virtio10); an ancestor sorts before its descendants. */
	return strverscmp(da->syspath, db->syspath);
}

int pb_device_tree_build(struct pb_device *root, struct pb_device **devs, size_t n)
{
	int ret = 0;
	if (n > 1)
		qsort(devs, n, sizeof(*devs), cmp_syspath);
	for (size_t i = 0; i < n; i++) {
		struct pb_device *dev = devs[i];
		devs[i] = NULL;
		if (!pb_path_below(dev->syspath, root->syspath)) {
			pb_device_free(dev);
			if (!ret)
				ret = -EINVAL;
			continue;
		}
		/* Descend to the deepest device already placed whose syspath is an ancestor. */
		struct pb_device *at = root;
		for (;;) {
			struct pb_device *next = NULL;
			for (size_t c = at->n_children; c-- > 0;)
				if (pb_path_below(dev->syspath, at->children[c]->syspath)) {
					next = at->children[c];
					break;
				}
			if (!next)
				break;
			at = next;
		}
		int r = add_child(at, dev);
		if (r < 0) {
			pb_device_free(dev);
			for (size_t j = i + 1; j < n; j++) {
				pb_device_free(devs[j]);
				devs[j] = NULL;
			}
			return r;
		}
	}
	return ret;
}

void pb_device_inherit_nodes(struct pb_device *dev)
{
	if (dev->has_own_node) {
		dev->numa_node = dev->own_node;
		dev->node_source = PB_NODE_OWN;
		dev->node_from = dev;
	} else if (dev->parent && dev->parent->node_source != PB_NODE_NONE) {
		dev->numa_node = dev->parent->numa_node;
		dev->node_source = PB_NODE_INHERITED;
		dev->node_from = dev->parent->node_from;
	} else {
		dev->numa_node = -1;
		dev->node_source = PB_NODE_NONE;
		dev->node_from = NULL;
	}
	for (size_t i = 0; i < dev->n_children; i++)
		pb_device_inherit_nodes(dev->children[i]);
}

static int parse_cpu(const char *s, const char **end, long *ret)
{
	if (*s < '0' || *s > '9')
		return -EINVAL;
	char *e;
	errno = 0;
	long v = strtol(s, &e, 10);
	if (errno || v < 0 || v > 1 << 20)
		return -EINVAL;
	*end = e;
	*ret = v;
	return 0;
}

int pb_cpulist_parse(const char *s, int **ret, size_t *ret_n)
{
	int *cpus = NULL;
	size_t n = 0, cap = 0;
	const char *p = s;
	if (!s)
		return -EINVAL;
	while (*p) {
		long a, b;
		if (parse_cpu(p, &p, &a) < 0)
			goto invalid;
		b = a;
		if (*p == '-' && parse_cpu(p + 1, &p, &b) < 0)
			goto invalid;
		if (b < a)
			goto invalid;
		if (*p == ',') {
			p++;
			if (!*p)
				goto invalid;
		} else if (*p) {
			goto invalid;
		}
		for (long c = a; c <= b; c++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				int *nc = realloc(cpus, cap * sizeof(*cpus));
				if (!nc) {
					free(cpus);
					return -ENOMEM;
				}
				cpus = nc;
			}
			cpus[n++] = (int)c;
		}
	}
	*ret = cpus;
	*ret_n = n;
	return 0;
invalid:
	free(cpus);
	return -EINVAL;
}

const char *pb_device_label(const struct pb_device *dev, char *buf, size_t size)
{
	if (dev->subsystem)
		snprintf(buf, size, "%s/%s", dev->subsystem, dev->sysname ? dev->sysname : "?");
	else
		snprintf(buf, size, "%s", dev->sysname ? dev->sysname : "?");
	return buf;
}

const struct pb_device *pb_device_function(const struct pb_device *dev)
{
	while (dev && !dev->pci)
		dev = dev->parent;
	return dev;
}

static int foreach_dev(struct pb_device *dev, int (*fn)(struct pb_device *, void *), void *ud)
{
	int r = fn(dev, ud);
	if (r)
		return r;
	for (size_t i = 0; i < dev->n_children; i++) {
		r = foreach_dev(dev->children[i], fn, ud);
		if (r)
			return r;
	}
	return 0;
}

int pb_inventory_foreach(const struct pb_inventory *inv,
			 int (*fn)(struct pb_device *dev, void *userdata), void *userdata)
{
	for (size_t i = 0; i < inv->n_functions; i++) {
		int r = foreach_dev(inv->functions[i], fn, userdata);
		if (r)
			return r;
	}
	return 0;
}

struct find_ctx {
	const char *path;
	struct pb_device *found;
};

static int find_cb(struct pb_device *dev, void *userdata)
{
	struct find_ctx *c = userdata;
	if (strcmp(dev->syspath, c->path) == 0 || strcmp(dev->devpath, c->path) == 0) {
		c->found = dev;
		return 1;
	}
	return 0;
}

struct pb_device *pb_inventory_find(const struct pb_inventory *inv, const char *path)
{
	struct find_ctx c = {.path = path};
	pb_inventory_foreach(inv, find_cb, &c);
	return c.found;
}

struct subtree {
	const struct pb_device **v;
	size_t n, cap;
};

static int subtree_add(struct subtree *t, const struct pb_device *dev)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		const struct pb_device **v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = dev;
	for (size_t i = 0; i < dev->n_children; i++) {
		int r = subtree_add(t, dev->children[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Byte order, as libudev sorts an enumeration. */
static int cmp_syspath_bytes(const void *a, const void *b)
{
	return strcmp((*(const struct pb_device *const *)a)->syspath,
		      (*(const struct pb_device *const *)b)->syspath);
}

int pb_inventory_subtree(const struct pb_inventory *inv, const struct pb_device *target,
			 const struct pb_device ***ret, size_t *ret_n)
{
	struct subtree t = {0};
	int r = subtree_add(&t, target);
	for (size_t i = 0; r >= 0 && i < inv->n_functions; i++)
		if (pb_path_below(inv->functions[i]->syspath, target->syspath))
			r = subtree_add(&t, inv->functions[i]);
	if (r < 0) {
		free(t.v);
		return r;
	}
	qsort(t.v + 1, t.n - 1, sizeof(*t.v), cmp_syspath_bytes);
	*ret = t.v;
	*ret_n = t.n;
	return 0;
}

void pb_inventory_free(struct pb_inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->n_functions; i++)
		pb_device_free(inv->functions[i]);
	free(inv->functions);
	for (size_t i = 0; i < inv->n_warnings; i++)
		free(inv->warnings[i]);
	free(inv->warnings);
	pb_numa_topology_clear(&inv->topology);
	free(inv->host);
	free(inv->kernel);
	free(inv->sysfs_root);
	free(inv);
}

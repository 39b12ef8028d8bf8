/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Inventory: every PCI function (libpci, sysfs access), the whole device subtree below each one
 * (libudev), and the NUMA topology (libnuma). The run command resolves its targets in it with
 * selectors (selector.h); the policy module decorates its output with per-device verdicts.
 *
 * A device's NUMA node is that of its nearest ancestor (or itself) that has a numa_node
 * attribute, as the kernel's device_add() gives a child its parent's node. The attribute shows the
 * kernel's value after its own inheritance, so the walk stops at the first one found.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probebench/numa_topo.h"

struct json_object;

enum pb_node_source {
	PB_NODE_NONE,	   /* no numa_node attribute on the device or any ancestor in the tree */
	PB_NODE_OWN,	   /* the device's own numa_node attribute */
	PB_NODE_INHERITED, /* an ancestor's numa_node attribute (node_from) */
};

struct pb_pci_info {
	int domain;
	unsigned bus, dev, func;
	char bdf[32]; /* "0000:00:05.0" */
	uint16_t vendor_id, device_id;
	bool has_subsys;
	uint16_t subsys_vendor_id, subsys_id;
	uint16_t class_id; /* base class and subclass, e.g. 0x0200 */
	uint8_t prog_if, revision;
	/* Names from libpci's lookup (pci.ids, or udev's hwdb); NULL when unknown. */
	char *vendor_name, *device_name, *subsys_vendor_name, *subsys_name, *class_name;
	char *iommu_group;   /* NULL: no IOMMU group */
	char *local_cpulist; /* "0-1" as the kernel prints it; NULL: attribute absent */
	int *local_cpus;     /* parsed local_cpulist */
	size_t n_local_cpus;
};

struct pb_device {
	char *syspath;	     /* absolute, canonical: "/sys/devices/pci0000:00/0000:00:05.0" */
	const char *devpath; /* syspath without the sysfs root: "/devices/pci0000:00/..." */
	char *subsystem;     /* "pci", "virtio", "net", "block", ...; NULL when it has none */
	char *sysname;	     /* "0000:00:05.0", "virtio4", "eth0", "vda" */
	char *driver;	     /* bound driver, NULL when none */
	char *devtype;	     /* udev DEVTYPE ("disk", "partition", ...), NULL when none */
	char **devnodes;     /* device node and its links ("/dev/vda", ...) */
	size_t n_devnodes;
	const char *netif; /* interface name when this is a "net" device (points to sysname) */
	const char *block; /* block device name when this is a "block" device (points to sysname) */

	bool has_own_node; /* a numa_node attribute exists */
	int own_node;	   /* its value (-1 = the kernel does not know) */
	/* Filled by pb_device_inherit_nodes(): */
	int numa_node; /* effective node, -1 unknown */
	enum pb_node_source node_source;
	const struct pb_device *node_from; /* the device whose attribute gave numa_node */

	struct pb_pci_info *pci; /* PCI functions only */
	struct pb_device *parent;
	struct pb_device **children;
	size_t n_children;
};

struct pb_inventory {
	struct pb_device **functions; /* sorted by BDF */
	size_t n_functions;
	struct pb_numa_topology topology;
	char **warnings; /* things that could not be read but do not stop the listing */
	size_t n_warnings;
	char *host, *kernel;
	const char *children_method; /* "libudev" */
	char *sysfs_root;
};

/*
 * Loads the inventory from pb_sysfs_root(). Returns 0 or -errno; on failure err receives what
 * failed, naming the device and the attribute ("0000:00:05.0: Error reading .../vendor: ...").
 * The subtree below each function comes from libudev.
 */
int pb_inventory_load(struct pb_inventory **ret, char *err, size_t errlen);
void pb_inventory_free(struct pb_inventory *inv);

/* Calls fn on every device (functions and their subtrees, depth first); stops when fn != 0. */
int pb_inventory_foreach(const struct pb_inventory *inv,
			 int (*fn)(struct pb_device *dev, void *userdata), void *userdata);
/* The device with this syspath or devpath, or NULL. */
struct pb_device *pb_inventory_find(const struct pb_inventory *inv, const char *path);
/*
 * The target (a device of inv) and everything below it: its own subtree, and the PCI functions
 * behind it (a bridge's), which the inventory lists on their own, with theirs. The target comes
 * first, the rest sorted by syspath (the order of libudev's enumeration below it). *ret is
 * malloc'ed. 0 or -ENOMEM.
 */
int pb_inventory_subtree(const struct pb_inventory *inv, const struct pb_device *target,
			 const struct pb_device ***ret, size_t *ret_n);
/* The PCI function a device belongs to (itself for a function). */
const struct pb_device *pb_device_function(const struct pb_device *dev);

/* ---- pure parts (no I/O), unit-tested ---- */

/* A new device record; syspath is copied, devpath is syspath minus root. NULL on ENOMEM. */
struct pb_device *pb_device_new(const char *syspath, const char *root);
/* Frees dev and its whole subtree. NULL-safe. */
void pb_device_free(struct pb_device *dev);
/* Adds a copy of s to dev's devnodes. 0 or -ENOMEM. */
int pb_device_add_devnode(struct pb_device *dev, const char *s);
/*
 * Hangs devs[] below root: each under its nearest ancestor by syspath (root or another of
 * devs). Takes ownership of every element; devs is reordered. 0, -EINVAL when one is not below
 * root (it is freed), or -ENOMEM.
 */
int pb_device_tree_build(struct pb_device *root, struct pb_device **devs, size_t n);
/* Sets numa_node, node_source and node_from for root and everything below it. */
void pb_device_inherit_nodes(struct pb_device *root);
/* Parses a kernel cpulist ("0-3,8,10-11"). 0, -EINVAL, or -ENOMEM. *ret is malloc'ed. */
int pb_cpulist_parse(const char *s, int **ret, size_t *ret_n);
/* "pci/0000:00:05.0", or just the sysname when there is no subsystem. */
const char *pb_device_label(const struct pb_device *dev, char *buf, size_t size);

/* ---- output ---- */

struct pb_inventory_view {
	/* When set, only functions that contain one of these devices are shown, and these are
	 * marked "selected". */
	struct pb_device *const *selected;
	size_t n_selected;
	/* Called for every device object shown; may add keys (the policy adds "safety"). */
	void (*decorate_json)(const struct pb_device *dev, struct json_object *obj, void *userdata);
	/* Called for every device line of the text output; may write a short suffix into buf
	 * ("refused: mounted"). */
	void (*decorate_text)(const struct pb_device *dev, char *buf, size_t size, void *userdata);
	void *userdata;
};

#define PB_INVENTORY_SCHEMA  "probebench-inventory"
#define PB_INVENTORY_VERSION 1

/* One device object, with its subtree under "children". NULL on ENOMEM. */
struct json_object *pb_device_to_json(const struct pb_device *dev,
				      const struct pb_inventory_view *view);
/* The whole versioned document (schema/inventory.schema.json). NULL on ENOMEM. */
struct json_object *pb_inventory_to_json(const struct pb_inventory *inv,
					 const struct pb_inventory_view *view);
/* The human tree, lines within `width` columns (0: 100). */
void pb_inventory_print(FILE *f, const struct pb_inventory *inv,
			const struct pb_inventory_view *view, unsigned width);

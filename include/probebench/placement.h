/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Placement: where the memory of the processes that use a device lives (doc/placement.md).
 *
 * For each selected device and everything below it, the files that stand for it (device nodes,
 * by device number; the PCI function's resource files, by inode), the processes that hold one
 * open (/proc/PID/fd) or map one (/proc/PID/maps), and for each such process its pages by NUMA
 * node (/proc/PID/numa_maps) with its allowed CPUs and memory nodes (/proc/PID/status). Read
 * only: the processes are never traced or signalled, only their /proc files read.
 *
 * The parsers and the aggregation are pure (placement_parse.c) and unit-tested; the scan is in
 * placement.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct json_object;
struct pb_inventory;
struct pb_device;

/* Nodes counted one by one; pages on a higher node are counted in other_bytes. */
#define PB_PLACEMENT_MAX_NODES 64

/* Bytes by NUMA node (numa_maps N<node>= pages x kernelpagesize_kB). */
struct pb_node_bytes {
	uint64_t bytes[PB_PLACEMENT_MAX_NODES];
	uint64_t other_bytes; /* on nodes >= PB_PLACEMENT_MAX_NODES */
	uint64_t total_bytes;
	uint64_t huge_bytes; /* of total_bytes, in mappings of pages larger than the base page */
};

void pb_node_bytes_add(struct pb_node_bytes *to, const struct pb_node_bytes *from);

/* ---- pure parsers ---- */

/* One line of /proc/PID/numa_maps. */
struct pb_numa_maps_entry {
	uint64_t start;		    /* the mapping's start address */
	char policy[64];	    /* "default", "bind:1", "interleave:0-1", ... */
	char file[512];		    /* file= as the kernel escapes it ("" when none) */
	bool heap, stack, huge;	    /* the kernel's tags (huge: a hugetlbfs mapping) */
	uint64_t kernelpagesize_kb; /* 0 when the line has no pages (the kernel omits it) */
	uint64_t anon, mapped;
	struct pb_node_bytes by_node; /* N<node>= x kernelpagesize_kB, in bytes */
};

/*
 * Parses one numa_maps line (no newline needed). base_page_bytes: the base page size, to tell
 * huge pages (kernelpagesize_kB larger) apart. 0, or -EINVAL for a line without a start address
 * or with a malformed field.
 */
int pb_numa_maps_parse_line(const char *line, uint64_t base_page_bytes,
			    struct pb_numa_maps_entry *ret);

/* One line of /proc/PID/maps: "start-end perms offset MAJ:MIN inode [path]". */
struct pb_maps_entry {
	uint64_t start, end;
	char perms[8];
	unsigned dev_major, dev_minor; /* the mapped file's st_dev */
	uint64_t inode;		       /* 0: anonymous */
	const char *path;	       /* into the line; "" when none */
};

/* 0, or -EINVAL. */
int pb_maps_parse_line(const char *line, struct pb_maps_entry *ret);

/* What /proc/PID/status says about where the process may run and allocate. */
struct pb_proc_allowed {
	char cpus_list[256]; /* Cpus_allowed_list as printed ("0-1"), "" when absent */
	char mems_list[256]; /* Mems_allowed_list */
	int *cpus;	     /* parsed cpus_list (malloc'd) */
	size_t n_cpus;
	int *mems; /* parsed mems_list (malloc'd) */
	size_t n_mems;
};

/* Parses a whole status file. 0, -EINVAL (a malformed list), -ENOENT (no Cpus_allowed_list),
 * -ENOMEM. */
int pb_proc_status_parse(const char *status, struct pb_proc_allowed *ret);
void pb_proc_allowed_clear(struct pb_proc_allowed *a);

/* ---- the model ---- */

enum pb_handle_kind {
	PB_HANDLE_CHAR,	 /* a character device node, matched by device number (st_rdev) */
	PB_HANDLE_BLOCK, /* a block device node, by device number */
	PB_HANDLE_FILE,	 /* a sysfs resource file, by st_dev and inode */
};

/* A file that stands for a device. */
struct pb_placement_handle {
	enum pb_handle_kind kind;
	char *name;	/* "/dev/nvme0n1", "/sys/devices/.../resource0" */
	char *owner;	/* the device it belongs to: "block/nvme0n1" */
	char *via;	/* how it was attributed: "devnode", "resource", "hwrng: ..." */
	dev_t rdev;	/* device nodes */
	bool has_inode; /* st_dev and inode known (a node found under the dev root, a file) */
	dev_t st_dev;
	uint64_t inode;
};

/* What one process holds of the device. */
struct pb_placement_hold {
	size_t handle; /* index into the device's handles */
	int fd;	       /* -1: a mapping */
	uint64_t map_start, map_end;
};

struct pb_placement_consumer {
	pid_t pid;
	char comm[64];
	struct pb_placement_hold *holds;
	size_t n_holds;
	int pages_err;		     /* 0, or -errno: numa_maps could not be read (pages unknown) */
	struct pb_node_bytes total;  /* every mapping of the process */
	struct pb_node_bytes device; /* the mappings of the device's files */
	char policies[128];	     /* the memory policies of its mappings, distinct ("bind:1") */
	struct pb_proc_allowed allowed;
	int *cpu_nodes; /* the nodes of the allowed CPUs (sorted, distinct) */
	size_t n_cpu_nodes;
};

struct pb_placement_device {
	const struct pb_device *dev; /* the selected device (of the scan's inventory) */
	int node;		     /* its NUMA node (own or inherited); -1: node-less */
	struct pb_placement_handle *handles;
	size_t n_handles;
	char **notes; /* attributions made or refused ("/dev/hwrng: ...") */
	size_t n_notes;
	struct pb_placement_consumer *consumers; /* by pid */
	size_t n_consumers;
	/* pb_placement_device_summarise(): */
	struct pb_node_bytes total; /* of all consumers */
	bool has_ratio;		    /* node >= 0 and some pages seen */
	double on_node_ratio;	    /* total.bytes[node] / total.total_bytes */
};

struct pb_placement_report {
	struct pb_placement_device *devices;
	size_t n_devices;
	uint64_t page_bytes; /* the base page size */
	size_t pids_scanned; /* processes looked at */
	size_t pids_denied;  /* whose fd or maps could not be read (permission) */
	size_t pids_gone;    /* exited during the scan, skipped */
	bool root;	     /* the scan ran with effective uid 0 */
};

/* Adds a consumer's pages to the device's and computes the ratio (pure). */
void pb_placement_device_summarise(struct pb_placement_device *d);

/*
 * The nodes of cpus (each CPU's node from node_cpus[i], n_nodes nodes, node_ids[i] the node's
 * number): sorted, distinct, malloc'd into *ret. 0 or -ENOMEM. A CPU on no node is left out.
 */
int pb_cpus_to_nodes(const int *cpus, size_t n_cpus, const int *const *node_cpus,
		     const size_t *node_n_cpus, const int *node_ids, size_t n_nodes, int **ret,
		     size_t *ret_n);

/* ---- the scan ---- */

/*
 * Scans the processes of the procfs root for the files of each device in devs (each with
 * everything below it in inv). Returns 0 or -errno (the proc root cannot be read); *ret is
 * malloc'd, free it with pb_placement_report_free().
 */
int pb_placement_scan(const struct pb_inventory *inv, struct pb_device *const *devs, size_t n_devs,
		      struct pb_placement_report **ret);
void pb_placement_report_free(struct pb_placement_report *r);
/*
 * The whole of it from selectors (those of list and run): loads the inventory into *ret_inv (the
 * report's devices point into it; free it after the report), resolves them, scans. 0; -EINVAL or
 * -ENOENT for a malformed selector or one that matches nothing (only then), another -errno (-EIO
 * for what would read as one of those) when the devices or the processes cannot be read; err says
 * which.
 */
int pb_placement_sample(const char *const *selectors, size_t n, struct pb_inventory **ret_inv,
			struct pb_placement_report **ret, char *err, size_t errlen);

#define PB_PLACEMENT_SCHEMA  "probebench-placement"
#define PB_PLACEMENT_VERSION 1

/* The document of schema/placement.schema.json. NULL on ENOMEM. */
struct json_object *pb_placement_to_json(const struct pb_placement_report *r);
/* One table per device. */
void pb_placement_print(FILE *f, const struct pb_placement_report *r);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * NUMA topology as libnuma sees it on the running system: nodes, their CPUs, memory, distances.
 * libnuma reads /sys like the rest: a test's umockdev testbed without devices/system/node
 * shows no node.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

struct pb_numa_node {
	int node;
	int *cpus;
	size_t n_cpus;
	int64_t memory_bytes; /* numa_node_size64(); -1 when unknown */
	int64_t memory_free_bytes;
	int *distances; /* distances[i] to nodes[i] of the topology (numa_distance()), 0 unknown */
};

struct pb_numa_topology {
	bool available; /* numa_available() >= 0 */
	struct pb_numa_node *nodes;
	size_t n_nodes;
};

/* Fills topo from libnuma. 0 or -ENOMEM; a system without NUMA support gives available=false. */
/* libnuma's numa_available() >= 0, asked once per process: the answer cannot change, and each
 * call is a get_mempolicy system call (the cycle path asked it twice a cycle). */
bool pb_numa_ok(void);

int pb_numa_topology_load(struct pb_numa_topology *topo);
void pb_numa_topology_clear(struct pb_numa_topology *topo);
/* The node record, or NULL. */
const struct pb_numa_node *pb_numa_topology_node(const struct pb_numa_topology *topo, int node);
/* {"available": bool, "method": "libnuma", "nodes": [...]}. NULL on ENOMEM. */
struct json_object *pb_numa_topology_to_json(const struct pb_numa_topology *topo);
/* Formats a sorted CPU list compactly ("0-3,8"). Returns buf. */
const char *pb_cpulist_format(const int *cpus, size_t n, char *buf, size_t size);

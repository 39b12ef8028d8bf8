// SPDX-License-Identifier: GPL-2.0-or-later
/* NUMA topology through libnuma. */
#include <errno.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "probebench/numa_topo.h"

bool pb_numa_ok(void)
{
	static int ok = -1; /* -1 not asked yet; a race only asks twice */
	int v = __atomic_load_n(&ok, __ATOMIC_RELAXED);
	if (v < 0) {
		v = numa_available() >= 0;
		__atomic_store_n(&ok, v, __ATOMIC_RELAXED);
	}
	return v;
}

void pb_numa_topology_clear(struct pb_numa_topology *topo)
{
	if (!topo)
		return;
	for (size_t i = 0; i < topo->n_nodes; i++) {
		free(topo->nodes[i].cpus);
		free(topo->nodes[i].distances);
	}
	free(topo->nodes);
	memset(topo, 0, sizeof(*topo));
}

int pb_numa_topology_load(struct pb_numa_topology *topo)
{
	memset(topo, 0, sizeof(*topo));
	if (!pb_numa_ok())
		return 0;
	int max = numa_max_node();
	struct bitmask *cpus = numa_allocate_cpumask();
	if (!cpus)
		return -ENOMEM;
	topo->nodes = calloc((size_t)max + 1, sizeof(*topo->nodes));
	if (!topo->nodes) {
		numa_free_cpumask(cpus);
		return -ENOMEM;
	}
	topo->available = true;
	for (int n = 0; n <= max; n++) {
		if (!numa_bitmask_isbitset(numa_nodes_ptr, n))
			continue;
		struct pb_numa_node *node = &topo->nodes[topo->n_nodes++];
		node->node = n;
		long long free_b = -1;
		node->memory_bytes = numa_node_size64(n, &free_b);
		node->memory_free_bytes = node->memory_bytes < 0 ? -1 : free_b;
		numa_bitmask_clearall(cpus);
		if (numa_node_to_cpus(n, cpus) == 0) {
			unsigned nbits = numa_num_possible_cpus();
			node->cpus = calloc(nbits ? nbits : 1, sizeof(int));
			if (!node->cpus)
				goto nomem;
			for (unsigned c = 0; c < nbits; c++)
				if (numa_bitmask_isbitset(cpus, c))
					node->cpus[node->n_cpus++] = (int)c;
		}
	}
	for (size_t i = 0; i < topo->n_nodes; i++) {
		topo->nodes[i].distances = calloc(topo->n_nodes, sizeof(int));
		if (!topo->nodes[i].distances)
			goto nomem;
		for (size_t j = 0; j < topo->n_nodes; j++)
			topo->nodes[i].distances[j] =
			    numa_distance(topo->nodes[i].node, topo->nodes[j].node);
	}
	numa_free_cpumask(cpus);
	return 0;
nomem:
	numa_free_cpumask(cpus);
	pb_numa_topology_clear(topo);
	return -ENOMEM;
}

const struct pb_numa_node *pb_numa_topology_node(const struct pb_numa_topology *topo, int node)
{
	for (size_t i = 0; i < topo->n_nodes; i++)
		if (topo->nodes[i].node == node)
			return &topo->nodes[i];
	return NULL;
}

const char *pb_cpulist_format(const int *cpus, size_t n, char *buf, size_t size)
{
	size_t len = 0;
	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
			j++;
		int w;
		if (j == i)
			w = snprintf(buf + len, size - len, "%s%d", len ? "," : "", cpus[i]);
		else
			w = snprintf(buf + len, size - len, "%s%d-%d", len ? "," : "", cpus[i],
				     cpus[j]);
		if (w < 0 || (size_t)w >= size - len) {
			buf[len] = '\0';
			break;
		}
		len += w;
		i = j + 1;
	}
	return buf;
}

static struct json_object *int_array(const int *v, size_t n)
{
	struct json_object *a = json_object_new_array_ext((int)n);
	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int(v[i]));
	return a;
}

struct json_object *pb_numa_topology_to_json(const struct pb_numa_topology *topo)
{
	struct json_object *o = json_object_new_object();
	struct json_object *nodes = json_object_new_array();
	if (!o || !nodes) {
		json_object_put(o);
		json_object_put(nodes);
		return NULL;
	}
	json_object_object_add(o, "available", json_object_new_boolean(topo->available));
	json_object_object_add(o, "method", json_object_new_string("libnuma"));
	for (size_t i = 0; i < topo->n_nodes; i++) {
		const struct pb_numa_node *n = &topo->nodes[i];
		struct json_object *no = json_object_new_object();
		char list[1024];
		json_object_object_add(no, "node", json_object_new_int(n->node));
		json_object_object_add(no, "cpus", int_array(n->cpus, n->n_cpus));
		json_object_object_add(no, "cpulist",
				       json_object_new_string(pb_cpulist_format(
					   n->cpus, n->n_cpus, list, sizeof(list))));
		json_object_object_add(
		    no, "memory_bytes",
		    n->memory_bytes < 0 ? NULL : json_object_new_int64(n->memory_bytes));
		json_object_object_add(
		    no, "memory_free_bytes",
		    n->memory_free_bytes < 0 ? NULL : json_object_new_int64(n->memory_free_bytes));
		struct json_object *d = json_object_new_array();
		for (size_t j = 0; j < topo->n_nodes; j++) {
			struct json_object *e = json_object_new_object();
			json_object_object_add(e, "node", json_object_new_int(topo->nodes[j].node));
			json_object_object_add(e, "distance", json_object_new_int(n->distances[j]));
			json_object_array_add(d, e);
		}
		json_object_object_add(no, "distances", d);
		json_object_array_add(nodes, no);
	}
	json_object_object_add(o, "nodes", nodes);
	return o;
}

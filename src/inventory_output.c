// SPDX-License-Identifier: GPL-2.0-or-later
/* The inventory as a JSON document and as a tree for a terminal; both from the same records. */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "probebench/inventory.h"
#include "probebench/version.h"

static const char *node_source_name(enum pb_node_source s)
{
	switch (s) {
	case PB_NODE_OWN:
		return "own";
	case PB_NODE_INHERITED:
		return "inherited";
	case PB_NODE_NONE:
		break;
	}
	return "none";
}

static struct json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *hex(unsigned v, int digits)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%0*x", digits, v);
	return json_object_new_string(buf);
}

static bool is_selected(const struct pb_inventory_view *view, const struct pb_device *dev)
{
	if (!view || !view->selected)
		return false;
	for (size_t i = 0; i < view->n_selected; i++)
		if (view->selected[i] == dev)
			return true;
	return false;
}

static bool subtree_selected(const struct pb_inventory_view *view, const struct pb_device *dev)
{
	if (is_selected(view, dev))
		return true;
	for (size_t i = 0; i < dev->n_children; i++)
		if (subtree_selected(view, dev->children[i]))
			return true;
	return false;
}

static struct json_object *pci_to_json(const struct pb_pci_info *p)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "bdf", json_object_new_string(p->bdf));
	json_object_object_add(o, "domain", json_object_new_int(p->domain));
	json_object_object_add(o, "bus", json_object_new_int((int)p->bus));
	json_object_object_add(o, "device", json_object_new_int((int)p->dev));
	json_object_object_add(o, "function", json_object_new_int((int)p->func));
	json_object_object_add(o, "vendor_id", hex(p->vendor_id, 4));
	json_object_object_add(o, "device_id", hex(p->device_id, 4));
	json_object_object_add(o, "vendor_name", str_or_null(p->vendor_name));
	json_object_object_add(o, "device_name", str_or_null(p->device_name));
	json_object_object_add(o, "subsystem_vendor_id",
			       p->has_subsys ? hex(p->subsys_vendor_id, 4) : NULL);
	json_object_object_add(o, "subsystem_device_id",
			       p->has_subsys ? hex(p->subsys_id, 4) : NULL);
	json_object_object_add(o, "subsystem_vendor_name", str_or_null(p->subsys_vendor_name));
	json_object_object_add(o, "subsystem_device_name", str_or_null(p->subsys_name));
	json_object_object_add(o, "class", hex(p->class_id, 4));
	json_object_object_add(o, "class_name", str_or_null(p->class_name));
	json_object_object_add(o, "prog_if", hex(p->prog_if, 2));
	json_object_object_add(o, "revision", hex(p->revision, 2));
	json_object_object_add(o, "iommu_group", str_or_null(p->iommu_group));
	json_object_object_add(o, "local_cpulist", str_or_null(p->local_cpulist));
	struct json_object *cpus = NULL;
	if (p->local_cpulist) {
		cpus = json_object_new_array();
		for (size_t i = 0; i < p->n_local_cpus; i++)
			json_object_array_add(cpus, json_object_new_int(p->local_cpus[i]));
	}
	json_object_object_add(o, "local_cpus", cpus);
	return o;
}

struct json_object *pb_device_to_json(const struct pb_device *dev,
				      const struct pb_inventory_view *view)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "syspath", json_object_new_string(dev->syspath));
	json_object_object_add(o, "devpath", json_object_new_string(dev->devpath));
	json_object_object_add(o, "subsystem", str_or_null(dev->subsystem));
	json_object_object_add(o, "sysname", str_or_null(dev->sysname));
	json_object_object_add(o, "driver", str_or_null(dev->driver));
	json_object_object_add(o, "devtype", str_or_null(dev->devtype));
	struct json_object *nodes = json_object_new_array();
	for (size_t i = 0; i < dev->n_devnodes; i++)
		json_object_array_add(nodes, json_object_new_string(dev->devnodes[i]));
	json_object_object_add(o, "devnodes", nodes);
	json_object_object_add(o, "netif", str_or_null(dev->netif));
	json_object_object_add(o, "block", str_or_null(dev->block));

	struct json_object *numa = json_object_new_object();
	json_object_object_add(numa, "node",
			       dev->numa_node >= 0 ? json_object_new_int(dev->numa_node) : NULL);
	json_object_object_add(numa, "source",
			       json_object_new_string(node_source_name(dev->node_source)));
	json_object_object_add(numa, "from",
			       str_or_null(dev->node_from ? dev->node_from->sysname : NULL));
	json_object_object_add(numa, "from_syspath",
			       str_or_null(dev->node_from ? dev->node_from->syspath : NULL));
	json_object_object_add(numa, "own_attribute",
			       dev->has_own_node ? json_object_new_int(dev->own_node) : NULL);
	json_object_object_add(o, "numa", numa);

	if (dev->pci)
		json_object_object_add(o, "pci", pci_to_json(dev->pci));
	if (is_selected(view, dev))
		json_object_object_add(o, "selected", json_object_new_boolean(true));
	if (view && view->decorate_json)
		view->decorate_json(dev, o, view->userdata);

	struct json_object *children = json_object_new_array();
	for (size_t i = 0; i < dev->n_children; i++) {
		struct json_object *c = pb_device_to_json(dev->children[i], view);
		if (!c) {
			json_object_put(children);
			json_object_put(o);
			return NULL;
		}
		json_object_array_add(children, c);
	}
	json_object_object_add(o, "children", children);
	return o;
}

struct json_object *pb_inventory_to_json(const struct pb_inventory *inv,
					 const struct pb_inventory_view *view)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "schema", json_object_new_string(PB_INVENTORY_SCHEMA));
	json_object_object_add(o, "version", json_object_new_int(PB_INVENTORY_VERSION));
	json_object_object_add(o, "tool_version", json_object_new_string(PB_VERSION));
	json_object_object_add(o, "host", str_or_null(inv->host));
	json_object_object_add(o, "kernel", str_or_null(inv->kernel));
	json_object_object_add(o, "sysfs_root", str_or_null(inv->sysfs_root));
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "functions", json_object_new_string("libpci sysfs"));
	json_object_object_add(m, "children", str_or_null(inv->children_method));
	json_object_object_add(m, "names", json_object_new_string("libpci pci_lookup_name"));
	json_object_object_add(
	    m, "numa_node",
	    json_object_new_string("numa_node attribute of the device or of its nearest ancestor "
				   "that has one (as device_add() inherits it)"));
	json_object_object_add(
	    m, "consumers",
	    json_object_new_string("not in this document: which processes hold or map each device "
				   "and where their pages are, `probebench placement --json FILE "
				   "SELECTOR...` (schema probebench-placement, doc/placement.md)"));
	json_object_object_add(o, "methods", m);
	json_object_object_add(o, "topology", pb_numa_topology_to_json(&inv->topology));
	struct json_object *fns = json_object_new_array();
	for (size_t i = 0; i < inv->n_functions; i++) {
		const struct pb_device *f = inv->functions[i];
		if (view && view->selected && !subtree_selected(view, f))
			continue;
		struct json_object *fo = pb_device_to_json(f, view);
		if (!fo) {
			json_object_put(fns);
			json_object_put(o);
			return NULL;
		}
		json_object_array_add(fns, fo);
	}
	json_object_object_add(o, "functions", fns);
	struct json_object *w = json_object_new_array();
	for (size_t i = 0; i < inv->n_warnings; i++)
		json_object_array_add(w, json_object_new_string(inv->warnings[i]));
	json_object_object_add(o, "warnings", w);
	return o;
}

/* ---- text ---- */

static void node_text(const struct pb_device *dev, char *buf, size_t size)
{
	char n[16];
	if (dev->numa_node >= 0)
		snprintf(n, sizeof(n), "%d", dev->numa_node);
	else
		snprintf(n, sizeof(n), "?");
	if (dev->node_source == PB_NODE_INHERITED)
		snprintf(buf, size, "node %s (inherited from %s)", n, dev->node_from->sysname);
	else if (dev->node_source == PB_NODE_NONE)
		snprintf(buf, size, "node ? (no numa_node)");
	else
		snprintf(buf, size, "node %s", n);
}

/* Prints head + tail on one line within width columns, shortening head with "..." if needed.
 * Counts bytes; the box-drawing prefix is counted by its columns. */
static void print_fit(FILE *f, const char *prefix, size_t prefix_cols, const char *head,
		      const char *tail, unsigned width)
{
	size_t hl = strlen(head), tl = strlen(tail);
	size_t room = width > prefix_cols + tl ? width - prefix_cols - tl : 0;
	if (hl <= room)
		fprintf(f, "%s%s%s\n", prefix, head, tail);
	else if (room > 3)
		fprintf(f, "%s%.*s...%s\n", prefix, (int)(room - 3), head, tail);
	else
		fprintf(f, "%s%s%s\n", prefix, head, tail);
}

static void print_child(FILE *f, const struct pb_device *dev, const struct pb_inventory_view *view,
			char *prefix, size_t plen, size_t pcols, bool last, unsigned width)
{
	char line[1024], node[256], extra[512] = "", deco[256] = "", label[512];
	size_t len = plen;
	const char *branch = last ? "└─ " : "├─ ";
	snprintf(line, sizeof(line), "%s%s", prefix, branch);
	pb_device_label(dev, label, sizeof(label));
	node_text(dev, node, sizeof(node));
	size_t el = 0;
	for (size_t i = 0; i < dev->n_devnodes && el < sizeof(extra); i++)
		el += snprintf(extra + el, sizeof(extra) - el, "%s%s", i ? "," : " ",
			       dev->devnodes[i]);
	if (view && view->decorate_text)
		view->decorate_text(dev, deco, sizeof(deco), view->userdata);
	char head[1024], tail[1024];
	snprintf(head, sizeof(head), "%s%s%s%s%s", is_selected(view, dev) ? "* " : "", label,
		 dev->driver ? " [" : "", dev->driver ? dev->driver : "", dev->driver ? "]" : "");
	snprintf(tail, sizeof(tail), " %s%s%s%s", node, extra, deco[0] ? " " : "", deco);
	print_fit(f, line, pcols + 3, head, tail, width);
	/* Extend the prefix for this device's children. */
	const char *ext = last ? "   " : "│  ";
	size_t el2 = strlen(ext);
	if (len + el2 + 1 > 512)
		return;
	memcpy(prefix + len, ext, el2 + 1);
	for (size_t i = 0; i < dev->n_children; i++)
		print_child(f, dev->children[i], view, prefix, len + el2, pcols + 3,
			    i + 1 == dev->n_children, width);
	prefix[len] = '\0';
}

static void print_function(FILE *f, const struct pb_device *dev,
			   const struct pb_inventory_view *view, unsigned width)
{
	const struct pb_pci_info *p = dev->pci;
	char head[512], tail[1024], node[256], deco[256] = "";
	node_text(dev, node, sizeof(node));
	if (view && view->decorate_text)
		view->decorate_text(dev, deco, sizeof(deco), view->userdata);
	snprintf(head, sizeof(head), "%s%s %04x:%04x %s %s", is_selected(view, dev) ? "* " : "",
		 p->bdf, p->vendor_id, p->device_id,
		 p->vendor_name ? p->vendor_name : "(vendor name unknown)",
		 p->device_name ? p->device_name : "(device name unknown)");
	snprintf(tail, sizeof(tail), " [%s] %s%s%s", dev->driver ? dev->driver : "no driver", node,
		 deco[0] ? " " : "", deco);
	print_fit(f, "", 0, head, tail, width);

	char cls[256], detail[1024];
	snprintf(cls, sizeof(cls), "%s", p->class_name ? p->class_name : "?");
	char sub[64] = "-";
	if (p->has_subsys)
		snprintf(sub, sizeof(sub), "%04x:%04x", p->subsys_vendor_id, p->subsys_id);
	char clsid[16] = "";
	if (!strchr(cls, '['))
		snprintf(clsid, sizeof(clsid), " [%04x]", p->class_id);
	snprintf(detail, sizeof(detail), "%s rev %02x, subsystem %s, iommu group %s, local cpus %s",
		 clsid, p->revision, sub, p->iommu_group ? p->iommu_group : "none",
		 p->local_cpulist ? p->local_cpulist : "?");
	print_fit(f, dev->n_children ? "│    " : "     ", 5, cls, detail, width);

	char prefix[512] = "";
	for (size_t i = 0; i < dev->n_children; i++)
		print_child(f, dev->children[i], view, prefix, 0, 0, i + 1 == dev->n_children,
			    width);
}

void pb_inventory_print(FILE *f, const struct pb_inventory *inv,
			const struct pb_inventory_view *view, unsigned width)
{
	if (!width)
		width = 100;
	const struct pb_numa_topology *t = &inv->topology;
	if (!t->available) {
		fprintf(f, "NUMA topology (libnuma): not available on this system\n");
	} else {
		fprintf(f, "NUMA topology (libnuma): %zu node%s\n", t->n_nodes,
			t->n_nodes == 1 ? "" : "s");
		for (size_t i = 0; i < t->n_nodes; i++) {
			const struct pb_numa_node *n = &t->nodes[i];
			char cpus[256], dist[256];
			size_t dl = 0;
			dist[0] = '\0';
			for (size_t j = 0; j < t->n_nodes && dl < sizeof(dist); j++)
				dl += snprintf(dist + dl, sizeof(dist) - dl, "%s%d", j ? " " : "",
					       n->distances[j]);
			char mem[64] = "?";
			if (n->memory_bytes >= 0)
				snprintf(mem, sizeof(mem), "%lld MiB",
					 (long long)(n->memory_bytes >> 20));
			fprintf(f, "  node %d: cpus %s, memory %s, distances %s\n", n->node,
				pb_cpulist_format(n->cpus, n->n_cpus, cpus, sizeof(cpus)), mem,
				dist);
		}
	}
	size_t shown = 0;
	for (size_t i = 0; i < inv->n_functions; i++)
		if (!view || !view->selected || subtree_selected(view, inv->functions[i]))
			shown++;
	fprintf(f,
		"\nPCI functions (libpci, names from pci.ids): %zu; devices below them: %s.\n"
		"node: numa_node attribute, or inherited from the nearest ancestor with one\n\n",
		shown, inv->children_method ? inv->children_method : "?");
	for (size_t i = 0; i < inv->n_functions; i++) {
		const struct pb_device *fn = inv->functions[i];
		if (view && view->selected && !subtree_selected(view, fn))
			continue;
		print_function(f, fn, view, width);
	}
}

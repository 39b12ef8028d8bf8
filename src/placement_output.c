// SPDX-License-Identifier: GPL-2.0-or-later
/* Placement's two views of one report: the JSON document and the tables. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <json-c/json.h>

#include "probebench/inventory.h"
#include "probebench/numa_topo.h"
#include "probebench/placement.h"
#include "probebench/version.h"

/* How each figure is obtained and what it cannot see; the schema's descriptions say the same. */
static const struct {
	const char *key, *text;
} methods[] = {
    {"files", "device nodes by device number (the sysfs dev attribute of the device and of "
	      "every device below it; udev's devnode names them); PCI resource files "
	      "(resource<N>, resource<N>_wc) by st_dev and inode; /dev/hwrng when rng_current "
	      "names an rng of a driver bound to this device and to no other"},
    {"holders", "/proc/PID/fd: each link stat'ed through (fstatat), device nodes matched by file "
		"type and st_rdev, resource files by st_dev and inode; /proc/PID/maps: mappings "
		"of those files by st_dev and inode; processes (thread groups) at scan time, "
		"never traced or signalled; a process that exits during the scan is left out"},
    {"pages", "numa_maps N<node>= pages x kernelpagesize_kB at scan time, summed over every "
	      "mapping of the process; pages not yet touched are not counted; shared pages "
	      "(libraries, shared memory) are counted in every process that maps them; page "
	      "cache read through read() and kernel memory (socket, driver buffers) are not "
	      "counted; device memory mapped from a BAR (VM_PFNMAP) has no pages there"},
    {"device_pages", "the same, for the mappings of the device's own files only"},
    {"on_device_node_ratio", "bytes on the device's NUMA node / all bytes counted; not "
			     "computed for a node-less device (numa_node -1), nor guessed"},
    {"policies", "the memory policy numa_maps shows on each mapping (set_mempolicy, mbind, "
		 "numactl --membind), the distinct ones"},
    {"allowed", "Cpus_allowed_list and Mems_allowed_list of /proc/PID/status at scan time "
		"(affinity and cpuset: where the process may run and allocate, not where it "
		"ran); the nodes of those CPUs from libnuma's topology"},
};

static struct json_object *by_node_json(const struct pb_node_bytes *b, uint64_t page_bytes)
{
	struct json_object *a = json_object_new_array();
	for (int n = 0; n < PB_PLACEMENT_MAX_NODES; n++) {
		if (!b->bytes[n])
			continue;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "node", json_object_new_int(n));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)b->bytes[n]));
		json_object_object_add(o, "pages",
				       json_object_new_int64((int64_t)(b->bytes[n] / page_bytes)));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *bytes_json(const struct pb_node_bytes *b, uint64_t page_bytes)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)b->total_bytes));
	json_object_object_add(o, "pages",
			       json_object_new_int64((int64_t)(b->total_bytes / page_bytes)));
	json_object_object_add(o, "huge_bytes", json_object_new_int64((int64_t)b->huge_bytes));
	json_object_object_add(o, "other_nodes_bytes",
			       json_object_new_int64((int64_t)b->other_bytes));
	json_object_object_add(o, "by_node", by_node_json(b, page_bytes));
	return o;
}

static struct json_object *ints_json(const int *v, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int(v[i]));
	return a;
}

static struct json_object *ratio_json(int node, const struct pb_node_bytes *b)
{
	if (node < 0 || !b->total_bytes)
		return NULL;
	uint64_t on = node < PB_PLACEMENT_MAX_NODES ? b->bytes[node] : 0;
	return json_object_new_double((double)on / (double)b->total_bytes);
}

static const char *kind_name(enum pb_handle_kind k)
{
	return k == PB_HANDLE_BLOCK ? "block" : k == PB_HANDLE_CHAR ? "char" : "file";
}

static struct json_object *consumer_json(const struct pb_placement_report *r,
					 const struct pb_placement_device *d,
					 const struct pb_placement_consumer *c)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "pid", json_object_new_int(c->pid));
	json_object_object_add(o, "comm", json_object_new_string(c->comm));
	struct json_object *holds = json_object_new_array();
	for (size_t i = 0; i < c->n_holds; i++) {
		const struct pb_placement_hold *h = &c->holds[i];
		struct json_object *ho = json_object_new_object();
		json_object_object_add(ho, "file",
				       json_object_new_string(d->handles[h->handle].name));
		json_object_object_add(ho, "how",
				       json_object_new_string(h->fd >= 0 ? "fd" : "map"));
		json_object_object_add(ho, "fd", h->fd >= 0 ? json_object_new_int(h->fd) : NULL);
		char buf[64];
		snprintf(buf, sizeof(buf), "%" PRIx64 "-%" PRIx64, h->map_start, h->map_end);
		json_object_object_add(ho, "mapping",
				       h->fd < 0 ? json_object_new_string(buf) : NULL);
		json_object_array_add(holds, ho);
	}
	json_object_object_add(o, "holds", holds);
	if (c->pages_err) {
		json_object_object_add(o, "pages_error",
				       json_object_new_string(strerror(-c->pages_err)));
		json_object_object_add(o, "pages", NULL);
		json_object_object_add(o, "device_pages", NULL);
		json_object_object_add(o, "on_device_node_ratio", NULL);
	} else {
		json_object_object_add(o, "pages_error", NULL);
		json_object_object_add(o, "pages", bytes_json(&c->total, r->page_bytes));
		json_object_object_add(o, "device_pages", bytes_json(&c->device, r->page_bytes));
		json_object_object_add(o, "on_device_node_ratio", ratio_json(d->node, &c->total));
	}
	json_object_object_add(o, "cpus_allowed", json_object_new_string(c->allowed.cpus_list));
	json_object_object_add(o, "cpu_nodes", ints_json(c->cpu_nodes, c->n_cpu_nodes));
	json_object_object_add(o, "mems_allowed", json_object_new_string(c->allowed.mems_list));
	json_object_object_add(o, "mems_allowed_nodes",
			       ints_json(c->allowed.mems, c->allowed.n_mems));
	json_object_object_add(o, "policies",
			       c->pages_err ? NULL : json_object_new_string(c->policies));
	return o;
}

static struct json_object *device_json(const struct pb_placement_report *r,
				       const struct pb_placement_device *d)
{
	char label[256];
	struct json_object *o = json_object_new_object();
	json_object_object_add(
	    o, "device", json_object_new_string(pb_device_label(d->dev, label, sizeof(label))));
	json_object_object_add(o, "syspath", json_object_new_string(d->dev->syspath));
	json_object_object_add(o, "driver",
			       d->dev->driver ? json_object_new_string(d->dev->driver) : NULL);
	json_object_object_add(o, "numa_node", d->node >= 0 ? json_object_new_int(d->node) : NULL);
	json_object_object_add(o, "node_less", json_object_new_boolean(d->node < 0));
	struct json_object *files = json_object_new_array();
	for (size_t i = 0; i < d->n_handles; i++) {
		const struct pb_placement_handle *h = &d->handles[i];
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "name", json_object_new_string(h->name));
		json_object_object_add(f, "kind", json_object_new_string(kind_name(h->kind)));
		char buf[32];
		snprintf(buf, sizeof(buf), "%u:%u", major(h->rdev), minor(h->rdev));
		json_object_object_add(
		    f, "devnum", h->kind == PB_HANDLE_FILE ? NULL : json_object_new_string(buf));
		json_object_object_add(f, "owner", json_object_new_string(h->owner));
		json_object_object_add(f, "via", json_object_new_string(h->via));
		json_object_array_add(files, f);
	}
	json_object_object_add(o, "files", files);
	struct json_object *notes = json_object_new_array();
	for (size_t i = 0; i < d->n_notes; i++)
		json_object_array_add(notes, json_object_new_string(d->notes[i]));
	json_object_object_add(o, "notes", notes);
	struct json_object *cs = json_object_new_array();
	for (size_t i = 0; i < d->n_consumers; i++)
		json_object_array_add(cs, consumer_json(r, d, &d->consumers[i]));
	json_object_object_add(o, "consumers", cs);
	json_object_object_add(o, "pages", bytes_json(&d->total, r->page_bytes));
	json_object_object_add(o, "on_device_node_ratio",
			       d->has_ratio ? json_object_new_double(d->on_node_ratio) : NULL);
	return o;
}

struct json_object *pb_placement_to_json(const struct pb_placement_report *r)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "schema", json_object_new_string(PB_PLACEMENT_SCHEMA));
	json_object_object_add(o, "version", json_object_new_int(PB_PLACEMENT_VERSION));
	json_object_object_add(o, "tool_version", json_object_new_string(PB_VERSION));
	struct json_object *m = json_object_new_object();
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		json_object_object_add(m, methods[i].key, json_object_new_string(methods[i].text));
	json_object_object_add(o, "methods", m);
	json_object_object_add(o, "page_bytes", json_object_new_int64((int64_t)r->page_bytes));
	struct json_object *scan = json_object_new_object();
	json_object_object_add(scan, "root", json_object_new_boolean(r->root));
	json_object_object_add(scan, "processes", json_object_new_int64((int64_t)r->pids_scanned));
	json_object_object_add(scan, "denied", json_object_new_int64((int64_t)r->pids_denied));
	json_object_object_add(scan, "gone", json_object_new_int64((int64_t)r->pids_gone));
	json_object_object_add(o, "scan", scan);
	struct json_object *devs = json_object_new_array();
	for (size_t i = 0; i < r->n_devices; i++)
		json_object_array_add(devs, device_json(r, &r->devices[i]));
	json_object_object_add(o, "devices", devs);
	return o;
}

/* "n0 120, n1 3" in pages, or "-" when nothing was counted. */
static const char *by_node_text(const struct pb_node_bytes *b, uint64_t page_bytes, char *buf,
				size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int n = 0; n < PB_PLACEMENT_MAX_NODES && len < size; n++)
		if (b->bytes[n])
			len += (size_t)snprintf(buf + len, size - len, "%sn%d %" PRIu64,
						len ? ", " : "", n, b->bytes[n] / page_bytes);
	if (b->other_bytes && len < size)
		snprintf(buf + len, size - len, "%sother %" PRIu64, len ? ", " : "",
			 b->other_bytes / page_bytes);
	if (!buf[0])
		snprintf(buf, size, "-");
	return buf;
}

static const char *ratio_text(int node, const struct pb_node_bytes *b, char *buf, size_t size)
{
	if (node < 0)
		snprintf(buf, size, "node-less");
	else if (!b->total_bytes)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f%%",
			 100.0 * (double)(node < PB_PLACEMENT_MAX_NODES ? b->bytes[node] : 0) /
			     (double)b->total_bytes);
	return buf;
}

static void print_device(FILE *f, const struct pb_placement_report *r,
			 const struct pb_placement_device *d)
{
	char label[256], buf[256], buf2[256], buf3[32];
	fprintf(f, "%s [%s] ", pb_device_label(d->dev, label, sizeof(label)),
		d->dev->driver ? d->dev->driver : "no driver");
	if (d->node < 0)
		fprintf(f, "node-less (numa_node -1 on it and its ancestors): on-node shares not "
			   "computed\n");
	else
		fprintf(f, "node %d\n", d->node);
	for (size_t i = 0; i < d->n_handles; i++) {
		const struct pb_placement_handle *h = &d->handles[i];
		if (h->kind == PB_HANDLE_FILE)
			snprintf(buf, sizeof(buf), "file");
		else
			snprintf(buf, sizeof(buf), "%s %u:%u", kind_name(h->kind), major(h->rdev),
				 minor(h->rdev));
		fprintf(f, "  %s %s: %s (%s)\n", i ? "     " : "files", h->name, buf, h->owner);
		if (strcmp(h->via, "devnode") && strcmp(h->via, "resource"))
			fprintf(f, "          %s\n", h->via);
	}
	if (!d->n_handles)
		fprintf(f, "  files: none (no device node, no PCI resource file)\n");
	for (size_t i = 0; i < d->n_notes; i++)
		fprintf(f, "  note: %s\n", d->notes[i]);
	if (!d->n_consumers) {
		fprintf(f, "  no process holds or maps any of these files\n\n");
		return;
	}
	fprintf(f, "  %-8s %-15s %-26s %9s %-18s %9s %9s %-14s %-5s %s\n", "PID", "COMM", "HOLDS",
		"PAGES", "BY NODE", "DEV PAGES", "ON NODE", "CPUS (NODES)", "MEMS", "POLICY");
	for (size_t i = 0; i < d->n_consumers; i++) {
		const struct pb_placement_consumer *c = &d->consumers[i];
		for (size_t k = 0; k < c->n_holds; k++) {
			const struct pb_placement_hold *h = &c->holds[k];
			const char *name = d->handles[h->handle].name;
			if (h->fd >= 0)
				snprintf(buf, sizeof(buf), "fd %d %s", h->fd, name);
			else
				snprintf(buf, sizeof(buf), "map %s", name);
			if (k) {
				fprintf(f, "  %-8s %-15s %s\n", "", "", buf);
				continue;
			}
			char cpus[96];
			size_t len =
			    (size_t)snprintf(cpus, sizeof(cpus), "%s (", c->allowed.cpus_list);
			for (size_t n = 0; n < c->n_cpu_nodes && len < sizeof(cpus); n++)
				len += (size_t)snprintf(cpus + len, sizeof(cpus) - len, "%s%d",
							n ? "," : "", c->cpu_nodes[n]);
			if (len < sizeof(cpus))
				snprintf(cpus + len, sizeof(cpus) - len, ")");
			if (c->pages_err)
				fprintf(f, "  %-8d %-15s %-26s %9s %-18s %9s %9s %-14s %-5s ?\n",
					(int)c->pid, c->comm, buf, "?", strerror(-c->pages_err),
					"?", "?", cpus, c->allowed.mems_list);
			else
				fprintf(f,
					"  %-8d %-15s %-26s %9" PRIu64 " %-18s %9" PRIu64
					" %9s %-14s %-5s %s\n",
					(int)c->pid, c->comm, buf,
					c->total.total_bytes / r->page_bytes,
					by_node_text(&c->total, r->page_bytes, buf2, sizeof(buf2)),
					c->device.total_bytes / r->page_bytes,
					ratio_text(d->node, &c->total, buf3, sizeof(buf3)), cpus,
					c->allowed.mems_list, c->policies);
		}
	}
	fprintf(f, "  all consumers: %" PRIu64 " pages (%s), on the device's node: %s\n\n",
		d->total.total_bytes / r->page_bytes,
		by_node_text(&d->total, r->page_bytes, buf2, sizeof(buf2)),
		ratio_text(d->node, &d->total, buf3, sizeof(buf3)));
}

void pb_placement_print(FILE *f, const struct pb_placement_report *r)
{
	for (size_t i = 0; i < r->n_devices; i++)
		print_device(f, r, &r->devices[i]);
	fprintf(f, "Scanned %zu processes", r->pids_scanned);
	if (r->pids_gone)
		fprintf(f, ", %zu exited during the scan (left out)", r->pids_gone);
	if (r->pids_denied)
		fprintf(f, "; %zu could not be read (permission denied%s)", r->pids_denied,
			r->root ? "" : ": run as root to see every process");
	fprintf(f, ". Pages are of %" PRIu64 " bytes.\nMethods:\n", r->page_bytes);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		fprintf(f, "  %s: %s\n", methods[i].key, methods[i].text);
}

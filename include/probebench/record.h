/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The run record's typed parts: what the engine and the observer fill and what statistics,
 * the text report and the exporters read. JSON is made from these in one place (record_json.c);
 * nothing reads back the JSON it wrote.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probebench/observer.h"

struct json_object;

/* One iteration's measurement. */
struct pb_measurement {
	/* Not "": the observer failed for this iteration ("arming the observer failed: ...");
	 * no facts then. */
	char error[160];
	struct pb_iteration_facts facts;
	/* Not "": the bind succeeded and the method saw no probe (says which method). */
	char missing_probe[160];
	int method_after; /* the method auto fell back to after this iteration, or -1 */
};

/* Zeroed, method_after -1; NULL on ENOMEM. */
struct pb_measurement *pb_measurement_new(void);
/* An error measurement: "WHAT: strerror(-err)". */
struct pb_measurement *pb_measurement_error(const char *what, int err);
void pb_measurement_free(struct pb_measurement *m);
static inline bool pb_measurement_has_facts(const struct pb_measurement *m)
{
	return m && !m->error[0];
}

/* Probes of one (depth, bus, driver) over the iterations of a target x placement. */
struct pb_summary_group {
	int depth;
	char bus[32], driver[64]; /* "?" when unknown */
	uint64_t *ns;		  /* the probes' durations */
	size_t n;
	uint64_t on_node_yes, on_node_no, on_node_unknown, hops;
};

struct pb_measure_summary {
	const char *method; /* NULL: nothing measured; "mixed" when methods changed */
	uint64_t measured, missing_probe, lossy;
	bool lossy_included;
	struct pb_summary_group *groups; /* sorted by depth, bus, driver */
	size_t n_groups;
	uint64_t *uevent_kernel_ns, *uevent_udev_ns;
	size_t n_uevent_kernel, n_uevent_udev;
	bool memory; /* some iteration measured memory */
	uint64_t pages_by_node[PB_MEASURE_MAX_NODES], slab_by_node[PB_MEASURE_MAX_NODES],
	    slab_counted_by_node[PB_MEASURE_MAX_NODES];
	unsigned n_page_nodes, n_slab_nodes, n_slab_counted_nodes;
	uint64_t pages_total, pages_unknown_node, lost_records, lost_slab_records;
};

/*
 * Summary of one target x placement from its iterations' measurements (NULL entries and errors
 * are skipped). An iteration whose bind succeeded without a probe seen and, unless include_lossy,
 * one that lost records are counted and left out of the statistics. -ENOMEM.
 */
int pb_measure_summary_make(const struct pb_measurement *const *ms, size_t n, bool include_lossy,
			    struct pb_measure_summary *out);
void pb_measure_summary_clear(struct pb_measure_summary *s);

/* ---- JSON (record_json.c): the record's documented form, schema/run.schema.json ---------- */
/* [v0, v1, ...]: a per-node array. */
struct json_object *pb_json_u64_array(const uint64_t *v, unsigned n);
struct json_object *pb_iteration_facts_to_json(const struct pb_iteration_facts *f);
/* {"error"} or the facts with "missing_probe" and "method_after" when set. */
struct json_object *pb_measurement_to_json(const struct pb_measurement *m);
/*
 * {"method", "iterations_measured", "iterations_missing_probe", "iterations_lossy",
 *  "lossy_included", "probes": [{"depth", "bus", "driver", "probe_ns": stats,
 *  "on_device_node": {"yes", "no", "unknown", "share" | null}, "hops"}],
 *  "uevent_kernel_ns": stats | null, "uevent_udev_ns": stats | null,
 *  "memory": {"pages_by_node", "bytes_by_node", "pages_total", "pages_unknown_node",
 *             "slab_allocs_by_node", "slab_counted_by_node"} | null, "lost_records",
 *  "lost_slab_records"}.
 */
struct json_object *pb_measure_summary_to_json(const struct pb_measure_summary *s);

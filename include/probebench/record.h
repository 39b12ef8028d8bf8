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

#include "probebench/cycle.h"
#include "probebench/observer.h"
#include "probebench/stats.h"
#include "probebench/target.h"

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
	struct pb_stats probe_ns; /* the probes' durations (probe_ns.n: how many) */
	uint64_t on_node_yes, on_node_no, on_node_unknown, hops;
};

struct pb_measure_summary {
	const char *method; /* NULL: nothing measured; "mixed" when methods changed */
	uint64_t measured, missing_probe, lossy;
	bool lossy_included;
	struct pb_summary_group *groups; /* sorted by depth, bus, driver */
	size_t n_groups;
	struct pb_stats uevent_kernel_ns, uevent_udev_ns; /* n == 0: none seen */
	bool memory;					  /* some iteration measured memory */
	uint64_t pages_by_node[PB_MEASURE_MAX_NODES], slab_by_node[PB_MEASURE_MAX_NODES],
	    slab_counted_by_node[PB_MEASURE_MAX_NODES];
	unsigned n_page_nodes, n_slab_nodes, n_slab_counted_nodes;
	bool slab_sampled; /* some iteration sampled its slab allocations: slab_by_node is theirs */
	bool slab_counted_ftrace; /* some iteration counted them from ftrace records, not perf */
	uint64_t pages_total, pages_unknown_node, lost_records, lost_slab_records;
	/* Pages freed again inside the windows; what the devices kept until their next unbind
	 * (sums over the kept_iterations whose watch settled; kept_unknown: watches that failed).
	 */
	uint64_t pages_freed_total, kept_iterations, kept_unknown, kept_total;
	uint64_t kept_by_node[PB_MEASURE_MAX_NODES];
	unsigned n_kept_nodes;
	/* Slab caches' objects in use after minus before each bind, summed over the iterations
	 * (the largest PB_SLAB_MAX_CACHES), with how many iterations read them. */
	struct pb_slab_delta *slab_caches;
	size_t n_slab_caches;
	uint64_t slab_cache_iterations;
};

/*
 * Summary of one target x placement from its iterations' measurements (NULL entries and errors
 * are skipped). An iteration whose bind succeeded without a probe seen and, unless include_lossy,
 * one that lost records are counted and left out of the statistics. -ENOMEM.
 */
int pb_measure_summary_make(const struct pb_measurement *const *ms, size_t n, bool include_lossy,
			    struct pb_measure_summary *out);
void pb_measure_summary_clear(struct pb_measure_summary *s);

/* ---- the run record ------------------------------------------------------------------- */
struct pb_record_target {
	struct pb_target t;
	struct json_object *verdict; /* the safety verdict as written (NULL in a loaded record) */
	char observer_error[400];    /* not "": this target was timed only, the observer said why */
};

struct pb_record_placement {
	char label[32]; /* "cpu3", "node1", "any" */
	int cpu, node;	/* -1: not pinned that way */
};

struct pb_record_iteration {
	size_t target, placement; /* indexes into targets[], placements[] */
	unsigned iteration;	  /* 0-based, warm-up not counted */
	struct pb_cycle_result res;
	struct pb_measurement *measurement; /* NULL: not measured */
};

/* One target x placement, from its iterations with outcome ok (pb_run_record_summarise). */
struct pb_record_summary {
	size_t target, placement;
	struct pb_stats unbind_ns, bind_ns; /* n == 0: no iteration ok */
	bool measured;			    /* the run measured: measurement is filled */
	struct pb_measure_summary measurement;
};

struct pb_record_options {
	enum pb_entry_path entry;
	unsigned iterations, warmup, max_consecutive_failures, ring_pages;
	uint64_t duration_ns, interval_ns, timeout_ns;
	uint32_t forced_reasons; /* bit 1u << enum pb_reason */
	bool parallel, measure, include_lossy, mlock, slab_samples;
	enum pb_buffer buffer; /* the observer's buffer as asked ("buffer": auto, perf, ftrace) */
	enum pb_measure_method method;
	int fifo_prio;
	char state_dir[256];
	char module_options[256]; /* --entry module: the options of every load */
};

struct pb_run_record {
	int schema_version;
	char tool_version[32], host[128], kernel_release[128];
	int64_t start_unix_ns, end_unix_ns;
	struct pb_record_options options;
	bool measure_enabled;
	char measure_why_not[160]; /* when not enabled */
	/* Facts about the machine and the observers, written as they are and never read back (NULL
	 * in a loaded record): kernel {release, cmdline}, uname, topology, measurement, hygiene,
	 * journal_restored. */
	struct json_object *kernel, *uname, *topology, *measurement_info, *hygiene, *restored;
	struct pb_record_target *targets;
	size_t n_targets;
	struct pb_record_placement *placements;
	size_t n_placements;
	struct pb_record_iteration *iterations;
	size_t n_iterations, cap_iterations;
	struct pb_record_summary *summaries; /* target-major: [t * n_placements + p] */
	size_t n_summaries;
	unsigned warmup_done;
	char status[16];	       /* complete, interrupted, failed, timeout, ... */
	enum pb_run_status run_status; /* how the run ended (run.h); JSON "exit_code" */
};

/* Appends an iteration (the record then owns its measurement). -ENOMEM. */
int pb_run_record_add_iteration(struct pb_run_record *r, const struct pb_record_iteration *it);
/* (Re)computes summaries[] from the iterations with outcome ok. -ENOMEM. */
int pb_run_record_summarise(struct pb_run_record *r);
void pb_run_record_free(struct pb_run_record *r);

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
 *             "slab_sampled", "slab_allocs_by_node" (when sampled), "slab_counted_by_node",
 *             ...} | null, "lost_records",
 *  "lost_slab_records"}.
 */
struct json_object *pb_measure_summary_to_json(const struct pb_measure_summary *s);
/* The whole record (schema/run.schema.json, version 2); summaries as last summarised. */
struct json_object *pb_run_record_to_json(const struct pb_run_record *r);
/* The same as pretty-printed text (malloc'd), as `run --json` and the daemon store it; NULL. */
char *pb_run_record_json_text(const struct pb_run_record *r);

/*
 * Reads a stored run record (record_load.c), from another process: what the summaries, the
 * metrics and compare read (targets, placements, options, iterations with their measurements,
 * status); the machine facts stay NULL. Summaries are recomputed. -EINVAL (err says why) or
 * -ENOMEM.
 */
int pb_run_record_from_json(struct json_object *j, struct pb_run_record **ret, char *err,
			    size_t err_size);
/* The same from a file; NULL when it cannot be read or is not a run record (logged, naming the
 * file) or on ENOMEM. */
struct pb_run_record *pb_run_record_read(const char *path);

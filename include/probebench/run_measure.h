/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The observer wired into the run pipeline: one observer per target (opened with the target's
 * syspath, bus and NUMA node), armed by the cycle hooks around every BIND write only (the probe
 * happens there; unbind and helper writes are not observed), disarmed right after it with the
 * write's exact CLOCK_MONOTONIC window. collect() hands the facts of the cycle's last bind
 * attempt (the one bind_ns is from) to the iteration record.
 *
 * A target whose observer cannot open (no method works here, -ENOTSUP, or any other error) is
 * cycled with timing only; the metadata says why. An arm or disarm failure costs that
 * iteration's facts ({"error": ...} in its record), never the bind write itself: the hooks run
 * outside the write and cannot fail it.
 */
#include <stddef.h>

#include "probebench/observer.h"

struct json_object;
struct pb_cycle_hooks;
struct pb_device;
struct pb_inventory;
struct pb_target;
struct pb_run_measure;

/*
 * Opens the observers. Never fails for want of a method; returns 0 or -ENOMEM. targets must stay
 * valid (and at the same address: the hooks match targets by pointer) until freed. devices[i] is
 * target i's device in inv, the run's inventory, whose subtree each observer is given for its
 * device lookups; both may be NULL (the observers then look every device up in sysfs).
 */
int pb_run_measure_new(const struct pb_target *targets, size_t n, const struct pb_inventory *inv,
		       const struct pb_device *const *devices, enum pb_measure_method method,
		       unsigned ring_pages, bool slab_samples, enum pb_buffer buffer,
		       struct pb_run_measure **ret);
/*
 * Frees the observers (restores initcall_debug). Must not be called while a writer thread that
 * got the hooks may still call them (a hung, abandoned writer): leak it then.
 */
/* The run ended: the kept-page watches settle (what each device holds at the end). */
void pb_run_measure_finish(struct pb_run_measure *m);
void pb_run_measure_free(struct pb_run_measure *m);
/* Fills *ret with hooks that call chained (may be NULL) after their own work. */
void pb_run_measure_hooks(struct pb_run_measure *m, const struct pb_cycle_hooks *chained,
			  struct pb_cycle_hooks *ret);
/* How many targets are measured (observer open). */
size_t pb_run_measure_active(const struct pb_run_measure *m);
/*
 * Metadata for the run record: {"enabled": true, "requested": "auto", "availability":
 * pb_observer_methods_json(), "used": ["tracepoint"], "observer": {what the observers hold:
 * "fds", "perf_events", "locked_bytes", "rings", "ring_pages", "cpus", ... (run.schema.json)},
 * "observers": [{"target", "method" | null,
 * "error" | null, "info": pb_observer_info_json() | null, "arm_failures", "disarm_failures"}]}.
 */
struct json_object *pb_run_measure_json(struct pb_run_measure *m);
/* Why target i is timed only (its observer did not open), or NULL when it is measured. */
const char *pb_run_measure_error(struct pb_run_measure *m, size_t i);

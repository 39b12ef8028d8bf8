/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Prometheus text exposition (format 0.0.4) of the daemon's state and of each plan's latest run
 * record. Pure: structures in, text out. Every name has the probebench_ prefix and a base unit;
 * durations measured in ns by the run pipeline are exported in seconds. A summary without
 * samples omits the metric it would feed, never a zero.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probebench/run.h"

struct pb_run_record;
struct pb_placement_report;

struct pb_metrics_plan {
	const char *name;
	uint64_t runs_by_status[PB_RUN_STATUS__MAX]; /* runs finished since the daemon started */
	bool has_last;
	enum pb_run_status last_status; /* exported as its number (probebench_last_run_exit_code) */
	double last_end_time_s;		/* CLOCK_REALTIME seconds when the run ended */
	double last_duration_s;		/* CLOCK_MONOTONIC difference */
	const struct pb_run_record *last_record; /* may be NULL (no record) */
	/* the targets' users sampled after the latest run ("placement": true); may be NULL */
	const struct pb_placement_report *placement;
};

struct pb_metrics_daemon {
	const char *version;
	double start_time_s;
	size_t results_stored;
	bool run_in_progress;
	uint64_t config_reloads_ok, config_reloads_failed;
	/* The restore run when the daemon started (false: none ran, no metric): the journal
	 * entries it found (devices an interrupted run left) and its exit code. */
	bool restore_ran;
	unsigned restore_entries;
	int restore_exit;
};

/* Renders the metrics into a new string (*ret, caller frees). 0 or -ENOMEM. */
int pb_metrics_render(const struct pb_metrics_daemon *d, const struct pb_metrics_plan *plans,
		      size_t n_plans, char **ret);

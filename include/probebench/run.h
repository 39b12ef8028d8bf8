/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The run pipeline shared by `probebench run` and the daemon: resolve targets, check safety,
 * restore the journal, cycle (unbind/bind) with measurement, summarize, build the run record.
 */
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probebench/observer.h"

struct json_object;
struct pb_cycle_hooks;
struct pb_inventory;
struct pb_run_record;

enum pb_entry_path {
	PB_ENTRY_BIND,	/* DRV/unbind then DRV/bind: device_driver_attach() */
	PB_ENTRY_PROBE, /* DRV/unbind, driver_override, bus/drivers_probe: __device_attach() */
};

struct pb_run_opts {
	const char *const *targets; /* selectors or sysfs paths, named explicitly */
	size_t n_targets;
	enum pb_entry_path entry;
	unsigned iterations;  /* measured iterations per target x placement */
	unsigned warmup;      /* unmeasured iterations first */
	uint64_t duration_ns; /* 0: no limit; otherwise stop starting iterations after this */
	uint64_t interval_ns; /* pause between iterations */
	uint64_t timeout_ns;  /* a bind/unbind write that takes longer is a hang */
	const int *writer_nodes;
	size_t n_writer_nodes;
	const int *writer_cpus;
	size_t n_writer_cpus;
	uint32_t forced_reasons; /* bit 1u << enum pb_reason */
	bool parallel; /* several targets bound at the same moment, one pinned thread each */
	unsigned max_consecutive_failures;
	/* Called from time to time (5 per second at most) in the cycling thread while measured
	 * iterations run (NULL: never): done of total (0: open-ended), the running median bind
	 * time, the estimated time left. The front end draws it (run: a line on a terminal). */
	void (*progress)(void *userdata, uint64_t done, uint64_t total, uint64_t median_bind_ns,
			 uint64_t eta_ns);
	void *progress_userdata;
	/* Measurement (run_measure.h): one observer per target around every bind write. */
	bool measure;
	enum pb_measure_method method;
	unsigned ring_pages; /* observer's per-CPU ring pages (power of two); 0: its default */
	bool include_lossy;  /* iterations that lost records count in the summaries too */
	/* Hygiene: mlockall(MCL_CURRENT | MCL_FUTURE) before cycling (a failure is a warning);
	 * fifo_prio > 0: writer threads SCHED_FIFO at that priority (checked first: RLIMIT_RTPRIO
	 * or CAP_SYS_NICE). */
	bool mlock;
	int fifo_prio;
	/* The devices as already read (the daemon's, which resolved its rules in it); it must
	 * outlive the run. NULL: the run reads the inventory itself, once. */
	const struct pb_inventory *inventory;
};

/*
 * Whether this process may run threads SCHED_FIFO at prio: 0, or -EINVAL (out of range) or
 * -EPERM (RLIMIT_RTPRIO below prio and no CAP_SYS_NICE) with the reason in why.
 */
int pb_fifo_check(int prio, char *why, size_t size);

/* Checks the options that need no device: targets named, timeout, --fifo. Logs what is wrong;
 * returns PB_EXIT_OK, PB_EXIT_USAGE or PB_EXIT_FAILURE. */
int pb_run_opts_check(const struct pb_run_opts *opts);

struct pb_run_plan;
/* PB_EXIT_REFUSED (logged, naming it) when an allowed plan holds a target with no driver bound,
 * else PB_EXIT_OK. */
int pb_run_refuse_driverless(const struct pb_run_plan *plan);

/*
 * Runs the plan. Returns a PB_EXIT_* code (include/probebench/cmd.h). *ret_record receives the run
 * record (record.h; complete, or partial after a stop or failure; the caller frees it with
 * pb_run_record_free) whenever cycling started; NULL otherwise.
 * The run stops between steps when *stop becomes non-zero (signal handlers set it).
 */
int pb_run_execute(const struct pb_run_opts *opts, struct pb_run_record **ret_record,
		   volatile sig_atomic_t *stop);

/*
 * The same, with measurement hooks called around every timed write (include/probebench/cycle.h);
 * hooks may be NULL. Their collect() result lands in each iteration's "measurement" object.
 */
int pb_run_execute_hooks(const struct pb_run_opts *opts, const struct pb_cycle_hooks *hooks,
			 struct pb_run_record **ret_record, volatile sig_atomic_t *stop);

/*
 * Parses a list like "0,2-3" (as in --writer-node/--writer-cpu) into a malloc'd array of
 * non-negative ints. Returns 0, or -EINVAL for garbage, empty items or reversed ranges.
 */
int pb_parse_int_list(const char *s, int **ret, size_t *ret_n);

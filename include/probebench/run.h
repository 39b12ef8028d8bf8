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
struct pb_record_iteration;
struct pb_inventory;
struct pb_run_record;

/*
 * How a run ended, named for what happened. Front ends map it to what they report (cmd_run: its
 * exit code, cmd.h). The numbers are part of the record's format and never change: a stored
 * record carries them as "exit_code" (schema/run.schema.json) and the daemon exports them (its
 * status's last.exit_code, probebench_last_run_exit_code); they equal the exit codes
 * `probebench run` gives for them.
 */
enum pb_run_status {
	PB_RUN_OK = 0,
	PB_RUN_FAILED = 1,	/* anything else: I/O, memory, the lock held, a cycle refused */
	PB_RUN_INVALID = 2,	/* the request: a selector malformed or matching nothing, an
				 * option out of range */
	PB_RUN_REFUSED = 3,	/* a safety check refused a target, or it has no driver */
	PB_RUN_BIND_FAILED = 4, /* binds failed K times in a row (device put back), or putting a
				 * device back failed */
	PB_RUN_HUNG = 5,	/* a sysfs write did not return in time: device marked hung */
	PB_RUN_INTERRUPTED = 6, /* stop requested (a signal): devices restored, record partial */
	PB_RUN_GONE = 7,	/* a target device disappeared */
	PB_RUN_STATUS__MAX
};

/* Its short name, as the daemon labels results: "ok", "failure", "usage", "refused",
 * "bind_failed", "timeout", "interrupted", "gone"; "unknown" for any other number. */
const char *pb_run_status_name(int status);

enum pb_entry_path {
	PB_ENTRY_BIND,	/* DRV/unbind then DRV/bind: device_driver_attach() */
	PB_ENTRY_PROBE, /* DRV/unbind, driver_override, bus/drivers_probe: __device_attach() */
	/* Unload the driver's module and load it again (libkmod): driver_register() ->
	 * __driver_attach() for every device of its drivers. */
	PB_ENTRY_MODULE,
};

/* "bind", "probe", "module". */
const char *pb_entry_name(enum pb_entry_path e);

/* Where a run stands when an iteration is handed to the front (pb_run_opts.on_iteration). */
struct pb_run_position {
	uint64_t done;		    /* measured iterations in the record, this one included */
	uint64_t total;		    /* measured iterations planned; 0: open-ended (a duration) */
	uint64_t since_start_ns;    /* since the loop started (warm-up included) */
	uint64_t since_measured_ns; /* since the first measured round started */
	/* The iteration's target and placement by name, and how many of each the run has. */
	const char *target, *placement;
	size_t n_targets, n_placements;
};

struct pb_run_opts {
	const char *const *targets; /* selectors or sysfs paths, named explicitly */
	size_t n_targets;
	enum pb_entry_path entry;
	/* --entry module: the options of every load ("async_probe=1"); NULL or "": none */
	const char *module_options;
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
	/* Called in the cycling thread after each measured iteration, once the record holds it
	 * (NULL: never): the iteration as the record keeps it (valid during the call only) and
	 * where the run stands. cmd_run draws its progress line from it. */
	void (*on_iteration)(void *userdata, const struct pb_record_iteration *it,
			     const struct pb_run_position *at);
	void *userdata;
	/* Measurement (run_measure.h): one observer per target around every bind write. */
	bool measure;
	enum pb_measure_method method;
	unsigned ring_pages;   /* observer's per-CPU ring pages (power of two); 0: its default */
	bool include_lossy;    /* iterations that lost records count in the summaries too */
	bool slab_samples;     /* the observer samples slab allocations (default: counts them) */
	enum pb_buffer buffer; /* the observer's buffer (--buffer; default auto) */
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
 * returns 0, -EINVAL (an option is invalid) or -EPERM (--fifo not allowed). */
int pb_run_opts_check(const struct pb_run_opts *opts);

struct pb_run_plan;
/* PB_RUN_REFUSED (logged, naming it) when an allowed plan holds a target with no driver bound,
 * else PB_RUN_OK. */
enum pb_run_status pb_run_refuse_driverless(const struct pb_run_plan *plan);

/*
 * Runs the plan. Returns how it ended (the record keeps it too). *ret_record receives the run
 * record (record.h; complete, or partial after a stop or failure; the caller frees it with
 * pb_run_record_free) whenever cycling started; NULL otherwise.
 * The run stops between steps when *stop becomes non-zero (signal handlers set it).
 */
enum pb_run_status pb_run_execute(const struct pb_run_opts *opts, struct pb_run_record **ret_record,
				  volatile sig_atomic_t *stop);

/*
 * The same, with measurement hooks called around every timed write (include/probebench/cycle.h);
 * hooks may be NULL. Their collect() result lands in each iteration's "measurement" object.
 */
enum pb_run_status pb_run_execute_hooks(const struct pb_run_opts *opts,
					const struct pb_cycle_hooks *hooks,
					struct pb_run_record **ret_record,
					volatile sig_atomic_t *stop);

/*
 * Parses a list like "0,2-3" (as in --writer-node/--writer-cpu) into a malloc'd array of
 * non-negative ints. Returns 0, or -EINVAL for garbage, empty items or reversed ranges.
 */
int pb_parse_int_list(const char *s, int **ret, size_t *ret_n);

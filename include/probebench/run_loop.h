/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The run's loop (run_loop.c): rounds over targets x placements, warm-up rounds first, with the
 * options' stop, duration, interval and failure policy. The session (run.c) sets it up on armed
 * targets and started writers; each measured iteration, once complete, goes to a callback in the
 * cycling thread, through which the session fills the record. The loop logs each failed cycle
 * once, naming the device, and keeps no iteration itself.
 */
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probebench/cycle.h"
#include "probebench/record.h"
#include "probebench/run.h"

struct pb_run_loop {
	/* iterations, warmup, duration_ns, interval_ns, timeout_ns, entry, parallel,
	 * max_consecutive_failures */
	const struct pb_run_opts *o;
	const struct pb_target *targets; /* armed (pb_cycle_arm) */
	size_t n_targets, n_placements;
	struct pb_writer *const *writers;   /* [placement], or with parallel [placement][target] */
	struct pb_journal_entry *je;	    /* [target], as pb_cycle_arm() left them */
	struct pb_kmod *kmod;		    /* --entry module: the libkmod context */
	const struct pb_cycle_hooks *hooks; /* NULL, or collect() measures each iteration */
	volatile sig_atomic_t *stop;	    /* non-zero: stop before the next cycle */
	/*
	 * Each measured iteration, in order (round, placement, target), after the loop has judged
	 * its outcome and before it stops for it. From the call on, the callback owns
	 * it->measurement, whatever it returns; a negative return stops the loop: failed.
	 */
	int (*iteration)(void *userdata, const struct pb_record_iteration *it);
	void *userdata;

	/* Filled by the loop. */
	bool *armed;	      /* [target], in and out: cleared for a device lost, hung or gone */
	unsigned warmup_done; /* warm-up cycles that were ok */
	uint64_t start_ns;    /* pb_now_ns() when the loop started */
	uint64_t measured_ns; /* ... when the first measured round started; 0: none did */
	const char *status;   /* the record's status: complete, interrupted, failed, timeout */
};

/* Runs the loop until the options' iterations or duration are done, a stop, or a failure that
 * ends the run. Returns how it ended. */
enum pb_run_status pb_run_loop(struct pb_run_loop *l);

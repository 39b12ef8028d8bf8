/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The run's first stage: what would be cycled, where, and whether it may be. Resolves the
 * selectors to devices (one inventory read, or the caller's inventory), takes one safety snapshot
 * and checks every target, lists the writer placements. Reads the system, writes nothing and prints
 * nothing: the front ends show it (run --dry-run) and the session (run.c) carries it out.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "probebench/cycle.h"
#include "probebench/inventory.h"
#include "probebench/policy.h"
#include "probebench/run.h"
#include "probebench/target.h"

struct pb_run_plan {
	/* The run's one inventory: the caller's (pb_run_opts.inventory) or own_inventory, read
	 * once. The targets, their safety checks and the observers' device lookups come from it. */
	const struct pb_inventory *inventory;
	struct pb_inventory *own_inventory;
	const struct pb_device **devices; /* [target]: the target's device in inventory */
	struct pb_target *targets;
	struct pb_verdict *verdicts; /* [target] */
	size_t n_targets;
	bool allowed;	     /* every target passes, or its refusals are all forced */
	bool module_refused; /* --entry module: a module cannot be unloaded (never forced) */
	struct pb_placement *placements;
	size_t n_placements;
};

/*
 * Builds the plan of o. hung: devices the journal marks hung in this boot (never touched again,
 * nor the devices above or below them). Returns 0, -EINVAL/-ENOENT for selectors that name
 * nothing or targets that overlap (logged, naming them), -EDEADLK for a hung target, -ENOMEM,
 * or another -errno from reading the system.
 */
int pb_run_plan_make(const struct pb_run_opts *o, const char (*hung)[PATH_MAX], size_t n_hung,
		     struct pb_run_plan **ret);
void pb_run_plan_free(struct pb_run_plan *p);

/* "cpu3", "node1", "any". */
void pb_placement_label(const struct pb_placement *p, char *buf, size_t size);

/* The dry run's text: plan line, targets, placements, then each target's verdict. */
void pb_run_plan_print(FILE *f, const struct pb_run_plan *p, const struct pb_run_opts *o);

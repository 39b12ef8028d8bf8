/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * `probebench daemon`: runs the configured plans through the run pipeline (run.h) on their
 * schedules, stores each run record, serves them over HTTP and as Prometheus metrics, and talks
 * to systemd (sd_notify: READY, STATUS, WATCHDOG, RELOADING, STOPPING).
 */
#include <stdbool.h>

/*
 * The daemon logs through log.h (the front end chooses the target) with the fields PLAN=,
 * DEVICE= and DRIVER= where a message concerns a plan or a device.
 */
struct pb_config;

struct pb_daemon_opts {
	const char *config_path;  /* read again on SIGHUP */
	struct pb_config *config; /* loaded from config_path by the caller; the daemon frees it */
	/* Runs `probebench restore` at start and on exit; provided by the front end (NULL: none).
	 */
	int (*restore)(void);
};

/* Runs until SIGTERM/SIGINT. Returns 0 then, or -errno when it could not start or its loop
 * failed (logged). */
int pb_daemon_main(const struct pb_daemon_opts *opts);

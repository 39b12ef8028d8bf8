/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * `probebench daemon`: runs the configured plans through the run pipeline (run.h) on their
 * schedules, stores each run record, serves them over HTTP and as Prometheus metrics, and talks
 * to systemd (sd_notify: READY, STATUS, WATCHDOG, RELOADING, STOPPING).
 */
#include <stdbool.h>
#include <syslog.h>

enum pb_daemon_log_target {
	PB_DAEMON_LOG_AUTO,    /* the journal when started by systemd with stderr on the journal */
	PB_DAEMON_LOG_JOURNAL, /* sd_journal_send with PLAN=, DEVICE=, DRIVER= fields */
	PB_DAEMON_LOG_STDERR,
};

struct pb_daemon_opts {
	const char *config_path;
	enum pb_daemon_log_target log;
	/* Runs `probebench restore` at start and on exit; provided by the front end (NULL: none).
	 */
	int (*restore)(void);
};

/* Runs until SIGTERM/SIGINT. Returns a PB_EXIT_* code. */
int pb_daemon_main(const struct pb_daemon_opts *opts);

/* Structured logging: to the journal with PLAN=, DEVICE=, DRIVER= (empty ones left out), or to
 * stderr as "probebench: [plan device driver] message". */
void pb_daemon_log_setup(enum pb_daemon_log_target target);
void pb_dlog(int level, const char *plan, const char *device, const char *driver, const char *fmt,
	     ...) __attribute__((format(printf, 5, 6)));

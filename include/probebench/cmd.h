/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Subcommands: src/cmd_NAME.c defines `int cmd_NAME(int argc, char **argv)` (argv[0] is the
 * subcommand's name, getopt-ready). Exit codes are shared by every subcommand; they belong to the
 * front ends (main.c, cmd_*.c): the library returns -errno or a status (run.h).
 */
#include "probebench/run.h"

enum pb_exit {
	PB_EXIT_OK = 0,
	PB_EXIT_FAILURE = 1,	 /* the operation failed (I/O, kernel refused, ...) */
	PB_EXIT_USAGE = 2,	 /* bad option or selector, or a selector that matches nothing */
	PB_EXIT_REFUSED = 3,	 /* a safety check refused a target */
	PB_EXIT_BIND_FAILED = 4, /* a bind failed K times in a row; device put back */
	PB_EXIT_TIMEOUT = 5,	 /* a sysfs write hung; device marked, never touched again */
	PB_EXIT_INTERRUPTED = 6, /* SIGINT/SIGTERM: partial result written, devices restored */
	PB_EXIT_GONE = 7,	 /* a target device disappeared during the run */
};

/* The exit code of a run that ended with st. */
static inline int pb_exit_of_run(enum pb_run_status st)
{
	switch (st) {
	case PB_RUN_OK:
		return PB_EXIT_OK;
	case PB_RUN_INVALID:
		return PB_EXIT_USAGE;
	case PB_RUN_REFUSED:
		return PB_EXIT_REFUSED;
	case PB_RUN_BIND_FAILED:
		return PB_EXIT_BIND_FAILED;
	case PB_RUN_HUNG:
		return PB_EXIT_TIMEOUT;
	case PB_RUN_INTERRUPTED:
		return PB_EXIT_INTERRUPTED;
	case PB_RUN_GONE:
		return PB_EXIT_GONE;
	case PB_RUN_FAILED:
	case PB_RUN_STATUS__MAX:
		break;
	}
	return PB_EXIT_FAILURE;
}

int cmd_list(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_placement(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Subcommands: src/cmd_NAME.c defines `int cmd_NAME(int argc, char **argv)` (argv[0] is the
 * subcommand's name, getopt-ready). Exit codes are shared by every subcommand.
 */
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

int cmd_list(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_compare(int argc, char **argv);

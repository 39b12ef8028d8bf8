// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/cmd.h"
#include "probebench/cycle.h"
#include "probebench/journal.h"
#include "probebench/log.h"
#include "probebench/measure.h"
#include "probebench/observer.h"
#include "probebench/paths.h"
#include "probebench/util.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: probebench restore [OPTIONS]\n\n"
		"Rebinds every device the journal holds to the driver recorded before its unbind,\n"
		"restores its driver_override and power/control, and clears the entries it fixed.\n"
		"Devices marked hung (a write that never returned) are skipped and named.\n"
		"Also removes the kprobe events (tracefs group probebench) and the tracefs\n"
		"instances (probebench_PID_*, run --buffer ftrace) and puts back the\n"
		"initcall_debug setting a killed run left.\n\n"
		"  --state-dir DIR   journal directory (default %s)\n"
		"  --timeout DUR     limit for each write (default 10s)\n"
		"  -h, --help        show this help\n\n"
		"Exit: 0 all restored (or nothing to do), 1 something left in the journal,\n"
		"      5 a write hung, 2 bad usage.\n",
		PB_DEFAULT_STATE_DIR);
}

int cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"state-dir", required_argument, NULL, 's'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	uint64_t timeout_ns = 10ull * 1000000000ull;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case 's':
			pb_set_state_dir(optarg);
			break;
		case 't':
			if (pb_parse_duration_ns(optarg, &timeout_ns) < 0 || !timeout_ns) {
				pb_error("--timeout: '%s' is not a positive duration", optarg);
				return PB_EXIT_USAGE;
			}
			break;
		case 'h':
			help(stdout);
			return PB_EXIT_OK;
		default:
			help(stderr);
			return PB_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pb_error("restore takes no arguments ('%s')", argv[optind]);
		return PB_EXIT_USAGE;
	}
	pid_t holder = 0;
	int lock = pb_journal_lock(&holder);
	if (lock == -EWOULDBLOCK) {
		pb_error("a probebench run (pid %d) holds %s/lock; it restores its own devices",
			 (int)holder, pb_state_dir());
		return PB_EXIT_FAILURE;
	}
	if (lock == -EPERM)
		return pb_error(
			   "the state directory %s or its lock is not owned by this user or is "
			   "writable by group or others: not trusted",
			   pb_state_dir()),
		       PB_EXIT_FAILURE;
	if (lock < 0)
		return pb_error_errno(lock, "cannot lock %s", pb_state_dir()), PB_EXIT_FAILURE;

	struct pb_journal_entry *v = NULL;
	size_t n = 0, bad = 0;
	int r = pb_journal_load(&v, &n, &bad), code = PB_EXIT_OK;
	if (r < 0) {
		pb_error_errno(r, "cannot read the journal in %s", pb_state_dir());
		pb_journal_unlock(lock);
		return PB_EXIT_FAILURE;
	}
	if (bad) {
		pb_error("%zu unreadable journal file(s) in %s left in place", bad, pb_state_dir());
		code = PB_EXIT_FAILURE;
	}
	struct pb_writer *w = NULL;
	struct pb_placement any = {.cpu = -1, .node = -1};
	if (n && (r = pb_writer_new(&any, NULL, &w)) < 0) {
		pb_error_errno(r, "cannot start a writer thread");
		free(v);
		pb_journal_unlock(lock);
		return PB_EXIT_FAILURE;
	}
	for (size_t i = 0; i < n; i++) {
		int err;
		if (pb_writer_hung(w)) {
			pb_error("%s: not attempted (an earlier write hung)", v[i].sysname);
			continue;
		}
		enum pb_restore_outcome out = pb_restore_entry(w, &v[i], timeout_ns, &err);
		switch (out) {
		case PB_RESTORE_OK:
			printf("%s: bound to %s; settings restored\n", v[i].sysname, v[i].driver);
			break;
		case PB_RESTORE_REBOUND:
			printf("%s: rebound to %s; settings restored\n", v[i].sysname, v[i].driver);
			break;
		case PB_RESTORE_GONE:
			printf("%s: no longer exists; entry cleared\n", v[i].sysname);
			break;
		case PB_RESTORE_HUNG:
			pb_error("%s: %s; skipped, entry kept (reboot to recover)", v[i].sysname,
				 err ? "a write hung now" : "marked hung by an earlier run");
			code = err ? PB_EXIT_TIMEOUT : (code ? code : PB_EXIT_FAILURE);
			break;
		case PB_RESTORE_OTHER:
			pb_error("%s: bound to another driver than %s; left alone, entry kept",
				 v[i].sysname, v[i].driver);
			code = code ? code : PB_EXIT_FAILURE;
			break;
		case PB_RESTORE_MISMATCH:
			pb_error(
			    "%s: the entry's %s is not /sys/bus/%s/devices/%s; nothing written, "
			    "entry kept (remove it by hand if it is not yours)",
			    v[i].sysname, v[i].syspath, v[i].bus, v[i].sysname);
			code = code ? code : PB_EXIT_FAILURE;
			break;
		case PB_RESTORE_FAILED:
			pb_error("%s: could not put back on %s: %s; entry kept", v[i].sysname,
				 v[i].driver, strerror(err));
			code = code ? code : PB_EXIT_FAILURE;
			break;
		}
	}
	if (!n && !bad)
		printf("journal empty: nothing to restore\n");
	int k = pb_kprobe_events_remove_stale();
	if (k > 0)
		printf("removed %d kprobe event(s) left by a run that is gone\n", k);
	k = pb_ftbuf_remove_stale(); /* their buffers are kernel memory until removed */
	if (k > 0)
		printf("removed %d tracefs instance(s) left by a run that is gone\n", k);
	k = pb_observer_restore_kernel_settings();
	if (k > 0)
		printf("initcall_debug put back as a run that is gone found it\n");
	else if (k < 0)
		pb_error_errno(k, "cannot put initcall_debug back"),
		    code = code ? code : PB_EXIT_FAILURE;
	pb_writer_free(w);
	free(v);
	pb_journal_unlock(lock);
	return code;
}

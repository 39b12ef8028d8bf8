// SPDX-License-Identifier: GPL-2.0-or-later
/* probebench daemon [--config FILE] [--log auto|journal|stderr] [--check-config] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "probebench/cmd.h"
#include "probebench/config.h"
#include "probebench/daemon.h"
#include "probebench/log.h"

#define DEFAULT_CONFIG "/etc/probebench/probebench.json"

/* `probebench restore` is linked in when the cycle engine is; the daemon runs it as a step. */
#pragma weak cmd_restore

static int run_restore(void)
{
	char arg0[] = "restore";
	char *argv[] = {arg0, NULL};
	optind = 0;
	return cmd_restore(1, argv);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: probebench daemon [--config FILE] [--log auto|journal|stderr] "
		"[--check-config]\n\n"
		"Runs the plans of FILE (default " DEFAULT_CONFIG ") on their schedules, stores\n"
		"every run record, and serves the HTTP API and Prometheus metrics. A plan cycles\n"
		"only the devices it names, and measures every probe as `probebench run` does\n"
		"unless it says \"measure\": false.\n\n"
		"  -c, --config FILE   configuration (JSON, see doc/daemon.md)\n"
		"      --log TARGET    auto (journal under systemd), journal or stderr\n"
		"      --check-config  validate FILE, print the first error, exit\n"
		"  -h, --help          show this help\n");
}

int cmd_daemon(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"log", required_argument, NULL, 'l'},
	    {"check-config", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct pb_daemon_opts o = {.config_path = DEFAULT_CONFIG};
	enum pb_log_target log_target = PB_LOG_AUTO;
	bool check = false;
	int c;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config_path = optarg;
			break;
		case 'l':
			if (pb_log_target_from_name(optarg, &log_target) < 0) {
				pb_error("--log: expected auto, journal or stderr, got '%s'",
					 optarg);
				return PB_EXIT_USAGE;
			}
			break;
		case 'k':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return PB_EXIT_OK;
		default:
			usage(stderr);
			return PB_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pb_error("daemon: unexpected argument '%s'", argv[optind]);
		return PB_EXIT_USAGE;
	}
	if (check) {
		char err[1024];
		struct pb_config *cfg;
		if (pb_config_load(o.config_path, &cfg, err, sizeof(err)) < 0) {
			pb_error("%s", err);
			return PB_EXIT_USAGE;
		}
		printf("%s: valid, %zu plan(s)\n", o.config_path, cfg->n_plans);
		pb_config_free(cfg);
		return PB_EXIT_OK;
	}
	pb_log_open(log_target);
	/* Under systemd stdout is the journal's stream socket, which stdio buffers fully: the
	 * lines of the restore at start ("DEV: rebound to DRIVER") reached the journal only when
	 * the daemon exited, and never after a crash. One line, one journal entry, when written. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	o.restore = cmd_restore ? run_restore : NULL;
	if (!o.restore)
		pb_warn(
		    "this build has no restore command: devices left by a crash are not restored");
	char err[1024];
	if (pb_config_load(o.config_path, &o.config, err, sizeof(err)) < 0) {
		pb_error("refusing to start: %s", err);
		return PB_EXIT_USAGE;
	}
	return pb_daemon_main(&o) == 0 ? PB_EXIT_OK : PB_EXIT_FAILURE;
}

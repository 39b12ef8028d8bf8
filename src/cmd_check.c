// SPDX-License-Identifier: GPL-2.0-or-later
/* probebench check [--json] */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <json-c/json.h>

#include "probebench/check.h"
#include "probebench/cmd.h"
#include "probebench/log.h"

static void help(FILE *f)
{
	fprintf(f, "Usage: probebench check [--json]\n\n"
		   "Reports what this machine allows the tool to do, one line per prerequisite:\n"
		   "running as root, perf_event_paranoid, tracefs, kprobe events, the workqueue,\n"
		   "sched and kmem tracepoints, NUMA nodes, udev, writable bind files,\n"
		   "initcall_debug and memory blocks. Each line says ok, limited or missing, what\n"
		   "was found and how, and what is lost without it. Reads only: it mounts, loads\n"
		   "and writes nothing.\n\n"
		   "Options:\n"
		   "  -j, --json    print a JSON document (schema/check.schema.json)\n"
		   "  -h, --help    show this help\n\n"
		   "Exit status: 0 whenever the report was printed (missing items included);\n"
		   "1 when it could not be printed; 2 on a bad option.\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) >= 0) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			help(stdout);
			return PB_EXIT_OK;
		default:
			fprintf(stderr, "Try 'probebench check --help'.\n");
			return PB_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pb_error("check takes no arguments (got '%s')", argv[optind]);
		return PB_EXIT_USAGE;
	}
	struct pb_check_report r;
	pb_check_run(&r);
	if (json) {
		struct json_object *doc = pb_check_report_to_json(&r);
		if (!doc)
			return pb_error_errno(-ENOMEM, "building JSON"), PB_EXIT_FAILURE;
		puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	} else {
		pb_check_report_print(stdout, &r);
	}
	if (fflush(stdout) != 0)
		return pb_error_errno(-errno, "writing the report"), PB_EXIT_FAILURE;
	return PB_EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* probebench placement [--json FILE] SELECTOR... */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "probebench/cmd.h"
#include "probebench/inventory.h"
#include "probebench/log.h"
#include "probebench/placement.h"
#include "probebench/util.h"

static void help(FILE *f)
{
	fprintf(
	    f,
	    "Usage: probebench placement [--json FILE] SELECTOR...\n\n"
	    "Shows where the memory of the processes that use a device lives. For each selected\n"
	    "device and the devices below it: its device nodes (matched by device number),\n"
	    "its PCI resource files, /dev/hwrng for the current hardware rng's device; the\n"
	    "processes that hold one open (/proc/PID/fd) or map one (/proc/PID/maps); for each,\n"
	    "its pages by NUMA node (/proc/PID/numa_maps), those of the device's mappings, the\n"
	    "share on the device's node, and its allowed CPUs (with their nodes) and memory\n"
	    "nodes (/proc/PID/status). A device without a NUMA node is said to be node-less:\n"
	    "no share is computed. Reads only: processes are never traced or signalled.\n\n"
	    "Selectors are those of list and run (probebench list --help).\n\n"
	    "Options:\n"
	    "  -j, --json FILE   also write a JSON document (schema/placement.schema.json);\n"
	    "                    '-' writes it to stdout instead of the tables\n"
	    "  -h, --help        show this help\n\n"
	    "Exit status: 0 shown; 1 the processes or devices could not be read;\n"
	    "2 bad option, malformed selector, or a selector that matches nothing.\n");
}

static int write_json(const char *path, const struct pb_placement_report *rep)
{
	struct json_object *doc = pb_placement_to_json(rep);
	if (!doc)
		return -ENOMEM;
	const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
	int r;
	if (!strcmp(path, "-"))
		r = puts(text) < 0 ? -EIO : 0;
	else
		r = pb_write_file_atomic(path, text, strlen(text), 0644, 0);
	json_object_put(doc);
	return r;
}

int cmd_placement(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", required_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	const char *json_path = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'j':
			json_path = optarg;
			break;
		case 'h':
			help(stdout);
			return PB_EXIT_OK;
		default:
			fprintf(stderr, "Try 'probebench placement --help'.\n");
			return PB_EXIT_USAGE;
		}
	}
	size_t n_sels = argc - optind;
	const char *const *targets = (const char *const *)argv + optind;
	if (!n_sels) {
		pb_error("placement needs at least one selector (probebench placement --help)");
		return PB_EXIT_USAGE;
	}
	char err[1024] = "";

	struct pb_inventory *inv = NULL;
	struct pb_placement_report *rep = NULL;
	int ret = PB_EXIT_OK;
	int r = pb_placement_sample(targets, n_sels, &inv, &rep, err, sizeof(err));
	if (r < 0) {
		pb_error("%s", err);
		return r == -EINVAL || r == -ENOENT ? PB_EXIT_USAGE : PB_EXIT_FAILURE;
	}
	for (size_t i = 0; i < inv->n_warnings; i++)
		pb_warn("%s", inv->warnings[i]);
	if (rep->pids_denied)
		pb_warn("%zu processes could not be read (permission denied)%s", rep->pids_denied,
			rep->root ? "" : ": run as root to see every process");
	if (!json_path || strcmp(json_path, "-"))
		pb_placement_print(stdout, rep);
	if (json_path && (r = write_json(json_path, rep)) < 0) {
		pb_error_errno(r, "cannot write %s", json_path);
		ret = PB_EXIT_FAILURE;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		pb_error_errno(-errno, "writing the placement");
		ret = PB_EXIT_FAILURE;
	}
	pb_placement_report_free(rep);
	pb_inventory_free(inv);
	return ret;
}

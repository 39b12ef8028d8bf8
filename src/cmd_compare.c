// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "probebench/cmd.h"
#include "probebench/compare.h"
#include "probebench/log.h"
#include "probebench/record.h"
#include "probebench/util.h"

static void help(FILE *f)
{
	fprintf(
	    f,
	    "Usage: probebench compare [OPTIONS] BASELINE.json CANDIDATE.json\n\n"
	    "Compares two run records (probebench run --json, or the daemon's results), e.g. a\n"
	    "kernel before and after a change to the probe path. For every (target, placement)\n"
	    "both share: bind and unbind write times, the kernel's bind uevent, and each probe\n"
	    "group's duration (bus/driver, depth) — medians, their ratio (candidate / baseline)\n"
	    "and a two-sided Mann-Whitney U test (exact below 50 untied values a side); the share\n"
	    "of probes on the device's node with Fisher's exact test. Only iterations with\n"
	    "outcome ok count.\n\n"
	    "  -j, --json FILE      also write the comparison (schema/compare.schema.json)\n"
	    "      --alpha A        significance level of the verdicts (default 0.01)\n"
	    "      --min-change R   relative change of the medians below which a significant\n"
	    "                       difference is reported as no change (default 0.02)\n"
	    "  -h, --help           show this help\n\n"
	    "Verdicts: slower / faster (p < alpha and |ratio - 1| >= min-change), no change\n"
	    "beyond min_change, no significant change, too few samples (fewer than 5 a side).\n"
	    "Exit: 0 compared, 1 a file cannot be read or shares nothing with the other, 2 "
	    "usage.\n");
}

static struct pb_run_record *read_record(const char *path)
{
	struct json_object *o = json_object_from_file(path);
	struct pb_run_record *r = NULL;
	char err[256];
	if (!o)
		pb_error("%s: cannot read a JSON document: %s", path, json_util_get_last_err());
	else if (!json_object_is_type(o, json_type_object))
		pb_error("%s: not a run record (the top level is not an object)", path);
	else if (pb_run_record_from_json(o, &r, err, sizeof(err)) < 0)
		pb_error("%s: %s", path, err);
	json_object_put(o);
	return r;
}

int cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", required_argument, NULL, 'j'},
	    {"alpha", required_argument, NULL, 'a'},
	    {"min-change", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	const char *json_path = NULL;
	double alpha = 0.01, min_change = 0.02;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json_path = optarg;
			break;
		case 'a':
			if (pb_parse_double(optarg, 1e-9, 0.5, &alpha) < 0) {
				pb_error("--alpha: must be a number in (0, 0.5], got '%s'", optarg);
				return PB_EXIT_USAGE;
			}
			break;
		case 'm':
			if (pb_parse_double(optarg, 0, 10, &min_change) < 0) {
				pb_error("--min-change: must be a number in [0, 10], got '%s'",
					 optarg);
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
	if (argc - optind != 2) {
		pb_error("compare needs exactly two run records: BASELINE.json CANDIDATE.json");
		return PB_EXIT_USAGE;
	}
	const char *pa = argv[optind], *pb = argv[optind + 1];
	struct pb_run_record *a = read_record(pa), *b = a ? read_record(pb) : NULL;
	struct pb_compare *cmp = NULL;
	int code = PB_EXIT_FAILURE;
	char err[512] = "";
	if (!a || !b)
		goto out;
	int r = pb_compare_runs(a, pa, b, pb, alpha, min_change, &cmp, err, sizeof(err));
	if (r < 0) {
		if (err[0])
			pb_error("%s", err);
		else
			pb_error_errno(r, "compare");
		goto out;
	}
	pb_compare_print(stdout, cmp);
	if (json_path) {
		struct json_object *doc = pb_compare_to_json(cmp);
		int w = json_object_to_file_ext(
		    json_path, doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
		json_object_put(doc);
		if (w < 0) {
			pb_error("%s: cannot write: %s", json_path, json_util_get_last_err());
			goto out;
		}
	}
	code = PB_EXIT_OK;
out:
	pb_compare_free(cmp);
	pb_run_record_free(a);
	pb_run_record_free(b);
	return code;
}

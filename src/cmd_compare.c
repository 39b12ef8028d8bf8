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
	    "Usage: probebench compare [OPTIONS] BASELINE.json CANDIDATE.json\n"
	    "       probebench compare [OPTIONS] BASE1.json [BASE2.json ...] -- CAND1.json "
	    "[CAND2.json ...]\n\n"
	    "Compares run records (probebench run --json, or the daemon's results), e.g. a kernel\n"
	    "before and after a change to the probe path; each record one boot, several a side\n"
	    "pooled. For every (target, placement) both share: bind and unbind write times, the\n"
	    "kernel's bind uevent, and each probe group's duration (bus/driver, depth, "
	    "measurement\n"
	    "method) — medians, their ratio (candidate / baseline), a two-sided Mann-Whitney U\n"
	    "test (exact below 50 untied values a side, else the normal approximation) and the\n"
	    "Hodges-Lehmann shift with its 1 - alpha interval; the share of probes on the "
	    "device's\n"
	    "node with Fisher's exact test. Holm's adjustment over the duration tests, and apart\n"
	    "over the share tests. With several records a side: each record's median and the\n"
	    "spread between records (boot to boot) apart from the spread within. Only iterations\n"
	    "with outcome ok count; lossy and missing-probe iterations are left out and counted.\n"
	    "Last, a verdict table of the probe series (at most 120 columns) to paste under a\n"
	    "patch.\n\n"
	    "  -j, --json FILE      also write the comparison (schema/compare.schema.json)\n"
	    "      --alpha A        significance level of the verdicts, on Holm-adjusted p; the\n"
	    "                       shift intervals are at 1 - A (default 0.01)\n"
	    "      --min-change R   relative change of the medians below which a significant\n"
	    "                       difference is reported as no change (default 0.02)\n"
	    "  -h, --help           show this help\n\n"
	    "Verdicts: slower / faster (adjusted p < alpha and |ratio - 1| >= min-change), no\n"
	    "change beyond min_change, no significant change, too few samples (fewer than 5 a\n"
	    "side). Exit: 0 compared, 1 a file cannot be read or the sides share nothing, 2 "
	    "usage.\n");
}

/* Whether argv[i] is the argument of the option before it. */
static bool option_argument(char **argv, int i)
{
	static const char *const takes[] = {"-j", "--json", "--alpha", "--min-change"};
	for (size_t k = 0; i > 1 && k < sizeof(takes) / sizeof(takes[0]); k++)
		if (!strcmp(argv[i - 1], takes[k]))
			return true;
	return false;
}

static void free_records(struct pb_run_record **r, size_t n)
{
	for (size_t i = 0; r && i < n; i++)
		pb_run_record_free(r[i]);
	free(r);
}

/* Reads n records; NULL when one cannot be read (said why) or on ENOMEM. */
static struct pb_run_record **read_records(char **paths, size_t n)
{
	struct pb_run_record **r = calloc(n, sizeof(*r));
	if (!r) {
		pb_error("out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (!(r[i] = pb_run_record_read(paths[i]))) {
			free_records(r, n);
			return NULL;
		}
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
	int c, sep = -1;
	/* BASE... -- CAND...: the options end at the separator (getopt would drop it) */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--") && !option_argument(argv, i)) {
			sep = i;
			break;
		}
	int n_opt_args = sep < 0 ? argc : sep;
	optind = 1;
	while ((c = getopt_long(n_opt_args, argv, "j:h", opts, NULL)) != -1) {
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
	char **base_paths = argv + optind, **cand_paths;
	size_t n_base, n_cand;
	if (sep < 0) {
		if (argc - optind != 2) {
			pb_error("compare needs exactly two run records: BASELINE.json "
				 "CANDIDATE.json, or BASE.json... -- CAND.json...");
			return PB_EXIT_USAGE;
		}
		n_base = n_cand = 1;
		cand_paths = argv + optind + 1;
	} else {
		n_base = (size_t)(sep - optind);
		cand_paths = argv + sep + 1;
		n_cand = (size_t)(argc - sep - 1);
		for (size_t i = 0; i < n_cand; i++)
			if (!strcmp(cand_paths[i], "--")) {
				pb_error("compare: -- given twice: BASE.json... -- CAND.json...");
				return PB_EXIT_USAGE;
			}
		if (!n_base || !n_cand) {
			pb_error("compare: no %s run record %s --: BASE.json... -- CAND.json...",
				 n_base ? "candidate" : "baseline", n_base ? "after" : "before");
			return PB_EXIT_USAGE;
		}
	}
	struct pb_run_record **a = read_records(base_paths, n_base),
			     **b = a ? read_records(cand_paths, n_cand) : NULL;
	struct pb_compare *cmp = NULL;
	int code = PB_EXIT_FAILURE;
	char err[512] = "";
	if (!a || !b)
		goto out;
	int r = pb_compare_records(
	    (const struct pb_run_record *const *)a, (const char *const *)base_paths, n_base,
	    (const struct pb_run_record *const *)b, (const char *const *)cand_paths, n_cand, alpha,
	    min_change, &cmp, err, sizeof(err));
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
	free_records(a, n_base);
	free_records(b, n_cand);
	return code;
}

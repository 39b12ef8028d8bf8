// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "probebench/cmd.h"
#include "probebench/log.h"
#include "probebench/record.h"
#include "probebench/report_html.h"
#include "probebench/util.h"

static void help(FILE *f)
{
	fprintf(
	    f,
	    "Usage: probebench report [--compare COMPARE.json] -o REPORT.html RUN.json...\n\n"
	    "Writes one self-contained HTML page (inline SVG and CSS, a few lines of script,\n"
	    "nothing fetched; printable) from run records (probebench run --json, the daemon's\n"
	    "results). For each target and placement: the distribution of bind and probe times\n"
	    "(ECDF, p50 and p99 marked), the bind time per iteration, the share of probes on the\n"
	    "device's NUMA node, pages by node, and the probes of the median bind on a timeline\n"
	    "with a lane per CPU (writer, hop worker, nested probes). With --compare (a file of\n"
	    "probebench compare --json): baseline next to candidate for every series with the\n"
	    "Hodges-Lehmann shift, its interval and the verdict; the samples of both sides too\n"
	    "when their records are among RUN.json. Every figure names its method and what it\n"
	    "cannot see. The same input gives the same bytes.\n\n"
	    "  -o, --output FILE     the page to write (atomically); - for stdout\n"
	    "  -c, --compare FILE    a comparison document (schema/compare.schema.json)\n"
	    "  -h, --help            show this help\n\n"
	    "Exit: 0 written, 1 a file cannot be read or written, 2 usage.\n");
}

static struct json_object *read_compare(const char *path)
{
	struct json_object *o = json_object_from_file(path), *s = NULL;
	if (!o) {
		pb_error("%s: cannot read a JSON document: %s", path, json_util_get_last_err());
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "schema", &s) ||
	    !json_object_is_type(s, json_type_string) ||
	    strcmp(json_object_get_string(s), "probebench-compare/1")) {
		pb_error("%s: not a comparison (schema is not probebench-compare/1)", path);
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The page in a string, then out to path (atomically) or stdout. */
static int write_report(const char *out, const struct pb_run_record *const *recs,
			const char *const *names, size_t n, struct json_object *cmp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		pb_error("out of memory");
		return PB_EXIT_FAILURE;
	}
	int r = pb_report_html(f, recs, names, n, cmp);
	if (fclose(f) != 0 || r < 0) {
		free(buf);
		pb_error("out of memory");
		return PB_EXIT_FAILURE;
	}
	if (!strcmp(out, "-"))
		r = fwrite(buf, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : -EIO;
	else
		r = pb_write_file_atomic(out, buf, len, 0644, 0);
	free(buf);
	if (r < 0) {
		pb_error_errno(r, "cannot write %s", out);
		return PB_EXIT_FAILURE;
	}
	return PB_EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"compare", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	const char *out = NULL, *cmp_path = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'c':
			cmp_path = optarg;
			break;
		case 'h':
			help(stdout);
			return PB_EXIT_OK;
		default:
			fprintf(stderr, "See probebench report --help.\n");
			return PB_EXIT_USAGE;
		}
	}
	if (!out) {
		pb_error("no output given (-o REPORT.html, or -o - for stdout)");
		return PB_EXIT_USAGE;
	}
	size_t n = argc > optind ? (size_t)(argc - optind) : 0;
	if (!n) {
		pb_error("no run record given (probebench report -o REPORT.html RUN.json...)");
		return PB_EXIT_USAGE;
	}
	const char *const *names = (const char *const *)argv + optind;
	struct pb_run_record **recs = calloc(n, sizeof(*recs));
	struct json_object *cmp = NULL;
	int code = recs ? PB_EXIT_OK : PB_EXIT_FAILURE;
	for (size_t i = 0; code == PB_EXIT_OK && i < n; i++)
		if (!(recs[i] = pb_run_record_read(names[i])))
			code = PB_EXIT_FAILURE;
	if (code == PB_EXIT_OK && cmp_path && !(cmp = read_compare(cmp_path)))
		code = PB_EXIT_FAILURE;
	if (code == PB_EXIT_OK)
		code = write_report(out, (const struct pb_run_record *const *)recs, names, n, cmp);
	for (size_t i = 0; recs && i < n; i++)
		pb_run_record_free(recs[i]);
	free(recs);
	json_object_put(cmp);
	return code;
}

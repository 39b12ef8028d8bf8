// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "probebench/report.h"

void pb_report_fmt_ns(char *buf, size_t size, double ns)
{
	if (ns >= 1e9)
		snprintf(buf, size, "%.2f s", ns / 1e9);
	else if (ns >= 1e6)
		snprintf(buf, size, "%.2f ms", ns / 1e6);
	else if (ns >= 1e3)
		snprintf(buf, size, "%.1f us", ns / 1e3);
	else
		snprintf(buf, size, "%.0f ns", ns);
}

void pb_report_progress(FILE *f, uint64_t done, uint64_t total, uint64_t median_bind_ns,
			uint64_t eta_ns)
{
	char med[32], eta[32];
	pb_report_fmt_ns(med, sizeof(med), (double)median_bind_ns);
	pb_report_fmt_ns(eta, sizeof(eta), (double)eta_ns);
	fprintf(f, "\r\033[Kiteration %" PRIu64 "/%" PRIu64 "  median bind %s  ETA %s", done, total,
		med, eta);
	fflush(f);
}

static double get_num(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k1, &v))
		return 0;
	if (k2 && !json_object_object_get_ex(v, k2, &v))
		return 0;
	return json_object_get_double(v);
}

static void row(FILE *f, const char *target, const char *placement, const char *what,
		struct json_object *s)
{
	char mn[24], md[24], p99[24], mx[24];
	pb_report_fmt_ns(mn, sizeof(mn), get_num(s, "min", NULL));
	pb_report_fmt_ns(md, sizeof(md), get_num(s, "percentile", "50.000000"));
	pb_report_fmt_ns(p99, sizeof(p99), get_num(s, "percentile", "99.000000"));
	pb_report_fmt_ns(mx, sizeof(mx), get_num(s, "max", NULL));
	fprintf(f, "%-28s %-10s %-7s %6.0f %10s %10s %10s %10s\n", target, placement, what,
		get_num(s, "N", NULL), mn, md, p99, mx);
}

void pb_report_summary(FILE *f, struct json_object *record)
{
	struct json_object *summary, *status;
	if (!json_object_object_get_ex(record, "summary", &summary))
		return;
	fprintf(f, "%-28s %-10s %-7s %6s %10s %10s %10s %10s\n", "target", "placement", "step", "N",
		"min", "median", "p99", "max");
	for (size_t i = 0; i < json_object_array_length(summary); i++) {
		struct json_object *e = json_object_array_get_idx(summary, i), *t, *p, *s;
		if (!json_object_object_get_ex(e, "target", &t) ||
		    !json_object_object_get_ex(e, "placement", &p))
			continue;
		if (json_object_object_get_ex(e, "unbind_ns", &s))
			row(f, json_object_get_string(t), json_object_get_string(p), "unbind", s);
		if (json_object_object_get_ex(e, "bind_ns", &s))
			row(f, json_object_get_string(t), json_object_get_string(p), "bind", s);
	}
	if (json_object_object_get_ex(record, "status", &status))
		fprintf(
		    f,
		    "status: %s; times are CLOCK_MONOTONIC around each write(2) in the writer "
		    "thread (wall clock: includes preemption, not the deferred work after it)\n",
		    json_object_get_string(status));
}

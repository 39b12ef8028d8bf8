/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The HTML report (`probebench report`, the daemon's /report): one self-contained page (inline
 * SVG and CSS, a few lines of script, nothing fetched) made from run records and, optionally, a
 * comparison document (schema/compare.schema.json). For each target x placement: the
 * distribution of bind and probe times with p50 and p99, the per-iteration series, the share
 * of probes on the device's node, pages by node and the probes of the median bind on a timeline
 * with a lane per CPU; for a comparison, baseline next to candidate with the Hodges-Lehmann
 * shift, its interval and the verdict. Every figure names its method and what it cannot see.
 * The same input gives the same bytes: no time of day, no addresses, stable order.
 */
#include <stddef.h>
#include <stdio.h>

struct json_object;
struct pb_run_record;

/* Writes s with &, <, >, " and ' as character references (NULL writes nothing). */
void pb_html_escape(FILE *f, const char *s);

/*
 * The report of n records, names[i] naming recs[i] (its file, shown and matched against the
 * comparison's run files); compare: a parsed comparison document or NULL. 0, or -EIO when the
 * stream failed.
 */
int pb_report_html(FILE *f, const struct pb_run_record *const *recs, const char *const *names,
		   size_t n, struct json_object *compare);

/*
 * The report of one stored run record given as JSON text (the daemon's files): a malloc'd page in
 * *ret (its length in *ret_len). -EINVAL when the text is not a run record (err says why),
 * -ENOMEM.
 */
int pb_report_html_from_text(const char *json_text, const char *name, char **ret, size_t *ret_len,
			     char *err, size_t err_size);

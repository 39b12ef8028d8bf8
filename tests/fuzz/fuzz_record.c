// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: a stored run record read back (pb_run_record_from_json, which recomputes the
 * summaries) and rendered as the daemon's metrics, as after a restart.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <json-c/json.h>

#include "fuzz.h"
#include "probebench/metrics.h"
#include "probebench/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return 0;
	struct json_object *j = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	struct pb_run_record *r = NULL;
	char err[256];
	if (j && pb_run_record_from_json(j, &r, err, sizeof(err)) == 0) {
		struct pb_metrics_plan p = {.name = "fuzz", .has_last = true, .last_record = r};
		struct pb_metrics_daemon d = {.version = "fuzz"};
		char *text = NULL;
		if (pb_metrics_render(&d, &p, 1, &text) == 0)
			free(text);
		pb_run_record_free(r);
	}
	json_object_put(j);
	return 0;
}

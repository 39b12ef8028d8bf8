// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer: what a URL reaches in the HTTP API: the route (pb_http_route_match) and, for a run,
 * the id check that guards every path built from it (pb_result_id_valid/parse).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "probebench/http.h"
#include "probebench/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char url[1024];
	fuzz_cstring(data, size, url, sizeof(url));
	const char *id = NULL;
	if (pb_http_route_match(url, &id) == PB_ROUTE_RUN) {
		uint64_t t;
		const char *plan;
		if (pb_result_id_parse(id, &t, &plan) == 0 &&
		    (strchr(id, '/') || plan[0] == '.' || !strcmp(plan, "..")))
			__builtin_trap(); /* an id that passes must not leave the directory */
	}
	return 0;
}

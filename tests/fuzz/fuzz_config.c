// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: the daemon's configuration parser (pb_config_parse), text as read from the file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probebench/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* pb_config_load refuses a NUL byte; the parser sees a C string */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	struct pb_config *cfg = NULL;
	char err[1024];
	if (pb_config_parse(text, "fuzz.json", &cfg, err, sizeof(err)) == 0) {
		/* what the daemon does with a valid one, without I/O */
		if (cfg->http_listen)
			pb_config_listen_addr(cfg->http_listen, NULL, NULL);
		pb_config_free(cfg);
	}
	free(text);
	return 0;
}

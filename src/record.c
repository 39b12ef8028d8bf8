// SPDX-License-Identifier: GPL-2.0-or-later
/* The typed run record's own parts (record.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/record.h"

struct pb_measurement *pb_measurement_new(void)
{
	struct pb_measurement *m = calloc(1, sizeof(*m));
	if (m)
		m->method_after = -1;
	return m;
}

struct pb_measurement *pb_measurement_error(const char *what, int err)
{
	struct pb_measurement *m = pb_measurement_new();
	if (m)
		snprintf(m->error, sizeof(m->error), "%s: %s", what, strerror(-err));
	return m;
}

void pb_measurement_free(struct pb_measurement *m)
{
	if (!m)
		return;
	pb_iteration_facts_clear(&m->facts);
	free(m);
}

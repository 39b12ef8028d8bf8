// SPDX-License-Identifier: GPL-2.0-or-later
/* Option parsing shared by the run front ends; pure, unit-tested. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/run.h"
#include "probebench/util.h"

int pb_parse_int_list(const char *s, int **ret, size_t *ret_n)
{
	int *v = NULL;
	size_t n = 0;
	if (!s || !*s)
		return -EINVAL;
	_cleanup_free_ char *copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long a, b;
		char *dash = strchr(tok, '-');
		if (dash) {
			*dash = '\0';
			if (pb_parse_long(tok, 10, 0, 4095, &a) < 0 ||
			    pb_parse_long(dash + 1, 10, 0, 4095, &b) < 0 || b < a)
				goto bad;
		} else if (pb_parse_long(tok, 10, 0, 4095, &a) < 0) {
			goto bad;
		} else {
			b = a;
		}
		for (long x = a; x <= b; x++) {
			int *nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			v[n++] = (int)x;
		}
	}
	/* strtok_r skips empty items: reject ",," and trailing commas explicitly */
	if (s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
		goto bad;
	*ret = v;
	*ret_n = n;
	return 0;
bad:
	free(v);
	return -EINVAL;
}

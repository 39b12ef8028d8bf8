/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/* What the harnesses share. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string in buf (cut to size - 1 bytes, and at a NUL byte as C reads it). */
static inline const char *fuzz_cstring(const uint8_t *data, size_t size, char *buf, size_t cap)
{
	if (size >= cap)
		size = cap - 1;
	memcpy(buf, data, size);
	buf[size] = 0;
	return buf;
}

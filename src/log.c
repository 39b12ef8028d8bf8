// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "probebench/log.h"

static bool use_journal;
static int max_level = LOG_INFO;

void pb_log_use_journal(bool on)
{
	use_journal = on;
}

void pb_log_set_level(int level)
{
	max_level = level;
}

int pb_log_level(void)
{
	return max_level;
}

static void vlog(int level, const char *fmt, va_list ap)
{
	if (level > max_level)
		return;
	if (use_journal) {
		sd_journal_printv(level, fmt, ap);
		return;
	}
	fputs("probebench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pb_log(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

int pb_log_errno(int level, int err, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pb_log(level, "%s: %s", msg, strerror(err < 0 ? -err : err));
	return err;
}

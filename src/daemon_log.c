// SPDX-License-Identifier: GPL-2.0-or-later
/* The daemon's structured log (see daemon.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "probebench/daemon.h"
#include "probebench/log.h"

static bool journal;

/* systemd sets JOURNAL_STREAM=DEV:INO when stderr is connected to the journal. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void pb_daemon_log_setup(enum pb_daemon_log_target target)
{
	/* sd_journal_send() drops messages silently when journald is not there: use stderr then */
	bool have_journald = access("/run/systemd/journal/socket", F_OK) == 0;
	journal = have_journald && (target == PB_DAEMON_LOG_JOURNAL ||
				    (target == PB_DAEMON_LOG_AUTO && stderr_is_journal()));
	pb_log_use_journal(journal);
}

void pb_dlog(int level, const char *plan, const char *device, const char *driver, const char *fmt,
	     ...)
{
	if (level > pb_log_level())
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (journal) {
		/* Empty fields are left out: a field with no value means nothing in a query. */
		const char *f[3][2] = {{"PLAN", plan}, {"DEVICE", device}, {"DRIVER", driver}};
		char buf[3][320];
		const char *args[3] = {NULL, NULL, NULL};
		size_t k = 0;
		for (size_t i = 0; i < 3; i++)
			if (f[i][1] && *f[i][1]) {
				snprintf(buf[k], sizeof(buf[k]), "%s=%s", f[i][0], f[i][1]);
				args[k] = buf[k];
				k++;
			}
		if (sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level,
				    "SYSLOG_IDENTIFIER=probebench", args[0] ? "%s" : NULL, args[0],
				    args[1] ? "%s" : NULL, args[1], args[2] ? "%s" : NULL, args[2],
				    NULL) >= 0)
			return;
	}
	char prefix[512] = "";
	size_t n = 0;
	const char *f[3][2] = {{"plan", plan}, {"device", device}, {"driver", driver}};
	for (size_t i = 0; i < 3; i++)
		if (f[i][1] && *f[i][1] && n < sizeof(prefix))
			n += (size_t)snprintf(prefix + n, sizeof(prefix) - n, "%s%s=%s",
					      n ? " " : "[", f[i][0], f[i][1]);
	fprintf(stderr, "probebench: %s%s%s\n", prefix, n ? "] " : "", msg);
}

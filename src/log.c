// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "probebench/log.h"
#include "probebench/paths.h"
#include "probebench/util.h"

#define MAX_FIELDS 16

/* -1: not decided yet (the first message decides, as PB_LOG_AUTO); 0: stderr; 1: journal */
static int use_journal = -1;
static int max_level = LOG_INFO;

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

bool pb_log_open(enum pb_log_target target)
{
	/* sd_journal_send() drops messages silently when journald is not there: use stderr then */
	bool have_journald = pb_journald_running();
	bool journal = have_journald &&
		       (target == PB_LOG_JOURNAL || (target == PB_LOG_AUTO && stderr_is_journal()));
	__atomic_store_n(&use_journal, journal, __ATOMIC_RELAXED);
	return journal;
}

int pb_log_target_from_name(const char *name, enum pb_log_target *ret)
{
	static const char *const names[] = {
	    [PB_LOG_AUTO] = "auto", [PB_LOG_JOURNAL] = "journal", [PB_LOG_STDERR] = "stderr"};
	for (size_t i = 0; i < PB_ARRAY_SIZE(names); i++)
		if (name && !strcmp(name, names[i])) {
			*ret = (enum pb_log_target)i;
			return 0;
		}
	return -EINVAL;
}

void pb_log_set_level(int level)
{
	__atomic_store_n(&max_level, level, __ATOMIC_RELAXED);
}

int pb_log_level(void)
{
	return __atomic_load_n(&max_level, __ATOMIC_RELAXED);
}

static bool journal_on(void)
{
	int j = __atomic_load_n(&use_journal, __ATOMIC_RELAXED);
	return j < 0 ? pb_log_open(PB_LOG_AUTO) : j;
}

static int send_journal(int level, const struct pb_log_field *fields, size_t n_fields, int err,
			const char *msg)
{
	/* every string is built first: a failed allocation sends nothing rather than a part */
	char *strs[MAX_FIELDS + 4] = {NULL};
	struct iovec iov[MAX_FIELDS + 4];
	size_t n = 0;
	int r = 0;
	if (asprintf(&strs[n++], "MESSAGE=%s", msg) < 0 ||
	    asprintf(&strs[n++], "PRIORITY=%d", level) < 0 ||
	    asprintf(&strs[n++], "SYSLOG_IDENTIFIER=%s", "probebench") < 0 ||
	    (err && asprintf(&strs[n++], "ERRNO=%d", err < 0 ? -err : err) < 0)) {
		strs[n - 1] = NULL;
		r = -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < n_fields && n < PB_ARRAY_SIZE(strs); i++) {
		if (!fields[i].value || !*fields[i].value)
			continue;
		if (asprintf(&strs[n++], "%s=%s", fields[i].key, fields[i].value) < 0) {
			strs[n - 1] = NULL;
			r = -ENOMEM;
		}
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		iov[i] = (struct iovec){.iov_base = strs[i], .iov_len = strlen(strs[i])};
	if (r == 0)
		r = sd_journal_sendv(iov, (int)n);
	for (size_t i = 0; i < n; i++)
		free(strs[i]);
	return r;
}

static void write_stderr(const struct pb_log_field *fields, size_t n_fields, const char *msg)
{
	/* one fputs per message, so lines from two threads do not interleave */
	char prefix[512] = "";
	size_t n = 0;
	for (size_t i = 0; i < n_fields && n < sizeof(prefix); i++) {
		if (!fields[i].value || !*fields[i].value)
			continue;
		char key[64];
		size_t k;
		for (k = 0; fields[i].key[k] && k < sizeof(key) - 1; k++)
			key[k] = (char)(fields[i].key[k] >= 'A' && fields[i].key[k] <= 'Z'
					    ? fields[i].key[k] - 'A' + 'a'
					    : fields[i].key[k]);
		key[k] = '\0';
		n += (size_t)snprintf(prefix + n, sizeof(prefix) - n, "%s%s=%s", n ? " " : "[", key,
				      fields[i].value);
	}
	_cleanup_free_ char *line = NULL;
	if (asprintf(&line, "probebench: %s%s%s\n", prefix, n ? "] " : "", msg) >= 0)
		fputs(line, stderr);
	else
		fprintf(stderr, "probebench: %s\n", msg);
}

static void vlog(int level, const struct pb_log_field *fields, size_t n_fields, int err,
		 const char *fmt, va_list ap)
{
	if (level > pb_log_level())
		return;
	char buf[2048];
	_cleanup_free_ char *big = NULL;
	const char *msg = buf;
	va_list aq;
	va_copy(aq, ap);
	int len = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (len >= (int)sizeof(buf) && vasprintf(&big, fmt, aq) >= 0)
		msg = big;
	va_end(aq);
	if (journal_on() && send_journal(level, fields, n_fields, err, msg) >= 0)
		return;
	write_stderr(fields, n_fields, msg);
}

void pb_log(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, NULL, 0, 0, fmt, ap);
	va_end(ap);
}

void pb_log_fields(int level, const struct pb_log_field *fields, size_t n_fields, const char *fmt,
		   ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fields, n_fields, 0, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4))) log_err(int level, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, NULL, 0, err, fmt, ap);
	va_end(ap);
}

int pb_log_errno(int level, int err, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err(level, err, "%s: %s", msg, strerror(err < 0 ? -err : err));
	return err;
}

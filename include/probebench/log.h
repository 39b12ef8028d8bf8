/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The one logger of the tool. Front ends log; library code returns negative errno and does not.
 *
 * A message may carry structured fields, KEY=value pairs (journal field names: upper case,
 * digits and '_'). They go to the journal with sd_journal_send() when stderr is the journal
 * (systemd sets JOURNAL_STREAM) and journald listens, else to stderr as text:
 *   probebench: [plan=rng device=0000:00:05.0] message
 * Fields with a NULL or empty value are left out (a field without a value means nothing in a
 * journal query).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

enum pb_log_target {
	PB_LOG_AUTO,	/* the journal when stderr is the journal (JOURNAL_STREAM), else stderr */
	PB_LOG_JOURNAL, /* the journal whenever journald listens */
	PB_LOG_STDERR,
};

struct pb_log_field {
	const char *key; /* "PLAN" */
	const char *value;
};

/* Chooses where messages go; without a call, PB_LOG_AUTO. Returns true for the journal. */
bool pb_log_open(enum pb_log_target target);
/* Parses "auto", "journal", "stderr". 0 or -EINVAL. */
int pb_log_target_from_name(const char *name, enum pb_log_target *ret);
/* Messages above level (LOG_DEBUG > LOG_INFO > ... ) are dropped; LOG_INFO by default. */
void pb_log_set_level(int level);
int pb_log_level(void);

void pb_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* With n_fields structured fields (see above). */
void pb_log_fields(int level, const struct pb_log_field *fields, size_t n_fields, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));
/* Logs "<msg>: <strerror(-err)>" (with ERRNO= in the journal) and returns err (negative errno),
 * in one statement. */
int pb_log_errno(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define pb_error(...)		 pb_log(LOG_ERR, __VA_ARGS__)
#define pb_warn(...)		 pb_log(LOG_WARNING, __VA_ARGS__)
#define pb_info(...)		 pb_log(LOG_INFO, __VA_ARGS__)
#define pb_debug(...)		 pb_log(LOG_DEBUG, __VA_ARGS__)
#define pb_error_errno(err, ...) pb_log_errno(LOG_ERR, (err), __VA_ARGS__)

/*
 * pb_log_struct(LOG_INFO, PB_LOG_FIELDS({"PLAN", name}, {"DEVICE", dev}), "fmt", ...): the
 * fields as a compound literal, counted by the compiler.
 */
#define PB_LOG_FIELDS(...) ((const struct pb_log_field[]){__VA_ARGS__})
#define pb_log_struct(level, fields, ...)                                                          \
	pb_log_fields((level), (fields), sizeof(fields) / sizeof((fields)[0]), __VA_ARGS__)

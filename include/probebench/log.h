/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Front ends log; library code returns negative errno and does not. Messages go to stderr,
 * or to the journal with structured fields once pb_log_use_journal(true) is set (daemon).
 */
#include <errno.h>
#include <stdbool.h>
#include <syslog.h>

void pb_log_use_journal(bool on);
void pb_log_set_level(int level);
int pb_log_level(void);
void pb_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs "<msg>: <strerror(-err)>" and returns err (negative errno), in one statement. */
int pb_log_errno(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define pb_error(...)		 pb_log(LOG_ERR, __VA_ARGS__)
#define pb_warn(...)		 pb_log(LOG_WARNING, __VA_ARGS__)
#define pb_info(...)		 pb_log(LOG_INFO, __VA_ARGS__)
#define pb_debug(...)		 pb_log(LOG_DEBUG, __VA_ARGS__)
#define pb_error_errno(err, ...) pb_log_errno(LOG_ERR, (err), __VA_ARGS__)

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The daemon's results directory: one run record per file, "<ID>.json", written atomically
 * (pb_write_file_atomic(): temporary name, fsync, rename, fsync of the directory). An ID is the
 * run's UTC start time and its plan, "20261125T101500.123Z-rng", so names sort chronologically and
 * are safe in URLs.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_RESULT_ID_MAX 96
/* The largest stored run read back or served. */
#define PB_RESULT_MAX_SIZE (64 << 20)

/* Builds an ID from CLOCK_REALTIME nanoseconds and a plan name. 0 or -ENAMETOOLONG. */
int pb_result_id_make(uint64_t realtime_ns, const char *plan, char *buf, size_t size);
/* Only IDs of the form above pass (this guards every path built from a URL). */
bool pb_result_id_valid(const char *id);
/* The ID's time as CLOCK_REALTIME ns, and its plan (pointer into id). 0 or -EINVAL. */
int pb_result_id_parse(const char *id, uint64_t *ret_realtime_ns, const char **ret_plan);

int pb_results_write(const char *dir, const char *id, const char *json_text);
/*
 * Reads "<dir>/<id>.json" into a new string. -EINVAL for a bad id or a file that is not regular
 * (a FIFO does not block), -EFBIG beyond PB_RESULT_MAX_SIZE, -ENOENT, -errno.
 */
int pb_results_read(const char *dir, const char *id, char **ret_text);
/* Opens "<dir>/<id>.json" for reading, with the same checks: the fd (its size in *ret_size) or
 * -errno. For serving a record without a copy of it in memory. */
int pb_results_open(const char *dir, const char *id, uint64_t *ret_size);
/* IDs of every stored run, oldest first. Caller frees with pb_results_ids_free. */
int pb_results_list(const char *dir, char ***ret_ids, size_t *ret_n);
void pb_results_ids_free(char **ids, size_t n);

/*
 * Retention, pure: given IDs oldest first, marks in ret_delete those beyond the newest `count`
 * (0 = no limit) or older than age_ns (0 = no limit) at now_realtime_ns. Returns how many.
 */
size_t pb_retention_select(char *const *ids, size_t n, unsigned count, uint64_t age_ns,
			   uint64_t now_realtime_ns, bool *ret_delete);
/* Applies retention to dir. Returns the number of files removed, or -errno. */
int pb_results_apply_retention(const char *dir, unsigned count, uint64_t age_ns,
			       uint64_t now_realtime_ns);

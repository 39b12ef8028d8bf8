/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Text output of a run, printed from the run record (the same object --json writes), so the
 * table and the JSON never disagree.
 */
#include <stdint.h>
#include <stdio.h>

struct pb_run_record;

/* The summary table: min, median, p99, max of bind_ns and unbind_ns per target x placement. */
void pb_report_summary(FILE *f, const struct pb_run_record *record);

/* One progress line (no newline; starts with \r): iteration, running median, ETA. */
void pb_report_progress(FILE *f, uint64_t done, uint64_t total, uint64_t median_bind_ns,
			uint64_t eta_ns);

/*
 * One progress line for a log or a pipe, newline-terminated: "progress: WHAT; D/T iterations
 * (P%), elapsed 1m05s, ETA 6m30s" (WHAT NULL: left out; total 0: open-ended, no share).
 */
void pb_report_progress_line(FILE *f, const char *what, uint64_t done, uint64_t total,
			     uint64_t elapsed_ns, uint64_t eta_ns);

/* Formats ns human-readably ("15.2 ms", "830 us", "412 ns") into buf. */
void pb_report_fmt_ns(char *buf, size_t size, double ns);

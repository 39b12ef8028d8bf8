/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * What this machine allows the tool to do: one item per prerequisite, each with its status,
 * what was found, how it was found, and what is lost when it is missing. Reads only; it never
 * mounts, loads or writes anything. Paths go through paths.h, so tests use fixture roots.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct json_object;

enum pb_check_status {
	PB_CHECK_OK,
	PB_CHECK_LIMITED, /* works with less: the detail says what */
	PB_CHECK_MISSING,
};

struct pb_check {
	const char *name; /* stable: "root", "perf_event_paranoid", "tracefs", ... */
	enum pb_check_status status;
	char detail[512];
	const char *method; /* how it was found out */
	const char *lost;   /* what the tool cannot do or see when this is missing */
};

#define PB_CHECK_MAX 16

struct pb_check_report {
	struct pb_check items[PB_CHECK_MAX];
	size_t n;
};

#define PB_CHECK_SCHEMA	 "probebench-check"
#define PB_CHECK_VERSION 1

const char *pb_check_status_name(enum pb_check_status s);

/* Runs every check. Never fails: what cannot be read is reported as such. */
void pb_check_run(struct pb_check_report *ret);

/* Pure classification of single facts, unit-tested. */
void pb_check_classify_paranoid(struct pb_check *c, int err, long value, bool privileged);
void pb_check_classify_numa(struct pb_check *c, int available, int n_nodes);

/* The first tracefs mount point in a /proc/mounts text, into buf.
 * Returns true when found. */
bool pb_check_find_tracefs(const char *mounts, char *buf, size_t size);

struct json_object *pb_check_report_to_json(const struct pb_check_report *r);
void pb_check_report_print(FILE *f, const struct pb_check_report *r);

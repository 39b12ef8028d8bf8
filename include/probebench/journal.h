/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Crash-safe journal of devices a run has touched: one file per device in the state directory
 * (pb_state_dir()), journal-<sysname>.json, written to a temporary file, fsync'd, renamed and
 * the directory fsync'd. An entry exists from the moment a run changes anything on a device
 * until the device is verified back as it was; `restore` undoes whatever the entries describe.
 * A run writes it once per device (cycle.h: pb_cycle_arm), rewrites it only when something it
 * records changes, and removes it after the device's last verified bind.
 *
 * States: "armed"   a run holds the device: it may be bound or unbound, a setting (power/control,
 *                   driver_override) may differ from the original; restore checks the binding;
 *         "hung"    a write did not return; nothing may touch the device again (restore skips it);
 *         "cycling" written before every unbind by earlier versions; read as "armed".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "probebench/target.h"

struct json_object;

enum pb_journal_state {
	PB_JOURNAL_ARMED,
	PB_JOURNAL_CYCLING,
	PB_JOURNAL_HUNG,
};

struct pb_journal_entry {
	char syspath[PATH_MAX];
	char bus[64];
	char sysname[128];
	char driver[128];	   /* the driver to put back */
	char driver_override[128]; /* original value, "" when unset ("(null)") */
	char power_control[16];	   /* original power/control ("auto", "on"), "" when absent */
	/* --entry module: the driver's module and the options it is loaded with; restore loads it
	 * when a run left it unloaded. "" otherwise. */
	char module[64];
	char module_options[256];
	enum pb_journal_state state;
	pid_t pid;
	char boot_id[40];     /* /proc/sys/kernel/random/boot_id when written; "" unknown */
	int64_t time_unix_ns; /* CLOCK_REALTIME when written */
};

const char *pb_journal_state_name(enum pb_journal_state s);
int pb_journal_state_from_name(const char *name);

/* The current boot's id into buf (>= 40 bytes); "" when unreadable. */
void pb_journal_boot_id(char *buf, size_t size);
/* A "hung" mark only holds within the boot that made it: after a reboot the device was reset. */
bool pb_journal_hung_now(const struct pb_journal_entry *e, const char *current_boot_id);

/* Pure conversions (unit-tested). from_json returns 0 or -EINVAL for a malformed entry. */
struct json_object *pb_journal_entry_to_json(const struct pb_journal_entry *e);
int pb_journal_entry_from_json(struct json_object *o, struct pb_journal_entry *ret);
/* An entry from a journal file's text (NUL-terminated): 0 or -EINVAL (not JSON, malformed). */
int pb_journal_entry_parse(const char *text, struct pb_journal_entry *ret);
/* A journal file longer than this is not an entry the tool wrote (one is well under 4 KiB). */
#define PB_JOURNAL_MAX_SIZE (64 * 1024)

/* journal-<sysname>.json with every byte outside [A-Za-z0-9._-] replaced by '_'. */
int pb_journal_file_name(const char *sysname, char *buf, size_t size);

/* Creates the state directory when missing and takes <statedir>/lock (non-blocking).
 * Returns an fd to keep open, -EWOULDBLOCK when another run holds it (its pid in *ret_holder
 * when known, else 0), or -errno. */
int pb_journal_lock(pid_t *ret_holder);
void pb_journal_unlock(int fd);

/* Atomically writes (replaces) the entry, durable (file and directory fsync'd) before it
 * returns. Returns 0 or -errno. */
int pb_journal_write(const struct pb_journal_entry *e);
/* Removes the entry for sysname (and fsyncs the directory). Missing is not an error. */
int pb_journal_remove(const char *sysname);
/* Loads every entry. *ret is malloc'd (free it), *ret_n its length. Unparseable files are
 * counted in *ret_bad (left in place). Returns 0 or -errno. */
/* A journal's syspath is canonical: the sysfs root's devices/ followed by names (no empty, "."
 * or ".." component, no control characters, no trailing '/'). */
bool pb_journal_syspath_ok(const char *syspath);
int pb_journal_load(struct pb_journal_entry **ret, size_t *ret_n, size_t *ret_bad);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The way to the system: every path the tool reads or writes under /sys, /proc, /dev, /run and
 * its state directory is built here, so tests can point the tool at fixture trees and see what it
 * touches. The system's own paths are named in this file only.
 *
 * Roots come from the environment (PROBEBENCH_PROCFS, PROBEBENCH_DEVFS, PROBEBENCH_RUNDIR,
 * PROBEBENCH_STATE_DIR) or from pb_set_state_dir(); the defaults are the real system paths.
 * sysfs is always /sys: libudev reads /sys whatever the tool is told, so tests give the tool a
 * fixture tree at /sys through umockdev's preload library (doc/testing.md) instead.
 */
#include <stdbool.h>
#include <stddef.h>

const char *pb_sysfs_root(void);
const char *pb_procfs_root(void);
const char *pb_devfs_root(void);
const char *pb_rundir_root(void);
/* udevd runs (its control socket exists under the run root). */
bool pb_udevd_running(void);
/* journald listens (its socket exists under the run root). */
bool pb_journald_running(void);
const char *pb_state_dir(void);
void pb_set_state_dir(const char *dir);

/* Formats ROOT + "/" + fmt into buf. Returns 0, or -ENAMETOOLONG when it does not fit. */
int pb_sys_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int pb_proc_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pb_state_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * A device to cycle. Targets are named with the inventory's selectors (selector.h), the same
 * ones `list` takes; this reads what cycling needs from the device's sysfs directory. The
 * driver recorded is the one bound at that moment.
 */
#include <limits.h>
#include <stdbool.h>

struct pb_target {
	char syspath[PATH_MAX]; /* canonical, under pb_sysfs_root()/devices */
	char bus[64];		/* subsystem name: pci, virtio, platform, ... */
	char name[128];		/* sysname, the string written to bind/unbind */
	char driver[128];	/* "" when nothing is bound */
	int numa_node;		/* own numa_node, else the nearest ancestor's, else -1 (set by the
				   caller from the inventory) */
	bool numa_inherited;
	char module[64]; /* --entry module: the driver's module (set by the plan); "" otherwise */
};

/*
 * Reads the device at syspath (a sysfs device directory, symlinks resolved). Returns 0, -ENODEV
 * when it is not a device directory, or another -errno.
 */
int pb_target_from_syspath(const char *syspath, struct pb_target *ret);

/* Re-reads the bound driver into buf ("" when unbound). Returns 0, -ENODEV when the device is gone.
 */
int pb_target_driver(const struct pb_target *t, char *buf, size_t size);

/* True while the device's sysfs directory exists. */
bool pb_target_present(const struct pb_target *t);

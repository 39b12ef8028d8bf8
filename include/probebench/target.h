/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * A device to cycle, resolved from what the user typed: a sysfs path, a bus device name
 * (0000:00:05.0, virtio4), a PCI BDF without domain (00:05.0) or a PCI vendor:device (1af4:1044,
 * exactly one match). The driver recorded is the one bound at resolution time.
 */
#include <limits.h>
#include <stdbool.h>

struct pb_target {
	char syspath[PATH_MAX]; /* canonical, under pb_sysfs_root()/devices */
	char bus[64];		/* subsystem name: pci, virtio, platform, ... */
	char name[128];		/* sysname, the string written to bind/unbind */
	char driver[128];	/* "" when nothing is bound */
	int numa_node;		/* own numa_node, else the nearest ancestor's, else -1 */
	bool numa_inherited;
};

/*
 * Resolves spec. Returns 0, -ENOENT (nothing matches), -ENOTUNIQ (several match: *ret names the
 * first), -EINVAL (malformed spec), or another -errno.
 */
int pb_target_resolve(const char *spec, struct pb_target *ret);

/* Re-reads the bound driver into buf ("" when unbound). Returns 0, -ENODEV when the device is gone.
 */
int pb_target_driver(const struct pb_target *t, char *buf, size_t size);

/* True while the device's sysfs directory exists. */
bool pb_target_present(const struct pb_target *t);

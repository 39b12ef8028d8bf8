/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Selectors name devices of the inventory:
 *   0000:00:05.0, 00:05.0      PCI address, with or without domain (libpci's slot filter syntax,
 *                              so "*" and omitted fields are wildcards; needs the ".")
 *   1af4:1044, 1af4:           vendor:device[:class[:prog_if]] (libpci's id filter syntax)
 *   virtio_rng, virtio-pci     a driver name: every device bound to it ('-' and '_' are equal)
 *   virtio4, nvme0             a device name (sysname): an unprefixed word matches a driver
 *                              name or a device name
 *   /sys/devices/..., /sys/bus/virtio/devices/virtio4
 *                              a sysfs path (symlinks resolved), of a function or of any device
 *                              below one
 * A prefix forces the kind: slot:, id:, driver:, name:, path:. An unprefixed "XX:YY" with at most
 * two digits on each side is refused as ambiguous (PCI address without function, or id?). Slot and
 * id selectors match PCI functions; driver and path selectors match any device, so a virtio child
 * can be a target.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct pb_device;
struct pb_inventory;

enum pb_selector_kind {
	PB_SEL_SLOT,
	PB_SEL_ID,
	PB_SEL_DRIVER,
	PB_SEL_PATH,
	PB_SEL_NAME,
};

struct pb_selector {
	enum pb_selector_kind kind;
	char text[256]; /* as given, for messages */
	/* PB_SEL_SLOT: -1 = any */
	int domain, bus, slot, func;
	/* PB_SEL_ID: -1 = any */
	int vendor, device, device_class, prog_if;
	unsigned class_mask;
	/* PB_SEL_DRIVER: driver name; PB_SEL_NAME: device name; PB_SEL_PATH: the path */
	char value[PATH_MAX];
	/* PB_SEL_DRIVER given without prefix: a device of that name matches too */
	bool or_name;
};

/* "slot", "id", "driver", "path", "name". */
const char *pb_selector_kind_name(enum pb_selector_kind kind);

/*
 * Parses one selector; no I/O. Returns 0, or -EINVAL with err saying what is malformed
 * ("malformed PCI address '00:zz.0': Invalid bus number").
 */
int pb_selector_parse(const char *s, struct pb_selector *ret, char *err, size_t errlen);

/* Does dev match? Pure; path selectors compare literally with syspath and devpath. */
bool pb_selector_match(const struct pb_selector *sel, const struct pb_device *dev);
/*
 * A path selector names its device through any symlink (/sys/bus/virtio/devices/virtio4):
 * its value becomes the real path when it lies below the sysfs root (under a fixture root,
 * "/sys/..." names the same place below that root). Other selectors are left alone.
 */
void pb_selector_resolve_path(struct pb_selector *sel);

/*
 * Every device (function or device below one) matched by any of sels, once each, in inventory
 * order. Path selectors are resolved first (realpath; under a non-default sysfs root "/sys/..."
 * is also tried below that root). *ret_devices is malloc'ed (free() it; the devices belong to
 * inv). Returns 0; -ENOENT when a selector matches nothing (*ret_unmatched = its index, nothing
 * returned); -ENOMEM.
 */
int pb_inventory_select(const struct pb_inventory *inv, const struct pb_selector *sels,
			size_t n_sels, struct pb_device ***ret_devices, size_t *ret_n,
			size_t *ret_unmatched);

/*
 * Parses and resolves target strings in one step, for run and the daemon: every device matched
 * by any of targets, as pb_inventory_select(). Returns 0; -EINVAL when one is malformed, -ENOENT
 * when one matches nothing (err says which and why, ready to print; both make a run
 * PB_RUN_INVALID); -ENOMEM.
 */
int pb_inventory_resolve(const struct pb_inventory *inv, const char *const *targets,
			 size_t n_targets, struct pb_device ***ret_devices, size_t *ret_n,
			 char *err, size_t errlen);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/* Shared by the inventory's loaders; not part of the public API. */
#include <stddef.h>

struct pb_device;
struct pb_inventory;

int pb_inventory_add_warning(struct pb_inventory *inv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Reads dev->syspath/numa_node into has_own_node/own_node; absent is not an error. */
int pb_device_read_node(struct pb_device *dev);
/* Fill function->children with every device below it (not other PCI functions and not what is
 * below those). root is the canonical sysfs root. */
int pb_children_load_udev(struct pb_device *function, const char *root, char *err, size_t errlen);

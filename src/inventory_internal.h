/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/* Shared by the inventory's loaders; not part of the public API. */
#include <stdbool.h>
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

/* The ids whose names a listing looks up in pci.ids (src/pci_ids.c): bit sets of vendor ids
 * (functions' and subsystems' vendors) and of base classes, and the functions' vendor:device
 * pairs (vendor << 16 | device). */
struct pb_pci_ids_want {
	unsigned char vendor[0x10000 / 8];
	unsigned char class_[0x100 / 8];
	unsigned *devices;
	size_t n_devices;
};
void pb_pci_ids_want_vendor(struct pb_pci_ids_want *w, unsigned id);
void pb_pci_ids_want_class(struct pb_pci_ids_want *w, unsigned id);
/* Also wants the vendor. */
int pb_pci_ids_want_device(struct pb_pci_ids_want *w, unsigned vendor, unsigned device);
void pb_pci_ids_want_free(struct pb_pci_ids_want *w);
/* Copies to out (at least len bytes) the lines of the pci.ids text that name the wanted ids, in
 * order: whole class and generic subsystem blocks, and of a vendor's block its own line and its
 * wanted devices with their subsystems. Returns the number of bytes copied. */
size_t pb_pci_ids_subset(const char *text, size_t len, struct pb_pci_ids_want *w, char *out);
/* The same, read from the list at path into a new memory file (*ret_fd, close-on-exec).
 * -EMEDIUMTYPE: a gzip'd list, left to libpci. */
int pb_pci_ids_subset_file(const char *path, struct pb_pci_ids_want *w, int *ret_fd);

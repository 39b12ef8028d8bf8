// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer: selectors as given on the command line or in a plan (parse, then match; no I/O). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probebench/inventory.h"
#include "probebench/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512];
	fuzz_cstring(data, size, text, sizeof(text));
	struct pb_selector sel;
	char err[256];
	if (pb_selector_parse(text, &sel, err, sizeof(err)) < 0)
		return 0;
	/* a PCI function and its virtio child, as the inventory holds them */
	struct pb_pci_info pci = {.bdf = "0000:00:05.0",
				  .dev = 5,
				  .vendor_id = 0x1af4,
				  .device_id = 0x1044,
				  .class_id = 0x00ff};
	struct pb_device fn = {.syspath = (char *)"/sys/devices/pci0000:00/0000:00:05.0",
			       .devpath = "/devices/pci0000:00/0000:00:05.0",
			       .subsystem = (char *)"pci",
			       .sysname = (char *)"0000:00:05.0",
			       .driver = (char *)"virtio-pci",
			       .numa_node = -1,
			       .pci = &pci};
	struct pb_device child = {.syspath = (char *)"/sys/devices/pci0000:00/0000:00:05.0/virtio4",
				  .devpath = "/devices/pci0000:00/0000:00:05.0/virtio4",
				  .subsystem = (char *)"virtio",
				  .sysname = (char *)"virtio4",
				  .driver = (char *)"virtio_rng",
				  .numa_node = -1,
				  .parent = &fn};
	pb_selector_match(&sel, &fn);
	pb_selector_match(&sel, &child);
	return 0;
}

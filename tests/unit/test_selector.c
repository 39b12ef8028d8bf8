// SPDX-License-Identifier: GPL-2.0-or-later
/* Selector parsing and matching: pure, on hand-built devices. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probebench/inventory.h"
#include "probebench/selector.h"

static struct pb_device *mkfn(const char *syspath, int dom, unsigned bus, unsigned dev, unsigned fn,
			      uint16_t ven, uint16_t did, uint16_t cls, const char *driver)
{
	struct pb_device *d = pb_device_new(syspath, "/sys");
	assert_non_null(d);
	d->pci = calloc(1, sizeof(*d->pci));
	assert_non_null(d->pci);
	d->pci->domain = dom;
	d->pci->bus = bus;
	d->pci->dev = dev;
	d->pci->func = fn;
	d->pci->vendor_id = ven;
	d->pci->device_id = did;
	d->pci->class_id = cls;
	d->subsystem = strdup("pci");
	d->sysname = strdup(strrchr(syspath, '/') + 1);
	d->driver = driver ? strdup(driver) : NULL;
	return d;
}

static struct pb_device *mkchild(struct pb_device *parent, const char *name, const char *subsys,
				 const char *driver)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", parent->syspath, name);
	struct pb_device *d = pb_device_new(path, "/sys");
	assert_non_null(d);
	d->subsystem = strdup(subsys);
	d->sysname = strdup(strrchr(path, '/') + 1);
	d->driver = driver ? strdup(driver) : NULL;
	struct pb_device *one[] = {d};
	assert_int_equal(pb_device_tree_build(parent, one, 1), 0);
	return d;
}

static void parse_slot(void **state)
{
	(void)state;
	struct pb_selector s;
	char err[256];
	assert_int_equal(pb_selector_parse("0000:00:05.0", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, PB_SEL_SLOT);
	assert_int_equal(s.domain, 0);
	assert_int_equal(s.bus, 0);
	assert_int_equal(s.slot, 5);
	assert_int_equal(s.func, 0);

	assert_int_equal(pb_selector_parse("81:00.1", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, PB_SEL_SLOT);
	assert_int_equal(s.domain, -1); /* without domain: any */
	assert_int_equal(s.bus, 0x81);
	assert_int_equal(s.func, 1);

	assert_int_equal(pb_selector_parse("slot:00:05", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, PB_SEL_SLOT);
	assert_int_equal(s.func, -1);

	assert_int_equal(pb_selector_parse("00:zz.0", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "malformed PCI address '00:zz.0'"));
	assert_non_null(strstr(err, "Invalid slot number"));
	assert_int_equal(pb_selector_parse("0000:100:05.0", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Invalid bus number"));
	assert_int_equal(pb_selector_parse("00:05.8", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Invalid function number"));
	assert_int_equal(pb_selector_parse("0:0:0:05.0", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Too many fields"));
	assert_int_equal(pb_selector_parse("slot:", &s, err, sizeof(err)), -EINVAL);
}

static void parse_id_driver_path(void **state)
{
	(void)state;
	struct pb_selector s;
	char err[256];
	assert_int_equal(pb_selector_parse("1af4:1044", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, PB_SEL_ID);
	assert_int_equal(s.vendor, 0x1af4);
	assert_int_equal(s.device, 0x1044);
	assert_int_equal(s.device_class, -1);

	assert_int_equal(pb_selector_parse("8086:", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, PB_SEL_ID);
	assert_int_equal(s.device, -1);

	assert_int_equal(pb_selector_parse("1af4:zzzz", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "malformed vendor:device id '1af4:zzzz'"));
	assert_non_null(strstr(err, "Invalid device ID"));
	assert_int_equal(pb_selector_parse("12345:1044", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Invalid vendor ID"));

	/* Two short hex fields could be either kind. */
	assert_int_equal(pb_selector_parse("00:05", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ambiguous"));
	assert_int_equal(pb_selector_parse("id:00:05", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, PB_SEL_ID);

	assert_int_equal(pb_selector_parse("virtio_rng", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, PB_SEL_DRIVER);
	assert_string_equal(s.value, "virtio_rng");
	assert_int_equal(pb_selector_parse("driver:odd.name", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, PB_SEL_DRIVER);
	assert_int_equal(pb_selector_parse("driver:", &s, err, sizeof(err)), -EINVAL);

	assert_int_equal(
	    pb_selector_parse("/sys/bus/virtio/devices/virtio4/", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, PB_SEL_PATH);
	assert_string_equal(s.value, "/sys/bus/virtio/devices/virtio4");
	assert_int_equal(pb_selector_parse("path:relative", &s, err, sizeof(err)), -EINVAL);

	assert_int_equal(pb_selector_parse("", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(pb_selector_parse("two words", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "malformed selector 'two words'"));
}

static void match(void **state)
{
	(void)state;
	struct pb_selector s;
	char err[256];
	struct pb_device *rng = mkfn("/sys/devices/pci0000:00/0000:00:05.0", 0, 0, 5, 0, 0x1af4,
				     0x1044, 0x00ff, "virtio-pci");
	struct pb_device *child = mkchild(rng, "virtio4", "virtio", "virtio_rng");
	struct pb_device *other =
	    mkfn("/sys/devices/pci0001:00/0001:00:05.0", 1, 0, 5, 0, 0x8086, 0x10d3, 0x0200, NULL);

	assert_int_equal(pb_selector_parse("0000:00:05.0", &s, err, sizeof(err)), 0);
	assert_true(pb_selector_match(&s, rng));
	assert_false(pb_selector_match(&s, other));
	assert_false(pb_selector_match(&s, child));
	assert_int_equal(pb_selector_parse("00:05.0", &s, err, sizeof(err)), 0);
	assert_true(pb_selector_match(&s, rng));
	assert_true(pb_selector_match(&s, other)); /* any domain */

	assert_int_equal(pb_selector_parse("1af4:1044", &s, err, sizeof(err)), 0);
	assert_true(pb_selector_match(&s, rng));
	assert_false(pb_selector_match(&s, other));
	assert_int_equal(pb_selector_parse("8086::0200", &s, err, sizeof(err)), 0);
	assert_true(pb_selector_match(&s, other));
	assert_false(pb_selector_match(&s, rng));
	assert_int_equal(pb_selector_parse("::02xx", &s, err, sizeof(err)), 0);
	assert_true(pb_selector_match(&s, other));

	assert_int_equal(pb_selector_parse("virtio_pci", &s, err, sizeof(err)), 0);
	assert_true(pb_selector_match(&s, rng)); /* '-' and '_' are equal */
	assert_false(pb_selector_match(&s, child));
	assert_int_equal(pb_selector_parse("virtio_rng", &s, err, sizeof(err)), 0);
	assert_true(pb_selector_match(&s, child));
	assert_false(pb_selector_match(&s, other)); /* no driver */

	assert_int_equal(
	    pb_selector_parse("/sys/devices/pci0000:00/0000:00:05.0/virtio4", &s, err, sizeof(err)),
	    0);
	assert_true(pb_selector_match(&s, child));
	assert_false(pb_selector_match(&s, rng));
	assert_int_equal(
	    pb_selector_parse("/devices/pci0000:00/0000:00:05.0", &s, err, sizeof(err)), 0);
	assert_true(pb_selector_match(&s, rng)); /* devpath */

	pb_device_free(rng);
	pb_device_free(other);
}

static void select_(void **state)
{
	(void)state;
	struct pb_inventory inv = {0};
	struct pb_device *fns[2];
	fns[0] = mkfn("/sys/devices/pci0000:00/0000:00:05.0", 0, 0, 5, 0, 0x1af4, 0x1044, 0x00ff,
		      "virtio-pci");
	struct pb_device *child = mkchild(fns[0], "virtio4", "virtio", "virtio_rng");
	fns[1] = mkfn("/sys/devices/pci0000:00/0000:00:02.0", 0, 0, 2, 0, 0x1af4, 0x1042, 0x0180,
		      "virtio-pci");
	inv.functions = fns;
	inv.n_functions = 2;

	struct pb_selector s[3];
	char err[256];
	assert_int_equal(pb_selector_parse("virtio_rng", &s[0], err, sizeof(err)), 0);
	assert_int_equal(pb_selector_parse("1af4:1044", &s[1], err, sizeof(err)), 0);
	assert_int_equal(pb_selector_parse("0000:00:05.0", &s[2], err, sizeof(err)), 0);
	struct pb_device **out = NULL;
	size_t n = 0, bad = 99;
	assert_int_equal(pb_inventory_select(&inv, s, 3, &out, &n, &bad), 0);
	assert_int_equal(n, 2); /* the function once, and its child */
	assert_ptr_equal(out[0], fns[0]);
	assert_ptr_equal(out[1], child);
	free(out);

	/* A selector that matches nothing is reported by its index. */
	assert_int_equal(pb_selector_parse("1af4:1041", &s[1], err, sizeof(err)), 0);
	out = NULL;
	assert_int_equal(pb_inventory_select(&inv, s, 3, &out, &n, &bad), -ENOENT);
	assert_int_equal(bad, 1);
	assert_null(out);

	/* A path with a symlink that does not exist here still matches literally. */
	assert_int_equal(pb_selector_parse("/sys/devices/pci0000:00/0000:00:05.0/virtio4", &s[0],
					   err, sizeof(err)),
			 0);
	assert_int_equal(pb_inventory_select(&inv, s, 1, &out, &n, &bad), 0);
	assert_int_equal(n, 1);
	assert_ptr_equal(out[0], child);
	free(out);

	/* Strings in one step, with the message ready to print. */
	const char *ok[] = {"1af4:1042", "virtio_rng"};
	assert_int_equal(pb_inventory_resolve(&inv, ok, 2, &out, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_ptr_equal(out[0], child); /* inventory order: the 00:05.0 tree comes first */
	assert_ptr_equal(out[1], fns[1]);
	free(out);
	/* An unprefixed word is a driver name or a device name. */
	const char *by_name[] = {"virtio4"};
	assert_int_equal(pb_inventory_resolve(&inv, by_name, 1, &out, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_ptr_equal(out[0], child);
	free(out);
	const char *name_only[] = {"name:virtio_rng"};
	assert_int_equal(pb_inventory_resolve(&inv, name_only, 1, &out, &n, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "selector 'name:virtio_rng' (name) matches no device"));
	const char *none[] = {"1af4:1042", "virtio9"};
	assert_int_equal(pb_inventory_resolve(&inv, none, 2, &out, &n, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "selector 'virtio9' (driver) matches no device (no device has "
				    "that name or is bound to a driver of that name)"));
	const char *bad_[] = {"00:zz.0"};
	assert_int_equal(pb_inventory_resolve(&inv, bad_, 1, &out, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "malformed PCI address"));

	assert_ptr_equal(pb_inventory_find(&inv, "/devices/pci0000:00/0000:00:02.0"), fns[1]);
	assert_null(pb_inventory_find(&inv, "/sys/devices/nothing"));
	assert_ptr_equal(pb_device_function(child), fns[0]);

	pb_device_free(fns[0]);
	pb_device_free(fns[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_slot),
	    cmocka_unit_test(parse_id_driver_path),
	    cmocka_unit_test(match),
	    cmocka_unit_test(select_),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

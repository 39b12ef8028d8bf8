// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The safety policy on this machine's real devices, read-only: the checks must refuse the disk,
 * network and vsock functions by their own logic and allow the rng function. Devices are found by
 * vendor:device id in the inventory, whose subtrees the checks take, as a run does; an absent one
 * skips its test. Nothing is written anywhere.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "probebench/inventory.h"
#include "probebench/policy.h"
#include "probebench/util.h"

static struct pb_policy_ctx *ctx;
static int ctx_err;
static struct pb_inventory *inv; /* the subtrees checked come from it, as in a run */

/* The PCI function with this vendor:device id in the inventory, or NULL. */
static const struct pb_device *find_pci(long vendor, long device)
{
	for (size_t i = 0; inv && i < inv->n_functions; i++) {
		const struct pb_device *f = inv->functions[i];
		if (f->pci && f->pci->vendor_id == vendor && f->pci->device_id == device)
			return f;
	}
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	char err[512];
	if (pb_inventory_load(&inv, err, sizeof(err)) < 0) {
		print_message("cannot read the devices: %s\n", err);
		return -1;
	}
	uint64_t t0 = pb_now_ns();
	ctx_err = pb_policy_ctx_new(&ctx);
	/* Informational only (CLOCK_MONOTONIC around the call); nothing is asserted on time. */
	print_message("snapshot: %.2f ms (mountinfo, swaps, root stack, consoles, rtnetlink dumps; "
		      "/proc/*/fd at the first tty)\n",
		      (double)(pb_now_ns() - t0) / 1e6);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pb_policy_ctx_free(ctx);
	pb_inventory_free(inv);
	return 0;
}

/* Checks the function with this id; skips when it is absent or the snapshot needs root. */
static void check_id(long vendor, long device, struct pb_verdict *v)
{
	const struct pb_device *dev = find_pci(vendor, device);
	if (!dev) {
		print_message("SKIP: no PCI function %04lx:%04lx on this machine\n", vendor,
			      device);
		skip();
	}
	if (ctx_err < 0) {
		print_message("SKIP: cannot snapshot the system state: %s\n", strerror(-ctx_err));
		skip();
	}
	uint64_t t0 = pb_now_ns();
	assert_int_equal(pb_policy_check(ctx, inv, dev, v), 0);
	uint64_t t1 = pb_now_ns();
	print_message("%04lx:%04lx %s: %s (check: %.2f ms)\n", vendor, device, dev->sysname,
		      pb_verdict_allowed(v, 0) ? "allowed" : "refused", (double)(t1 - t0) / 1e6);
	for (size_t i = 0; i < v->n; i++)
		print_message("  %s: %s\n", pb_reason_name(v->refusals[i].reason),
			      v->refusals[i].detail);
}

static bool has_reason(const struct pb_verdict *v, enum pb_reason reason, const char *needle)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->refusals[i].reason == reason &&
		    (!needle || strstr(v->refusals[i].detail, needle)))
			return true;
	return false;
}

static void disk_refused(void **state)
{
	(void)state;
	struct pb_verdict v;
	check_id(0x1af4, 0x1042, &v);
	assert_false(pb_verdict_allowed(&v, 0));
	/* This machine's root filesystem lives on the virtio disk. */
	assert_true(has_reason(&v, PB_REASON_MOUNTED, "mounted on / "));
	assert_true(has_reason(&v, PB_REASON_ROOT_DISK, NULL));
	/* Forcing one reason leaves the other standing. */
	assert_false(pb_verdict_allowed(&v, 1u << PB_REASON_MOUNTED));
	assert_false(pb_verdict_allowed(&v, 1u << PB_REASON_ROOT_DISK));
}

static void network_refused(void **state)
{
	(void)state;
	struct pb_verdict v;
	check_id(0x1af4, 0x1041, &v);
	assert_false(pb_verdict_allowed(&v, 0));
	assert_true(has_reason(&v, PB_REASON_NET_ACTIVE, " is up with "));
}

static void vsock_refused(void **state)
{
	(void)state;
	struct pb_verdict v;
	check_id(0x1af4, 0x1053, &v);
	assert_false(pb_verdict_allowed(&v, 0));
	assert_true(has_reason(&v, PB_REASON_VSOCK, NULL));
}

static void rng_allowed(void **state)
{
	(void)state;
	struct pb_verdict v;
	check_id(0x1af4, 0x1044, &v);
	assert_int_equal(v.n, 0);
	assert_true(pb_verdict_allowed(&v, 0));
}

static void unknown_device_is_an_error(void **state)
{
	(void)state;
	if (ctx_err < 0) {
		print_message("SKIP: cannot snapshot the system state: %s\n", strerror(-ctx_err));
		skip();
	}
	struct pb_verdict v;
	struct pb_device *gone = pb_device_new("/sys/devices/pci0000:00/0000:ff:1f.7", "/sys");
	assert_non_null(gone);
	assert_true(pb_policy_check(ctx, inv, gone, &v) < 0);
	pb_device_free(gone);
	assert_int_equal(pb_policy_check(ctx, inv, NULL, &v), -EINVAL);
	assert_int_equal(pb_policy_check(ctx, NULL, inv->functions[0], &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(disk_refused),
	    cmocka_unit_test(network_refused),
	    cmocka_unit_test(vsock_refused),
	    cmocka_unit_test(rng_allowed),
	    cmocka_unit_test(unknown_device_is_an_error),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

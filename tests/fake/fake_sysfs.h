/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * A fake kernel behind a fixture sysfs tree, for unit tests of the cycle engine and restore.
 *
 * A directory tree ROOT/sys under a temporary directory stands for /sys: the tests run with
 * umockdev's preload library and UMOCKDEV_DIR=ROOT (tests/unit/testbed.h), so the tool, libudev
 * and libpci see the tree at /sys. A test binary linked with this fake and with -Wl,--wrap=write
 * sends every write(2) of the code under test through __wrap_write(): a write to one of the
 * files below, under $UMOCKDEV_DIR/sys, gets the kernel's semantics (Linux 6.1,
 * drivers/base/bus.c, dd.c, driver.c, power/sysfs.c) applied to the tree; every other write is
 * passed on untouched. A write to the real /sys from such a binary aborts it.
 *
 *   bus/B/drivers/D/bind     bind_store(): no such device on B, or D does not match it
 *                            (driver_override names another driver, or D is not in the
 *                            device's match list): ENODEV; already bound: EBUSY; then D's
 *                            probe runs: success creates the links, a probe error comes back
 *                            as the write's errno, a deferral (-EPROBE_DEFER) as EAGAIN.
 *   bus/B/drivers/D/unbind   unbind_store(): no such device, or not bound to D: ENODEV; else the
 *                            links go.
 *   bus/B/drivers_probe      drivers_probe_store(): no such device: ENODEV; bound: nothing, 0;
 *                            else every driver of B that matches is probed in name order until
 *                            one binds. A probe error or deferral is swallowed: the write
 *                            succeeds and the device stays unbound.
 *   DEV/driver_override      driver_set_override(): stored up to the first newline; "\n" or ""
 *                            clears it (reads "(null)"); PAGE_SIZE - 1 bytes or more: EINVAL.
 *   DEV/power/control        control_store(): "on" or "auto", anything else EINVAL.
 *
 * Bound means the kernel's two links: DEV/driver -> bus/B/drivers/D and bus/B/drivers/D/NAME ->
 * DEV, both relative, as driver_sysfs_add() makes them. A device is found by its name through
 * bus/B/devices/NAME and exists while its directory has a uevent file.
 *
 * How a device behaves is set by lines in DEV/fake_behaviour (fake_sysfs_behave()):
 *
 *   match DRV...        the drivers whose id table matches the device (default: every driver
 *                       of its bus); driver_override still overrides it, as pci_match_device()
 *   WHAT ACTION [COUNT] WHAT: unbind, probe (D's probe, run by bind or drivers_probe),
 *                       driver_override or power (writes to those attributes)
 *                       ACTION: an errno name (EIO, EAGAIN, ENODEV, ...) the step fails with;
 *                       defer (probe only: -EPROBE_DEFER); hang (the write blocks until
 *                       fake_sysfs_release() or the device or the tree is removed, then goes
 *                       on normally); vanish (the device is unplugged as the write reaches it:
 *                       its directory and every link to it go, the write fails ENODEV);
 *                       kill-before, kill-after (SIGKILL to the process before or after the
 *                       kernel applied the write, for crash tests); ignore (unbind only: the
 *                       write succeeds and nothing changes); ok (behaves normally).
 *                       COUNT: applies to the next COUNT such steps, then the line is spent
 *                       (its count reads 0); without it, to every one.
 *
 * For each step the first line of its WHAT that is not spent applies, so lines queue:
 * "probe EAGAIN 2" then "probe kill-before" fails two probes and kills at the third. Every
 * write the fake handles is appended to ROOT/fake_kernel.log as "PATH VALUE -> RESULT", PATH
 * relative to the root, RESULT "ok" or the errno's name.
 *
 * Not faked: uevents, child devices a driver creates or removes with its binding (virtio under a
 * virtio-pci function), deferred probes the kernel retries by itself later, async probing,
 * drivers_autoprobe, new_id/remove_id, reads (attributes are plain files), permissions.
 */
#include <stdbool.h>
#include <stddef.h>

/* Creates ROOT/bus/BUS with devices/, drivers/, drivers_probe and drivers_autoprobe, and the
 * log, ROOT/fake_kernel.log (only this creates it). */
int fake_sysfs_bus(const char *root, const char *bus);
/* Creates ROOT/bus/BUS/drivers/DRV with bind and unbind. */
int fake_sysfs_driver(const char *root, const char *bus, const char *drv);
/*
 * A device directory ROOT/REL (REL starts with "devices/", its last component is the device's
 * name) on bus BUS: uevent,
 * subsystem link, bus/BUS/devices/NAME, power/control "auto", driver_override "(null)" when
 * with_override (PCI, platform: buses that have it), bound to drv unless drv is NULL.
 */
int fake_sysfs_device(const char *root, const char *rel, const char *bus, const char *drv,
		      bool with_override);
/*
 * The tree most tests use: the virtio-rng PCI function FAKE_RNG_PCI (bus pci, with
 * driver_override, bound to virtio-pci, which alone matches its id; vfio-pci takes it only through
 * driver_override, as on a real system) and its virtio child
 * FAKE_RNG_VIRTIO (bus virtio, no driver_override, bound to virtio_rng, which alone matches it).
 */
#define FAKE_RNG_PCI	"devices/pci0000:00/0000:00:05.0"
#define FAKE_RNG_VIRTIO FAKE_RNG_PCI "/virtio4"
int fake_sysfs_rng(const char *root);
/* Appends one behaviour line (format above) to DEVDIR/fake_behaviour. */
int fake_sysfs_behave(const char *devdir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Removes DEVDIR/fake_behaviour: the device behaves normally again. */
int fake_sysfs_behave_clear(const char *devdir);
/* Lets one hung write on the device go on. */
int fake_sysfs_release(const char *devdir);
/* The driver DEVDIR is bound to into buf ("" when unbound). Returns 0, -ENODEV when gone. */
int fake_sysfs_bound(const char *devdir, char *buf, size_t size);
/* Empties ROOT/fake_kernel.log. */
void fake_sysfs_log_clear(const char *root);
/* The log's contents, malloc'd ("" when empty). */
char *fake_sysfs_log(const char *root);

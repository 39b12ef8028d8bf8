/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * A driver's kernel module, for `run --entry module`: which module a driver belongs to, whether
 * it can be unloaded (built in, in use, needed by other modules), every device its drivers have
 * bound (all of them are unbound by an unload), and the unload and load themselves through
 * libkmod.
 *
 * What is read comes from sysfs through paths.h (so fixture trees work):
 *   /sys/bus/BUS/drivers/DRV/module -> /sys/module/M   (no link: the driver is built in)
 *   /sys/module/M/initstate          only a loadable module has it
 *   /sys/module/M/refcnt, holders/   its users and the modules that depend on it
 *   /sys/module/M/drivers/BUS:DRV    each driver it registers, with its bound devices' links
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One device bound to one of the module's drivers. */
struct pb_module_device {
	char syspath[PATH_MAX]; /* canonical /sys/devices/... */
	char bus[64];
	char name[128];
	char driver[128];
};

struct pb_module_state {
	char name[64];	    /* the module ("nvme"); the driver's name when it has no module link */
	bool builtin;	    /* no loadable module: built into the kernel */
	long refcnt;	    /* /sys/module/M/refcnt; -1 unknown */
	char holders[256];  /* the modules that depend on it, space-separated; "" none */
	bool no_capability; /* this process may not unload or load modules (no CAP_SYS_MODULE) */
	struct pb_module_device *devices; /* malloc'd; every device its drivers have bound */
	size_t n_devices;
};

/* Reads the module of driver DRV on BUS and every device its drivers have bound. Returns 0,
 * -ENOENT when the driver does not exist, -ENOMEM, or another -errno. */
int pb_module_state_read(const char *bus, const char *driver, struct pb_module_state *ret);
void pb_module_state_clear(struct pb_module_state *s);

/* The devices bound to the drivers of module NAME now, into *ret (malloc'd) and *ret_n. */
int pb_module_devices(const char *name, struct pb_module_device **ret, size_t *ret_n);

/* Whether this process holds CAP_SYS_MODULE in its effective set: without it the kernel refuses
 * every unload and load (a systemd unit with ProtectKernelModules=yes, as probebench's own, or a
 * container without the capability). */
bool pb_module_capable(void);

/* True while module NAME is loaded (as a loadable module: /sys/module/NAME/initstate). */
bool pb_module_loaded(const char *name);

/*
 * Whether an unload of the module may even be tried; pure. Returns 0, or 1 with the reason in
 * why, naming the module and the way out: built in, no capability to unload it, in use
 * (refcnt > 0), needed by the loaded modules in holders.
 */
int pb_module_refusal(const struct pb_module_state *s, const char *driver, char *why, size_t size);

/*
 * Waiting for a module's devices after a load. The driver link appears when really_probe starts
 * (driver_sysfs_add() before the driver's probe), the kernel's "bind" uevent when it has
 * succeeded (driver_bound()): a load whose probes run asynchronously (async_probe=1) returns
 * before they end, so the wait listens for the bind uevents. pb_module_uevents_open() gives a
 * socket on the kernel's uevents (netlink group 1), opened before the load; -errno when it cannot.
 */
int pb_module_uevents_open(void);
/*
 * Until every device of devs[] has had its bind uevent on fd and is bound to its driver, or the
 * CLOCK_MONOTONIC deadline: 0 when they all were at the first look (the load waited for its
 * probes), 1 when it had to wait for some, or -ETIME. fd < 0 (or lost uevents): the driver links
 * alone, polled each 0.5 ms.
 */
int pb_module_wait_bound(const struct pb_module_device *devs, size_t n, int fd,
			 uint64_t deadline_ns);

/* ---- libkmod ---- */
struct pb_kmod;
/* A libkmod context on the running kernel's modules tree (indexes loaded). Returns 0 or -errno. */
int pb_kmod_new(struct pb_kmod **ret);
void pb_kmod_free(struct pb_kmod *k);
/*
 * Unloads module NAME (delete_module, not forced: a module in use stays, -EBUSY/-EAGAIN).
 * Returns 0 or -errno.
 */
int pb_kmod_unload(struct pb_kmod *k, const char *name);
/*
 * Loads module NAME with OPTIONS ("async_probe=1"; NULL or "" none) and what modprobe.d gives it,
 * its dependencies first when they are missing (kmod_module_probe_insert_module; no install
 * commands run). *ret_ns: CLOCK_MONOTONIC around that call, which is the init_module call plus
 * libkmod reading the module's file. Returns 0 or -errno.
 */
int pb_kmod_load(struct pb_kmod *k, const char *name, const char *options, uint64_t *ret_ns);

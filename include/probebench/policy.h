/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Safety policy: may a device be unbound? Deny by default. A device is refused when anything in
 * its udev subtree (the device and every device below it) is in use. Each refusal names one
 * reason; --force=REASON lifts exactly that reason.
 *
 * Usage: snapshot the system state once (mounts, swaps, routes, consoles, ...), then check as
 * many devices as needed against it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct udev;

enum pb_reason {
	PB_REASON_MOUNTED,    /* "mounted": a block device below it holds a mounted filesystem */
	PB_REASON_SWAP,	      /* "swap": a block device below it is active swap */
	PB_REASON_HOLDERS,    /* "holders": dm/md/LVM holders on a block device below it */
	PB_REASON_ROOT_DISK,  /* "root-disk": it carries the root filesystem */
	PB_REASON_NET_ACTIVE, /* "net-active": an interface below it is up with addresses or routes,
				 or enslaved to a bond/bridge/team */
	PB_REASON_VSOCK,      /* "vsock": a vsock transport below it */
	PB_REASON_CONSOLE,    /* "console": a console or tty in use below it */
	PB_REASON_BOOT_VGA,   /* "boot-vga": the boot VGA device */
	PB_REASON_BRIDGE,     /* "bridge": a PCI bridge (unbinding it removes what is behind it) */
	PB_REASON_NO_DRIVER,  /* "no-driver": nothing is bound, so there is nothing to cycle */
	PB_REASON__MAX,
};

struct pb_refusal {
	enum pb_reason reason;
	char detail[256]; /* what was found, naming the device: "vda1 mounted on /" */
};

struct pb_verdict {
	size_t n;
	struct pb_refusal refusals[32];
};

struct pb_policy_ctx;

/* Short stable names used by --force=REASON, JSON and logs. */
const char *pb_reason_name(enum pb_reason reason);
/* Returns the reason for a name, or -EINVAL. */
int pb_reason_from_name(const char *name);

/* Snapshots the system state the checks need. Returns 0 or -errno. */
int pb_policy_ctx_new(struct pb_policy_ctx **ret);
void pb_policy_ctx_free(struct pb_policy_ctx *ctx);

/* Checks the device at syspath (absolute sysfs path) and its whole udev subtree. */
int pb_policy_check(struct pb_policy_ctx *ctx, const char *syspath, struct pb_verdict *ret);

/* True when every refusal's reason is in forced_mask (bit 1u << reason). */
bool pb_verdict_allowed(const struct pb_verdict *v, uint32_t forced_mask);

/* {"allowed": bool, "refusals": [{"reason": "mounted", "detail": "...", "forced": false}]} */
struct json_object *pb_verdict_to_json(const struct pb_verdict *v, uint32_t forced_mask);

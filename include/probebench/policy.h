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
struct pb_device;
struct pb_inventory;

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
	PB_REASON_BALLOON,    /* "balloon": a memory balloon below it (the host's handle on guest
				 memory: unbinding deflates it and drops the host's control) */
	PB_REASON_NO_DRIVER,  /* "no-driver": nothing is bound, so there is nothing to cycle */
	PB_REASON_MODULE,     /* "module" (--entry module): the driver is built in, its module is in
				 use or needed by other modules; never lifted by --force */
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

/*
 * Checks target and its whole subtree as inv holds it (its devices, and the PCI functions behind
 * it with theirs); each device's state (attributes, holders, claims) is read now through libudev.
 * No enumeration: what lies below the target is the inventory's. -ENODEV when the target is gone.
 */
int pb_policy_check(struct pb_policy_ctx *ctx, const struct pb_inventory *inv,
		    const struct pb_device *target, struct pb_verdict *ret);
/*
 * The same for many targets of one inventory (list gives every device its verdict): each device
 * of their subtrees is read once, for every subtree it is in. ret[i] and errs[i] (0, or the
 * -errno pb_policy_check would return) are target i's. Returns 0, or -errno when nothing could be
 * checked.
 */
int pb_policy_check_many(struct pb_policy_ctx *ctx, const struct pb_inventory *inv,
			 const struct pb_device *const *targets, size_t n_targets,
			 struct pb_verdict *ret, int *errs);

/* True when every refusal's reason is in forced_mask (bit 1u << reason). */
bool pb_verdict_allowed(const struct pb_verdict *v, uint32_t forced_mask);

/* {"allowed": bool, "refusals": [{"reason": "mounted", "detail": "...", "forced": false}]} */
struct json_object *pb_verdict_to_json(const struct pb_verdict *v, uint32_t forced_mask);

/*
 * ---- Lower level: the snapshot built piece by piece, and the pure decision ----
 *
 * pb_policy_ctx_new() is pb_policy_ctx_new_empty() fed from the live system (mountinfo, swaps,
 * rtnetlink dumps, consoles, open character devices). pb_policy_check() turns the inventory's
 * subtree into pb_policy_dev records and calls pb_policy_check_devs(). Unit tests feed fixture text
 * and hand-made subtrees to the same code, without root or netlink.
 */

/* One device of a subtree, as read from sysfs/udev. Strings may be NULL when absent. */
struct pb_policy_dev {
	const char *name;      /* sysname: "0000:00:02.0", "virtio1", "vda1", "eth0" */
	const char *subsystem; /* "pci", "virtio", "block", "net", "tty", ... */
	const char *devtype;   /* "disk", "partition", ... */
	const char *driver;    /* bound driver's name */
	const char *devnode;   /* "/dev/vda1" */
	unsigned major, minor; /* device number; 0:0 when it has none */
	const char *holders;   /* block: space-separated entries of holders/ ("dm-0 md1") */
	int ifindex;	       /* net: interface index; 0 otherwise */
	long pci_class;	       /* pci: 24-bit class code; -1 otherwise */
	int boot_vga;	       /* pci: the boot_vga attribute; -1 when absent */
	int sriov_numvfs;      /* pci: enabled SR-IOV virtual functions; 0 when none or absent */
	long virtio_type;   /* virtio: the virtio device type ("device" attribute); -1 otherwise */
	const char *fs_tag; /* virtio: the tag a 9p or virtiofs filesystem is mounted by */
	/* block: 0 when an O_RDONLY|O_EXCL open of its node succeeded or was not tried, else the
	 * negative errno (-EBUSY: something claims it) */
	int excl_open_err;
};

/* Checks a described subtree: devs[0] is the target, the rest lie below it. Pure. */
int pb_policy_check_devs(const struct pb_policy_ctx *ctx, const struct pb_policy_dev *devs,
			 size_t n, struct pb_verdict *ret);

int pb_policy_ctx_new_empty(struct pb_policy_ctx **ret);
/* Parses /proc/PID/mountinfo text; the mount on "/" is remembered as the root filesystem. */
int pb_policy_ctx_add_mountinfo(struct pb_policy_ctx *ctx, const char *text);
/* Parses /proc/swaps text. */
int pb_policy_ctx_add_swaps(struct pb_policy_ctx *ctx, const char *text);
/* A block device the root filesystem lives on (the root device and whatever it is built on). */
int pb_policy_ctx_add_root_dev(struct pb_policy_ctx *ctx, unsigned major, unsigned minor,
			       const char *name);
/* /proc/consoles text and /sys/class/tty/console/active text (either may be NULL). */
int pb_policy_ctx_add_consoles(struct pb_policy_ctx *ctx, const char *proc_consoles,
			       const char *active);
/* A character device some process holds open (first opener's pid and comm are kept). */
int pb_policy_ctx_add_open_chrdev(struct pb_policy_ctx *ctx, unsigned major, unsigned minor,
				  int pid, const char *comm);

/*
 * Processes whose open files could not be read (not root, or gone mid-scan): a tty below a
 * target then cannot be shown unused and is refused.
 */
void pb_policy_ctx_set_unreadable_fds(struct pb_policy_ctx *ctx, unsigned n_processes);
/*
 * The open character devices are only asked about for a tty (or virtio console port) below a
 * target, and reading them means a stat of every open file of every process: pb_policy_ctx_new()
 * leaves them pending, and pb_policy_check() reads them at the first subtree with such a device.
 */
void pb_policy_ctx_set_open_chrdevs_pending(struct pb_policy_ctx *ctx, bool pending);
bool pb_policy_ctx_open_chrdevs_pending(const struct pb_policy_ctx *ctx);

/* Network state: one interface (flags are IFF_*; master and link are ifindexes or 0). */
int pb_policy_ctx_add_link(struct pb_policy_ctx *ctx, int ifindex, const char *name, unsigned flags,
			   int master, int link);
int pb_policy_ctx_add_addr(struct pb_policy_ctx *ctx, int ifindex, int family, const void *addr,
			   unsigned prefixlen, unsigned scope);
struct pb_policy_route {
	int family; /* AF_INET, AF_INET6 */
	uint32_t table;
	uint8_t type;	  /* RTN_* */
	uint8_t protocol; /* RTPROT_* */
	/* One nexthop's interface (multipath routes are added once per nexthop); -1 when the
	 * route names a nexthop object the dump does not resolve. */
	int oif;
	uint8_t dst[16];
	uint8_t dst_len;
	bool has_gateway;
	uint8_t gateway[16];
};
int pb_policy_ctx_add_route(struct pb_policy_ctx *ctx, const struct pb_policy_route *route);
/*
 * Parses a buffer of rtnetlink messages (RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE; others are
 * skipped) into the snapshot. Returns 1 when NLMSG_DONE was seen, 0 when more is to come, -errno
 * for NLMSG_ERROR or a malformed message.
 */
int pb_policy_ctx_parse_rtnl(struct pb_policy_ctx *ctx, const void *buf, size_t len);
/* Fills the snapshot's network part from rtnetlink dumps. -EAGAIN when a dump was interrupted. */
int pb_policy_collect_rtnl(struct pb_policy_ctx *ctx);

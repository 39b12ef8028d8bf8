// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Safety policy, collecting part: the snapshot of the live system (read once) and the state of a
 * device's subtree, taken from the run's inventory. The decision itself is in src/policy.c.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <libudev.h>

#include "probebench/inventory.h"
#include "probebench/paths.h"
#include "probebench/policy.h"
#include "probebench/util.h"

/* How often the network dump is retried when the kernel marks it interrupted by a change. */
#define RTNL_ATTEMPTS 5
/* How deep the device stack under the root filesystem is followed (dm on md on partition...). */
#define ROOT_STACK_DEPTH 8

/* Reads a proc file; a missing one (no swap support, no such pid) reads as empty. */
static int read_proc_optional(const char *rel, char **ret)
{
	int r = pb_read_file(PB_ROOT_PROC, ret, NULL, "%s", rel);
	if (r == -ENOENT || r == -EACCES || r == -ESRCH) {
		*ret = NULL;
		return 0;
	}
	return r;
}

/* Adds the block device major:minor, its whole disk, and what it is built on (slaves/). */
static int add_root_stack(struct pb_policy_ctx *ctx, unsigned major, unsigned minor, int depth)
{
	char real[PATH_MAX], parent[PATH_MAX];
	if (pb_realpath(PB_ROOT_SYS, real, "dev/block/%u:%u", major, minor) < 0)
		return 0; /* not a block device (tmpfs, overlay, nfs root): nothing below it */
	const char *name = strrchr(real, '/') + 1;
	int r = pb_policy_ctx_add_root_dev(ctx, major, minor, name);
	if (r < 0 || depth >= ROOT_STACK_DEPTH)
		return r;

	/* A partition: its parent directory is the whole disk. */
	if (pb_access(PB_ROOT_SYS, F_OK, "%s/partition", real) == 0) {
		snprintf(parent, sizeof(parent), "%.*s", (int)(name - 1 - real), real);
		char num[32];
		unsigned pmaj, pmin;
		if (pb_read_attr(PB_ROOT_SYS, num, sizeof(num), "%s/dev", parent) >= 0 &&
		    sscanf(num, "%u:%u", &pmaj, &pmin) == 2) {
			r = add_root_stack(ctx, pmaj, pmin, depth + 1);
			if (r < 0)
				return r;
		}
	}

	DIR *d;
	if (pb_opendir(PB_ROOT_SYS, &d, "%s/slaves", real) < 0)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char num[32];
		unsigned smaj, smin;
		if (pb_read_attr(PB_ROOT_SYS, num, sizeof(num), "%s/slaves/%s/dev", real,
				 de->d_name) < 0 ||
		    sscanf(num, "%u:%u", &smaj, &smin) != 2)
			continue;
		r = add_root_stack(ctx, smaj, smin, depth + 1);
		if (r < 0)
			break;
	}
	closedir(d);
	return r < 0 ? r : 0;
}

static int collect_roots(struct pb_policy_ctx *ctx)
{
	/* Our root and init's root (they differ when we run in a container or chroot). */
	const char *rels[] = {"self/root", "1/root"};
	for (size_t i = 0; i < PB_ARRAY_SIZE(rels); i++) {
		struct stat st;
		if (pb_stat(PB_ROOT_PROC, &st, 0, "%s/", rels[i]) < 0)
			continue;
		int r = add_root_stack(ctx, major(st.st_dev), minor(st.st_dev), 0);
		if (r < 0)
			return r;
	}
	return 0;
}

static int collect_consoles(struct pb_policy_ctx *ctx)
{
	_cleanup_free_ char *consoles = NULL;
	int r = read_proc_optional("consoles", &consoles);
	if (r < 0)
		return r;
	char active[512];
	r = pb_read_attr(PB_ROOT_SYS, active, sizeof(active), "class/tty/console/active");
	return pb_policy_ctx_add_consoles(ctx, consoles, r >= 0 ? active : NULL);
}

/* Every character device some process holds open, from /proc/PID/fd (stat follows the link). */
static int collect_open_chrdevs(struct pb_policy_ctx *ctx)
{
	DIR *proc;
	int r = pb_opendir(PB_ROOT_PROC, &proc, ".");
	if (r < 0)
		return r;
	struct dirent *de;
	unsigned unreadable = 0;
	while ((de = readdir(proc))) {
		long pid;
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    pb_parse_long(de->d_name, 10, 1, INT_MAX, &pid) < 0)
			continue;
		DIR *fds;
		int k = pb_opendir(PB_ROOT_PROC, &fds, "%ld/fd", pid);
		if (k < 0) {
			/* A process that exited meanwhile holds nothing; one we may not see might.
			 */
			if (k != -ENOENT)
				unreadable++;
			continue;
		}
		char comm[32] = "";
		struct dirent *fe;
		while ((fe = readdir(fds))) {
			struct stat st;
			/* stat follows the fd's link to the open file */
			if (fe->d_name[0] == '.' ||
			    pb_stat(PB_ROOT_PROC, &st, 0, "%ld/fd/%s", pid, fe->d_name) < 0 ||
			    !S_ISCHR(st.st_mode))
				continue;
			if (!comm[0] &&
			    pb_read_attr(PB_ROOT_PROC, comm, sizeof(comm), "%ld/comm", pid) <= 0)
				snprintf(comm, sizeof(comm), "?");
			r = pb_policy_ctx_add_open_chrdev(ctx, major(st.st_rdev), minor(st.st_rdev),
							  (int)pid, comm);
			if (r < 0)
				break;
		}
		closedir(fds);
		if (r < 0)
			break;
	}
	closedir(proc);
	pb_policy_ctx_set_unreadable_fds(ctx, unreadable);
	return r < 0 ? r : 0;
}

static int snapshot(struct pb_policy_ctx *ctx)
{
	/* Mounts of our namespace and of init's (a container's mounts hide the host's). */
	const char *mountinfos[] = {"self/mountinfo", "1/mountinfo"};
	for (size_t i = 0; i < PB_ARRAY_SIZE(mountinfos); i++) {
		_cleanup_free_ char *text = NULL;
		int r = read_proc_optional(mountinfos[i], &text);
		if (r >= 0 && i == 0 && !text)
			r = -ENOENT; /* our own mountinfo must be there */
		if (r >= 0)
			r = pb_policy_ctx_add_mountinfo(ctx, text);
		if (r < 0)
			return r;
	}
	_cleanup_free_ char *swaps = NULL;
	int r = read_proc_optional("swaps", &swaps);
	if (r >= 0)
		r = pb_policy_ctx_add_swaps(ctx, swaps);
	if (r >= 0)
		r = collect_roots(ctx);
	if (r >= 0)
		r = collect_consoles(ctx);
	/* the open character devices: at the first check that needs them */
	pb_policy_ctx_set_open_chrdevs_pending(ctx, true);
	if (r >= 0)
		r = pb_policy_collect_rtnl(ctx);
	return r;
}

int pb_policy_ctx_new(struct pb_policy_ctx **ret)
{
	int r = -EAGAIN;
	for (int attempt = 0; attempt < RTNL_ATTEMPTS && r == -EAGAIN; attempt++) {
		struct pb_policy_ctx *ctx;
		r = pb_policy_ctx_new_empty(&ctx);
		if (r < 0)
			return r;
		r = snapshot(ctx);
		if (r >= 0) {
			*ret = ctx;
			return 0;
		}
		pb_policy_ctx_free(ctx);
	}
	return r;
}

/* ---- the subtree ------------------------------------------------------------------------- */

struct dev_store {
	char name[128], subsystem[64], devtype[64], driver[128], devnode[256], holders[256];
	char fs_tag[128];
};

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static const char *or_null(const char *s)
{
	return s && *s ? s : NULL;
}

static long attr_long(struct udev_device *d, const char *attr, long def)
{
	const char *s = udev_device_get_sysattr_value(d, attr);
	long v;
	if (!s || pb_parse_long(s, 0, LONG_MIN, LONG_MAX, &v) < 0)
		return def;
	return v;
}

/* The entries of SYSPATH/holders, space-separated (empty when none or no such directory). */
static void read_holders(const char *syspath, char *buf, size_t size)
{
	DIR *d;
	buf[0] = '\0';
	if (pb_opendir(PB_ROOT_SYS, &d, "%s/holders", syspath) < 0)
		return;
	size_t len = 0;
	struct dirent *de;
	while ((de = readdir(d)) && len < size) {
		if (de->d_name[0] == '.')
			continue;
		int n = snprintf(buf + len, size - len, "%s%s", len ? " " : "", de->d_name);
		len += n > 0 ? (size_t)n : 0;
	}
	closedir(d);
}

/* The virtiofs tag of this virtio device: /sys/fs/virtiofs/N/device links to it. */
static void virtiofs_tag(const char *syspath, char *buf, size_t size)
{
	DIR *d;
	buf[0] = '\0';
	if (pb_opendir(PB_ROOT_SYS, &d, "fs/virtiofs") < 0)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char real[PATH_MAX];
		if (pb_realpath(PB_ROOT_SYS, real, "fs/virtiofs/%s/device", de->d_name) < 0 ||
		    strcmp(real, syspath) != 0)
			continue;
		if (pb_read_attr(PB_ROOT_SYS, buf, size, "fs/virtiofs/%s/tag", de->d_name) < 0)
			buf[0] = '\0';
		break;
	}
	closedir(d);
}

/*
 * Opens the block device read-only and exclusively, and closes it at once: the kernel refuses
 * (EBUSY) when a filesystem, swap, a device stack or a process claims it. Nothing is read or
 * written. A missing node or medium says nothing about claims and counts as unclaimed.
 */
static int probe_exclusive(const char *devnode)
{
	int fd = pb_open_node(PB_ROOT_DEV, O_RDONLY | O_EXCL, "%s", pb_devnode_rel(devnode));
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return fd == -EBUSY || fd == -EACCES || fd == -EPERM ? fd : 0;
}

static void fill_dev(struct udev_device *ud, struct dev_store *s, struct pb_policy_dev *d)
{
	const char *subsystem = udev_device_get_subsystem(ud);
	copy_str(s->name, sizeof(s->name), udev_device_get_sysname(ud));
	copy_str(s->subsystem, sizeof(s->subsystem), subsystem);
	copy_str(s->devtype, sizeof(s->devtype), udev_device_get_devtype(ud));
	copy_str(s->driver, sizeof(s->driver), udev_device_get_driver(ud));
	copy_str(s->devnode, sizeof(s->devnode), udev_device_get_devnode(ud));
	s->holders[0] = '\0';
	bool block = subsystem && strcmp(subsystem, "block") == 0;
	bool pci = subsystem && strcmp(subsystem, "pci") == 0;
	if (block)
		read_holders(udev_device_get_syspath(ud), s->holders, sizeof(s->holders));
	bool virtio = subsystem && strcmp(subsystem, "virtio") == 0;
	s->fs_tag[0] = '\0';
	if (virtio) {
		/* 9pnet_virtio exposes mount_tag on the device; virtiofs lists it under /sys/fs. */
		copy_str(s->fs_tag, sizeof(s->fs_tag),
			 udev_device_get_sysattr_value(ud, "mount_tag"));
		if (!s->fs_tag[0])
			virtiofs_tag(udev_device_get_syspath(ud), s->fs_tag, sizeof(s->fs_tag));
	}
	int excl_open_err = 0;
	if (block && s->devnode[0])
		excl_open_err = probe_exclusive(s->devnode);
	dev_t num = udev_device_get_devnum(ud);
	*d = (struct pb_policy_dev){
	    .name = s->name,
	    .subsystem = or_null(s->subsystem),
	    .devtype = or_null(s->devtype),
	    .driver = or_null(s->driver),
	    .devnode = or_null(s->devnode),
	    .major = major(num),
	    .minor = minor(num),
	    .holders = or_null(s->holders),
	    .ifindex =
		subsystem && strcmp(subsystem, "net") == 0 ? (int)attr_long(ud, "ifindex", 0) : 0,
	    .pci_class = pci ? attr_long(ud, "class", -1) : -1,
	    .boot_vga = pci ? (int)attr_long(ud, "boot_vga", -1) : -1,
	    .sriov_numvfs = pci ? (int)attr_long(ud, "sriov_numvfs", 0) : 0,
	    .virtio_type = virtio ? attr_long(ud, "device", -1) : -1,
	    .fs_tag = or_null(s->fs_tag),
	    .excl_open_err = excl_open_err,
	};
}

static void udev_unrefp(struct udev **p)
{
	udev_unref(*p);
}
static void udev_device_unrefp(struct udev_device **p)
{
	udev_device_unref(*p);
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (const void *const *)a,
		  y = (uintptr_t) * (const void *const *)b;
	return x < y ? -1 : x > y;
}

/* The open character devices, when still pending and this subtree has a device that the console
 * check asks about: a tty or console port with a number. */
static int open_chrdevs_for(struct pb_policy_ctx *ctx, const struct pb_policy_dev *devs, size_t n)
{
	for (size_t i = 0; i < n && pb_policy_ctx_open_chrdevs_pending(ctx); i++) {
		const char *sub = devs[i].subsystem ? devs[i].subsystem : "";
		if ((!strcmp(sub, "tty") || !strcmp(sub, "virtio-ports")) &&
		    (devs[i].major || devs[i].minor)) {
			int r = collect_open_chrdevs(ctx);
			if (r < 0)
				return r;
			pb_policy_ctx_set_open_chrdevs_pending(ctx, false);
		}
	}
	return 0;
}

int pb_policy_check_many(struct pb_policy_ctx *ctx, const struct pb_inventory *inv,
			 const struct pb_device *const *targets, size_t n_targets,
			 struct pb_verdict *ret, int *errs)
{
	if (!ctx || !inv || !targets || !ret || !errs)
		return -EINVAL;
	for (size_t t = 0; t < n_targets; t++)
		if (!targets[t])
			return -EINVAL;
	/* Every device of every subtree, once: sorted pointers, and what each one is now. */
	_cleanup_free_ const struct pb_device **all = NULL;
	size_t n_all = 0;
	for (size_t t = 0; t < n_targets; t++) {
		_cleanup_free_ const struct pb_device **sub = NULL;
		size_t n_sub = 0;
		int r = pb_inventory_subtree(inv, targets[t], &sub, &n_sub);
		if (r < 0)
			return r;
		const struct pb_device **a = realloc(all, (n_all + n_sub) * sizeof(*all));
		if (!a)
			return -ENOMEM;
		all = a;
		memcpy(all + n_all, sub, n_sub * sizeof(*sub));
		n_all += n_sub;
	}
	qsort(all, n_all, sizeof(*all), cmp_ptr);
	size_t u = 0;
	for (size_t i = 0; i < n_all; i++)
		if (u == 0 || all[i] != all[u - 1])
			all[u++] = all[i];
	n_all = u;
	/* Each device's state (attributes, holders, claims) as it is now, through libudev. */
	__attribute__((cleanup(udev_unrefp))) struct udev *udev = udev_new();
	if (!udev)
		return -ENOMEM;
	_cleanup_free_ struct dev_store *stores = calloc(n_all ? n_all : 1, sizeof(*stores));
	_cleanup_free_ struct pb_policy_dev *devs = calloc(n_all ? n_all : 1, sizeof(*devs));
	_cleanup_free_ int *gone = calloc(n_all ? n_all : 1, sizeof(*gone));
	_cleanup_free_ struct pb_policy_dev *sub_devs =
	    calloc(n_all ? n_all : 1, sizeof(*sub_devs));
	if (!stores || !devs || !gone || !sub_devs)
		return -ENOMEM;
	for (size_t i = 0; i < n_all; i++) {
		__attribute__((cleanup(udev_device_unrefp))) struct udev_device *ud =
		    udev_device_new_from_syspath(udev, all[i]->syspath);
		if (!ud) {
			gone[i] =
			    errno > 0 ? -errno : -ENODEV; /* removed since the inventory was read */
			continue;
		}
		fill_dev(ud, &stores[i], &devs[i]);
	}
	for (size_t t = 0; t < n_targets; t++) {
		_cleanup_free_ const struct pb_device **sub = NULL;
		size_t n_sub = 0, n = 0;
		int r = pb_inventory_subtree(inv, targets[t], &sub, &n_sub);
		if (r < 0)
			return r;
		errs[t] = 0;
		for (size_t i = 0; i < n_sub; i++) {
			const struct pb_device **k =
			    bsearch(&sub[i], all, n_all, sizeof(*all), cmp_ptr);
			size_t at = (size_t)(k - all);
			if (gone[at] && i == 0) {
				errs[t] = gone[at]; /* the target itself */
				break;
			}
			if (gone[at])
				continue;
			sub_devs[n++] = devs[at];
		}
		if (errs[t] < 0)
			continue;
		r = open_chrdevs_for(ctx, sub_devs, n);
		if (r < 0)
			return r;
		errs[t] = pb_policy_check_devs(ctx, sub_devs, n, &ret[t]);
	}
	return 0;
}

int pb_policy_check(struct pb_policy_ctx *ctx, const struct pb_inventory *inv,
		    const struct pb_device *target, struct pb_verdict *ret)
{
	int err = 0;
	int r = pb_policy_check_many(ctx, inv, &target, 1, ret, &err);
	return r < 0 ? r : err;
}

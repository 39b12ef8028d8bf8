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

/* Reads a whole (procfs) file into a NUL-terminated buffer. */
static int read_all(const char *path, char **ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = 0, cap = 16384;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (cap - len < 4096) {
			char *p = realloc(buf, cap * 2);
			if (!p)
				return -ENOMEM;
			buf = p;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

/* Reads a proc file; a missing one (no swap support, no such pid) reads as empty. */
static int read_proc_optional(const char *rel, char **ret)
{
	char path[PATH_MAX];
	int r = pb_proc_path(path, sizeof(path), "%s", rel);
	if (r < 0)
		return r;
	r = read_all(path, ret);
	if (r == -ENOENT || r == -EACCES || r == -ESRCH) {
		*ret = NULL;
		return 0;
	}
	return r;
}

/* Adds the block device major:minor, its whole disk, and what it is built on (slaves/). */
static int add_root_stack(struct pb_policy_ctx *ctx, unsigned major, unsigned minor, int depth)
{
	char dir[PATH_MAX], real[PATH_MAX], path[PATH_MAX + 32];
	int r = pb_sys_path(dir, sizeof(dir), "dev/block/%u:%u", major, minor);
	if (r < 0)
		return r;
	if (!realpath(dir, real))
		return 0; /* not a block device (tmpfs, overlay, nfs root): nothing below it */
	const char *name = strrchr(real, '/') + 1;
	r = pb_policy_ctx_add_root_dev(ctx, major, minor, name);
	if (r < 0 || depth >= ROOT_STACK_DEPTH)
		return r;

	/* A partition: its parent directory is the whole disk. */
	snprintf(path, sizeof(path), "%s/partition", real);
	if (access(path, F_OK) == 0) {
		snprintf(path, sizeof(path), "%s/../dev", real);
		char num[32];
		unsigned pmaj, pmin;
		if (pb_read_str(path, num, sizeof(num)) >= 0 &&
		    sscanf(num, "%u:%u", &pmaj, &pmin) == 2) {
			r = add_root_stack(ctx, pmaj, pmin, depth + 1);
			if (r < 0)
				return r;
		}
	}

	snprintf(path, sizeof(path), "%s/slaves", real);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char dev[PATH_MAX + 300], num[32];
		unsigned smaj, smin;
		snprintf(dev, sizeof(dev), "%s/slaves/%s/dev", real, de->d_name);
		if (pb_read_str(dev, num, sizeof(num)) < 0 ||
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
		char path[PATH_MAX];
		struct stat st;
		int r = pb_proc_path(path, sizeof(path), "%s/", rels[i]);
		if (r < 0)
			return r;
		if (stat(path, &st) < 0)
			continue;
		r = add_root_stack(ctx, major(st.st_dev), minor(st.st_dev), 0);
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
	char path[PATH_MAX], active[512];
	r = pb_sys_path(path, sizeof(path), "class/tty/console/active");
	if (r < 0)
		return r;
	r = pb_read_str(path, active, sizeof(active));
	return pb_policy_ctx_add_consoles(ctx, consoles, r >= 0 ? active : NULL);
}

/* Every character device some process holds open, from /proc/PID/fd (stat follows the link). */
static int collect_open_chrdevs(struct pb_policy_ctx *ctx)
{
	char path[PATH_MAX];
	int r = pb_proc_path(path, sizeof(path), ".");
	if (r < 0)
		return r;
	DIR *proc = opendir(path);
	if (!proc)
		return -errno;
	struct dirent *de;
	unsigned unreadable = 0;
	while ((de = readdir(proc))) {
		long pid;
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    pb_parse_long(de->d_name, 10, 1, INT_MAX, &pid) < 0)
			continue;
		char fdpath[64];
		snprintf(fdpath, sizeof(fdpath), "%ld/fd", pid);
		int dfd = openat(dirfd(proc), fdpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			/* A process that exited meanwhile holds nothing; one we may not see might.
			 */
			if (errno != ENOENT)
				unreadable++;
			continue;
		}
		DIR *fds = fdopendir(dfd);
		if (!fds) {
			close(dfd);
			continue;
		}
		char comm[32] = "";
		struct dirent *fe;
		while ((fe = readdir(fds))) {
			struct stat st;
			if (fe->d_name[0] == '.' || fstatat(dfd, fe->d_name, &st, 0) < 0 ||
			    !S_ISCHR(st.st_mode))
				continue;
			if (!comm[0]) {
				char cpath[64];
				snprintf(cpath, sizeof(cpath), "%ld/comm", pid);
				int cfd = openat(dirfd(proc), cpath, O_RDONLY | O_CLOEXEC);
				ssize_t n = cfd >= 0 ? read(cfd, comm, sizeof(comm) - 1) : -1;
				if (cfd >= 0)
					close(cfd);
				comm[n > 0 ? n : 0] = '\0';
				comm[strcspn(comm, "\n")] = '\0';
				if (!comm[0])
					snprintf(comm, sizeof(comm), "?");
			}
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
	if (r >= 0)
		r = collect_open_chrdevs(ctx);
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
	char path[PATH_MAX];
	buf[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/holders", syspath) >= (int)sizeof(path))
		return;
	DIR *d = opendir(path);
	if (!d)
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
	char dir[PATH_MAX];
	buf[0] = '\0';
	if (pb_sys_path(dir, sizeof(dir), "fs/virtiofs") < 0)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char link[PATH_MAX + 300], real[PATH_MAX];
		snprintf(link, sizeof(link), "%s/%s/device", dir, de->d_name);
		if (!realpath(link, real) || strcmp(real, syspath) != 0)
			continue;
		snprintf(link, sizeof(link), "%s/%s/tag", dir, de->d_name);
		if (pb_read_str(link, buf, size) < 0)
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
	char path[PATH_MAX];
	const char *rel = strncmp(devnode, "/dev/", 5) == 0 ? devnode + 5 : devnode;
	if (snprintf(path, sizeof(path), "%s/%s", pb_devfs_root(), rel) >= (int)sizeof(path))
		return 0;
	int fd = open(path, O_RDONLY | O_EXCL | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	int err = errno;
	return err == EBUSY || err == EACCES || err == EPERM ? -err : 0;
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

int pb_policy_check(struct pb_policy_ctx *ctx, const struct pb_inventory *inv,
		    const struct pb_device *target, struct pb_verdict *ret)
{
	if (!ctx || !inv || !target || !ret)
		return -EINVAL;
	_cleanup_free_ const struct pb_device **subtree = NULL;
	size_t n_sub = 0;
	int r = pb_inventory_subtree(inv, target, &subtree, &n_sub);
	if (r < 0)
		return r;
	/* Each device's state (attributes, holders, claims) as it is now, through libudev. */
	__attribute__((cleanup(udev_unrefp))) struct udev *udev = udev_new();
	if (!udev)
		return -ENOMEM;
	_cleanup_free_ struct dev_store *stores = calloc(n_sub, sizeof(*stores));
	_cleanup_free_ struct pb_policy_dev *devs = calloc(n_sub, sizeof(*devs));
	if (!stores || !devs)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < n_sub; i++) {
		__attribute__((cleanup(udev_device_unrefp))) struct udev_device *ud =
		    udev_device_new_from_syspath(udev, subtree[i]->syspath);
		if (!ud) {
			if (i == 0)
				return errno > 0 ? -errno : -ENODEV;
			continue; /* removed since the inventory was read */
		}
		fill_dev(ud, &stores[n], &devs[n]);
		n++;
	}
	return pb_policy_check_devs(ctx, devs, n, ret);
}

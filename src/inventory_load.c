// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loading the inventory: PCI functions through libpci's sysfs back end (its root follows
 * pb_sysfs_root()), the devices below each function through libudev, the topology through libnuma.
 * Tests give all three a fixture tree at /sys through umockdev (doc/testing.md).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <pci/pci.h>

#include "inventory_internal.h"
#include "probebench/inventory.h"
#include "probebench/paths.h"
#include "probebench/util.h"

/*
 * libpci reports errors through a callback that must not return (its default exits). The loader
 * runs libpci calls under setjmp and the callback jumps back with the message. Warnings are
 * collected: during scan and fill they are I/O errors on attributes (libpci is silent when an
 * optional attribute is absent), so they fail the load; during name lookups they are kept.
 */
struct pci_guard {
	jmp_buf jmp;
	char msg[512];
	bool warned;
	bool strict;
	struct pb_inventory *inv;
};
static __thread struct pci_guard *guard;

__attribute__((noreturn, format(printf, 1, 2))) static void pci_error_cb(char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	vsnprintf(guard->msg, sizeof(guard->msg), msg, ap);
	va_end(ap);
	longjmp(guard->jmp, 1);
}

__attribute__((format(printf, 1, 2))) static void pci_warning_cb(char *msg, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, msg);
	vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	if (guard->strict) {
		if (!guard->warned)
			snprintf(guard->msg, sizeof(guard->msg), "%s", buf);
		guard->warned = true;
	} else {
		pb_inventory_add_warning(guard->inv, "libpci: %s", buf);
	}
}

__attribute__((format(printf, 1, 2))) static void pci_debug_cb(char *msg, ...)
{
	(void)msg;
}

int pb_inventory_add_warning(struct pb_inventory *inv, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	char **w = realloc(inv->warnings, (inv->n_warnings + 1) * sizeof(*w));
	if (!w) {
		free(s);
		return -ENOMEM;
	}
	inv->warnings = w;
	w[inv->n_warnings++] = s;
	return 0;
}

static int set_err(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_err(char *err, size_t errlen, int r, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static int guarded_scan(struct pci_access *pacc)
{
	guard->strict = true;
	guard->warned = false;
	if (setjmp(guard->jmp))
		return -EIO;
	pci_scan_bus(pacc);
	return guard->warned ? -EIO : 0;
}

static int guarded_fill(struct pci_dev *d, int flags)
{
	guard->strict = true;
	guard->warned = false;
	if (setjmp(guard->jmp))
		return -EIO;
	pci_fill_info(d, flags);
	return guard->warned ? -EIO : 0;
}

/* Without udev's hwdb.bin, libpci's hwdb lookup opens (and leaks) a udev context per call and
 * finds nothing: then ask pci.ids only. */
static int lookup_flags(int flags)
{
	static int no_hwdb = -1;
	if (no_hwdb < 0)
		no_hwdb = !pb_udev_hwdb_present();
	return flags | PCI_LOOKUP_NO_NUMBERS | (no_hwdb ? PCI_LOOKUP_NO_HWDB : 0);
}

static char *lookup(struct pci_access *pacc, int flags, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, flags);
	/* pci_lookup_name is variadic; pass the ids through explicitly (at most four). */
	int a = va_arg(ap, int), b = va_arg(ap, int), c = va_arg(ap, int), e = va_arg(ap, int);
	va_end(ap);
	guard->strict = false;
	if (setjmp(guard->jmp))
		return NULL;
	const char *name = pci_lookup_name(pacc, buf, sizeof(buf), flags, a, b, c, e);
	return name ? strdup(name) : NULL;
}

/*
 * libpci stops with an error on a device directory whose name it cannot parse; check the names
 * first so the message names the entry, and nothing is left half-done inside libpci.
 */
static int check_devices_dir(const char *dir, char *err, size_t errlen)
{
	DIR *d;
	int r = pb_opendir(PB_ROOT_SYS, &d, "%s", dir);
	if (r < 0)
		return set_err(err, errlen, r, "cannot open %s: %s", dir, strerror(-r));
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned dom, bus, dev;
		int func;
		char extra;
		if (de->d_name[0] == '.')
			continue;
		if (sscanf(de->d_name, "%x:%x:%x.%d%c", &dom, &bus, &dev, &func, &extra) != 4 ||
		    dom > 0x7fffffff) {
			r = set_err(err, errlen, -EINVAL, "unexpected entry '%s' in %s", de->d_name,
				    dir);
			break;
		}
	}
	closedir(d);
	return r;
}

static int read_optional_str(const char *path, char **ret)
{
	char buf[4096];
	int r = pb_read_attr(PB_ROOT_SYS, buf, sizeof(buf), "%s", path);
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* numa_node: absent (no CONFIG_NUMA) is fine; anything else unreadable is an error. */
int pb_device_read_node(struct pb_device *dev)
{
	long v;
	int r = pb_read_attr_long(PB_ROOT_SYS, &v, "%s/numa_node", dev->syspath);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (v < -1 || v > 1 << 16)
		return -ERANGE;
	dev->has_own_node = true;
	dev->own_node = (int)v;
	return 0;
}

/* The names of a function, from libpci (pci.ids, then udev's hwdb) */
static void lookup_names(struct pci_access *pacc, struct pb_pci_info *pci)
{
	pci->vendor_name = lookup(pacc, lookup_flags(PCI_LOOKUP_VENDOR), pci->vendor_id, 0, 0, 0);
	pci->device_name =
	    lookup(pacc, lookup_flags(PCI_LOOKUP_DEVICE), pci->vendor_id, pci->device_id, 0, 0);
	pci->class_name = lookup(pacc, lookup_flags(PCI_LOOKUP_CLASS), pci->class_id, 0, 0, 0);
	if (pci->has_subsys) {
		pci->subsys_vendor_name =
		    lookup(pacc, lookup_flags(PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_VENDOR),
			   pci->subsys_vendor_id, 0, 0, 0);
		pci->subsys_name =
		    lookup(pacc, lookup_flags(PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE),
			   pci->vendor_id, pci->device_id, pci->subsys_vendor_id, pci->subsys_id);
	}
}

/*
 * Point libpci at the part of its pci.ids that names these functions (src/pci_ids.c) instead of
 * the whole file. Returns the memory file to close after the lookups, or -1 when libpci keeps its
 * own list (gzip'd, unreadable, or no /proc to name the memory file by).
 */
static int name_list_subset(struct pci_access *pacc, struct pb_device **functions, size_t n)
{
	struct pb_pci_ids_want *want = calloc(1, sizeof(*want));
	int fd = -1;
	if (!want || !pacc->id_file_name)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct pb_pci_info *pci = functions[i]->pci;
		if (pb_pci_ids_want_device(want, pci->vendor_id, pci->device_id) < 0)
			goto out;
		pb_pci_ids_want_class(want, pci->class_id >> 8);
		if (pci->has_subsys)
			pb_pci_ids_want_vendor(want, pci->subsys_vendor_id);
	}
	if (pb_pci_ids_subset_file(pacc->id_file_name, want, &fd) < 0)
		goto out;
	char *path = NULL;
	if (asprintf(&path, PB_PATH_SELF_FD "/%d", fd) < 0 || access(path, R_OK) < 0) {
		free(path);
		close(fd);
		fd = -1;
		goto out;
	}
	pci_set_name_list_path(pacc, path, 1);
out:
	pb_pci_ids_want_free(want);
	return fd;
}

static int load_function(struct pb_inventory *inv, struct pci_dev *d, const char *root,
			 struct pb_device **ret, char *err, size_t errlen)
{
	char bdf[32], link[PATH_MAX], real[PATH_MAX], path[PATH_MAX + 32];
	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%d", (unsigned)d->domain, d->bus, d->dev,
		 d->func);
	int r = guarded_fill(d, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CLASS_EXT |
				    PCI_FILL_SUBSYS | PCI_FILL_IOMMU_GROUP | PCI_FILL_DRIVER);
	if (r < 0) {
		/* A function removed since the scan (hot unplug) is not an error of the listing. */
		if (pb_access(PB_ROOT_SYS, F_OK, "bus/pci/devices/%s", bdf) == -ENOENT) {
			pb_inventory_add_warning(inv, "%s disappeared during the listing", bdf);
			*ret = NULL;
			return 0;
		}
		return set_err(err, errlen, r, "%s: %s", bdf, guard->msg);
	}

	r = pb_sys_path(link, sizeof(link), "bus/pci/devices/%s", bdf);
	if (r < 0)
		return set_err(err, errlen, r, "%s: sysfs path too long", bdf);
	if ((r = pb_realpath(PB_ROOT_SYS, real, "bus/pci/devices/%s", bdf)) < 0)
		return set_err(err, errlen, r, "%s: cannot resolve %s: %s", bdf, link,
			       strerror(-r));

	struct pb_device *dev = pb_device_new(real, root);
	struct pb_pci_info *pci = calloc(1, sizeof(*pci));
	if (!dev || !pci) {
		pb_device_free(dev);
		free(pci);
		return set_err(err, errlen, -ENOMEM, "out of memory");
	}
	dev->pci = pci;
	const char *base = strrchr(real, '/');
	dev->sysname = strdup(base ? base + 1 : real);
	dev->subsystem = strdup("pci");
	const char *drv = pci_get_string_property(d, PCI_FILL_DRIVER);
	const char *grp = pci_get_string_property(d, PCI_FILL_IOMMU_GROUP);
	dev->driver = drv ? strdup(drv) : NULL;
	pci->iommu_group = grp ? strdup(grp) : NULL;
	if (!dev->sysname || !dev->subsystem || (drv && !dev->driver) ||
	    (grp && !pci->iommu_group)) {
		pb_device_free(dev);
		return set_err(err, errlen, -ENOMEM, "out of memory");
	}

	snprintf(pci->bdf, sizeof(pci->bdf), "%s", bdf);
	pci->domain = d->domain;
	pci->bus = d->bus;
	pci->dev = d->dev;
	pci->func = d->func;
	pci->vendor_id = d->vendor_id;
	pci->device_id = d->device_id;
	pci->class_id = d->device_class;
	pci->prog_if = d->prog_if;
	pci->revision = d->rev_id;
	pci->has_subsys = d->known_fields & PCI_FILL_SUBSYS;
	pci->subsys_vendor_id = d->subsys_vendor_id;
	pci->subsys_id = d->subsys_id;

	r = pb_device_read_node(dev);
	if (r < 0) {
		pb_device_free(dev);
		return set_err(err, errlen, r, "%s: cannot read %s/numa_node: %s", bdf, real,
			       strerror(-r));
	}
	snprintf(path, sizeof(path), "%s/local_cpulist", real);
	r = read_optional_str(path, &pci->local_cpulist);
	if (r == 0 && pci->local_cpulist)
		r = pb_cpulist_parse(pci->local_cpulist, &pci->local_cpus, &pci->n_local_cpus);
	if (r < 0) {
		pb_device_free(dev);
		return set_err(err, errlen, r, "%s: cannot read %s: %s", bdf, path,
			       r == -EINVAL ? "not a CPU list" : strerror(-r));
	}
	*ret = dev;
	return 0;
}

static int cmp_function(const void *a, const void *b)
{
	const struct pb_pci_info *x = (*(struct pb_device *const *)a)->pci;
	const struct pb_pci_info *y = (*(struct pb_device *const *)b)->pci;
	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->func < y->func ? -1 : x->func > y->func;
}

static int load_functions(struct pb_inventory *inv, char *err, size_t errlen)
{
	char pcipath[PATH_MAX], devdir[PATH_MAX];
	int r = pb_sys_path(pcipath, sizeof(pcipath), "bus/pci");
	if (r < 0 || pb_sys_path(devdir, sizeof(devdir), "bus/pci/devices") < 0)
		return set_err(err, errlen, -ENAMETOOLONG, "sysfs root too long");
	r = check_devices_dir(devdir, err, errlen);
	if (r < 0)
		return r;

	struct pci_guard g = {.inv = inv};
	guard = &g;
	struct pci_access *pacc = pci_alloc();
	if (!pacc) {
		guard = NULL;
		return set_err(err, errlen, -ENOMEM, "out of memory");
	}
	pacc->error = pci_error_cb;
	pacc->warning = pci_warning_cb;
	pacc->debug = pci_debug_cb;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	if (pci_set_param(pacc, "sysfs.path", pcipath) < 0) {
		r = set_err(err, errlen, -ENOTSUP, "libpci has no sysfs.path parameter");
		goto out;
	}
	if (setjmp(g.jmp)) {
		r = set_err(err, errlen, -EIO, "libpci: %s", g.msg);
		goto out;
	}
	pci_init(pacc);
	r = guarded_scan(pacc);
	if (r < 0) {
		set_err(err, errlen, r, "libpci: scanning %s: %s", devdir, g.msg);
		goto out;
	}
	for (struct pci_dev *d = pacc->devices; d; d = d->next) {
		struct pb_device *dev;
		r = load_function(inv, d, inv->sysfs_root, &dev, err, errlen);
		if (r < 0)
			goto out;
		if (!dev)
			continue;
		struct pb_device **f =
		    realloc(inv->functions, (inv->n_functions + 1) * sizeof(*inv->functions));
		if (!f) {
			pb_device_free(dev);
			r = set_err(err, errlen, -ENOMEM, "out of memory");
			goto out;
		}
		inv->functions = f;
		f[inv->n_functions++] = dev;
	}
	qsort(inv->functions, inv->n_functions, sizeof(*inv->functions), cmp_function);
	int ids_fd = name_list_subset(pacc, inv->functions, inv->n_functions);
	for (size_t i = 0; i < inv->n_functions; i++)
		lookup_names(pacc, inv->functions[i]->pci);
	if (ids_fd >= 0)
		close(ids_fd);
	r = 0;
out:
	pci_cleanup(pacc);
	guard = NULL;
	return r;
}

int pb_inventory_load(struct pb_inventory **ret, char *err, size_t errlen)
{
	struct pb_inventory *inv = calloc(1, sizeof(*inv));
	if (!inv)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	char root[PATH_MAX];
	const char *r0 = pb_sysfs_root();
	int r = pb_realpath(PB_ROOT_SYS, root, ".");
	if (r < 0) {
		free(inv);
		return set_err(err, errlen, r, "sysfs root %s: %s", r0, strerror(-r));
	}
	inv->sysfs_root = strdup(root);
	struct utsname u;
	if (uname(&u) == 0) {
		inv->host = strdup(u.nodename);
		inv->kernel = strdup(u.release);
	}
	r = load_functions(inv, err, errlen);
	if (r < 0)
		goto fail;
	inv->children_method = "libudev";
	for (size_t i = 0; i < inv->n_functions; i++) {
		struct pb_device *f = inv->functions[i];
		r = pb_children_load_udev(f, root, err, errlen);
		if (r < 0)
			goto fail;
		pb_device_inherit_nodes(f);
	}
	r = pb_numa_topology_load(&inv->topology);
	if (r < 0) {
		set_err(err, errlen, r, "NUMA topology: %s", strerror(-r));
		goto fail;
	}
	*ret = inv;
	return 0;
fail:
	pb_inventory_free(inv);
	return r;
}

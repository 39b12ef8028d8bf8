// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The devices below a PCI function, through libudev (fixture trees reach it through umockdev).
 * Other PCI functions below a bridge are listed as functions of their own, so what lies below
 * them is left to them.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libudev.h>

#include "inventory_internal.h"
#include "probebench/inventory.h"

struct devlist {
	struct pb_device **v;
	size_t n;
};

static int devlist_add(struct devlist *l, struct pb_device *d)
{
	struct pb_device **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	v[l->n++] = d;
	return 0;
}

static void devlist_free(struct devlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		pb_device_free(l->v[i]);
	free(l->v);
}

static int set_err(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_err(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

static int dup_opt(char **dst, const char *s)
{
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static void set_names(struct pb_device *d)
{
	if (!d->subsystem)
		return;
	if (strcmp(d->subsystem, "net") == 0)
		d->netif = d->sysname;
	else if (strcmp(d->subsystem, "block") == 0)
		d->block = d->sysname;
}

static int finish(struct pb_device *function, struct devlist *l, const char *fn_name, char *err,
		  size_t errlen)
{
	int r = pb_device_tree_build(function, l->v, l->n);
	free(l->v);
	l->v = NULL;
	l->n = 0;
	if (r < 0)
		return set_err(err, errlen, r, "%s: building the device tree: %s", fn_name,
			       strerror(-r));
	return 0;
}

int pb_children_load_udev(struct pb_device *function, const char *root, char *err, size_t errlen)
{
	struct udev *udev = udev_new();
	if (!udev)
		return set_err(err, errlen, -ENOMEM, "libudev: udev_new() failed");
	struct udev_device *parent = udev_device_new_from_syspath(udev, function->syspath);
	struct udev_enumerate *e = NULL;
	struct devlist l = {0};
	char **skip = NULL; /* PCI functions below this one: their subtrees are theirs */
	size_t n_skip = 0;
	int r = 0;
	if (!parent) {
		r = set_err(err, errlen, errno ? -errno : -ENODEV, "%s: libudev cannot open %s",
			    function->sysname, function->syspath);
		goto out;
	}
	e = udev_enumerate_new(udev);
	if (!e || udev_enumerate_add_match_parent(e, parent) < 0 ||
	    udev_enumerate_scan_devices(e) < 0) {
		r = set_err(err, errlen, -EIO, "%s: libudev cannot enumerate the devices below %s",
			    function->sysname, function->syspath);
		goto out;
	}
	/* Sorted by syspath, so a PCI function comes before what is below it. */
	struct udev_list_entry *ent;
	udev_list_entry_foreach(ent, udev_enumerate_get_list_entry(e))
	{
		const char *sp = udev_list_entry_get_name(ent);
		if (strcmp(sp, function->syspath) == 0)
			continue;
		bool skipped = false;
		for (size_t i = 0; i < n_skip && !skipped; i++) {
			size_t sl = strlen(skip[i]);
			skipped = strncmp(sp, skip[i], sl) == 0 && sp[sl] == '/';
		}
		if (skipped)
			continue;
		struct udev_device *ud = udev_device_new_from_syspath(udev, sp);
		if (!ud)
			continue; /* gone since the scan */
		const char *subsys = udev_device_get_subsystem(ud);
		if (subsys && strcmp(subsys, "pci") == 0) {
			char **s = realloc(skip, (n_skip + 1) * sizeof(*s));
			if (s)
				skip = s;
			if (!s || !(skip[n_skip] = strdup(sp))) {
				udev_device_unref(ud);
				r = -ENOMEM;
				goto out;
			}
			n_skip++;
			udev_device_unref(ud);
			continue;
		}
		struct pb_device *d = pb_device_new(sp, root);
		if (!d || devlist_add(&l, d) < 0) {
			pb_device_free(d);
			udev_device_unref(ud);
			r = -ENOMEM;
			goto out;
		}
		const char *devnode = udev_device_get_devnode(ud);
		r = dup_opt(&d->subsystem, subsys);
		if (!r)
			r = dup_opt(&d->sysname, udev_device_get_sysname(ud));
		if (!r)
			r = dup_opt(&d->driver, udev_device_get_driver(ud));
		if (!r)
			r = dup_opt(&d->devtype, udev_device_get_devtype(ud));
		if (!r && devnode)
			r = pb_device_add_devnode(d, devnode);
		struct udev_list_entry *le;
		udev_list_entry_foreach(le, udev_device_get_devlinks_list_entry(ud))
		{
			if (!r)
				r = pb_device_add_devnode(d, udev_list_entry_get_name(le));
		}
		udev_device_unref(ud);
		if (r < 0)
			goto out;
		set_names(d);
		r = pb_device_read_node(d);
		if (r < 0) {
			r = set_err(err, errlen, r, "%s: cannot read %s/numa_node: %s",
				    function->sysname, sp, strerror(-r));
			goto out;
		}
	}
	r = finish(function, &l, function->sysname, err, errlen);
out:
	if (r == -ENOMEM)
		set_err(err, errlen, r, "out of memory");
	devlist_free(&l);
	for (size_t i = 0; i < n_skip; i++)
		free(skip[i]);
	free(skip);
	udev_enumerate_unref(e);
	udev_device_unref(parent);
	udev_unref(udev);
	return r;
}

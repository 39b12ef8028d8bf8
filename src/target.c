// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probebench/paths.h"
#include "probebench/target.h"
#include "probebench/util.h"

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

/* "1af4:1044": 4 hex digits, colon, 4 hex digits. */
static bool is_vendor_device(const char *s)
{
	return strlen(s) == 9 && s[4] == ':' && is_hex(s, 4) && is_hex(s + 5, 4);
}

/* "00:05.0": bus:slot.function without domain. */
static bool is_short_bdf(const char *s)
{
	return strlen(s) == 7 && s[2] == ':' && s[5] == '.' && is_hex(s, 2) && is_hex(s + 3, 2) &&
	       s[6] >= '0' && s[6] <= '7';
}

static int fill_from_syspath(const char *path, struct pb_target *ret)
{
	struct pb_target t = {.numa_node = -1};
	char buf[PATH_MAX + 64];
	if (!realpath(path, t.syspath))
		return -errno;
	/* Only device directories: they have a uevent file and a subsystem link. */
	int r = snprintf(buf, sizeof(buf), "%s/uevent", t.syspath);
	if (r < 0 || (size_t)r >= sizeof(buf))
		return -ENAMETOOLONG;
	if (access(buf, F_OK) < 0)
		return -ENODEV;
	snprintf(buf, sizeof(buf), "%s/subsystem", t.syspath);
	r = pb_readlink_base(buf, t.bus, sizeof(t.bus));
	if (r < 0)
		return r == -ENOENT ? -ENODEV : r;
	const char *slash = strrchr(t.syspath, '/');
	if (!slash || strlen(slash + 1) >= sizeof(t.name))
		return -EINVAL;
	strcpy(t.name, slash + 1);
	snprintf(buf, sizeof(buf), "%s/driver", t.syspath);
	r = pb_readlink_base(buf, t.driver, sizeof(t.driver));
	if (r == -ENOENT)
		t.driver[0] = '\0';
	else if (r < 0)
		return r;
	/* numa_node: the device's own, else the nearest ancestor's (virtio children have none). */
	char dir[PATH_MAX];
	strcpy(dir, t.syspath);
	for (bool own = true; strlen(dir) > 1; own = false) {
		long node;
		snprintf(buf, sizeof(buf), "%s/numa_node", dir);
		if (pb_read_long(buf, &node) == 0) {
			t.numa_node = (int)node;
			t.numa_inherited = !own;
			break;
		}
		char *s = strrchr(dir, '/');
		if (!s)
			break;
		*s = '\0';
	}
	*ret = t;
	return 0;
}

/* Counts matches of vendor:device among PCI devices; the first lands in first_path. */
static int find_vendor_device(const char *spec, char *first_path, size_t size, unsigned *ret_n)
{
	char dirpath[PATH_MAX];
	int r = pb_sys_path(dirpath, sizeof(dirpath), "bus/pci/devices");
	if (r < 0)
		return r;
	DIR *d = opendir(dirpath);
	if (!d)
		return -errno;
	long want_v = strtol(spec, NULL, 16), want_d = strtol(spec + 5, NULL, 16);
	unsigned n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[PATH_MAX + 300];
		long v, dv;
		if (snprintf(p, sizeof(p), "%s/%s/vendor", dirpath, de->d_name) >= (int)sizeof(p))
			continue;
		if (pb_read_long(p, &v) < 0 || v != want_v)
			continue;
		snprintf(p, sizeof(p), "%s/%s/device", dirpath, de->d_name);
		if (pb_read_long(p, &dv) < 0 || dv != want_d)
			continue;
		if (n++ == 0 &&
		    snprintf(first_path, size, "%s/%s", dirpath, de->d_name) >= (int)size)
			n--;
	}
	closedir(d);
	*ret_n = n;
	return 0;
}

/* Looks name up under every bus: exactly one bus must have it. */
static int find_bus_device(const char *name, char *first_path, size_t size, unsigned *ret_n)
{
	char dirpath[PATH_MAX];
	int r = pb_sys_path(dirpath, sizeof(dirpath), "bus");
	if (r < 0)
		return r;
	DIR *d = opendir(dirpath);
	if (!d)
		return -errno;
	unsigned n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[PATH_MAX + 300];
		if (snprintf(p, sizeof(p), "%s/%s/devices/%s", dirpath, de->d_name, name) >=
		    (int)sizeof(p))
			continue;
		if (access(p, F_OK) < 0)
			continue;
		if (n++ == 0 && snprintf(first_path, size, "%s", p) >= (int)size)
			n--; /* cannot be named: not a match */
	}
	closedir(d);
	*ret_n = n;
	return 0;
}

int pb_target_resolve(const char *spec, struct pb_target *ret)
{
	char path[PATH_MAX];
	unsigned n = 0;
	int r;
	if (!spec || !*spec || strlen(spec) >= 256)
		return -EINVAL;
	if (spec[0] == '/') {
		const char *root = pb_sysfs_root();
		char canon[PATH_MAX], rootc[PATH_MAX];
		if (!realpath(spec, canon))
			return -errno;
		if (!realpath(root, rootc))
			return -errno;
		size_t l = strlen(rootc);
		if (strncmp(canon, rootc, l) != 0 || canon[l] != '/')
			return -EINVAL; /* not below the sysfs root */
		return fill_from_syspath(canon, ret);
	}
	if (!strcmp(spec, ".") || !strcmp(spec, ".."))
		return -EINVAL;
	for (const char *c = spec; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || strchr(":._-+@", *c)))
			return -EINVAL;
	/* Shaped like a BDF or a vendor:device but not one: say so rather than "not found". */
	size_t len = strlen(spec);
	if ((len == 7 && spec[2] == ':' && spec[5] == '.' && !is_short_bdf(spec)) ||
	    (len == 12 && spec[4] == ':' && spec[7] == ':' && spec[10] == '.' &&
	     (!is_hex(spec, 4) || !is_short_bdf(spec + 5))) ||
	    (len == 9 && spec[4] == ':' && !is_vendor_device(spec) && is_hex(spec, 4)))
		return -EINVAL;
	if (is_vendor_device(spec)) {
		r = find_vendor_device(spec, path, sizeof(path), &n);
	} else {
		char name[300];
		if (is_short_bdf(spec))
			snprintf(name, sizeof(name), "0000:%s", spec);
		else
			snprintf(name, sizeof(name), "%s", spec);
		r = find_bus_device(name, path, sizeof(path), &n);
	}
	if (r < 0)
		return r;
	if (n == 0)
		return -ENOENT;
	r = fill_from_syspath(path, ret);
	if (r < 0)
		return r;
	return n > 1 ? -ENOTUNIQ : 0;
}

int pb_target_driver(const struct pb_target *t, char *buf, size_t size)
{
	char p[PATH_MAX + 64];
	if (snprintf(p, sizeof(p), "%s/driver", t->syspath) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	int r = pb_readlink_base(p, buf, size);
	if (r == -ENOENT) {
		if (!pb_target_present(t))
			return -ENODEV;
		buf[0] = '\0';
		return 0;
	}
	return r < 0 ? r : 0;
}

bool pb_target_present(const struct pb_target *t)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/uevent", t->syspath);
	return access(p, F_OK) == 0;
}

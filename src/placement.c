// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Placement (placement.h): the files that stand for a device, the processes that hold or map
 * them, and where those processes' pages are. Everything is read through the access layer
 * (paths.h); the processes are only looked at through their /proc files.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probebench/inventory.h"
#include "probebench/paths.h"
#include "probebench/placement.h"
#include "probebench/selector.h"
#include "probebench/util.h"

/* The hw_random core's misc device, below the sysfs root. */
#define HWRNG_CLASS_DIR "class/misc/hw_random"

static void handle_clear(struct pb_placement_handle *h)
{
	free(h->name);
	free(h->owner);
	free(h->via);
}

static void consumer_clear(struct pb_placement_consumer *c)
{
	free(c->holds);
	free(c->cpu_nodes);
	pb_proc_allowed_clear(&c->allowed);
}

void pb_placement_report_free(struct pb_placement_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_devices; i++) {
		struct pb_placement_device *d = &r->devices[i];
		for (size_t k = 0; k < d->n_handles; k++)
			handle_clear(&d->handles[k]);
		free(d->handles);
		for (size_t k = 0; k < d->n_notes; k++)
			free(d->notes[k]);
		free(d->notes);
		for (size_t k = 0; k < d->n_consumers; k++)
			consumer_clear(&d->consumers[k]);
		free(d->consumers);
	}
	free(r->devices);
	free(r);
}

static int add_note(struct pb_placement_device *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int add_note(struct pb_placement_device *d, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	char **v = realloc(d->notes, (d->n_notes + 1) * sizeof(*v));
	if (!v) {
		free(s);
		return -ENOMEM;
	}
	d->notes = v;
	d->notes[d->n_notes++] = s;
	return 0;
}

static bool same_handle(const struct pb_placement_handle *a, const struct pb_placement_handle *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == PB_HANDLE_FILE)
		return a->st_dev == b->st_dev && a->inode == b->inode;
	return a->rdev == b->rdev;
}

/* Adds h (taking its strings) unless the device has it already. 0 or -ENOMEM. */
static int add_handle(struct pb_placement_device *d, struct pb_placement_handle *h)
{
	if (!h->name || !h->owner || !h->via) {
		handle_clear(h);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->n_handles; i++)
		if (same_handle(&d->handles[i], h)) {
			handle_clear(h);
			return 0;
		}
	struct pb_placement_handle *v = realloc(d->handles, (d->n_handles + 1) * sizeof(*v));
	if (!v) {
		handle_clear(h);
		return -ENOMEM;
	}
	d->handles = v;
	d->handles[d->n_handles++] = *h;
	return 0;
}

static int parse_devnum(const char *s, dev_t *ret)
{
	unsigned maj, min;
	int pos = 0;
	if (sscanf(s, "%u:%u%n", &maj, &min, &pos) != 2 || s[pos])
		return -EINVAL;
	*ret = makedev(maj, min);
	return 0;
}

/* The inode of a device node under the dev root, for matching mappings (maps names the file's
 * st_dev and inode, not the device number). */
static void node_inode(struct pb_placement_handle *h)
{
	struct stat st;
	if (strncmp(h->name, PB_DEVNODE_PREFIX, strlen(PB_DEVNODE_PREFIX)) ||
	    pb_stat(PB_ROOT_DEV, &st, 0, "%s", pb_devnode_rel(h->name)) < 0)
		return;
	bool kind_ok = h->kind == PB_HANDLE_BLOCK ? S_ISBLK(st.st_mode) : S_ISCHR(st.st_mode);
	if (!kind_ok || st.st_rdev != h->rdev)
		return;
	h->has_inode = true;
	h->st_dev = st.st_dev;
	h->inode = st.st_ino;
}

/* The device node of dev, by its device number (the sysfs "dev" attribute). */
static int add_devnode(struct pb_placement_device *d, const struct pb_device *dev)
{
	char buf[64], label[256];
	dev_t rdev;
	if (pb_read_attr(PB_ROOT_SYS, buf, sizeof(buf), "%s/dev", dev->syspath) < 0 ||
	    parse_devnum(buf, &rdev) < 0)
		return 0; /* no device number: nothing to hold open */
	struct pb_placement_handle h = {
	    .kind = dev->subsystem && !strcmp(dev->subsystem, "block") ? PB_HANDLE_BLOCK
								       : PB_HANDLE_CHAR,
	    .rdev = rdev,
	    .owner = strdup(pb_device_label(dev, label, sizeof(label))),
	    .via = strdup("devnode"),
	};
	if (dev->n_devnodes)
		h.name = strdup(dev->devnodes[0]);
	else if (asprintf(&h.name, "(no node) %u:%u", major(rdev), minor(rdev)) < 0)
		h.name = NULL;
	if (h.name)
		node_inode(&h);
	return add_handle(d, &h);
}

/* resource<N> and resource<N>_wc: the BARs a process can mmap. */
static bool is_resource_name(const char *s)
{
	if (strncmp(s, "resource", 8) || !isdigit((unsigned char)s[8]))
		return false;
	s += 8;
	while (isdigit((unsigned char)*s))
		s++;
	return !*s || !strcmp(s, "_wc");
}

static int add_resources(struct pb_placement_device *d, const struct pb_device *dev)
{
	char label[256];
	DIR *dir;
	if (!dev->pci || pb_opendir(PB_ROOT_SYS, &dir, "%s", dev->syspath) < 0)
		return 0;
	int r = 0;
	struct dirent *de;
	while (r >= 0 && (de = readdir(dir))) {
		struct stat st;
		if (!is_resource_name(de->d_name) ||
		    pb_stat(PB_ROOT_SYS, &st, 0, "%s/%s", dev->syspath, de->d_name) < 0)
			continue;
		struct pb_placement_handle h = {
		    .kind = PB_HANDLE_FILE,
		    .has_inode = true,
		    .st_dev = st.st_dev,
		    .inode = st.st_ino,
		    .owner = strdup(pb_device_label(dev, label, sizeof(label))),
		    .via = strdup("resource"),
		};
		if (asprintf(&h.name, "%s/%s", dev->syspath, de->d_name) < 0)
			h.name = NULL;
		r = add_handle(d, &h);
	}
	closedir(dir);
	return r;
}

/*
 * The legacy VFIO interface: a user of a function bound to vfio-pci holds /dev/vfio/GROUP, the
 * node of the function's IOMMU group (class vfio, named by the group's number), not a node of the
 * function, and maps its BARs through the device fd, an anonymous inode. The group's node stands
 * for every function in the group. (The newer per-device node, vfio-dev/vfioN, is a child of the
 * function and found as any other.)
 */
static int add_vfio_group(struct pb_placement_device *d, const struct pb_device *dev)
{
	char buf[64], label[256];
	dev_t rdev;
	if (!dev->pci || !dev->pci->iommu_group ||
	    pb_read_attr(PB_ROOT_SYS, buf, sizeof(buf), "class/vfio/%s/dev",
			 dev->pci->iommu_group) < 0 ||
	    parse_devnum(buf, &rdev) < 0)
		return 0;
	struct pb_placement_handle h = {
	    .kind = PB_HANDLE_CHAR,
	    .rdev = rdev,
	    .owner = strdup(pb_device_label(dev, label, sizeof(label))),
	};
	if (asprintf(&h.name, PB_DEVNODE_PREFIX "vfio/%s", dev->pci->iommu_group) < 0)
		h.name = NULL;
	if (asprintf(&h.via,
		     "vfio group %s: the node of the function's IOMMU group, shared by every "
		     "function in it",
		     dev->pci->iommu_group) < 0)
		h.via = NULL;
	if (h.name)
		node_inode(&h);
	return add_handle(d, &h);
}

static bool same_driver(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return false;
	return !*a && !*b;
}

struct count_driver {
	const char *driver;
	size_t n;
};

static int count_driver_fn(struct pb_device *dev, void *userdata)
{
	struct count_driver *c = userdata;
	if (dev->driver && same_driver(dev->driver, c->driver))
		c->n++;
	return 0;
}

/*
 * /dev/hwrng is the hw_random core's misc device: reading it reads whichever rng is current
 * (rng_current names it, "virtio_rng.0"). The name is the rng driver's own: virtio-rng and most
 * others name it after the driver with an index of their own (not the device's number), so it
 * is attributed to dev when dev's driver is the name's driver and dev is the only device bound
 * to that driver; with several, which one is current cannot be told from sysfs.
 */
static int add_hwrng(struct pb_placement_device *d, const struct pb_inventory *inv,
		     const struct pb_device *dev)
{
	char cur[128], buf[64], label[256];
	if (!dev->driver ||
	    pb_read_attr(PB_ROOT_SYS, cur, sizeof(cur), HWRNG_CLASS_DIR "/rng_current") <= 0)
		return 0;
	char name[128];
	snprintf(name, sizeof(name), "%s", cur);
	char *dot = strrchr(name, '.');
	if (dot && dot[1] && strspn(dot + 1, "0123456789") == strlen(dot + 1))
		*dot = '\0';
	if (!same_driver(name, dev->driver))
		return 0;
	struct count_driver c = {.driver = dev->driver};
	pb_inventory_foreach(inv, count_driver_fn, &c);
	pb_device_label(dev, label, sizeof(label));
	if (c.n != 1)
		return add_note(d,
				"/dev/hwrng not attributed: rng_current '%s' is registered by "
				"driver %s, which %zu devices are bound to; which one is current "
				"cannot be told from sysfs",
				cur, dev->driver, c.n);
	dev_t rdev;
	if (pb_read_attr(PB_ROOT_SYS, buf, sizeof(buf), HWRNG_CLASS_DIR "/dev") < 0 ||
	    parse_devnum(buf, &rdev) < 0)
		return add_note(d, "/dev/hwrng not attributed: the hw_random device has no "
				   "device number");
	char devname[64] = "hwrng";
	_cleanup_free_ char *uevent = NULL;
	if (pb_read_file(PB_ROOT_SYS, &uevent, NULL, HWRNG_CLASS_DIR "/uevent") == 0) {
		const char *p = strstr(uevent, "DEVNAME=");
		if (p)
			snprintf(devname, sizeof(devname), "%.*s", (int)strcspn(p + 8, "\n"),
				 p + 8);
	}
	struct pb_placement_handle h = {
	    .kind = PB_HANDLE_CHAR,
	    .rdev = rdev,
	    .owner = strdup(label),
	};
	if (asprintf(&h.name, PB_DEVNODE_PREFIX "%s", devname) < 0)
		h.name = NULL;
	if (asprintf(&h.via,
		     "hwrng: the hw_random core's node reads the current rng; rng_current '%s' "
		     "is registered by driver %s, bound to %s only",
		     cur, dev->driver, label) < 0)
		h.via = NULL;
	if (h.name)
		node_inode(&h);
	return add_handle(d, &h);
}

static int collect_handles(const struct pb_inventory *inv, struct pb_placement_device *d)
{
	const struct pb_device **sub;
	size_t n;
	int r = pb_inventory_subtree(inv, d->dev, &sub, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = add_devnode(d, sub[i]);
		if (r >= 0)
			r = add_resources(d, sub[i]);
		if (r >= 0)
			r = add_hwrng(d, inv, sub[i]);
		if (r >= 0)
			r = add_vfio_group(d, sub[i]);
	}
	free(sub);
	return r;
}

/* ---- the scan of the processes ---- */

static int add_hold(struct pb_placement_consumer *c, const struct pb_placement_hold *h)
{
	struct pb_placement_hold *v = realloc(c->holds, (c->n_holds + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->holds = v;
	c->holds[c->n_holds++] = *h;
	return 0;
}

static bool gone(int r)
{
	return r == -ENOENT || r == -ESRCH;
}

static bool denied(int r)
{
	return r == -EACCES || r == -EPERM;
}

/* What process pid holds of each device, into cs[device] (zeroed by the caller). */
static int scan_fds(struct pb_placement_report *rep, pid_t pid, struct pb_placement_consumer *cs)
{
	DIR *dir;
	int r = pb_opendir(PB_ROOT_PROC, &dir, "%d/fd", (int)pid);
	if (r < 0)
		return r;
	struct dirent *de;
	while (r >= 0 && (de = readdir(dir))) {
		struct stat st;
		long fd;
		if (de->d_name[0] == '.' || pb_parse_long(de->d_name, 10, 0, INT32_MAX, &fd) < 0)
			continue;
		/* The link followed: the open file itself (closed meanwhile: skipped). */
		if (pb_stat(PB_ROOT_PROC, &st, 0, "%d/fd/%ld", (int)pid, fd) < 0)
			continue;
		for (size_t i = 0; r >= 0 && i < rep->n_devices; i++) {
			const struct pb_placement_device *d = &rep->devices[i];
			for (size_t k = 0; r >= 0 && k < d->n_handles; k++) {
				const struct pb_placement_handle *h = &d->handles[k];
				bool hit = h->kind == PB_HANDLE_FILE
					       ? S_ISREG(st.st_mode) && st.st_dev == h->st_dev &&
						     st.st_ino == h->inode
					   : h->kind == PB_HANDLE_BLOCK
					       ? S_ISBLK(st.st_mode) && st.st_rdev == h->rdev
					       : S_ISCHR(st.st_mode) && st.st_rdev == h->rdev;
				if (hit)
					r = add_hold(&cs[i], &(struct pb_placement_hold){
								 .handle = k, .fd = (int)fd});
			}
		}
	}
	closedir(dir);
	return r;
}

static int scan_maps(struct pb_placement_report *rep, pid_t pid, struct pb_placement_consumer *cs)
{
	_cleanup_free_ char *maps = NULL;
	int r = pb_read_file(PB_ROOT_PROC, &maps, NULL, "%d/maps", (int)pid);
	if (r < 0)
		return r;
	for (char *line = maps; r >= 0 && line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		struct pb_maps_entry m;
		if (pb_maps_parse_line(line, &m) == 0 && m.inode) {
			dev_t dev = makedev(m.dev_major, m.dev_minor);
			for (size_t i = 0; r >= 0 && i < rep->n_devices; i++) {
				const struct pb_placement_device *d = &rep->devices[i];
				for (size_t k = 0; r >= 0 && k < d->n_handles; k++) {
					const struct pb_placement_handle *h = &d->handles[k];
					if (h->has_inode && h->st_dev == dev && h->inode == m.inode)
						r = add_hold(&cs[i], &(struct pb_placement_hold){
									 .handle = k,
									 .fd = -1,
									 .map_start = m.start,
									 .map_end = m.end});
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return r;
}

static bool device_mapping(const struct pb_placement_consumer *c, uint64_t start)
{
	for (size_t i = 0; i < c->n_holds; i++)
		if (c->holds[i].fd < 0 && c->holds[i].map_start == start)
			return true;
	return false;
}

/* Adds policy to the comma-separated list buf unless it is there (a full list stays as it is). */
static void policy_add(char *buf, size_t size, const char *policy)
{
	size_t n = strlen(policy);
	for (const char *p = buf; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && !memcmp(p, policy, n))
			return;
		p += len + (p[len] == ',');
	}
	size_t len = strlen(buf);
	if (!n || len + n + 2 > size)
		return;
	snprintf(buf + len, size - len, "%s%s", len ? "," : "", policy);
}

/* The pages of the process, all of them and those of each consumer's device mappings. */
static int read_pages(const struct pb_placement_report *rep, pid_t pid,
		      struct pb_placement_consumer *cs)
{
	_cleanup_free_ char *text = NULL;
	int r = pb_read_file(PB_ROOT_PROC, &text, NULL, "%d/numa_maps", (int)pid);
	if (r < 0)
		return r;
	struct pb_node_bytes total = {0};
	char policies[128] = "";
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		struct pb_numa_maps_entry e;
		if (pb_numa_maps_parse_line(line, rep->page_bytes, &e) == 0) {
			pb_node_bytes_add(&total, &e.by_node);
			policy_add(policies, sizeof(policies), e.policy);
			for (size_t i = 0; i < rep->n_devices; i++)
				if (cs[i].n_holds && device_mapping(&cs[i], e.start))
					pb_node_bytes_add(&cs[i].device, &e.by_node);
		}
		line = nl ? nl + 1 : NULL;
	}
	for (size_t i = 0; i < rep->n_devices; i++) {
		cs[i].total = total;
		memcpy(cs[i].policies, policies, sizeof(policies));
	}
	return 0;
}

static int add_consumer(struct pb_placement_device *d, struct pb_placement_consumer *c)
{
	struct pb_placement_consumer *v = realloc(d->consumers, (d->n_consumers + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->consumers = v;
	d->consumers[d->n_consumers++] = *c;
	memset(c, 0, sizeof(*c));
	return 0;
}

/* The process's name, its allowed CPUs and nodes, its pages; hands each device its consumer.
 * -ESRCH when it has gone meanwhile. */
static int describe(struct pb_placement_report *rep, const struct pb_inventory *inv, pid_t pid,
		    struct pb_placement_consumer *cs)
{
	char comm[64] = "";
	_cleanup_free_ char *status = NULL;
	int r = pb_read_file(PB_ROOT_PROC, &status, NULL, "%d/status", (int)pid);
	if (r < 0)
		return gone(r) ? -ESRCH : r;
	pb_read_attr(PB_ROOT_PROC, comm, sizeof(comm), "%d/comm", (int)pid);
	int pages_err = read_pages(rep, pid, cs);
	if (gone(pages_err) && pb_access(PB_ROOT_PROC, F_OK, "%d", (int)pid) < 0)
		return -ESRCH;

	const struct pb_numa_topology *t = &inv->topology;
	const int *node_cpus[PB_PLACEMENT_MAX_NODES];
	size_t node_n[PB_PLACEMENT_MAX_NODES];
	int node_ids[PB_PLACEMENT_MAX_NODES];
	size_t n_nodes = t->n_nodes < PB_PLACEMENT_MAX_NODES ? t->n_nodes : PB_PLACEMENT_MAX_NODES;
	for (size_t i = 0; i < n_nodes; i++) {
		node_cpus[i] = t->nodes[i].cpus;
		node_n[i] = t->nodes[i].n_cpus;
		node_ids[i] = t->nodes[i].node;
	}
	for (size_t i = 0; i < rep->n_devices; i++) {
		struct pb_placement_consumer *c = &cs[i];
		if (!c->n_holds)
			continue;
		c->pid = pid;
		snprintf(c->comm, sizeof(c->comm), "%s", comm);
		c->pages_err = pages_err;
		if (pages_err)
			memset(&c->total, 0, sizeof(c->total));
		r = pb_proc_status_parse(status, &c->allowed);
		if (r == 0)
			r = pb_cpus_to_nodes(c->allowed.cpus, c->allowed.n_cpus, node_cpus, node_n,
					     node_ids, n_nodes, &c->cpu_nodes, &c->n_cpu_nodes);
		if (r == -ENOMEM)
			return r;
		r = add_consumer(&rep->devices[i], c);
		if (r < 0)
			return r;
	}
	return 0;
}

static int scan_pid(struct pb_placement_report *rep, const struct pb_inventory *inv, pid_t pid)
{
	struct pb_placement_consumer *cs = calloc(rep->n_devices, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	int r = scan_fds(rep, pid, cs);
	if (r >= 0 || denied(r)) {
		int m = scan_maps(rep, pid, cs);
		r = r < 0 ? r : m;
	}
	bool held = false;
	for (size_t i = 0; i < rep->n_devices; i++)
		held |= cs[i].n_holds > 0;
	if (r == -ENOMEM)
		goto out;
	rep->pids_scanned++;
	if (gone(r)) {
		rep->pids_gone++;
		r = 0;
		goto out;
	}
	if (denied(r))
		rep->pids_denied++;
	r = 0;
	if (held) {
		r = describe(rep, inv, pid, cs);
		if (r == -ESRCH) {
			rep->pids_gone++;
			r = 0;
		}
	}
out:
	for (size_t i = 0; i < rep->n_devices; i++)
		consumer_clear(&cs[i]);
	free(cs);
	return r;
}

static int cmp_consumer(const void *a, const void *b)
{
	pid_t x = ((const struct pb_placement_consumer *)a)->pid;
	pid_t y = ((const struct pb_placement_consumer *)b)->pid;
	return (x > y) - (x < y);
}

int pb_placement_scan(const struct pb_inventory *inv, struct pb_device *const *devs, size_t n_devs,
		      struct pb_placement_report **ret)
{
	struct pb_placement_report *rep = calloc(1, sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	long ps = sysconf(_SC_PAGESIZE);
	rep->page_bytes = ps > 0 ? (uint64_t)ps : 4096;
	rep->root = geteuid() == 0;
	rep->devices = calloc(n_devs ? n_devs : 1, sizeof(*rep->devices));
	int r = rep->devices ? 0 : -ENOMEM;
	for (size_t i = 0; r >= 0 && i < n_devs; i++) {
		struct pb_placement_device *d = &rep->devices[rep->n_devices++];
		d->dev = devs[i];
		d->node = devs[i]->numa_node;
		r = collect_handles(inv, d);
	}
	DIR *dir = NULL;
	if (r >= 0)
		r = pb_opendir(PB_ROOT_PROC, &dir, ".");
	struct dirent *de;
	while (r >= 0 && (de = readdir(dir))) {
		long pid;
		if (pb_parse_long(de->d_name, 10, 1, INT32_MAX, &pid) == 0)
			r = scan_pid(rep, inv, (pid_t)pid);
	}
	if (dir)
		closedir(dir);
	if (r < 0) {
		pb_placement_report_free(rep);
		return r;
	}
	for (size_t i = 0; i < rep->n_devices; i++) {
		struct pb_placement_device *d = &rep->devices[i];
		if (d->n_consumers > 1)
			qsort(d->consumers, d->n_consumers, sizeof(*d->consumers), cmp_consumer);
		pb_placement_device_summarise(d);
	}
	*ret = rep;
	return 0;
}

int pb_placement_sample(const char *const *selectors, size_t n, struct pb_inventory **ret_inv,
			struct pb_placement_report **ret, char *err, size_t errlen)
{
	struct pb_inventory *inv = NULL;
	struct pb_device **devs = NULL;
	size_t n_devs = 0;
	err[0] = '\0';
	char why[512] = "";
	int r = pb_inventory_load(&inv, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "cannot list devices: %s", why[0] ? why : strerror(-r));
		return r == -EINVAL || r == -ENOENT ? -EIO : r;
	}
	r = pb_inventory_resolve(inv, selectors, n, &devs, &n_devs, err, errlen);
	if (r < 0 && r != -EINVAL && r != -ENOENT)
		snprintf(err, errlen, "selecting devices: %s", strerror(-r));
	if (r >= 0) {
		r = pb_placement_scan(inv, devs, n_devs, ret);
		if (r < 0)
			snprintf(err, errlen, "cannot scan the processes: %s", strerror(-r));
		if (r == -EINVAL || r == -ENOENT)
			r = -EIO; /* those two name a selector's fault */
	}
	free(devs);
	if (r < 0) {
		pb_inventory_free(inv);
		return r;
	}
	*ret_inv = inv;
	return 0;
}

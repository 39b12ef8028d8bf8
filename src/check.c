// SPDX-License-Identifier: GPL-2.0-or-later
/* probebench check: what this machine allows. Read-only. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <numa.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <json-c/json.h>
#include <libudev.h>

#include "probebench/check.h"
#include "probebench/paths.h"
#include "probebench/util.h"
#include "probebench/version.h"

const char *pb_check_status_name(enum pb_check_status s)
{
	switch (s) {
	case PB_CHECK_OK:
		return "ok";
	case PB_CHECK_LIMITED:
		return "limited";
	case PB_CHECK_MISSING:
		break;
	}
	return "missing";
}

static struct pb_check *add(struct pb_check_report *r, const char *name, const char *method,
			    const char *lost)
{
	struct pb_check *c = &r->items[r->n++];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->method = method;
	c->lost = lost;
	return c;
}

static void set(struct pb_check *c, enum pb_check_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set(struct pb_check *c, enum pb_check_status s, const char *fmt, ...)
{
	va_list ap;
	c->status = s;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

void pb_check_classify_paranoid(struct pb_check *c, int err, long v, bool privileged)
{
	if (err == -ENOENT) {
		set(c, PB_CHECK_MISSING, "no perf_event_paranoid: the kernel has no perf events");
		return;
	}
	if (err < 0) {
		set(c, PB_CHECK_MISSING, "cannot read perf_event_paranoid: %s", strerror(-err));
		return;
	}
	if (privileged)
		set(c, PB_CHECK_OK, "%ld; running as root, which is not bound by it", v);
	else if (v <= -1)
		set(c, PB_CHECK_OK, "%ld: every event is open to every user", v);
	else if (v <= 1)
		set(c, PB_CHECK_LIMITED,
		    "%ld and not root: tracepoints and system-wide events need CAP_PERFMON or -1",
		    v);
	else
		set(c, PB_CHECK_MISSING, "%ld and not root: only user-space counters of own tasks",
		    v);
}

void pb_check_classify_numa(struct pb_check *c, int available, int n_nodes)
{
	if (available < 0)
		set(c, PB_CHECK_MISSING, "libnuma: NUMA is not available on this system");
	else if (n_nodes < 2)
		set(c, PB_CHECK_LIMITED,
		    "%d node: every device and every writer share it; nothing can be remote",
		    n_nodes);
	else
		set(c, PB_CHECK_OK, "%d nodes", n_nodes);
}

bool pb_check_find_tracefs(const char *mounts, char *buf, size_t size)
{
	return pb_mounts_find(mounts, "tracefs", buf, size);
}

static void check_root(struct pb_check_report *r)
{
	struct pb_check *c = add(r, "root", "geteuid()",
				 "every unbind/bind write (no run at all), system-wide perf "
				 "events and tracefs");
	uid_t u = geteuid();
	if (u == 0)
		set(c, PB_CHECK_OK, "running as root (euid 0)");
	else
		set(c, PB_CHECK_MISSING, "running as uid %u", (unsigned)u);
}

static void check_paranoid(struct pb_check_report *r)
{
	struct pb_check *c =
	    add(r, "perf_event_paranoid", PB_PATH_PERF_PARANOID " and euid",
		"per-probe events (tracepoints, kprobes, counters of the probing kworker); only "
		"the writer's own counters remain");
	long v = 0;
	int err = pb_read_attr_long(PB_ROOT_PROC, &v, "sys/kernel/perf_event_paranoid");
	pb_check_classify_paranoid(c, err, v, geteuid() == 0);
}

/* Fills tracefs_dir when tracefs is mounted. */
static void check_tracefs(struct pb_check_report *r, char *tracefs_dir, size_t size)
{
	struct pb_check *c = add(r, "tracefs", PB_PATH_MOUNTS ", " PB_PATH_FILESYSTEMS,
				 "tracepoint ids and formats: probe CPU/task attribution through "
				 "workqueue and sched events, page placement through kmem events");
	char dir[PATH_MAX];
	tracefs_dir[0] = '\0';
	_cleanup_free_ char *mounts = NULL, *fs = NULL;
	(void)pb_read_file(PB_ROOT_PROC, &mounts, NULL, "mounts");
	if (mounts && pb_check_find_tracefs(mounts, dir, sizeof(dir))) {
		set(c, PB_CHECK_OK, "mounted at %s", dir);
		snprintf(tracefs_dir, size, "%s", dir);
		return;
	}
	(void)pb_read_file(PB_ROOT_PROC, &fs, NULL, "filesystems");
	bool known = fs && strstr(fs, "\ttracefs\n");
	bool mountpoint = pb_access(PB_ROOT_SYS, F_OK, "kernel/tracing") == 0;
	if (known && mountpoint && geteuid() == 0)
		set(c, PB_CHECK_LIMITED,
		    "not mounted; mountable (mount -t tracefs nodev " PB_PATH_TRACING "); until "
		    "then tracepoints are found through " PB_PATH_KALLSYMS);
	else if (known && mountpoint)
		set(c, PB_CHECK_MISSING, "not mounted; only root can mount it");
	else
		set(c, PB_CHECK_MISSING, "the kernel has no tracefs");
}

static void check_kprobe(struct pb_check_report *r, const char *tracefs_dir)
{
	struct pb_check *c = add(
	    r, "kprobe_events", "TRACEFS/kprobe_events, " PB_PATH_KPROBE_PMU,
	    "the kernel's own timing of really_probe, the task and CPU that ran it and the device "
	    "it probed, whichever task that was; falls back to tracepoints and initcall_debug");
	char path[PATH_MAX + 32];
	if (tracefs_dir[0]) {
		snprintf(path, sizeof(path), "%s/kprobe_events", tracefs_dir);
		if (pb_access(PB_ROOT_TRACEFS, F_OK, "kprobe_events") < 0)
			set(c, PB_CHECK_MISSING, "no %s (kernel without CONFIG_KPROBE_EVENTS)",
			    path);
		else if (pb_access(PB_ROOT_TRACEFS, W_OK, "kprobe_events") < 0)
			set(c, PB_CHECK_MISSING, "%s is not writable (only root adds kprobes)",
			    path);
		else
			set(c, PB_CHECK_OK, "%s", path);
		return;
	}
	if (pb_access(PB_ROOT_SYS, F_OK, "bus/event_source/devices/kprobe/type") == 0)
		set(c, PB_CHECK_LIMITED, "the kernel has kprobes, but tracefs is not mounted");
	else
		set(c, PB_CHECK_MISSING,
		    "no kprobes (kernel without CONFIG_KPROBES) and no tracefs");
}

static const struct {
	const char *group;
	const char *name;
	const char *lost;
	const char *events[4];
} tp_groups[] = {
    {"workqueue",
     "tracepoints_workqueue",
     "pairing the writer's queued work with the kworker that ran the probe (PCI's "
     "work_on_cpu hop)",
     {"workqueue_queue_work", "workqueue_execute_start", "workqueue_execute_end", NULL}},
    {"sched",
     "tracepoints_sched",
     "which CPU and task ran the probe, and migrations during it",
     {"sched_switch", "sched_migrate_task", NULL}},
    {"kmem",
     "tracepoints_kmem",
     "pages allocated during a probe by node (memory placement)",
     {"mm_page_alloc", "kmalloc", NULL}},
};

static bool in_kallsyms(const char *kallsyms, const char *event)
{
	char a[128], b[128];
	snprintf(a, sizeof(a), " __traceiter_%s\n", event);
	snprintf(b, sizeof(b), " __tracepoint_%s\n", event);
	return strstr(kallsyms, a) || strstr(kallsyms, b);
}

static void check_tracepoints(struct pb_check_report *r, const char *tracefs_dir)
{
	_cleanup_free_ char *kallsyms = NULL;
	if (!tracefs_dir[0])
		(void)pb_read_file(PB_ROOT_PROC, &kallsyms, NULL, "kallsyms");
	for (size_t g = 0; g < PB_ARRAY_SIZE(tp_groups); g++) {
		struct pb_check *c = add(r, tp_groups[g].name,
					 tracefs_dir[0] ? "tracefs events/GROUP/NAME/id"
							: PB_PATH_KALLSYMS
					     " (__traceiter_NAME or __tracepoint_NAME)",
					 tp_groups[g].lost);
		if (!tracefs_dir[0] && !kallsyms) {
			set(c, PB_CHECK_MISSING,
			    "cannot tell: tracefs is not mounted and " PB_PATH_KALLSYMS
			    " is unreadable");
			continue;
		}
		char present[256] = "", missing[256] = "";
		size_t np = 0, nm = 0;
		for (size_t i = 0; tp_groups[g].events[i]; i++) {
			const char *ev = tp_groups[g].events[i];
			bool ok;
			if (tracefs_dir[0])
				ok = pb_access(PB_ROOT_TRACEFS, R_OK, "events/%s/%s/id",
					       tp_groups[g].group, ev) == 0;
			else {
				ok = in_kallsyms(kallsyms, ev);
			}
			char *dst = ok ? present : missing;
			size_t *n = ok ? &np : &nm;
			size_t l = strlen(dst);
			snprintf(dst + l, 256 - l, "%s%s", *n ? " " : "", ev);
			(*n)++;
		}
		if (nm == 0)
			set(c, PB_CHECK_OK, "%s: %s%s", tp_groups[g].group, present,
			    tracefs_dir[0] ? "" : " (in the kernel; ids need tracefs mounted)");
		else if (np == 0)
			set(c, PB_CHECK_MISSING, "%s: none of %s", tp_groups[g].group, missing);
		else
			set(c, PB_CHECK_LIMITED, "%s: present %s; missing %s", tp_groups[g].group,
			    present, missing);
	}
}

static void check_numa(struct pb_check_report *r)
{
	struct pb_check *c =
	    add(r, "numa_nodes", "libnuma numa_available(), numa_num_configured_nodes()",
		"comparing probes on the device's node with probes from elsewhere (the NUMA test "
		"VM has two nodes)");
	int avail = numa_available();
	pb_check_classify_numa(c, avail, avail < 0 ? 0 : numa_num_configured_nodes());
}

static void check_udev(struct pb_check_report *r)
{
	struct pb_check *c =
	    add(r, "udev",
		"libudev udev_new() and a kernel uevent monitor; " PB_PATH_UDEV_CONTROL
		" for the daemon",
		"device enumeration below PCI functions and the bind uevents; "
		"without the daemon: udev's processed events and device links");
	struct udev *u = udev_new();
	if (!u) {
		set(c, PB_CHECK_MISSING, "libudev: udev_new() failed");
		return;
	}
	struct udev_monitor *m = udev_monitor_new_from_netlink(u, "kernel");
	bool mon = m && udev_monitor_enable_receiving(m) >= 0;
	udev_monitor_unref(m);
	udev_unref(u);
	bool daemon = pb_udevd_running();
	if (!mon)
		set(c, PB_CHECK_MISSING,
		    "libudev works but the kernel uevent socket cannot be "
		    "opened");
	else if (!daemon)
		set(c, PB_CHECK_LIMITED,
		    "libudev reads sysfs and kernel uevents arrive; no udev daemon "
		    "(" PB_PATH_UDEV_CONTROL
		    " absent): no udev-processed events, links or properties");
	else
		set(c, PB_CHECK_OK, "libudev, kernel uevents and the udev daemon");
}

/* The files bus/BUS/drivers/DRV/bind (names not starting with a dot, as glob's "*" matches),
 * and how many of them this user may write. */
static void count_bind_files(size_t *ret_n, size_t *ret_writable)
{
	DIR *buses, *drvs;
	struct dirent *b, *d;
	if (pb_opendir(PB_ROOT_SYS, &buses, "bus") < 0)
		return;
	while ((b = readdir(buses))) {
		if (b->d_name[0] == '.' ||
		    pb_opendir(PB_ROOT_SYS, &drvs, "bus/%s/drivers", b->d_name) < 0)
			continue;
		while ((d = readdir(drvs))) {
			if (d->d_name[0] == '.' ||
			    pb_access(PB_ROOT_SYS, F_OK, "bus/%s/drivers/%s/bind", b->d_name,
				      d->d_name) < 0)
				continue;
			(*ret_n)++;
			if (pb_access(PB_ROOT_SYS, W_OK, "bus/%s/drivers/%s/bind", b->d_name,
				      d->d_name) == 0)
				(*ret_writable)++;
		}
		closedir(drvs);
	}
	closedir(buses);
}

static void check_bind(struct pb_check_report *r)
{
	struct pb_check *c = add(r, "bind_writes",
				 "statvfs(sysfs), glob bus/*/drivers/*/bind, "
				 "access(W_OK); nothing is written",
				 "the run command: no unbind/bind cycle at all");
	struct statvfs sv;
	int root = pb_root_fd(PB_ROOT_SYS);
	if (root >= 0 && fstatvfs(root, &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
		set(c, PB_CHECK_MISSING, "sysfs is mounted read-only (a container?)");
		return;
	}
	size_t n = 0, writable = 0;
	count_bind_files(&n, &writable);
	if (n == 0) {
		set(c, PB_CHECK_MISSING, "no bind files under %s/bus/*/drivers", pb_sysfs_root());
		return;
	}
	if (writable == n)
		set(c, PB_CHECK_OK, "%zu bind files, all writable (not tried: a write would bind)",
		    n);
	else if (writable)
		set(c, PB_CHECK_LIMITED, "%zu of %zu bind files writable", writable, n);
	else
		set(c, PB_CHECK_MISSING, "none of %zu bind files is writable by this user", n);
}

static void check_initcall_debug(struct pb_check_report *r)
{
	struct pb_check *c =
	    add(r, "initcall_debug", PB_PATH_INITCALL_DEBUG,
		"the kernel's own probe duration (\"probe of X returned R after N usecs\") where "
		"kprobes are missing");
	char v[16];
	const char *rel = "module/kernel/parameters/initcall_debug";
	int err = pb_read_attr(PB_ROOT_SYS, v, sizeof(v), "%s", rel);
	if (err >= 0)
		set(c, PB_CHECK_OK, "parameter present (now %s)%s", v,
		    pb_access(PB_ROOT_SYS, W_OK, "%s", rel) == 0 ? ", writable"
								 : ", not writable by this user");
	else
		set(c, PB_CHECK_MISSING, "no initcall_debug parameter: %s", strerror(-err));
}

static void check_memory_blocks(struct pb_check_report *r)
{
	struct pb_check *c = add(r, "memory_blocks", PB_PATH_MEMORY_BLOCK,
				 "the exact pfn -> node map; " PB_PATH_ZONEINFO
				 " spans (coarser, holes included) are "
				 "used instead");
	char buf[64];
	long v = 0;
	int err =
	    pb_read_attr(PB_ROOT_SYS, buf, sizeof(buf), "devices/system/memory/block_size_bytes");
	if (err >= 0)
		err = pb_parse_long(buf, 16, 1, LONG_MAX, &v);
	if (err == 0)
		set(c, PB_CHECK_OK, "memory blocks of %ld MiB map pfns to nodes", v >> 20);
	else
		set(c, PB_CHECK_LIMITED,
		    "no memory blocks (%s): kernel without "
		    "CONFIG_MEMORY_HOTPLUG?",
		    strerror(-err));
}

void pb_check_run(struct pb_check_report *r)
{
	char tracefs[PATH_MAX];
	memset(r, 0, sizeof(*r));
	check_root(r);
	check_paranoid(r);
	check_tracefs(r, tracefs, sizeof(tracefs));
	check_kprobe(r, tracefs);
	check_tracepoints(r, tracefs);
	check_numa(r);
	check_udev(r);
	check_bind(r);
	check_initcall_debug(r);
	check_memory_blocks(r);
}

struct json_object *pb_check_report_to_json(const struct pb_check_report *r)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	struct utsname u;
	bool have_u = uname(&u) == 0;
	json_object_object_add(o, "schema", json_object_new_string(PB_CHECK_SCHEMA));
	json_object_object_add(o, "version", json_object_new_int(PB_CHECK_VERSION));
	json_object_object_add(o, "tool_version", json_object_new_string(PB_VERSION));
	json_object_object_add(o, "host", have_u ? json_object_new_string(u.nodename) : NULL);
	json_object_object_add(o, "kernel", have_u ? json_object_new_string(u.release) : NULL);
	struct json_object *items = json_object_new_array();
	int counts[3] = {0};
	for (size_t i = 0; i < r->n; i++) {
		const struct pb_check *c = &r->items[i];
		struct json_object *it = json_object_new_object();
		json_object_object_add(it, "name", json_object_new_string(c->name));
		json_object_object_add(it, "status",
				       json_object_new_string(pb_check_status_name(c->status)));
		json_object_object_add(it, "detail", json_object_new_string(c->detail));
		json_object_object_add(it, "method", json_object_new_string(c->method));
		json_object_object_add(it, "lost_when_missing", json_object_new_string(c->lost));
		json_object_array_add(items, it);
		counts[c->status]++;
	}
	json_object_object_add(o, "checks", items);
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "ok", json_object_new_int(counts[PB_CHECK_OK]));
	json_object_object_add(s, "limited", json_object_new_int(counts[PB_CHECK_LIMITED]));
	json_object_object_add(s, "missing", json_object_new_int(counts[PB_CHECK_MISSING]));
	json_object_object_add(o, "summary", s);
	return o;
}

void pb_check_report_print(FILE *f, const struct pb_check_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct pb_check *c = &r->items[i];
		fprintf(f, "%-7s %s: %s", pb_check_status_name(c->status), c->name, c->detail);
		if (c->status != PB_CHECK_OK)
			fprintf(f, " — lost: %s", c->lost);
		else
			fprintf(f, " — lost when missing: %s", c->lost);
		fprintf(f, "\n        (method: %s)\n", c->method);
	}
}

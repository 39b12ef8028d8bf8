// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The observer: picks a method, arms events around one bind write, turns what it saw into
 * per-iteration facts. The decisions are in measure_assemble.c (pure); this file does the I/O.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <numa.h>

#include "probebench/inventory.h"
#include "probebench/measure.h"
#include "probebench/observer.h"
#include "probebench/paths.h"
#include "probebench/record.h"
#include "probebench/util.h"

static const char *const method_names[_PB_METHOD_MAX] = {
    [PB_METHOD_AUTO] = "auto",
    [PB_METHOD_KPROBE] = "kprobe",
    [PB_METHOD_TRACEPOINT] = "tracepoint",
    [PB_METHOD_KMSG] = "kmsg",
};

const char *pb_measure_method_name(enum pb_measure_method m)
{
	return (unsigned)m < _PB_METHOD_MAX ? method_names[m] : "unknown";
}

int pb_measure_method_from_name(const char *s, enum pb_measure_method *ret)
{
	for (int i = 0; i < _PB_METHOD_MAX; i++)
		if (s && !strcmp(s, method_names[i])) {
			*ret = (enum pb_measure_method)i;
			return 0;
		}
	return -EINVAL;
}

int pb_measure_choose(const struct pb_measure_caps *c, enum pb_measure_method want,
		      const char *why[_PB_METHOD_MAX])
{
	for (int i = 0; i < _PB_METHOD_MAX; i++)
		why[i] = NULL;
	if (!c->kprobe_events)
		why[PB_METHOD_KPROBE] = "no writable kprobe_events in tracefs (kernel without "
					"CONFIG_KPROBE_EVENTS, tracefs not mounted, or not root)";
	if (!c->tracepoints)
		why[PB_METHOD_TRACEPOINT] = "trace events unusable (tracefs or perf_event_open)";
	else if (!c->printk_console)
		why[PB_METHOD_TRACEPOINT] = "no printk:console tracepoint";
	else if (!c->initcall_debug)
		why[PB_METHOD_TRACEPOINT] = "initcall_debug parameter not writable";
	if (!c->initcall_debug)
		why[PB_METHOD_KMSG] = "initcall_debug parameter not writable";
	else if (!c->dev_kmsg)
		why[PB_METHOD_KMSG] = PB_PATH_KMSG " not readable";
	if (want != PB_METHOD_AUTO)
		return why[want] ? -ENOTSUP : (int)want;
	for (int m = PB_METHOD_KPROBE; m < _PB_METHOD_MAX; m++)
		if (!why[m])
			return m;
	return -ENOTSUP;
}

/* A device of the target's subtree that sits on a bus, as the run's inventory had it. */
struct known_dev {
	char *name, *syspath, *bus;
};

struct pb_observer {
	struct pb_observer_opts opts;
	char syspath[PATH_MAX];
	char devpath[PATH_MAX]; /* below the sysfs root, for uevents */
	char target_name[128];
	enum pb_measure_method method;
	struct pb_perf *perf;
	bool ftrace;	   /* perf's buffer is ftrace instances (as pb_perf_open() chose) */
	bool slab_records; /* the slab allocations are counted from ftrace records */
	struct pb_counters *counters;
	struct pb_uevents *uevents;
	struct pb_measure_caps caps;
	/* Methods auto left, in order, and why the last one was left. */
	enum pb_measure_method fallback_from[_PB_METHOD_MAX];
	unsigned n_fallbacks;
	char fallback_why[320];
	/* The bus devices of the target's subtree, from the run's inventory (opts.subtree). */
	struct known_dev *known;
	size_t n_known;
	char **also; /* opts.also_syspaths, canonical */
	size_t n_also;
	/* Devices looked up by name in the current window: the assembly asks whether each probe's
	 * device belongs to the bind, describe_device() then wants its bus and path: one lookup
	 * (the subtree, else a sysfs walk) per name and window. Emptied when a window is decoded.
	 */
	struct {
		char name[64], bus[32], real[PATH_MAX];
		int r;
	} found[8];
	unsigned n_found;
	struct pb_pfnmap pfnmap;
	int *cpu_node;
	int n_cpus;
	int kmsg_fd;
	bool initcall_held; /* counted in initcall_users */
	bool armed;
	bool stopped; /* pb_observer_stop() ran: events off, counters read into stop_counters */
	bool write_failed; /* no bind uevent will come for this window: do not wait for one */
	bool stop_counters_measured;
	struct pb_counter stop_counters[PB_MEASURE_N_COUNTERS];
	pid_t writer;
	char why[256];
	/* This target's watch on the process's kept-page watch (kw below; under its lock): its
	 * held blocks, their frees so far, its handle on the watch's current set of events. */
	bool kept_user;		    /* counted in kw.users */
	struct pb_kept_pages *kept; /* the watch in progress, NULL none */
	struct pb_page_block *kept_blocks;
	size_t n_kept_blocks;
	uint64_t kept_start_ns;
	uint64_t kept_before; /* pages of the blocks freed inside the window */
	bool kept_lost;	      /* a free record was lost on a set this watch was on */
	struct pb_perf *kept_h;
	struct pb_observer *kept_next;	 /* kw.watching */
	struct pb_slab_snap slab_before; /* SLUB's counts as armed (n 0: none) */
	bool slab_unavailable;		 /* no /sys/kernel/slab statistics: not tried again */
};

#define INITCALL_PARAM "module/kernel/parameters/initcall_debug" /* below sysfs */
#define INITCALL_NOTE  "initcall_debug.saved"			 /* in the state directory */

static bool initcall_writable(void)
{
	return pb_access(PB_ROOT_SYS, W_OK, INITCALL_PARAM) == 0;
}

/*
 * initcall_debug is one global switch: observers of parallel binds in this process share it.
 * The first to arm saves and sets it, the last to disarm restores it.
 */
static pthread_mutex_t initcall_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned initcall_users;
static char initcall_saved[8];
static bool initcall_changed;

/*
 * A changed initcall_debug is noted in the state directory (the value to put back) until it is
 * restored, so that a run killed in between is put right by `restore` or the next run
 * (pb_observer_restore_kernel_settings). Best effort: without a state directory, nothing noted.
 */
static void initcall_note(const char *saved)
{
	if (saved)
		pb_write_atomic(PB_ROOT_STATE, INITCALL_NOTE, saved, strlen(saved), 0600, 0);
	else
		pb_unlink(PB_ROOT_STATE, INITCALL_NOTE);
}

int pb_observer_restore_kernel_settings(void)
{
	char v[8];
	int r = pb_read_attr(PB_ROOT_STATE, v, sizeof(v), INITCALL_NOTE);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (v[0] != 'Y' && v[0] != 'N')
		return -EINVAL;
	pthread_mutex_lock(&initcall_lock);
	if (initcall_users == 0) { /* not while this process's observers hold it */
		r = pb_write_attr(PB_ROOT_SYS, v[0] == 'Y' ? "Y" : "N", INITCALL_PARAM);
		if (r == 0)
			pb_unlink(PB_ROOT_STATE, INITCALL_NOTE);
	}
	pthread_mutex_unlock(&initcall_lock);
	return r < 0 ? r : 1;
}

static int initcall_set(struct pb_observer *o)
{
	int r = 0;
	pthread_mutex_lock(&initcall_lock);
	if (initcall_users == 0) {
		r = pb_read_attr(PB_ROOT_SYS, initcall_saved, sizeof(initcall_saved),
				 INITCALL_PARAM);
		if (r >= 0 && initcall_saved[0] != 'Y') {
			initcall_note(initcall_saved);
			r = pb_write_attr(PB_ROOT_SYS, "Y", INITCALL_PARAM);
			initcall_changed = r == 0;
			if (!initcall_changed)
				initcall_note(NULL);
		}
	}
	if (r >= 0) {
		initcall_users++;
		o->initcall_held = true;
		r = 0;
	}
	pthread_mutex_unlock(&initcall_lock);
	return r;
}

static void initcall_restore(struct pb_observer *o)
{
	if (!o->initcall_held)
		return;
	o->initcall_held = false;
	pthread_mutex_lock(&initcall_lock);
	if (--initcall_users == 0 && initcall_changed &&
	    pb_write_attr(PB_ROOT_SYS, initcall_saved, INITCALL_PARAM) == 0) {
		initcall_changed = false;
		initcall_note(NULL);
	}
	pthread_mutex_unlock(&initcall_lock);
}

static void probe_caps(struct pb_measure_caps *c)
{
	*c = (struct pb_measure_caps){0};
	c->kprobe_events = pb_kprobe_events_usable() == 0;
	c->tracepoints = pb_perf_tracepoint_usable("sched", "sched_switch") == 0 &&
			 pb_perf_tracepoint_usable("workqueue", "workqueue_queue_work") == 0;
	c->printk_console = pb_perf_tracepoint_usable("printk", "console") == 0;
	c->initcall_debug = initcall_writable();
	c->dev_kmsg = pb_access(PB_ROOT_DEV, R_OK, "kmsg") == 0;
}

static void kept_leave(struct pb_observer *o);

void pb_observer_free(struct pb_observer *o)
{
	if (!o)
		return;
	initcall_restore(o);
	pb_observer_kept_end(o, PB_KEPT_RUN_END);
	kept_leave(o);
	pb_slab_snap_clear(&o->slab_before);
	pb_perf_free(o->perf);
	pb_counters_free(o->counters);
	pb_uevents_free(o->uevents);
	pb_pfnmap_clear(&o->pfnmap);
	for (size_t i = 0; i < o->n_known; i++) {
		free(o->known[i].name);
		free(o->known[i].syspath);
		free(o->known[i].bus);
	}
	free(o->known);
	for (size_t i = 0; i < o->n_also; i++)
		free(o->also[i]);
	free(o->also);
	free(o->cpu_node);
	if (o->kmsg_fd >= 0)
		close(o->kmsg_fd);
	free(o);
}

const char *pb_observer_method(const struct pb_observer *o)
{
	return pb_measure_method_name(o->method);
}

static void teardown_method(struct pb_observer *o)
{
	pb_perf_free(o->perf);
	o->perf = NULL;
	if (o->kmsg_fd >= 0)
		close(o->kmsg_fd);
	o->kmsg_fd = -1;
}

static int setup_method(struct pb_observer *o)
{
	int r;
	teardown_method(o);
	if (o->method == PB_METHOD_KPROBE || o->method == PB_METHOD_TRACEPOINT) {
		struct pb_perf_opts po = {.kprobes = o->method == PB_METHOD_KPROBE,
					  .console = o->caps.printk_console,
					  .memory = !o->opts.no_memory,
					  .ring_pages = o->opts.ring_pages,
					  .slab_samples = o->opts.slab_samples,
					  .buffer = o->opts.buffer,
					  .shared = true};
		r = pb_perf_open(&po, &o->perf, o->why, sizeof(o->why));
		if (r < 0)
			return r;
		struct pb_perf_stats st;
		pb_perf_stats(o->perf, &st);
		o->ftrace = st.ftrace;
		o->slab_records = st.ftrace && !st.slab_perf;
		if (!o->opts.no_memory && !o->pfnmap.r)
			pb_pfnmap_load(&o->pfnmap, sysconf(_SC_PAGESIZE)); /* "none" on failure */
	}
	if (o->method == PB_METHOD_KMSG) {
		char p[4096];
		o->kmsg_fd = pb_open_node(PB_ROOT_DEV, O_RDONLY, "kmsg");
		if (o->kmsg_fd < 0) {
			r = o->kmsg_fd;
			snprintf(p, sizeof(p), "%s/kmsg", pb_devfs_root());
			snprintf(o->why, sizeof(o->why), "cannot open %s: %s", p, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* The next usable method after the current one, best first; -ENOTSUP when none is left. */
static int next_method(const struct pb_observer *o)
{
	const char *why[_PB_METHOD_MAX];
	pb_measure_choose(&o->caps, PB_METHOD_AUTO, why);
	for (int m = o->method + 1; m < _PB_METHOD_MAX; m++)
		if (!why[m])
			return m;
	return -ENOTSUP;
}

int pb_observer_fall_back(struct pb_observer *o, const char *reason)
{
	if (o->armed)
		return -EBUSY;
	if (o->opts.method != PB_METHOD_AUTO)
		return -EPERM;
	enum pb_measure_method from = o->method;
	for (int next; (next = next_method(o)) >= 0;) {
		o->method = (enum pb_measure_method)next;
		o->why[0] = 0;
		if (setup_method(o) == 0) {
			o->fallback_from[o->n_fallbacks++] = from;
			snprintf(o->fallback_why, sizeof(o->fallback_why), "%s: %s",
				 pb_measure_method_name(from), reason);
			return next;
		}
	}
	o->method = from;
	setup_method(o);
	return -ENOTSUP;
}

/*
 * Keeps the subtree's devices that sit on a bus (those find_device() can find: a probe's device
 * is always one), with their bus. opts.subtree is not kept.
 */
static int keep_subtree(struct pb_observer *o, const struct pb_observer_opts *opts)
{
	o->opts.subtree = NULL;
	o->opts.n_subtree = 0;
	if (!opts->n_subtree)
		return 0;
	o->known = calloc(opts->n_subtree, sizeof(*o->known));
	if (!o->known)
		return -ENOMEM;
	for (size_t i = 0; i < opts->n_subtree; i++) {
		const struct pb_device *d = opts->subtree[i];
		char bus[PATH_MAX];
		if (!d->sysname || !d->subsystem ||
		    pb_sys_path(bus, sizeof(bus), "bus/%s", d->subsystem) < 0 ||
		    access(bus, F_OK) < 0)
			continue;
		struct known_dev *k = &o->known[o->n_known++];
		k->name = strdup(d->sysname);
		k->syspath = strdup(d->syspath);
		k->bus = strdup(d->subsystem);
		if (!k->name || !k->syspath || !k->bus)
			return -ENOMEM;
	}
	return 0;
}

int pb_observer_open(const struct pb_observer_opts *opts, struct pb_observer **ret)
{
	if (!opts || !opts->device_syspath)
		return -EINVAL;
	struct pb_observer *o = calloc(1, sizeof(*o));
	int r;
	if (!o)
		return -ENOMEM;
	o->kmsg_fd = -1;
	o->opts = *opts;
	o->pfnmap.source = "none";
	if ((r = pb_realpath(PB_ROOT_SYS, o->syspath, "%s", opts->device_syspath)) < 0)
		goto fail;
	o->opts.device_syspath = o->syspath;
	r = keep_subtree(o, opts);
	if (r < 0)
		goto fail;
	o->opts.also_syspaths = NULL;
	o->opts.n_also = 0;
	if (opts->n_also && !(o->also = calloc(opts->n_also, sizeof(*o->also)))) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < opts->n_also; i++) {
		char real[PATH_MAX];
		if (pb_realpath(PB_ROOT_SYS, real, "%s", opts->also_syspaths[i]) < 0)
			continue;
		if (!(o->also[o->n_also] = strdup(real))) {
			r = -ENOMEM;
			goto fail;
		}
		o->n_also++;
	}
	char rootreal[PATH_MAX];
	if (pb_realpath(PB_ROOT_SYS, rootreal, ".") < 0)
		snprintf(rootreal, sizeof(rootreal), "%s", pb_sysfs_root());
	size_t rl = strlen(rootreal);
	snprintf(o->devpath, sizeof(o->devpath), "%s",
		 strncmp(o->syspath, rootreal, rl) ? o->syspath : o->syspath + rl);
	const char *base = strrchr(o->syspath, '/');
	snprintf(o->target_name, sizeof(o->target_name), "%.127s", base ? base + 1 : o->syspath);

	struct pb_measure_caps caps;
	const char *why[_PB_METHOD_MAX];
	probe_caps(&caps);
	r = pb_measure_choose(&caps, opts->method, why);
	if (r < 0)
		goto fail;
	o->method = (enum pb_measure_method)r;
	o->caps = caps;

	o->n_cpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	o->cpu_node = calloc(o->n_cpus > 0 ? o->n_cpus : 1, sizeof(int));
	if (!o->cpu_node) {
		r = -ENOMEM;
		goto fail;
	}
	bool numa = numa_available() >= 0;
	for (int c = 0; c < o->n_cpus; c++)
		o->cpu_node[c] = numa ? numa_node_of_cpu(c) : 0;

	/* auto: a method that cannot be set up here gives way to the next one. */
	while ((r = setup_method(o)) < 0 && opts->method == PB_METHOD_AUTO) {
		int next = next_method(o);
		if (next < 0)
			break;
		o->fallback_from[o->n_fallbacks++] = o->method;
		snprintf(o->fallback_why, sizeof(o->fallback_why), "%s: %s",
			 pb_measure_method_name(o->method), o->why);
		o->method = (enum pb_measure_method)next;
		o->why[0] = 0;
	}
	if (r < 0)
		goto fail;
	if (!opts->no_uevents) {
		r = pb_uevents_open(opts->device_bus, &o->uevents);
		if (r < 0)
			goto fail;
	}
	*ret = o;
	return 0;
fail:
	if (opts->why && opts->why_size)
		snprintf(opts->why, opts->why_size, "%s", o->why[0] ? o->why : strerror(-r));
	pb_observer_free(o);
	return r;
}

int pb_observer_arm(struct pb_observer *o, pid_t writer_tid)
{
	int r;
	if (o->armed)
		return -EBUSY;
	/* kprobe: the entry event names the devices; initcall_debug (printk in every probe)
	 * only where it cannot. */
	if (o->method == PB_METHOD_KMSG || o->method == PB_METHOD_TRACEPOINT ||
	    (!pb_kprobe_fetches_names() && initcall_writable())) {
		r = initcall_set(o);
		if (r < 0 && o->method != PB_METHOD_KPROBE)
			return r;
	}
	if (!o->opts.no_counters && (!o->counters || pb_counters_tid(o->counters) != writer_tid)) {
		pb_counters_free(o->counters);
		o->counters = NULL;
		pb_counters_open(writer_tid, &o->counters); /* none: counters_measured = false */
	}
	if (o->kmsg_fd >= 0 && lseek(o->kmsg_fd, 0, SEEK_END) < 0) {
		r = -errno;
		goto fail;
	}
	/* slab caches by node: before the write (a few ms for some 200 caches: before the
	 * events are enabled, so not in the window) */
	if (o->perf && !o->opts.no_memory && !o->slab_unavailable &&
	    pb_slab_snapshot(&o->slab_before) == -ENOENT)
		o->slab_unavailable = true;
	if (o->uevents) {
		r = pb_uevents_arm(o->uevents, o->devpath);
		if (r < 0)
			goto fail;
	}
	if (o->perf) {
		/* The window opens: records before it are never attributed to it. */
		r = pb_perf_enable(o->perf);
		if (r < 0)
			goto fail;
	}
	if (o->counters) {
		r = pb_counters_enable(o->counters);
		if (r < 0)
			goto fail;
	}
	o->writer = writer_tid;
	o->armed = true;
	o->stopped = false;
	o->write_failed = false;
	return 0;
fail:
	/* Nothing stays enabled or changed when arming fails: no disarm follows. */
	if (o->perf)
		pb_perf_disable(o->perf);
	initcall_restore(o);
	return r;
}

static int read_kmsg(int fd, char ***lines, uint64_t **ts, size_t *n)
{
	char buf[8192];
	size_t cap = 0;
	*lines = NULL;
	*ts = NULL;
	*n = 0;
	for (;;) {
		ssize_t k = read(fd, buf, sizeof(buf) - 1);
		if (k < 0) {
			if (errno == EPIPE) /* overwritten records: continue with the next */
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		buf[k] = 0;
		uint64_t us;
		const char *text;
		size_t len;
		if (pb_parse_kmsg_record(buf, &us, &text, &len) < 0 ||
		    strncmp(text, "probe of ", 9))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			char **nl = realloc(*lines, cap * sizeof(char *));
			if (!nl)
				return -ENOMEM;
			*lines = nl;
			uint64_t *nt = realloc(*ts, cap * sizeof(uint64_t));
			if (!nt)
				return -ENOMEM;
			*ts = nt;
		}
		(*lines)[*n] = strndup(text, len);
		if (!(*lines)[*n])
			return -ENOMEM;
		(*ts)[(*n)++] = us;
	}
}

/* Finds NAME on any bus: its sysfs path and bus. -ENOENT when no bus has it (now). */
static int find_device(const char *name, char real[PATH_MAX], char *bus, size_t bus_size)
{
	DIR *d;
	if (!name[0] || strchr(name, '/'))
		return -EINVAL;
	int r = pb_opendir(PB_ROOT_SYS, &d, "bus");
	if (r < 0)
		return r;
	r = -ENOENT;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    pb_realpath(PB_ROOT_SYS, real, "bus/%s/devices/%s", de->d_name, name) < 0)
			continue;
		if (bus)
			snprintf(bus, bus_size, "%s", de->d_name);
		r = 0;
		break;
	}
	closedir(d);
	return r;
}

/* NAME in the target's subtree, while its directory is there; -ENOENT otherwise. */
static int find_known(const struct pb_observer *o, const char *name, char real[PATH_MAX], char *bus,
		      size_t bus_size)
{
	for (size_t i = 0; i < o->n_known; i++) {
		const struct known_dev *k = &o->known[i];
		if (strcmp(k->name, name) || access(k->syspath, F_OK) < 0)
			continue;
		snprintf(real, PATH_MAX, "%s", k->syspath);
		snprintf(bus, bus_size, "%s", k->bus);
		return 0;
	}
	return -ENOENT;
}

/* The device's path and bus once per name and window: from the target's subtree, else from a
 * walk of sysfs (a device the bind created anew). Returns 0 with *ret_real and *ret_bus set. */
static int lookup(struct pb_observer *o, const char *name, const char **ret_real,
		  const char **ret_bus)
{
	unsigned i;
	for (i = 0; i < o->n_found && strcmp(o->found[i].name, name); i++)
		;
	if (i == o->n_found) {
		if (o->n_found == sizeof(o->found) / sizeof(o->found[0]) || strlen(name) >= 64)
			i = 0; /* full (or a name too long to keep): reuse the first slot */
		else
			o->n_found++;
		snprintf(o->found[i].name, sizeof(o->found[i].name), "%s", name);
		o->found[i].r =
		    find_known(o, name, o->found[i].real, o->found[i].bus, sizeof(o->found[i].bus));
		if (o->found[i].r < 0)
			o->found[i].r = find_device(name, o->found[i].real, o->found[i].bus,
						    sizeof(o->found[i].bus));
	}
	*ret_real = o->found[i].real;
	*ret_bus = o->found[i].bus;
	return o->found[i].r;
}

/* For the assembly: is NAME the target or a device below it? (-1: no such device now) */
static int device_belongs(const char *name, void *ud)
{
	struct pb_observer *o = ud;
	const char *real, *bus;
	if (!strcmp(name, o->target_name))
		return 1;
	if (lookup(o, name, &real, &bus) < 0)
		return -1;
	for (size_t i = 0; i < o->n_also; i++)
		if (!strcmp(real, o->also[i]) || pb_path_below(real, o->also[i]))
			return 1;
	return !strcmp(real, o->syspath) || pb_path_below(real, o->syspath);
}

/* For the assembly: does the device NAME sit below the device ANCESTOR? (-1: either is gone) */
static int device_below(const char *name, const char *ancestor, void *ud)
{
	struct pb_observer *o = ud;
	const char *real, *bus;
	char up[PATH_MAX];
	if (lookup(o, ancestor, &real, &bus) < 0)
		return -1;
	snprintf(up, sizeof(up), "%s", real); /* the next lookup may reuse its slot */
	if (lookup(o, name, &real, &bus) < 0)
		return -1;
	return pb_path_below(real, up);
}

/* Finds the probe's device on any bus: bus and driver names, the nearest ancestor's node. */
static void describe_device(struct pb_observer *o, struct pb_probe_fact *p)
{
	char real[PATH_MAX];
	const char *found, *bus;
	if (lookup(o, p->device, &found, &bus) == 0) {
		snprintf(real, sizeof(real), "%s", found);
		snprintf(p->bus, sizeof(p->bus), "%s", bus);
		if (!p->driver[0]) /* the kprobe event names it even when the probe failed */
			pb_readlink_name(PB_ROOT_SYS, p->driver, sizeof(p->driver), "%s/driver",
					 real);
		for (char *s = real; *s;) {
			long node;
			if (pb_read_attr_long(PB_ROOT_SYS, &node, "%s/numa_node", real) == 0 &&
			    node >= 0) {
				p->device_node = (int)node;
				break;
			}
			char *slash = strrchr(real, '/');
			if (!slash || slash == real)
				break;
			*slash = 0;
		}
	}
	p->on_device_node = (p->node < 0 || p->device_node < 0) ? -1 : p->node == p->device_node;
}

void pb_observer_write_failed(struct pb_observer *o)
{
	o->write_failed = true;
}

int pb_observer_stop(struct pb_observer *o)
{
	if (!o->armed)
		return -EINVAL;
	if (o->stopped)
		return 0;
	if (o->perf)
		pb_perf_disable(o->perf);
	o->stop_counters_measured = false;
	if (o->counters) {
		o->stop_counters_measured = true;
		pb_counters_read(o->counters, o->stop_counters);
	}
	initcall_restore(o);
	o->stopped = true;
	return 0;
}

/*
 * PB_OBSERVER_DUMP=DIR: every window's decoded events as text, one file per window
 * (TARGET-N.txt), for reading what the assembly decided from. A debugging aid; off by default.
 */
static void dump_events(const struct pb_observer *o, const struct pb_mevent *ev, size_t n,
			uint64_t t0, uint64_t t1)
{
	static unsigned seq;
	const char *dir = getenv("PB_OBSERVER_DUMP");
	char path[PATH_MAX];
	if (!dir || !*dir)
		return;
	snprintf(path, sizeof(path), "%s/%s-%u.txt", dir, o->target_name,
		 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	FILE *f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f, "# writer %d window %llu..%llu\n", (int)o->writer, (unsigned long long)t0,
		(unsigned long long)t1);
	for (size_t i = 0; i < n; i++) {
		const struct pb_mevent *e = &ev[i];
		fprintf(f, "%llu cpu%d pid%d%s type%d", (unsigned long long)e->ts, e->cpu,
			(int)e->pid, e->irq ? " irq" : "", (int)e->type);
		switch (e->type) {
		case PB_EV_WQ_QUEUE:
		case PB_EV_WQ_START:
		case PB_EV_WQ_END:
			fprintf(f, " work=%llx fn=%llx", (unsigned long long)e->wq.work,
				(unsigned long long)e->wq.function);
			break;
		case PB_EV_SWITCH:
			fprintf(f, " %d(%s) state=%ld -> %d(%s)", (int)e->sw.prev_pid,
				e->sw.prev_comm, e->sw.prev_state, (int)e->sw.next_pid,
				e->sw.next_comm);
			break;
		case PB_EV_WAKEUP:
			fprintf(f, " wakes %d on cpu%d", (int)e->wake.pid, e->wake.target_cpu);
			break;
		case PB_EV_PROBE_ENTRY:
			fprintf(f, " probe %s %s", e->kp.dev, e->kp.drv);
			break;
		case PB_EV_PROBE_RETURN:
			fprintf(f, " return %ld", e->kret.ret);
			break;
		case PB_EV_CONSOLE:
			fprintf(f, " %s", e->msg);
			break;
		case PB_EV_PAGE_ALLOC:
		case PB_EV_PAGE_FREE:
			fprintf(f, " %s pfn=%llx order=%u",
				e->type == PB_EV_PAGE_FREE ? "free" : "alloc",
				(unsigned long long)e->page.pfn, e->page.order);
			break;
		default:
			break;
		}
		fputc('\n', f);
	}
	fclose(f);
}

/* The slab caches that changed between the arming and now (the window's decoding). */
static void slab_caches(struct pb_observer *o, struct pb_iteration_facts *f)
{
	struct pb_slab_snap after = {0};
	if (!o->slab_before.n || pb_slab_snapshot(&after) < 0) {
		pb_slab_snap_clear(&o->slab_before);
		return;
	}
	f->slab_caches_measured = pb_slab_diff(&o->slab_before, &after, PB_SLAB_MAX_CACHES,
					       &f->slab_caches, &f->n_slab_caches) == 0;
	pb_slab_snap_clear(&after);
	pb_slab_snap_clear(&o->slab_before);
}

int pb_observer_disarm(struct pb_observer *o, uint64_t write_start_ns, uint64_t write_end_ns,
		       struct pb_iteration_facts *ret)
{
	struct pb_iteration_facts f = {0};
	struct pb_mevent *ev = NULL;
	size_t n = 0;
	uint64_t lost = 0, lost_slab = 0;
	char **klines = NULL;
	uint64_t *kts = NULL;
	size_t nk = 0;
	int r = 0;

	if (!o->armed)
		return -EINVAL;
	uint64_t work_start = pb_now_ns();
	pb_observer_stop(o);
	o->armed = false;
	f.counters_measured = o->stop_counters_measured;
	memcpy(f.counters, o->stop_counters, sizeof(f.counters));
	if (o->perf)
		r = pb_perf_drain(o->perf, &ev, &n, &lost, &lost_slab);
	if (r == 0 && o->kmsg_fd >= 0)
		r = read_kmsg(o->kmsg_fd, &klines, &kts, &nk);
	initcall_restore(o);
	uint64_t wait_start = pb_now_ns(), waited;
	f.uevent_kernel_ns = f.uevent_udev_ns = -1;
	if (o->uevents) {
		uint64_t k = 0, u = 0;
		uint64_t wait = o->opts.uevent_wait_ns ? o->opts.uevent_wait_ns : 500000000ull;
		if (o->write_failed)
			wait = 1; /* what has arrived, if anything */
		if (pb_uevents_collect(o->uevents, wait, &k, &u) == 0) {
			f.uevent_kernel_ns = k ? (int64_t)(k - write_start_ns) : -1;
			f.uevent_udev_ns = u ? (int64_t)(u - write_start_ns) : -1;
		}
	}
	waited = pb_now_ns() - wait_start; /* for the uevents: not decoding work */
	if (r < 0)
		goto out;
	dump_events(o, ev, n, write_start_ns, write_end_ns);
	o->n_found = 0; /* devices come and go with binds: look them up afresh */

	struct pb_assemble_in in = {
	    .ev = ev,
	    .n = n,
	    .method = o->method,
	    .writer_tid = o->writer,
	    .t0 = write_start_ns,
	    .t1 = write_end_ns,
	    .target_name = o->target_name,
	    .belongs = device_belongs,
	    .below = device_below,
	    .belongs_ud = o,
	    .device_node = o->opts.device_node,
	    .cpu_node = o->cpu_node,
	    .n_cpus = o->n_cpus,
	    .pfnmap = (o->perf && !o->opts.no_memory) ? &o->pfnmap : NULL,
	    .frees = o->perf && !o->opts.no_memory,
	    .kmsg_lines = (const char *const *)klines,
	    .kmsg_ts_us = kts,
	    .n_kmsg = nk,
	};
	int64_t uk = f.uevent_kernel_ns, uu = f.uevent_udev_ns;
	struct pb_counter cs[PB_MEASURE_N_COUNTERS];
	bool cm = f.counters_measured;
	memcpy(cs, f.counters, sizeof(cs));
	r = pb_measure_assemble(&in, &f);
	if (r < 0)
		goto out;
	f.uevent_kernel_ns = uk;
	f.uevent_udev_ns = uu;
	f.counters_measured = cm;
	memcpy(f.counters, cs, sizeof(cs));
	f.events_seen = n;
	f.lost_records = lost;
	f.lost_slab_records = lost_slab;
	/* Each event's own count (6.0+): this window's losses, not the previous one's. */
	f.lost_exact = o->perf && pb_perf_lost(o->perf, &f.lost_records, &f.lost_slab_records) == 0;
	f.frees_exact = f.frees_measured && !f.lost_slab_records;
	slab_caches(o, &f);
	f.slab_sampled = f.memory_measured && o->opts.slab_samples;
	if (o->perf && f.memory_measured)
		f.slab_counted =
		    pb_perf_slab_counts(o->perf, o->cpu_node, o->n_cpus, f.slab_counted_by_node,
					PB_MEASURE_MAX_NODES, &f.n_slab_counted_nodes) == 0;
	f.slab_counted_ftrace = f.slab_counted && o->slab_records;
	for (size_t i = 0; i < f.n_probes; i++) {
		struct pb_probe_fact *p = &f.probes[i];
		/* kprobe without initcall_debug names only the target; children stay unnamed. */
		if (p->device[0])
			describe_device(o, p);
		if (p->hop && !p->hop_function[0]) {
			char name[48];
			if (o->perf &&
			    pb_perf_symbol(o->perf, p->hop_function_addr, name, sizeof(name)) == 0)
				snprintf(p->hop_function, sizeof(p->hop_function), "%s", name);
			else
				snprintf(p->hop_function, sizeof(p->hop_function), "0x%llx",
					 (unsigned long long)p->hop_function_addr);
		}
	}
	/* Decoding cost: the write's return to the facts, and the work in it (no waiting). */
	uint64_t done = pb_now_ns();
	f.decode_work_ns = done - work_start - waited;
	f.decode_ns = write_end_ns && done > write_end_ns ? done - write_end_ns : 0;
	*ret = f;
	f.probes = NULL;
	f.held = NULL;
out:
	free(f.probes);
	free(f.held);
	free(ev);
	for (size_t i = 0; i < nk; i++)
		free(klines[i]);
	free(klines);
	free(kts);
	return r;
}

void pb_iteration_facts_clear(struct pb_iteration_facts *f)
{
	if (!f)
		return;
	free(f->probes);
	f->probes = NULL;
	f->n_probes = 0;
	free(f->held);
	f->held = NULL;
	f->n_held = 0;
	pb_kept_unref(f->kept);
	f->kept = NULL;
	free(f->slab_caches);
	f->slab_caches = NULL;
	f->n_slab_caches = 0;
}

/*
 * The kept-page watch, one for the whole process: the page-free events (kmem:mm_page_free,
 * mm_page_free_batched) on every CPU with an ftrace filter letting through the held blocks of
 * every target whose watch is in progress; each watch has its own handle (window, counts,
 * losses) on that set, and takes from the records the frees of its own blocks (by pfn). A perf
 * event takes one filter in its life (a second is EEXIST), so when the watches change (one
 * starts, one ends) the watch moves to a new set with the new filter: the new set is enabled
 * first, then each watch in progress takes what the old set saw before that moment and what
 * the new one sees from it, and the old set is closed. Nothing is missed, nothing seen twice;
 * the process holds two sets only while it moves. A set is opened ahead, unfiltered, when
 * another target may start a watch (the spare), so that a start only sets the filter and
 * enables: the gap after the window stays short. Frees of a watch that ended (its device is
 * being unbound: a flood of them) no longer pass the filter.
 */
#define KEPT_MAX_RANGES 64 /* the filter's ranges, fewer when the text would not fit a page */

static struct {
	pthread_mutex_t lock;
	unsigned users;		      /* observers that watched: they may watch again */
	struct pb_observer *watching; /* watches in progress, on set */
	struct pb_perf *set;	      /* the filtered set: a handle never enabled that holds it */
	struct pb_perf *spare;	      /* an unfiltered set opened ahead of the next start */
	int err;		      /* opening failed: not tried again while it has users */
	char why[160];
	struct pb_perf_stats held, peak; /* what the sets hold now, and at the most */
	bool ftrace;			 /* the sets are ftrace instances (run --buffer) */
} kw = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void kept_unknown(struct pb_kept_pages *k, const char *why, int err)
{
	k->state = PB_KEPT_UNKNOWN;
	snprintf(k->why, sizeof(k->why), "%s%s%s", why, err ? ": " : "", err ? strerror(-err) : "");
}

/* A set opened (sign 1) or closed (-1): what the process holds, and its peak. Under kw.lock. */
static void kw_account(struct pb_perf *set, int sign)
{
	struct pb_perf_stats s;
	pb_perf_stats(set, &s);
	kw.held.fds += (unsigned)sign * s.fds;
	kw.held.perf_events += (unsigned)sign * s.perf_events;
	kw.held.rings += (unsigned)sign * s.rings;
	kw.held.locked_bytes += (uint64_t)(int64_t)sign * s.locked_bytes;
	kw.held.ring_pages = s.ring_pages;
	kw.held.cpus = s.cpus;
	if (kw.held.perf_events > kw.peak.perf_events || kw.held.fds > kw.peak.fds)
		kw.peak = kw.held;
}

/* An unfiltered set of the page-free events. Under kw.lock. */
static int kw_open(struct pb_perf **ret)
{
	if (kw.err)
		return kw.err;
	struct pb_perf_opts po = {.frees_only = true,
				  .buffer = kw.ftrace ? PB_BUFFER_FTRACE : PB_BUFFER_PERF,
				  .ring_pages =
				      pb_perf_kept_ring_pages_for(sysconf(_SC_NPROCESSORS_CONF))};
	kw.err = pb_perf_open(&po, ret, kw.why, sizeof(kw.why));
	if (kw.err == 0)
		kw_account(*ret, 1);
	return kw.err;
}

/* Closes a set whose watches have all left it (their handles freed). Under kw.lock. */
static void kw_close(struct pb_perf *set)
{
	if (!set)
		return;
	kw_account(set, -1);
	pb_perf_free(set);
}

/* The spare: while an observer may start a watch and none is opened ahead. Under kw.lock. */
static void kw_spare(void)
{
	unsigned n = 0;
	for (struct pb_observer *w = kw.watching; w; w = w->kept_next)
		n++;
	if (!kw.spare && !kw.err && kw.users > n)
		kw_open(&kw.spare);
}

/* A set with the filter of the watches in progress and of extra (n_extra blocks); the spare
 * when there is one. Under kw.lock. */
static int kw_filtered(const struct pb_page_block *extra, size_t n_extra, struct pb_perf **ret,
		       const char **what)
{
	char filter[4096];
	size_t n = n_extra;
	for (struct pb_observer *w = kw.watching; w; w = w->kept_next)
		n += w->n_kept_blocks;
	struct pb_page_block *all = n ? malloc(n * sizeof(*all)) : NULL;
	if (!all) {
		*what = "watching the held pages";
		return n ? -ENOMEM : -EINVAL;
	}
	n = 0;
	for (struct pb_observer *w = kw.watching; w; w = w->kept_next)
		for (size_t i = 0; i < w->n_kept_blocks; i++)
			all[n++] = w->kept_blocks[i];
	for (size_t i = 0; i < n_extra; i++)
		all[n++] = extra[i];
	int r = pb_blocks_pfn_filter_fit(all, n, KEPT_MAX_RANGES, filter, sizeof(filter));
	free(all);
	if (r < 0) {
		*what = "building the pfn filter of the page-free events";
		return r;
	}
	struct pb_perf *set = kw.spare;
	kw.spare = NULL;
	if (!set && (r = kw_open(&set)) < 0) {
		*what = kw.why[0] ? kw.why : "page-free events";
		return r;
	}
	if ((r = pb_perf_set_filter(set, PB_EV_PAGE_FREE, filter)) < 0) {
		*what = "setting the pfn filter of the page-free events";
		kw_close(set);
		return r;
	}
	*ret = set;
	return 0;
}

/* The frees of w's blocks its handle saw (before until, from where the blocks count frees on
 * until: see pb_blocks_move); the handle is freed. Under kw.lock. */
static int kept_take(struct pb_observer *w, uint64_t until)
{
	struct pb_mevent *ev = NULL;
	size_t n = 0;
	uint64_t lost = 0, lost_flood = 0;
	int r = pb_perf_drain(w->kept_h, &ev, &n, &lost, &lost_flood);
	if (r == 0) {
		uint64_t lost_now = 0, lost_flood_now = 0;
		if (pb_perf_lost(w->kept_h, &lost_now, &lost_flood_now) == 0)
			lost_flood = lost_flood_now;
		w->kept_lost |= lost || lost_flood;
		r = until == UINT64_MAX
			? pb_blocks_apply_frees(w->kept_blocks, w->n_kept_blocks, ev, n)
			: pb_blocks_move(w->kept_blocks, w->n_kept_blocks, ev, n, until);
	}
	free(ev);
	pb_perf_free(w->kept_h);
	w->kept_h = NULL;
	return r;
}

/* Takes w off the watches in progress and frees what its watch held. Under kw.lock. */
static void kept_drop(struct pb_observer *w)
{
	for (struct pb_observer **pp = &kw.watching; *pp; pp = &(*pp)->kept_next)
		if (*pp == w) {
			*pp = w->kept_next;
			break;
		}
	w->kept_next = NULL;
	pb_perf_free(w->kept_h);
	w->kept_h = NULL;
	free(w->kept_blocks);
	w->kept_blocks = NULL;
	w->n_kept_blocks = 0;
	pb_kept_unref(w->kept);
	w->kept = NULL;
}

/*
 * Moves every watch in progress to set (its filter covers them all): a handle on the new set
 * for each, enabled; then each takes from its old handle what it saw before that moment, while
 * the old set was still on. The old set is closed. A watch that cannot move ends UNKNOWN.
 * Under kw.lock.
 */
static void kw_move(struct pb_perf *set)
{
	struct pb_observer *w, *wn;
	size_t n = 0, i = 0;
	for (w = kw.watching; w; w = w->kept_next)
		n++;
	struct pb_perf **next = n ? calloc(n, sizeof(*next)) : NULL;
	for (w = kw.watching; w; w = wn) {
		wn = w->kept_next;
		int r = next ? pb_perf_open_more(set, &next[i]) : -ENOMEM;
		if (r == 0 && (r = pb_perf_enable(next[i])) < 0)
			pb_perf_free(next[i]);
		if (r < 0) {
			kept_unknown(w->kept, "moving the watch to the new set of page-free events",
				     r);
			kept_drop(w);
		} else
			i++;
	}
	uint64_t t = pb_now_ns(); /* the new set sees every free from here on */
	i = 0;
	for (w = kw.watching; w; w = wn) {
		wn = w->kept_next;
		int r = kept_take(w, t);
		w->kept_h = next[i++];
		if (r < 0) {
			kept_unknown(w->kept, "reading the page-free events", r);
			kept_drop(w);
		}
	}
	free(next);
	kw_close(kw.set);
	kw.set = set;
}

/* The watch of o ends: its figures settle in o->kept. Under kw.lock. */
static int kept_end_locked(struct pb_observer *o, enum pb_kept_state how)
{
	struct pb_kept_pages *k = o->kept;
	if (!k)
		return 0;
	for (struct pb_observer **pp = &kw.watching; *pp; pp = &(*pp)->kept_next)
		if (*pp == o) {
			*pp = o->kept_next;
			break;
		}
	o->kept_next = NULL;
	int r = kept_take(o, UINT64_MAX);
	if (how == PB_KEPT_UNKNOWN)
		kept_unknown(k, "a new bind window began before the device was unbound", 0);
	else if (r < 0)
		kept_unknown(k, "reading the page-free events", r);
	else {
		pb_kept_from_blocks(o->kept_blocks, o->n_kept_blocks, k);
		k->freed_pages -= o->kept_before;
		k->state = how;
		k->watched_ns = pb_now_ns() - o->kept_start_ns;
		k->exact = k->exact && !o->kept_lost;
	}
	kept_drop(o);
	if (!kw.watching) {
		kw_close(kw.set);
		kw.set = NULL;
	} else {
		/* the others go on without this device's pages: its unbind frees them all */
		struct pb_perf *set;
		const char *what;
		if (kw_filtered(NULL, 0, &set, &what) == 0)
			kw_move(set);
		/* else the old set goes on: its filter lets more through, the figures stay
		 * exact unless its rings overflow (then counted as lost) */
	}
	if (how == PB_KEPT_NEXT_UNBIND)
		kw_spare(); /* for the next window's watch, before the next bind */
	return r < 0 ? r : 0;
}

int pb_observer_kept_end(struct pb_observer *o, enum pb_kept_state how)
{
	pthread_mutex_lock(&kw.lock);
	int r = kept_end_locked(o, how);
	pthread_mutex_unlock(&kw.lock);
	return r;
}

static int kept_start_locked(struct pb_observer *o, struct pb_iteration_facts *f)
{
	kept_end_locked(o, PB_KEPT_UNKNOWN);
	if (!f->frees_measured)
		return 0;
	struct pb_kept_pages *k = f->kept = pb_kept_new();
	if (!k)
		return -ENOMEM;
	k->exact = f->frees_exact;
	if (!f->n_held) {
		k->state = PB_KEPT_NONE_HELD;
		return 0;
	}
	if (!o->kept_user) {
		o->kept_user = true;
		kw.users++;
	}
	kw.ftrace = o->ftrace; /* the same for every observer of a run: the shared set's */
	struct pb_perf *set;
	const char *what = NULL;
	int r = kw_filtered(f->held, f->n_held, &set, &what);
	if (r < 0) {
		bool own = what == kw.why; /* the reason says what failed */
		kept_unknown(k, what, own ? 0 : r);
		return r;
	}
	o->kept_blocks = malloc(f->n_held * sizeof(*o->kept_blocks));
	r = o->kept_blocks ? pb_perf_open_more(set, &o->kept_h) : -ENOMEM;
	if (r < 0) {
		free(o->kept_blocks);
		o->kept_blocks = NULL;
		kw_close(set);
		kept_unknown(k, "watching the held pages", r);
		return r;
	}
	o->n_kept_blocks = f->n_held;
	o->kept_before = 0;
	o->kept_lost = false;
	o->kept_start_ns = pb_now_ns();
	k->gap_ns = o->kept_start_ns > f->write_end_ns ? o->kept_start_ns - f->write_end_ns : 0;
	for (size_t i = 0; i < f->n_held; i++) {
		o->kept_blocks[i] = f->held[i];
		o->kept_blocks[i].ts = o->kept_start_ns; /* frees from here on */
		o->kept_before += f->held[i].freed;
	}
	if ((r = pb_perf_enable(o->kept_h)) < 0) {
		pb_perf_free(o->kept_h);
		o->kept_h = NULL;
		free(o->kept_blocks);
		o->kept_blocks = NULL;
		o->n_kept_blocks = 0;
		kw_close(set);
		kept_unknown(k, "enabling the page-free events", r);
		return r;
	}
	kw_move(set); /* the watches in progress follow onto the new set */
	o->kept = pb_kept_ref(k);
	o->kept_next = kw.watching;
	kw.watching = o;
	kw_spare();
	return 0;
}

int pb_observer_kept_start(struct pb_observer *o, struct pb_iteration_facts *f)
{
	pthread_mutex_lock(&kw.lock);
	int r = kept_start_locked(o, f);
	pthread_mutex_unlock(&kw.lock);
	return r;
}

/* The observer is going: the spare goes with the last user, and a failure is forgotten. */
static void kept_leave(struct pb_observer *o)
{
	pthread_mutex_lock(&kw.lock);
	if (o->kept_user && !--kw.users) {
		kw_close(kw.spare);
		kw.spare = NULL;
		kw.err = 0;
		kw.why[0] = 0;
		kw.peak = kw.held;
	}
	o->kept_user = false;
	pthread_mutex_unlock(&kw.lock);
}

/* The kept-page watch's sets at the most held at once (one watch for every observer). */
static void kept_stats(struct pb_perf_stats *s)
{
	pthread_mutex_lock(&kw.lock);
	*s = kw.peak;
	s->id = kw.peak.fds ? &kw : NULL;
	s->users = kw.users;
	pthread_mutex_unlock(&kw.lock);
}

struct json_object *pb_observer_methods_json(void)
{
	struct pb_measure_caps caps;
	const char *why[_PB_METHOD_MAX];
	probe_caps(&caps);
	int best = pb_measure_choose(&caps, PB_METHOD_AUTO, why);
	struct json_object *j = json_object_new_object();
	json_object_object_add(
	    j, "chosen", best < 0 ? NULL : json_object_new_string(pb_measure_method_name(best)));
	struct json_object *a = json_object_new_array();
	for (int m = PB_METHOD_KPROBE; m < _PB_METHOD_MAX; m++) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "method",
				       json_object_new_string(pb_measure_method_name(m)));
		json_object_object_add(e, "available", json_object_new_boolean(!why[m]));
		json_object_object_add(e, "why_not",
				       why[m] ? json_object_new_string(why[m]) : NULL);
		json_object_array_add(a, e);
	}
	json_object_object_add(j, "methods", a);
	return j;
}

/* Pages of this process per node, from numa_maps: where the observer's own buffers sit. */
static void self_pages(struct json_object *j)
{
	char line[4096];
	uint64_t pages[PB_MEASURE_MAX_NODES] = {0};
	unsigned n_nodes = 0;
	FILE *f;
	if (pb_fopen(PB_ROOT_PROC, &f, "self/numa_maps") < 0)
		return;
	while (fgets(line, sizeof(line), f)) {
		for (char *t = strtok(line, " \n"); t; t = strtok(NULL, " \n")) {
			unsigned node;
			unsigned long long v;
			if (sscanf(t, "N%u=%llu", &node, &v) == 2 && node < PB_MEASURE_MAX_NODES) {
				pages[node] += v;
				if (node + 1 > n_nodes)
					n_nodes = node + 1;
			}
		}
	}
	fclose(f);
	json_object_object_add(j, "self_pages_by_node", pb_json_u64_array(pages, n_nodes));
}

void pb_observer_resources(const struct pb_observer *o, struct pb_perf_stats *shared,
			   struct pb_perf_stats *kept, unsigned *counter_fds, unsigned *other_fds)
{
	*shared = *kept = (struct pb_perf_stats){0};
	if (o->perf)
		pb_perf_stats(o->perf, shared);
	kept_stats(kept);
	*counter_fds = pb_counters_fds(o->counters);
	*other_fds = pb_uevents_fds(o->uevents) + (o->kmsg_fd >= 0);
}

struct json_object *pb_observer_info_json(const struct pb_observer *o)
{
	struct json_object *j = json_object_new_object();
	char buf[64];
	json_object_object_add(j, "method", json_object_new_string(pb_observer_method(o)));
	struct json_object *fb = json_object_new_array();
	for (unsigned i = 0; i < o->n_fallbacks; i++)
		json_object_array_add(
		    fb, json_object_new_string(pb_measure_method_name(o->fallback_from[i])));
	json_object_object_add(j, "fell_back_from", fb);
	json_object_object_add(j, "fallback_reason",
			       o->n_fallbacks ? json_object_new_string(o->fallback_why) : NULL);
	json_object_object_add(j, "pfn_map", json_object_new_string(o->pfnmap.source));
	if (pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "sys/kernel/printk") >= 0) {
		int console = 0;
		sscanf(buf, "%d", &console);
		json_object_object_add(j, "printk", json_object_new_string(buf));
		/* KERN_DEBUG (7) reaches the console when console_loglevel > 7. */
		json_object_object_add(j, "initcall_debug_reaches_console",
				       json_object_new_boolean(console > 7));
	}
	json_object_object_add(
	    j, "udev_running",
	    o->uevents ? json_object_new_boolean(pb_uevents_udev_running(o->uevents)) : NULL);
	self_pages(j);
	return j;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The observer: around one sysfs bind write made by a known writer thread, it records every
 * driver probe inside the bind window (really_probe of the target and of the devices it creates,
 * e.g. the virtio child of a virtio-pci function), the work hops of a probe into a worker, the
 * kernel's and udev's bind uevents, pages allocated by the probing tasks per NUMA node, and perf
 * counters of the writer.
 *
 * Methods, best first (pb_observer_open() picks the first that works here, or the one asked for):
 *  "kprobe"     a tracefs kprobe + kretprobe on really_probe, one per process, read through perf:
 *               exact start/duration/task/CPU, the device and driver names, the return value.
 *  "tracepoint" trace events through perf_event_open: printk:console with initcall_debug set gives
 *               the kernel's own really_probe duration (us), the task and CPU that ran it and the
 *               exact end time; workqueue queue/execute pairs give the hop into a worker
 *               (work_on_cpu for PCI, queue_work_node for the seed patch).
 *  "kmsg"       the initcall_debug lines read from /dev/kmsg: device, return value, duration (us);
 *               no CPU, no task, no memory placement.
 * Each method, what it sees and what it cannot see: doc/measurement.md.
 *
 * Usage per iteration (writer thread = the thread that makes the bind write):
 *   pb_observer_arm(o, writer_tid);          // just before the write
 *   t0 = pb_now_ns(); write(bind); t1 = pb_now_ns();
 *   pb_observer_disarm(o, t0, t1, &facts);  // right after the write returns
 *   ... use facts (record.h: pb_measurement) ...; pb_iteration_facts_clear(&facts);
 * All times are CLOCK_MONOTONIC ns (pb_now_ns()). Functions return 0 or a negative errno and do
 * not log.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct json_object;
struct pb_device;
struct pb_observer;

#define PB_MEASURE_MAX_NODES 64

enum pb_measure_method {
	PB_METHOD_AUTO = 0,
	PB_METHOD_KPROBE,
	PB_METHOD_TRACEPOINT,
	PB_METHOD_KMSG,
	_PB_METHOD_MAX,
};

const char *pb_measure_method_name(enum pb_measure_method m);
/* "kprobe" | "tracepoint" | "kmsg" | "auto" -> method; -EINVAL otherwise. */
int pb_measure_method_from_name(const char *s, enum pb_measure_method *ret);

enum pb_buffer {
	PB_BUFFER_AUTO,	  /* perf while it holds at most PB_PERF_AUTO_MAX_FDS descriptors */
	PB_BUFFER_PERF,	  /* perf events: one descriptor per event per CPU, mmap'ed rings */
	PB_BUFFER_FTRACE, /* ftrace instances: a descriptor each, whatever the CPUs */
};
/* The observer's buffer (run --buffer): measure.h says how auto chooses. */
const char *pb_buffer_name(enum pb_buffer b);
int pb_buffer_parse(const char *s); /* "auto", "perf", "ftrace" -> enum; -EINVAL */

struct pb_observer_opts {
	const char *device_syspath; /* /sys/devices/... of the bound target (required) */
	const char *device_bus;	    /* "pci", "virtio", ... (optional; read from subsystem link) */
	int device_node; /* NUMA node of the target (nearest ancestor with one), -1 none */
	/* The target and what lies below it, from the run's inventory (pb_inventory_subtree()):
	 * the probes' devices are looked up there first, and in sysfs only when a bind made one
	 * the inventory does not have. Copied at open; NULL: every lookup goes to sysfs. */
	const struct pb_device *const *subtree;
	size_t n_subtree;
	/* More devices whose probes (and those below them) belong to the window: the other devices
	 * of a module whose load is the observed step (run --entry module). Copied at open. */
	const char *const *also_syspaths;
	size_t n_also;
	enum pb_measure_method method; /* PB_METHOD_AUTO: best available */
	bool no_uevents;	       /* do not listen for uevents */
	bool no_memory;		       /* no kmem events (pages, slab proxy) */
	bool slab_samples; /* sample the slab allocations (sizes); default: counted per CPU only */
	enum pb_buffer buffer;	 /* perf events or ftrace instances (--buffer; auto: by the CPUs) */
	bool no_counters;	 /* no perf counters of the writer */
	uint64_t uevent_wait_ns; /* how long disarm waits for udev's copy; 0: 500 ms default */
	unsigned ring_pages;	 /* per-CPU ring buffer pages (power of two); 0: 128 */
	char *why;		 /* optional: on failure, what failed (e.g. which perf call) */
	size_t why_size;
};

struct pb_probe_fact {
	char device[64];
	char bus[32];
	char driver[64];
	int cpu;	    /* CPU that ran the driver's probe; -1 unknown (kmsg) */
	int node;	    /* NUMA node of that CPU; -1 unknown */
	int device_node;    /* NUMA node of the device (nearest ancestor), -1 none */
	int on_device_node; /* 1 yes, 0 no, -1 unknown (no CPU or no device node) */
	pid_t pid;	    /* task that ran the driver's probe (the writer or the hop worker) */
	char comm[16];
	bool task_measured; /* false: pid is the writer, assumed (kmsg cannot see tasks) */
	uint64_t start_ns;  /* really_probe start, CLOCK_MONOTONIC */
	uint64_t duration_ns;
	bool start_exact; /* false: start = end - kernel-reported us (tracepoint), or kmsg clock */
	/* Where attribution to this probe (hops, pages) starts: start_ns when exact; else, at
	 * depth 0, the last sure boundary before it (the write's start, or the end of the task's
	 * previous probe): the kernel's end stamp comes after its own printk, so end - us starts
	 * late. */
	uint64_t window_start_ns;
	int ret; /* the driver's ->probe return value (0, -errno) */
	bool ret_known;
	int depth; /* 0: the target's own probe; 1: a probe nested in it (a child) */
	/* The hop into a worker, when the driver's ->probe ran in another task. */
	bool hop;
	char hop_function[48];	    /* a label only: the work's function, or "wake-up" */
	uint64_t hop_function_addr; /* the work's function (0: a wake-up hop, no work) */
	bool hop_whole_probe;	    /* really_probe itself ran in the worker (the seed's shape) */
	pid_t hop_pid;
	char hop_comm[16];
	int hop_cpu;
	uint64_t hop_queue_ns, hop_start_ns, hop_duration_ns;
	/* The worker inside the hop, from sched records (it is known only after the write, so no
	 * perf counter can be attached to it): time on a CPU, switches out, migrations. */
	uint64_t hop_on_cpu_ns;
	unsigned hop_switches, hop_migrations;
	unsigned writer_migrations; /* migrations of the probing task inside the probe */
	enum pb_measure_method method;
	/* Pages this probe's tasks allocated inside it (nested probes included): the task that
	 * ran really_probe over the probe, the hop worker over the hop. */
	pid_t origin_pid; /* the task that ran really_probe (pid is the worker's after a hop) */
	bool pages_measured;
	uint64_t pages_by_node[PB_MEASURE_MAX_NODES];
	uint64_t pages_unknown_node;
	unsigned n_page_nodes;
};

/* A block of pages a probe allocated (2^order pages from pfn), and how many of them were freed. */
struct pb_page_block {
	uint64_t pfn;
	unsigned order;
	int node;	/* -1: on no known node */
	uint64_t ts;	/* when it was allocated (CLOCK_MONOTONIC ns) */
	uint64_t freed; /* pages of it freed after ts (by any task) */
};

/*
 * What the device still held of the pages its bind's probes allocated (and had not freed inside
 * the window) when it was next unbound, or when the run ended: page frees (kmem:mm_page_free,
 * mm_page_free_batched) of those pages only (an ftrace pfn filter) from the window's end to the
 * start of the next unbind write. Shared by the iteration's facts and the run's watch
 * (reference counted): the watch fills it at the next unbind, after the iteration was handed on.
 */
enum pb_kept_state {
	PB_KEPT_WATCHING,    /* not settled yet */
	PB_KEPT_NEXT_UNBIND, /* held at the start of the next unbind write */
	PB_KEPT_RUN_END,     /* held when the run ended (the device stays bound) */
	PB_KEPT_NONE_HELD,   /* the probes freed every page they took inside the window */
	PB_KEPT_UNKNOWN,     /* the watch failed: why says why */
};
struct pb_kept_pages {
	unsigned refs;
	enum pb_kept_state state;
	char why[120];
	uint64_t watched_ns; /* the watch's start to the next unbind (or the run's end) */
	uint64_t gap_ns;     /* the window's end to the watch's start: frees then are not seen */
	bool exact;	     /* no free record was lost while watching */
	uint64_t pages_by_node[PB_MEASURE_MAX_NODES];
	unsigned n_nodes;
	uint64_t pages_unknown_node, pages_total;
	uint64_t freed_pages; /* freed after the window, before the next unbind */
};
struct pb_kept_pages *pb_kept_new(void); /* refs 1, WATCHING; NULL on ENOMEM */
struct pb_kept_pages *pb_kept_ref(struct pb_kept_pages *k);
void pb_kept_unref(struct pb_kept_pages *k);
const char *pb_kept_state_name(enum pb_kept_state s);

/* One slab cache's objects in use, after the bind minus before it, by node. */
#define PB_SLAB_MAX_CACHES 16
/* qsort order of deltas: the largest change (either sign) first, then by name. */
int pb_slab_delta_cmp(const void *a, const void *b);
struct pb_slab_delta {
	char cache[40];
	int64_t total, by_node[PB_MEASURE_MAX_NODES];
	unsigned n_nodes;
};

struct pb_counter {
	const char *name; /* "task_clock_ns", "context_switches", ... */
	bool supported;
	uint64_t value;
};

#define PB_MEASURE_N_COUNTERS 6

struct pb_iteration_facts {
	enum pb_measure_method method;
	uint64_t write_start_ns, write_end_ns;
	pid_t writer_tid;
	struct pb_probe_fact *probes;
	size_t n_probes;
	/* bind start -> uevent seen; -1: not seen (or not listened for). */
	int64_t uevent_kernel_ns, uevent_udev_ns;
	/* Memory placement (tracepoint/kprobe methods with kmem events). */
	bool memory_measured;
	const char *pfn_map_source; /* "memory_blocks" | "zoneinfo" | "none" */
	unsigned n_nodes;	    /* nodes known to the pfn map (array entries used) */
	uint64_t pages_by_node[PB_MEASURE_MAX_NODES];
	uint64_t pages_total; /* includes pages_unknown_node */
	uint64_t pages_unknown_node;
	double local_ratio; /* pages on the device's node / pages with a known node; -1 n/a */
	/* Of those pages, the ones freed again inside the window (by any task: kmem:mm_page_free
	 * and mm_page_free_batched, in the flood ring), and the blocks still held at its end. */
	bool frees_measured;
	bool frees_exact; /* no record of the flood ring (slab, frees) was lost */
	uint64_t pages_freed_by_node[PB_MEASURE_MAX_NODES];
	uint64_t pages_freed_total;
	/* blocks still (partly) held at the window's end; freed: their pages freed inside it */
	struct pb_page_block *held;
	size_t n_held;
	/* what the device kept until its next unbind; NULL: not watched */
	struct pb_kept_pages *kept;
	/* SLUB's objects in use by cache and node (sysfs), read as the observer was armed and
	 * again as the window was decoded: the caches that changed, largest first. */
	bool slab_caches_measured;
	struct pb_slab_delta *slab_caches;
	size_t n_slab_caches;
	/* The sampled slab proxy (slab_samples): kmalloc and kmem_cache_alloc samples of the
	 * probing tasks. Not sampled: both arrays mean nothing (not zero: not looked at). */
	bool slab_sampled;
	uint64_t slab_allocs_by_node[PB_MEASURE_MAX_NODES]; /* by node of the allocating CPU */
	uint64_t slab_bytes_by_node[PB_MEASURE_MAX_NODES];
	/* The same allocations counted per CPU (every task): by perf counting events (never
	 * lost) or, with an ftrace buffer, from the window's records (slab_counted_ftrace; not
	 * counted when the instance dropped any). */
	bool slab_counted;
	bool slab_counted_ftrace;
	uint64_t slab_counted_by_node[PB_MEASURE_MAX_NODES];
	unsigned n_slab_counted_nodes;
	/* Writer counters for the write, enabled around it. */
	bool counters_measured;
	struct pb_counter counters[PB_MEASURE_N_COUNTERS];
	uint64_t events_seen;
	/* Decoding cost: from the write's return to these facts (with the wait for udev's uevent
	 * and, in --parallel, for the other targets' writes), and the work in it: ring records
	 * decoded into events, the window's assembly, device lookups (no waiting). */
	uint64_t decode_ns, decode_work_ns;
	bool lost_exact; /* lost counts are this window's own (PERF_FORMAT_LOST); false: they come
			  * from PERF_RECORD_LOST, which may be late (kernels before 6.0) */
	uint64_t lost_records;	    /* lost samples but slab: probes, pages may be missing */
	uint64_t lost_slab_records; /* PERF_RECORD_LOST of slab events: slab proxy undercounted */
	int device_node;
};

/* Chooses and prepares a method. -ENOTSUP when none works here (see pb_observer_methods_json). */
int pb_observer_open(const struct pb_observer_opts *o, struct pb_observer **ret);
void pb_observer_free(struct pb_observer *o);
const char *pb_observer_method(const struct pb_observer *o);
/*
 * With method auto only: leaves the current method for the next usable one (reason says why,
 * e.g. a bind succeeded and the method saw no probe). Returns the new method, -EPERM when a
 * method was asked for, -ENOTSUP when none is left (the current one stays), -EBUSY when armed.
 */
int pb_observer_fall_back(struct pb_observer *o, const char *reason);
/* Starts watching (call just before the bind write, in or for the writer thread). */
int pb_observer_arm(struct pb_observer *o, pid_t writer_tid);
/*
 * Optional, cheap: stops the events and reads the writer's counters right after the write, so the
 * costly decoding in pb_observer_disarm() can happen later, elsewhere (e.g. after parallel writes
 * ended). Returns 0, -EINVAL when not armed.
 */
int pb_observer_stop(struct pb_observer *o);
/* The write failed: the next disarm does not wait for the bind uevents (none will come). */
void pb_observer_write_failed(struct pb_observer *o);
/* Stops watching (unless stopped) and builds the facts of the window [write_start_ns,
 * write_end_ns]. */
int pb_observer_disarm(struct pb_observer *o, uint64_t write_start_ns, uint64_t write_end_ns,
		       struct pb_iteration_facts *ret);
void pb_iteration_facts_clear(struct pb_iteration_facts *f);
/*
 * Puts back kernel settings an observer changed and a killed process left (initcall_debug, noted
 * in the state directory while changed). Returns 1 when something was put back, 0 when nothing
 * was left, or -errno.
 */
int pb_observer_restore_kernel_settings(void);
/*
 * The kept-page watch: after the window's facts (f->held), follow frees of those pages until
 * pb_observer_kept_end(), which settles f->kept (state NEXT_UNBIND or RUN_END, or UNKNOWN with
 * the reason). One watch per observer: a new start ends the previous one as UNKNOWN. Starting
 * without held pages settles an empty kept at once. f->kept is created here (the facts hold a
 * reference). Returns 0 or -errno (f->kept is then UNKNOWN, with why). The page-free events are
 * one set for every observer of the process (their filter covers every watch in progress; each
 * watch takes the frees of its own pages): thread-safe.
 */
int pb_observer_kept_start(struct pb_observer *o, struct pb_iteration_facts *f);
int pb_observer_kept_end(struct pb_observer *o, enum pb_kept_state how);

/* Which methods exist here, and for those that do not, why. */
struct json_object *pb_observer_methods_json(void);
/*
 * What the observer holds: *shared the perf events it shares with every observer of the process
 * asking for the same events (their id tells one set from another: count each set once), *kept
 * the process's kept-page watch, one for every observer (count it once: its id; the most its
 * sets held at once, id NULL when it never opened), *counter_fds its writer counters (perf
 * events of one task), *other_fds its uevent sockets and /dev/kmsg.
 */
struct pb_perf_stats;
void pb_observer_resources(const struct pb_observer *o, struct pb_perf_stats *shared,
			   struct pb_perf_stats *kept, unsigned *counter_fds, unsigned *other_fds);
/* Observer-level facts for the run record: method, pfn map, printk levels, own buffer placement. */
struct json_object *pb_observer_info_json(const struct pb_observer *o);

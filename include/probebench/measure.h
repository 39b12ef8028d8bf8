/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Internals of the observer, split so the logic that decides what a probe was (pairing, hops,
 * attribution, pfn -> node, method choice, kmsg parsing) is pure and unit-tested without root.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "probebench/observer.h"

/* ---- pfn -> NUMA node (measure_pfn.c) ---------------------------------------------------- */
struct pb_pfn_range {
	uint64_t start_pfn, end_pfn; /* [start, end) */
	int node;
};
struct pb_pfnmap {
	struct pb_pfn_range *r;
	size_t n;
	const char *source; /* "memory_blocks" | "zoneinfo" | "none" */
	unsigned n_nodes;   /* highest node + 1 */
};
/* Memory-block tree under SYSFS/devices/system/{memory,node}; -ENOENT without memory blocks. */
int pb_pfnmap_load_blocks(struct pb_pfnmap *m, long page_size);
/* Per-node zone spans from text in /proc/zoneinfo format (coarse: spans include holes). */
int pb_pfnmap_parse_zoneinfo(const char *text, struct pb_pfnmap *m);
/* Blocks first, then PROC/zoneinfo. */
int pb_pfnmap_load(struct pb_pfnmap *m, long page_size);
int pb_pfnmap_node(const struct pb_pfnmap *m, uint64_t pfn); /* -1: unknown */
void pb_pfnmap_clear(struct pb_pfnmap *m);

/* ---- events, as decoded from perf records (measure_perf.c) -------------------------------- */
enum pb_mevent_type {
	PB_EV_WQ_QUEUE,
	PB_EV_WQ_START,
	PB_EV_WQ_END,
	PB_EV_CONSOLE, /* printk:console */
	PB_EV_SWITCH,  /* sched:sched_switch */
	PB_EV_MIGRATE, /* sched:sched_migrate_task */
	PB_EV_PAGE_ALLOC,
	PB_EV_SLAB_ALLOC,   /* kmem:kmalloc, kmem:kmem_cache_alloc */
	PB_EV_PROBE_ENTRY,  /* kprobe really_probe, with the device's and driver's names */
	PB_EV_PROBE_RETURN, /* kretprobe really_probe, with its return value */
	PB_EV_WAKEUP,	    /* sched:sched_waking, in the waker (pid) whichever CPU the woken task
			       (wake.pid) is on */
	PB_EV_PAGE_FREE,    /* kmem:mm_page_free (pfn, order), kmem:mm_page_free_batched (pfn,
			       order 0), by any task: page.pfn, page.order */
};

/* The tracefs group of the kprobe events (really_probe_PID, really_probe_ret_PID). */
#define PB_KPROBE_SYSTEM "probebench"

struct pb_mevent {
	enum pb_mevent_type type;
	uint64_t ts; /* CLOCK_MONOTONIC ns */
	int cpu;
	pid_t pid; /* common_pid / sample tid */
	bool irq;  /* recorded in hard or soft irq context */
	union {
		struct {
			uint64_t work, function;
			char fn[48]; /* name of function where known ("": the observer labels it) */
		} wq;
		char msg[160];
		struct {
			pid_t prev_pid, next_pid;
			long prev_state;
			int prev_prio, next_prio; /* kernel priorities: below 100 real-time */
			char next_comm[16], prev_comm[16];
		} sw;
		struct {
			pid_t pid;
			int dest_cpu;
		} mig;
		struct {
			uint64_t pfn;
			unsigned order;
		} page;
		struct {
			uint64_t bytes;
		} slab;
		struct {
			long ret;
			bool ret_known;
		} kret;
		struct {
			char dev[64], drv[64]; /* "": not fetched (no names on this architecture) */
		} kp;
		struct {
			pid_t pid;
			int target_cpu;
		} wake;
	};
};

/* "probe of X returned R after N usecs" -> 0, or -EINVAL when msg is something else. */
int pb_parse_probe_line(const char *msg, char *dev, size_t dev_size, int *ret, uint64_t *usecs);

/* One /dev/kmsg record "PRI,SEQ,TS_US,FLAGS;text" -> its timestamp (us) and text. */
int pb_parse_kmsg_record(const char *rec, uint64_t *ts_us, const char **text, size_t *text_len);

struct pb_assemble_in {
	const struct pb_mevent *ev; /* sorted by ts */
	size_t n;
	enum pb_measure_method method;
	pid_t writer_tid;
	uint64_t t0, t1;	 /* the bind write */
	const char *target_name; /* sysfs name of the target, names a nameless depth-0 probe */
	/* Whether the device NAME is the target or below it: 1 yes, 0 no, -1 unknown (NULL: all
	 * unknown). A probe of a named device is attributed by this, whichever task ran it. */
	int (*belongs)(const char *name, void *ud);
	/* Whether the device NAME sits below the device ANCESTOR now: 1 yes, 0 no, -1 unknown
	 * (NULL: all unknown). Settles nesting when starts are estimates. Both get belongs_ud. */
	int (*below)(const char *name, const char *ancestor, void *ud);
	void *belongs_ud;
	int device_node;
	const int *cpu_node; /* CPU -> node, n_cpus entries */
	int n_cpus;
	const struct pb_pfnmap *pfnmap; /* NULL: no memory facts */
	bool frees;			/* page frees were traced (PB_EV_PAGE_FREE) */
	/* kmsg method: the lines seen, with kmsg timestamps (us, kernel local clock). */
	const char *const *kmsg_lines;
	const uint64_t *kmsg_ts_us;
	size_t n_kmsg;
};

/* Builds probes[], pages and slab facts of *out (device bus/driver are left empty). */
int pb_measure_assemble(const struct pb_assemble_in *in, struct pb_iteration_facts *out);

/* ---- pages freed again, pages kept (measure_kept.c) ---------------------------------------- */
/*
 * Adds to b[i].freed the pages of each block covered by a PB_EV_PAGE_FREE event (any task) after
 * the block's allocation (ts); freed stays at most the block's size. ev: any events, any order.
 * -ENOMEM.
 */
int pb_blocks_apply_frees(struct pb_page_block *b, size_t n, const struct pb_mevent *ev,
			  size_t n_ev);
/* The same for the frees before until only (ts < until): a watch that moved to another set of
 * events takes from each set the frees of its own time. */
int pb_blocks_apply_frees_until(struct pb_page_block *b, size_t n, const struct pb_mevent *ev,
				size_t n_ev, uint64_t until);
/*
 * A watch moves from one set of events to another whose events it sees from at on: it takes the
 * frees the old set saw before at (ev: that set's records, every watch's: only the blocks' own
 * pfns count), and the blocks count frees from at on, so that the new set's records before at
 * (seen by the old one too) do not count twice. -ENOMEM.
 */
int pb_blocks_move(struct pb_page_block *b, size_t n, const struct pb_mevent *ev, size_t n_ev,
		   uint64_t at);
/*
 * An ftrace filter on pfn that lets through every page of the blocks (and possibly a few more:
 * beyond max_ranges ranges, the closest ones are merged): "(pfn >= A && pfn < B) || ...".
 * Returns its length, or -ENOSPC when it does not fit size, -EINVAL with no block.
 */
int pb_blocks_pfn_filter(const struct pb_page_block *b, size_t n, size_t max_ranges, char *buf,
			 size_t size);
/* The same with as many ranges as fit size, at most max_ranges (halved until the text fits:
 * the ranges grow, every page of the blocks still passes). -ENOSPC when not even one fits. */
int pb_blocks_pfn_filter_fit(const struct pb_page_block *b, size_t n, size_t max_ranges, char *buf,
			     size_t size);
/* Fills k's pages (by node, unknown, total) from what the blocks still hold (size - freed);
 * k->freed_pages: the sum of the blocks' freed. */
void pb_kept_from_blocks(const struct pb_page_block *b, size_t n, struct pb_kept_pages *k);

/* ---- slab objects by cache and node (measure_slab.c) ------------------------------------- */
struct pb_slab_count {
	char cache[40];
	uint64_t total, by_node[PB_MEASURE_MAX_NODES];
	unsigned n_nodes;
};
struct pb_slab_snap {
	struct pb_slab_count *caches; /* sorted by name */
	size_t n;
};
/* "TOTAL N0=A N1=B" (SLUB's objects file) -> total and by node. -EINVAL when malformed. */
int pb_slab_parse_objects(const char *text, uint64_t *total, uint64_t *by_node, unsigned max_nodes,
			  unsigned *n_nodes);
/* Every cache's objects in use by node, from SYSFS/kernel/slab (merged caches once: links to
 * them are skipped). -ENOENT when there is none (no SLUB, no statistics), -errno. */
int pb_slab_snapshot(struct pb_slab_snap *s);
void pb_slab_snap_clear(struct pb_slab_snap *s);
/* The caches whose counts changed from before to after (a cache new in after counts from 0),
 * the largest changes first, at most max_caches of them. *ret malloc'ed. -ENOMEM. */
int pb_slab_diff(const struct pb_slab_snap *before, const struct pb_slab_snap *after,
		 size_t max_caches, struct pb_slab_delta **ret, size_t *ret_n);

/* ---- method choice (observer.c) ------------------------------------------------------------ */
struct pb_measure_caps {
	bool kprobe_events;  /* tracefs kprobe_events writable (CONFIG_KPROBE_EVENTS) */
	bool tracepoints;    /* tracefs event ids readable and perf_event_open works */
	bool printk_console; /* printk:console tracepoint exists */
	bool initcall_debug; /* /sys/module/kernel/parameters/initcall_debug writable */
	bool dev_kmsg;	     /* /dev/kmsg readable */
};
/*
 * Picks the best usable method (or checks the wanted one). Fills why[m] for each unusable method.
 * Returns the method or -ENOTSUP.
 */
int pb_measure_choose(const struct pb_measure_caps *c, enum pb_measure_method want,
		      const char *why[_PB_METHOD_MAX]);

/* ---- the shared observer's rings and windows (measure_window.c) --------------------------- */
/*
 * Ring pages per CPU (each CPU has two rings: the flood ring and the rest) when --ring-pages is
 * not given: PB_RING_BUDGET_PAGES over all CPUs per kind of ring, as a power of two between
 * PB_RING_MIN_PAGES and PB_RING_MAX_PAGES. 4 CPUs: 128 pages (the size the guest tests were
 * made with), 64 CPUs: 16, so locked memory grows by half the CPUs' ratio at most.
 * The spill thread empties a ring at a quarter full while the window lasts, so a small ring
 * loses records only when a CPU writes a quarter ring faster than the thread can copy it;
 * losses stay counted (lost_records, lost_slab_records) and --ring-pages raises it.
 */
#define PB_RING_BUDGET_PAGES 512u
#define PB_RING_MIN_PAGES    16u
#define PB_RING_MAX_PAGES    128u
/* asked (a power of two, --ring-pages) when not 0, else the budget's share for n_cpus CPUs. */
unsigned pb_perf_ring_pages_for(long n_cpus, unsigned asked);
/*
 * The kept-page watch's ring per CPU (one watch per process: its filter covers the held pages of
 * every target's watch in progress): PB_KEPT_RING_BUDGET_PAGES over the CPUs, 2 to 16 pages (16
 * up to 4 CPUs, as before; 2 from 32 CPUs on). Only frees of the held pages pass the filter;
 * devices freeing more of them on one CPU than its ring holds make the watches on it inexact
 * (kept.exact).
 */
#define PB_KEPT_RING_BUDGET_PAGES 64u
#define PB_KEPT_RING_MIN_PAGES	  2u
#define PB_KEPT_RING_MAX_PAGES	  16u
unsigned pb_perf_kept_ring_pages_for(long n_cpus);
/*
 * One target's window from the records decoded for every target sharing the rings: those with
 * start <= ts <= stop, copied to out (room for n) sorted by time. Returns how many. Which of them
 * are the target's (its probes, its hops) the assembly decides, as when each target had rings of
 * its own: those saw every task on every CPU as well.
 */
size_t pb_mevent_window(const struct pb_mevent *pool, size_t n, uint64_t start, uint64_t stop,
			struct pb_mevent *out);
/* Drops the records older than keep_from (no open window needs them), keeping the order.
 * Returns the new count. */
size_t pb_mevent_trim(struct pb_mevent *pool, size_t n, uint64_t keep_from);

/* The "dropped events: N" of an ftrace instance's per_cpu/cpuN/stats; -EINVAL without one. */
int pb_ftrace_stats_dropped(const char *stats, uint64_t *dropped);
/* The pid in an instance name PB_FTRACE_INSTANCE_PREFIX "PID_..." (probebench's own), or
 * -EINVAL for any other name. */
#define PB_FTRACE_INSTANCE_PREFIX "probebench_"
long pb_ftrace_instance_pid(const char *name);

/* Stack of the observer's threads (ring spill, uevent listener): they only poll and copy. */
#define PB_OBSERVER_THREAD_STACK (256u << 10)

/* ---- the observer's buffer: perf events or ftrace instances ------------------------------- */
/*
 * perf holds one descriptor per traced event per CPU (14 a CPU with kprobes and kmem events, the
 * kept-page watch's 2 more): 64 on 4 CPUs, 1,024 on 64. Above a quarter of the common soft limit
 * of 1024 descriptors, auto takes the ftrace buffer, whose descriptors do not grow with the CPUs.
 */
#define PB_PERF_AUTO_MAX_FDS 256
/* The buffer asked for (auto: by what perf would hold: n_events on n_cpus CPUs); why gets the
 * reason in words. */
enum pb_buffer pb_buffer_choose(enum pb_buffer asked, size_t n_events, long n_cpus, char *why,
				size_t why_size);

/* ---- ftrace instances as the observer's buffer (measure_ftrace.c) ---------------------------- */
struct pb_ftbuf;
struct pb_ftbuf_event {
	const char *sys, *name;
};
/* A tracefs instance (instances/probebench_PID_N_ROLE) with those events enabled, recording off,
 * clock mono, kb_per_cpu KiB a CPU, dropping (and counting) what a full CPU buffer cannot take.
 * Removes first the instances of probebench processes that are gone. why names what failed. */
int pb_ftbuf_open(const char *role, const struct pb_ftbuf_event *ev, size_t n, size_t kb_per_cpu,
		  struct pb_ftbuf **ret, char *why, size_t why_size);
/* Recording on or off: one write to the instance's tracing_on. */
int pb_ftbuf_on(struct pb_ftbuf *b, bool on);
/* Sets an ftrace filter on one event of the instance. */
int pb_ftbuf_set_filter(struct pb_ftbuf *b, const char *sys, const char *name, const char *filter);
/* Each record the buffers hold (consumed), CPU by CPU in turn: its CPU, timestamp (ns of the
 * instance's clock) and raw data (a struct tep_record's data). A negative return stops. */
typedef int (*pb_ftbuf_fn)(int cpu, uint64_t ts, void *data, int size, void *ud);
int pb_ftbuf_read(struct pb_ftbuf *b, pb_ftbuf_fn fn, void *ud);
/* The records the buffers dropped since the instance was made, every CPU: -EIO unreadable. */
int pb_ftbuf_dropped(struct pb_ftbuf *b, uint64_t *total);
unsigned pb_ftbuf_fds(const struct pb_ftbuf *b); /* held: its tracing_on */
/* How full the fullest CPU's buffer was at the last read (its bytes / a CPU's buffer). */
double pb_ftbuf_last_fill(const struct pb_ftbuf *b);
uint64_t pb_ftbuf_bytes(const struct pb_ftbuf *b); /* its buffers, every CPU */
/* Removes the instances of probebench processes that are gone; returns how many. */
int pb_ftbuf_remove_stale(void);
void pb_ftbuf_free(struct pb_ftbuf *b);

/* ---- perf_event_open plumbing (measure_perf.c) ------------------------------------------- */
struct pb_perf;
struct pb_perf_opts {
	bool kprobes;	 /* really_probe through tracefs kprobe events (shared by the process) */
	bool console;	 /* printk:console */
	bool memory;	 /* kmem:mm_page_alloc, kmem:kmalloc, kmem:kmem_cache_alloc, and the page
			  * frees (into the flood ring, with the slab events) */
	bool frees_only; /* only kmem:mm_page_free and mm_page_free_batched (the kept-page watch) */
	/* With memory: kmalloc and kmem_cache_alloc write samples into the flood ring (their
	 * sizes, the sampled slab proxy). Without, they only count (pb_perf_slab_counts()): no
	 * record per allocation, the larger part of what the events cost inside a bind. */
	bool slab_samples;
	unsigned ring_pages; /* per CPU and ring; 0: pb_perf_ring_pages_for() */
	/* One set of events for every caller of the process asking for the same ones (the
	 * targets of a run): each handle has its own windows, counts and losses. Not with a
	 * filter (pb_perf_set_filter() then fails with -EBUSY). */
	bool shared;
	/* The buffer (pb_buffer_choose()): perf events and their rings, or ftrace instances
	 * (measure_ftrace.c): descriptors that do not grow with the CPUs; the slab allocations
	 * are then records (no counting-only event). */
	enum pb_buffer buffer;
};
/* What one set of events holds (shared ones: once for all their handles). */
struct pb_perf_stats {
	const void *id;	      /* the same for every handle of one set */
	unsigned fds;	      /* perf events and the spill thread's pipe */
	unsigned perf_events; /* of them, perf events: one per event per CPU */
	unsigned rings, ring_pages, cpus;
	uint64_t locked_bytes;	/* the mmap'ed rings: (ring_pages + 1) pages each, what perf
				 * charges to RLIMIT_MEMLOCK / perf_event_mlock_kb */
	unsigned users;		/* handles */
	bool ftrace;		/* the buffer is an ftrace instance: locked_bytes are its buffers */
	const char *buffer_why; /* why this buffer (auto: the descriptors perf would hold) */
	bool slab_perf; /* the slab allocations counted by perf counting events (else records) */
	uint64_t records_decoded, decode_ns; /* by every drain so far: ring records to events */
};
void pb_perf_stats(const struct pb_perf *p, struct pb_perf_stats *s);
/* 0 when SYS:NAME exists in tracefs and perf_event_open accepts it, else -errno. */
int pb_perf_tracepoint_usable(const char *sys, const char *name);
/* 0 when tracefs has a writable kprobe_events file, else -errno. */
int pb_kprobe_events_usable(void);
/* The entry event names the device and driver on this architecture (x86-64, arm64). */
bool pb_kprobe_fetches_names(void);
/* Removes the kprobe events left by probebench processes that are gone; returns how many. */
int pb_kprobe_events_remove_stale(void);
/*
 * Opens every event on every online CPU, disabled (or, shared, a handle on the set already
 * open). Raises the soft RLIMIT_NOFILE when the events need it; why gets a reason on failure
 * (-EMFILE: how many descriptors they need and the limit).
 */
int pb_perf_open(const struct pb_perf_opts *o, struct pb_perf **ret, char *why, size_t why_size);
/*
 * Another handle on the set of events p holds, shared or not (e.g. one per watch of a filtered
 * set): its own windows, counts and losses, as with shared sets. The set is freed with its last
 * handle.
 */
int pb_perf_open_more(struct pb_perf *p, struct pb_perf **ret);
/* Opens the handle's window (the events are on while any handle's window is open). */
int pb_perf_enable(struct pb_perf *p);
/*
 * Adds the slab counts of the last window (the kmalloc and kmem_cache_alloc events' own counts,
 * every task, per CPU: never lost, even when their samples are) to by_node by the CPU's node.
 * -ENOENT when there are none (memory off), -EIO when they could not be read.
 */
int pb_perf_slab_counts(struct pb_perf *p, const int *cpu_node, int n_cpus, uint64_t *by_node,
			unsigned max_nodes, unsigned *n_nodes);
/* Closes the handle's window: its end time, counts and losses are taken. */
int pb_perf_disable(struct pb_perf *p);
/* Sets an ftrace filter (e.g. "pfn >= 4096 && pfn < 4112") on every event of that type. */
int pb_perf_set_filter(struct pb_perf *p, enum pb_mevent_type type, const char *filter);
/* The records of the handle's last window (closing it if open), sorted by time; none when no
 * window was opened since the last drain. *ret is malloc'ed. ret_lost, ret_lost_slab: the
 * PERF_RECORD_LOST counts that came in while the window was open (kernels before 6.0). */
int pb_perf_drain(struct pb_perf *p, struct pb_mevent **ret, size_t *ret_n, uint64_t *ret_lost,
		  uint64_t *ret_lost_slab);
/*
 * Samples the kernel could not write while the handle's last window was open, counted by each
 * event itself (PERF_FORMAT_LOST, 6.0+): exact per window (with shared events, losses of
 * records of another window open at the same time count too). -ENOTSUP on older kernels, where
 * losses are known only from PERF_RECORD_LOST, which the kernel writes with the next record that
 * fits.
 */
int pb_perf_lost(struct pb_perf *p, uint64_t *ret_lost, uint64_t *ret_lost_slab);
/* Name of the kernel function at addr (kallsyms, looked up once per address); -ENOENT. */
int pb_perf_symbol(struct pb_perf *p, uint64_t addr, char *buf, size_t size);
void pb_perf_free(struct pb_perf *p);

/* Counters of one task (task-clock, context switches, migrations, faults, cycles, instrs). */
struct pb_counters;
int pb_counters_open(pid_t tid, struct pb_counters **ret);
pid_t pb_counters_tid(const struct pb_counters *c);
int pb_counters_enable(struct pb_counters *c);
int pb_counters_read(struct pb_counters *c, struct pb_counter out[PB_MEASURE_N_COUNTERS]);
void pb_counters_free(struct pb_counters *c);
/* File descriptors it holds (one per counter the kernel has). */
unsigned pb_counters_fds(const struct pb_counters *c);

/* ---- uevents (measure_uevent.c) ----------------------------------------------------------- */
struct pb_uevents;
/* subsystem (e.g. "pci") filters udev's copies in the kernel; NULL: all. */
int pb_uevents_open(const char *subsystem, struct pb_uevents **ret);
/* Classic BPF socket filter passing only a kernel uevent "bind@DEVPATH". -E2BIG: path too long. */
struct sock_filter;
int pb_uevent_filter(const char *devpath, struct sock_filter *prog, size_t max, size_t *ret_n);
/* Drops what is queued, then watches for ACTION=bind of devpath (sysfs path below /sys). */
int pb_uevents_arm(struct pb_uevents *u, const char *devpath);
/* Waits up to wait_ns for udev's copy; times in CLOCK_MONOTONIC ns, 0 = not seen. */
int pb_uevents_collect(struct pb_uevents *u, uint64_t wait_ns, uint64_t *ret_kernel_ns,
		       uint64_t *ret_udev_ns);
void pb_uevents_free(struct pb_uevents *u);
/* File descriptors it holds (netlink socket, udev monitor, wake-up eventfd). */
unsigned pb_uevents_fds(const struct pb_uevents *u);
/* udevd running (its control socket exists): only then does udev's copy come. */
bool pb_uevents_udev_running(const struct pb_uevents *u);

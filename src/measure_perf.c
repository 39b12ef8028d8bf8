// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Trace events and kprobes through perf_event_open: one disabled group per online CPU, enabled
 * only while a bind window is open. Each CPU has two mmap'ed rings: the page frees and, when
 * sampled (slab_samples), the slab events (kmalloc, kmem_cache_alloc) write into one, every other
 * event (probes, workqueue, sched, console, page allocations) into the other, so that a flood of
 * slab allocations (an ACPI method interpreted during a probe makes 100k of them) can overflow
 * only the slab proxy, never the probe records or the pages by node. Unsampled, the slab events
 * only count (read with the group's counts): no record per allocation. The other ring wakes a spill
 * thread when a quarter full, which moves its records out while the window lasts: large page floods
 * are kept whole (see spill_main()). Sample times are CLOCK_MONOTONIC (use_clockid) so they compare
 * with the write timestamps. Raw tracepoint records are decoded with libtraceevent, formats from
 * libtracefs.
 *
 * One set of events serves every observer of the process that asks for the same events
 * (shared: the targets of a run, --parallel ones included): the events see every task on every
 * CPU, so each target's rings saw the other targets' records anyway. A struct pb_perf is one
 * observer's handle on the shared set (struct perf_core): its window is [enable, disable] in
 * CLOCK_MONOTONIC; the events are on while any window is open; a drain decodes what the rings
 * hold into the core's pool and hands the handle the records of its window; records no open
 * window needs are dropped. Counters and lost counts are read at each window's ends (one group
 * read per CPU) and the handle keeps the difference, so they are the window's own. File
 * descriptors and locked memory then grow with the CPUs, no longer with the targets.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <event-parse.h>
#include <tracefs.h>

#include "probebench/measure.h"
#include "probebench/paths.h"
#include "probebench/util.h"

#define TP_FLAG_IRQ_MASK (0x08 | 0x10 | 0x40) /* hardirq, softirq, nmi */

struct spec {
	enum pb_mevent_type type;
	const char *sys, *name; /* trace event (the kprobe events too) */
	struct tep_event *ev;
};

struct pevent {
	int fd;
	int cpu;
	uint64_t id;
	const struct spec *spec;
};

struct cpu_ring {
	int cpu;
	int leader; /* the CPU's group leader (the same for both rings of a CPU) */
	int fd;	    /* the event that owns the ring (polled for its watermark) */
	bool slab;  /* the slab events' ring */
	void *base;
	size_t size; /* data area */
	/* Records copied out of the ring before the window ended (the spill thread or drain),
	 * whole and in order, under lock. */
	pthread_mutex_t lock;
	uint8_t *spill;
	size_t spill_len, spill_cap;
};

/* A window's records beyond this per ring stay in the ring (which may then lose some: counted). */
#define SPILL_MAX (64u << 20)

/* The ftrace instances of a core (ftrace). */
enum { FT_EVENTS, FT_FREES, FT_SLAB, FT_N };

struct perf_core {
	struct tep_handle *tep;
	struct spec specs[16];
	size_t n_specs;
	struct pevent *ev;
	size_t n_ev;
	struct cpu_ring *rings;
	size_t n_rings;
	size_t page_size;
	unsigned ring_pages;
	struct {
		uint64_t addr;
		char name[48]; /* "" not found (or symbols hidden) */
	} syms[32];
	size_t n_syms;
	bool kprobes; /* holds the process's kprobe events (kp_get) */
	pthread_t spill_thread;
	bool spilling; /* the thread runs */
	int stop_pipe[2];
	bool lost_exact; /* PERF_FORMAT_LOST: each event counts its own lost samples */
	/* One group per CPU: its leader (read with PERF_FORMAT_GROUP: every member's count and
	 * lost samples in one read) and its events, ev[first .. first + n). */
	struct cpu_group {
		int leader;
		size_t first, n;
	} * groups;
	size_t n_groups;
	struct id_index {
		uint64_t id;
		size_t ev;
	} * ids; /* the sampled events by ID, sorted: a record finds its event by bsearch */
	size_t n_ids;
	/* Sharing (perf_core_get): observers with the same events use one core. */
	struct pb_perf_opts key;
	unsigned refs;
	struct perf_core *next;
	/* Below: under lock. */
	pthread_mutex_t lock;
	unsigned n_enabled;	/* windows open now: the events are on while it is not 0 */
	struct pb_perf *open;	/* handles whose window has not been drained yet */
	struct pb_mevent *pool; /* decoded records an open window may still need */
	size_t n_pool, cap_pool;
	uint64_t rec_lost[2];		/* PERF_RECORD_LOST totals: other ring, flood ring */
	uint64_t *idle_val, *idle_lost; /* every event's count and lost samples while off */
	bool idle_ok; /* they were read (a failed read: the next window is uncounted) */
	uint64_t records_decoded, decode_ns; /* all drains: for the decoding rate */
	/* The buffer is ftrace instances (ftrace): ft[FT_EVENTS] the other events, ft[FT_FREES]
	 * the page frees, ft[FT_SLAB] the slab allocations (their floods drop only their own
	 * records); no perf event, ring or thread. Their counts are the records each dropped
	 * (lost[FT_*]): n_cnt FT_N. */
	struct pb_ftbuf *ft[FT_N];
	bool ftrace; /* the buffer: ftrace instances (else perf events) */
	/* ftrace: the slab allocations counted by perf counting events (ev, groups: two a CPU,
	 * their counts at val[FT_N + i]) rather than recorded in an instance */
	bool ft_slab_perf;
	char buffer_why[160]; /* why that one (pb_buffer_choose()) */
	bool ft_dirty;	      /* recording was on since the instances were last read empty */
	/* ftrace: the drops are read once per epoch (events on to off), not at each window's
	 * ends (3 instances x every CPU's stats file): at its start (epoch_lost) and, lazily, when
	 * first needed after its end (idle_stale until then). Windows that overlap in one epoch
	 * each count all of its drops (conservative, as with perf's overlapping windows). */
	bool idle_stale;
	uint64_t epoch_lost[FT_N];
	bool epoch_ok;
	/* The ftrace spill thread: it reads the instances every FT_SPILL_NS while a window
	 * lasts longer than that (woken by ft_cond when one opens); under lock. */
	pthread_t ft_thread;
	pthread_cond_t ft_cond;
	bool ft_thread_on, ft_cond_on, ft_stop;
	uint64_t ft_on_ns;    /* when the events were last turned on */
	uint64_t ft_spill_ns; /* the spill thread's interval now */
	long ncpu;	      /* CPUs the kernel may bring up (sysconf _SC_NPROCESSORS_CONF) */
	size_t n_cnt; /* counts read at a window's ends: perf: one per event; ftrace: FT_N */
};

/* One observer's handle on a core: its window and the counts at the window's ends. */
struct pb_perf {
	struct perf_core *c;
	bool enabled; /* the window is open */
	bool window;  /* a window was opened and not drained yet (on c->open) */
	bool counted; /* the counts at both ends of the last window were read */
	uint64_t start_ns, stop_ns;
	uint64_t *base_val, *base_lost, *end_val, *end_lost; /* per event of the core */
	uint64_t rec_base[2];
	uint64_t *slab_cpu; /* ftrace: the last window's slab allocation records per CPU */
	bool end_pending;   /* ftrace: the window's end counts are its epoch's, not read yet */
	struct pb_perf *next_open;
};

static long perf_open(struct perf_event_attr *a, pid_t pid, int cpu, int group, unsigned long fl)
{
	return syscall(SYS_perf_event_open, a, pid, cpu, group, fl);
}

int pb_perf_tracepoint_usable(const char *sys, const char *name)
{
	int size = 0;
	char *id = tracefs_event_file_read(NULL, sys, name, "id", &size);
	long v;
	if (!id || size <= 0) {
		free(id);
		return -ENOENT;
	}
	id[strcspn(id, "\n")] = 0;
	int r = pb_parse_long(id, 10, 0, INT32_MAX, &v);
	free(id);
	if (r < 0)
		return r;
	struct perf_event_attr a = {.size = sizeof(a),
				    .type = PERF_TYPE_TRACEPOINT,
				    .config = (uint64_t)v,
				    .sample_period = 1,
				    .disabled = 1};
	long fd =
	    perf_open(&a, -1, sched_getcpu() >= 0 ? sched_getcpu() : 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	close((int)fd);
	return 0;
}

/* ---- kprobe events on really_probe ---------------------------------------------------------
 * One tracefs kprobe and one kretprobe per process, shared by every observer of the process
 * (parallel targets), opened through perf as trace events on each CPU. The kernel then runs one
 * kprobe handler per really_probe call whatever the number of CPUs and observers, so the
 * observer's own cost inside a measured probe does not depend on the CPU it runs on (one perf
 * kprobe PMU event per CPU registers one kprobe each: N handlers on every call). The entry event
 * fetches the device's and the driver's names from really_probe's arguments (struct device and
 * struct device_driver both begin with their name pointer), so a probe is attributed by the
 * device it is of, whichever task runs it. The return event carries the return value.
 * Events are named after the process (PB_KPROBE_SYSTEM/really_probe_PID): those of processes
 * that are gone (killed before they could remove them) are removed when the next one starts. */
#if defined(__x86_64__)
#define KP_ARGS "dev=+0(+0(%di)):string drv=+0(+0(%si)):string"
#elif defined(__aarch64__)
#define KP_ARGS "dev=+0(+0(%x0)):string drv=+0(+0(%x1)):string"
#else
#define KP_ARGS NULL /* no names: probes are attributed by task and time only */
#endif

bool pb_kprobe_fetches_names(void)
{
	return KP_ARGS != NULL;
}

static pthread_mutex_t kp_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned kp_users;
static struct tracefs_dynevent *kp_ev[2]; /* entry, return */
static char kp_name[2][48];

int pb_kprobe_events_usable(void)
{
	/* libtracefs, which adds the events, mounts tracefs when it is not mounted yet (as root);
	 * the access layer then finds it in the mount table. */
	if (!tracefs_tracing_dir())
		return -ENOENT;
	return pb_access(PB_ROOT_TRACEFS, W_OK, "kprobe_events");
}

int pb_kprobe_events_remove_stale(void)
{
	struct tracefs_dynevent **all = tracefs_dynevent_get_all(
	    TRACEFS_DYNEVENT_KPROBE | TRACEFS_DYNEVENT_KRETPROBE, PB_KPROBE_SYSTEM);
	int removed = 0;
	for (size_t i = 0; all && all[i]; i++) {
		char *event = NULL;
		tracefs_dynevent_info(all[i], NULL, &event, NULL, NULL, NULL);
		const char *us = event ? strrchr(event, '_') : NULL;
		long pid;
		if (us && pb_parse_long(us + 1, 10, 1, INT32_MAX, &pid) == 0 &&
		    kill((pid_t)pid, 0) < 0 && errno == ESRCH &&
		    tracefs_dynevent_destroy(all[i], true) == 0)
			removed++;
		free(event);
	}
	tracefs_dynevent_list_free(all);
	return removed;
}

static void kp_put(void)
{
	pthread_mutex_lock(&kp_lock);
	if (kp_users && --kp_users == 0)
		for (int i = 1; i >= 0; i--) {
			if (!kp_ev[i])
				continue;
			tracefs_dynevent_destroy(kp_ev[i], true);
			tracefs_dynevent_free(kp_ev[i]);
			kp_ev[i] = NULL;
		}
	pthread_mutex_unlock(&kp_lock);
}

static int kp_get(char *why, size_t why_size)
{
	int r = 0;
	pthread_mutex_lock(&kp_lock);
	if (kp_users == 0) {
		pb_kprobe_events_remove_stale();
		snprintf(kp_name[0], sizeof(kp_name[0]), "really_probe_%d", (int)getpid());
		snprintf(kp_name[1], sizeof(kp_name[1]), "really_probe_ret_%d", (int)getpid());
		kp_ev[0] =
		    tracefs_kprobe_alloc(PB_KPROBE_SYSTEM, kp_name[0], "really_probe", KP_ARGS);
		kp_ev[1] = tracefs_kretprobe_alloc(PB_KPROBE_SYSTEM, kp_name[1], "really_probe",
						   "ret=$retval:s32", 0);
		for (int i = 0; i < 2 && r == 0; i++)
			if (!kp_ev[i] || tracefs_dynevent_create(kp_ev[i]) < 0) {
				r = errno ? -errno : -EIO;
				snprintf(why, why_size,
					 "cannot create the kprobe event %s/%s on really_probe in "
					 "tracefs kprobe_events: %s",
					 PB_KPROBE_SYSTEM, kp_name[i], strerror(-r));
			}
		if (r < 0) {
			for (int i = 1; i >= 0; i--) {
				if (kp_ev[i])
					tracefs_dynevent_destroy(kp_ev[i], true);
				tracefs_dynevent_free(kp_ev[i]);
				kp_ev[i] = NULL;
			}
			pthread_mutex_unlock(&kp_lock);
			return r;
		}
	}
	kp_users++;
	pthread_mutex_unlock(&kp_lock);
	return 0;
}

/* Labels work functions: records carry addresses only. A few distinct functions show up in hops,
 * so each is looked up once in kallsyms and kept. */
static int core_symbol(struct perf_core *p, uint64_t addr, char *buf, size_t size)
{
	char line[512];
	for (size_t i = 0; i < p->n_syms; i++)
		if (p->syms[i].addr == addr) {
			snprintf(buf, size, "%s", p->syms[i].name);
			return buf[0] ? 0 : -ENOENT;
		}
	buf[0] = 0;
	FILE *f;
	int r = pb_fopen(PB_ROOT_PROC, &f, "kallsyms");
	if (r < 0)
		return r;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a;
		char type, name[256];
		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3)
			continue;
		if (a == addr && addr) { /* kptr_restrict hides them all as 0 */
			snprintf(buf, size, "%s", name);
			break;
		}
	}
	fclose(f);
	if (p->n_syms < sizeof(p->syms) / sizeof(p->syms[0])) {
		p->syms[p->n_syms].addr = addr;
		snprintf(p->syms[p->n_syms].name, sizeof(p->syms[0].name), "%s", buf);
		p->n_syms++;
	}
	return buf[0] ? 0 : -ENOENT;
}

static void add_spec(struct perf_core *p, enum pb_mevent_type t, const char *sys, const char *name)
{
	p->specs[p->n_specs++] = (struct spec){.type = t, .sys = sys, .name = name};
}

/* Moves what the kernel wrote to the ring since the last call into its spill buffer. */
static void ring_copy(struct perf_core *p, struct cpu_ring *cr)
{
	struct perf_event_mmap_page *mp = cr->base;
	const uint8_t *data = (const uint8_t *)cr->base + p->page_size;
	uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = mp->data_tail;
	size_t len = (size_t)(head - tail);
	if (!len)
		return;
	if (cr->spill_len + len > cr->spill_cap) {
		size_t cap = cr->spill_cap ? cr->spill_cap : 64 * 1024;
		while (cap < cr->spill_len + len)
			cap *= 2;
		uint8_t *n = cap <= SPILL_MAX ? realloc(cr->spill, cap) : NULL;
		if (!n)
			return; /* left in the ring: what no longer fits there is counted as lost */
		cr->spill = n;
		cr->spill_cap = cap;
	}
	size_t off = tail % cr->size, first = cr->size - off < len ? cr->size - off : len;
	memcpy(cr->spill + cr->spill_len, data + off, first);
	memcpy(cr->spill + cr->spill_len + first, data, len - first);
	cr->spill_len += len;
	__atomic_store_n(&mp->data_tail, head, __ATOMIC_RELEASE);
}

/*
 * The spill thread: the rings of the probe, workqueue, sched and page events wake it when a
 * quarter full (a watermark), never per record, and it moves their records out, so that a probe
 * that allocates tens of thousands of pages loses none. A normal window never wakes it. The slab
 * rings have no watermark: their floods are counted exactly by counters, and copying 100k
 * records in the middle of a probe would cost the probe more than the proxy is worth.
 */
static void *spill_main(void *arg)
{
	struct perf_core *p = arg;
	struct pollfd *fds = calloc(p->n_rings + 1, sizeof(*fds));
	size_t *idx = calloc(p->n_rings + 1, sizeof(*idx)), n = 0;
	if (!fds || !idx)
		goto out;
	fds[n++] = (struct pollfd){.fd = p->stop_pipe[0], .events = POLLIN};
	for (size_t i = 0; i < p->n_rings; i++)
		if (!p->rings[i].slab) {
			idx[n] = i;
			fds[n++] = (struct pollfd){.fd = p->rings[i].fd, .events = POLLIN};
		}
	for (;;) {
		if (poll(fds, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[0].revents)
			break;
		for (size_t k = 1; k < n; k++) {
			if (!(fds[k].revents & POLLIN))
				continue;
			struct cpu_ring *cr = &p->rings[idx[k]];
			pthread_mutex_lock(&cr->lock);
			ring_copy(p, cr);
			pthread_mutex_unlock(&cr->lock);
		}
	}
out:
	free(fds);
	free(idx);
	return NULL;
}

static void core_free(struct perf_core *p)
{
	if (!p)
		return;
	if (p->spilling) {
		char c = 0;
		if (write(p->stop_pipe[1], &c, 1) == 1)
			pthread_join(p->spill_thread, NULL);
	}
	if (p->ft_thread_on) {
		pthread_mutex_lock(&p->lock);
		p->ft_stop = true;
		pthread_cond_signal(&p->ft_cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->ft_thread, NULL);
	}
	if (p->ft_cond_on)
		pthread_cond_destroy(&p->ft_cond);
	for (int i = 0; i < 2; i++)
		if (p->stop_pipe[i] >= 0)
			close(p->stop_pipe[i]);
	for (size_t i = 0; i < p->n_rings; i++) {
		if (p->rings[i].base)
			munmap(p->rings[i].base, p->rings[i].size + p->page_size);
		free(p->rings[i].spill);
		pthread_mutex_destroy(&p->rings[i].lock);
	}
	for (size_t i = 0; i < p->n_ev; i++)
		if (p->ev[i].fd >= 0)
			close(p->ev[i].fd);
	for (int i = 0; i < FT_N; i++)
		pb_ftbuf_free(p->ft[i]); /* before the kprobe events enabled in them go */
	if (p->kprobes)
		kp_put(); /* after the perf events on them are closed */
	free(p->rings);
	free(p->ev);
	free(p->groups);
	free(p->ids);
	free(p->pool);
	free(p->idle_val);
	free(p->idle_lost);
	pthread_mutex_destroy(&p->lock);
	if (p->tep)
		tep_free(p->tep);
	free(p);
}

/* The format of every event asked for, from tracefs (parsed once per event). */
static int perf_spec_formats(struct perf_core *p, char *why, size_t why_size)
{
	for (size_t i = 0; i < p->n_specs; i++) {
		struct spec *s = &p->specs[i];
		s->ev = tep_find_event_by_name(p->tep, s->sys, s->name);
		if (!s->ev) {
			int size = 0;
			char *fmt = tracefs_event_file_read(NULL, s->sys, s->name, "format", &size);
			if (fmt && size > 0)
				tep_parse_event(p->tep, fmt, (size_t)size, s->sys);
			free(fmt);
			s->ev = tep_find_event_by_name(p->tep, s->sys, s->name);
		}
		if (!s->ev) {
			snprintf(why, why_size, "no tracepoint %s:%s (tracefs at %s)", s->sys,
				 s->name,
				 tracefs_tracing_dir() ? tracefs_tracing_dir() : "not mounted");
			return -ENOENT;
		}
	}
	return 0;
}

/* The events asked for, with their formats: only those used (loading every event of a system
 * costs hundreds of ms). */
static int perf_specs(struct perf_core *p, const struct pb_perf_opts *o, char *why, size_t why_size)
{
	p->tep = tep_alloc();
	if (!p->tep)
		return -ENOMEM;
	tep_set_long_size(p->tep, (int)sizeof(long));
	tep_set_file_bigendian(p->tep, __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? TEP_BIG_ENDIAN
									      : TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(p->tep, __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? TEP_BIG_ENDIAN
									       : TEP_LITTLE_ENDIAN);
	if (o->frees_only) {
		add_spec(p, PB_EV_PAGE_FREE, "kmem", "mm_page_free");
		add_spec(p, PB_EV_PAGE_FREE, "kmem", "mm_page_free_batched");
		return perf_spec_formats(p, why, why_size);
	}
	add_spec(p, PB_EV_WQ_QUEUE, "workqueue", "workqueue_queue_work");
	add_spec(p, PB_EV_WQ_START, "workqueue", "workqueue_execute_start");
	add_spec(p, PB_EV_WQ_END, "workqueue", "workqueue_execute_end");
	add_spec(p, PB_EV_SWITCH, "sched", "sched_switch");
	add_spec(p, PB_EV_MIGRATE, "sched", "sched_migrate_task");
	add_spec(p, PB_EV_WAKEUP, "sched", "sched_waking");
	if (o->console)
		add_spec(p, PB_EV_CONSOLE, "printk", "console");
	if (o->memory) {
		add_spec(p, PB_EV_PAGE_ALLOC, "kmem", "mm_page_alloc");
		add_spec(p, PB_EV_SLAB_ALLOC, "kmem", "kmalloc");
		add_spec(p, PB_EV_SLAB_ALLOC, "kmem", "kmem_cache_alloc");
		/* Their counts (read at the window's ends) are exact per CPU, all tasks, even when
		 * samples are lost: a tracepoint event counts every hit before it writes (or fails
		 * to write, or is throttled out of writing) its sample. No second, counting event
		 * is needed: one fewer descriptor per CPU and event, one fewer event per hit.
		 * Unless slab_samples, they write no sample at all (perf_open_cpu()). */
		/* frees of any task: which of the probe's pages it freed again inside the window */
		add_spec(p, PB_EV_PAGE_FREE, "kmem", "mm_page_free");
		add_spec(p, PB_EV_PAGE_FREE, "kmem", "mm_page_free_batched");
	}
	if (o->kprobes) {
		int r = kp_get(why, why_size);
		if (r < 0)
			return r;
		p->kprobes = true;
		add_spec(p, PB_EV_PROBE_ENTRY, PB_KPROBE_SYSTEM, kp_name[0]);
		add_spec(p, PB_EV_PROBE_RETURN, PB_KPROBE_SYSTEM, kp_name[1]);
	}
	return perf_spec_formats(p, why, why_size);
}

/* A ring of its own for the event just opened on cpu (fd): mapped, drained by the spill thread. */
static int perf_map_ring(struct perf_core *p, int fd, long cpu, int leader, bool slab, char *why,
			 size_t why_size)
{
	struct cpu_ring *cr = &p->rings[p->n_rings++];
	pthread_mutex_init(&cr->lock, NULL);
	cr->fd = fd;
	cr->cpu = (int)cpu;
	cr->leader = leader;
	cr->slab = slab;
	cr->size = p->ring_pages * p->page_size;
	cr->base = mmap(NULL, cr->size + p->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cr->base == MAP_FAILED) {
		cr->base = NULL;
		int e = errno;
		snprintf(why, why_size, "mmap of the perf ring: %s", strerror(e));
		return -e;
	}
	return 0;
}

/* The flood ring: slab allocations and page frees, whose losses never cost a probe record (and
 * are counted apart, as lost_slab). */
static bool in_flood_ring(enum pb_mevent_type t)
{
	return t == PB_EV_SLAB_ALLOC || t == PB_EV_PAGE_FREE;
}

/* Which ftrace instance holds an event's records. */
static int ft_of(enum pb_mevent_type t)
{
	return t == PB_EV_PAGE_FREE ? FT_FREES : t == PB_EV_SLAB_ALLOC ? FT_SLAB : FT_EVENTS;
}

/* Every event on one CPU, in one group: the first event leads it and owns the ring of the other
 * events, the first sampled flood event (a slab event, or without slab samples a page free)
 * owns the flood ring. 1: the CPU is offline. */
static int perf_open_cpu(struct perf_core *p, long cpu, char *why, size_t why_size)
{
	int leader = -1, out[2] = {-1, -1}; /* ring owners: other events, flood events */
	size_t first = p->n_ev;
	for (size_t i = 0; i < p->n_specs; i++) {
		struct spec *s = &p->specs[i];
		/* the flood ring: slab allocations and page frees, whose losses never cost a probe
		 */
		bool slab = s->type == PB_EV_SLAB_ALLOC || s->type == PB_EV_PAGE_FREE;
		/* counting only: no sample, no ring; its count is read with the group's */
		bool count_only = s->type == PB_EV_SLAB_ALLOC && !p->key.slab_samples;
	retry:;
		struct perf_event_attr a = {
		    .size = sizeof(a),
		    .type = PERF_TYPE_TRACEPOINT,
		    .config = (uint64_t)s->ev->id,
		    .sample_period = count_only ? 0 : 1,
		    .sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
				   PERF_SAMPLE_CPU | PERF_SAMPLE_RAW,
		    /* the leader reads the whole group: counts and losses of the CPU at once */
		    .read_format = (p->lost_exact ? PERF_FORMAT_LOST : 0) |
				   (leader < 0 ? PERF_FORMAT_GROUP : 0),
		    .use_clockid = 1,
		    .clockid = CLOCK_MONOTONIC,
		    .disabled = leader < 0,
		    .wakeup_events = 1u << 30,
		};
		if (!slab && out[0] < 0) {
			/* This event will own the CPU's ring: wake the spill thread at a quarter
			 * (at half, a 10,000-page probe under TCG once filled the other half before
			 * the thread ran: 622 records lost of a 128-page ring). */
			a.watermark = 1;
			a.wakeup_watermark = (uint32_t)(p->ring_pages * p->page_size / 4);
		}
		long fd = perf_open(&a, -1, (int)cpu, leader, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			if (errno == ENODEV && leader < 0)
				return 1; /* offline CPU */
			if (errno == EINVAL && p->lost_exact && p->n_ev == 0) {
				/* Before 6.0: losses only as PERF_RECORD_LOST, which the kernel
				 * writes with the next record that fits. */
				p->lost_exact = false;
				goto retry;
			}
			int e = errno;
			snprintf(why, why_size, "perf_event_open %s:%s on CPU %ld: %s", s->sys,
				 s->name, cpu, strerror(e));
			return -e;
		}
		struct pevent *pe = &p->ev[p->n_ev++];
		pe->fd = (int)fd;
		pe->cpu = (int)cpu;
		pe->spec = s;
		if (ioctl(pe->fd, PERF_EVENT_IOC_ID, &pe->id) < 0) {
			int e = errno;
			snprintf(why, why_size, "PERF_EVENT_IOC_ID: %s", strerror(e));
			return -e;
		}
		if (leader < 0)
			leader = pe->fd;
		if (count_only)
			continue;
		if (out[slab] < 0) {
			out[slab] = pe->fd;
			int r = perf_map_ring(p, pe->fd, cpu, leader, slab, why, why_size);
			if (r < 0)
				return r;
		} else if (ioctl(pe->fd, PERF_EVENT_IOC_SET_OUTPUT, out[slab]) < 0) {
			int e = errno;
			snprintf(why, why_size, "PERF_EVENT_IOC_SET_OUTPUT of %s:%s on CPU %ld: %s",
				 s->sys, s->name, cpu, strerror(e));
			return -e;
		}
	}
	if (leader >= 0)
		p->groups[p->n_groups++] = (struct cpu_group){leader, first, p->n_ev - first};
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	const struct id_index *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Every count and lost sample of the core's events: one group read per CPU. With ftrace
 * buffers, what each instance dropped (every CPU's stats). */
/* ftrace: what each instance dropped (every CPU's stats file), lost[0 .. FT_N). */
static int ft_drops(struct perf_core *p, uint64_t *lost)
{
	for (int i = 0; i < FT_N; i++) {
		lost[i] = 0;
		if (p->ft[i] && pb_ftbuf_dropped(p->ft[i], &lost[i]) < 0)
			return -EIO;
	}
	return 0;
}

/* ftrace with ft_slab_perf: the slab counting events' counts, one group read per CPU, into
 * val[FT_N + i]. */
static int ft_counts(struct perf_core *p, uint64_t *val)
{
	uint64_t buf[1 + 2];
	for (size_t g = 0; g < p->n_groups; g++) {
		const struct cpu_group *cg = &p->groups[g];
		ssize_t want = (ssize_t)((1 + cg->n) * sizeof(uint64_t));
		if (cg->n > 2 || read(cg->leader, buf, (size_t)want) != want || buf[0] != cg->n)
			return -EIO;
		for (size_t k = 0; k < cg->n; k++)
			val[FT_N + cg->first + k] = buf[1 + k];
	}
	return 0;
}

static int core_snapshot(struct perf_core *p, uint64_t *val, uint64_t *lost)
{
	if (p->ftrace) {
		memset(val, 0, p->n_cnt * sizeof(uint64_t));
		memset(lost, 0, p->n_cnt * sizeof(uint64_t));
		return ft_drops(p, lost) == 0 && ft_counts(p, val) == 0 ? 0 : -EIO;
	}
	size_t per = p->lost_exact ? 2 : 1, max = 0;
	for (size_t g = 0; g < p->n_groups; g++)
		if (p->groups[g].n > max)
			max = p->groups[g].n;
	uint64_t buf[1 + 2 * 32];
	if (1 + per * max > sizeof(buf) / sizeof(buf[0]))
		return -E2BIG;
	for (size_t g = 0; g < p->n_groups; g++) {
		const struct cpu_group *cg = &p->groups[g];
		ssize_t want = (ssize_t)((1 + per * cg->n) * sizeof(uint64_t));
		if (read(cg->leader, buf, (size_t)want) != want || buf[0] != cg->n)
			return -EIO;
		for (size_t k = 0; k < cg->n; k++) {
			val[cg->first + k] = buf[1 + per * k];
			lost[cg->first + k] = per == 2 ? buf[2 + per * k] : 0;
		}
	}
	return 0;
}

/*
 * The file descriptors a core opens: one per event per CPU, two for the spill thread's pipe.
 * Raises the soft RLIMIT_NOFILE up to the hard one when they would not fit beside the ones
 * open now; -EMFILE with the count in why when even the hard limit is too low.
 */
static int fds_fit(size_t need, char *why, size_t why_size)
{
	struct rlimit rl;
	size_t open_now = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		while (readdir(d))
			open_now++;
		closedir(d);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;		    /* perf_event_open will say */
	size_t want = open_now + need + 64; /* room for what the run opens besides */
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return 0;
	rlim_t soft =
	    rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? (rlim_t)want : rl.rlim_max;
	struct rlimit nl = {.rlim_cur = soft, .rlim_max = rl.rlim_max};
	if (soft > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &nl) == 0 && soft >= want)
		return 0;
	snprintf(why, why_size,
		 "the observer needs %zu file descriptors (its perf events on every CPU) besides "
		 "the %zu open; the limit is %llu (hard %llu): raise it (ulimit -n, LimitNOFILE=) "
		 "or observe fewer events (--no-measure)",
		 need, open_now, (unsigned long long)(soft > rl.rlim_cur ? soft : rl.rlim_cur),
		 (unsigned long long)rl.rlim_max);
	return -EMFILE;
}

/*
 * Nothing reads an ftrace instance while a window is open, unless the window lasts: a probe that
 * allocates tens of thousands of pages fills a CPU's buffer within tens of ms. So a thread waits
 * for a window to open and, once it has been open for FT_SPILL_MIN_NS, reads (and decodes) every
 * instance, again and again until it closes: after FT_SPILL_MIN_NS at first, then twice as long
 * each time the fullest CPU buffer was under an eighth full (up to FT_SPILL_MAX_NS: a pass opens
 * every CPU's trace_pipe_raw of three instances, which a second-long window would otherwise pay
 * a hundred times), half as long when it was over a quarter full. Windows of a few ms (a bind,
 * most probes) never see it, and it holds no descriptor but the one read at a time. Its records
 * are at most FT_POOL_MAX in the pool; beyond, they wait in the buffers (which may then drop:
 * counted).
 */
#define FT_SPILL_MIN_NS (10ull * 1000 * 1000)
#define FT_SPILL_MAX_NS (80ull * 1000 * 1000)
#define FT_POOL_MAX	(1u << 20)

static int core_collect(struct perf_core *p);

static void *ft_spill_main(void *arg)
{
	struct perf_core *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->ft_stop) {
		if (p->n_enabled == 0) {
			pthread_cond_wait(&p->ft_cond, &p->lock);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t at =
		    (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + p->ft_spill_ns;
		ts.tv_sec = (time_t)(at / 1000000000ull);
		ts.tv_nsec = (long)(at % 1000000000ull);
		int e = pthread_cond_timedwait(&p->ft_cond, &p->lock, &ts);
		if (e != ETIMEDOUT || p->ft_stop || p->n_enabled == 0 ||
		    pb_now_ns() - p->ft_on_ns < FT_SPILL_MIN_NS || p->n_pool >= FT_POOL_MAX)
			continue;
		core_collect(p);
		double fill = 0;
		for (int i = 0; i < FT_N; i++)
			if (pb_ftbuf_last_fill(p->ft[i]) > fill)
				fill = pb_ftbuf_last_fill(p->ft[i]);
		if (fill < 0.125 && p->ft_spill_ns < FT_SPILL_MAX_NS)
			p->ft_spill_ns *= 2;
		else if (fill > 0.25 && p->ft_spill_ns > FT_SPILL_MIN_NS)
			p->ft_spill_ns /= 2;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* An observer thread (ring spill): a small stack, as the uevent listener's, since under mlockall
 * all of it is locked. -errno. */
static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PB_OBSERVER_THREAD_STACK);
	int r = -pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return r;
}

/* ftrace: the two slab events as counting-only perf events, a group per CPU. */
static int ft_open_slab_counts(struct perf_core *p)
{
	p->ev = calloc((size_t)p->ncpu * 2, sizeof(*p->ev));
	p->groups = calloc((size_t)p->ncpu, sizeof(*p->groups));
	if (!p->ev || !p->groups)
		return -ENOMEM;
	for (long cpu = 0; cpu < p->ncpu; cpu++) {
		int leader = -1;
		size_t first = p->n_ev;
		for (size_t i = 0; i < p->n_specs; i++) {
			const struct spec *s = &p->specs[i];
			if (s->type != PB_EV_SLAB_ALLOC)
				continue;
			struct perf_event_attr a = {.size = sizeof(a),
						    .type = PERF_TYPE_TRACEPOINT,
						    .config = (uint64_t)s->ev->id,
						    .read_format =
							leader < 0 ? PERF_FORMAT_GROUP : 0,
						    .disabled = leader < 0};
			long fd = perf_open(&a, -1, (int)cpu, leader, PERF_FLAG_FD_CLOEXEC);
			if (fd < 0) {
				if (errno == ENODEV && leader < 0)
					break; /* offline CPU */
				return -errno;
			}
			p->ev[p->n_ev++] =
			    (struct pevent){.fd = (int)fd, .cpu = (int)cpu, .spec = s};
			if (leader < 0)
				leader = (int)fd;
		}
		if (leader >= 0)
			p->groups[p->n_groups++] =
			    (struct cpu_group){leader, first, p->n_ev - first};
	}
	return p->n_groups ? 0 : -ENODEV;
}

static void ft_close_slab_counts(struct perf_core *p)
{
	for (size_t i = 0; i < p->n_ev; i++)
		close(p->ev[i].fd);
	free(p->ev);
	free(p->groups);
	p->ev = NULL;
	p->groups = NULL;
	p->n_ev = p->n_groups = 0;
}

/* The ftrace instances instead of perf events: the page frees in one, the slab allocations in
 * another (an ACPI method's 100k allocations then drop only slab records: the frees stay exact),
 * every other event in the third; each CPU's buffer as large as a perf ring would be. */
static int ftrace_open(struct perf_core *p, char *why, size_t why_size)
{
	static const char *const roles[FT_N] = {"events", "frees", "slab"};
	struct pb_ftbuf_event ev[FT_N][16];
	size_t n[FT_N] = {0};
	/* Without slab samples the slab allocations only need counting: perf's counting-only
	 * events do that for a descriptor each per CPU (2 a CPU) at a third of a record's cost
	 * in the traced task (bench/trace_cost.c); when their descriptors do not fit, records. */
	if (p->key.memory && !p->key.slab_samples && !p->key.frees_only) {
		char w[256];
		p->ft_slab_perf =
		    fds_fit((size_t)p->ncpu * 2, w, sizeof(w)) == 0 && ft_open_slab_counts(p) == 0;
		if (!p->ft_slab_perf)
			ft_close_slab_counts(p);
	}
	for (size_t i = 0; i < p->n_specs; i++) {
		const struct spec *s = &p->specs[i];
		int k = ft_of(s->type);
		if (k == FT_SLAB && p->ft_slab_perf)
			continue;
		ev[k][n[k]++] = (struct pb_ftbuf_event){s->sys, s->name};
	}
	size_t kb = p->ring_pages * p->page_size / 1024;
	for (int k = 0; k < FT_N; k++) {
		if (!n[k])
			continue;
		const char *role = p->key.frees_only ? "kept" : roles[k];
		int r = pb_ftbuf_open(role, ev[k], n[k], kb, &p->ft[k], why, why_size);
		if (r < 0)
			return r;
	}
	p->n_cnt = FT_N + p->n_ev;
	p->lost_exact = true; /* each CPU's dropped events, read at the window's ends */
	p->idle_val = calloc(p->n_cnt, sizeof(uint64_t));
	p->idle_lost = calloc(p->n_cnt, sizeof(uint64_t));
	if (!p->idle_val || !p->idle_lost)
		return -ENOMEM;
	p->idle_ok = core_snapshot(p, p->idle_val, p->idle_lost) == 0;
	/* The kept-page watch has no spill thread, as with perf: its window lasts until the next
	 * unbind, and a thread reading every CPU each 10 ms would run through the next binds;
	 * only the held pages' frees pass its filter. */
	if (p->key.frees_only)
		return 0;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int r = -pthread_cond_init(&p->ft_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (r < 0)
		return r;
	p->ft_cond_on = true;
	r = start_thread(&p->ft_thread, ft_spill_main, p);
	if (r < 0) {
		snprintf(why, why_size, "cannot start the ftrace spill thread: %s", strerror(-r));
		return r;
	}
	p->ft_thread_on = true;
	return 0;
}

static int core_open(const struct pb_perf_opts *o, struct perf_core **ret, char *why,
		     size_t why_size)
{
	struct perf_core *p = calloc(1, sizeof(*p));
	int r = 0;
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->stop_pipe[0] = p->stop_pipe[1] = -1;
	p->page_size = (size_t)sysconf(_SC_PAGESIZE);
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	p->ring_pages = pb_perf_ring_pages_for(ncpu, o->ring_pages);
	p->key = *o;
	if (p->ring_pages & (p->ring_pages - 1)) {
		snprintf(why, why_size, "ring_pages %u is not a power of two", p->ring_pages);
		r = -EINVAL;
		goto fail;
	}
	p->lost_exact = true; /* until the kernel refuses PERF_FORMAT_LOST (before 6.0) */
	r = perf_specs(p, o, why, why_size);
	if (r < 0)
		goto fail;
	p->ncpu = ncpu;
	/* what perf would hold: every event on every CPU, and the kept-page watch's two */
	p->ftrace = pb_buffer_choose(o->buffer, p->n_specs + (o->memory ? 2 : 0), ncpu,
				     p->buffer_why, sizeof(p->buffer_why)) == PB_BUFFER_FTRACE;
	/* auto, and perf's descriptors do not fit even the hard limit: ftrace rather than no
	 * trace events at all (the observer would fall back to kmsg) */
	if (!p->ftrace && (r = fds_fit((size_t)ncpu * p->n_specs + 2, why, why_size)) < 0) {
		if (o->buffer != PB_BUFFER_AUTO || r != -EMFILE)
			goto fail;
		struct rlimit rl = {0, 0};
		getrlimit(RLIMIT_NOFILE, &rl);
		snprintf(p->buffer_why, sizeof(p->buffer_why),
			 "auto: perf events would need %zu descriptors (%zu events on %ld CPUs), "
			 "more than the limit allows (%llu, hard %llu)",
			 (size_t)ncpu * p->n_specs + 2, p->n_specs, ncpu,
			 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
		p->ftrace = true;
	}
	if (p->ftrace) {
		r = ftrace_open(p, why, why_size);
		if (r < 0)
			goto fail;
		*ret = p;
		return 0;
	}
	p->n_cnt = 0; /* below: one per event */

	p->rings = calloc(2 * ncpu, sizeof(*p->rings));
	p->ev = calloc(ncpu * p->n_specs, sizeof(*p->ev));
	p->groups = calloc(ncpu, sizeof(*p->groups));
	if (!p->rings || !p->ev || !p->groups) {
		r = -ENOMEM;
		goto fail;
	}
	for (long cpu = 0; cpu < ncpu; cpu++) {
		r = perf_open_cpu(p, cpu, why, why_size);
		if (r == -EMFILE)
			snprintf(
			    why, why_size,
			    "out of file descriptors at CPU %ld of %ld: the observer needs %zu "
			    "(%zu events on each CPU); raise the limit (ulimit -n)",
			    cpu, ncpu, (size_t)ncpu * p->n_specs + 2, p->n_specs);
		if (r < 0)
			goto fail;
	}
	if (!p->n_rings) {
		r = -ENODEV;
		snprintf(why, why_size, "no online CPU accepted the events");
		goto fail;
	}
	p->ids = calloc(p->n_ev, sizeof(*p->ids));
	p->idle_val = calloc(p->n_ev, sizeof(uint64_t));
	p->idle_lost = calloc(p->n_ev, sizeof(uint64_t));
	p->idle_ok = true; /* never enabled: every count is 0 */
	if (!p->ids || !p->idle_val || !p->idle_lost) {
		r = -ENOMEM;
		goto fail;
	}
	p->n_cnt = p->n_ev;
	for (size_t i = 0; i < p->n_ev; i++)
		p->ids[p->n_ids++] = (struct id_index){p->ev[i].id, i};
	qsort(p->ids, p->n_ids, sizeof(*p->ids), cmp_id);
	/* Only the other ring has a watermark: with flood rings alone (the kept-page watch)
	 * no thread is needed, nor its pipe. */
	bool any_other = false;
	for (size_t i = 0; i < p->n_rings; i++)
		any_other |= !p->rings[i].slab;
	if (!any_other) {
		*ret = p;
		return 0;
	}
	if (pipe2(p->stop_pipe, O_CLOEXEC) < 0 ||
	    (r = start_thread(&p->spill_thread, spill_main, p)) < 0) {
		r = r < 0 ? r : -errno;
		snprintf(why, why_size, "cannot start the ring spill thread: %s", strerror(-r));
		goto fail;
	}
	p->spilling = true;
	*ret = p;
	return 0;
fail:
	core_free(p);
	return r;
}

/* The shared cores of the process, by the events they observe. */
static pthread_mutex_t cores_lock = PTHREAD_MUTEX_INITIALIZER;
static struct perf_core *cores;

static bool same_events(const struct pb_perf_opts *a, const struct pb_perf_opts *b)
{
	return a->kprobes == b->kprobes && a->console == b->console && a->memory == b->memory &&
	       a->frees_only == b->frees_only && a->ring_pages == b->ring_pages &&
	       a->slab_samples == b->slab_samples && a->buffer == b->buffer;
}

/* The handle's counts at its windows' ends, one per event of its core. */
static int handle_counts(struct pb_perf *h)
{
	size_t n = h->c->n_cnt;
	h->base_val = calloc(4 * n + 1, sizeof(uint64_t));
	if (!h->base_val)
		return -ENOMEM;
	h->base_lost = h->base_val + n;
	h->end_val = h->base_lost + n;
	h->end_lost = h->end_val + n;
	if (h->c->ftrace && !(h->slab_cpu = calloc((size_t)h->c->ncpu, sizeof(uint64_t))))
		return -ENOMEM;
	return 0;
}

int pb_perf_open(const struct pb_perf_opts *o, struct pb_perf **ret, char *why, size_t why_size)
{
	struct pb_perf *h = calloc(1, sizeof(*h));
	struct perf_core *c = NULL;
	int r = 0;
	if (!h)
		return -ENOMEM;
	pthread_mutex_lock(&cores_lock);
	for (c = o->shared ? cores : NULL; c && !same_events(&c->key, o); c = c->next)
		;
	if (!c) {
		r = core_open(o, &c, why, why_size);
		if (r == 0 && o->shared) {
			c->next = cores;
			cores = c;
		}
	}
	if (r == 0)
		c->refs++;
	pthread_mutex_unlock(&cores_lock);
	if (r < 0)
		goto fail;
	h->c = c;
	if ((r = handle_counts(h)) < 0)
		goto fail;
	*ret = h;
	return 0;
fail:
	pb_perf_free(h);
	return r;
}

int pb_perf_open_more(struct pb_perf *of, struct pb_perf **ret)
{
	struct pb_perf *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_lock(&cores_lock);
	of->c->refs++;
	pthread_mutex_unlock(&cores_lock);
	h->c = of->c;
	int r = handle_counts(h);
	if (r < 0) {
		pb_perf_free(h);
		return r;
	}
	*ret = h;
	return 0;
}

static int group_ioctl(struct perf_core *p, unsigned long req)
{
	if (p->ftrace) {
		bool on = req == PERF_EVENT_IOC_ENABLE;
		int r = 0;
		for (int i = 0; i < FT_N; i++)
			if (p->ft[i] && pb_ftbuf_on(p->ft[i], on) < 0 && r == 0)
				r = -errno;
		for (size_t g = 0; g < p->n_groups; g++) /* the slab counting events */
			if (ioctl(p->groups[g].leader, req, PERF_IOC_FLAG_GROUP) < 0 && r == 0)
				r = -errno;
		p->ft_dirty |= on;
		if (on && p->ft_thread_on) {
			p->ft_on_ns = pb_now_ns();
			p->ft_spill_ns = FT_SPILL_MIN_NS; /* a new epoch: soon, until shown quiet */
			pthread_cond_signal(&p->ft_cond); /* the spill thread: a window opened */
		}
		return r;
	}
	for (size_t g = 0; g < p->n_groups; g++)
		if (ioctl(p->groups[g].leader, req, PERF_IOC_FLAG_GROUP) < 0)
			return -errno;
	return 0;
}

/* Throws away what the rings hold (no window is open or waiting for it). Under lock. */
static int drop_record(int cpu, uint64_t ts, void *data, int size, void *ud)
{
	(void)cpu, (void)ts, (void)data, (void)size, (void)ud;
	return 0;
}

static void core_discard(struct perf_core *p)
{
	if (p->ftrace) {
		for (int i = 0; i < FT_N && p->ft_dirty; i++)
			if (p->ft[i])
				pb_ftbuf_read(p->ft[i], drop_record, NULL);
		p->ft_dirty = false;
		p->n_pool = 0;
		return;
	}
	for (size_t i = 0; i < p->n_rings; i++) {
		struct cpu_ring *cr = &p->rings[i];
		struct perf_event_mmap_page *mp = cr->base;
		pthread_mutex_lock(&cr->lock);
		__atomic_store_n(&mp->data_tail, __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
		cr->spill_len = 0;
		pthread_mutex_unlock(&cr->lock);
	}
	p->n_pool = 0;
}

static void unlink_open(struct pb_perf *h)
{
	for (struct pb_perf **pp = &h->c->open; *pp; pp = &(*pp)->next_open)
		if (*pp == h) {
			*pp = h->next_open;
			break;
		}
	h->window = false;
}

int pb_perf_enable(struct pb_perf *h)
{
	struct perf_core *p = h->c;
	int r = 0;
	pthread_mutex_lock(&p->lock);
	if (h->enabled)
		goto out;
	if (h->window)
		unlink_open(h); /* a window never drained: its records are not needed */
	h->rec_base[0] = p->rec_lost[0];
	h->rec_base[1] = p->rec_lost[1];
	if (p->n_enabled == 0) {
		/* Off: the counts are those read when the events were last turned off. Records
		 * of earlier windows no window waits for are dropped, not attributed. */
		if (!p->open)
			core_discard(p);
		if (p->ftrace && p->idle_stale) { /* the drops; the counts were read at off */
			p->idle_ok = p->idle_ok && ft_drops(p, p->idle_lost) == 0;
			p->idle_stale = false;
		}
		if (p->ftrace) {
			memcpy(p->epoch_lost, p->idle_lost, sizeof(p->epoch_lost));
			p->epoch_ok = p->idle_ok;
		}
		memcpy(h->base_val, p->idle_val, p->n_cnt * sizeof(uint64_t));
		memcpy(h->base_lost, p->idle_lost, p->n_cnt * sizeof(uint64_t));
		h->counted = p->idle_ok;
		h->start_ns = pb_now_ns();
		r = group_ioctl(p, PERF_EVENT_IOC_ENABLE);
		if (r < 0) {
			group_ioctl(p, PERF_EVENT_IOC_DISABLE);
			goto out;
		}
	} else if (p->ftrace) {
		h->start_ns = pb_now_ns();
		memset(h->base_val, 0, p->n_cnt * sizeof(uint64_t));
		memcpy(h->base_lost, p->epoch_lost, sizeof(p->epoch_lost));
		/* the counts of this window's own start; the drops of the epoch's */
		h->counted = p->epoch_ok && ft_counts(p, h->base_val) == 0;
	} else {
		h->start_ns = pb_now_ns();
		/* a failed read costs the window its counts (and exact losses), not its records */
		h->counted = core_snapshot(p, h->base_val, h->base_lost) == 0;
	}
	h->end_pending = false;
	p->n_enabled++;
	h->enabled = h->window = true;
	h->next_open = p->open;
	p->open = h;
out:
	pthread_mutex_unlock(&p->lock);
	return r;
}

int pb_perf_disable(struct pb_perf *h)
{
	struct perf_core *p = h->c;
	int r = 0;
	pthread_mutex_lock(&p->lock);
	if (!h->enabled)
		goto out;
	h->enabled = false;
	if (--p->n_enabled == 0) {
		r = group_ioctl(p, PERF_EVENT_IOC_DISABLE);
		h->stop_ns = pb_now_ns();
		if (p->ftrace) {
			/* the counts now (cheap: a read per CPU); the drops when first needed */
			p->idle_ok = ft_counts(p, p->idle_val) == 0;
			memcpy(h->end_val, p->idle_val, p->n_cnt * sizeof(uint64_t));
			h->counted = h->counted && p->idle_ok;
			p->idle_stale = true;
			h->end_pending = true;
			goto out;
		}
		/* off: read without interrupting any CPU, and kept for the next window's start */
		p->idle_ok = core_snapshot(p, p->idle_val, p->idle_lost) == 0;
		memcpy(h->end_val, p->idle_val, p->n_cnt * sizeof(uint64_t));
		memcpy(h->end_lost, p->idle_lost, p->n_cnt * sizeof(uint64_t));
		h->counted = h->counted && p->idle_ok;
	} else {
		h->stop_ns = pb_now_ns();
		if (p->ftrace) {
			h->counted = h->counted && ft_counts(p, h->end_val) == 0;
			h->end_pending = true; /* the drops: the epoch's end */
		} else
			h->counted = h->counted && core_snapshot(p, h->end_val, h->end_lost) == 0;
	}
out:
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* ftrace: a closed window's end counts, its epoch's: read now if the epoch has ended since (once
 * for every window of the epoch), else as they stand (the epoch goes on: conservative). Under
 * lock. */
static void ft_settle(struct pb_perf *h)
{
	struct perf_core *p = h->c;
	if (!p->ftrace || !h->end_pending)
		return;
	h->end_pending = false;
	if (p->n_enabled > 0) {
		h->counted = h->counted && ft_drops(p, h->end_lost) == 0;
		return;
	}
	if (p->idle_stale) {
		p->idle_ok = p->idle_ok && ft_drops(p, p->idle_lost) == 0;
		p->idle_stale = false;
	}
	memcpy(h->end_lost, p->idle_lost, FT_N * sizeof(uint64_t));
	h->counted = h->counted && p->idle_ok;
}

int pb_perf_slab_counts(struct pb_perf *h, const int *cpu_node, int n_cpus, uint64_t *by_node,
			unsigned max_nodes, unsigned *n_nodes)
{
	const struct perf_core *p = h->c;
	bool any = false;
	if (p->ftrace) {
		if (h->end_pending) {
			pthread_mutex_lock(&h->c->lock);
			ft_settle(h);
			pthread_mutex_unlock(&h->c->lock);
		}
		if (p->ft_slab_perf) { /* perf's counting events, as below */
			if (!h->counted)
				return -EIO;
			for (size_t i = 0; i < p->n_ev; i++) {
				const struct pevent *pe = &p->ev[i];
				uint64_t v = h->end_val[FT_N + i] - h->base_val[FT_N + i];
				int node = pe->cpu < n_cpus ? cpu_node[pe->cpu] : -1;
				if (node < 0 || (unsigned)node >= max_nodes)
					continue;
				by_node[node] += v;
				if ((unsigned)node + 1 > *n_nodes)
					*n_nodes = node + 1;
			}
			return 0;
		}
		/* the records of the window, exact while the slab instance dropped none */
		if (!p->key.memory)
			return -ENOENT;
		if (!h->counted || h->end_lost[FT_SLAB] != h->base_lost[FT_SLAB])
			return -EIO; /* the slab instance dropped records: not counted */
		for (long cpu = 0; cpu < p->ncpu && cpu < n_cpus; cpu++) {
			int node = cpu_node[cpu];
			if (node < 0 || (unsigned)node >= max_nodes)
				continue;
			by_node[node] += h->slab_cpu[cpu];
			if ((unsigned)node + 1 > *n_nodes)
				*n_nodes = node + 1;
		}
		return 0;
	}
	if (!h->counted)
		return -EIO;
	for (size_t i = 0; i < p->n_ev; i++) {
		const struct pevent *pe = &p->ev[i];
		if (pe->spec->type != PB_EV_SLAB_ALLOC)
			continue;
		uint64_t v = h->end_val[i] - h->base_val[i];
		any = true;
		int node = pe->cpu < n_cpus ? cpu_node[pe->cpu] : -1;
		if (node < 0 || (unsigned)node >= max_nodes)
			continue;
		by_node[node] += v;
		if ((unsigned)node + 1 > *n_nodes)
			*n_nodes = node + 1;
	}
	return any ? 0 : -ENOENT;
}

int pb_perf_set_filter(struct pb_perf *h, enum pb_mevent_type type, const char *filter)
{
	struct perf_core *p = h->c;
	if (p->key.shared)
		return -EBUSY; /* the events of other observers */
	if (p->ftrace) {
		for (size_t i = 0; i < p->n_specs; i++) {
			const struct spec *s = &p->specs[i];
			struct pb_ftbuf *b = p->ft[ft_of(s->type)];
			int r;
			if (s->type == type &&
			    (r = pb_ftbuf_set_filter(b, s->sys, s->name, filter)) < 0)
				return r;
		}
		return 0;
	}
	for (size_t i = 0; i < p->n_ev; i++)
		if (p->ev[i].spec->type == type &&
		    ioctl(p->ev[i].fd, PERF_EVENT_IOC_SET_FILTER, filter) < 0)
			return -errno;
	return 0;
}

static const struct pevent *find_ev(const struct perf_core *p, uint64_t id)
{
	struct id_index key = {.id = id};
	const struct id_index *f = bsearch(&key, p->ids, p->n_ids, sizeof(*p->ids), cmp_id);
	return f ? &p->ev[f->ev] : NULL;
}

static uint64_t fval(struct tep_event *ev, struct tep_record *rec, const char *name)
{
	unsigned long long v = 0;
	if (tep_get_field_val(NULL, ev, name, rec, &v, 0) < 0)
		return 0;
	return v;
}

static void fstr(struct tep_event *ev, struct tep_record *rec, const char *name, char *buf,
		 size_t size)
{
	int len = 0;
	const char *s = tep_get_field_raw(NULL, ev, name, rec, &len, 0);
	buf[0] = 0;
	if (!s || len <= 0)
		return;
	size_t n = (size_t)len < size - 1 ? (size_t)len : size - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static void decode_fields(const struct spec *spec, struct tep_record *rec, struct pb_mevent *out);

static int decode(const struct perf_core *p, const uint8_t *rec, size_t size, struct pb_mevent *out)
{
	const uint8_t *q = rec + sizeof(struct perf_event_header), *end = rec + size;
	uint64_t id;
	if (q + 8 > end)
		return -EINVAL;
	memcpy(&id, q, 8);
	q += 8;
	const struct pevent *pe = find_ev(p, id);
	if (!pe)
		return -ENOENT;
	struct {
		uint32_t pid, tid;
		uint64_t time;
		uint32_t cpu, res;
	} h;
	if (q + sizeof(h) > end)
		return -EINVAL;
	memcpy(&h, q, sizeof(h));
	q += sizeof(h);
	memset(out, 0, sizeof(*out));
	out->type = pe->spec->type;
	out->ts = h.time;
	out->cpu = (int)h.cpu;
	out->pid = (pid_t)h.tid;
	uint32_t raw_size;
	if (q + 4 > end)
		return -EINVAL;
	memcpy(&raw_size, q, 4);
	q += 4;
	if (q + raw_size > end)
		return -EINVAL;
	struct tep_record tr = {
	    .ts = h.time, .size = (int)raw_size, .data = (void *)q, .cpu = (int)h.cpu};
	decode_fields(pe->spec, &tr, out);
	return 0;
}

/* The fields of one raw trace record (the common ones set by the caller). */
static void decode_fields(const struct spec *spec, struct tep_record *rec, struct pb_mevent *out)
{
	struct tep_record tr = *rec;
	struct tep_event *ev = spec->ev;
	out->irq = fval(ev, &tr, "common_flags") & TP_FLAG_IRQ_MASK;
	switch (out->type) {
	case PB_EV_WQ_QUEUE:
	case PB_EV_WQ_START:
	case PB_EV_WQ_END:
		out->wq.work = fval(ev, &tr, "work");
		out->wq.function = fval(ev, &tr, "function");
		break;
	case PB_EV_CONSOLE:
		fstr(ev, &tr, "msg", out->msg, sizeof(out->msg));
		break;
	case PB_EV_SWITCH:
		out->sw.prev_pid = (pid_t)fval(ev, &tr, "prev_pid");
		out->sw.next_pid = (pid_t)fval(ev, &tr, "next_pid");
		out->sw.prev_state = (long)fval(ev, &tr, "prev_state");
		out->sw.prev_prio = (int)fval(ev, &tr, "prev_prio");
		out->sw.next_prio = (int)fval(ev, &tr, "next_prio");
		fstr(ev, &tr, "prev_comm", out->sw.prev_comm, sizeof(out->sw.prev_comm));
		fstr(ev, &tr, "next_comm", out->sw.next_comm, sizeof(out->sw.next_comm));
		break;
	case PB_EV_MIGRATE:
		out->mig.pid = (pid_t)fval(ev, &tr, "pid");
		out->mig.dest_cpu = (int)fval(ev, &tr, "dest_cpu");
		break;
	case PB_EV_PAGE_ALLOC:
		out->page.pfn = fval(ev, &tr, "pfn");
		out->page.order = (unsigned)fval(ev, &tr, "order");
		break;
	case PB_EV_SLAB_ALLOC:
		out->slab.bytes = fval(ev, &tr, "bytes_alloc");
		break;
	case PB_EV_PAGE_FREE:
		out->page.pfn = fval(ev, &tr, "pfn");
		out->page.order =
		    (unsigned)fval(ev, &tr, "order"); /* 0: batched frees are order 0 */
		break;
	case PB_EV_WAKEUP:
		out->wake.pid = (pid_t)fval(ev, &tr, "pid");
		out->wake.target_cpu = (int)fval(ev, &tr, "target_cpu");
		break;
	case PB_EV_PROBE_ENTRY:
		fstr(ev, &tr, "dev", out->kp.dev, sizeof(out->kp.dev));
		fstr(ev, &tr, "drv", out->kp.drv, sizeof(out->kp.drv));
		break;
	case PB_EV_PROBE_RETURN:
		out->kret.ret = (long)(int)fval(ev, &tr, "ret");
		out->kret.ret_known = true;
		break;
	default:
		break;
	}
}

int pb_perf_lost(struct pb_perf *h, uint64_t *ret_lost, uint64_t *ret_lost_slab)
{
	const struct perf_core *p = h->c;
	if (h->end_pending) {
		pthread_mutex_lock(&h->c->lock);
		ft_settle(h);
		pthread_mutex_unlock(&h->c->lock);
	}
	uint64_t lost[2] = {0, 0};
	if (!p->lost_exact)
		return -ENOTSUP;
	if (!h->counted)
		return -EIO; /* the caller falls back on the PERF_RECORD_LOST counts */
	if (p->ftrace) {
		/* as with perf: the flood's losses are the page frees' and the slab samples' (a
		 * slab record dropped without --slab-samples costs only the slab count) */
		*ret_lost = h->end_lost[FT_EVENTS] - h->base_lost[FT_EVENTS];
		*ret_lost_slab = h->end_lost[FT_FREES] - h->base_lost[FT_FREES];
		if (p->key.slab_samples)
			*ret_lost_slab += h->end_lost[FT_SLAB] - h->base_lost[FT_SLAB];
		return 0;
	}
	for (size_t i = 0; i < p->n_ev; i++)
		lost[in_flood_ring(p->ev[i].spec->type)] += h->end_lost[i] - h->base_lost[i];
	*ret_lost = lost[0];
	*ret_lost_slab = lost[1];
	return 0;
}

static int pool_room(struct perf_core *p)
{
	if (p->n_pool < p->cap_pool)
		return 0;
	size_t cap = p->cap_pool ? p->cap_pool * 2 : 256;
	struct pb_mevent *ne = realloc(p->pool, cap * sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	p->pool = ne;
	p->cap_pool = cap;
	return 0;
}

/* One record of an ftrace instance into the pool: its event by the record's type. */
static int ftrace_record(int cpu, uint64_t ts, void *data, int size, void *ud)
{
	struct perf_core *p = ud;
	struct tep_record tr = {.ts = ts, .size = size, .data = data, .cpu = cpu};
	int type = tep_data_type(p->tep, &tr);
	const struct spec *spec = NULL;
	for (size_t i = 0; i < p->n_specs && !spec; i++)
		if (p->specs[i].ev->id == type)
			spec = &p->specs[i];
	if (!spec)
		return 0; /* not one of ours (cannot happen: only ours are enabled) */
	if (pool_room(p) < 0)
		return -ENOMEM;
	struct pb_mevent *out = &p->pool[p->n_pool];
	memset(out, 0, sizeof(*out));
	out->type = spec->type;
	out->ts = ts;
	out->cpu = cpu;
	out->pid = (pid_t)tep_data_pid(p->tep, &tr);
	decode_fields(spec, &tr, out);
	p->n_pool++;
	return 0;
}

/* Decodes what the rings hold into the pool. Under lock. */
static int core_collect(struct perf_core *p)
{
	uint64_t t = pb_now_ns(), n0 = p->n_pool;
	int r = 0;
	if (p->ftrace) {
		/* nothing recorded since the instances were last read empty: nothing to read */
		for (int i = 0; i < FT_N && r == 0 && p->ft_dirty; i++)
			if (p->ft[i])
				r = pb_ftbuf_read(p->ft[i], ftrace_record, p);
		if (r == 0 && p->n_enabled == 0)
			p->ft_dirty = false;
		p->records_decoded += p->n_pool - n0;
		p->decode_ns += pb_now_ns() - t;
		return r;
	}
	for (size_t i = 0; i < p->n_rings && r == 0; i++) {
		struct cpu_ring *cr = &p->rings[i];
		pthread_mutex_lock(&cr->lock);
		ring_copy(p, cr);
		for (size_t off = 0; off + sizeof(struct perf_event_header) <= cr->spill_len;) {
			struct perf_event_header hdr;
			memcpy(&hdr, cr->spill + off, sizeof(hdr));
			if (hdr.size < sizeof(hdr) || off + hdr.size > cr->spill_len)
				break;
			const uint8_t *rec = cr->spill + off;
			off += hdr.size;
			if (hdr.type == PERF_RECORD_LOST && hdr.size >= sizeof(hdr) + 16) {
				uint64_t l[2];
				memcpy(l, rec + sizeof(hdr), sizeof(l));
				p->rec_lost[cr->slab] += l[1];
			} else if (hdr.type == PERF_RECORD_SAMPLE) {
				if ((r = pool_room(p)) < 0)
					break;
				if (decode(p, rec, hdr.size, &p->pool[p->n_pool]) == 0)
					p->n_pool++;
			}
		}
		cr->spill_len = 0;
		pthread_mutex_unlock(&cr->lock);
	}
	p->records_decoded += p->n_pool - n0;
	p->decode_ns += pb_now_ns() - t;
	return r;
}

int pb_perf_drain(struct pb_perf *h, struct pb_mevent **ret, size_t *ret_n, uint64_t *ret_lost,
		  uint64_t *ret_lost_slab)
{
	struct perf_core *p = h->c;
	struct pb_mevent *ev = NULL;
	size_t n = 0;
	int r = 0;
	if (h->enabled)
		pb_perf_disable(h);
	pthread_mutex_lock(&p->lock);
	ft_settle(h);
	*ret_lost = *ret_lost_slab = 0;
	if (!h->window)
		goto out;
	r = core_collect(p);
	if (r == 0 && p->n_pool && !(ev = malloc(p->n_pool * sizeof(*ev))))
		r = -ENOMEM;
	if (r == 0)
		n = pb_mevent_window(p->pool, p->n_pool, h->start_ns, h->stop_ns, ev);
	if (r == 0 && p->ftrace) {
		/* the slab allocations are counted from their records; without slab samples
		 * the records themselves go, as with perf's counting-only events */
		size_t k = 0;
		memset(h->slab_cpu, 0, (size_t)p->ncpu * sizeof(uint64_t));
		for (size_t i = 0; i < n; i++) {
			if (ev[i].type == PB_EV_SLAB_ALLOC) {
				if (ev[i].cpu >= 0 && ev[i].cpu < p->ncpu)
					h->slab_cpu[ev[i].cpu]++;
				if (!p->key.slab_samples)
					continue;
			}
			ev[k++] = ev[i];
		}
		n = k;
	}
	*ret_lost = p->rec_lost[0] - h->rec_base[0];
	*ret_lost_slab = p->rec_lost[1] - h->rec_base[1];
	unlink_open(h);
	/* the records no other window is waiting for go */
	uint64_t keep = UINT64_MAX;
	for (const struct pb_perf *o = p->open; o; o = o->next_open)
		if (o->start_ns < keep)
			keep = o->start_ns;
	p->n_pool = pb_mevent_trim(p->pool, p->n_pool, keep);
out:
	pthread_mutex_unlock(&p->lock);
	if (r < 0) {
		free(ev);
		return r;
	}
	*ret = ev;
	*ret_n = n;
	return 0;
}

int pb_perf_symbol(struct pb_perf *h, uint64_t addr, char *buf, size_t size)
{
	pthread_mutex_lock(&h->c->lock);
	int r = core_symbol(h->c, addr, buf, size);
	pthread_mutex_unlock(&h->c->lock);
	return r;
}

void pb_perf_stats(const struct pb_perf *h, struct pb_perf_stats *s)
{
	const struct perf_core *p = h->c;
	*s = (struct pb_perf_stats){
	    .id = p,
	    .perf_events = (unsigned)p->n_ev,
	    .fds = (unsigned)p->n_ev + (p->stop_pipe[0] >= 0) + (p->stop_pipe[1] >= 0),
	    .rings = (unsigned)p->n_rings,
	    .ring_pages = p->ring_pages,
	    .cpus = (unsigned)p->n_groups,
	    .locked_bytes = (uint64_t)p->n_rings * (p->ring_pages + 1) * p->page_size,
	    .users = p->refs,
	    .ftrace = p->ftrace,
	    .slab_perf = !p->ftrace || p->ft_slab_perf,
	    .buffer_why = p->buffer_why,
	};
	if (p->ftrace) {
		s->cpus = (unsigned)p->ncpu;
		s->locked_bytes = 0;
		for (int i = 0; i < FT_N; i++) {
			s->fds += pb_ftbuf_fds(p->ft[i]);
			s->rings += p->ft[i] ? (unsigned)p->ncpu : 0;
			s->locked_bytes += pb_ftbuf_bytes(p->ft[i]);
		}
	}
	pthread_mutex_lock((pthread_mutex_t *)&p->lock);
	s->records_decoded = p->records_decoded;
	s->decode_ns = p->decode_ns;
	pthread_mutex_unlock((pthread_mutex_t *)&p->lock);
}

void pb_perf_free(struct pb_perf *h)
{
	if (!h)
		return;
	struct perf_core *p = h->c;
	if (p) {
		if (h->enabled)
			pb_perf_disable(h);
		pthread_mutex_lock(&p->lock);
		if (h->window)
			unlink_open(h);
		pthread_mutex_unlock(&p->lock);
		pthread_mutex_lock(&cores_lock);
		bool last = --p->refs == 0;
		if (last)
			for (struct perf_core **pp = &cores; *pp; pp = &(*pp)->next)
				if (*pp == p) {
					*pp = p->next;
					break;
				}
		pthread_mutex_unlock(&cores_lock);
		if (last)
			core_free(p);
	}
	free(h->base_val);
	free(h->slab_cpu);
	free(h);
}

/* ---- counters of the writer ------------------------------------------------------------- */
struct pb_counters {
	pid_t tid;
	int fd[PB_MEASURE_N_COUNTERS];
};

static const struct {
	const char *name;
	uint32_t type;
	uint64_t config;
} counter_defs[PB_MEASURE_N_COUNTERS] = {
    {"task_clock_ns", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    {"context_switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cpu_migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    {"page_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
};

int pb_counters_open(pid_t tid, struct pb_counters **ret)
{
	struct pb_counters *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->tid = tid;
	for (size_t i = 0; i < PB_MEASURE_N_COUNTERS; i++) {
		struct perf_event_attr a = {.size = sizeof(a),
					    .type = counter_defs[i].type,
					    .config = counter_defs[i].config,
					    .disabled = 1,
					    .exclude_hv = 1};
		long fd = perf_open(&a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
		c->fd[i] = fd < 0 ? -1 : (int)fd;
	}
	if (c->fd[0] < 0) {
		int r = -errno;
		pb_counters_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

pid_t pb_counters_tid(const struct pb_counters *c)
{
	return c->tid;
}

int pb_counters_enable(struct pb_counters *c)
{
	for (size_t i = 0; i < PB_MEASURE_N_COUNTERS; i++)
		if (c->fd[i] >= 0 && (ioctl(c->fd[i], PERF_EVENT_IOC_RESET, 0) < 0 ||
				      ioctl(c->fd[i], PERF_EVENT_IOC_ENABLE, 0) < 0))
			return -errno;
	return 0;
}

int pb_counters_read(struct pb_counters *c, struct pb_counter out[PB_MEASURE_N_COUNTERS])
{
	for (size_t i = 0; i < PB_MEASURE_N_COUNTERS; i++) {
		out[i] = (struct pb_counter){.name = counter_defs[i].name};
		if (c->fd[i] < 0)
			continue;
		ioctl(c->fd[i], PERF_EVENT_IOC_DISABLE, 0);
		uint64_t v;
		if (read(c->fd[i], &v, sizeof(v)) == sizeof(v)) {
			out[i].supported = true;
			out[i].value = v;
		}
	}
	return 0;
}

unsigned pb_counters_fds(const struct pb_counters *c)
{
	unsigned n = 0;
	for (size_t i = 0; c && i < PB_MEASURE_N_COUNTERS; i++)
		n += c->fd[i] >= 0;
	return n;
}

void pb_counters_free(struct pb_counters *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < PB_MEASURE_N_COUNTERS; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	free(c);
}

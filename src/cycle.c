// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "probebench/cycle.h"
#include "probebench/numa_topo.h"
#include "probebench/paths.h"
#include "probebench/util.h"

struct pb_writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* to the writer thread: a request, quit; from it: started */
	pthread_cond_t done_cv; /* from the writer thread: the request done */
	struct pb_placement pl;
	const struct pb_cycle_hooks *hooks;
	bool started, has_req, done, quit, hung, abandoned;
	pid_t tid;
	int start_err;
	/* request, copied so an abandoned thread never reads freed memory */
	char path[PATH_MAX];
	char buf[256];
	const struct pb_target *t;
	enum pb_step step;
	/* a module request (--entry module) instead of a write: buf holds the options; wait is a
	 * copy owned by w, so an abandoned thread never reads the caller's memory */
	enum { OP_WRITE, OP_UNLOAD, OP_LOAD } op;
	struct pb_kmod *kmod;
	char module[64];
	struct pb_module_device *wait;
	size_t n_wait;
	uint64_t wait_timeout_ns;
	/* answer */
	int result;
	uint64_t ns, load_ns;
	int cpu;
	/* where the writer's memory sits, checked by the writer thread after pinning */
	bool numa_mem; /* w itself came from numa_alloc_onnode() on the writer's node */
	void *stack;   /* the thread's stack, from numa_alloc_onnode() too (NULL: glibc's) */
	size_t stack_size;
	int buf_node, stack_node;
};

static int placement_node(const struct pb_placement *pl)
{
	if (!pb_numa_ok())
		return -1;
	if (pl->node >= 0)
		return pl->node;
	return pl->cpu >= 0 ? numa_node_of_cpu(pl->cpu) : -1;
}

/*
 * Memory on a node. Under mlockall(MCL_FUTURE) a new mapping is populated at mmap() time, before
 * numa_alloc_onnode() can mbind() it, so the pages would land where this (main) thread's policy
 * puts them: allocate under a temporary preferred policy of this thread as well.
 */
static void *alloc_on_node(size_t size, int node)
{
	/* This thread's own policy (numactl --membind, ...) is put back afterwards. */
	struct bitmask *mask = numa_allocate_nodemask();
	int mode = -1;
	if (mask && get_mempolicy(&mode, mask->maskp, mask->size + 1, NULL, 0) < 0)
		mode = -1;
	numa_set_preferred(node);
	void *p = numa_alloc_onnode(size, node);
	if (mode >= 0)
		set_mempolicy(mode, mask->maskp, mask->size + 1);
	else
		numa_set_localalloc();
	if (mask)
		numa_free_nodemask(mask);
	return p;
}

/* The request buffer lives on the writer's node: allocated there, not where main runs. */
static struct pb_writer *writer_alloc(const struct pb_placement *pl)
{
	int node = placement_node(pl);
	if (node >= 0) {
		struct pb_writer *w = alloc_on_node(sizeof(*w), node);
		if (w) {
			memset(w, 0, sizeof(*w));
			w->numa_mem = true;
			return w;
		}
	}
	return calloc(1, sizeof(struct pb_writer));
}

static void writer_release(struct pb_writer *w)
{
	if (w)
		free(w->wait);
	if (w && w->stack)
		numa_free(w->stack, w->stack_size);
	if (w && w->numa_mem)
		numa_free(w, sizeof(*w));
	else
		free(w);
}

/* NUMA node of the page at addr (faulted in if needed), -1 unknown. */
static int addr_node(const void *addr)
{
	int node = -1;
	if (!pb_numa_ok() ||
	    get_mempolicy(&node, NULL, 0, (void *)addr, MPOL_F_NODE | MPOL_F_ADDR) < 0)
		return -1;
	return node;
}

static int pin_self(const struct pb_placement *pl)
{
	if (pl->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(pl->cpu, &set);
		int r = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		return -r;
	}
	if (pl->node >= 0) {
		if (!pb_numa_ok() || pl->node > numa_max_node())
			return -EINVAL;
		if (numa_run_on_node(pl->node) < 0)
			return -errno ? -errno : -EINVAL;
		numa_set_preferred(pl->node);
	}
	if (pl->fifo_prio > 0) {
		struct sched_param sp = {.sched_priority = pl->fifo_prio};
		int r = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
		if (r)
			return -r;
	}
	return 0;
}

static int do_write(const char *path, const char *s, size_t len, struct pb_writer *w)
{
	int fd = pb_open_file(PB_ROOT_SYS, O_WRONLY, "%s", path);
	if (fd < 0)
		return fd;
	bool hooked = w->hooks && w->step != PB_STEP_SETUP;
	if (hooked && w->hooks->before_write)
		w->hooks->before_write(w->hooks->userdata, w->t, w->step);
	w->cpu = sched_getcpu();
	uint64_t t0 = pb_now_ns();
	ssize_t n = write(fd, s, len);
	uint64_t t1 = pb_now_ns();
	int r = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	w->ns = t1 - t0;
	if (hooked && w->hooks->after_write)
		w->hooks->after_write(w->hooks->userdata, w->t, w->step, r, t0, t1);
	close(fd);
	return r;
}

static void sleep_ns(uint64_t ns);

/* A module request, timed and hooked like a write; a load waits for its devices too. */
static int do_module(struct pb_writer *w)
{
	bool hooked = w->hooks && w->step != PB_STEP_SETUP;
	if (hooked && w->hooks->before_write)
		w->hooks->before_write(w->hooks->userdata, w->t, w->step);
	/* Opened before the load, so no bind uevent of its probes is missed. */
	int fd = w->op == OP_LOAD ? pb_module_uevents_open() : -1;
	w->cpu = sched_getcpu();
	w->load_ns = 0;
	uint64_t t0 = pb_now_ns();
	int r;
	if (w->op == OP_UNLOAD) {
		r = pb_kmod_unload(w->kmod, w->module);
	} else {
		r = pb_kmod_load(w->kmod, w->module, w->buf, &w->load_ns);
		if (r == 0)
			r = pb_module_wait_bound(w->wait, w->n_wait, fd,
						 pb_now_ns() + w->wait_timeout_ns);
	}
	uint64_t t1 = pb_now_ns(), t_end = t1;
	if (fd >= 0)
		close(fd);
	if (r == 1) {
		/* Probes the load did not wait for (asynchronous): the bind uevent comes from
		 * driver_bound() just before really_probe returns in its worker. The observed
		 * window stays open a little longer so that those returns are in it; the time
		 * (bind_ns) is until the last device was bound. */
		r = 0;
		sleep_ns(PB_MODULE_SETTLE_NS);
		t_end = pb_now_ns();
	}
	w->ns = t1 - t0;
	if (hooked && w->hooks->after_write)
		w->hooks->after_write(w->hooks->userdata, w->t, w->step, r, t0, t_end);
	return r;
}

static void *writer_main(void *arg)
{
	struct pb_writer *w = arg;
	int r = pin_self(&w->pl);
	volatile char stack_probe[64];
	stack_probe[0] = 1;
	int buf_node = addr_node(w->buf), stack_node = addr_node((const void *)stack_probe);
	pthread_mutex_lock(&w->mu);
	w->buf_node = buf_node;
	w->stack_node = stack_node;
	w->tid = (pid_t)syscall(SYS_gettid);
	w->start_err = r;
	w->started = true;
	pthread_cond_broadcast(&w->cv);
	while (r == 0) {
		while (!w->has_req && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->quit)
			break;
		pthread_mutex_unlock(&w->mu);
		int res =
		    w->op == OP_WRITE ? do_write(w->path, w->buf, strlen(w->buf), w) : do_module(w);
		pthread_mutex_lock(&w->mu);
		if (w->abandoned) {
			/* The owner gave up on this write long ago; nobody waits for w. This thread
			 * still runs on its stack: that one is left to the process's exit. */
			w->stack = NULL;
			pthread_mutex_unlock(&w->mu);
			pthread_cond_destroy(&w->cv);
			pthread_cond_destroy(&w->done_cv);
			pthread_mutex_destroy(&w->mu);
			writer_release(w);
			return NULL;
		}
		w->result = res;
		w->has_req = false;
		w->done = true;
		/* Signalled with the mutex released, so the woken caller does not wait for it. w
		 * is freed only after this thread is joined, or by this thread when abandoned. */
		pthread_mutex_unlock(&w->mu);
		pthread_cond_signal(&w->done_cv);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int pb_writer_new(const struct pb_placement *pl, const struct pb_cycle_hooks *hooks,
		  struct pb_writer **ret)
{
	struct pb_writer *w = writer_alloc(pl);
	if (!w)
		return -ENOMEM;
	w->pl = *pl;
	w->hooks = hooks;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, &ca);
	pthread_cond_init(&w->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals go to the main thread, which decides when to stop; writes are never interrupted.
	 */
	sigset_t all, old;
	sigfillset(&all);
	/*
	 * Its stack on the writer's node too: glibc's would be touched first (thread descriptor at
	 * its top) by this thread, wherever it runs. No guard page below a stack given this way.
	 */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	int node = placement_node(pl);
	if (node >= 0 && pthread_attr_getstacksize(&attr, &w->stack_size) == 0 &&
	    (w->stack = alloc_on_node(w->stack_size, node)) != NULL &&
	    pthread_attr_setstack(&attr, w->stack, w->stack_size) != 0) {
		numa_free(w->stack, w->stack_size);
		w->stack = NULL;
	}
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = -pthread_create(&w->thread, &attr, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r < 0) {
		writer_release(w);
		return r;
	}
	pthread_mutex_lock(&w->mu);
	while (!w->started)
		pthread_cond_wait(&w->cv, &w->mu);
	r = w->start_err;
	pthread_mutex_unlock(&w->mu);
	if (r < 0) {
		pthread_join(w->thread, NULL);
		writer_release(w);
		return r;
	}
	*ret = w;
	return 0;
}

void pb_writer_free(struct pb_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	if (w->hung && !w->done) {
		/* Its thread is inside a write that has not returned; it frees w if it ever does.
		 * (A write that returned after its timeout left the thread waiting for work: that
		 * one is told to quit and joined below.) */
		w->abandoned = true;
		pthread_mutex_unlock(&w->mu);
		pthread_detach(w->thread);
		return;
	}
	w->quit = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->done_cv);
	pthread_mutex_destroy(&w->mu);
	writer_release(w);
}

void pb_writer_memory(const struct pb_writer *w, int *expected_node, int *buf_node, int *stack_node)
{
	*expected_node = placement_node(&w->pl);
	*buf_node = w->buf_node;
	*stack_node = w->stack_node;
}

bool pb_writer_hung(const struct pb_writer *w)
{
	return w && w->hung;
}

pid_t pb_writer_tid(const struct pb_writer *w)
{
	return w->tid;
}

static void prepare(struct pb_writer *w, const struct pb_target *t, enum pb_step step)
{
	if (w->hooks && w->hooks->prepare)
		w->hooks->prepare(w->hooks->userdata, t, step, w->tid);
}

/* Hands the request already set in w (under w->mu, held on entry) to the writer thread and waits
 * at most timeout_ns for it. Returns its result or -ETIMEDOUT; releases w->mu. */
static int submit_locked(struct pb_writer *w, uint64_t timeout_ns, uint64_t *ret_ns, int *ret_cpu)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	uint64_t dl = (uint64_t)deadline.tv_sec * 1000000000ull + deadline.tv_nsec + timeout_ns;
	deadline.tv_sec = dl / 1000000000ull;
	deadline.tv_nsec = dl % 1000000000ull;

	w->done = false;
	w->has_req = true;
	/* Signalled with the mutex released (and taken again before the writer thread has woken,
	 * as a rule), so the writer does not wake only to wait for it. */
	pthread_mutex_unlock(&w->mu);
	pthread_cond_signal(&w->cv);
	pthread_mutex_lock(&w->mu);
	int r = 0;
	while (!w->done && r == 0)
		r = pthread_cond_timedwait(&w->done_cv, &w->mu, &deadline);
	if (!w->done) {
		w->hung = true;
		pthread_mutex_unlock(&w->mu);
		return -ETIMEDOUT;
	}
	r = w->result;
	if (ret_ns)
		*ret_ns = w->ns;
	if (ret_cpu)
		*ret_cpu = w->cpu;
	pthread_mutex_unlock(&w->mu);
	return r;
}

int pb_writer_write(struct pb_writer *w, const char *path, const char *s, uint64_t timeout_ns,
		    const struct pb_target *t, enum pb_step step, uint64_t *ret_ns, int *ret_cpu)
{
	if (w->hung)
		return -EDEADLK;
	if (strlen(path) >= sizeof(w->path) || strlen(s) >= sizeof(w->buf))
		return -ENAMETOOLONG;
	pthread_mutex_lock(&w->mu);
	w->op = OP_WRITE;
	strcpy(w->path, path);
	strcpy(w->buf, s);
	w->t = t;
	w->step = step;
	return submit_locked(w, timeout_ns, ret_ns, ret_cpu);
}

int pb_writer_module(struct pb_writer *w, struct pb_kmod *k, bool load, const char *module,
		     const char *options, const struct pb_module_device *wait, size_t n_wait,
		     uint64_t timeout_ns, const struct pb_target *t, enum pb_step step,
		     uint64_t *ret_ns, uint64_t *ret_load_ns, int *ret_cpu)
{
	if (w->hung)
		return -EDEADLK;
	if (!options)
		options = "";
	if (strlen(module) >= sizeof(w->module) || strlen(options) >= sizeof(w->buf))
		return -ENAMETOOLONG;
	struct pb_module_device *copy = NULL;
	if (n_wait && !(copy = malloc(n_wait * sizeof(*copy))))
		return -ENOMEM;
	if (n_wait)
		memcpy(copy, wait, n_wait * sizeof(*copy));
	pthread_mutex_lock(&w->mu);
	w->op = load ? OP_LOAD : OP_UNLOAD;
	w->kmod = k;
	strcpy(w->module, module);
	strcpy(w->buf, options);
	free(w->wait);
	w->wait = copy;
	w->n_wait = n_wait;
	w->wait_timeout_ns = timeout_ns;
	w->t = t;
	w->step = step;
	/* The load waits up to timeout_ns for the devices itself; the writer is hung only when
	 * the call does not return either. */
	int r = submit_locked(w, 2 * timeout_ns, ret_ns, ret_cpu);
	if (ret_load_ns) {
		pthread_mutex_lock(&w->mu);
		*ret_load_ns = w->hung ? 0 : w->load_ns;
		pthread_mutex_unlock(&w->mu);
	}
	return r;
}

struct pb_gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned parties, arrived;
	uint64_t generation;
};

int pb_gate_new(unsigned parties, struct pb_gate **ret)
{
	struct pb_gate *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->parties = parties;
	*ret = g;
	return 0;
}

void pb_gate_free(struct pb_gate *g)
{
	if (!g)
		return;
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

static void gate_release_locked(struct pb_gate *g)
{
	g->arrived = 0;
	g->generation++;
	pthread_cond_broadcast(&g->cv);
}

void pb_gate_wait(struct pb_gate *g)
{
	pthread_mutex_lock(&g->mu);
	uint64_t gen = g->generation;
	if (++g->arrived >= g->parties)
		gate_release_locked(g);
	else
		while (g->generation == gen)
			pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

void pb_gate_leave(struct pb_gate *g)
{
	pthread_mutex_lock(&g->mu);
	if (g->parties)
		g->parties--;
	if (g->arrived && g->arrived >= g->parties)
		gate_release_locked(g);
	pthread_mutex_unlock(&g->mu);
}

static const char *const outcome_names[] = {
    [PB_CYCLE_OK] = "ok",
    [PB_CYCLE_UNBIND_FAILED] = "unbind-failed",
    [PB_CYCLE_BIND_FAILED] = "bind-failed",
    [PB_CYCLE_LOST] = "lost",
    [PB_CYCLE_HUNG] = "hung",
    [PB_CYCLE_GONE] = "gone",
    [PB_CYCLE_STATE_CHANGED] = "state-changed",
};

const char *pb_cycle_outcome_name(enum pb_cycle_outcome o)
{
	return (unsigned)o < PB_ARRAY_SIZE(outcome_names) ? outcome_names[o] : "unknown";
}

static const char *const restore_names[] = {
    [PB_RESTORE_OK] = "ok",
    [PB_RESTORE_REBOUND] = "rebound",
    [PB_RESTORE_HUNG] = "hung",
    [PB_RESTORE_GONE] = "gone",
    [PB_RESTORE_OTHER] = "other-driver",
    [PB_RESTORE_FAILED] = "failed",
    [PB_RESTORE_MISMATCH] = "mismatch",
};

const char *pb_restore_outcome_name(enum pb_restore_outcome o)
{
	return (unsigned)o < PB_ARRAY_SIZE(restore_names) ? restore_names[o] : "unknown";
}

/* ---- sysfs paths of a device ----------------------------------------------------------- */

static int dev_attr(const char *syspath, const char *attr, char *buf, size_t size)
{
	size_t a = strlen(syspath), b = strlen(attr);
	if (a + 1 + b + 1 > size)
		return -ENAMETOOLONG;
	memcpy(buf, syspath, a);
	buf[a] = '/';
	memcpy(buf + a + 1, attr, b + 1);
	return 0;
}

static int drv_file(const char *bus, const char *drv, const char *file, char *buf, size_t size)
{
	return pb_sys_path(buf, size, "bus/%s/drivers/%s/%s", bus, drv, file);
}

static bool dev_present(const char *syspath)
{
	return pb_access(PB_ROOT_SYS, F_OK, "%s/uevent", syspath) == 0;
}

/* 1: bound to drv, 0: unbound or other driver (name in other), -ENODEV: gone. */
static int bound_to(const char *syspath, const char *drv, char *other, size_t size)
{
	char cur[128];
	int r = pb_readlink_name(PB_ROOT_SYS, cur, sizeof(cur), "%s/driver", syspath);
	if (r < 0) {
		if (!dev_present(syspath))
			return -ENODEV;
		if (other)
			snprintf(other, size, "%s", "");
		return 0;
	}
	if (other)
		snprintf(other, size, "%s", cur);
	return strcmp(cur, drv) == 0;
}

static bool has_override(const char *syspath)
{
	return pb_access(PB_ROOT_SYS, W_OK, "%s/driver_override", syspath) == 0;
}

/* driver_override reads "(null)" when unset; writing "\n" clears it. */
static int write_override(struct pb_writer *w, const char *syspath, const char *value,
			  uint64_t timeout_ns)
{
	char p[PATH_MAX];
	dev_attr(syspath, "driver_override", p, sizeof(p));
	return pb_writer_write(w, p, value[0] ? value : "\n", timeout_ns, NULL, PB_STEP_SETUP, NULL,
			       NULL);
}

/*
 * Puts an unbound device back on drv: driver_override=drv + drivers_probe (which also works
 * when a stale driver_override made DRV/bind refuse it), then DRV/bind. Restores
 * driver_override to orig_override. Returns 1 when bound to drv, 0 when not, -ETIMEDOUT, -ENODEV.
 */
static int put_back(struct pb_writer *w, const char *syspath, const char *bus, const char *name,
		    const char *drv, const char *orig_override, uint64_t timeout_ns)
{
	char p[PATH_MAX];
	int r;
	bool ovr = has_override(syspath);
	if (ovr) {
		r = write_override(w, syspath, drv, timeout_ns);
		if (r == -ETIMEDOUT)
			return r;
	}
	if (pb_sys_path(p, sizeof(p), "bus/%s/drivers_probe", bus) == 0) {
		r = pb_writer_write(w, p, name, timeout_ns, NULL, PB_STEP_SETUP, NULL, NULL);
		if (r == -ETIMEDOUT)
			return r;
	}
	r = bound_to(syspath, drv, NULL, 0);
	if (r == 0 && drv_file(bus, drv, "bind", p, sizeof(p)) == 0) {
		int k = pb_writer_write(w, p, name, timeout_ns, NULL, PB_STEP_SETUP, NULL, NULL);
		if (k == -ETIMEDOUT)
			return k;
		r = bound_to(syspath, drv, NULL, 0);
	}
	if (ovr && dev_present(syspath)) {
		int k = write_override(w, syspath, orig_override, timeout_ns);
		if (k == -ETIMEDOUT)
			return k;
	}
	return r;
}

static int read_override(const char *syspath, char *buf, size_t size)
{
	int r = pb_read_attr(PB_ROOT_SYS, buf, size, "%s/driver_override", syspath);
	if (r == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	if (r < 0)
		return r;
	if (!strcmp(buf, "(null)"))
		buf[0] = '\0';
	return 0;
}

static int64_t now_unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int journal_set(struct pb_journal_entry *je, enum pb_journal_state s)
{
	je->state = s;
	je->time_unix_ns = now_unix_ns();
	return pb_journal_write(je);
}

int pb_cycle_arm(struct pb_writer *w, const struct pb_target *t, const struct pb_cycle_cfg *cfg,
		 struct pb_journal_entry *je)
{
	struct pb_journal_entry e = {.pid = getpid()};
	uint64_t timeout_ns = cfg->timeout_ns;
	pb_journal_boot_id(e.boot_id, sizeof(e.boot_id));
	char p[PATH_MAX];
	int r;
	snprintf(e.syspath, sizeof(e.syspath), "%s", t->syspath);
	snprintf(e.bus, sizeof(e.bus), "%s", t->bus);
	snprintf(e.sysname, sizeof(e.sysname), "%s", t->name);
	snprintf(e.driver, sizeof(e.driver), "%s", t->driver);
	if ((r = read_override(t->syspath, e.driver_override, sizeof(e.driver_override))) < 0)
		return r;
	dev_attr(t->syspath, "power/control", p, sizeof(p));
	r = pb_read_attr(PB_ROOT_SYS, e.power_control, sizeof(e.power_control), "%s", p);
	if (r == -ENOENT)
		e.power_control[0] = '\0';
	else if (r < 0)
		return r;
	if (cfg->entry == PB_ENTRY_MODULE) {
		snprintf(e.module, sizeof(e.module), "%s", t->module);
		snprintf(e.module_options, sizeof(e.module_options), "%s",
			 cfg->module_options ? cfg->module_options : "");
	}
	/* The run's one durable write for this device: from here to its removal the entry covers
	 * every unbind, retry, put-back and module unload the cycles make. */
	if ((r = journal_set(&e, PB_JOURNAL_ARMED)) < 0)
		return r;
	*je = e;
	if (e.power_control[0] && strcmp(e.power_control, "on")) {
		r = pb_writer_write(w, p, "on", timeout_ns, NULL, PB_STEP_SETUP, NULL, NULL);
		if (r == -ETIMEDOUT)
			journal_set(je, PB_JOURNAL_HUNG);
		return r;
	}
	return 0;
}

int pb_cycle_disarm(struct pb_writer *w, const struct pb_target *t, uint64_t timeout_ns,
		    struct pb_journal_entry *je)
{
	char p[PATH_MAX], cur[16];
	int r = 0;
	if (!dev_present(t->syspath))
		return pb_journal_remove(je->sysname);
	dev_attr(t->syspath, "power/control", p, sizeof(p));
	if (je->power_control[0] && pb_read_attr(PB_ROOT_SYS, cur, sizeof(cur), "%s", p) >= 0 &&
	    strcmp(cur, je->power_control)) {
		r = pb_writer_write(w, p, je->power_control, timeout_ns, NULL, PB_STEP_SETUP, NULL,
				    NULL);
		if (r == -ETIMEDOUT) {
			journal_set(je, PB_JOURNAL_HUNG);
			return r;
		}
	}
	if (r < 0)
		return r;
	return pb_journal_remove(je->sysname);
}

static bool retryable(int err)
{
	return err == -EAGAIN || err == -EBUSY || err == -EINTR;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The timed bind step of the chosen entry path. */
static int bind_step(struct pb_writer *w, const struct pb_target *t,
		     const struct pb_journal_entry *je, const struct pb_cycle_cfg *cfg,
		     uint64_t *ns, int *cpu)
{
	char p[PATH_MAX];
	int r;
	if (cfg->entry == PB_ENTRY_BIND) {
		drv_file(t->bus, t->driver, "bind", p, sizeof(p));
		return pb_writer_write(w, p, t->name, cfg->timeout_ns, t, PB_STEP_BIND, ns, cpu);
	}
	bool ovr = has_override(t->syspath);
	if (ovr && (r = write_override(w, t->syspath, t->driver, cfg->timeout_ns)) < 0)
		return r;
	pb_sys_path(p, sizeof(p), "bus/%s/drivers_probe", t->bus);
	r = pb_writer_write(w, p, t->name, cfg->timeout_ns, t, PB_STEP_BIND, ns, cpu);
	if (r == -ETIMEDOUT)
		return r;
	if (ovr && dev_present(t->syspath)) {
		int k = write_override(w, t->syspath, je->driver_override, cfg->timeout_ns);
		if (k == -ETIMEDOUT)
			return k;
	}
	return r;
}

/*
 * --entry module (the journal names the module since arm): unload it (timed: unbind_ns),
 * load it again with the run's options and wait until every device its drivers had bound is
 * bound again (timed: bind_ns; the load call alone: load_ns). A device still unbound then is put
 * back with the sysfs route; the module not loaded after a second try leaves the cycle lost
 * (journal kept: restore loads it). Returns 0 (*res complete), -ETIMEDOUT (hung) or -ENODEV
 * (the target is gone).
 */
static int module_cycle(struct pb_writer *w, const struct pb_target *t, struct pb_journal_entry *je,
			const struct pb_cycle_cfg *cfg, struct pb_cycle_result *res)
{
	struct pb_module_device *devs = NULL;
	size_t n = 0;
	int cpu = -1, r = pb_module_devices(je->module, &devs, &n);
	if (r < 0 || !cfg->kmod) {
		res->outcome = PB_CYCLE_UNBIND_FAILED;
		res->unbind_errno = r < 0 ? -r : EINVAL;
		res->verified = true;
		return 0;
	}
	prepare(w, t, PB_STEP_UNBIND);
	if (cfg->gate)
		pb_gate_wait(cfg->gate);
	r = pb_writer_module(w, cfg->kmod, false, je->module, NULL, NULL, 0, cfg->timeout_ns, t,
			     PB_STEP_UNBIND, &res->unbind_ns, NULL, &cpu);
	res->writer_cpu = cpu;
	if (r == -ETIMEDOUT)
		goto done;
	if (r < 0)
		res->unbind_errno = -r;
	if (pb_module_loaded(je->module)) {
		/* Refused (in use since the plan was made): nothing was unbound. */
		if (!res->unbind_errno)
			res->unbind_errno = EBUSY;
		res->outcome = PB_CYCLE_UNBIND_FAILED;
		res->verified = bound_to(t->syspath, t->driver, NULL, 0) == 1;
		r = 0;
		goto done;
	}
	prepare(w, t, PB_STEP_BIND);
	if (cfg->gate)
		pb_gate_wait(cfg->gate);
	r = pb_writer_module(w, cfg->kmod, true, je->module, je->module_options, devs, n,
			     cfg->timeout_ns, t, PB_STEP_BIND, &res->bind_ns, &res->load_ns, &cpu);
	if (r == -ETIMEDOUT)
		goto done;
	if (r < 0)
		res->bind_errno = -r;
	if (!pb_module_loaded(je->module)) {
		/* One more try, untimed and unobserved, so the devices are not left driverless. */
		res->retries++;
		r = pb_writer_module(w, cfg->kmod, true, je->module, je->module_options, devs, n,
				     cfg->timeout_ns, NULL, PB_STEP_SETUP, NULL, NULL, NULL);
		if (r == -ETIMEDOUT)
			goto done;
		if (!pb_module_loaded(je->module)) {
			res->outcome = PB_CYCLE_LOST;
			r = bound_to(t->syspath, t->driver, NULL, 0) == -ENODEV ? -ENODEV : 0;
			goto done;
		}
	}
	/* Every device bound again, else each one left is put back through sysfs. */
	bool all = true;
	for (size_t i = 0; i < n; i++) {
		int b = bound_to(devs[i].syspath, devs[i].driver, NULL, 0);
		if (b == 1 || b == -ENODEV)
			continue;
		res->put_back = true;
		/* driver_override back to what it was: the journal's for the target; the
		 * others' the unload did not change (an unbound device's reads as it was). */
		char ovr[128] = "";
		if (!strcmp(devs[i].syspath, t->syspath))
			snprintf(ovr, sizeof(ovr), "%s", je->driver_override);
		else if (read_override(devs[i].syspath, ovr, sizeof(ovr)) < 0)
			ovr[0] = '\0';
		b = put_back(w, devs[i].syspath, devs[i].bus, devs[i].name, devs[i].driver, ovr,
			     cfg->timeout_ns);
		if (b == -ETIMEDOUT) {
			r = b;
			goto done;
		}
		all &= b == 1 || b == -ENODEV;
	}
	r = bound_to(t->syspath, t->driver, NULL, 0);
	if (r == -ENODEV)
		goto done;
	res->verified = r == 1 && all;
	if (res->put_back && !res->bind_errno)
		res->bind_errno = ENXIO; /* loaded, but a device was not bound in time */
	res->outcome = !res->verified			  ? PB_CYCLE_LOST
		       : res->put_back || res->bind_errno ? PB_CYCLE_BIND_FAILED
							  : PB_CYCLE_OK;
	r = 0;
done:
	free(devs);
	return r;
}

void pb_cycle_once(struct pb_writer *w, const struct pb_target *t, struct pb_journal_entry *je,
		   const struct pb_cycle_cfg *cfg, struct pb_cycle_result *ret)
{
	struct pb_cycle_result res = {.writer_cpu = -1, .writer_node = -1};
	char p[PATH_MAX];
	int r, cpu = -1;
	uint64_t t_begin = pb_now_ns();

	r = bound_to(t->syspath, t->driver, NULL, 0);
	if (r == -ENODEV) {
		res.outcome = PB_CYCLE_GONE;
		pb_journal_remove(je->sysname);
		goto out;
	}
	if (r == 0) {
		res.outcome = PB_CYCLE_STATE_CHANGED;
		goto out;
	}
	if (cfg->entry == PB_ENTRY_MODULE) {
		r = module_cycle(w, t, je, cfg, &res);
		if (r == -ETIMEDOUT)
			goto hung;
		if (r == -ENODEV)
			goto gone;
		goto out;
	}

	drv_file(t->bus, t->driver, "unbind", p, sizeof(p));
	prepare(w, t, PB_STEP_UNBIND);
	if (cfg->gate)
		pb_gate_wait(cfg->gate);
	r = pb_writer_write(w, p, t->name, cfg->timeout_ns, t, PB_STEP_UNBIND, &res.unbind_ns,
			    &cpu);
	res.writer_cpu = cpu;
	if (r == -ETIMEDOUT)
		goto hung;
	if (r < 0)
		res.unbind_errno = -r;
	r = bound_to(t->syspath, t->driver, NULL, 0);
	if (r == -ENODEV)
		goto gone;
	if (r == 1) {
		/* Still bound: the unbind was refused or did nothing. */
		if (!res.unbind_errno)
			res.unbind_errno = EBUSY;
		res.outcome = PB_CYCLE_UNBIND_FAILED;
		res.verified = true;
		goto out;
	}

	prepare(w, t, PB_STEP_BIND);
	if (cfg->gate)
		pb_gate_wait(cfg->gate);
	for (unsigned attempt = 0;; attempt++) {
		if (attempt)
			prepare(w, t, PB_STEP_BIND);
		r = bind_step(w, t, je, cfg, &res.bind_ns, &cpu);
		if (r == -ETIMEDOUT)
			goto hung;
		int b = bound_to(t->syspath, t->driver, NULL, 0);
		if (b == -ENODEV)
			goto gone;
		if (r < 0 && !res.bind_errno)
			res.bind_errno = -r;
		if (b == 1) {
			res.verified = true;
			break;
		}
		if (attempt >= PB_CYCLE_RETRIES || (r < 0 && !retryable(r)))
			break;
		res.retries++;
		sleep_ns(PB_CYCLE_RETRY_BACKOFF_NS);
	}
	if (!res.verified) {
		res.put_back = true;
		r = put_back(w, t->syspath, t->bus, t->name, t->driver, je->driver_override,
			     cfg->timeout_ns);
		if (r == -ETIMEDOUT)
			goto hung;
		if (r == -ENODEV)
			goto gone;
		if (!res.bind_errno)
			res.bind_errno = ENXIO; /* the write succeeded but nothing bound */
		res.outcome = r == 1 ? PB_CYCLE_BIND_FAILED : PB_CYCLE_LOST;
		res.verified = r == 1;
		goto out;
	}
	/* Bound by this cycle's own last write: ok, even after retries (retries and bind_errno
	 * say so). Bound although that write failed (a concurrent probe won): no bind of ours. */
	res.outcome = r == 0 ? PB_CYCLE_OK : PB_CYCLE_BIND_FAILED;
	goto out;

hung:
	res.outcome = PB_CYCLE_HUNG;
	journal_set(je, PB_JOURNAL_HUNG);
	goto out;
gone:
	res.outcome = PB_CYCLE_GONE;
	pb_journal_remove(je->sysname);
out:
	if (cfg->gate)
		pb_gate_leave(cfg->gate);
	res.cycle_ns = pb_now_ns() - t_begin;
	if (res.writer_cpu >= 0 && pb_numa_ok())
		res.writer_node = numa_node_of_cpu(res.writer_cpu);
	*ret = res;
}

/*
 * The journal names a device twice: its syspath and its bus and name. Both must be the same
 * device (when both exist) before anything is written for it: a crafted or stale entry must not
 * steer writes to another device.
 */
static bool same_device(const struct pb_journal_entry *je)
{
	char a[PATH_MAX], b[PATH_MAX];
	if (!pb_journal_syspath_ok(je->syspath))
		return false;
	if (pb_realpath(PB_ROOT_SYS, a, "bus/%s/devices/%s", je->bus, je->sysname) < 0 ||
	    pb_realpath(PB_ROOT_SYS, b, "%s", je->syspath) < 0)
		return true; /* one is missing: the device is gone, or its bus with its module */
	return !strcmp(a, b);
}

enum pb_restore_outcome pb_restore_entry(struct pb_writer *w, const struct pb_journal_entry *je,
					 uint64_t timeout_ns, int *ret_err)
{
	char other[128], p[PATH_MAX];
	enum pb_restore_outcome out = PB_RESTORE_OK;
	int r;
	char boot[40];
	*ret_err = 0;
	pb_journal_boot_id(boot, sizeof(boot));
	if (pb_journal_hung_now(je, boot))
		return PB_RESTORE_HUNG;
	if (!same_device(je))
		return PB_RESTORE_MISMATCH;
	if (je->module[0] && !pb_module_loaded(je->module)) {
		/* A run of --entry module stopped while the module was unloaded: load it back with
		 * the run's options, and give the device the timeout to be bound by it. */
		struct pb_module_device dev = {0};
		snprintf(dev.syspath, sizeof(dev.syspath), "%s", je->syspath);
		snprintf(dev.driver, sizeof(dev.driver), "%s", je->driver);
		struct pb_kmod *k = NULL;
		r = pb_kmod_new(&k);
		if (r == 0)
			r = pb_writer_module(w, k, true, je->module, je->module_options, &dev, 1,
					     timeout_ns, NULL, PB_STEP_SETUP, NULL, NULL, NULL);
		if (r == -ETIMEDOUT)
			goto hung; /* k stays with the writer thread stuck in the load */
		pb_kmod_free(k);
		if (!pb_module_loaded(je->module)) {
			*ret_err = r < 0 ? -r : ENOENT;
			return PB_RESTORE_FAILED;
		}
		out = PB_RESTORE_REBOUND;
	}
	r = bound_to(je->syspath, je->driver, other, sizeof(other));
	if (r == -ENODEV) {
		pb_journal_remove(je->sysname);
		return PB_RESTORE_GONE;
	}
	if (r == 0 && other[0])
		return PB_RESTORE_OTHER;
	if (r == 0) {
		out = PB_RESTORE_REBOUND;
		r = put_back(w, je->syspath, je->bus, je->sysname, je->driver, je->driver_override,
			     timeout_ns);
		if (r == -ETIMEDOUT)
			goto hung;
		if (r == -ENODEV) {
			pb_journal_remove(je->sysname);
			return PB_RESTORE_GONE;
		}
		if (r != 1) {
			*ret_err = ENXIO;
			return PB_RESTORE_FAILED;
		}
	}
	/* Settings: driver_override and power/control back to what the journal recorded. */
	char cur[128];
	if (has_override(je->syspath) && read_override(je->syspath, cur, sizeof(cur)) == 0 &&
	    strcmp(cur, je->driver_override)) {
		r = write_override(w, je->syspath, je->driver_override, timeout_ns);
		if (r == -ETIMEDOUT)
			goto hung;
		if (r < 0) {
			*ret_err = -r;
			return PB_RESTORE_FAILED;
		}
	}
	dev_attr(je->syspath, "power/control", p, sizeof(p));
	if (je->power_control[0] && pb_read_attr(PB_ROOT_SYS, cur, sizeof(cur), "%s", p) >= 0 &&
	    strcmp(cur, je->power_control)) {
		r = pb_writer_write(w, p, je->power_control, timeout_ns, NULL, PB_STEP_SETUP, NULL,
				    NULL);
		if (r == -ETIMEDOUT)
			goto hung;
		if (r < 0) {
			*ret_err = -r;
			return PB_RESTORE_FAILED;
		}
	}
	r = pb_journal_remove(je->sysname);
	if (r < 0) {
		*ret_err = -r;
		return PB_RESTORE_FAILED;
	}
	return out;
hung : {
	struct pb_journal_entry h = *je;
	journal_set(&h, PB_JOURNAL_HUNG);
	*ret_err = ETIMEDOUT;
	return PB_RESTORE_HUNG;
}
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The run session: lock the state directory, put back what the journal holds, take the plan
 * (run_plan.c), open the observers and the pinned writer threads, cycle round-robin over
 * targets x placements, disarm, and fill the typed record (record.h). Front ends (cmd_run, the
 * daemon) print, store and export the record; this file logs what went wrong, once, naming the
 * device.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "probebench/cycle.h"
#include "probebench/module.h"
#include "probebench/journal.h"
#include "probebench/log.h"
#include "probebench/numa_topo.h"
#include "probebench/paths.h"
#include "probebench/policy.h"
#include "probebench/record.h"
#include "probebench/run.h"
#include "probebench/run_measure.h"
#include "probebench/run_loop.h"
#include "probebench/run_plan.h"
#include "probebench/target.h"
#include "probebench/util.h"
#include "probebench/version.h"

#define RESTORE_TIMEOUT_NS (10ull * 1000000000ull)

struct run {
	const struct pb_run_opts *o;
	struct pb_target *targets;
	struct pb_run_plan *plan; /* targets, verdicts, placements: aliased below */
	size_t n_targets;
	struct pb_placement *pl;
	size_t n_pl;
	struct pb_writer **writers; /* [placement] or, with --parallel, [placement][target] */
	size_t n_writers;
	struct pb_journal_entry *je;
	bool *armed;
	struct pb_run_record *rec; /* iterations as they come; the rest at the end */
	struct pb_run_loop loop;
	unsigned warmup_done;
	int64_t start_unix_ns, end_unix_ns;
	const char *status;
	enum pb_run_status run_status;
	struct json_object *restored;
	char (*hung)[PATH_MAX]; /* syspaths the journal marks hung in this boot */
	size_t n_hung;
	struct pb_run_measure *measure; /* NULL: --no-measure */
	struct pb_cycle_hooks mhooks;	/* the observer's hooks (chaining the caller's) */
	struct json_object *hygiene;
	struct pb_kmod *kmod; /* --entry module: the writers' libkmod context */
};

static int64_t unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* One entry the journal put back (or not), logged and noted in the record's journal_restored;
 * a device hung in this boot joins run->hung. Returns whether the entry stays. */
static bool note_restored(struct run *run, const struct pb_journal_entry *e,
			  enum pb_restore_outcome out, int err)
{
	struct json_object *j = json_object_new_object();
	json_object_object_add(j, "device", json_object_new_string(e->sysname));
	json_object_object_add(j, "outcome", json_object_new_string(pb_restore_outcome_name(out)));
	json_object_array_add(run->restored, j);
	switch (out) {
	case PB_RESTORE_OK:
	case PB_RESTORE_REBOUND:
		pb_info("journal: %s %s (driver %s, left by pid %d)", e->sysname,
			out == PB_RESTORE_OK ? "settings restored" : "rebound", e->driver,
			(int)e->pid);
		return false;
	case PB_RESTORE_GONE:
		pb_warn("journal: %s no longer exists; entry cleared", e->sysname);
		return false;
	case PB_RESTORE_HUNG: {
		pb_warn("journal: %s is marked hung (a write never returned in this boot); it and "
			"the devices around it will not be touched",
			e->sysname);
		if (err)
			return true; /* it hung just now */
		char(*nh)[PATH_MAX] = realloc(run->hung, (run->n_hung + 1) * sizeof(*nh));
		if (!nh)
			return true;
		run->hung = nh;
		snprintf(run->hung[run->n_hung++], PATH_MAX, "%s", e->syspath);
		return false;
	}
	case PB_RESTORE_OTHER:
		pb_error("journal: %s is bound to another driver than %s; left alone", e->sysname,
			 e->driver);
		return true;
	case PB_RESTORE_FAILED:
		pb_error("journal: %s could not be put back on %s: %s", e->sysname, e->driver,
			 strerror(err));
		return true;
	case PB_RESTORE_MISMATCH:
		pb_error("journal: %s: the entry's %s is not /sys/bus/%s/devices/%s; left alone",
			 e->sysname, e->syspath, e->bus, e->sysname);
		return true;
	}
	return false;
}

/* Restores what earlier runs left in the journal. Returns 0, or -EBUSY when something remains. */
static int restore_journal(struct run *run)
{
	struct pb_journal_entry *v = NULL;
	size_t n = 0, bad = 0;
	if (pb_observer_restore_kernel_settings() > 0)
		pb_warn("initcall_debug put back as a run that is gone found it");
	int r = pb_journal_load(&v, &n, &bad);
	if (r < 0)
		return pb_error_errno(r, "cannot read the journal in %s", pb_state_dir());
	if (bad)
		pb_warn("%zu unreadable journal file(s) in %s left in place", bad, pb_state_dir());
	run->restored = json_object_new_array();
	if (!n) {
		free(v);
		return 0;
	}
	struct pb_writer *w = NULL;
	struct pb_placement any = {.cpu = -1, .node = -1};
	if ((r = pb_writer_new(&any, NULL, &w)) < 0) {
		free(v);
		return pb_error_errno(r, "cannot start a writer thread");
	}
	bool left = false;
	for (size_t i = 0; i < n; i++) {
		int err;
		enum pb_restore_outcome out = pb_restore_entry(w, &v[i], RESTORE_TIMEOUT_NS, &err);
		left |= note_restored(run, &v[i], out, err);
		if (pb_writer_hung(w)) {
			left = true;
			break;
		}
	}
	pb_writer_free(w);
	free(v);
	return left ? -EBUSY : 0;
}

/* The placement of writer i: one writer per placement, or per placement x target in parallel. */
static size_t writer_placement(const struct run *run, size_t i)
{
	return run->o->parallel ? i / run->n_targets : i;
}

/*
 * The writers' own memory (hygiene): each writer's request buffer and a stack page should sit on
 * its placement's node, so the tool's writes do not reach across the interconnect.
 */
static void writer_memory(struct run *run)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < run->n_writers; i++) {
		size_t pi = writer_placement(run, i);
		int want, buf, stack;
		char l[32];
		pb_writer_memory(run->writers[i], &want, &buf, &stack);
		pb_placement_label(&run->pl[pi], l, sizeof(l));
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "placement", json_object_new_string(l));
		json_object_object_add(x, "expected_node",
				       want >= 0 ? json_object_new_int(want) : NULL);
		json_object_object_add(x, "buffer_node",
				       buf >= 0 ? json_object_new_int(buf) : NULL);
		json_object_object_add(x, "stack_node",
				       stack >= 0 ? json_object_new_int(stack) : NULL);
		bool known = want >= 0 && buf >= 0 && stack >= 0;
		bool ok = known && buf == want && stack == want;
		json_object_object_add(x, "on_writer_node",
				       known ? json_object_new_boolean(ok) : NULL);
		if (known && !ok)
			pb_warn("writer on %s: its buffer is on node %d and its stack on node %d, "
				"not on node %d (memory short there?)",
				l, buf, stack, want);
		json_object_array_add(a, x);
	}
	json_object_object_add(run->hygiene, "writer_memory", a);
	json_object_object_add(
	    run->hygiene, "writer_memory_method",
	    json_object_new_string("get_mempolicy(MPOL_F_NODE|MPOL_F_ADDR) from each writer thread "
				   "after pinning, on its request buffer (numa_alloc_onnode on the "
				   "writer's node) and a page of its stack"));
}

/* How the run was asked for, as the record keeps it. */
static void record_options(struct pb_record_options *ro, const struct pb_run_opts *o)
{
	*ro = (struct pb_record_options){.entry = o->entry,
					 .iterations = o->iterations,
					 .warmup = o->warmup,
					 .max_consecutive_failures = o->max_consecutive_failures,
					 .ring_pages = o->ring_pages,
					 .slab_samples = o->slab_samples,
					 .buffer = o->buffer,
					 .duration_ns = o->duration_ns,
					 .interval_ns = o->interval_ns,
					 .timeout_ns = o->timeout_ns,
					 .forced_reasons = o->forced_reasons,
					 .parallel = o->parallel,
					 .measure = o->measure,
					 .include_lossy = o->include_lossy,
					 .mlock = o->mlock,
					 .method = o->method,
					 .fifo_prio = o->fifo_prio};
	snprintf(ro->state_dir, sizeof(ro->state_dir), "%s", pb_state_dir());
	snprintf(ro->module_options, sizeof(ro->module_options), "%s",
		 o->module_options ? o->module_options : "");
}

/* The plan's targets (with their verdicts and observers' errors) and placements into the
 * record. -ENOMEM. */
static int record_plan(struct run *run)
{
	struct pb_run_record *rec = run->rec;
	rec->targets = calloc(run->n_targets ? run->n_targets : 1, sizeof(*rec->targets));
	rec->placements = calloc(run->n_pl ? run->n_pl : 1, sizeof(*rec->placements));
	if (!rec->targets || !rec->placements)
		return -ENOMEM;
	rec->n_targets = run->n_targets;
	for (size_t i = 0; i < run->n_targets; i++) {
		rec->targets[i].t = run->targets[i];
		rec->targets[i].verdict =
		    pb_verdict_to_json(&run->plan->verdicts[i], run->o->forced_reasons);
		const char *why = run->measure ? pb_run_measure_error(run->measure, i) : NULL;
		if (why)
			snprintf(rec->targets[i].observer_error,
				 sizeof(rec->targets[i].observer_error), "%s", why);
	}
	rec->n_placements = run->n_pl;
	for (size_t i = 0; i < run->n_pl; i++) {
		struct pb_record_placement *pl = &rec->placements[i];
		pb_placement_label(&run->pl[i], pl->label, sizeof(pl->label));
		pl->cpu = run->pl[i].cpu;
		pl->node = run->pl[i].node;
	}
	return 0;
}

/* Completes the record: what ran where, how it was asked for, the summaries. */
static int finish_record(struct run *run)
{
	struct pb_run_record *rec = run->rec;
	struct utsname u;
	char buf[4096];
	uname(&u);

	rec->schema_version = 3;
	snprintf(rec->tool_version, sizeof(rec->tool_version), "%s", PB_VERSION);
	snprintf(rec->host, sizeof(rec->host), "%s", u.nodename);
	snprintf(rec->kernel_release, sizeof(rec->kernel_release), "%s", u.release);
	rec->kernel = json_object_new_object();
	json_object_object_add(rec->kernel, "release", json_object_new_string(u.release));
	if (pb_read_attr(PB_ROOT_PROC, buf, sizeof(buf), "cmdline") >= 0)
		json_object_object_add(rec->kernel, "cmdline", json_object_new_string(buf));
	rec->uname = json_object_new_object();
	json_object_object_add(rec->uname, "sysname", json_object_new_string(u.sysname));
	json_object_object_add(rec->uname, "nodename", json_object_new_string(u.nodename));
	json_object_object_add(rec->uname, "release", json_object_new_string(u.release));
	json_object_object_add(rec->uname, "version", json_object_new_string(u.version));
	json_object_object_add(rec->uname, "machine", json_object_new_string(u.machine));
	struct pb_numa_topology topo;
	if (pb_numa_topology_load(&topo) == 0) {
		rec->topology = pb_numa_topology_to_json(&topo);
		pb_numa_topology_clear(&topo);
	}
	rec->measure_enabled = run->measure != NULL;
	pb_run_measure_finish(run->measure);
	if (run->measure)
		rec->measurement_info = pb_run_measure_json(run->measure);
	else
		snprintf(rec->measure_why_not, sizeof(rec->measure_why_not),
			 "measurement off (--no-measure, or not asked for by the caller): bare "
			 "timing only");
	rec->hygiene = run->hygiene;
	run->hygiene = NULL;
	rec->restored = run->restored;
	run->restored = NULL;
	rec->start_unix_ns = run->start_unix_ns;
	rec->end_unix_ns = run->end_unix_ns;
	record_options(&rec->options, run->o);
	if (record_plan(run) < 0)
		return -ENOMEM;
	rec->warmup_done = run->warmup_done;
	snprintf(rec->status, sizeof(rec->status), "%s", run->status);
	rec->run_status = run->run_status;
	return pb_run_record_summarise(rec);
}

/* Where the run stands, for the front's callback, after the record took an iteration it
 * (placement label in buf). */
static struct pb_run_position position(const struct run *run, const struct pb_run_loop *l,
				       const struct pb_record_iteration *it, char *buf, size_t size)
{
	uint64_t now = pb_now_ns();
	pb_placement_label(&run->pl[it->placement], buf, size);
	return (struct pb_run_position){
	    .done = run->rec->n_iterations,
	    .total = (uint64_t)run->o->iterations * run->n_targets * run->n_pl,
	    .since_start_ns = now - l->start_ns,
	    .since_measured_ns = now - l->measured_ns,
	    .target = run->targets[it->target].name,
	    .placement = buf,
	    .n_targets = run->n_targets,
	    .n_placements = run->n_pl,
	};
}

/* The loop's callback: each measured iteration into the record, then to the front's callback. */
static int take_iteration(void *userdata, const struct pb_record_iteration *it)
{
	struct run *run = userdata;
	const struct pb_run_opts *o = run->o;
	int r = pb_run_record_add_iteration(run->rec, it);
	if (r < 0) {
		pb_measurement_free(it->measurement);
		return r;
	}
	if (o->on_iteration) {
		const struct pb_record_iteration *last =
		    &run->rec->iterations[run->rec->n_iterations - 1];
		char label[32];
		struct pb_run_position at = position(run, &run->loop, last, label, sizeof(label));
		o->on_iteration(o->userdata, last, &at);
	}
	return 0;
}

/* The loop on the armed targets and started writers. Returns how it ended; sets run->status. */
static enum pb_run_status session_loop(struct run *run, const struct pb_cycle_hooks *hooks,
				       volatile sig_atomic_t *stop)
{
	run->loop = (struct pb_run_loop){.o = run->o,
					 .targets = run->targets,
					 .n_targets = run->n_targets,
					 .n_placements = run->n_pl,
					 .writers = run->writers,
					 .je = run->je,
					 .kmod = run->kmod,
					 .hooks = hooks,
					 .stop = stop,
					 .iteration = take_iteration,
					 .userdata = run,
					 .armed = run->armed};
	enum pb_run_status st = pb_run_loop(&run->loop);
	run->status = run->loop.status;
	run->warmup_done = run->loop.warmup_done;
	return st;
}

/* The measurement of a run whose writer hung: kept (reachable) for the abandoned thread. */
static struct pb_run_measure *kept_for_hung_writer;
static struct pb_kmod *kmod_kept_for_hung_writer;

static void run_free(struct run *run)
{
	bool hung = false;
	for (size_t i = 0; run->writers && i < run->n_writers; i++) {
		hung |= run->writers[i] && pb_writer_hung(run->writers[i]);
		pb_writer_free(run->writers[i]);
	}
	/* An abandoned writer stuck in a bind write still calls the hooks when (if) the write
	 * returns: its observer must outlive it. */
	if (!hung)
		pb_run_measure_free(run->measure);
	else if (run->measure)
		kept_for_hung_writer = run->measure;
	/* The same for a writer stuck in a module load or unload. */
	if (!hung)
		pb_kmod_free(run->kmod);
	else if (run->kmod)
		kmod_kept_for_hung_writer = run->kmod;
	json_object_put(run->hygiene);
	pb_run_record_free(run->rec);
	json_object_put(run->restored);
	free(run->hung);
	free(run->writers);
	pb_run_plan_free(run->plan);
	free(run->je);
	free(run->armed);
}

/* CAP_SYS_NICE in the effective set, from /proc/self/status (no libcap). */
static bool have_cap_sys_nice(void)
{
	char line[256];
	bool yes = false;
	FILE *f;
	if (pb_fopen(PB_ROOT_PROC, &f, "self/status") < 0)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long caps;
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			yes = caps & (1ull << 23); /* CAP_SYS_NICE */
	}
	fclose(f);
	return yes;
}

int pb_fifo_check(int prio, char *why, size_t size)
{
	int lo = sched_get_priority_min(SCHED_FIFO), hi = sched_get_priority_max(SCHED_FIFO);
	if (prio < lo || prio > hi) {
		snprintf(why, size, "SCHED_FIFO priority %d is outside %d..%d", prio, lo, hi);
		return -EINVAL;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_RTPRIO, &rl) == 0 && rl.rlim_cur >= (rlim_t)prio)
		return 0;
	if (have_cap_sys_nice())
		return 0;
	snprintf(why, size,
		 "SCHED_FIFO priority %d is not allowed: RLIMIT_RTPRIO is %llu and the process "
		 "lacks CAP_SYS_NICE",
		 prio, (unsigned long long)rl.rlim_cur);
	return -EPERM;
}

/* mlockall before cycling, so no page of the tool faults in inside a timed write. */
static struct json_object *lock_memory(void)
{
	struct json_object *j = json_object_new_object();
	int flags = MCL_CURRENT | MCL_FUTURE;
#if defined(__SANITIZE_ADDRESS__)
	/* The sanitizer's shadow is terabytes of reserved address space: lock on fault only. */
	flags |= MCL_ONFAULT;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	flags |= MCL_ONFAULT;
#endif
#endif
	int r = mlockall(flags) < 0 ? -errno : 0;
	json_object_object_add(j, "mlockall",
			       json_object_new_string(r < 0		    ? strerror(-r)
						      : flags & MCL_ONFAULT ? "ok (on fault)"
									    : "ok"));
	if (r < 0)
		pb_warn("mlockall failed (%s): pages of the tool may fault in during a timed write",
			strerror(-r));
	return j;
}

/* Each refusal once: an error when it stops the run, a warning when it was forced. */
static void log_verdicts(const struct pb_run_plan *plan, uint32_t forced)
{
	for (size_t i = 0; i < plan->n_targets; i++) {
		const struct pb_verdict *v = &plan->verdicts[i];
		const char *name = plan->targets[i].name;
		for (size_t k = 0; k < v->n; k++) {
			const char *why = pb_reason_name(v->refusals[k].reason);
			if (v->refusals[k].reason == PB_REASON_MODULE)
				pb_error("%s refused: %s: %s", name, why, v->refusals[k].detail);
			else if (forced & (1u << v->refusals[k].reason))
				pb_warn("%s: %s forced: %s", name, why, v->refusals[k].detail);
			else
				pb_error("%s refused: %s: %s (--force=%s lifts this reason)", name,
					 why, v->refusals[k].detail, why);
		}
	}
}

enum pb_run_status pb_run_refuse_driverless(const struct pb_run_plan *plan)
{
	for (size_t i = 0; i < plan->n_targets && plan->allowed; i++)
		if (!plan->targets[i].driver[0]) {
			pb_error("%s has no driver bound: nothing to cycle", plan->targets[i].name);
			return PB_RUN_REFUSED;
		}
	return PB_RUN_OK;
}

int pb_run_opts_check(const struct pb_run_opts *o)
{
	if (!o->n_targets) {
		pb_error("no target named; cycling needs explicit targets");
		return -EINVAL;
	}
	if (!o->timeout_ns) {
		pb_error("the write timeout must be positive");
		return -EINVAL;
	}
	if (o->entry == PB_ENTRY_MODULE && o->parallel) {
		pb_error("--entry module cycles one module at a time: drop --parallel");
		return -EINVAL;
	}
	if (o->entry != PB_ENTRY_MODULE && o->module_options && o->module_options[0]) {
		pb_error("--module-options needs --entry module");
		return -EINVAL;
	}
	if (o->fifo_prio > 0) {
		char why[200];
		int r = pb_fifo_check(o->fifo_prio, why, sizeof(why));
		if (r < 0) {
			pb_error("--fifo: %s", why);
			return r;
		}
	}
	return 0;
}

enum pb_run_status pb_run_execute(const struct pb_run_opts *o, struct pb_run_record **ret_record,
				  volatile sig_atomic_t *stop)
{
	return pb_run_execute_hooks(o, NULL, ret_record, stop);
}

/* The state directory's lock, then what the journal holds put back. *lock: the lock's fd. */
static enum pb_run_status session_lock(struct run *run, int *lock)
{
	pid_t holder = 0;
	*lock = pb_journal_lock(&holder);
	if (*lock == -EWOULDBLOCK) {
		if (holder)
			pb_error("another probebench run (pid %d) holds %s/lock; one run at a time",
				 (int)holder, pb_state_dir());
		else
			pb_error("another probebench run holds %s/lock; one run at a time",
				 pb_state_dir());
		return PB_RUN_FAILED;
	}
	if (*lock == -EPERM) {
		pb_error("the state directory %s or its lock is not owned by this user or is "
			 "writable by group or others: not trusted",
			 pb_state_dir());
		return PB_RUN_FAILED;
	}
	if (*lock < 0) {
		pb_error_errno(*lock, "cannot lock the state directory %s", pb_state_dir());
		return PB_RUN_FAILED;
	}
	/* Whatever a crashed run left comes back before anything is resolved or checked. */
	if (restore_journal(run) < 0) {
		pb_error("the journal in %s still holds devices; not starting (see `probebench "
			 "restore`)",
			 pb_state_dir());
		return PB_RUN_FAILED;
	}
	return PB_RUN_OK;
}

/* The plan made and allowed; the per-target and per-writer arrays. */
static enum pb_run_status session_plan(struct run *run)
{
	const struct pb_run_opts *o = run->o;
	int r = pb_run_plan_make(o, (const char(*)[PATH_MAX])run->hung, run->n_hung, &run->plan);
	if (r < 0)
		return r == -EINVAL || r == -ENOENT ? PB_RUN_INVALID : PB_RUN_FAILED;
	run->targets = run->plan->targets;
	run->n_targets = run->plan->n_targets;
	run->pl = run->plan->placements;
	run->n_pl = run->plan->n_placements;
	run->n_writers = run->n_pl * (o->parallel ? run->n_targets : 1);
	run->writers = calloc(run->n_writers, sizeof(*run->writers));
	run->je = calloc(run->n_targets ? run->n_targets : 1, sizeof(*run->je));
	run->armed = calloc(run->n_targets ? run->n_targets : 1, sizeof(*run->armed));
	if (!run->writers || !run->je || !run->armed) {
		pb_error("out of memory");
		return PB_RUN_FAILED;
	}
	log_verdicts(run->plan, o->forced_reasons);
	enum pb_run_status st = pb_run_refuse_driverless(run->plan);
	if (st == PB_RUN_OK && !run->plan->allowed)
		st = PB_RUN_REFUSED;
	return st;
}

/* The observers (hooks chained before the caller's), the hygiene, the pinned writers. */
static enum pb_run_status session_open(struct run *run, const struct pb_cycle_hooks **hooks)
{
	const struct pb_run_opts *o = run->o;
	int r;
	if (o->measure) {
		/* Opened before anything is armed: an observer that cannot open costs nothing. */
		r = pb_run_measure_new(run->targets, run->n_targets, run->plan->inventory,
				       run->plan->devices, o->method, o->ring_pages,
				       o->slab_samples, o->buffer, &run->measure);
		if (r < 0) {
			pb_error_errno(r, "cannot set up the measurement");
			return PB_RUN_FAILED;
		}
		size_t active = pb_run_measure_active(run->measure);
		if (active < run->n_targets)
			pb_warn(
			    "measurement (--method %s) unavailable for %zu of %zu target(s): "
			    "those are timed only (the record's measurement.observers says why)",
			    pb_measure_method_name(o->method), run->n_targets - active,
			    run->n_targets);
		pb_run_measure_hooks(run->measure, *hooks, &run->mhooks);
		*hooks = &run->mhooks;
	}
	run->hygiene = o->mlock ? lock_memory() : json_object_new_object();
	json_object_object_add(run->hygiene, "sched_fifo_prio",
			       o->fifo_prio > 0 ? json_object_new_int(o->fifo_prio) : NULL);
	json_object_object_add(run->hygiene, "warmup_iterations", json_object_new_int64(o->warmup));
	json_object_object_add(
	    run->hygiene, "placements",
	    json_object_new_string("visited round-robin within every round (interleaved)"));
	for (size_t i = 0; i < run->n_writers; i++) {
		size_t pi = writer_placement(run, i);
		r = pb_writer_new(&run->pl[pi], *hooks, &run->writers[i]);
		if (r < 0) {
			char l[32];
			pb_placement_label(&run->pl[pi], l, sizeof(l));
			pb_error_errno(r, "cannot start a writer thread on %s", l);
			return r == -EINVAL ? PB_RUN_INVALID : PB_RUN_FAILED;
		}
	}
	writer_memory(run);
	return PB_RUN_OK;
}

/* Each target armed before its first cycle: its journal entry, the run's one durable write for
 * it (with --entry module, naming the module and its options), and power/control. */
static enum pb_run_status session_arm(struct run *run)
{
	if (run->o->entry == PB_ENTRY_MODULE) {
		int r = pb_kmod_new(&run->kmod);
		if (r < 0) {
			pb_error_errno(r,
				       "cannot open libkmod's context (modules.dep of the running "
				       "kernel)");
			return PB_RUN_FAILED;
		}
	}
	const struct pb_cycle_cfg cfg = {.entry = run->o->entry,
					 .timeout_ns = run->o->timeout_ns,
					 .module_options = run->o->module_options};
	for (size_t i = 0; i < run->n_targets; i++) {
		const struct pb_target *t = &run->targets[i];
		int r = pb_cycle_arm(run->writers[0], t, &cfg, &run->je[i]);
		if (r < 0 && pb_access(PB_ROOT_SYS, F_OK, "%s", t->syspath) == -ENOENT) {
			pb_error("%s: the device disappeared before its first cycle (%s)", t->name,
				 t->syspath);
			run->status = "failed";
			run->armed[i] = true; /* the journal entry may exist: disarm clears it */
			return PB_RUN_GONE;
		}
		if (r < 0) {
			pb_error_errno(r, "%s: cannot prepare (journal in %s, power/control)",
				       t->name, pb_state_dir());
			run->status = r == -ETIMEDOUT ? "timeout" : "failed";
			if (r != -ETIMEDOUT)
				run->armed[i] = true; /* the journal entry may exist: disarm */
			return r == -ETIMEDOUT ? PB_RUN_HUNG : PB_RUN_FAILED;
		}
		run->armed[i] = true;
	}
	return PB_RUN_OK;
}

/* Each armed target's settings put back, from a writer that is not hung. Returns st, or the
 * disarm's failure when st was ok. */
static enum pb_run_status session_disarm(struct run *run, enum pb_run_status st)
{
	for (size_t i = 0; i < run->n_targets; i++) {
		/* a device marked hung is never touched again, not even to restore a setting */
		if (!run->armed[i] || run->je[i].state == PB_JOURNAL_HUNG)
			continue;
		struct pb_writer *w = NULL;
		for (size_t p = 0; p < run->n_writers && !w; p++)
			if (!pb_writer_hung(run->writers[p]))
				w = run->writers[p];
		if (!w)
			break;
		int r = pb_cycle_disarm(w, &run->targets[i], run->o->timeout_ns, &run->je[i]);
		if (r < 0) {
			pb_error_errno(
			    r,
			    "%s: cannot restore its settings (power/control); the journal "
			    "keeps it for `probebench restore`",
			    run->targets[i].name);
			if (st == PB_RUN_OK)
				st = r == -ETIMEDOUT ? PB_RUN_HUNG : PB_RUN_FAILED;
		}
	}
	return st;
}

enum pb_run_status pb_run_execute_hooks(const struct pb_run_opts *o,
					const struct pb_cycle_hooks *hooks,
					struct pb_run_record **ret_record,
					volatile sig_atomic_t *stop)
{
	struct run run = {.o = o, .status = "failed"};
	enum pb_run_status st;
	int lock = -1, r;
	static volatile sig_atomic_t no_stop;
	if (!stop)
		stop = &no_stop;
	*ret_record = NULL;

	if ((r = pb_run_opts_check(o)) < 0)
		return r == -EINVAL ? PB_RUN_INVALID : PB_RUN_FAILED;
	if (!(run.rec = calloc(1, sizeof(*run.rec)))) {
		pb_error("out of memory");
		return PB_RUN_FAILED;
	}
	if ((st = session_lock(&run, &lock)) != PB_RUN_OK ||
	    (st = session_plan(&run)) != PB_RUN_OK ||
	    (st = session_open(&run, &hooks)) != PB_RUN_OK)
		goto out;
	/* From here on the run has a record, whatever happens. */
	run.start_unix_ns = unix_ns();
	st = session_arm(&run);
	if (st == PB_RUN_OK)
		st = session_loop(&run, hooks, stop);
	st = session_disarm(&run, st);
	run.end_unix_ns = unix_ns();
	run.run_status = st;
	if (st != PB_RUN_OK && !strcmp(run.status, "complete"))
		run.status = "failed";
	if (finish_record(&run) < 0) {
		pb_error("out of memory completing the run record");
		if (st == PB_RUN_OK)
			st = PB_RUN_FAILED;
		run.rec->run_status = st;
	}
	*ret_record = run.rec;
	run.rec = NULL;
out:
	run_free(&run);
	pb_journal_unlock(lock);
	return st;
}

const char *pb_entry_name(enum pb_entry_path e)
{
	switch (e) {
	case PB_ENTRY_BIND:
		return "bind";
	case PB_ENTRY_PROBE:
		return "probe";
	case PB_ENTRY_MODULE:
		return "module";
	}
	return "unknown";
}

const char *pb_run_status_name(int st)
{
	static const char *const names[PB_RUN_STATUS__MAX] = {
	    [PB_RUN_OK] = "ok",
	    [PB_RUN_FAILED] = "failure",
	    [PB_RUN_INVALID] = "usage",
	    [PB_RUN_REFUSED] = "refused",
	    [PB_RUN_BIND_FAILED] = "bind_failed",
	    [PB_RUN_HUNG] = "timeout",
	    [PB_RUN_INTERRUPTED] = "interrupted",
	    [PB_RUN_GONE] = "gone",
	};
	return st >= 0 && st < PB_RUN_STATUS__MAX ? names[st] : "unknown";
}

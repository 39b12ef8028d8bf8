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
#include <pthread.h>
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

#include "probebench/cmd.h"
#include "probebench/cycle.h"
#include "probebench/journal.h"
#include "probebench/log.h"
#include "probebench/numa_topo.h"
#include "probebench/paths.h"
#include "probebench/policy.h"
#include "probebench/record.h"
#include "probebench/run.h"
#include "probebench/run_measure.h"
#include "probebench/run_plan.h"
#include "probebench/stats.h"
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
	unsigned warmup_done;
	int64_t start_unix_ns, end_unix_ns;
	const char *status;
	int exit_code;
	struct json_object *restored;
	char (*hung)[PATH_MAX]; /* syspaths the journal marks hung in this boot */
	size_t n_hung;
	struct pb_run_measure *measure; /* NULL: --no-measure */
	struct pb_cycle_hooks mhooks;	/* the observer's hooks (chaining the caller's) */
	struct json_object *hygiene;
};

static int64_t unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Restores what earlier runs left in the journal. Returns 0, or -EBUSY when something remains. */
static int restore_journal(struct run *run, const struct pb_run_opts *o)
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
		const char *name = pb_restore_outcome_name(out);
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "device", json_object_new_string(v[i].sysname));
		json_object_object_add(e, "outcome", json_object_new_string(name));
		json_object_array_add(run->restored, e);
		switch (out) {
		case PB_RESTORE_OK:
		case PB_RESTORE_REBOUND:
			pb_info("journal: %s %s (driver %s, left by pid %d)", v[i].sysname,
				out == PB_RESTORE_OK ? "settings restored" : "rebound", v[i].driver,
				(int)v[i].pid);
			break;
		case PB_RESTORE_GONE:
			pb_warn("journal: %s no longer exists; entry cleared", v[i].sysname);
			break;
		case PB_RESTORE_HUNG: {
			pb_warn("journal: %s is marked hung (a write never returned in this boot); "
				"it and the devices around it will not be touched",
				v[i].sysname);
			if (err) {
				left = true; /* it hung just now */
				break;
			}
			char(*nh)[PATH_MAX] = realloc(run->hung, (run->n_hung + 1) * sizeof(*nh));
			if (!nh) {
				left = true;
				break;
			}
			run->hung = nh;
			snprintf(run->hung[run->n_hung++], PATH_MAX, "%s", v[i].syspath);
			break;
		}
		case PB_RESTORE_OTHER:
			pb_error("journal: %s is bound to another driver than %s; left alone",
				 v[i].sysname, v[i].driver);
			left = true;
			break;
		case PB_RESTORE_FAILED:
			pb_error("journal: %s could not be put back on %s: %s", v[i].sysname,
				 v[i].driver, strerror(err));
			left = true;
			break;
		}
		if (pb_writer_hung(w)) {
			left = true;
			break;
		}
	}
	(void)o;
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

/* Completes the record: what ran where, how it was asked for, the summaries. */
static int finish_record(struct run *run)
{
	const struct pb_run_opts *o = run->o;
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
	if (pb_proc_path(buf, sizeof(buf), "cmdline") == 0) {
		char cl[4096];
		if (pb_read_str(buf, cl, sizeof(cl)) >= 0)
			json_object_object_add(rec->kernel, "cmdline", json_object_new_string(cl));
	}
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
	rec->options =
	    (struct pb_record_options){.entry = o->entry,
				       .iterations = o->iterations,
				       .warmup = o->warmup,
				       .max_consecutive_failures = o->max_consecutive_failures,
				       .ring_pages = o->ring_pages,
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
	snprintf(rec->options.state_dir, sizeof(rec->options.state_dir), "%s", pb_state_dir());

	rec->targets = calloc(run->n_targets ? run->n_targets : 1, sizeof(*rec->targets));
	rec->placements = calloc(run->n_pl ? run->n_pl : 1, sizeof(*rec->placements));
	if (!rec->targets || !rec->placements)
		return -ENOMEM;
	rec->n_targets = run->n_targets;
	for (size_t i = 0; i < run->n_targets; i++) {
		rec->targets[i].t = run->targets[i];
		rec->targets[i].verdict =
		    pb_verdict_to_json(&run->plan->verdicts[i], o->forced_reasons);
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
	rec->warmup_done = run->warmup_done;
	snprintf(rec->status, sizeof(rec->status), "%s", run->status);
	rec->exit_code = run->exit_code;
	return pb_run_record_summarise(rec);
}

static void sleep_interruptible(uint64_t ns, volatile sig_atomic_t *stop)
{
	uint64_t end = pb_now_ns() + ns;
	while (!*stop) {
		uint64_t now = pb_now_ns();
		if (now >= end)
			break;
		uint64_t d = end - now > 50000000ull ? 50000000ull : end - now;
		struct timespec ts = {.tv_sec = d / 1000000000ull, .tv_nsec = d % 1000000000ull};
		nanosleep(&ts, NULL);
	}
}

static uint64_t running_median(const struct run *run)
{
	const struct pb_run_record *rec = run->rec;
	uint64_t *v = malloc((rec->n_iterations + 1) * sizeof(*v));
	size_t n = 0;
	if (!v)
		return 0;
	for (size_t i = 0; i < rec->n_iterations; i++)
		if (rec->iterations[i].res.outcome == PB_CYCLE_OK)
			v[n++] = rec->iterations[i].res.bind_ns;
	struct pb_stats s;
	uint64_t m = pb_stats_compute(v, n, &s) == 0 ? s.percentile[0] : 0;
	free(v);
	return m;
}

/* Between cycles: stop requested, duration over, interval. Returns an exit code or -1. */
static int before_cycle(struct run *run, volatile sig_atomic_t *stop, uint64_t t_start, bool *first)
{
	const struct pb_run_opts *o = run->o;
	if (*stop) {
		run->status = "interrupted";
		return PB_EXIT_INTERRUPTED;
	}
	if (o->duration_ns && pb_now_ns() - t_start >= o->duration_ns) {
		run->status = "complete";
		return PB_EXIT_OK;
	}
	if (!*first && o->interval_ns)
		sleep_interruptible(o->interval_ns, stop);
	if (*stop) {
		run->status = "interrupted";
		return PB_EXIT_INTERRUPTED;
	}
	*first = false;
	return -1;
}

struct parallel_job {
	struct pb_writer *w;
	const struct pb_target *t;
	struct pb_journal_entry *je;
	const struct pb_cycle_cfg *cfg;
	struct pb_cycle_result *res;
};

static void *parallel_main(void *arg)
{
	struct parallel_job *j = arg;
	pb_cycle_once(j->w, j->t, j->je, j->cfg, j->res);
	return NULL;
}

/* Cycles every target at once on placement p: one thread per target, each with its own writer
 * pinned to p, meeting at a gate before the unbinds and before the binds. */
static int cycle_parallel(struct run *run, size_t p, const struct pb_cycle_cfg *base,
			  struct pb_cycle_result *res)
{
	size_t n = run->n_targets;
	struct pb_cycle_cfg cfg = *base;
	struct parallel_job *jobs = calloc(n, sizeof(*jobs));
	pthread_t *th = calloc(n, sizeof(*th));
	bool *started = calloc(n, sizeof(*started));
	int r = jobs && th && started ? pb_gate_new((unsigned)n, &cfg.gate) : -ENOMEM;
	if (r < 0)
		goto out;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t t = 0; t < n; t++) {
		jobs[t] = (struct parallel_job){run->writers[p * n + t], &run->targets[t],
						&run->je[t], &cfg, &res[t]};
		int k = pthread_create(&th[t], NULL, parallel_main, &jobs[t]);
		if (k) {
			/* Never started: it must not hold the others at the gate. */
			pb_gate_leave(cfg.gate);
			r = -k;
			continue;
		}
		started[t] = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (size_t t = 0; t < n; t++)
		if (started[t])
			pthread_join(th[t], NULL);
	if (r < 0)
		pb_error_errno(r, "cannot start a cycling thread");
out:
	pb_gate_free(cfg.gate);
	free(jobs);
	free(th);
	free(started);
	return r;
}

/* Returns the exit code; sets run->status. */
static int cycle_all(struct run *run, const struct pb_cycle_hooks *hooks,
		     volatile sig_atomic_t *stop)
{
	const struct pb_run_opts *o = run->o;
	struct pb_cycle_cfg cfg = {.entry = o->entry, .timeout_ns = o->timeout_ns};
	uint64_t t_start = pb_now_ns(), t_measured = 0, last_progress = 0;
	unsigned consecutive = 0;
	uint64_t total = (uint64_t)o->iterations * run->n_targets * run->n_pl;
	bool first = true;
	_cleanup_free_ struct pb_cycle_result *pres =
	    calloc(run->n_targets, sizeof(struct pb_cycle_result));
	if (!pres) {
		run->status = "failed";
		return PB_EXIT_FAILURE;
	}

	for (unsigned round = 0;; round++) {
		bool measured = round >= o->warmup;
		if (measured && !t_measured)
			t_measured = pb_now_ns();
		if (o->iterations && round >= o->warmup + o->iterations)
			break;
		if (!o->iterations && measured && !o->duration_ns)
			break;
		for (size_t p = 0; p < run->n_pl; p++)
			for (size_t t = 0; t < run->n_targets; t++) {
				if (!o->parallel || t == 0) {
					int k = before_cycle(run, stop, t_start, &first);
					if (k >= 0)
						return k;
				}
				if (o->parallel && t == 0 &&
				    cycle_parallel(run, p, &cfg, pres) < 0) {
					run->status = "failed";
					return PB_EXIT_FAILURE;
				}
				const struct pb_target *tg = &run->targets[t];
				struct pb_record_iteration it = {
				    .target = t, .placement = p, .iteration = round - o->warmup};
				if (o->parallel)
					it.res = pres[t];
				else
					pb_cycle_once(run->writers[p], tg, &run->je[t], &cfg,
						      &it.res);
				if (hooks && hooks->collect)
					it.measurement = hooks->collect(hooks->userdata, tg);
				if (measured) {
					if (pb_run_record_add_iteration(run->rec, &it) < 0) {
						pb_measurement_free(it.measurement);
						run->status = "failed";
						return PB_EXIT_FAILURE;
					}
				} else {
					pb_measurement_free(it.measurement);
					if (it.res.outcome == PB_CYCLE_OK)
						run->warmup_done++;
				}
				const struct pb_cycle_result *r = &it.res;
				switch (r->outcome) {
				case PB_CYCLE_OK:
					consecutive = 0;
					break;
				case PB_CYCLE_UNBIND_FAILED:
					pb_error("%s: unbind from %s failed: %s", tg->name,
						 tg->driver, strerror(r->unbind_errno));
					consecutive++;
					break;
				case PB_CYCLE_BIND_FAILED:
					pb_error("%s: bind to %s failed: %s (%u retries); put back "
						 "on %s",
						 tg->name, tg->driver, strerror(r->bind_errno),
						 r->retries, tg->driver);
					consecutive++;
					break;
				case PB_CYCLE_LOST:
					pb_error("%s: bind to %s failed: %s, and putting it back "
						 "failed: the "
						 "device is unbound; the journal keeps it for "
						 "`probebench "
						 "restore`",
						 tg->name, tg->driver, strerror(r->bind_errno));
					run->armed[t] = false;
					run->status = "failed";
					return PB_EXIT_BIND_FAILED;
				case PB_CYCLE_HUNG:
					pb_error("%s: a write to %s did not return within %.3f s; "
						 "the device is "
						 "marked hung in %s and will not be touched again",
						 tg->name, tg->driver, o->timeout_ns / 1e9,
						 pb_state_dir());
					run->armed[t] = false;
					run->status = "timeout";
					return PB_EXIT_TIMEOUT;
				case PB_CYCLE_GONE:
					pb_error("%s: the device disappeared during the run (%s); "
						 "journal entry "
						 "cleared",
						 tg->name, tg->syspath);
					run->armed[t] = false;
					run->status = "failed";
					return PB_EXIT_GONE;
				case PB_CYCLE_STATE_CHANGED:
					pb_error("%s: no longer bound to %s before a cycle "
						 "(changed by someone "
						 "else?); stopping",
						 tg->name, tg->driver);
					run->status = "failed";
					return PB_EXIT_FAILURE;
				}
				if (o->max_consecutive_failures &&
				    consecutive >= o->max_consecutive_failures) {
					pb_error("stopping after %u consecutive failures",
						 consecutive);
					run->status = "failed";
					return PB_EXIT_BIND_FAILED;
				}
				uint64_t now = pb_now_ns();
				if (o->progress && measured && now - last_progress > 200000000ull) {
					last_progress = now;
					uint64_t done = run->rec->n_iterations;
					uint64_t eta =
					    done && total > done
						? (now - t_measured) / done * (total - done)
						: 0;
					if (o->duration_ns &&
					    (!total || eta > o->duration_ns - (now - t_start)))
						eta = o->duration_ns > now - t_start
							  ? o->duration_ns - (now - t_start)
							  : 0;
					o->progress(o->progress_userdata, done, total,
						    running_median(run), eta);
				}
			}
	}
	run->status = "complete";
	return PB_EXIT_OK;
}

/* The measurement of a run whose writer hung: kept (reachable) for the abandoned thread. */
static struct pb_run_measure *kept_for_hung_writer;

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
	char p[4096], line[256];
	bool yes = false;
	if (pb_proc_path(p, sizeof(p), "self/status") < 0)
		return false;
	FILE *f = fopen(p, "re");
	if (!f)
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
			if (forced & (1u << v->refusals[k].reason))
				pb_warn("%s: %s forced: %s", name, why, v->refusals[k].detail);
			else
				pb_error("%s refused: %s: %s (--force=%s lifts this reason)", name,
					 why, v->refusals[k].detail, why);
		}
	}
}

int pb_run_refuse_driverless(const struct pb_run_plan *plan)
{
	for (size_t i = 0; i < plan->n_targets && plan->allowed; i++)
		if (!plan->targets[i].driver[0]) {
			pb_error("%s has no driver bound: nothing to cycle", plan->targets[i].name);
			return PB_EXIT_REFUSED;
		}
	return PB_EXIT_OK;
}

int pb_run_opts_check(const struct pb_run_opts *o)
{
	if (!o->n_targets) {
		pb_error("no target named; cycling needs explicit targets");
		return PB_EXIT_USAGE;
	}
	if (!o->timeout_ns) {
		pb_error("the write timeout must be positive");
		return PB_EXIT_USAGE;
	}
	if (o->fifo_prio > 0) {
		char why[200];
		int r = pb_fifo_check(o->fifo_prio, why, sizeof(why));
		if (r < 0) {
			pb_error("--fifo: %s", why);
			return r == -EINVAL ? PB_EXIT_USAGE : PB_EXIT_FAILURE;
		}
	}
	return PB_EXIT_OK;
}

int pb_run_execute(const struct pb_run_opts *o, struct pb_run_record **ret_record,
		   volatile sig_atomic_t *stop)
{
	return pb_run_execute_hooks(o, NULL, ret_record, stop);
}

/* The state directory's lock, then what the journal holds put back. *lock: the lock's fd. */
static int session_lock(struct run *run, int *lock)
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
		return PB_EXIT_FAILURE;
	}
	if (*lock < 0) {
		pb_error_errno(*lock, "cannot lock the state directory %s", pb_state_dir());
		return PB_EXIT_FAILURE;
	}
	/* Whatever a crashed run left comes back before anything is resolved or checked. */
	if (restore_journal(run, run->o) < 0) {
		pb_error("the journal in %s still holds devices; not starting (see `probebench "
			 "restore`)",
			 pb_state_dir());
		return PB_EXIT_FAILURE;
	}
	return PB_EXIT_OK;
}

/* The plan made and allowed; the per-target and per-writer arrays. */
static int session_plan(struct run *run)
{
	const struct pb_run_opts *o = run->o;
	int r = pb_run_plan_make(o, (const char(*)[PATH_MAX])run->hung, run->n_hung, &run->plan);
	if (r < 0)
		return r == -EINVAL || r == -ENOENT ? PB_EXIT_USAGE : PB_EXIT_FAILURE;
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
		return PB_EXIT_FAILURE;
	}
	log_verdicts(run->plan, o->forced_reasons);
	int code = pb_run_refuse_driverless(run->plan);
	if (code == PB_EXIT_OK && !run->plan->allowed)
		code = PB_EXIT_REFUSED;
	return code;
}

/* The observers (hooks chained before the caller's), the hygiene, the pinned writers. */
static int session_open(struct run *run, const struct pb_cycle_hooks **hooks)
{
	const struct pb_run_opts *o = run->o;
	int r;
	if (o->measure) {
		/* Opened before anything is armed: an observer that cannot open costs nothing. */
		r = pb_run_measure_new(run->targets, run->n_targets, run->plan->inventory,
				       run->plan->devices, o->method, o->ring_pages, &run->measure);
		if (r < 0) {
			pb_error_errno(r, "cannot set up the measurement");
			return PB_EXIT_FAILURE;
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
			return r == -EINVAL ? PB_EXIT_USAGE : PB_EXIT_FAILURE;
		}
	}
	writer_memory(run);
	return PB_EXIT_OK;
}

/* Each target armed (journal entry, power/control) before its first cycle. */
static int session_arm(struct run *run)
{
	for (size_t i = 0; i < run->n_targets; i++) {
		const struct pb_target *t = &run->targets[i];
		int r = pb_cycle_arm(run->writers[0], t, run->o->timeout_ns, &run->je[i]);
		if (r < 0 && access(t->syspath, F_OK) < 0 && errno == ENOENT) {
			pb_error("%s: the device disappeared before its first cycle (%s)", t->name,
				 t->syspath);
			run->status = "failed";
			run->armed[i] = true; /* the journal entry may exist: disarm clears it */
			return PB_EXIT_GONE;
		}
		if (r < 0) {
			pb_error_errno(r, "%s: cannot prepare (journal in %s, power/control)",
				       t->name, pb_state_dir());
			run->status = r == -ETIMEDOUT ? "timeout" : "failed";
			if (r != -ETIMEDOUT)
				run->armed[i] = true; /* the journal entry may exist: disarm */
			return r == -ETIMEDOUT ? PB_EXIT_TIMEOUT : PB_EXIT_FAILURE;
		}
		run->armed[i] = true;
	}
	return PB_EXIT_OK;
}

/* Each armed target's settings put back, from a writer that is not hung. Returns code, or the
 * disarm's failure when code was ok. */
static int session_disarm(struct run *run, int code)
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
			if (code == PB_EXIT_OK)
				code = r == -ETIMEDOUT ? PB_EXIT_TIMEOUT : PB_EXIT_FAILURE;
		}
	}
	return code;
}

int pb_run_execute_hooks(const struct pb_run_opts *o, const struct pb_cycle_hooks *hooks,
			 struct pb_run_record **ret_record, volatile sig_atomic_t *stop)
{
	struct run run = {.o = o, .status = "failed"};
	int lock = -1, code;
	static volatile sig_atomic_t no_stop;
	if (!stop)
		stop = &no_stop;
	*ret_record = NULL;

	if ((code = pb_run_opts_check(o)) != PB_EXIT_OK)
		return code;
	if (!(run.rec = calloc(1, sizeof(*run.rec)))) {
		pb_error("out of memory");
		return PB_EXIT_FAILURE;
	}
	if ((code = session_lock(&run, &lock)) != PB_EXIT_OK ||
	    (code = session_plan(&run)) != PB_EXIT_OK ||
	    (code = session_open(&run, &hooks)) != PB_EXIT_OK)
		goto out;
	/* From here on the run has a record, whatever happens. */
	run.start_unix_ns = unix_ns();
	code = session_arm(&run);
	if (code == PB_EXIT_OK)
		code = cycle_all(&run, hooks, stop);
	code = session_disarm(&run, code);
	run.end_unix_ns = unix_ns();
	run.exit_code = code;
	if (code != PB_EXIT_OK && !strcmp(run.status, "complete"))
		run.status = "failed";
	if (finish_record(&run) < 0) {
		pb_error("out of memory completing the run record");
		if (code == PB_EXIT_OK)
			code = PB_EXIT_FAILURE;
		run.rec->exit_code = code;
	}
	*ret_record = run.rec;
	run.rec = NULL;
out:
	run_free(&run);
	pb_journal_unlock(lock);
	return code;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The run's loop (run_loop.h): rounds of cycles over targets x placements, one writer per
 * placement (or, in parallel, one per placement x target meeting at a gate), each measured
 * iteration handed to the session's callback.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probebench/cycle.h"
#include "probebench/log.h"
#include "probebench/paths.h"
#include "probebench/record.h"
#include "probebench/run_loop.h"
#include "probebench/util.h"

/* What the loop carries from one cycle to the next. */
struct loop_state {
	struct pb_cycle_cfg cfg;
	struct pb_cycle_result *pres; /* [target]: the parallel cycles of one placement */
	unsigned consecutive;	      /* failed cycles in a row */
	bool first;		      /* no cycle yet: no interval before it */
};

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

/* Between cycles: stop requested, duration over, interval. Returns a status, or -1 to go on. */
static int before_cycle(struct pb_run_loop *l, struct loop_state *s)
{
	const struct pb_run_opts *o = l->o;
	if (*l->stop) {
		l->status = "interrupted";
		return PB_RUN_INTERRUPTED;
	}
	if (o->duration_ns && pb_now_ns() - l->start_ns >= o->duration_ns) {
		l->status = "complete";
		return PB_RUN_OK;
	}
	if (!s->first && o->interval_ns)
		sleep_interruptible(o->interval_ns, l->stop);
	if (*l->stop) {
		l->status = "interrupted";
		return PB_RUN_INTERRUPTED;
	}
	s->first = false;
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
static int cycle_parallel(struct pb_run_loop *l, size_t p, const struct pb_cycle_cfg *base,
			  struct pb_cycle_result *res)
{
	size_t n = l->n_targets;
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
		jobs[t] = (struct parallel_job){l->writers[p * n + t], &l->targets[t], &l->je[t],
						&cfg, &res[t]};
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

/* Logs a cycle of target t that failed, once. Returns -1 to go on, or the status the loop stops
 * with (a device lost, hung or gone is no longer armed). */
static int judge(struct pb_run_loop *l, size_t t, const struct pb_cycle_result *r,
		 unsigned *consecutive)
{
	const struct pb_run_opts *o = l->o;
	const struct pb_target *tg = &l->targets[t];
	switch (r->outcome) {
	case PB_CYCLE_OK:
		*consecutive = 0;
		break;
	case PB_CYCLE_UNBIND_FAILED:
		pb_error("%s: unbind from %s failed: %s", tg->name, tg->driver,
			 strerror(r->unbind_errno));
		++*consecutive;
		break;
	case PB_CYCLE_BIND_FAILED:
		pb_error("%s: bind to %s failed: %s (%u retries); put back on %s", tg->name,
			 tg->driver, strerror(r->bind_errno), r->retries, tg->driver);
		++*consecutive;
		break;
	case PB_CYCLE_LOST:
		pb_error("%s: bind to %s failed: %s, and putting it back failed: the device is "
			 "unbound; the journal keeps it for `probebench restore`",
			 tg->name, tg->driver, strerror(r->bind_errno));
		l->armed[t] = false;
		l->status = "failed";
		return PB_RUN_BIND_FAILED;
	case PB_CYCLE_HUNG:
		pb_error(
		    "%s: a write to %s did not return within %.3f s; the device is marked hung "
		    "in %s and will not be touched again",
		    tg->name, tg->driver, o->timeout_ns / 1e9, pb_state_dir());
		l->armed[t] = false;
		l->status = "timeout";
		return PB_RUN_HUNG;
	case PB_CYCLE_GONE:
		pb_error("%s: the device disappeared during the run (%s); journal entry cleared",
			 tg->name, tg->syspath);
		l->armed[t] = false;
		l->status = "failed";
		return PB_RUN_GONE;
	case PB_CYCLE_STATE_CHANGED:
		pb_error("%s: no longer bound to %s before a cycle (changed by someone else?); "
			 "stopping",
			 tg->name, tg->driver);
		l->status = "failed";
		return PB_RUN_FAILED;
	}
	if (o->max_consecutive_failures && *consecutive >= o->max_consecutive_failures) {
		pb_error("stopping after %u consecutive failures", *consecutive);
		l->status = "failed";
		return PB_RUN_BIND_FAILED;
	}
	return -1;
}

/* Target t's cycle on placement p in round round (its result already in s->pres when
 * parallel), measured, judged and, past the warm-up, handed over. Returns -1 to go on, or the
 * status the loop stops with. */
static int iterate(struct pb_run_loop *l, struct loop_state *s, unsigned round, size_t p, size_t t)
{
	const struct pb_run_opts *o = l->o;
	const struct pb_target *tg = &l->targets[t];
	struct pb_record_iteration it = {.target = t, .placement = p};
	if (o->parallel)
		it.res = s->pres[t];
	else
		pb_cycle_once(l->writers[p], tg, &l->je[t], &s->cfg, &it.res);
	if (l->hooks && l->hooks->collect)
		it.measurement = l->hooks->collect(l->hooks->userdata, tg);
	int k = judge(l, t, &it.res, &s->consecutive);
	if (round < o->warmup || !l->iteration) {
		pb_measurement_free(it.measurement);
		if (round < o->warmup && it.res.outcome == PB_CYCLE_OK)
			l->warmup_done++;
		return k;
	}
	it.iteration = round - o->warmup;
	if (l->iteration(l->userdata, &it) < 0) {
		l->status = "failed";
		return PB_RUN_FAILED;
	}
	return k;
}

/* One round: every placement, every target on it. Returns -1 to go on, or how the loop ends. */
static int one_round(struct pb_run_loop *l, struct loop_state *s, unsigned round)
{
	const struct pb_run_opts *o = l->o;
	for (size_t p = 0; p < l->n_placements; p++)
		for (size_t t = 0; t < l->n_targets; t++) {
			int k = -1;
			if (!o->parallel || t == 0)
				k = before_cycle(l, s);
			if (k < 0 && o->parallel && t == 0 &&
			    cycle_parallel(l, p, &s->cfg, s->pres) < 0) {
				l->status = "failed";
				k = PB_RUN_FAILED;
			}
			if (k < 0)
				k = iterate(l, s, round, p, t);
			if (k >= 0)
				return k;
		}
	return -1;
}

enum pb_run_status pb_run_loop(struct pb_run_loop *l)
{
	const struct pb_run_opts *o = l->o;
	struct loop_state s = {.cfg = {.entry = o->entry,
				       .timeout_ns = o->timeout_ns,
				       .kmod = l->kmod,
				       .module_options = o->module_options},
			       .first = true};
	l->start_ns = pb_now_ns();
	l->measured_ns = 0;
	l->warmup_done = 0;
	s.pres = calloc(l->n_targets ? l->n_targets : 1, sizeof(*s.pres));
	if (!s.pres) {
		l->status = "failed";
		return PB_RUN_FAILED;
	}
	int k = -1;
	for (unsigned round = 0; k < 0; round++) {
		bool measured = round >= o->warmup;
		if (measured && !l->measured_ns)
			l->measured_ns = pb_now_ns();
		if (o->iterations && round >= o->warmup + o->iterations)
			break;
		if (!o->iterations && measured && !o->duration_ns)
			break;
		k = one_round(l, &s, round);
	}
	free(s.pres);
	if (k >= 0)
		return (enum pb_run_status)k;
	l->status = "complete";
	return PB_RUN_OK;
}

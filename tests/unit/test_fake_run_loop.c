// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The run's loop (run_loop.h) on the fake kernel (tests/fake/fake_sysfs.h): two armed targets
 * (the virtio-rng function and its virtio child) on two placements. The per-iteration callback
 * must see every measured iteration once, in order (round, placement, target), complete: the
 * cycle's result and the measurement collected for that very cycle, which it then owns; and the
 * loop must stop as the options and outcomes say, handing over the iteration it stops for.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "fake_sysfs.h"
#include "journal_watch.h"
#include "probebench/cycle.h"
#include "probebench/journal.h"
#include "probebench/paths.h"
#include "probebench/record.h"
#include "probebench/run_loop.h"
#include "probebench/util.h"
#include "testbed.h"

#define SEC	 1000000000ull
#define N_TARGET 2
#define N_PLACE	 2
#define MAX_SEEN 64

struct seen {
	size_t target, placement;
	unsigned iteration;
	struct pb_cycle_result res;
	int collected; /* which collect() call made its measurement */
};

struct fx {
	char root[64], sys[128], state[128], dev[N_TARGET][256];
	struct pb_target t[N_TARGET];
	struct pb_journal_entry je[N_TARGET];
	bool armed[N_TARGET];
	struct pb_writer *w[N_PLACE * N_TARGET]; /* enough for --parallel */
	struct pb_run_opts o;
	struct pb_cycle_hooks hooks;
	int collects; /* collect() calls so far */
	volatile sig_atomic_t stop;
	struct seen seen[MAX_SEEN];
	size_t n_seen;
	size_t stop_after, fail_at; /* 1-based callback calls; 0: never */
	struct pb_run_loop l;
};

static struct pb_measurement *collect(void *userdata, const struct pb_target *t)
{
	struct fx *f = userdata;
	(void)t;
	struct pb_measurement *m = pb_measurement_new();
	if (m)
		m->method_after = f->collects;
	f->collects++;
	return m;
}

/* What the session does with an iteration, kept where the test can read it. */
static int take(void *userdata, const struct pb_record_iteration *it)
{
	struct fx *f = userdata;
	assert_true(f->n_seen < MAX_SEEN);
	assert_non_null(it->measurement);
	f->seen[f->n_seen++] = (struct seen){.target = it->target,
					     .placement = it->placement,
					     .iteration = it->iteration,
					     .res = it->res,
					     .collected = it->measurement->method_after};
	pb_measurement_free(it->measurement); /* the callback owns it, whatever it returns */
	if (f->stop_after && f->n_seen == f->stop_after)
		f->stop = 1;
	return f->fail_at && f->n_seen == f->fail_at ? -ENOMEM : 0;
}

static int setup(void **st)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	*st = f;
	strcpy(f->root, "/tmp/pb-fake-loop-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->sys, sizeof(f->sys), "%s/sys", f->root);
	snprintf(f->state, sizeof(f->state), "%s/state", f->root);
	snprintf(f->dev[0], sizeof(f->dev[0]), "%s/%s", f->sys, FAKE_RNG_PCI);
	snprintf(f->dev[1], sizeof(f->dev[1]), "%s/%s", f->sys, FAKE_RNG_VIRTIO);
	if (mkdir(f->sys, 0755) < 0 || testbed_enter(f->root) < 0)
		return -1;
	pb_set_state_dir(f->state);
	if (fake_sysfs_rng(f->sys) < 0)
		return -1;
	struct pb_placement any = {.cpu = -1, .node = -1};
	for (size_t i = 0; i < N_PLACE * N_TARGET; i++)
		if (pb_writer_new(&any, NULL, &f->w[i]) < 0)
			return -1;
	struct pb_cycle_cfg cfg = {.entry = PB_ENTRY_BIND, .timeout_ns = SEC};
	for (size_t i = 0; i < N_TARGET; i++) {
		if (pb_target_from_syspath(f->dev[i], &f->t[i]) < 0 ||
		    pb_cycle_arm(f->w[0], &f->t[i], &cfg, &f->je[i]) < 0)
			return -1;
		f->armed[i] = true;
	}
	f->o = (struct pb_run_opts){.entry = PB_ENTRY_BIND,
				    .iterations = 3,
				    .warmup = 1,
				    .timeout_ns = SEC,
				    .max_consecutive_failures = 3};
	f->hooks = (struct pb_cycle_hooks){.userdata = f, .collect = collect};
	f->l = (struct pb_run_loop){.o = &f->o,
				    .targets = f->t,
				    .n_targets = N_TARGET,
				    .n_placements = N_PLACE,
				    .writers = f->w,
				    .je = f->je,
				    .hooks = &f->hooks,
				    .stop = &f->stop,
				    .iteration = take,
				    .userdata = f,
				    .armed = f->armed};
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	for (size_t i = 0; i < N_PLACE * N_TARGET; i++)
		pb_writer_free(f->w[i]);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	free(f);
	testbed_leave();
	pb_set_state_dir(NULL);
	return system(cmd) == 0 ? 0 : -1;
}

/* The k-th measured iteration (0-based) of a loop with every cycle made: round-major, then
 * placement, then target; its measurement from the collect() after its own cycle. */
static void assert_in_order(const struct fx *f, size_t from, size_t n)
{
	for (size_t k = from; k < from + n; k++) {
		const struct seen *s = &f->seen[k];
		assert_int_equal(s->iteration, k / (N_PLACE * N_TARGET));
		assert_int_equal(s->placement, k / N_TARGET % N_PLACE);
		assert_int_equal(s->target, k % N_TARGET);
		assert_int_equal(s->collected, (int)(f->o.warmup * N_PLACE * N_TARGET + k));
	}
}

static void every_iteration_in_order(void **st)
{
	struct fx *f = *st;
	assert_int_equal(pb_run_loop(&f->l), PB_RUN_OK);
	assert_string_equal(f->l.status, "complete");
	/* warm-up: cycled and measured, never handed over */
	assert_int_equal(f->l.warmup_done, N_PLACE * N_TARGET);
	assert_int_equal(f->collects, (1 + 3) * N_PLACE * N_TARGET);
	assert_int_equal(f->n_seen, 3 * N_PLACE * N_TARGET);
	assert_in_order(f, 0, f->n_seen);
	for (size_t k = 0; k < f->n_seen; k++) {
		assert_int_equal(f->seen[k].res.outcome, PB_CYCLE_OK);
		assert_true(f->seen[k].res.verified);
		assert_true(f->seen[k].res.bind_ns > 0 && f->seen[k].res.unbind_ns > 0);
	}
	assert_true(f->l.measured_ns >= f->l.start_ns);
	assert_true(f->armed[0] && f->armed[1]);
	char drv[64];
	assert_int_equal(fake_sysfs_bound(f->dev[0], drv, sizeof(drv)), 0);
	assert_string_equal(drv, "virtio-pci");
}

static void parallel_in_order(void **st)
{
	struct fx *f = *st;
	f->o.parallel = true;
	assert_int_equal(pb_run_loop(&f->l), PB_RUN_OK);
	assert_int_equal(f->n_seen, 3 * N_PLACE * N_TARGET);
	assert_in_order(f, 0, f->n_seen);
	for (size_t k = 0; k < f->n_seen; k++)
		assert_int_equal(f->seen[k].res.outcome, PB_CYCLE_OK);
}

/* The loop writes no journal: the entries arm wrote stand for every cycle, one after another
 * or in parallel, ok or failed. */
static void journal_untouched(void **st)
{
	struct fx *f = *st;
	struct journal_watch jw;
	assert_int_equal(journal_watch_start(&jw, f->state), 0);
	assert_int_equal(pb_run_loop(&f->l), PB_RUN_OK);
	f->o.parallel = true;
	assert_int_equal(fake_sysfs_behave(f->dev[1], "unbind EBUSY 1"), 0);
	assert_int_equal(pb_run_loop(&f->l), PB_RUN_OK);
	assert_int_equal(f->n_seen, 2 * 3 * N_PLACE * N_TARGET);
	journal_watch_poll(&jw);
	assert_int_equal(jw.writes, 0);
	assert_int_equal(jw.removes, 0);
	journal_watch_stop(&jw);
	struct pb_journal_entry *v;
	size_t n, bad;
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(n, N_TARGET);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i].state, PB_JOURNAL_ARMED);
	free(v);
}

/* Failed cycles are handed over like the others; an ok cycle between them resets the count. */
static void failures_between_ok(void **st)
{
	struct fx *f = *st;
	f->o.warmup = 0;
	f->o.max_consecutive_failures = 2;
	/* the child refuses every unbind; the function cycles fine */
	assert_int_equal(fake_sysfs_behave(f->dev[1], "unbind EBUSY"), 0);
	assert_int_equal(pb_run_loop(&f->l), PB_RUN_OK);
	assert_int_equal(f->n_seen, 3 * N_PLACE * N_TARGET);
	assert_in_order(f, 0, f->n_seen);
	for (size_t k = 0; k < f->n_seen; k++)
		assert_int_equal(f->seen[k].res.outcome,
				 f->seen[k].target == 1 ? PB_CYCLE_UNBIND_FAILED : PB_CYCLE_OK);
}

/* K failed cycles in a row end the run, the K-th handed over first. */
static void consecutive_failures(void **st)
{
	struct fx *f = *st;
	f->o.warmup = 0;
	f->o.max_consecutive_failures = 3;
	for (size_t i = 0; i < N_TARGET; i++)
		assert_int_equal(fake_sysfs_behave(f->dev[i], "unbind EBUSY"), 0);
	assert_int_equal(pb_run_loop(&f->l), PB_RUN_BIND_FAILED);
	assert_string_equal(f->l.status, "failed");
	assert_int_equal(f->n_seen, 3);
	assert_in_order(f, 0, 3);
	for (size_t k = 0; k < f->n_seen; k++)
		assert_int_equal(f->seen[k].res.outcome, PB_CYCLE_UNBIND_FAILED);
	assert_true(f->armed[0] && f->armed[1]);
}

/* A device lost (bind and put-back failed) is handed over, no longer armed, and ends the run. */
static void lost_device(void **st)
{
	struct fx *f = *st;
	f->o.warmup = 0;
	assert_int_equal(fake_sysfs_behave(f->dev[0], "probe EIO"), 0);
	assert_int_equal(pb_run_loop(&f->l), PB_RUN_BIND_FAILED);
	assert_string_equal(f->l.status, "failed");
	assert_int_equal(f->n_seen, 1);
	assert_int_equal(f->seen[0].target, 0);
	assert_int_equal(f->seen[0].res.outcome, PB_CYCLE_LOST);
	assert_false(f->armed[0]);
	assert_true(f->armed[1]);
}

/* A stop between cycles: what was handed over stays, nothing after it. */
static void interrupted(void **st)
{
	struct fx *f = *st;
	f->stop_after = 3;
	assert_int_equal(pb_run_loop(&f->l), PB_RUN_INTERRUPTED);
	assert_string_equal(f->l.status, "interrupted");
	assert_int_equal(f->n_seen, 3);
	assert_in_order(f, 0, 3);
	assert_int_equal(f->collects, N_PLACE * N_TARGET + 3);
}

/* The callback cannot take an iteration (the record is out of memory): the run fails there. */
static void callback_fails(void **st)
{
	struct fx *f = *st;
	f->fail_at = 2;
	assert_int_equal(pb_run_loop(&f->l), PB_RUN_FAILED);
	assert_string_equal(f->l.status, "failed");
	assert_int_equal(f->n_seen, 2);
	assert_int_equal(f->collects, N_PLACE * N_TARGET + 2);
}

/* --duration with --iterations 0: rounds until the time is up, every one handed over. */
static void duration_only(void **st)
{
	struct fx *f = *st;
	f->o.iterations = 0;
	f->o.warmup = 0;
	f->o.duration_ns = 50 * 1000000ull;
	f->o.interval_ns = 10 * 1000000ull;
	uint64_t t0 = pb_now_ns();
	assert_int_equal(pb_run_loop(&f->l), PB_RUN_OK);
	assert_string_equal(f->l.status, "complete");
	assert_true(pb_now_ns() - t0 >= f->o.duration_ns);
	assert_true(f->n_seen >= 2);
	assert_in_order(f, 0, f->n_seen);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(every_iteration_in_order), T(parallel_in_order), T(failures_between_ok),
	    T(consecutive_failures),	 T(lost_device),       T(interrupted),
	    T(callback_fails),		 T(duration_only),     T(journal_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

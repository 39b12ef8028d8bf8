// SPDX-License-Identifier: GPL-2.0-or-later
/* The shared observer's pure parts (measure_window.c): ring sizing, one target's window out of
 * the records of every target, dropping what no window needs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probebench/measure.h"

/* Asked sizes win; otherwise the budget's share, a power of two within the bounds. */
static void ring_pages(void **state)
{
	(void)state;
	assert_int_equal(pb_perf_ring_pages_for(4, 0), 128); /* the standard guest: as before */
	assert_int_equal(pb_perf_ring_pages_for(1, 0), 128); /* capped */
	assert_int_equal(pb_perf_ring_pages_for(2, 0), 128);
	assert_int_equal(pb_perf_ring_pages_for(8, 0), 64);
	assert_int_equal(pb_perf_ring_pages_for(12, 0), 32); /* 42 per CPU: the power below */
	assert_int_equal(pb_perf_ring_pages_for(16, 0), 32);
	assert_int_equal(pb_perf_ring_pages_for(32, 0), 16);
	assert_int_equal(pb_perf_ring_pages_for(64, 0), 16); /* floor */
	assert_int_equal(pb_perf_ring_pages_for(512, 0), 16);
	assert_int_equal(pb_perf_ring_pages_for(0, 0), 128); /* no CPU count: as one CPU */
	assert_int_equal(pb_perf_ring_pages_for(64, 1), 1);  /* --ring-pages */
	assert_int_equal(pb_perf_ring_pages_for(4, 512), 512);
	/* The kept-page watch's rings: 16 pages up to 4 CPUs, 2 from 32 on. */
	assert_int_equal(pb_perf_kept_ring_pages_for(1), 16);
	assert_int_equal(pb_perf_kept_ring_pages_for(4), 16);
	assert_int_equal(pb_perf_kept_ring_pages_for(8), 8);
	assert_int_equal(pb_perf_kept_ring_pages_for(16), 4);
	assert_int_equal(pb_perf_kept_ring_pages_for(64), 2);
	assert_int_equal(pb_perf_kept_ring_pages_for(256), 2);
	/* Locked memory in pages: the shared rings (two per CPU) and a kept-page ring per CPU and
	 * target. 64 CPUs with 8 targets stay within 4x of 4 CPUs with one. */
	unsigned long four = 4ul * (2 * (pb_perf_ring_pages_for(4, 0) + 1) +
				    (pb_perf_kept_ring_pages_for(4) + 1)),
		      sixty_four = 64ul * (2 * (pb_perf_ring_pages_for(64, 0) + 1) +
					   8 * (pb_perf_kept_ring_pages_for(64) + 1));
	assert_true(sixty_four <= 4 * four);
	for (long n = 1; n <= 1024; n++) {
		unsigned p = pb_perf_ring_pages_for(n, 0);
		assert_int_equal(p & (p - 1), 0);
		assert_true(p >= PB_RING_MIN_PAGES && p <= PB_RING_MAX_PAGES);
	}
}

static struct pb_mevent ev(uint64_t ts, int cpu, pid_t pid)
{
	return (struct pb_mevent){.type = PB_EV_SWITCH, .ts = ts, .cpu = cpu, .pid = pid};
}

/* Two targets' windows overlap (parallel writes): each gets every record of its own time span,
 * from any CPU and task, sorted; records outside it are not its. */
static void windows_of_two_targets(void **state)
{
	(void)state;
	/* as drained from the rings: CPU by CPU, so not in time order */
	struct pb_mevent pool[] = {ev(50, 0, 10),  ev(120, 0, 10), ev(300, 0, 11),
				   ev(10, 1, 20),  ev(100, 1, 11), ev(200, 1, 20),
				   ev(250, 2, 12), ev(90, 2, 10),  ev(400, 2, 13)};
	size_t n = sizeof(pool) / sizeof(pool[0]);
	struct pb_mevent out[9];
	/* target A's window [90, 250] */
	size_t k = pb_mevent_window(pool, n, 90, 250, out);
	assert_int_equal(k, 5);
	uint64_t want_a[] = {90, 100, 120, 200, 250}; /* both ends inclusive */
	for (size_t i = 0; i < k; i++)
		assert_int_equal(out[i].ts, want_a[i]);
	assert_int_equal(out[0].cpu, 2);
	assert_int_equal(out[1].pid, 11);
	/* target B's window [100, 300]: the shared part is in both */
	k = pb_mevent_window(pool, n, 100, 300, out);
	assert_int_equal(k, 5);
	uint64_t want_b[] = {100, 120, 200, 250, 300};
	for (size_t i = 0; i < k; i++)
		assert_int_equal(out[i].ts, want_b[i]);
	/* a window with nothing in it */
	assert_int_equal(pb_mevent_window(pool, n, 301, 399, out), 0);
	/* the pool is left as it was */
	assert_int_equal(pool[0].ts, 50);
	assert_int_equal(pool[8].ts, 400);
}

/* Records older than the oldest open window go; the rest stay, in their order. */
static void trim(void **state)
{
	(void)state;
	struct pb_mevent pool[] = {ev(50, 0, 1),  ev(120, 0, 2), ev(10, 1, 3),
				   ev(100, 1, 4), ev(99, 2, 5),	 ev(400, 2, 6)};
	size_t n = pb_mevent_trim(pool, 6, 100);
	assert_int_equal(n, 3);
	assert_int_equal(pool[0].pid, 2);
	assert_int_equal(pool[1].pid, 4);
	assert_int_equal(pool[2].pid, 6);
	assert_int_equal(pb_mevent_trim(pool, n, UINT64_MAX), 0); /* no window open: all go */
	assert_int_equal(pb_mevent_trim(pool, 0, 0), 0);
	struct pb_mevent keep[] = {ev(5, 0, 1), ev(6, 0, 2)};
	assert_int_equal(pb_mevent_trim(keep, 2, 0), 2);
}

/* An ftrace instance's per-CPU stats, as 6.1 to 6.18 print them: the dropped events only. */
static void ftrace_stats(void **state)
{
	(void)state;
	const char *stats = "entries: 12\noverrun: 0\ncommit overrun: 0\nbytes: 904\n"
			    "oldest event ts:  1234.567890\nnow ts:  1240.000001\n"
			    "dropped events: 4711\nread events: 33\n";
	uint64_t v = 1;
	assert_int_equal(pb_ftrace_stats_dropped(stats, &v), 0);
	assert_int_equal(v, 4711);
	assert_int_equal(pb_ftrace_stats_dropped("dropped events: 0\n", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(pb_ftrace_stats_dropped("entries: 12\n", &v), -EINVAL);
	assert_int_equal(pb_ftrace_stats_dropped("dropped events: x\n", &v), -EINVAL);
	assert_int_equal(pb_ftrace_stats_dropped("dropped events: 12x\n", &v), -EINVAL);
	assert_int_equal(pb_ftrace_stats_dropped(NULL, &v), -EINVAL);
}

/* Only probebench's own instance names give a pid; a user's instance is never taken. */
static void ftrace_instance_names(void **state)
{
	(void)state;
	assert_int_equal(pb_ftrace_instance_pid("probebench_4242_0_events"), 4242);
	assert_int_equal(pb_ftrace_instance_pid("probebench_1_17_kept"), 1);
	assert_int_equal(pb_ftrace_instance_pid("probebench_4242"), -EINVAL);
	assert_int_equal(pb_ftrace_instance_pid("probebench__0_events"), -EINVAL);
	assert_int_equal(pb_ftrace_instance_pid("probebench_0_0_events"), -EINVAL);
	assert_int_equal(pb_ftrace_instance_pid("probebench_99999999999_0_x"), -EINVAL);
	assert_int_equal(pb_ftrace_instance_pid("mytrace"), -EINVAL);
	assert_int_equal(pb_ftrace_instance_pid("probebenchx_12_0"), -EINVAL);
}

/* auto: perf while every event on every CPU stays within 256 descriptors. */
static void buffer_choice(void **state)
{
	(void)state;
	char why[200];
	assert_int_equal(pb_buffer_choose(PB_BUFFER_AUTO, 16, 4, why, sizeof(why)), PB_BUFFER_PERF);
	assert_string_equal(why,
			    "auto: perf events would hold 64 descriptors (16 events on 4 CPUs), "
			    "within 256");
	assert_int_equal(pb_buffer_choose(PB_BUFFER_AUTO, 16, 16, why, sizeof(why)),
			 PB_BUFFER_PERF); /* 256: still within */
	assert_int_equal(pb_buffer_choose(PB_BUFFER_AUTO, 16, 17, why, sizeof(why)),
			 PB_BUFFER_FTRACE);
	assert_int_equal(pb_buffer_choose(PB_BUFFER_AUTO, 16, 64, why, sizeof(why)),
			 PB_BUFFER_FTRACE);
	assert_string_equal(why, "auto: perf events would hold 1024 descriptors (16 events on 64 "
				 "CPUs), more than 256");
	assert_int_equal(pb_buffer_choose(PB_BUFFER_PERF, 16, 512, why, sizeof(why)),
			 PB_BUFFER_PERF);
	assert_string_equal(why, "--buffer perf");
	assert_int_equal(pb_buffer_choose(PB_BUFFER_FTRACE, 1, 1, why, sizeof(why)),
			 PB_BUFFER_FTRACE);
	assert_int_equal(pb_buffer_parse("auto"), PB_BUFFER_AUTO);
	assert_int_equal(pb_buffer_parse("perf"), PB_BUFFER_PERF);
	assert_int_equal(pb_buffer_parse("ftrace"), PB_BUFFER_FTRACE);
	assert_int_equal(pb_buffer_parse("Perf"), -EINVAL);
	assert_int_equal(pb_buffer_parse(""), -EINVAL);
	assert_string_equal(pb_buffer_name(PB_BUFFER_FTRACE), "ftrace");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ring_pages),
	    cmocka_unit_test(ftrace_stats),
	    cmocka_unit_test(buffer_choice),
	    cmocka_unit_test(ftrace_instance_names),
	    cmocka_unit_test(windows_of_two_targets),
	    cmocka_unit_test(trim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

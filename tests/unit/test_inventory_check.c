// SPDX-License-Identifier: GPL-2.0-or-later
/* probebench check: classification of single facts, and a run against fixture /proc and /sys. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "probebench/check.h"
#include "testbed.h"

static void paranoid(void **state)
{
	(void)state;
	struct pb_check c = {0};
	pb_check_classify_paranoid(&c, 0, 2, true);
	assert_int_equal(c.status, PB_CHECK_OK);
	assert_non_null(strstr(c.detail, "root"));
	pb_check_classify_paranoid(&c, 0, -1, false);
	assert_int_equal(c.status, PB_CHECK_OK);
	pb_check_classify_paranoid(&c, 0, 1, false);
	assert_int_equal(c.status, PB_CHECK_LIMITED);
	pb_check_classify_paranoid(&c, 0, 2, false);
	assert_int_equal(c.status, PB_CHECK_MISSING);
	pb_check_classify_paranoid(&c, -ENOENT, 0, true);
	assert_int_equal(c.status, PB_CHECK_MISSING);
	assert_non_null(strstr(c.detail, "no perf events"));
}

static void numa(void **state)
{
	(void)state;
	struct pb_check c = {0};
	pb_check_classify_numa(&c, -1, 0);
	assert_int_equal(c.status, PB_CHECK_MISSING);
	pb_check_classify_numa(&c, 0, 1);
	assert_int_equal(c.status, PB_CHECK_LIMITED);
	pb_check_classify_numa(&c, 0, 2);
	assert_int_equal(c.status, PB_CHECK_OK);
}

static void tracefs_mount(void **state)
{
	(void)state;
	char dir[256];
	assert_false(pb_check_find_tracefs("sysfs /sys sysfs rw 0 0\nproc /proc proc rw 0 0\n", dir,
					   sizeof(dir)));
	assert_true(pb_check_find_tracefs("sysfs /sys sysfs rw 0 0\n"
					  "nodev /sys/kernel/tracing tracefs rw 0 0\n",
					  dir, sizeof(dir)));
	assert_string_equal(dir, "/sys/kernel/tracing");
	assert_false(pb_check_find_tracefs("", dir, sizeof(dir)));
}

static const struct pb_check *find(const struct pb_check_report *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->items[i].name, name) == 0)
			return &r->items[i];
	fail_msg("no check named %s", name);
	return NULL;
}

static void write_file(const char *dir, const char *rel, const char *content)
{
	char *cmd = NULL;
	assert_true(asprintf(&cmd, "mkdir -p \"$(dirname '%s/%s')\" && printf '%%s' '%s' > '%s/%s'",
			     dir, rel, content, dir, rel) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void fixture_run(void **state)
{
	(void)state;
	char tmp[] = "/tmp/pb-check-XXXXXX", proc[PATH_MAX], sys[PATH_MAX], cmd[PATH_MAX + 16];
	assert_non_null(mkdtemp(tmp));
	snprintf(proc, sizeof(proc), "%s/proc", tmp);
	snprintf(sys, sizeof(sys), "%s/sys", tmp);
	write_file(proc, "sys/kernel/perf_event_paranoid", "2\n");
	write_file(proc, "mounts", "sysfs /sys sysfs rw 0 0\n");
	write_file(proc, "filesystems", "nodev\tsysfs\nnodev\ttracefs\n");
	/* Only some tracepoints are in this kernel's symbols. */
	write_file(proc, "kallsyms",
		   "ffffffff81386b40 T __traceiter_workqueue_queue_work\n"
		   "ffffffff81386b41 T __traceiter_workqueue_execute_start\n"
		   "ffffffff81386b42 T __traceiter_workqueue_execute_end\n"
		   "ffffffff81386b43 T __traceiter_sched_switch\n"
		   "ffffffff81386b44 D __tracepoint_mm_page_alloc\n");
	write_file(sys, "kernel/tracing/.keep", "");
	write_file(sys, "bus/event_source/devices/kprobe/type", "6\n");
	write_file(sys, "devices/system/memory/block_size_bytes", "8000000\n");
	setenv("PROBEBENCH_PROCFS", proc, 1);
	assert_int_equal(testbed_enter(tmp), 0);
	struct pb_check_report r;
	pb_check_run(&r);
	unsetenv("PROBEBENCH_PROCFS");
	testbed_leave();

	bool root = geteuid() == 0;
	assert_int_equal(find(&r, "root")->status, root ? PB_CHECK_OK : PB_CHECK_MISSING);
	assert_int_equal(find(&r, "perf_event_paranoid")->status,
			 root ? PB_CHECK_OK : PB_CHECK_MISSING);
	assert_non_null(strstr(find(&r, "perf_event_paranoid")->detail, "2"));
	const struct pb_check *t = find(&r, "tracefs");
	assert_int_equal(t->status, root ? PB_CHECK_LIMITED : PB_CHECK_MISSING);
	assert_non_null(strstr(t->detail, "not mounted"));
	/* tracefs not mounted, kprobes in the kernel: mounting it would do. */
	assert_int_equal(find(&r, "kprobe_events")->status, PB_CHECK_LIMITED);
	assert_int_equal(find(&r, "tracepoints_workqueue")->status, PB_CHECK_OK);
	t = find(&r, "tracepoints_sched");
	assert_int_equal(t->status, PB_CHECK_LIMITED);
	assert_non_null(strstr(t->detail, "missing sched_migrate_task"));
	t = find(&r, "tracepoints_kmem");
	assert_int_equal(t->status, PB_CHECK_LIMITED);
	assert_non_null(strstr(t->detail, "present mm_page_alloc"));
	assert_int_equal(find(&r, "bind_writes")->status, PB_CHECK_MISSING);
	assert_int_equal(find(&r, "initcall_debug")->status, PB_CHECK_MISSING);
	t = find(&r, "memory_blocks");
	assert_int_equal(t->status, PB_CHECK_OK);
	assert_non_null(strstr(t->detail, "128 MiB"));
	for (size_t i = 0; i < r.n; i++) {
		assert_true(r.items[i].detail[0]);
		assert_non_null(r.items[i].lost);
		assert_non_null(r.items[i].method);
	}

	/* Without the kprobe PMU and with tracefs mounted (events read from it). */
	snprintf(cmd, sizeof(cmd), "rm -r '%s/bus'", sys);
	assert_int_equal(system(cmd), 0);
	char ev[PATH_MAX + 32];
	write_file(proc, "mounts", "nodev /sys/kernel/tracing tracefs rw 0 0\n");
	snprintf(ev, sizeof(ev), "%s/kernel/tracing", sys);
	write_file(ev, "events/kmem/mm_page_alloc/id", "300\n");
	write_file(ev, "events/kmem/kmalloc/id", "301\n");
	setenv("PROBEBENCH_PROCFS", proc, 1);
	assert_int_equal(testbed_enter(tmp), 0);
	pb_check_run(&r);
	unsetenv("PROBEBENCH_PROCFS");
	testbed_leave();
	/* tracefs mounted, no kprobe_events in it. */
	assert_int_equal(find(&r, "kprobe_events")->status, PB_CHECK_MISSING);
	assert_non_null(strstr(find(&r, "kprobe_events")->detail, "CONFIG_KPROBE_EVENTS"));
	assert_int_equal(find(&r, "tracefs")->status, PB_CHECK_OK);
	assert_int_equal(find(&r, "tracepoints_kmem")->status, PB_CHECK_OK);
	assert_int_equal(find(&r, "tracepoints_sched")->status, PB_CHECK_MISSING);

	struct json_object *doc = pb_check_report_to_json(&r), *v;
	assert_true(json_object_object_get_ex(doc, "checks", &v));
	assert_int_equal(json_object_array_length(v), r.n);
	assert_true(json_object_object_get_ex(doc, "summary", &v));
	json_object_put(doc);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(paranoid),
	    cmocka_unit_test(numa),
	    cmocka_unit_test(tracefs_mount),
	    cmocka_unit_test(fixture_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

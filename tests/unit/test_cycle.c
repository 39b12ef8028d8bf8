// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cycle engine against a fixture sysfs tree built per test (at /sys: testbed.h): target
 * resolution, the writer thread (which refuses a FIFO where a sysfs file belongs instead of
 * hanging on it; hung writes are the fake kernel's, test_fake_cycle.c), unbind verification,
 * journal states, restore decisions.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "probebench/cycle.h"
#include "probebench/journal.h"
#include "probebench/paths.h"
#include "probebench/run.h"
#include "probebench/target.h"
#include "probebench/util.h"
#include "testbed.h"

static char root[64], sys[128], state[128];

static void put(const char *rel, const char *content)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", sys, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void mk(const char *rel)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", sys, rel);
	assert_int_equal(system(cmd), 0);
}

static void link_to(const char *target, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", sys, rel);
	assert_int_equal(symlink(target, p), 0);
}

/* Two PCI functions (one rng with a virtio child, one disk), drivers, bus directories. */
static int setup(void **st)
{
	(void)st;
	strcpy(root, "/tmp/pb-cycle-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(state, sizeof(state), "%s/state", root);
	if (mkdir(sys, 0755) < 0 || testbed_enter(root) < 0)
		return -1;
	pb_set_state_dir(state);
	mk("devices/pci0000:00/0000:00:05.0/virtio4/power");
	mk("devices/pci0000:00/0000:00:05.0/power");
	mk("devices/pci0000:00/0000:00:04.0");
	mk("bus/pci/devices");
	mk("bus/pci/drivers/virtio-pci");
	mk("bus/virtio/devices");
	mk("bus/virtio/drivers/virtio_rng");
	const char *fn = "devices/pci0000:00/0000:00:05.0";
	char p[256];
	snprintf(p, sizeof(p), "%s/uevent", fn), put(p, "");
	snprintf(p, sizeof(p), "%s/vendor", fn), put(p, "0x1af4\n");
	snprintf(p, sizeof(p), "%s/device", fn), put(p, "0x1044\n");
	snprintf(p, sizeof(p), "%s/numa_node", fn), put(p, "1\n");
	snprintf(p, sizeof(p), "%s/power/control", fn), put(p, "auto\n");
	snprintf(p, sizeof(p), "%s/driver_override", fn), put(p, "(null)\n");
	link_to("../../../bus/pci", "devices/pci0000:00/0000:00:05.0/subsystem");
	link_to("../../../bus/pci/drivers/virtio-pci", "devices/pci0000:00/0000:00:05.0/driver");
	put("devices/pci0000:00/0000:00:05.0/virtio4/uevent", "");
	put("devices/pci0000:00/0000:00:05.0/virtio4/power/control", "auto\n");
	link_to("../../../../bus/virtio", "devices/pci0000:00/0000:00:05.0/virtio4/subsystem");
	link_to("../../../../bus/virtio/drivers/virtio_rng",
		"devices/pci0000:00/0000:00:05.0/virtio4/driver");
	put("devices/pci0000:00/0000:00:04.0/uevent", "");
	put("devices/pci0000:00/0000:00:04.0/vendor", "0x1af4\n");
	put("devices/pci0000:00/0000:00:04.0/device", "0x1042\n");
	link_to("../../../bus/pci", "devices/pci0000:00/0000:00:04.0/subsystem");
	link_to("../../../devices/pci0000:00/0000:00:05.0", "bus/pci/devices/0000:00:05.0");
	link_to("../../../devices/pci0000:00/0000:00:04.0", "bus/pci/devices/0000:00:04.0");
	link_to("../../../devices/pci0000:00/0000:00:05.0/virtio4", "bus/virtio/devices/virtio4");
	put("bus/pci/drivers/virtio-pci/bind", "");
	put("bus/pci/drivers/virtio-pci/unbind", "");
	put("bus/pci/drivers_probe", "");
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	testbed_leave();
	return system(cmd) == 0 ? 0 : -1;
}

static void int_lists(void **st)
{
	(void)st;
	int *v = NULL;
	size_t n = 0;
	assert_int_equal(pb_parse_int_list("0,2-4", &v, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(v[0], 0);
	assert_int_equal(v[3], 4);
	free(v);
	const char *bad[] = {"", "1-0", "a", "1,,2", "1,", ",1", "-1", "1-"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pb_parse_int_list(bad[i], &v, &n), -EINVAL);
}

/* How the tests arm a target: --entry bind, a second for each write. */
static const struct pb_cycle_cfg arm_cfg = {.entry = PB_ENTRY_BIND, .timeout_ns = 1000000000ull};

static int target_at(const char *rel, struct pb_target *t)
{
	char p[512];
	snprintf(p, sizeof(p), "/sys/devices/pci0000:00/%s", rel);
	return pb_target_from_syspath(p, t);
}

static void target_from_syspath(void **st)
{
	(void)st;
	struct pb_target t;
	assert_int_equal(target_at("0000:00:05.0", &t), 0);
	assert_string_equal(t.bus, "pci");
	assert_string_equal(t.driver, "virtio-pci");
	assert_string_equal(t.name, "0000:00:05.0");
	assert_int_equal(target_at("0000:00:05.0/virtio4", &t), 0);
	assert_string_equal(t.bus, "virtio");
	assert_string_equal(t.driver, "virtio_rng");
	assert_string_equal(t.name, "virtio4");
	/* no driver: read, driver empty (the policy refuses it) */
	assert_int_equal(target_at("0000:00:04.0", &t), 0);
	assert_string_equal(t.driver, "");
	assert_int_equal(target_at("0000:00:09.0", &t), -ENOENT);
	/* a directory that is not a device */
	assert_int_equal(target_at("0000:00:05.0/power", &t), -ENODEV);
}

struct hook_log {
	int before, after, last_result;
	enum pb_step last_step;
	bool window_ok;
};

static void before(void *ud, const struct pb_target *t, enum pb_step step)
{
	(void)t;
	struct hook_log *l = ud;
	l->before++;
	l->last_step = step;
}

static void after(void *ud, const struct pb_target *t, enum pb_step step, int result, uint64_t t0,
		  uint64_t t1)
{
	(void)t;
	(void)step;
	struct hook_log *l = ud;
	l->window_ok = t1 >= t0 && t0 > 0;
	l->after++;
	l->last_result = result;
}

static void writer_writes_and_hooks(void **st)
{
	(void)st;
	struct hook_log log = {0};
	struct pb_cycle_hooks hooks = {
	    .userdata = &log, .before_write = before, .after_write = after};
	struct pb_placement any = {.cpu = -1, .node = -1};
	struct pb_writer *w;
	assert_int_equal(pb_writer_new(&any, &hooks, &w), 0);
	char p[512], buf[64];
	snprintf(p, sizeof(p), "%s/bus/pci/drivers/virtio-pci/bind", sys);
	uint64_t ns = 0;
	int cpu = -2;
	assert_int_equal(
	    pb_writer_write(w, p, "0000:00:05.0", 1000000000ull, NULL, PB_STEP_BIND, &ns, &cpu), 0);
	assert_true(cpu >= 0);
	assert_int_equal(log.before, 1);
	assert_int_equal(log.after, 1);
	assert_int_equal(log.last_step, PB_STEP_BIND);
	assert_true(log.window_ok);
	FILE *f = fopen(p, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "0000:00:05.0");
	/* untimed helper writes do not call the measurement hooks */
	assert_int_equal(pb_writer_write(w, p, "x", 1000000000ull, NULL, PB_STEP_SETUP, NULL, NULL),
			 0);
	assert_int_equal(log.before, 1);
	snprintf(p, sizeof(p), "%s/bus/pci/drivers/nope/bind", sys);
	assert_int_equal(pb_writer_write(w, p, "x", 1000000000ull, NULL, PB_STEP_BIND, NULL, NULL),
			 -ENOENT);
	pb_writer_free(w);
	struct pb_placement nowhere = {.cpu = -1, .node = 4000};
	assert_int_equal(pb_writer_new(&nowhere, NULL, &w), -EINVAL);
}

/* Replaces a driver file with a FIFO, which a plain open for writing would block on. */
static void make_fifo(const char *rel, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", sys, rel);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
}

/* A FIFO where the bind file belongs is refused at once, with or without a reader: the writer
 * neither hangs nor writes to it, and goes on working. */
static void writer_refuses_fifo(void **st)
{
	(void)st;
	char fifo[512], p[512];
	make_fifo("bus/pci/drivers/virtio-pci/bind", fifo, sizeof(fifo));
	struct pb_placement any = {.cpu = -1, .node = -1};
	struct pb_writer *w;
	assert_int_equal(pb_writer_new(&any, NULL, &w), 0);
	assert_int_equal(pb_writer_write(w, fifo, "x", 50000000ull, NULL, PB_STEP_BIND, NULL, NULL),
			 -ENXIO);
	int rfd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	assert_int_equal(pb_writer_write(w, fifo, "x", 50000000ull, NULL, PB_STEP_BIND, NULL, NULL),
			 -EINVAL);
	char buf[4];
	assert_int_equal(read(rfd, buf, sizeof(buf)), 0); /* nothing was written */
	close(rfd);
	assert_false(pb_writer_hung(w));
	snprintf(p, sizeof(p), "%s/bus/pci/drivers/virtio-pci/unbind", sys);
	assert_int_equal(pb_writer_write(w, p, "x", 50000000ull, NULL, PB_STEP_SETUP, NULL, NULL),
			 0);
	/* a place outside the sysfs root is not written either */
	assert_int_equal(pb_writer_write(w, "/tmp/pb-not-sysfs", "x", 50000000ull, NULL,
					 PB_STEP_SETUP, NULL, NULL),
			 -EXDEV);
	pb_writer_free(w);
}

/* A FIFO as the unbind file: the unbind fails and the device stays armed on its driver. */
static void cycle_refuses_fifo(void **st)
{
	(void)st;
	struct pb_target t;
	struct pb_journal_entry je;
	struct pb_writer *w;
	struct pb_placement any = {.cpu = -1, .node = -1};
	char fifo[512];
	assert_int_equal(target_at("0000:00:05.0", &t), 0);
	assert_int_equal(pb_writer_new(&any, NULL, &w), 0);
	assert_int_equal(pb_cycle_arm(w, &t, &arm_cfg, &je), 0);
	make_fifo("bus/pci/drivers/virtio-pci/unbind", fifo, sizeof(fifo));
	struct pb_cycle_cfg cfg = {.entry = PB_ENTRY_BIND, .timeout_ns = 50000000ull};
	struct pb_cycle_result res;
	pb_cycle_once(w, &t, &je, &cfg, &res);
	assert_int_equal(res.outcome, PB_CYCLE_UNBIND_FAILED);
	assert_int_equal(res.unbind_errno, ENXIO);
	assert_false(pb_writer_hung(w));
	assert_int_equal(je.state, PB_JOURNAL_ARMED);
	assert_int_equal(pb_cycle_disarm(w, &t, 1000000000ull, &je), 0);
	pb_writer_free(w);
}

static void refused_unbind_is_detected(void **st)
{
	(void)st;
	/* the fixture's unbind file accepts the write but the driver link stays: not unbound */
	struct pb_target t;
	struct pb_journal_entry je;
	struct pb_writer *w;
	struct pb_placement any = {.cpu = -1, .node = -1};
	assert_int_equal(target_at("0000:00:05.0", &t), 0);
	assert_int_equal(pb_writer_new(&any, NULL, &w), 0);
	assert_int_equal(pb_cycle_arm(w, &t, &arm_cfg, &je), 0);
	struct pb_cycle_cfg cfg = {.entry = PB_ENTRY_BIND, .timeout_ns = 1000000000ull};
	struct pb_cycle_result res;
	pb_cycle_once(w, &t, &je, &cfg, &res);
	assert_int_equal(res.outcome, PB_CYCLE_UNBIND_FAILED);
	assert_int_equal(res.unbind_errno, EBUSY);
	assert_true(res.verified);
	assert_int_equal(je.state, PB_JOURNAL_ARMED);
	/* disarm restores power/control and clears the journal */
	assert_int_equal(pb_cycle_disarm(w, &t, 1000000000ull, &je), 0);
	char p[PATH_MAX + 32], buf[32];
	snprintf(p, sizeof(p), "%s/power/control", t.syspath);
	assert_true(pb_read_str(p, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "auto");
	struct pb_journal_entry *v;
	size_t n, bad;
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(n, 0);
	free(v);
	pb_writer_free(w);
}

static void restore_gone_and_bound(void **st)
{
	(void)st;
	struct pb_writer *w;
	struct pb_placement any = {.cpu = -1, .node = -1};
	assert_int_equal(pb_writer_new(&any, NULL, &w), 0);
	struct pb_journal_entry gone = {.state = PB_JOURNAL_CYCLING};
	snprintf(gone.syspath, sizeof(gone.syspath), "%s/devices/pci0000:00/0000:00:07.0", sys);
	strcpy(gone.bus, "pci");
	strcpy(gone.sysname, "0000:00:07.0");
	strcpy(gone.driver, "virtio-pci");
	assert_int_equal(pb_journal_write(&gone), 0);
	int err;
	assert_int_equal(pb_restore_entry(w, &gone, 1000000000ull, &err), PB_RESTORE_GONE);
	/* bound already, power/control changed: only the setting comes back */
	struct pb_target t;
	struct pb_journal_entry je;
	assert_int_equal(target_at("0000:00:05.0/virtio4", &t), 0);
	assert_int_equal(pb_cycle_arm(w, &t, &arm_cfg, &je), 0);
	assert_int_equal(pb_restore_entry(w, &je, 1000000000ull, &err), PB_RESTORE_OK);
	char p[PATH_MAX + 32], buf[32];
	snprintf(p, sizeof(p), "%s/power/control", t.syspath);
	assert_true(pb_read_str(p, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "auto");
	/* the syspath of one device under the bus and name of another: a crafted or stale entry
	 * must not steer writes to a device it does not name twice; nothing is written */
	struct pb_journal_entry mix = je;
	snprintf(mix.sysname, sizeof(mix.sysname), "0000:00:05.0");
	snprintf(mix.bus, sizeof(mix.bus), "pci");
	snprintf(p, sizeof(p), "%s/power/control", t.syspath);
	assert_int_equal(pb_write_str(p, "on"), 0); /* the fixture's file: "onto" now */
	char before[32];
	assert_true(pb_read_str(p, before, sizeof(before)) > 0);
	assert_int_equal(pb_restore_entry(w, &mix, 1000000000ull, &err), PB_RESTORE_MISMATCH);
	assert_true(pb_read_str(p, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, before);
	assert_int_equal(pb_restore_entry(w, &je, 1000000000ull, &err), PB_RESTORE_OK);
	assert_true(pb_read_str(p, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "auto"); /* the entry that names its device twice: written */
	/* bound to another driver: left alone, entry kept */
	strcpy(je.driver, "other");
	assert_int_equal(pb_journal_write(&je), 0);
	assert_int_equal(pb_restore_entry(w, &je, 1000000000ull, &err), PB_RESTORE_OTHER);
	struct pb_journal_entry *v;
	size_t n, bad;
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(n, 1);
	free(v);
	pb_writer_free(w);
}

struct gate_party {
	struct pb_gate *g;
	int waits;
	int *counter;
	pthread_mutex_t *mu;
	int seen_after_first; /* how many had arrived when this party passed the first gate */
};

static void *party_main(void *arg)
{
	struct gate_party *p = arg;
	for (int i = 0; i < p->waits; i++) {
		if (i == 0) {
			pthread_mutex_lock(p->mu);
			(*p->counter)++;
			pthread_mutex_unlock(p->mu);
		}
		pb_gate_wait(p->g);
		if (i == 0) {
			pthread_mutex_lock(p->mu);
			p->seen_after_first = *p->counter;
			pthread_mutex_unlock(p->mu);
		}
	}
	pb_gate_leave(p->g);
	return NULL;
}

static void gate_meets_and_lets_leavers_go(void **st)
{
	(void)st;
	/* four parties: one leaves at once (a cycle that stopped before its unbind), one after the
	 * first meeting (unbind failed), two meet twice (unbind, bind). Nobody may hang. */
	struct pb_gate *g;
	assert_int_equal(pb_gate_new(4, &g), 0);
	int counter = 0;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct gate_party parties[4] = {
	    {g, 0, &counter, &mu, 0},
	    {g, 1, &counter, &mu, 0},
	    {g, 2, &counter, &mu, 0},
	    {g, 2, &counter, &mu, 0},
	};
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, party_main, &parties[i]), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	/* the first meeting released nobody before all three waiting parties had arrived */
	for (int i = 1; i < 4; i++)
		assert_int_equal(parties[i].seen_after_first, 3);
	pb_gate_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(int_lists),
	    cmocka_unit_test(gate_meets_and_lets_leavers_go),
	    cmocka_unit_test_setup_teardown(target_from_syspath, setup, teardown),
	    cmocka_unit_test_setup_teardown(writer_writes_and_hooks, setup, teardown),
	    cmocka_unit_test_setup_teardown(writer_refuses_fifo, setup, teardown),
	    cmocka_unit_test_setup_teardown(cycle_refuses_fifo, setup, teardown),
	    cmocka_unit_test_setup_teardown(refused_unbind_is_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(restore_gone_and_bound, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

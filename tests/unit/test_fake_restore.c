// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kill matrix: a run (arm, cycles, disarm) in a child process on the fake kernel is killed
 * with SIGKILL at a chosen write, before or after the kernel applied it (tests/fake
 * kill-before, kill-after), so each journal state a run can leave is made by the code that
 * writes it, not written by hand. Then restore (pb_restore_entry(), as `probebench restore`
 * calls it) must put the device back on its driver with driver_override and power/control as
 * found and clear the entry, or keep the entry and leave the device alone where restore says
 * so (hung in this boot, bound to another driver, not restorable).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_sysfs.h"
#include "probebench/cycle.h"
#include "probebench/journal.h"
#include "probebench/paths.h"
#include "probebench/run.h"
#include "probebench/util.h"
#include "testbed.h"

#define SEC	1000000000ull
#define HANG_NS (100 * 1000000ull)

enum meanwhile {
	NOTHING,
	OTHER_DRIVER, /* someone binds vfio-pci to the unbound device, as driverctl does */
	UNPLUGGED,    /* the device goes away */
	UNBOUND,      /* someone unbinds the device */
};

enum then {
	DONE,
	DRIVER_FIXED, /* the failing probe is fixed; restore again */
	REBOOTED,     /* the entry's boot id is another boot's; restore again */
};

struct kill_case {
	const char *name;
	const char *dev; /* FAKE_RNG_PCI or FAKE_RNG_VIRTIO */
	enum pb_entry_path entry;
	const char *behave[3]; /* the device's behaviour lines for the run */
	int exit_code;	       /* 0: the run is killed; else it stops with this code */
	struct {
		enum pb_journal_state state;
		const char *bound, *override, *power;
	} left; /* what the run leaves: its entry's state, the driver bound, the settings */
	enum meanwhile meanwhile;
	/* a behaviour line for restore's own writes: a restore it kills runs in a child first,
	 * and the next one must still do the job */
	const char *restore_behave;
	enum pb_restore_outcome restore;
	enum then then;
	enum pb_restore_outcome restore2;
};

#define PCI    FAKE_RNG_PCI
#define VIRTIO FAKE_RNG_VIRTIO
#define B      PB_ENTRY_BIND
#define P      PB_ENTRY_PROBE
#define ARMED  PB_JOURNAL_ARMED
#define HUNG   PB_JOURNAL_HUNG

/* One row per way a run can be left: name, device, entry path, behaviour, exit code;
 * {journal state, driver, driver_override, power/control} left; what happens meanwhile;
 * restore's behaviour and outcome; then what, and the next restore's outcome. */
// clang-format off
static const struct kill_case cases[] = {
	{"armed: killed as arm set power/control", PCI, B, {"power kill-after 1"}, 0,
	 {ARMED, "virtio-pci", "(null)", "on"}, NOTHING, NULL, PB_RESTORE_OK, DONE, 0},
	{"armed, then unbound by someone else", PCI, B, {"power kill-after 1"}, 0,
	 {ARMED, "virtio-pci", "(null)", "on"}, UNBOUND, NULL, PB_RESTORE_REBOUND, DONE, 0},
	{"armed: killed after two cycles, as disarm restored power/control", PCI, B,
	 {"power ok 1", "power kill-before 1"}, 0,
	 {ARMED, "virtio-pci", "(null)", "on"}, NOTHING, NULL, PB_RESTORE_OK, DONE, 0},
	{"in a cycle, bound: killed before the unbind", PCI, B, {"unbind kill-before 1"}, 0,
	 {ARMED, "virtio-pci", "(null)", "on"}, NOTHING, NULL, PB_RESTORE_OK, DONE, 0},
	{"in a cycle, unbound: killed after the unbind", PCI, B, {"unbind kill-after 1"}, 0,
	 {ARMED, "", "(null)", "on"}, NOTHING, NULL, PB_RESTORE_REBOUND, DONE, 0},
	{"in a cycle, unbound: killed after the second cycle's unbind", PCI, B,
	 {"unbind ok 1", "unbind kill-after 1"}, 0,
	 {ARMED, "", "(null)", "on"}, NOTHING, NULL, PB_RESTORE_REBOUND, DONE, 0},
	{"in a cycle, unbound, driver_override set: killed in the second cycle's drivers_probe", PCI,
	 P, {"probe ok 1", "probe kill-before 1"}, 0,
	 {ARMED, "", "virtio-pci", "on"}, NOTHING, NULL, PB_RESTORE_REBOUND, DONE, 0},
	{"in a cycle, unbound: killed in the bind", PCI, B, {"probe kill-before 1"}, 0,
	 {ARMED, "", "(null)", "on"}, NOTHING, NULL, PB_RESTORE_REBOUND, DONE, 0},
	{"in a cycle, bound: killed after the bind, before the entry went back to armed", PCI, B,
	 {"probe kill-after 1"}, 0,
	 {ARMED, "virtio-pci", "(null)", "on"}, NOTHING, NULL, PB_RESTORE_OK, DONE, 0},
	{"in a cycle, unbound, driver_override set: killed in drivers_probe", PCI, P,
	 {"probe kill-before 1"}, 0,
	 {ARMED, "", "virtio-pci", "on"}, NOTHING, NULL, PB_RESTORE_REBOUND, DONE, 0},
	{"in a cycle, bound, driver_override set: killed after drivers_probe bound it", PCI, P,
	 {"probe kill-after 1"}, 0,
	 {ARMED, "virtio-pci", "virtio-pci", "on"}, NOTHING, NULL, PB_RESTORE_OK, DONE, 0},
	{"in a cycle, unbound: killed between retries", PCI, B,
	 {"probe EAGAIN 2", "probe kill-before 1"}, 0,
	 {ARMED, "", "(null)", "on"}, NOTHING, NULL, PB_RESTORE_REBOUND, DONE, 0},
	{"in a cycle, unbound, driver_override set: killed in the put-back's drivers_probe", PCI, B,
	 {"probe ENODEV 1", "probe kill-before 1"}, 0,
	 {ARMED, "", "virtio-pci", "on"}, NOTHING, NULL, PB_RESTORE_REBOUND, DONE, 0},
	{"in a cycle, unbound, driver_override set: killed in the put-back's DRV/bind", PCI, B,
	 {"probe EIO 2", "probe kill-before 1"}, 0,
	 {ARMED, "", "virtio-pci", "on"}, NOTHING, NULL, PB_RESTORE_REBOUND, DONE, 0},
	{"in a cycle, unbound: a run stopped on a lost device", PCI, B, {"probe EIO"}, 4,
	 {ARMED, "", "(null)", "on"}, NOTHING, NULL, PB_RESTORE_FAILED,
	 DRIVER_FIXED, PB_RESTORE_REBOUND},
	{"in a cycle, unbound, then bound to another driver", PCI, B, {"unbind kill-after 1"}, 0,
	 {ARMED, "", "(null)", "on"}, OTHER_DRIVER, NULL, PB_RESTORE_OTHER, DONE, 0},
	{"in a cycle, unbound, then unplugged", PCI, B, {"unbind kill-after 1"}, 0,
	 {ARMED, "", "(null)", "on"}, UNPLUGGED, NULL, PB_RESTORE_GONE, DONE, 0},
	{"hung in the bind: killed", PCI, B, {"probe hang 1"}, 0,
	 {HUNG, "", "(null)", "on"}, NOTHING, NULL, PB_RESTORE_HUNG, REBOOTED, PB_RESTORE_REBOUND},
	{"hung in drivers_probe: killed", PCI, P, {"probe hang 1"}, 0,
	 {HUNG, "", "virtio-pci", "on"}, NOTHING, NULL, PB_RESTORE_HUNG,
	 REBOOTED, PB_RESTORE_REBOUND},
	{"hung in the unbind: killed", PCI, B, {"unbind hang 1"}, 0,
	 {HUNG, "virtio-pci", "(null)", "on"}, NOTHING, NULL, PB_RESTORE_HUNG,
	 REBOOTED, PB_RESTORE_OK},
	{"hung as arm set power/control: killed", PCI, B, {"power hang 1"}, 0,
	 {HUNG, "virtio-pci", "(null)", "auto"}, NOTHING, NULL, PB_RESTORE_HUNG,
	 REBOOTED, PB_RESTORE_OK},
	{"in a cycle, unbound; restore killed in its drivers_probe", PCI, B, {"unbind kill-after 1"}, 0,
	 {ARMED, "", "(null)", "on"}, NOTHING, "probe kill-before 1", PB_RESTORE_REBOUND, DONE, 0},
	{"in a cycle, bound; restore killed restoring power/control", PCI, B, {"unbind kill-before 1"}, 0,
	 {ARMED, "virtio-pci", "(null)", "on"}, NOTHING, "power kill-before 1", PB_RESTORE_OK,
	 DONE, 0},
	{"in a cycle, unbound; restore hangs in drivers_probe", PCI, B, {"unbind kill-after 1"}, 0,
	 {ARMED, "", "(null)", "on"}, NOTHING, "probe hang 1", PB_RESTORE_HUNG,
	 REBOOTED, PB_RESTORE_REBOUND},
	{"virtio, in a cycle, unbound: killed after the unbind", VIRTIO, B, {"unbind kill-after 1"}, 0,
	 {ARMED, "", NULL, "on"}, NOTHING, NULL, PB_RESTORE_REBOUND, DONE, 0},
	{"virtio, in a cycle, unbound: killed in drivers_probe", VIRTIO, P, {"probe kill-before 1"}, 0,
	 {ARMED, "", NULL, "on"}, NOTHING, NULL, PB_RESTORE_REBOUND, DONE, 0},
};
// clang-format on

static bool has(const char *line, const char *word)
{
	return line && strstr(line, word);
}

/* A hang makes the writes' timeout short, so the test does not wait a second for it. */
static uint64_t run_timeout(const struct kill_case *c)
{
	for (size_t i = 0; i < 3; i++)
		if (has(c->behave[i], "hang"))
			return HANG_NS;
	return SEC;
}

static char root[64], sys[128], state[128];

static int setup(void **st)
{
	(void)st;
	strcpy(root, "/tmp/pb-fake-restore-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(state, sizeof(state), "%s/state", root);
	if (mkdir(sys, 0755) < 0 || testbed_enter(root) < 0)
		return -1;
	pb_set_state_dir(state);
	return fake_sysfs_rng(sys) == 0 ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	testbed_leave();
	pb_set_state_dir(NULL);
	return system(cmd) == 0 ? 0 : -1;
}

/* A run as `probebench run` makes it: arm, cycles, disarm; it stops on lost (exit 4). A hang
 * leaves it stuck on its writer thread until someone kills it. */
static _Noreturn void run_child(const struct kill_case *c, const char *devdir)
{
	struct pb_placement any = {.cpu = -1, .node = -1};
	struct pb_writer *w;
	struct pb_target t;
	struct pb_journal_entry je;
	uint64_t timeout = run_timeout(c);
	if (pb_writer_new(&any, NULL, &w) < 0 || pb_target_from_syspath(devdir, &t) < 0)
		_exit(10);
	struct pb_cycle_cfg cfg = {.entry = c->entry, .timeout_ns = timeout};
	int r = pb_cycle_arm(w, &t, &cfg, &je);
	if (r == -ETIMEDOUT)
		kill(getpid(), SIGKILL);
	if (r < 0)
		_exit(11);
	for (unsigned i = 0; i < 2; i++) {
		struct pb_cycle_result res;
		pb_cycle_once(w, &t, &je, &cfg, &res);
		if (res.outcome == PB_CYCLE_HUNG)
			kill(getpid(), SIGKILL);
		if (res.outcome == PB_CYCLE_LOST)
			_exit(4);
		if (res.outcome != PB_CYCLE_OK)
			_exit(12);
	}
	_exit(pb_cycle_disarm(w, &t, timeout, &je) == 0 ? 0 : 13);
}

static int journal_entry(const char *name, struct pb_journal_entry *ret)
{
	struct pb_journal_entry *v;
	size_t n, bad;
	int found = 0;
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(bad, 0);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].sysname, name)) {
			*ret = v[i];
			found = 1;
		}
	free(v);
	return found;
}

static const char *attr(const char *devdir, const char *name)
{
	static char buf[128];
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", devdir, name);
	if (pb_read_str(p, buf, sizeof(buf)) < 0)
		strcpy(buf, "<missing>");
	return buf;
}

static const char *bound(const char *devdir)
{
	static char buf[128];
	if (fake_sysfs_bound(devdir, buf, sizeof(buf)) < 0)
		strcpy(buf, "<gone>");
	return buf;
}

/* pb_restore_entry() on the entry for name, as `probebench restore` calls it. */
static enum pb_restore_outcome restore(const char *name, uint64_t timeout_ns)
{
	struct pb_journal_entry je;
	struct pb_writer *w;
	struct pb_placement any = {.cpu = -1, .node = -1};
	int err;
	assert_true(journal_entry(name, &je));
	assert_int_equal(pb_writer_new(&any, NULL, &w), 0);
	enum pb_restore_outcome out = pb_restore_entry(w, &je, timeout_ns, &err);
	/* a hang of its own, and only that, leaves the writer hung, with ETIMEDOUT */
	assert_int_equal(pb_writer_hung(w), err == ETIMEDOUT);
	assert_true(err != ETIMEDOUT || out == PB_RESTORE_HUNG);
	pb_writer_free(w);
	return out;
}

static bool log_empty(void)
{
	char *log = fake_sysfs_log(sys);
	bool empty = !log[0];
	if (!empty)
		fprintf(stderr, "restore wrote:\n%s", log);
	free(log);
	return empty;
}

/* Back as it was before the run: on its driver, settings as found, no entry. */
static void assert_restored(const char *devdir, const char *name, const char *drv)
{
	struct pb_journal_entry je;
	assert_string_equal(bound(devdir), drv);
	assert_string_equal(attr(devdir, "power/control"), "auto");
	if (strcmp(drv, "virtio_rng")) /* the virtio bus has no driver_override */
		assert_string_equal(attr(devdir, "driver_override"), "(null)");
	assert_false(journal_entry(name, &je));
}

static void check_outcome(const struct kill_case *c, enum pb_restore_outcome out,
			  const char *devdir, const char *name, const char *drv)
{
	struct pb_journal_entry je;
	switch (out) {
	case PB_RESTORE_OK:
	case PB_RESTORE_REBOUND:
		assert_restored(devdir, name, drv);
		break;
	case PB_RESTORE_GONE:
		assert_string_equal(bound(devdir), "<gone>");
		assert_false(journal_entry(name, &je));
		break;
	case PB_RESTORE_HUNG:
		if (has(c->restore_behave, "hang")) {
			/* restore's own write hung: now marked hung, in this boot */
			char boot[40];
			pb_journal_boot_id(boot, sizeof(boot));
			assert_true(journal_entry(name, &je));
			assert_int_equal(je.state, PB_JOURNAL_HUNG);
			assert_string_equal(je.boot_id, boot);
			break;
		}
		/* fall through */
	case PB_RESTORE_OTHER:
		/* left alone: the entry as the run left it, nothing written */
		assert_true(log_empty());
		assert_true(journal_entry(name, &je));
		assert_int_equal(je.state, c->left.state);
		break;
	case PB_RESTORE_FAILED:
		assert_true(journal_entry(name, &je));
		assert_string_equal(bound(devdir), "");
		break;
	case PB_RESTORE_MISMATCH:
		fail_msg("the run's own entry for %s was taken for another device", name);
		break;
	}
}

static void kill_and_restore(void **st)
{
	const struct kill_case *c = *st;
	char devdir[256], cmd[400];
	snprintf(devdir, sizeof(devdir), "%s/%s", sys, c->dev);
	const char *name = strrchr(devdir, '/') + 1;
	bool pci = !strcmp(c->dev, PCI);
	const char *drv = pci ? "virtio-pci" : "virtio_rng";
	for (size_t i = 0; i < 3 && c->behave[i]; i++)
		assert_int_equal(fake_sysfs_behave(devdir, "%s", c->behave[i]), 0);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		run_child(c, devdir);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (c->exit_code)
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == c->exit_code);
	else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail_msg("the run was not killed: %s %d", WIFEXITED(status) ? "exit" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));

	/* what the kill left: the journal entry written by the run, the device where it was */
	struct pb_journal_entry je;
	assert_true(journal_entry(name, &je));
	assert_int_equal(je.state, c->left.state);
	assert_int_equal(je.pid, pid);
	assert_string_equal(je.driver, drv);
	assert_string_equal(je.driver_override, "");
	assert_string_equal(je.power_control, "auto");
	assert_string_equal(bound(devdir), c->left.bound);
	assert_string_equal(attr(devdir, "power/control"), c->left.power);
	if (c->left.override)
		assert_string_equal(attr(devdir, "driver_override"), c->left.override);

	switch (c->meanwhile) {
	case NOTHING:
		break;
	case OTHER_DRIVER:
		snprintf(cmd, sizeof(cmd), "%s/driver_override", devdir);
		assert_int_equal(pb_write_str(cmd, "vfio-pci"), 0);
		snprintf(cmd, sizeof(cmd), "%s/bus/pci/drivers_probe", sys);
		assert_int_equal(pb_write_str(cmd, name), 0);
		break;
	case UNBOUND:
		snprintf(cmd, sizeof(cmd), "%s/bus/pci/drivers/virtio-pci/unbind", sys);
		assert_int_equal(pb_write_str(cmd, name), 0);
		break;
	case UNPLUGGED:
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", devdir);
		assert_int_equal(system(cmd), 0);
		break;
	}

	uint64_t restore_timeout = SEC;
	if (c->restore_behave) {
		assert_int_equal(fake_sysfs_behave(devdir, "%s", c->restore_behave), 0);
		if (has(c->restore_behave, "hang"))
			restore_timeout = HANG_NS;
	}
	if (has(c->restore_behave, "kill")) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			restore(name, SEC);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		/* restore changes the entry only once the device is back */
		assert_true(journal_entry(name, &je));
		assert_int_equal(je.state, c->left.state);
	}
	fake_sysfs_log_clear(sys);
	enum pb_restore_outcome out = restore(name, restore_timeout);
	if (out != c->restore)
		fail_msg("restore: %s, expected %s", pb_restore_outcome_name(out),
			 pb_restore_outcome_name(c->restore));
	check_outcome(c, out, devdir, name, c->meanwhile == OTHER_DRIVER ? "vfio-pci" : drv);
	if (c->meanwhile == OTHER_DRIVER)
		assert_string_equal(bound(devdir), "vfio-pci");

	switch (c->then) {
	case DONE:
		return;
	case DRIVER_FIXED:
		assert_int_equal(fake_sysfs_behave_clear(devdir), 0);
		break;
	case REBOOTED:
		assert_true(journal_entry(name, &je));
		strcpy(je.boot_id, "00000000-0000-0000-0000-000000000000");
		assert_int_equal(pb_journal_write(&je), 0);
		break;
	}
	fake_sysfs_log_clear(sys);
	out = restore(name, SEC);
	if (out != c->restore2)
		fail_msg("second restore: %s, expected %s", pb_restore_outcome_name(out),
			 pb_restore_outcome_name(c->restore2));
	check_outcome(c, out, devdir, name, drv);
	if (has(c->restore_behave, "hang")) {
		/* the first restore's abandoned write ends (EBUSY: bound meanwhile) and its
		 * writer frees itself */
		assert_int_equal(fake_sysfs_release(devdir), 0);
		usleep(20000);
	}
}

int main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0])];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tests[i] = (struct CMUnitTest){
		    .name = cases[i].name,
		    .test_func = kill_and_restore,
		    .setup_func = setup,
		    .teardown_func = teardown,
		    .initial_state = (void *)&cases[i],
		};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

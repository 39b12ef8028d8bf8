// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Every outcome of pb_cycle_once() on the fake kernel (tests/fake/fake_sysfs.h), for both entry
 * paths: what the cycle returns, the journal entry it leaves, and where the device ends up
 * (driver link, driver_override, power/control), with the writes it made in the fake's log.
 */
#include <dirent.h>
#include <errno.h>
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

#include "fake_sysfs.h"
#include "journal_watch.h"
#include "probebench/cycle.h"
#include "probebench/journal.h"
#include "probebench/paths.h"
#include "probebench/run.h"
#include "probebench/util.h"
#include "testbed.h"

#define SEC	    1000000000ull
#define HANG_NS	    (100 * 1000000ull)
#define PCI_NAME    "0000:00:05.0"
#define VIRTIO_NAME "virtio4"

static char root[64], sys[128], state[128], pci[256], virtio[256];

struct fx {
	enum pb_entry_path entry;
	struct pb_target t;
	struct pb_writer *w;
	struct pb_journal_entry je;
	struct pb_cycle_result res;
};

static enum pb_entry_path entry_bind = PB_ENTRY_BIND, entry_probe = PB_ENTRY_PROBE;

static int setup(void **st)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->entry = *(enum pb_entry_path *)*st;
	*st = f;
	strcpy(root, "/tmp/pb-fake-cycle-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(state, sizeof(state), "%s/state", root);
	snprintf(pci, sizeof(pci), "%s/%s", sys, FAKE_RNG_PCI);
	snprintf(virtio, sizeof(virtio), "%s/%s", sys, FAKE_RNG_VIRTIO);
	if (mkdir(sys, 0755) < 0 || testbed_enter(root) < 0)
		return -1;
	pb_set_state_dir(state);
	struct pb_placement any = {.cpu = -1, .node = -1};
	if (fake_sysfs_rng(sys) < 0 || pb_writer_new(&any, NULL, &f->w) < 0)
		return -1;
	return 0;
}

static int teardown(void **st)
{
	struct fx *f = *st;
	pb_writer_free(f->w);
	free(f);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	testbed_leave();
	pb_set_state_dir(NULL);
	return system(cmd) == 0 ? 0 : -1;
}

/* Arms the target at devdir; the log then holds only what the cycle writes. */
static void arm(struct fx *f, const char *devdir)
{
	struct pb_cycle_cfg cfg = {.entry = f->entry, .timeout_ns = SEC};
	assert_int_equal(pb_target_from_syspath(devdir, &f->t), 0);
	assert_int_equal(pb_cycle_arm(f->w, &f->t, &cfg, &f->je), 0);
	fake_sysfs_log_clear(sys);
}

static void cycle(struct fx *f, uint64_t timeout_ns)
{
	struct pb_cycle_cfg cfg = {.entry = f->entry, .timeout_ns = timeout_ns};
	pb_cycle_once(f->w, &f->t, &f->je, &cfg, &f->res);
}

/* The journal entry for name as a fresh process would load it: its state, -1 when absent. */
static int journal_state(const char *name, struct pb_journal_entry *ret)
{
	struct pb_journal_entry *v;
	size_t n, bad;
	int s = -1;
	assert_int_equal(pb_journal_load(&v, &n, &bad), 0);
	assert_int_equal(bad, 0);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].sysname, name)) {
			s = (int)v[i].state;
			if (ret)
				*ret = v[i];
		}
	free(v);
	return s;
}

static const char *bound(const char *devdir)
{
	static char buf[128];
	if (fake_sysfs_bound(devdir, buf, sizeof(buf)) < 0)
		strcpy(buf, "<gone>");
	return buf;
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

static bool log_has(const char *line)
{
	char *log = fake_sysfs_log(sys);
	bool has = strstr(log, line) != NULL;
	if (!has)
		fprintf(stderr, "log lacks '%s':\n%s", line, log);
	free(log);
	return has;
}

static bool log_lacks(const char *text)
{
	char *log = fake_sysfs_log(sys);
	bool lacks = strstr(log, text) == NULL;
	if (!lacks)
		fprintf(stderr, "log has '%s':\n%s", text, log);
	free(log);
	return lacks;
}

static bool log_empty(void)
{
	char *log = fake_sysfs_log(sys);
	bool empty = !log[0];
	if (!empty)
		fprintf(stderr, "log not empty:\n%s", log);
	free(log);
	return empty;
}

/* A write as someone else would make it, between two cycles. */
static int other(const char *rel, const char *value)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", sys, rel);
	return pb_write_str(p, value);
}

/* The device is back as it was, the entry "armed" with the original settings recorded. */
static void assert_back_armed(struct fx *f, const char *devdir, const char *drv)
{
	struct pb_journal_entry je;
	assert_string_equal(bound(devdir), drv);
	assert_int_equal(journal_state(f->t.name, &je), PB_JOURNAL_ARMED);
	assert_int_equal(f->je.state, PB_JOURNAL_ARMED);
	assert_string_equal(je.driver, drv);
	assert_string_equal(je.power_control, "auto");
	assert_string_equal(attr(devdir, "power/control"), "on");
	if (devdir == pci)
		assert_string_equal(attr(devdir, "driver_override"), "(null)");
}

static void ok_and_disarm(void **st)
{
	struct fx *f = *st;
	arm(f, pci);
	assert_string_equal(attr(pci, "power/control"), "on");
	assert_int_equal(journal_state(PCI_NAME, NULL), PB_JOURNAL_ARMED);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_OK);
	assert_true(f->res.verified);
	assert_false(f->res.put_back);
	assert_int_equal(f->res.retries, 0);
	assert_int_equal(f->res.unbind_errno, 0);
	assert_int_equal(f->res.bind_errno, 0);
	assert_true(f->res.writer_cpu >= 0);
	assert_back_armed(f, pci, "virtio-pci");
	const char *expect = f->entry == PB_ENTRY_BIND
				 ? "bus/pci/drivers/virtio-pci/unbind " PCI_NAME " -> ok\n"
				   "bus/pci/drivers/virtio-pci/bind " PCI_NAME " -> ok\n"
				 : "bus/pci/drivers/virtio-pci/unbind " PCI_NAME
				   " -> ok\n" FAKE_RNG_PCI "/driver_override virtio-pci -> ok\n"
				   "bus/pci/drivers_probe " PCI_NAME " -> ok\n" FAKE_RNG_PCI
				   "/driver_override \\n -> ok\n";
	char *log = fake_sysfs_log(sys);
	assert_string_equal(log, expect);
	free(log);
	/* disarm puts power/control back exactly and clears the entry */
	assert_int_equal(pb_cycle_disarm(f->w, &f->t, SEC, &f->je), 0);
	assert_string_equal(attr(pci, "power/control"), "auto");
	assert_int_equal(journal_state(PCI_NAME, NULL), -1);

	/* a virtio device: no driver_override, drivers_probe matches by id alone */
	arm(f, virtio);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_OK);
	assert_back_armed(f, virtio, "virtio_rng");
	assert_true(log_has(f->entry == PB_ENTRY_BIND
				? "bus/virtio/drivers/virtio_rng/bind virtio4 -> ok"
				: "bus/virtio/drivers_probe virtio4 -> ok"));
	assert_int_equal(pb_cycle_disarm(f->w, &f->t, SEC, &f->je), 0);
	assert_int_equal(journal_state(VIRTIO_NAME, NULL), -1);
}

static void unbind_refused(void **st)
{
	struct fx *f = *st;
	arm(f, pci);
	assert_int_equal(fake_sysfs_behave(pci, "unbind EBUSY 1"), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_UNBIND_FAILED);
	assert_int_equal(f->res.unbind_errno, EBUSY);
	assert_true(f->res.verified);
	assert_back_armed(f, pci, "virtio-pci");
	assert_true(log_lacks("/bind ")); /* no bind attempted */
	/* the write succeeds but the driver stays: refused all the same */
	assert_int_equal(fake_sysfs_behave(pci, "unbind ignore 1"), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_UNBIND_FAILED);
	assert_int_equal(f->res.unbind_errno, EBUSY);
	assert_back_armed(f, pci, "virtio-pci");
	/* and the next cycle goes through */
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_OK);
}

static void no_unbind_file(void **st)
{
	struct fx *f = *st;
	/* a driver with suppress_bind_attrs has no bind/unbind files */
	char p[512];
	snprintf(p, sizeof(p), "%s/bus/pci/drivers/virtio-pci/unbind", sys);
	assert_int_equal(unlink(p), 0);
	arm(f, pci);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_UNBIND_FAILED);
	assert_int_equal(f->res.unbind_errno, ENOENT);
	assert_back_armed(f, pci, "virtio-pci");
}

static void retried_then_bound(void **st)
{
	struct fx *f = *st;
	arm(f, pci);
	/* deferred twice: DRV/bind fails EAGAIN, drivers_probe succeeds with the device unbound;
	 * both are retried and the third attempt binds */
	assert_int_equal(fake_sysfs_behave(pci, "probe defer 2"), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_OK);
	assert_int_equal(f->res.retries, 2);
	assert_int_equal(f->res.bind_errno, f->entry == PB_ENTRY_BIND ? EAGAIN : 0);
	assert_true(f->res.verified);
	assert_false(f->res.put_back);
	assert_back_armed(f, pci, "virtio-pci");
	/* a driver returning EAGAIN itself, once */
	assert_int_equal(fake_sysfs_behave(pci, "probe EAGAIN 1"), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_OK);
	assert_int_equal(f->res.retries, 1);
	assert_back_armed(f, pci, "virtio-pci");
}

static void bind_failed_put_back(void **st)
{
	struct fx *f = *st;
	arm(f, pci);
	/* deferred on the first attempt and every retry; the put-back's probe binds */
	assert_int_equal(fake_sysfs_behave(pci, "probe defer %d", PB_CYCLE_RETRIES + 1), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_BIND_FAILED);
	assert_int_equal(f->res.retries, PB_CYCLE_RETRIES);
	assert_int_equal(f->res.bind_errno, f->entry == PB_ENTRY_BIND ? EAGAIN : ENXIO);
	assert_true(f->res.put_back);
	assert_true(f->res.verified);
	assert_back_armed(f, pci, "virtio-pci");
	/* the put-back: driver_override = driver + drivers_probe, override restored */
	assert_true(log_has(FAKE_RNG_PCI "/driver_override virtio-pci -> ok\n"
					 "bus/pci/drivers_probe " PCI_NAME " -> ok\n" FAKE_RNG_PCI
					 "/driver_override \\n -> ok\n"));
}

static void bind_failed_at_once(void **st)
{
	struct fx *f = *st;
	arm(f, pci);
	/* the driver rejects the device once: DRV/bind fails ENODEV, not retried, put back;
	 * drivers_probe swallows the error, so that path retries and binds */
	assert_int_equal(fake_sysfs_behave(pci, "probe ENODEV 1"), 0);
	cycle(f, SEC);
	if (f->entry == PB_ENTRY_BIND) {
		assert_int_equal(f->res.outcome, PB_CYCLE_BIND_FAILED);
		assert_int_equal(f->res.retries, 0);
		assert_int_equal(f->res.bind_errno, ENODEV);
		assert_true(f->res.put_back);
	} else {
		assert_int_equal(f->res.outcome, PB_CYCLE_OK);
		assert_int_equal(f->res.retries, 1);
		assert_int_equal(f->res.bind_errno, 0);
		assert_false(f->res.put_back);
	}
	assert_true(f->res.verified);
	assert_back_armed(f, pci, "virtio-pci");
}

static void driver_override_as_found(void **st)
{
	struct fx *f = *st;
	/* driverctl pinned the device to its driver: the value stays through cycles and the
	 * put-back */
	assert_int_equal(other(FAKE_RNG_PCI "/driver_override", "virtio-pci"), 0);
	arm(f, pci);
	assert_string_equal(f->je.driver_override, "virtio-pci");
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_OK);
	assert_string_equal(attr(pci, "driver_override"), "virtio-pci");
	assert_int_equal(fake_sysfs_behave(pci, "probe EIO"), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_LOST);
	assert_string_equal(attr(pci, "driver_override"), "virtio-pci");
	struct pb_journal_entry je;
	assert_int_equal(journal_state(PCI_NAME, &je), PB_JOURNAL_ARMED);
	assert_string_equal(je.driver_override, "virtio-pci");
}

static void driver_override_stale(void **st)
{
	struct fx *f = *st;
	/* driver_override names another driver (meant for a later rebind): DRV/bind does not
	 * match (ENODEV, at once), the put-back binds through the override it sets; --entry
	 * probe sets its own. Either way the value found is back afterwards. */
	assert_int_equal(other(FAKE_RNG_PCI "/driver_override", "vfio-pci"), 0);
	arm(f, pci);
	cycle(f, SEC);
	if (f->entry == PB_ENTRY_BIND) {
		assert_int_equal(f->res.outcome, PB_CYCLE_BIND_FAILED);
		assert_int_equal(f->res.bind_errno, ENODEV);
		assert_int_equal(f->res.retries, 0);
		assert_true(f->res.put_back);
	} else {
		assert_int_equal(f->res.outcome, PB_CYCLE_OK);
	}
	assert_true(f->res.verified);
	assert_string_equal(bound(pci), "virtio-pci");
	assert_string_equal(attr(pci, "driver_override"), "vfio-pci");
	assert_int_equal(journal_state(PCI_NAME, NULL), PB_JOURNAL_ARMED);
}

static void lost(void **st)
{
	struct fx *f = *st;
	arm(f, pci);
	assert_int_equal(fake_sysfs_behave(pci, "probe EIO"), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_LOST);
	assert_false(f->res.verified);
	assert_true(f->res.put_back);
	assert_int_equal(f->res.bind_errno, f->entry == PB_ENTRY_BIND ? EIO : ENXIO);
	/* left unbound, its driver_override back as found; the entry stays as arm wrote it */
	assert_string_equal(bound(pci), "");
	assert_string_equal(attr(pci, "driver_override"), "(null)");
	struct pb_journal_entry je;
	assert_int_equal(journal_state(PCI_NAME, &je), PB_JOURNAL_ARMED);
	assert_string_equal(je.driver, "virtio-pci");
	assert_string_equal(je.power_control, "auto");
	/* the put-back tried both routes */
	assert_true(log_has("bus/pci/drivers_probe " PCI_NAME " -> ok"));
	assert_true(log_has("bus/pci/drivers/virtio-pci/bind " PCI_NAME " -> EIO"));
}

/* Lets a hung write finish, and waits until the device is bound again and the write's return
 * has reached its writer thread (an abandoned one frees itself then). */
static void release_and_settle(const char *devdir, const char *drv)
{
	assert_int_equal(fake_sysfs_release(devdir), 0);
	for (int i = 0; i < 2000 && strcmp(bound(devdir), drv); i++)
		usleep(1000);
	assert_string_equal(bound(devdir), drv);
	usleep(20000);
}

static void hung_bind(void **st)
{
	struct fx *f = *st;
	arm(f, pci);
	assert_int_equal(fake_sysfs_behave(pci, "probe hang 1"), 0);
	cycle(f, HANG_NS);
	assert_int_equal(f->res.outcome, PB_CYCLE_HUNG);
	assert_true(pb_writer_hung(f->w));
	/* a hung writer takes no further work */
	char p[512];
	snprintf(p, sizeof(p), "%s/bus/pci/drivers_probe", sys);
	assert_int_equal(pb_writer_write(f->w, p, PCI_NAME, SEC, NULL, PB_STEP_SETUP, NULL, NULL),
			 -EDEADLK);
	assert_string_equal(bound(pci), "");
	struct pb_journal_entry je;
	assert_int_equal(journal_state(PCI_NAME, &je), PB_JOURNAL_HUNG);
	char boot[40];
	pb_journal_boot_id(boot, sizeof(boot));
	assert_string_equal(je.boot_id, boot);
	pb_writer_free(f->w); /* abandoned */
	struct pb_placement any = {.cpu = -1, .node = -1};
	assert_int_equal(pb_writer_new(&any, NULL, &f->w), 0);
	release_and_settle(pci, "virtio-pci");
	assert_int_equal(journal_state(PCI_NAME, NULL), PB_JOURNAL_HUNG);
}

static size_t threads(void)
{
	size_t n = 0;
	DIR *d = opendir("/proc/self/task");
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A write that returns after its timeout, before its writer is freed: the writer's thread waits
 * for work again, and freeing the writer joins it (it used to be left waiting for ever). */
static void hung_then_returned(void **st)
{
	struct fx *f = *st;
	arm(f, pci);
	assert_int_equal(fake_sysfs_behave(pci, "probe hang 1"), 0);
	cycle(f, HANG_NS);
	assert_int_equal(f->res.outcome, PB_CYCLE_HUNG);
	release_and_settle(pci, "virtio-pci");
	size_t before = threads();
	pb_writer_free(f->w);
	assert_int_equal(threads(), before - 1);
	struct pb_placement any = {.cpu = -1, .node = -1};
	assert_int_equal(pb_writer_new(&any, NULL, &f->w), 0);
}

static void hung_in_put_back(void **st)
{
	struct fx *f = *st;
	/* the first bind fails (EIO: put back at once through drivers_probe on --entry bind; a
	 * retry on --entry probe, whose drivers_probe swallows it), the next probe hangs */
	arm(f, pci);
	assert_int_equal(fake_sysfs_behave(pci, "probe EIO 1"), 0);
	assert_int_equal(fake_sysfs_behave(pci, "probe hang 1"), 0);
	cycle(f, HANG_NS);
	assert_int_equal(f->res.outcome, PB_CYCLE_HUNG);
	assert_int_equal(f->res.put_back, f->entry == PB_ENTRY_BIND);
	assert_int_equal(journal_state(PCI_NAME, NULL), PB_JOURNAL_HUNG);
	pb_writer_free(f->w);
	struct pb_placement any = {.cpu = -1, .node = -1};
	assert_int_equal(pb_writer_new(&any, NULL, &f->w), 0);
	release_and_settle(pci, "virtio-pci");
}

static void hung_unbind(void **st)
{
	struct fx *f = *st;
	arm(f, pci);
	assert_int_equal(fake_sysfs_behave(pci, "unbind hang 1"), 0);
	cycle(f, HANG_NS);
	assert_int_equal(f->res.outcome, PB_CYCLE_HUNG);
	assert_int_equal(journal_state(PCI_NAME, NULL), PB_JOURNAL_HUNG);
	assert_string_equal(bound(pci), "virtio-pci");
	pb_writer_free(f->w);
	struct pb_placement any = {.cpu = -1, .node = -1};
	assert_int_equal(pb_writer_new(&any, NULL, &f->w), 0);
	release_and_settle(pci, "");
}

static void hung_setup_writes(void **st)
{
	struct fx *f = *st;
	struct pb_placement any = {.cpu = -1, .node = -1};
	/* power/control in arm */
	assert_int_equal(pb_target_from_syspath(pci, &f->t), 0);
	assert_int_equal(fake_sysfs_behave(pci, "power hang 1"), 0);
	struct pb_cycle_cfg cfg = {.entry = f->entry, .timeout_ns = HANG_NS};
	assert_int_equal(pb_cycle_arm(f->w, &f->t, &cfg, &f->je), -ETIMEDOUT);
	assert_int_equal(journal_state(PCI_NAME, NULL), PB_JOURNAL_HUNG);
	pb_writer_free(f->w);
	assert_int_equal(pb_writer_new(&any, NULL, &f->w), 0);
	assert_int_equal(fake_sysfs_release(pci), 0);
	for (int i = 0; i < 2000 && strcmp(attr(pci, "power/control"), "on"); i++)
		usleep(1000);
	usleep(20000);
	assert_int_equal(pb_journal_remove(PCI_NAME), 0);
	/* driver_override before drivers_probe (--entry probe only) */
	if (f->entry != PB_ENTRY_PROBE)
		return;
	arm(f, pci);
	assert_int_equal(fake_sysfs_behave(pci, "driver_override hang 1"), 0);
	cycle(f, HANG_NS);
	assert_int_equal(f->res.outcome, PB_CYCLE_HUNG);
	assert_int_equal(journal_state(PCI_NAME, NULL), PB_JOURNAL_HUNG);
	assert_string_equal(bound(pci), "");
	pb_writer_free(f->w);
	assert_int_equal(pb_writer_new(&any, NULL, &f->w), 0);
	assert_int_equal(fake_sysfs_release(pci), 0);
	for (int i = 0; i < 2000 && strcmp(attr(pci, "driver_override"), "virtio-pci"); i++)
		usleep(1000);
	usleep(20000);
}

static void gone(void **st)
{
	struct fx *f = *st;
	/* unplugged as the unbind reaches it */
	arm(f, virtio);
	assert_int_equal(fake_sysfs_behave(virtio, "unbind vanish"), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_GONE);
	assert_int_equal(journal_state(VIRTIO_NAME, NULL), -1);
	/* unplugged as the bind reaches it, with its child */
	arm(f, pci);
	assert_int_equal(fake_sysfs_behave(pci, "probe vanish"), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_GONE);
	assert_int_equal(journal_state(PCI_NAME, NULL), -1);
	assert_string_equal(bound(pci), "<gone>");
}

static void gone_in_put_back(void **st)
{
	struct fx *f = *st;
	/* the first bind fails, the device is unplugged as the next probe (retry or put-back)
	 * reaches it */
	arm(f, pci);
	assert_int_equal(fake_sysfs_behave(pci, "probe EIO 1"), 0);
	assert_int_equal(fake_sysfs_behave(pci, "probe vanish"), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_GONE);
	assert_int_equal(journal_state(PCI_NAME, NULL), -1);
}

static void gone_before(void **st)
{
	struct fx *f = *st;
	arm(f, virtio);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", virtio);
	assert_int_equal(system(cmd), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_GONE);
	assert_int_equal(journal_state(VIRTIO_NAME, NULL), -1);
	assert_true(log_empty());
}

static void state_changed(void **st)
{
	struct fx *f = *st;
	arm(f, pci);
	/* someone moved it to vfio-pci, as driverctl does */
	assert_int_equal(other(FAKE_RNG_PCI "/driver_override", "vfio-pci"), 0);
	assert_int_equal(other("bus/pci/drivers/virtio-pci/unbind", PCI_NAME), 0);
	assert_int_equal(other("bus/pci/drivers_probe", PCI_NAME), 0);
	fake_sysfs_log_clear(sys);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_STATE_CHANGED);
	assert_false(f->res.verified);
	assert_true(log_empty()); /* not touched */
	assert_string_equal(bound(pci), "vfio-pci");
	assert_int_equal(journal_state(PCI_NAME, NULL), PB_JOURNAL_ARMED);
	/* or left it unbound */
	assert_int_equal(other("bus/pci/drivers/vfio-pci/unbind", PCI_NAME), 0);
	fake_sysfs_log_clear(sys);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_STATE_CHANGED);
	assert_true(log_empty());
	assert_string_equal(bound(pci), "");
	assert_int_equal(journal_state(PCI_NAME, NULL), PB_JOURNAL_ARMED);
}

static void no_journal_no_unbind(void **st)
{
	struct fx *f = *st;
	/* the state directory is a file: the entry cannot be written, so arm fails having changed
	 * nothing, and the run never reaches a cycle */
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && touch '%s'", state, state);
	assert_int_equal(system(cmd), 0);
	struct pb_cycle_cfg cfg = {.entry = f->entry, .timeout_ns = SEC};
	assert_int_equal(pb_target_from_syspath(pci, &f->t), 0);
	assert_true(pb_cycle_arm(f->w, &f->t, &cfg, &f->je) < 0);
	assert_true(log_empty());
	assert_string_equal(attr(pci, "power/control"), "auto");
	assert_string_equal(bound(pci), "virtio-pci");
}

/*
 * The journal once per device per run: arm writes the entry (durably, before the first unbind),
 * no cycle rewrites it whatever its outcome (ok, unbind refused, retried, put back), disarm
 * removes it. Counted as the kernel sees the state directory change.
 */
static void journal_once_per_run(void **st)
{
	struct fx *f = *st;
	struct journal_watch jw;
	assert_int_equal(mkdir(state, 0700), 0);
	assert_int_equal(journal_watch_start(&jw, state), 0);
	arm(f, pci);
	journal_watch_poll(&jw);
	assert_int_equal(jw.writes, 1);
	assert_int_equal(journal_state(PCI_NAME, NULL), PB_JOURNAL_ARMED);
	for (int i = 0; i < 5; i++) {
		cycle(f, SEC);
		assert_int_equal(f->res.outcome, PB_CYCLE_OK);
	}
	assert_int_equal(fake_sysfs_behave(pci, "unbind EBUSY 1"), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_UNBIND_FAILED);
	assert_int_equal(fake_sysfs_behave(pci, "probe defer 1"), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_OK);
	assert_int_equal(f->res.retries, 1);
	assert_int_equal(fake_sysfs_behave(pci, "probe defer %d", PB_CYCLE_RETRIES + 1), 0);
	cycle(f, SEC);
	assert_int_equal(f->res.outcome, PB_CYCLE_BIND_FAILED);
	assert_true(f->res.put_back);
	journal_watch_poll(&jw);
	assert_int_equal(jw.writes, 1);
	assert_int_equal(jw.removes, 0);
	assert_back_armed(f, pci, "virtio-pci");
	assert_int_equal(pb_cycle_disarm(f->w, &f->t, SEC, &f->je), 0);
	journal_watch_poll(&jw);
	assert_int_equal(jw.writes, 1);
	assert_int_equal(jw.removes, 1);
	assert_int_equal(journal_state(PCI_NAME, NULL), -1);
	journal_watch_stop(&jw);
}

/* --entry module: arm names the module and the options of every load in its one write, so the
 * cycles that unload it need not write again. */
static void module_in_armed_entry(void **st)
{
	struct fx *f = *st;
	struct pb_cycle_cfg cfg = {
	    .entry = PB_ENTRY_MODULE, .timeout_ns = SEC, .module_options = "async_probe=1"};
	assert_int_equal(pb_target_from_syspath(virtio, &f->t), 0);
	snprintf(f->t.module, sizeof(f->t.module), "virtio_rng");
	assert_int_equal(pb_cycle_arm(f->w, &f->t, &cfg, &f->je), 0);
	struct pb_journal_entry je;
	assert_int_equal(journal_state(VIRTIO_NAME, &je), PB_JOURNAL_ARMED);
	assert_string_equal(je.module, "virtio_rng");
	assert_string_equal(je.module_options, "async_probe=1");
	assert_string_equal(je.driver, "virtio_rng");
	assert_int_equal(pb_cycle_disarm(f->w, &f->t, SEC, &f->je), 0);
	/* the other entry paths name no module */
	cfg.entry = f->entry;
	assert_int_equal(pb_cycle_arm(f->w, &f->t, &cfg, &f->je), 0);
	assert_int_equal(journal_state(VIRTIO_NAME, &je), PB_JOURNAL_ARMED);
	assert_string_equal(je.module, "");
	assert_string_equal(je.module_options, "");
}

#define BOTH(fn)                                                                                   \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &entry_bind),                \
	    cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &entry_probe)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(ok_and_disarm),
	    BOTH(unbind_refused),
	    BOTH(retried_then_bound),
	    BOTH(bind_failed_put_back),
	    BOTH(bind_failed_at_once),
	    BOTH(lost),
	    BOTH(hung_bind),
	    BOTH(hung_then_returned),
	    BOTH(hung_unbind),
	    BOTH(hung_setup_writes),
	    BOTH(gone),
	    BOTH(gone_before),
	    BOTH(state_changed),
	    BOTH(no_journal_no_unbind),
	    BOTH(journal_once_per_run),
	    BOTH(module_in_armed_entry),
	    BOTH(no_unbind_file),
	    BOTH(driver_override_as_found),
	    BOTH(driver_override_stale),
	    BOTH(gone_in_put_back),
	    BOTH(hung_in_put_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

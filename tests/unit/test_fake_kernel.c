// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fake kernel itself (tests/fake/fake_sysfs.h): the driver core's answers to bind, unbind,
 * drivers_probe, driver_override and power/control writes, as Linux 6.1 gives them, and the
 * behaviours a test sets. The cycle tests trust these.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_sysfs.h"
#include "probebench/util.h"
#include "testbed.h"

static char root[64], sys[128], pci[256], virtio[256];

static int setup(void **st)
{
	(void)st;
	strcpy(root, "/tmp/pb-fake-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(pci, sizeof(pci), "%s/%s", sys, FAKE_RNG_PCI);
	snprintf(virtio, sizeof(virtio), "%s/%s", sys, FAKE_RNG_VIRTIO);
	if (mkdir(sys, 0755) < 0 || testbed_enter(root) < 0)
		return -1;
	return fake_sysfs_rng(sys) == 0 ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	testbed_leave();
	return system(cmd) == 0 ? 0 : -1;
}

/* A write as the tool makes it (pb_write_str: one write(2)), to a path under the fixture. */
static int wr(const char *rel, const char *value)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", sys, rel);
	return pb_write_str(p, value);
}

static const char *rd(const char *rel)
{
	static char buf[256];
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", sys, rel);
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

static bool is_link(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", sys, rel);
	return lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
}

#define BIND(drv)   "bus/pci/drivers/" drv "/bind"
#define UNBIND(drv) "bus/pci/drivers/" drv "/unbind"
#define DEV	    "0000:00:05.0"

static void bind_and_unbind(void **st)
{
	(void)st;
	assert_string_equal(bound(pci), "virtio-pci");
	assert_true(is_link("bus/pci/drivers/virtio-pci/" DEV));
	/* unbind_store: bound to another driver, or no such device: ENODEV */
	assert_int_equal(wr(UNBIND("vfio-pci"), DEV), -ENODEV);
	assert_int_equal(wr(UNBIND("virtio-pci"), "0000:00:09.0"), -ENODEV);
	assert_int_equal(wr(UNBIND("virtio-pci"), DEV), 0);
	assert_string_equal(bound(pci), "");
	assert_false(is_link("bus/pci/drivers/virtio-pci/" DEV));
	assert_int_equal(wr(UNBIND("virtio-pci"), DEV), -ENODEV);
	/* bind_store: the name as sysfs_streq() compares it, a trailing newline is fine */
	assert_int_equal(wr(BIND("virtio-pci"), DEV "\n"), 0);
	char p[512], target[256];
	snprintf(p, sizeof(p), "%s/driver", pci);
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "../../../bus/pci/drivers/virtio-pci");
	snprintf(p, sizeof(p), "%s/bus/pci/drivers/virtio-pci/%s", sys, DEV);
	n = readlink(p, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "../../../../" FAKE_RNG_PCI);
	/* already bound: EBUSY from __driver_probe_device(); an unknown device or a driver that
	 * does not match it (vfio-pci has no id for it, and no driver_override names it): ENODEV,
	 * checked first */
	assert_int_equal(wr(BIND("virtio-pci"), DEV), -EBUSY);
	assert_int_equal(wr(BIND("vfio-pci"), DEV), -ENODEV);
	assert_int_equal(fake_sysfs_behave(pci, "match vfio-pci"), 0); /* as new_id would */
	assert_int_equal(wr(BIND("vfio-pci"), DEV), -EBUSY);
	assert_int_equal(wr(BIND("virtio-pci"), "0000:00:09.0"), -ENODEV);
	assert_int_equal(wr("bus/virtio/drivers/virtio_rng/unbind", "virtio4"), 0);
	assert_int_equal(fake_sysfs_driver(sys, "virtio", "virtio_net"), 0);
	assert_int_equal(wr("bus/virtio/drivers/virtio_net/bind", "virtio4"), -ENODEV);
	assert_int_equal(wr("bus/virtio/drivers/virtio_rng/bind", "virtio4"), 0);
}

static void driver_override_decides_the_match(void **st)
{
	(void)st;
	const char *ovr = FAKE_RNG_PCI "/driver_override";
	assert_string_equal(rd(ovr), "(null)");
	assert_int_equal(wr(UNBIND("virtio-pci"), DEV), 0);
	assert_int_equal(wr(ovr, "vfio-pci"), 0);
	assert_string_equal(rd(ovr), "vfio-pci");
	/* driver_override names another driver: virtio-pci no longer matches */
	assert_int_equal(wr(BIND("virtio-pci"), DEV), -ENODEV);
	/* drivers_probe binds the overriding driver */
	assert_int_equal(wr("bus/pci/drivers_probe", DEV), 0);
	assert_string_equal(bound(pci), "vfio-pci");
	/* "\n" clears; a value is kept up to its first newline; a page is too long */
	assert_int_equal(wr(ovr, "\n"), 0);
	assert_string_equal(rd(ovr), "(null)");
	assert_int_equal(wr(ovr, "a\nb"), 0);
	assert_string_equal(rd(ovr), "a");
	char big[4200];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(wr(ovr, big), -EINVAL);
	assert_string_equal(rd(ovr), "a");
	/* an override matches even a driver the id table does not name */
	assert_int_equal(fake_sysfs_driver(sys, "pci", "pci-stub"), 0);
	assert_int_equal(wr(UNBIND("vfio-pci"), DEV), 0);
	assert_int_equal(wr(ovr, "pci-stub"), 0);
	assert_int_equal(wr("bus/pci/drivers_probe", DEV), 0);
	assert_string_equal(bound(pci), "pci-stub");
}

static void drivers_probe_matches_in_order(void **st)
{
	(void)st;
	/* bound: nothing happens, the write succeeds (bus_rescan_devices_helper skips it) */
	assert_int_equal(wr("bus/pci/drivers_probe", DEV), 0);
	assert_string_equal(bound(pci), "virtio-pci");
	assert_int_equal(wr("bus/pci/drivers_probe", "0000:00:09.0"), -ENODEV);
	/* no override: the first matching driver by name (vfio-pci, given an id, before
	 * virtio-pci) */
	assert_int_equal(fake_sysfs_behave(pci, "match vfio-pci"), 0);
	assert_int_equal(wr(UNBIND("virtio-pci"), DEV), 0);
	assert_int_equal(wr("bus/pci/drivers_probe", DEV), 0);
	assert_string_equal(bound(pci), "vfio-pci");
	/* a probe error is swallowed: the next driver gets its chance */
	assert_int_equal(wr(UNBIND("vfio-pci"), DEV), 0);
	assert_int_equal(fake_sysfs_behave(pci, "probe EIO 1"), 0);
	assert_int_equal(wr("bus/pci/drivers_probe", DEV), 0);
	assert_string_equal(bound(pci), "virtio-pci");
	/* every probe fails or defers: the write succeeds, the device stays unbound */
	assert_int_equal(wr(UNBIND("virtio-pci"), DEV), 0);
	assert_int_equal(fake_sysfs_behave(pci, "probe defer 2"), 0);
	assert_int_equal(wr("bus/pci/drivers_probe", DEV), 0);
	assert_string_equal(bound(pci), "");
	assert_int_equal(fake_sysfs_behave(pci, "probe ENXIO"), 0);
	assert_int_equal(wr("bus/pci/drivers_probe", DEV), 0);
	assert_string_equal(bound(pci), "");
}

static void probe_errors_reach_bind(void **st)
{
	(void)st;
	assert_int_equal(wr(UNBIND("virtio-pci"), DEV), 0);
	/* -EPROBE_DEFER becomes EAGAIN (device_driver_attach()), other errors come back as they
	 * are; counted lines are spent in order */
	assert_int_equal(fake_sysfs_behave(pci, "probe defer 1"), 0);
	assert_int_equal(fake_sysfs_behave(pci, "probe ENODEV 1"), 0);
	assert_int_equal(fake_sysfs_behave(pci, "probe EAGAIN 1"), 0);
	assert_int_equal(wr(BIND("virtio-pci"), DEV), -EAGAIN);
	assert_int_equal(wr(BIND("virtio-pci"), DEV), -ENODEV);
	assert_int_equal(wr(BIND("virtio-pci"), DEV), -EAGAIN);
	assert_string_equal(bound(pci), "");
	assert_int_equal(wr(BIND("virtio-pci"), DEV), 0);
	assert_string_equal(bound(pci), "virtio-pci");
	char p[512], buf[256];
	snprintf(p, sizeof(p), "%s/fake_behaviour", pci);
	assert_true(pb_read_str(p, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "probe defer 0\nprobe ENODEV 0\nprobe EAGAIN 0"));
}

static void unbind_behaviours(void **st)
{
	(void)st;
	assert_int_equal(fake_sysfs_behave(pci, "unbind EBUSY 1"), 0);
	assert_int_equal(fake_sysfs_behave(pci, "unbind ignore 1"), 0);
	assert_int_equal(wr(UNBIND("virtio-pci"), DEV), -EBUSY);
	assert_int_equal(wr(UNBIND("virtio-pci"), DEV), 0);
	assert_string_equal(bound(pci), "virtio-pci");
	assert_int_equal(wr(UNBIND("virtio-pci"), DEV), 0);
	assert_string_equal(bound(pci), "");
}

static void power_control(void **st)
{
	(void)st;
	const char *pc = FAKE_RNG_PCI "/power/control";
	assert_int_equal(wr(pc, "on"), 0);
	assert_string_equal(rd(pc), "on"); /* replaced, not overwritten in place */
	assert_int_equal(wr(pc, "auto\n"), 0);
	assert_string_equal(rd(pc), "auto");
	assert_int_equal(wr(pc, "off"), -EINVAL);
	assert_string_equal(rd(pc), "auto");
	assert_int_equal(fake_sysfs_behave(pci, "power EIO 1"), 0);
	assert_int_equal(wr(pc, "on"), -EIO);
	assert_string_equal(rd(pc), "auto");
}

static void vanish_unplugs(void **st)
{
	(void)st;
	assert_int_equal(fake_sysfs_behave(pci, "unbind vanish"), 0);
	assert_int_equal(wr(UNBIND("virtio-pci"), DEV), -ENODEV);
	assert_string_equal(bound(pci), "<gone>");
	assert_string_equal(bound(virtio), "<gone>"); /* its child went with it */
	assert_int_equal(access(pci, F_OK), -1);
	assert_false(is_link("bus/pci/devices/" DEV));
	assert_false(is_link("bus/pci/drivers/virtio-pci/" DEV));
	assert_false(is_link("bus/virtio/devices/virtio4"));
	assert_false(is_link("bus/virtio/drivers/virtio_rng/virtio4"));
	assert_int_equal(wr(BIND("virtio-pci"), DEV), -ENODEV);
}

struct bg_write {
	const char *rel, *value;
	int result;
};

static void *bg_main(void *arg)
{
	struct bg_write *b = arg;
	b->result = wr(b->rel, b->value);
	return NULL;
}

static void hang_until_released(void **st)
{
	(void)st;
	assert_int_equal(wr(UNBIND("virtio-pci"), DEV), 0);
	assert_int_equal(fake_sysfs_behave(pci, "probe hang 1"), 0);
	struct bg_write b = {BIND("virtio-pci"), DEV, 1};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, bg_main, &b), 0);
	usleep(50000);
	assert_int_equal(__atomic_load_n(&b.result, __ATOMIC_SEQ_CST), 1); /* still in the write */
	/* other stores go on meanwhile */
	assert_int_equal(wr(FAKE_RNG_PCI "/power/control", "on"), 0);
	assert_int_equal(fake_sysfs_release(pci), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(b.result, 0);
	assert_string_equal(bound(pci), "virtio-pci");
	/* a hung write ends with ENODEV when its tree goes */
	assert_int_equal(fake_sysfs_behave(virtio, "unbind hang"), 0);
	struct bg_write c = {"bus/virtio/drivers/virtio_rng/unbind", "virtio4", 1};
	assert_int_equal(pthread_create(&th, NULL, bg_main, &c), 0);
	usleep(20000);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", virtio);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(c.result, -ENODEV);
}

/* Runs one write in a child; returns its wait status. */
static int in_child(const char *rel, const char *value)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		wr(rel, value);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void kill_before_and_after(void **st)
{
	(void)st;
	assert_int_equal(fake_sysfs_behave(pci, "unbind kill-before 1"), 0);
	int s = in_child(UNBIND("virtio-pci"), DEV);
	assert_true(WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL);
	assert_string_equal(bound(pci), "virtio-pci");
	assert_int_equal(fake_sysfs_behave(pci, "unbind kill-after 1"), 0);
	s = in_child(UNBIND("virtio-pci"), DEV);
	assert_true(WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL);
	assert_string_equal(bound(pci), "");
	/* spent: the next write behaves */
	s = in_child(BIND("virtio-pci"), DEV);
	assert_true(WIFEXITED(s));
	assert_string_equal(bound(pci), "virtio-pci");
}

static void log_and_pass_through(void **st)
{
	(void)st;
	fake_sysfs_log_clear(sys);
	assert_int_equal(wr(UNBIND("virtio-pci"), DEV), 0);
	assert_int_equal(wr(BIND("vfio-pci"), "0000:00:09.0"), -ENODEV);
	assert_int_equal(wr(FAKE_RNG_PCI "/driver_override", "\n"), 0);
	/* any other file under the root is a plain file */
	char p[512];
	snprintf(p, sizeof(p), "%s/numa_node", pci);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("0\n", f);
	fclose(f);
	assert_int_equal(wr(FAKE_RNG_PCI "/numa_node", "1\n"), 0);
	assert_string_equal(rd(FAKE_RNG_PCI "/numa_node"), "1");
	char *log = fake_sysfs_log(sys);
	assert_string_equal(log,
			    "bus/pci/drivers/virtio-pci/unbind " DEV " -> ok\n"
			    "bus/pci/drivers/vfio-pci/bind 0000:00:09.0 -> ENODEV\n" FAKE_RNG_PCI
			    "/driver_override \\n -> ok\n");
	free(log);
}

static void refuses_the_real_sysfs(void **st)
{
	(void)st;
	testbed_leave(); /* /sys is the real one now */
	/* A directory fd: even without the fake, write(2) on it changes nothing (EBADF). */
	int fd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);
		if (write(fd, "x", 1) < 0)
			_exit(1);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(fd);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(bind_and_unbind, setup, teardown),
	    cmocka_unit_test_setup_teardown(driver_override_decides_the_match, setup, teardown),
	    cmocka_unit_test_setup_teardown(drivers_probe_matches_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(probe_errors_reach_bind, setup, teardown),
	    cmocka_unit_test_setup_teardown(unbind_behaviours, setup, teardown),
	    cmocka_unit_test_setup_teardown(power_control, setup, teardown),
	    cmocka_unit_test_setup_teardown(vanish_unplugs, setup, teardown),
	    cmocka_unit_test_setup_teardown(hang_until_released, setup, teardown),
	    cmocka_unit_test_setup_teardown(kill_before_and_after, setup, teardown),
	    cmocka_unit_test_setup_teardown(log_and_pass_through, setup, teardown),
	    cmocka_unit_test_setup_teardown(refuses_the_real_sysfs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A driver's module as sysfs shows it (module.h), read from a fixture tree at /sys: loadable,
 * built in (no module link, or a module directory without initstate), in use, needed by other
 * modules, and every device of its drivers; and the refusal each state gives --entry module.
 */
#include <errno.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "probebench/module.h"
#include "probebench/paths.h"
#include "probebench/util.h"
#include "testbed.h"

static char dir[64];

static void mkfile(const char *rel, const char *text)
{
	char p[512], cmd[1024];
	snprintf(p, sizeof(p), "%s/sys/%s", dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mklink(const char *rel, const char *target)
{
	char p[512], cmd[1024];
	snprintf(p, sizeof(p), "%s/sys/%s", dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(symlink(target, p), 0);
}

/* A device bound to bus/BUS/drivers/DRV. */
static void device(const char *bus, const char *drv, const char *devrel)
{
	char rel[256], target[256];
	snprintf(rel, sizeof(rel), "%s/uevent", devrel);
	mkfile(rel, "");
	const char *name = strrchr(devrel, '/') + 1;
	snprintf(rel, sizeof(rel), "bus/%s/drivers/%s/%s", bus, drv, name);
	snprintf(target, sizeof(target), "../../../../%s", devrel);
	mklink(rel, target);
	snprintf(rel, sizeof(rel), "%s/driver", devrel);
	char up[256] = "";
	for (const char *s = devrel; *s; s++)
		if (*s == '/')
			strcat(up, "../");
	snprintf(target, sizeof(target), "../%sbus/%s/drivers/%s", up, bus, drv);
	mklink(rel, target);
}

/* A loadable module M with refcnt, holders, and its driver BUS:DRV. */
static void module(const char *m, const char *refcnt, const char *holder, const char *bus,
		   const char *drv)
{
	char rel[256], target[256];
	snprintf(rel, sizeof(rel), "module/%s/initstate", m);
	mkfile(rel, "live\n");
	if (refcnt) {
		snprintf(rel, sizeof(rel), "module/%s/refcnt", m);
		mkfile(rel, refcnt);
	}
	snprintf(rel, sizeof(rel), "module/%s/holders/.keep", m);
	mkfile(rel, "");
	if (holder) {
		snprintf(rel, sizeof(rel), "module/%s/holders/%s", m, holder);
		snprintf(target, sizeof(target), "../../%s", holder);
		mklink(rel, target);
	}
	snprintf(rel, sizeof(rel), "bus/%s/drivers/%s/module", bus, drv);
	snprintf(target, sizeof(target), "../../../../module/%s", m);
	mklink(rel, target);
	snprintf(rel, sizeof(rel), "module/%s/drivers/%s:%s", m, bus, drv);
	snprintf(target, sizeof(target), "../../../bus/%s/drivers/%s", bus, drv);
	mklink(rel, target);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/pb-module-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* nvme: loadable, unused, two functions. */
	module("nvme", "0\n", NULL, "pci", "nvme");
	device("pci", "nvme", "devices/pci0000:80/0000:83:00.0");
	device("pci", "nvme", "devices/pci0000:20/0000:22:00.0");
	/* e1000e: in use. virtio_ring-like "core": needed by "user". */
	module("e1000e", "2\n", NULL, "pci", "e1000e");
	device("pci", "e1000e", "devices/pci0000:80/0000:81:00.0");
	module("core", "0\n", "user", "virtio", "core_drv");
	mkfile("module/user/initstate", "live\n");
	/* pcieport: built in, no module link; serial: a module directory without initstate. */
	device("pci", "pcieport", "devices/pci0000:80/0000:80:01.0");
	mkfile("module/serial/parameters/x", "1\n");
	mklink("bus/platform/drivers/serial/module", "../../../../module/serial");
	/* nomod: loadable but its kernel cannot unload modules (no refcnt). */
	module("nomod", NULL, NULL, "platform", "nomod");
	return testbed_enter(dir);
}

static int teardown(void **state)
{
	(void)state;
	testbed_leave();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void loadable_with_its_devices(void **state)
{
	(void)state;
	struct pb_module_state s;
	char why[256] = "";
	assert_int_equal(pb_module_state_read("pci", "nvme", &s), 0);
	assert_string_equal(s.name, "nvme");
	assert_false(s.builtin);
	assert_int_equal(s.refcnt, 0);
	assert_string_equal(s.holders, "");
	assert_int_equal(s.n_devices, 2);
	bool a = false, b = false;
	for (size_t i = 0; i < s.n_devices; i++) {
		assert_string_equal(s.devices[i].bus, "pci");
		assert_string_equal(s.devices[i].driver, "nvme");
		a |= !strcmp(s.devices[i].name, "0000:83:00.0") &&
		     strstr(s.devices[i].syspath, "/devices/pci0000:80/0000:83:00.0");
		b |= !strcmp(s.devices[i].name, "0000:22:00.0") &&
		     strstr(s.devices[i].syspath, "/devices/pci0000:20/0000:22:00.0");
	}
	assert_true(a && b);
	/* loadable: refused only when this test itself may not unload modules */
	assert_int_equal(pb_module_refusal(&s, "nvme", why, sizeof(why)), !pb_module_capable());
	assert_true(pb_module_loaded("nvme"));
	pb_module_state_clear(&s);
}

static void refusals_name_the_module_and_the_way_out(void **state)
{
	(void)state;
	struct {
		const char *bus, *drv, *module, *words;
	} cases[] = {
	    {"pci", "e1000e", "e1000e", "module e1000e is in use (reference count 2)"},
	    {"virtio", "core_drv", "core", "module core is needed by the loaded module(s) user"},
	    {"pci", "pcieport", "pcieport", "driver pcieport is built into the kernel"},
	    {"platform", "serial", "serial",
	     "driver serial is built into the kernel (module serial"},
	    {"platform", "nomod", "nomod", "module nomod has no reference count"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pb_module_state s;
		char why[256] = "";
		assert_int_equal(pb_module_state_read(cases[i].bus, cases[i].drv, &s), 0);
		assert_string_equal(s.name, cases[i].module);
		assert_int_equal(pb_module_refusal(&s, cases[i].drv, why, sizeof(why)), 1);
		if (!strstr(why, cases[i].words) || !strstr(why, "--entry bind or --entry probe"))
			fail_msg("case %zu: '%s'", i, why);
		/* A built-in driver without a module link: its own devices. */
		if (!strcmp(cases[i].drv, "pcieport")) {
			assert_int_equal(s.n_devices, 1);
			assert_string_equal(s.devices[0].name, "0000:80:01.0");
		}
		pb_module_state_clear(&s);
	}
	assert_false(pb_module_loaded("serial"));
	assert_false(pb_module_loaded("pcieport"));
}

/* Without CAP_SYS_MODULE (a unit with ProtectKernelModules=yes) the unload is refused before
 * anything is touched, naming the capability; a child process drops it for real. */
static void refused_without_the_capability(void **state)
{
	(void)state;
	if (!pb_module_capable())
		skip(); /* this test runs without CAP_SYS_MODULE already: nothing to drop */
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
		struct pb_module_state s;
		char why[512] = "";
		if (syscall(SYS_capget, &h, d) < 0)
			_exit(2);
		d[CAP_TO_INDEX(CAP_SYS_MODULE)].effective &= ~CAP_TO_MASK(CAP_SYS_MODULE);
		if (syscall(SYS_capset, &h, d) < 0 || pb_module_capable())
			_exit(3);
		if (pb_module_state_read("pci", "nvme", &s) < 0)
			_exit(4);
		int r = pb_module_refusal(&s, "nvme", why, sizeof(why));
		pb_module_state_clear(&s);
		if (write(fds[1], why, strlen(why)) < 0)
			_exit(5);
		_exit(r == 1 ? 0 : 6);
	}
	close(fds[1]);
	char why[512] = "";
	ssize_t n = read(fds[0], why, sizeof(why) - 1);
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("child: status %d, '%s'", status, n > 0 ? why : "");
	assert_non_null(strstr(why, "module nvme cannot be unloaded by this process"));
	assert_non_null(strstr(why, "CAP_SYS_MODULE"));
	assert_non_null(strstr(why, "--entry bind or --entry probe"));
}

static void missing_driver(void **state)
{
	(void)state;
	struct pb_module_state s;
	assert_int_equal(pb_module_state_read("pci", "nosuch", &s), -ENOENT);
	struct pb_module_device *v = NULL;
	size_t n = 7;
	assert_int_equal(pb_module_devices("nosuch", &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
}

/* Without a uevent socket the wait trusts the driver links: at once when all are there, -ETIME
 * at the deadline when one names another driver. */
static void wait_on_links(void **state)
{
	(void)state;
	struct pb_module_state s;
	assert_int_equal(pb_module_state_read("pci", "nvme", &s), 0);
	assert_int_equal(pb_module_wait_bound(s.devices, s.n_devices, -1, pb_now_ns()), 0);
	snprintf(s.devices[1].driver, sizeof(s.devices[1].driver), "%s", "e1000e");
	uint64_t t0 = pb_now_ns();
	assert_int_equal(
	    pb_module_wait_bound(s.devices, s.n_devices, -1, pb_now_ns() + 20000000ull), -ETIME);
	assert_true(pb_now_ns() - t0 >= 20000000ull);
	pb_module_state_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(loadable_with_its_devices),
	    cmocka_unit_test(refusals_name_the_module_and_the_way_out),
	    cmocka_unit_test(refused_without_the_capability),
	    cmocka_unit_test(missing_driver),
	    cmocka_unit_test(wait_on_links),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * placement's scan on a fixture: the inventory's sysfs tree (umockdev) with device numbers, a
 * resource file and the hw_random device added, a dev root whose nodes are links to /dev/null and
 * /dev/zero (so that their device numbers are real), and a proc root of made-up processes whose fd
 * links point at those nodes and whose maps name their inodes. No root, no real process.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "probebench/inventory.h"
#include "probebench/placement.h"
#include "testbed.h"

static char fixture[PATH_MAX];

#define NVME "devices/pci0000:80/0000:80:00.0/0000:81:00.0"

static void put(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX + 256];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void sh(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* A made-up process: fd links (NAME=TARGET ...), maps, numa_maps, status (NULL: it exited). */
static void process(const char *proc, int pid, const char *fds, const char *maps,
		    const char *numa_maps, const char *cpus)
{
	sh("mkdir -p '%s/%d/fd'", proc, pid);
	char buf[PATH_MAX], rel[64];
	snprintf(buf, sizeof(buf), "%s", fds);
	for (char *save, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(t, '=');
		*eq = '\0';
		sh("ln -s '%s' '%s/%d/fd/%s'", eq + 1, proc, pid, t);
	}
	if (!cpus)
		return;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%d", proc, pid);
	snprintf(rel, sizeof(rel), "comm");
	put(dir, rel, pid == 100 ? "reader\n" : "mapper\n");
	put(dir, "maps", maps);
	put(dir, "numa_maps", numa_maps);
	char status[256];
	snprintf(status, sizeof(status),
		 "Name:\tx\nCpus_allowed:\t3\nCpus_allowed_list:\t%s\nMems_allowed_list:\t0-1\n",
		 cpus);
	put(dir, "status", status);
}

static const struct pb_placement_consumer *consumer_of(const struct pb_placement_device *d, int pid)
{
	for (size_t i = 0; i < d->n_consumers; i++)
		if (d->consumers[i].pid == pid)
			return &d->consumers[i];
	return NULL;
}

static const struct pb_placement_device *device_of(const struct pb_placement_report *r,
						   const char *sysname)
{
	for (size_t i = 0; i < r->n_devices; i++)
		if (!strcmp(r->devices[i].dev->sysname, sysname))
			return &r->devices[i];
	fail_msg("%s is not in the report", sysname);
	return NULL;
}

static void scan(void **state)
{
	(void)state;
	char tmp[] = "/tmp/pb-placement-XXXXXX", path[PATH_MAX + 64];
	assert_non_null(mkdtemp(tmp));
	sh("cp -a '%s/sys' '%s/sys'", fixture, tmp);
	snprintf(path, sizeof(path), "%s/sys/" NVME, tmp);
	put(path, "nvme/nvme0/dev", "1:3\n");	/* the controller's node: /dev/null's number */
	put(path, "resource0", "BAR 0\n");	/* what a process would mmap */
	put(path, "resource", "0x0 0x0 0x0\n"); /* the table, not a BAR: not a file of it */
	sh("mkdir -p '%s/sys/class/misc/hw_random' '%s/dev' '%s/proc/sys'", tmp, tmp, tmp);
	snprintf(path, sizeof(path), "%s/sys/class/misc/hw_random", tmp);
	put(path, "rng_current", "virtio_rng.0\n");
	put(path, "dev", "1:5\n"); /* /dev/zero's number */
	put(path, "uevent", "MAJOR=1\nMINOR=5\nDEVNAME=hwrng\n");
	sh("ln -s /dev/null '%s/dev/nvme0' && ln -s /dev/zero '%s/dev/hwrng'", tmp, tmp);
	/* the function's IOMMU group 7 has a legacy VFIO node: /dev/full's number */
	sh("ln -s ../../../../kernel/iommu_groups/7 '%s/sys/" NVME "/iommu_group' && "
	   "mkdir -p '%s/sys/kernel/iommu_groups/7' '%s/sys/class/vfio/7' '%s/dev/vfio' && echo "
	   "1:7 >'%s/sys/class/vfio/7/dev' && "
	   "ln -s /dev/full '%s/dev/vfio/7'",
	   tmp, tmp, tmp, tmp, tmp, tmp);

	/* The numbers the kernel would print in maps for the node and the resource file. */
	struct stat node, res;
	snprintf(path, sizeof(path), "%s/dev/nvme0", tmp);
	assert_int_equal(stat(path, &node), 0);
	snprintf(path, sizeof(path), "%s/sys/" NVME "/resource0", tmp);
	assert_int_equal(stat(path, &res), 0);
	char proc[PATH_MAX], maps[1024];
	snprintf(proc, sizeof(proc), "%s/proc", tmp);

	/* 100 holds the controller's node open and maps it */
	snprintf(maps, sizeof(maps),
		 "7f0000000000-7f0000002000 rw-s 00000000 %02x:%02x %llu /dev/nvme0\n"
		 "7f1000000000-7f1000400000 rw-p 00000000 00:00 0 \n",
		 major(node.st_dev), minor(node.st_dev), (unsigned long long)node.st_ino);
	process(proc, 100, "0=/dev/tty 3=/dev/null", maps,
		"7f0000000000 default file=/dev/nvme0 mapped=2 N1=2 kernelpagesize_kB=4\n"
		"7f1000000000 bind:0 anon=1024 dirty=1024 N0=1000 N1=24 kernelpagesize_kB=4\n"
		"7f1000400000 default\n",
		"0-1");
	/* 200 maps the BAR through sysfs (a PFN mapping: no pages) and reads the hw rng */
	snprintf(maps, sizeof(maps),
		 "7f2000000000-7f2000001000 rw-s 00000000 %02x:%02x %llu %s/sys/" NVME
		 "/resource0\n",
		 major(res.st_dev), minor(res.st_dev), (unsigned long long)res.st_ino, tmp);
	process(proc, 200, "0=/dev/zero 1=/etc/passwd", maps,
		"7f2000000000 default file=/sys/" NVME "/resource0\n"
		"55d000000000 default heap anon=10 N1=10 kernelpagesize_kB=4\n",
		"2-3");
	/* 300 held the node but exited before its maps were read */
	process(proc, 300, "4=/dev/null", NULL, NULL, NULL);
	/* 500 holds the function's VFIO group */
	process(proc, 500, "5=/dev/full", "",
		"55d000000000 default heap anon=4 N0=4 kernelpagesize_kB=4\n", "0");
	/* 400 holds nothing of either device */
	process(proc, 400, "0=/etc/passwd 1=/dev/tty", "", "", "0");

	char err[512];
	setenv("PROBEBENCH_PROCFS", proc, 1);
	snprintf(path, sizeof(path), "%s/dev", tmp);
	setenv("PROBEBENCH_DEVFS", path, 1);
	assert_int_equal(testbed_enter(tmp), 0);
	struct pb_placement_report *rep = NULL;
	struct pb_inventory *inv2 = NULL;
	const char *sels[] = {"0000:81:00.0", "0000:00:05.0"};
	int r = pb_placement_sample(sels, 2, &inv2, &rep, err, sizeof(err));
	if (r < 0)
		fail_msg("sample: %s", err);
	const char *bad[] = {"ffff:ffff"};
	struct pb_placement_report *none = NULL;
	struct pb_inventory *inv3 = NULL;
	assert_int_equal(pb_placement_sample(bad, 1, &inv3, &none, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "ffff:ffff"));
	testbed_leave();
	unsetenv("PROBEBENCH_PROCFS");
	unsetenv("PROBEBENCH_DEVFS");
	pb_roots_reset();

	assert_int_equal(rep->n_devices, 2);
	assert_int_equal(rep->pids_gone, 1);
	assert_int_equal(rep->pids_denied, 0);
	assert_int_equal(rep->pids_scanned, 5);

	/* The NVMe function: its controller's node by number, its BAR file; not "resource". */
	const struct pb_placement_device *d = device_of(rep, "0000:81:00.0");
	assert_int_equal(d->node, 1);
	assert_int_equal(d->n_handles, 3);
	bool saw_node = false, saw_res = false, saw_vfio = false;
	for (size_t i = 0; i < d->n_handles; i++) {
		const struct pb_placement_handle *h = &d->handles[i];
		if (h->kind == PB_HANDLE_CHAR && h->rdev == makedev(1, 7)) {
			saw_vfio = true;
			assert_string_equal(h->name, "/dev/vfio/7");
			assert_string_equal(h->owner, "pci/0000:81:00.0");
			assert_non_null(strstr(h->via, "vfio group 7"));
			assert_true(h->has_inode);
		} else if (h->kind == PB_HANDLE_CHAR) {
			saw_node = true;
			assert_string_equal(h->name, "/dev/nvme0");
			assert_true(h->rdev == makedev(1, 3));
			assert_string_equal(h->owner, "nvme/nvme0");
			assert_true(h->has_inode);
		} else {
			saw_res = true;
			assert_int_equal(h->kind, PB_HANDLE_FILE);
			assert_non_null(strstr(h->name, "/0000:81:00.0/resource0"));
			assert_string_equal(h->via, "resource");
		}
	}
	assert_true(saw_node && saw_res && saw_vfio);
	assert_int_equal(d->n_consumers, 3);
	const struct pb_placement_consumer *c = consumer_of(d, 100);
	assert_non_null(c);
	assert_string_equal(c->comm, "reader");
	assert_int_equal(c->n_holds, 2); /* fd 3 and the mapping; not fd 0 (a tty) */
	assert_int_equal(c->holds[0].fd, 3);
	assert_int_equal(c->holds[1].fd, -1);
	assert_true(c->holds[1].map_start == 0x7f0000000000ULL);
	assert_int_equal(c->pages_err, 0);
	assert_true(c->total.bytes[0] == 1000 * 4096ULL);
	assert_true(c->total.bytes[1] == 26 * 4096ULL);
	assert_true(c->device.total_bytes == 2 * 4096ULL);
	assert_true(c->device.bytes[1] == 2 * 4096ULL);
	assert_string_equal(c->allowed.cpus_list, "0-1");
	assert_string_equal(c->allowed.mems_list, "0-1");
	assert_string_equal(c->policies, "default,bind:0");
	c = consumer_of(d, 200);
	assert_non_null(c);
	assert_int_equal(c->n_holds, 1);
	assert_int_equal(c->holds[0].fd, -1);
	assert_true(c->device.total_bytes == 0); /* the BAR mapping has no pages */
	assert_true(c->total.total_bytes == 10 * 4096ULL);
	c = consumer_of(d, 500);
	assert_non_null(c);
	assert_int_equal(c->holds[0].fd, 5);
	assert_true(c->total.bytes[0] == 4 * 4096ULL);
	assert_null(consumer_of(d, 300));
	assert_null(consumer_of(d, 400));
	assert_true(d->has_ratio);
	assert_true(fabs(d->on_node_ratio - 36.0 / 1040.0) < 1e-12);

	/* The rng function: /dev/hwrng through rng_current and its child's driver; node-less. */
	d = device_of(rep, "0000:00:05.0");
	assert_int_equal(d->node, -1);
	assert_int_equal(d->n_handles, 1);
	assert_string_equal(d->handles[0].name, "/dev/hwrng");
	assert_string_equal(d->handles[0].owner, "virtio/virtio4");
	assert_non_null(strstr(d->handles[0].via, "rng_current 'virtio_rng.0'"));
	assert_int_equal(d->n_consumers, 1);
	assert_int_equal(d->consumers[0].pid, 200);
	assert_int_equal(d->consumers[0].holds[0].fd, 0);
	assert_false(d->has_ratio);

	pb_placement_report_free(rep);
	pb_inventory_free(inv2);
	sh("rm -rf '%s'", tmp);
}

int main(void)
{
	const char *f = getenv("PB_FIXTURES");
	snprintf(fixture, sizeof(fixture), "%s/inventory", f ? f : "tests/fixtures");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * A fixture tree at /sys for the code under test, libudev and libpci included. umockdev's preload
 * library (loaded by CMakeLists.txt into every test that includes this file) sends /sys/... to
 * $UMOCKDEV_DIR/sys/... while UMOCKDEV_DIR is set, and passes everything through otherwise. The
 * tree is DIR/sys: a sysfs-like tree (devices/ with a uevent file per device and subsystem and
 * driver links, bus/, class/), as tests/fixtures/inventory/mktree.sh writes one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "probebench/paths.h"

/*
 * Puts DIR/sys at /sys. 0, or -1 (said on stderr) when /sys is not DIR/sys then: without the
 * preload library the test would read, or write, the real /sys.
 */
static inline int testbed_enter(const char *dir)
{
	char sys[4096];
	struct stat want, got;
	snprintf(sys, sizeof(sys), "%s/sys", dir);
	if (stat(sys, &want) < 0) {
		fprintf(stderr, "testbed: no tree at %s\n", sys);
		return -1;
	}
	setenv("UMOCKDEV_DIR", dir, 1);
	if (stat("/sys", &got) < 0 || got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
		unsetenv("UMOCKDEV_DIR");
		fprintf(stderr,
			"testbed: /sys is not %s; the test must run with umockdev's preload "
			"library (LD_PRELOAD=libumockdev-preload.so.0, as ctest does)\n",
			sys);
		return -1;
	}
	pb_roots_reset(); /* the tool's /sys root is opened again, now at the tree */
	return 0;
}

/* /sys is the real one again. */
static inline void testbed_leave(void)
{
	unsetenv("UMOCKDEV_DIR");
	pb_roots_reset();
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The baseline for bench/run_vs_bare.sh: the two writes of a bind-entry cycle on the host's
 * virtio-rng function (found by id 1af4:1044), nothing else: no journal, no verification, no
 * threads. Prints one line per cycle: "cycle_ns unbind_ns bind_ns" (CLOCK_MONOTONIC).
 * Usage: bare_cycle N. The caller holds the shared rng lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probebench/util.h"

static int write_once(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, s, strlen(s));
	int r = n < 0 ? -errno : 0;
	close(fd);
	return r;
}

int main(int argc, char **argv)
{
	long n;
	if (argc != 2 || pb_parse_long(argv[1], 10, 1, 1000000, &n) < 0) {
		fprintf(stderr, "usage: bare_cycle N\n");
		return 2;
	}
	char bdf[256] = "";
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char p[512];
		long v, dev;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		if (pb_read_long(p, &v) < 0 || v != 0x1af4)
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/device", de->d_name);
		if (pb_read_long(p, &dev) == 0 && dev == 0x1044)
			snprintf(bdf, sizeof(bdf), "%s", de->d_name);
	}
	if (d)
		closedir(d);
	if (!bdf[0]) {
		fprintf(stderr, "no 1af4:1044 function\n");
		return 77;
	}
	const char *unbind = "/sys/bus/pci/drivers/virtio-pci/unbind";
	const char *bind = "/sys/bus/pci/drivers/virtio-pci/bind";
	for (long i = 0; i < n; i++) {
		uint64_t t0 = pb_now_ns();
		int r = write_once(unbind, bdf);
		uint64_t t1 = pb_now_ns();
		int k = write_once(bind, bdf);
		uint64_t t2 = pb_now_ns();
		if (r < 0 || k < 0) {
			fprintf(stderr, "%s: unbind %s, bind %s\n", bdf, strerror(-r),
				strerror(-k));
			if (k < 0)
				write_once(bind, bdf);
			return 1;
		}
		printf("%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", t2 - t0, t1 - t0, t2 - t1);
	}
	return 0;
}

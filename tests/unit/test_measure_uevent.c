// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel-uevent socket filter, run by the kernel on a unix datagram pair (no root needed). */
#include <errno.h>
#include <linux/filter.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "probebench/measure.h"

static bool passes(int sv[2], const char *msg, size_t len)
{
	char buf[512];
	assert_int_equal(send(sv[0], msg, len, 0), (ssize_t)len);
	ssize_t k = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	return k == (ssize_t)len;
}

static void bind_filter(void **state)
{
	(void)state;
	const char *paths[] = {"/devices/pci0000:00/0000:00:05.0", "/devices/x",
			       "/devices/pci0000:00/0000:00:05.0/virtio4"};
	for (size_t t = 0; t < 3; t++) {
		struct sock_filter prog[256];
		size_t n;
		int sv[2];
		assert_int_equal(pb_uevent_filter(paths[t], prog, 256, &n), 0);
		assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
		struct sock_fprog fp = {.len = (unsigned short)n, .filter = prog};
		assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)),
				 0);
		char m[400];
		int l = snprintf(m, sizeof(m), "bind@%s%cACTION=bind%cDEVPATH=%s", paths[t], 0, 0,
				 paths[t]);
		assert_true(passes(sv, m, (size_t)l + 1));
		l = snprintf(m, sizeof(m), "add@%s%cACTION=add", paths[t], 0);
		assert_false(passes(sv, m, (size_t)l + 1));
		l = snprintf(m, sizeof(m), "bind@%s1%cACTION=bind", paths[t], 0); /* longer path */
		assert_false(passes(sv, m, (size_t)l + 1));
		l = snprintf(m, sizeof(m), "bind@%s", paths[t]); /* truncated: no NUL */
		assert_false(passes(sv, m, (size_t)l - 1));
		l = snprintf(m, sizeof(m), "unbind@%s%c", paths[t], 0);
		assert_false(passes(sv, m, (size_t)l + 1));
		close(sv[0]);
		close(sv[1]);
	}
	char longpath[600];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	struct sock_filter prog[256];
	size_t n;
	assert_int_equal(pb_uevent_filter(longpath, prog, 256, &n), -ENAMETOOLONG);
	longpath[500] = 0; /* fits the buffer, not the jump range */
	assert_int_equal(pb_uevent_filter(longpath, prog, 256, &n), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(bind_filter)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

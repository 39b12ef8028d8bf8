// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bind uevents: the kernel's (netlink group 1, sent from inside really_probe before the write
 * returns) and udev's processed copy (group 2, after rules ran). A thread blocks in poll() on both
 * monitors for the duration of one iteration and stamps CLOCK_MONOTONIC when each arrives; the
 * stamp includes the thread's wake-up latency.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libudev.h>

#include "probebench/measure.h"
#include "probebench/util.h"

struct pb_uevents {
	struct udev *udev;
	struct udev_monitor *mon[2]; /* kernel, udev */
	int stop_fd;
	pthread_t thread;
	bool running;
	char devpath[512];
	uint64_t seen[2];
	uint64_t deadline; /* 0: none yet (before collect) */
	pthread_mutex_t lock;
	bool udev_running; /* without udevd there is no processed copy to wait for */
};

bool pb_uevents_udev_running(const struct pb_uevents *u)
{
	return u && u->udev_running;
}

void pb_uevents_free(struct pb_uevents *u)
{
	if (!u)
		return;
	if (u->running) {
		uint64_t one = 1;
		__atomic_store_n(&u->deadline, 1, __ATOMIC_RELEASE);
		if (write(u->stop_fd, &one, sizeof(one)) < 0) {
		}
		pthread_join(u->thread, NULL);
	}
	for (int i = 0; i < 2; i++)
		if (u->mon[i])
			udev_monitor_unref(u->mon[i]);
	if (u->udev)
		udev_unref(u->udev);
	if (u->stop_fd >= 0)
		close(u->stop_fd);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

int pb_uevents_open(struct pb_uevents **ret)
{
	struct pb_uevents *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	u->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	u->udev = udev_new();
	if (u->stop_fd < 0 || !u->udev) {
		pb_uevents_free(u);
		return -ENOMEM;
	}
	u->udev_running = access("/run/udev/control", F_OK) == 0;
	const char *names[2] = {"kernel", "udev"};
	for (int i = 0; i < 2; i++) {
		u->mon[i] = udev_monitor_new_from_netlink(u->udev, names[i]);
		if (!u->mon[i] || udev_monitor_enable_receiving(u->mon[i]) < 0) {
			pb_uevents_free(u);
			return -EPERM;
		}
		udev_monitor_set_receive_buffer_size(u->mon[i], 4 << 20);
	}
	*ret = u;
	return 0;
}

static void drain(struct udev_monitor *m)
{
	int fd = udev_monitor_get_fd(m);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (poll(&p, 1, 0) > 0) {
		struct udev_device *d = udev_monitor_receive_device(m);
		if (!d)
			break;
		udev_device_unref(d);
	}
}

static void *watch(void *arg)
{
	struct pb_uevents *u = arg;
	struct pollfd p[3] = {
	    {.fd = udev_monitor_get_fd(u->mon[0]), .events = POLLIN},
	    {.fd = udev_monitor_get_fd(u->mon[1]), .events = POLLIN},
	    {.fd = u->stop_fd, .events = POLLIN},
	};
	for (;;) {
		uint64_t dl = __atomic_load_n(&u->deadline, __ATOMIC_ACQUIRE);
		int timeout = -1;
		if (dl) {
			uint64_t now = pb_now_ns();
			if (now >= dl || (u->seen[0] && (u->seen[1] || !u->udev_running)))
				break;
			timeout = (int)((dl - now) / 1000000) + 1;
		}
		int n = poll(p, 3, timeout);
		uint64_t now = pb_now_ns();
		if (n < 0 && errno != EINTR)
			break;
		if (p[2].revents & POLLIN) {
			uint64_t v;
			if (read(u->stop_fd, &v, sizeof(v)) < 0) {
			}
		}
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			struct udev_device *d = udev_monitor_receive_device(u->mon[i]);
			if (!d)
				continue;
			const char *a = udev_device_get_action(d);
			const char *dp = udev_device_get_devpath(d);
			if (!u->seen[i] && a && dp && !strcmp(a, "bind") && !strcmp(dp, u->devpath))
				u->seen[i] = now;
			udev_device_unref(d);
		}
	}
	return NULL;
}

int pb_uevents_arm(struct pb_uevents *u, const char *devpath)
{
	if (u->running)
		return -EBUSY;
	drain(u->mon[0]);
	drain(u->mon[1]);
	snprintf(u->devpath, sizeof(u->devpath), "%s", devpath);
	u->seen[0] = u->seen[1] = 0;
	u->deadline = 0;
	int r = pthread_create(&u->thread, NULL, watch, u);
	if (r)
		return -r;
	u->running = true;
	return 0;
}

int pb_uevents_collect(struct pb_uevents *u, uint64_t wait_ns, uint64_t *ret_kernel_ns,
		       uint64_t *ret_udev_ns)
{
	if (!u->running)
		return -EINVAL;
	uint64_t one = 1;
	__atomic_store_n(&u->deadline, pb_now_ns() + (wait_ns ? wait_ns : 1), __ATOMIC_RELEASE);
	if (write(u->stop_fd, &one, sizeof(one)) < 0)
		return -errno;
	pthread_join(u->thread, NULL);
	u->running = false;
	*ret_kernel_ns = u->seen[0];
	*ret_udev_ns = u->seen[1];
	return 0;
}

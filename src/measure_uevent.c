// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bind uevents: the kernel's (netlink group 1, sent from inside really_probe before the write
 * returns) and udev's processed copy (group 2, after rules ran). A thread blocks in poll() for the
 * duration of one iteration and stamps CLOCK_MONOTONIC when each arrives; the stamp includes the
 * thread's wake-up latency. The kernel socket carries a socket filter that passes only
 * "bind@DEVPATH", so the other uevents of the bind (the child's add and bind) do not wake the
 * thread inside the window; udev's copy is filtered by subsystem in the kernel (libudev's filter).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libudev.h>

#include "probebench/measure.h"
#include "probebench/paths.h"
#include "probebench/util.h"

struct pb_uevents {
	struct udev *udev;
	struct udev_monitor *mon[2]; /* [0] unused (raw socket below), udev */
	int kfd;		     /* netlink group 1, filtered to the target's bind */
	int stop_fd;
	pthread_t thread;
	bool running;
	char devpath[512];
	uint64_t seen[2];
	uint64_t deadline; /* 0: none yet (before collect) */
	pthread_mutex_t lock;
	bool udev_running; /* without udevd there is no processed copy to wait for */
};

unsigned pb_uevents_fds(const struct pb_uevents *u)
{
	if (!u)
		return 0;
	return (u->kfd >= 0) + (u->stop_fd >= 0) +
	       (u->mon[1] && udev_monitor_get_fd(u->mon[1]) >= 0);
}

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
	if (u->kfd >= 0)
		close(u->kfd);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

int pb_uevents_open(const char *subsystem, struct pb_uevents **ret)
{
	struct pb_uevents *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	u->kfd = -1;
	u->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	u->udev = udev_new();
	if (u->stop_fd < 0 || !u->udev) {
		pb_uevents_free(u);
		return -ENOMEM;
	}
	u->kfd =
	    socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
	if (u->kfd < 0 || bind(u->kfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		pb_uevents_free(u);
		return r;
	}
	int size = 1 << 20;
	setsockopt(u->kfd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	u->udev_running = pb_udevd_running();
	if (u->udev_running) {
		u->mon[1] = udev_monitor_new_from_netlink(u->udev, "udev");
		if (!u->mon[1] ||
		    (subsystem && udev_monitor_filter_add_match_subsystem_devtype(
				      u->mon[1], subsystem, NULL) < 0) ||
		    udev_monitor_enable_receiving(u->mon[1]) < 0) {
			pb_uevents_free(u);
			return -EPERM;
		}
	}
	*ret = u;
	return 0;
}

int pb_uevent_filter(const char *devpath, struct sock_filter *prog, size_t max, size_t *ret_n)
{
	char msg[512];
	int len = snprintf(msg, sizeof(msg), "bind@%s", devpath);
	if (len < 0 || (size_t)len >= sizeof(msg) - 1)
		return -ENAMETOOLONG;
	len++; /* the NUL that ends the header */
	/* Compare 4 bytes per load, then single bytes; each failed compare jumps to reject. */
	size_t n = 0, words = (size_t)len / 4, bytes = (size_t)len % 4;
	size_t total = 2 * (words + bytes) + 2;
	if (total > max || total > 250)
		return -E2BIG;
	for (size_t i = 0; i < words + bytes; i++) {
		bool w = i < words;
		size_t off = w ? i * 4 : words * 4 + (i - words);
		uint32_t v =
		    w ? ((uint32_t)(uint8_t)msg[off] << 24 | (uint32_t)(uint8_t)msg[off + 1] << 16 |
			 (uint32_t)(uint8_t)msg[off + 2] << 8 | (uint8_t)msg[off + 3])
		      : (uint8_t)msg[off];
		prog[n++] =
		    (struct sock_filter)BPF_STMT(BPF_LD | (w ? BPF_W : BPF_B) | BPF_ABS, off);
		size_t reject = total - 1;
		prog[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, v, 0,
						       (uint8_t)(reject - n - 1));
		n++;
	}
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	*ret_n = n;
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

static void drain_fd(int fd)
{
	char buf[8192];
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void *watch(void *arg)
{
	struct pb_uevents *u = arg;
	struct pollfd p[3] = {
	    {.fd = u->kfd, .events = POLLIN},
	    {.fd = u->mon[1] ? udev_monitor_get_fd(u->mon[1]) : -1, .events = POLLIN},
	    {.fd = u->stop_fd, .events = POLLIN},
	};
	char want[520], buf[8192];
	size_t want_len = (size_t)snprintf(want, sizeof(want), "bind@%s", u->devpath) + 1;
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
		if (p[0].revents & POLLIN) {
			ssize_t k;
			while ((k = recv(u->kfd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
				if (!u->seen[0] && (size_t)k >= want_len &&
				    !memcmp(buf, want, want_len))
					u->seen[0] = now;
		}
		if (p[1].revents & POLLIN) {
			struct udev_device *d = udev_monitor_receive_device(u->mon[1]);
			if (!d)
				continue;
			const char *a = udev_device_get_action(d);
			const char *dp = udev_device_get_devpath(d);
			if (!u->seen[1] && a && dp && !strcmp(a, "bind") && !strcmp(dp, u->devpath))
				u->seen[1] = now;
			udev_device_unref(d);
		}
	}
	return NULL;
}

int pb_uevents_arm(struct pb_uevents *u, const char *devpath)
{
	if (u->running)
		return -EBUSY;
	if (strcmp(u->devpath, devpath)) {
		struct sock_filter prog[256];
		size_t n;
		int r = pb_uevent_filter(devpath, prog, PB_ARRAY_SIZE(prog), &n);
		struct sock_fprog fp = {.len = (unsigned short)n, .filter = prog};
		if (r == 0 && setsockopt(u->kfd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0)
			return -errno;
		/* -E2BIG (very long path): unfiltered, matched in user space only. */
		snprintf(u->devpath, sizeof(u->devpath), "%s", devpath);
	}
	drain_fd(u->kfd);
	if (u->mon[1])
		drain(u->mon[1]);
	u->seen[0] = u->seen[1] = 0;
	u->deadline = 0;
	/* A small stack: under the run's mlockall a thread's whole stack is populated and locked
	 * (8 MiB by default), and this one only waits on two sockets. */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PB_OBSERVER_THREAD_STACK);
	int r = pthread_create(&u->thread, &attr, watch, u);
	pthread_attr_destroy(&attr);
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

// SPDX-License-Identifier: GPL-2.0-or-later
/* A driver's kernel module: its state in sysfs, and unloading and loading it (module.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "probebench/module.h"
#include "probebench/paths.h"
#include "probebench/util.h"

void pb_module_state_clear(struct pb_module_state *s)
{
	free(s->devices);
	s->devices = NULL;
	s->n_devices = 0;
}

bool pb_module_loaded(const char *name)
{
	char p[PATH_MAX];
	return pb_sys_path(p, sizeof(p), "module/%s/initstate", name) == 0 &&
	       pb_access(PB_ROOT_SYS, F_OK, "%s", p) == 0;
}

/* The devices bound to one driver directory (its links other than "module"), appended. */
static int driver_devices(const char *bus, const char *drvdir, struct pb_module_device **v,
			  size_t *n)
{
	DIR *d = NULL;
	int r = pb_opendir(PB_ROOT_SYS, &d, "%s", drvdir);
	if (r < 0)
		return r;
	const char *drv = strrchr(drvdir, '/') ? strrchr(drvdir, '/') + 1 : drvdir;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "module") ||
		    pb_stat(PB_ROOT_SYS, &st, AT_SYMLINK_NOFOLLOW, "%s/%s", drvdir, de->d_name) <
			0 ||
		    !S_ISLNK(st.st_mode))
			continue;
		struct pb_module_device m = {0};
		if (pb_realpath(PB_ROOT_SYS, m.syspath, "%s/%s", drvdir, de->d_name) < 0)
			continue; /* went away */
		snprintf(m.bus, sizeof(m.bus), "%s", bus);
		snprintf(m.name, sizeof(m.name), "%s", de->d_name);
		snprintf(m.driver, sizeof(m.driver), "%s", drv);
		struct pb_module_device *nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv) {
			r = -ENOMEM;
			break;
		}
		*v = nv;
		(*v)[(*n)++] = m;
	}
	closedir(d);
	return r;
}

int pb_module_devices(const char *name, struct pb_module_device **ret, size_t *ret_n)
{
	char dir[PATH_MAX], drvdir[PATH_MAX];
	struct pb_module_device *v = NULL;
	size_t n = 0;
	*ret = NULL;
	*ret_n = 0;
	int r = pb_sys_path(dir, sizeof(dir), "module/%s/drivers", name);
	DIR *d = NULL;
	if (r == 0 && (r = pb_opendir(PB_ROOT_SYS, &d, "%s", dir)) == -ENOENT)
		return 0; /* a module that registers no driver */
	if (r < 0)
		return r;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		/* BUS:DRV -> ../../../bus/BUS/drivers/DRV */
		char bus[64];
		const char *colon = strchr(de->d_name, ':');
		if (de->d_name[0] == '.' || !colon || (size_t)(colon - de->d_name) >= sizeof(bus))
			continue;
		snprintf(bus, sizeof(bus), "%.*s", (int)(colon - de->d_name), de->d_name);
		if (pb_realpath(PB_ROOT_SYS, drvdir, "%s/%s", dir, de->d_name) < 0)
			continue;
		r = driver_devices(bus, drvdir, &v, &n);
		if (r == -ENOENT)
			r = 0; /* the driver went away meanwhile */
	}
	closedir(d);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

bool pb_module_capable(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {{0}};
	if (syscall(SYS_capget, &h, d) < 0)
		return true; /* unknown: the kernel's own refusal will say it */
	return d[CAP_TO_INDEX(CAP_SYS_MODULE)].effective & CAP_TO_MASK(CAP_SYS_MODULE);
}

int pb_module_state_read(const char *bus, const char *driver, struct pb_module_state *ret)
{
	char p[PATH_MAX];
	struct pb_module_state s = {.refcnt = -1, .no_capability = !pb_module_capable()};
	*ret = s;
	int r = pb_sys_path(p, sizeof(p), "bus/%s/drivers/%s", bus, driver);
	if (r < 0)
		return r;
	if (pb_access(PB_ROOT_SYS, F_OK, "%s", p) < 0)
		return -ENOENT;
	if (pb_readlink_name(PB_ROOT_SYS, s.name, sizeof(s.name), "%s/module", p) < 0) {
		/* No module link: a built-in driver whose module has no sysfs directory. Its
		 * devices are its own. */
		snprintf(s.name, sizeof(s.name), "%s", driver);
		s.builtin = true;
		r = driver_devices(bus, p, &s.devices, &s.n_devices);
		if (r < 0) {
			free(s.devices);
			return r;
		}
		*ret = s;
		return 0;
	}
	s.builtin = !pb_module_loaded(s.name);
	if (!s.builtin) {
		if (pb_sys_path(p, sizeof(p), "module/%s", s.name) < 0 ||
		    pb_read_attr_long(PB_ROOT_SYS, &s.refcnt, "%s/refcnt", p) < 0)
			s.refcnt = -1;
		DIR *d = NULL;
		if (pb_opendir(PB_ROOT_SYS, &d, "%s/holders", p) == 0) {
			struct dirent *de;
			size_t len = 0;
			while ((de = readdir(d))) {
				if (de->d_name[0] == '.')
					continue;
				int k = snprintf(s.holders + len, sizeof(s.holders) - len, "%s%s",
						 len ? " " : "", de->d_name);
				if (k < 0 || (size_t)k >= sizeof(s.holders) - len)
					break;
				len += (size_t)k;
			}
			closedir(d);
		}
	}
	r = pb_module_devices(s.name, &s.devices, &s.n_devices);
	if (r < 0)
		return r;
	*ret = s;
	return 0;
}

int pb_module_refusal(const struct pb_module_state *s, const char *driver, char *why, size_t size)
{
	const char *alt = "cycle its devices with --entry bind or --entry probe instead";
	if (s->builtin)
		snprintf(why, size,
			 "driver %s is built into the kernel (module %s cannot be unloaded); %s",
			 driver, s->name, alt);
	else if (s->no_capability)
		snprintf(
		    why, size,
		    "module %s cannot be unloaded by this process: it lacks CAP_SYS_MODULE (a "
		    "systemd unit with ProtectKernelModules=yes, as probebench's own units, or a "
		    "container drops it); %s",
		    s->name, alt);
	else if (s->holders[0])
		snprintf(why, size, "module %s is needed by the loaded module(s) %s; %s", s->name,
			 s->holders, alt);
	else if (s->refcnt > 0)
		snprintf(why, size, "module %s is in use (reference count %ld); %s", s->name,
			 s->refcnt, alt);
	else if (s->refcnt < 0)
		snprintf(
		    why, size,
		    "module %s has no reference count (a kernel without module unloading?); %s",
		    s->name, alt);
	else
		return 0;
	return 1;
}

int pb_module_uevents_open(void)
{
	int fd =
	    socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	int size = 1 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Is devpath (a uevent's "/devices/...") one of devs[]? Its index, or -1. */
static ssize_t device_of_devpath(const struct pb_module_device *devs, size_t n, const char *devpath)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = strstr(devs[i].syspath, "/devices/");
		if (p && !strcmp(p, devpath))
			return (ssize_t)i;
	}
	return -1;
}

/* 1 bound to driver, 0 not (or gone). */
static bool bound(const struct pb_module_device *d)
{
	char cur[128];
	return pb_readlink_name(PB_ROOT_SYS, cur, sizeof(cur), "%s/driver", d->syspath) == 0 &&
	       !strcmp(cur, d->driver);
}

int pb_module_wait_bound(const struct pb_module_device *devs, size_t n, int fd,
			 uint64_t deadline_ns)
{
	bool *seen = calloc(n ? n : 1, sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	int r = -ETIME;
	for (bool first = true;; first = false) {
		/* Every uevent queued so far: mark the devices whose bind came. */
		char buf[8192];
		ssize_t len;
		while (fd >= 0 && (len = recv(fd, buf, sizeof(buf) - 1, 0)) != 0) {
			if (len < 0) {
				if (errno == ENOBUFS) /* lost some: trust the links alone */
					fd = -1;
				break;
			}
			buf[len] = '\0';
			if (strncmp(buf, "bind@", 5))
				continue;
			ssize_t i = device_of_devpath(devs, n, buf + 5);
			if (i >= 0)
				seen[i] = true;
		}
		size_t done = 0;
		for (size_t i = 0; i < n; i++)
			done += (fd < 0 || seen[i]) && bound(&devs[i]);
		if (done == n) {
			r = first ? 0 : 1;
			break;
		}
		uint64_t now = pb_now_ns();
		if (now >= deadline_ns)
			break;
		if (fd >= 0) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			uint64_t left_ms = (deadline_ns - now) / 1000000 + 1;
			poll(&p, 1, left_ms > 10 ? 10 : (int)left_ms);
		} else {
			struct timespec ts = {0, 500000};
			nanosleep(&ts, NULL);
		}
	}
	free(seen);
	return r;
}

/* ---- libkmod ---- */

struct pb_kmod {
	struct kmod_ctx *ctx;
};

int pb_kmod_new(struct pb_kmod **ret)
{
	struct pb_kmod *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->ctx = kmod_new(NULL, NULL);
	if (!k->ctx) {
		free(k);
		return -ENOMEM;
	}
	int r = kmod_load_resources(k->ctx);
	if (r < 0) {
		kmod_unref(k->ctx);
		free(k);
		return r;
	}
	*ret = k;
	return 0;
}

void pb_kmod_free(struct pb_kmod *k)
{
	if (!k)
		return;
	kmod_unref(k->ctx);
	free(k);
}

int pb_kmod_unload(struct pb_kmod *k, const char *name)
{
	struct kmod_module *m = NULL;
	int r = kmod_module_new_from_name(k->ctx, name, &m);
	if (r < 0)
		return r;
	r = kmod_module_remove_module(m, 0);
	kmod_module_unref(m);
	return r < 0 ? r : 0;
}

int pb_kmod_load(struct pb_kmod *k, const char *name, const char *options, uint64_t *ret_ns)
{
	struct kmod_module *m = NULL;
	*ret_ns = 0;
	int r = kmod_module_new_from_name(k->ctx, name, &m);
	if (r < 0)
		return r;
	/* Looked up before the clock starts: the path comes from modules.dep.bin. */
	if (!kmod_module_get_path(m)) {
		kmod_module_unref(m);
		return -ENOENT;
	}
	uint64_t t0 = pb_now_ns();
	r = kmod_module_probe_insert_module(
	    m, KMOD_PROBE_IGNORE_COMMAND, options && options[0] ? options : NULL, NULL, NULL, NULL);
	*ret_ns = pb_now_ns() - t0;
	kmod_module_unref(m);
	if (r > 0)
		return -EPERM; /* blacklisted: not with these flags, but never 0 for it */
	return r;
}

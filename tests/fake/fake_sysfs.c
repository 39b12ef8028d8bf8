// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fake kernel of fake_sysfs.h: __wrap_write() and the driver core's store functions applied
 * to a fixture tree. One lock stands for the device locks, so stores run one at a time, except
 * that a hung store waits outside it: a driver blocked in probe does not stop other devices.
 *
 * Everything here writes files through stdio or pwrite(2), which --wrap=write does not reach,
 * so the fake never calls itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_sysfs.h"

#define FAKE_EPROBE_DEFER 517 /* include/linux/errno.h: never seen by user space */
#define FAKE_PAGE_SIZE	  4096
#define FAKE_MAX_LINES	  64

ssize_t __real_write(int fd, const void *buf, size_t count);
ssize_t __wrap_write(int fd, const void *buf, size_t count);

static pthread_mutex_t kernel_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct {
	const char *name;
	int err;
} errnos[] = {
    {"EPERM", EPERM},	      {"ENOENT", ENOENT},	  {"EINTR", EINTR},   {"EIO", EIO},
    {"ENXIO", ENXIO},	      {"EAGAIN", EAGAIN},	  {"ENOMEM", ENOMEM}, {"EBUSY", EBUSY},
    {"ENODEV", ENODEV},	      {"EINVAL", EINVAL},	  {"ENOSPC", ENOSPC}, {"EPROTO", EPROTO},
    {"ETIMEDOUT", ETIMEDOUT}, {"EOPNOTSUPP", EOPNOTSUPP}, {"ENOTTY", ENOTTY}, {"EFAULT", EFAULT},
};

static int errno_of(const char *name)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(errnos[i].name, name))
			return errnos[i].err;
	return 0;
}

static const char *errno_name(int err, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	snprintf(buf, size, "E%d", err);
	return buf;
}

static _Noreturn void broken_test(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void broken_test(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fake sysfs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static _Noreturn void die(void)
{
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

static int path_join(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s/%s", a, b);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static bool exists(const char *dir, const char *name)
{
	char p[PATH_MAX];
	return path_join(p, sizeof(p), dir, name) == 0 && access(p, F_OK) == 0;
}

/* ---- behaviour lines --------------------------------------------------------------------- */

enum action {
	ACT_NONE,
	ACT_ERRNO,
	ACT_DEFER,
	ACT_HANG,
	ACT_VANISH,
	ACT_KILL_BEFORE,
	ACT_KILL_AFTER,
	ACT_IGNORE,
};

struct act {
	enum action a;
	int err;
};

struct line {
	char text[256];
	char what[32], action[32];
	long count; /* -1: every time */
};

static int read_lines(const char *devdir, struct line *v, size_t *ret_n)
{
	char p[PATH_MAX];
	*ret_n = 0;
	if (path_join(p, sizeof(p), devdir, "fake_behaviour") < 0)
		return -ENAMETOOLONG;
	FILE *f = fopen(p, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	size_t n = 0;
	while (n < FAKE_MAX_LINES && fgets(v[n].text, sizeof(v[n].text), f)) {
		struct line *l = &v[n++];
		l->text[strcspn(l->text, "\n")] = '\0';
		l->what[0] = l->action[0] = '\0';
		l->count = -1;
		if (l->text[0] == '#' || !strncmp(l->text, "match", 5))
			continue;
		char extra[8];
		int k = sscanf(l->text, "%31s %31s %ld %7s", l->what, l->action, &l->count, extra);
		if (k < 0)
			continue; /* blank */
		bool known = !strcmp(l->what, "unbind") || !strcmp(l->what, "probe") ||
			     !strcmp(l->what, "driver_override") || !strcmp(l->what, "power");
		if (k == 1 || k == 4 || (k == 3 && l->count < 0) || !known)
			broken_test("%s: malformed line '%s'", p, l->text);
	}
	fclose(f);
	*ret_n = n;
	return 0;
}

static int write_lines(const char *devdir, const struct line *v, size_t n)
{
	char p[PATH_MAX];
	if (path_join(p, sizeof(p), devdir, "fake_behaviour") < 0)
		return -ENAMETOOLONG;
	FILE *f = fopen(p, "we");
	if (!f)
		return -errno;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", v[i].text);
	return fclose(f) == 0 ? 0 : -errno;
}

/* What the next step `what` on the device does; spends one use of a counted line. */
static struct act take(const char *devdir, const char *what)
{
	struct line v[FAKE_MAX_LINES];
	size_t n;
	struct act a = {ACT_NONE, 0};
	if (read_lines(devdir, v, &n) < 0)
		return a;
	for (size_t i = 0; i < n; i++) {
		struct line *l = &v[i];
		if (strcmp(l->what, what) || l->count == 0)
			continue;
		const char *s = l->action;
		bool probe = !strcmp(what, "probe"), unbind = !strcmp(what, "unbind");
		if (!strcmp(s, "ok"))
			a.a = ACT_NONE;
		else if (!strcmp(s, "defer") && probe)
			a.a = ACT_DEFER;
		else if (!strcmp(s, "hang"))
			a.a = ACT_HANG;
		else if (!strcmp(s, "vanish"))
			a.a = ACT_VANISH;
		else if (!strcmp(s, "kill-before"))
			a.a = ACT_KILL_BEFORE;
		else if (!strcmp(s, "kill-after"))
			a.a = ACT_KILL_AFTER;
		else if (!strcmp(s, "ignore") && unbind)
			a.a = ACT_IGNORE;
		else if ((a.err = errno_of(s)) > 0)
			a.a = ACT_ERRNO;
		else
			broken_test("%s: '%s %s' is no behaviour", devdir, what, s);
		if (l->count > 0) {
			l->count--;
			char text[sizeof(l->text)];
			snprintf(text, sizeof(text), "%s %s %ld", l->what, l->action, l->count);
			strcpy(l->text, text);
			write_lines(devdir, v, n);
		}
		return a;
	}
	return a;
}

/* 1: the device's id table matches drv (or no match line: every driver matches), 0: not. */
static bool id_table_matches(const char *devdir, const char *drv)
{
	char p[PATH_MAX], buf[512];
	if (path_join(p, sizeof(p), devdir, "fake_behaviour") < 0)
		return false;
	FILE *f = fopen(p, "re");
	if (!f)
		return true;
	bool listed = false, found = false;
	while (fgets(buf, sizeof(buf), f)) {
		if (strncmp(buf, "match", 5) || (buf[5] != ' ' && buf[5] != '\t'))
			continue;
		listed = true;
		for (char *save, *tok = strtok_r(buf + 5, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			if (!strcmp(tok, drv))
				found = true;
	}
	fclose(f);
	return !listed || found;
}

/* ---- the device tree ---------------------------------------------------------------------- */

/* A device's name as bus_find_device_by_name() compares it (sysfs_streq: one newline off). */
static bool sysfs_name(const char *val, char *buf, size_t size)
{
	size_t n = strlen(val);
	if (n && val[n - 1] == '\n')
		n--;
	if (!n || n >= size || memchr(val, '/', n))
		return false;
	memcpy(buf, val, n);
	buf[n] = '\0';
	return strcmp(buf, ".") && strcmp(buf, "..");
}

/* bus/BUS/devices/NAME, resolved; -ENODEV when it does not lead to a device under root. */
static int find_device(const char *root, const char *bus, const char *name, char *devdir)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s/bus/%s/devices/%s", root, bus, name) >= (int)sizeof(p))
		return -ENODEV;
	size_t rl = strlen(root);
	if (!realpath(p, devdir) || strncmp(devdir, root, rl) || devdir[rl] != '/' ||
	    !exists(devdir, "uevent"))
		return -ENODEV;
	return 0;
}

static int link_base(const char *dir, const char *name, char *buf, size_t size)
{
	char p[PATH_MAX], target[PATH_MAX];
	if (path_join(p, sizeof(p), dir, name) < 0)
		return -ENAMETOOLONG;
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	snprintf(buf, size, "%s", base ? base + 1 : target);
	return 0;
}

static void bound_driver(const char *devdir, char *buf, size_t size)
{
	if (link_base(devdir, "driver", buf, size) < 0)
		buf[0] = '\0';
}

/* pci_match_device() and friends: driver_override decides alone when it is set. */
static bool matches(const char *devdir, const char *drv)
{
	char p[PATH_MAX], ovr[256] = "";
	if (path_join(p, sizeof(p), devdir, "driver_override") == 0) {
		FILE *f = fopen(p, "re");
		if (f) {
			if (!fgets(ovr, sizeof(ovr), f))
				ovr[0] = '\0';
			fclose(f);
		}
	}
	ovr[strcspn(ovr, "\n")] = '\0';
	if (ovr[0] && strcmp(ovr, "(null)"))
		return !strcmp(ovr, drv);
	return id_table_matches(devdir, drv);
}

/* The relative link from directory `from` to `to`, both under root, as sysfs makes them. */
static int rel_link(const char *root, const char *from, const char *to, const char *linkpath)
{
	size_t rl = strlen(root);
	char target[PATH_MAX] = "";
	size_t len = 0;
	for (const char *s = from + rl; *s; s++)
		if (*s == '/') {
			if (len + 3 >= sizeof(target))
				return -ENAMETOOLONG;
			memcpy(target + len, "../", 4);
			len += 3;
		}
	if (len + strlen(to + rl + 1) >= sizeof(target))
		return -ENAMETOOLONG;
	strcpy(target + len, to + rl + 1);
	return symlink(target, linkpath) < 0 ? -errno : 0;
}

/* driver_sysfs_add(): DEV/driver and DRV/NAME. */
static int link_driver(const char *root, const char *devdir, const char *bus, const char *drv)
{
	char drvdir[PATH_MAX], p[PATH_MAX];
	const char *name = strrchr(devdir, '/') + 1;
	if (snprintf(drvdir, sizeof(drvdir), "%s/bus/%s/drivers/%s", root, bus, drv) >=
	    (int)sizeof(drvdir))
		return -ENAMETOOLONG;
	int r = path_join(p, sizeof(p), devdir, "driver");
	if (r == 0)
		r = rel_link(root, devdir, drvdir, p);
	if (r == 0 && (r = path_join(p, sizeof(p), drvdir, name)) == 0 &&
	    (r = rel_link(root, drvdir, devdir, p)) < 0) {
		path_join(p, sizeof(p), devdir, "driver");
		unlink(p);
	}
	return r;
}

/* driver_sysfs_remove(). */
static void unlink_driver(const char *root, const char *devdir, const char *bus, const char *drv)
{
	char p[PATH_MAX];
	const char *name = strrchr(devdir, '/') + 1;
	if (path_join(p, sizeof(p), devdir, "driver") == 0)
		unlink(p);
	if (snprintf(p, sizeof(p), "%s/bus/%s/drivers/%s/%s", root, bus, drv, name) <
	    (int)sizeof(p))
		unlink(p);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

/* Links under bus/ whose device went with an unplug. */
static void sweep_links(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		char p[PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.' || path_join(p, sizeof(p), dir, de->d_name) < 0 ||
		    lstat(p, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode) && stat(p, &st) < 0 && errno == ENOENT)
			unlink(p);
		else if (S_ISDIR(st.st_mode) && depth > 0)
			sweep_links(p, depth - 1);
	}
	closedir(d);
}

/* device_del() of the device and everything below it. */
static void unplug(const char *root, const char *devdir)
{
	char p[PATH_MAX];
	nftw(devdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	/* bus/B/devices/N and bus/B/drivers/D/N */
	if (path_join(p, sizeof(p), root, "bus") == 0)
		sweep_links(p, 3);
}

/* Blocks, outside the lock, until DEV/fake_release appears (taken), or the device or the whole
 * tree is removed (-ENODEV). */
static int hang(const char *root, const char *devdir)
{
	char p[PATH_MAX];
	if (path_join(p, sizeof(p), devdir, "fake_release") < 0)
		return -ENAMETOOLONG;
	pthread_mutex_unlock(&kernel_lock);
	int r = 0;
	for (;;) {
		if (unlink(p) == 0)
			break;
		if (access(root, F_OK) < 0 || !exists(devdir, "uevent")) {
			r = -ENODEV;
			break;
		}
		struct timespec ts = {.tv_nsec = 1000000};
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&kernel_lock);
	return r;
}

/* ---- the driver core's stores ------------------------------------------------------------- */

/*
 * __driver_probe_device() + really_probe() for an unbound device that matches drv: 0 bound, a
 * positive errno when drv's probe failed (FAKE_EPROBE_DEFER: deferred), -ENODEV when the device
 * went away, -EBUSY when someone bound it while this probe hung.
 */
static int probe(const char *root, const char *devdir, const char *bus, const char *drv)
{
	struct act a = take(devdir, "probe");
	int r;
	switch (a.a) {
	case ACT_KILL_BEFORE:
		die();
	case ACT_VANISH:
		unplug(root, devdir);
		return -ENODEV;
	case ACT_HANG: {
		if ((r = hang(root, devdir)) < 0)
			return r;
		char cur[128];
		bound_driver(devdir, cur, sizeof(cur));
		if (cur[0])
			return -EBUSY;
		break;
	}
	case ACT_ERRNO:
		return a.err;
	case ACT_DEFER:
		return FAKE_EPROBE_DEFER;
	default:
		break;
	}
	if ((r = link_driver(root, devdir, bus, drv)) < 0)
		return r;
	if (a.a == ACT_KILL_AFTER)
		die();
	return 0;
}

/* bind_store() + device_driver_attach(). */
static int bind_store(const char *root, const char *bus, const char *drv, const char *val)
{
	char name[256], devdir[PATH_MAX], cur[128];
	if (!sysfs_name(val, name, sizeof(name)) || find_device(root, bus, name, devdir) < 0 ||
	    !matches(devdir, drv))
		return -ENODEV;
	bound_driver(devdir, cur, sizeof(cur));
	if (cur[0])
		return -EBUSY;
	int r = probe(root, devdir, bus, drv);
	if (r > 0) /* probe errors come back as normal negative errnos */
		r = -r;
	return r == -FAKE_EPROBE_DEFER ? -EAGAIN : r;
}

/* unbind_store() + device_release_driver(). */
static int unbind_store(const char *root, const char *bus, const char *drv, const char *val)
{
	char name[256], devdir[PATH_MAX], cur[128];
	if (!sysfs_name(val, name, sizeof(name)) || find_device(root, bus, name, devdir) < 0)
		return -ENODEV;
	bound_driver(devdir, cur, sizeof(cur));
	if (strcmp(cur, drv))
		return -ENODEV;
	struct act a = take(devdir, "unbind");
	switch (a.a) {
	case ACT_KILL_BEFORE:
		die();
	case ACT_VANISH:
		unplug(root, devdir);
		return -ENODEV;
	case ACT_HANG: {
		int r = hang(root, devdir);
		if (r < 0)
			return r;
		bound_driver(devdir, cur, sizeof(cur));
		if (strcmp(cur, drv))
			return -ENODEV;
		break;
	}
	case ACT_ERRNO:
		return -a.err;
	case ACT_IGNORE:
		return 0;
	default:
		break;
	}
	unlink_driver(root, devdir, bus, drv);
	if (a.a == ACT_KILL_AFTER)
		die();
	return 0;
}

static int drv_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* drivers_probe_store() + bus_rescan_devices_helper() + device_attach(). */
static int drivers_probe_store(const char *root, const char *bus, const char *val)
{
	char name[256], devdir[PATH_MAX], cur[128], p[PATH_MAX];
	if (!sysfs_name(val, name, sizeof(name)) || find_device(root, bus, name, devdir) < 0)
		return -ENODEV;
	bound_driver(devdir, cur, sizeof(cur));
	if (cur[0])
		return 0;
	if (snprintf(p, sizeof(p), "%s/bus/%s/drivers", root, bus) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	struct dirent **drivers;
	int n = scandir(p, &drivers, NULL, drv_cmp), r = 0;
	for (int i = 0; i < n; i++) {
		const char *d = drivers[i]->d_name;
		if (r == 0 && d[0] != '.' && matches(devdir, d)) {
			/* __device_attach_driver(): a probe error lets the next driver try */
			r = probe(root, devdir, bus, d);
			if (r > 0)
				r = 0;
			else if (r == 0)
				r = 1;
		}
		free(drivers[i]);
	}
	free(drivers);
	return r < 0 ? r : 0;
}

/* What an attribute store does before it applies the value: < 0 its answer, 0 go on. */
static int attr_behaviour(const char *root, const char *devdir, const char *what, struct act *a)
{
	*a = take(devdir, what);
	switch (a->a) {
	case ACT_KILL_BEFORE:
		die();
	case ACT_VANISH:
		unplug(root, devdir);
		return -ENODEV;
	case ACT_HANG:
		return hang(root, devdir);
	case ACT_ERRNO:
		return -a->err;
	default:
		return 0;
	}
}

/* driver_set_override(). */
static int override_store(const char *root, const char *devdir, int fd, const char *val,
			  size_t count)
{
	struct act a;
	int r = attr_behaviour(root, devdir, "driver_override", &a);
	if (r < 0)
		return r;
	if (count >= FAKE_PAGE_SIZE - 1)
		return -EINVAL;
	char content[FAKE_PAGE_SIZE + 8];
	size_t len = strcspn(val, "\n");
	if (len == 0)
		strcpy(content, "(null)\n");
	else
		snprintf(content, sizeof(content), "%.*s\n", (int)len, val);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, content, strlen(content), 0) < 0)
		return -errno;
	if (a.a == ACT_KILL_AFTER)
		die();
	return 0;
}

/* sysfs_streq(): equal, a trailing newline on a aside. */
static bool sysfs_streq(const char *a, const char *b)
{
	size_t n = strlen(b);
	return !strncmp(a, b, n) && (!a[n] || (a[n] == '\n' && !a[n + 1]));
}

/* power/control's control_store(). */
static int power_store(const char *root, const char *devdir, int fd, const char *val)
{
	struct act a;
	int r = attr_behaviour(root, devdir, "power", &a);
	if (r < 0)
		return r;
	const char *v;
	if (sysfs_streq(val, "on"))
		v = "on\n";
	else if (sysfs_streq(val, "auto"))
		v = "auto\n";
	else
		return -EINVAL;
	if (ftruncate(fd, 0) < 0 || pwrite(fd, v, strlen(v), 0) < 0)
		return -errno;
	if (a.a == ACT_KILL_AFTER)
		die();
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a > b && !strcmp(s + a - b, suffix);
}

/* Runs the store behind rel (relative to root); false when rel is no file the fake handles. */
static bool store(const char *root, const char *rel, const char *path, int fd, const char *val,
		  size_t count, int *ret)
{
	char bus[64], drv[128], file[16], dir[PATH_MAX];
	int n = 0;
	if (sscanf(rel, "bus/%63[^/]/drivers/%127[^/]/%15[^/]%n", bus, drv, file, &n) == 3 &&
	    !rel[n] && (!strcmp(file, "bind") || !strcmp(file, "unbind"))) {
		*ret = file[0] == 'b' ? bind_store(root, bus, drv, val)
				      : unbind_store(root, bus, drv, val);
		return true;
	}
	n = 0;
	if (sscanf(rel, "bus/%63[^/]/drivers_probe%n", bus, &n) == 1 && n && !rel[n]) {
		*ret = drivers_probe_store(root, bus, val);
		return true;
	}
	if (strncmp(rel, "devices/", 8))
		return false;
	snprintf(dir, sizeof(dir), "%s", path);
	if (ends_with(rel, "/driver_override")) {
		*strrchr(dir, '/') = '\0';
		*ret = override_store(root, dir, fd, val, count);
		return true;
	}
	if (ends_with(rel, "/power/control")) {
		*strrchr(dir, '/') = '\0';
		*strrchr(dir, '/') = '\0';
		*ret = power_store(root, dir, fd, val);
		return true;
	}
	return false;
}

static void log_write(const char *root, const char *rel, const char *val, int r)
{
	char p[PATH_MAX], esc[512], errbuf[16];
	size_t k = 0;
	for (const char *s = val; *s && k + 3 < sizeof(esc); s++) {
		if (*s == '\n') {
			esc[k++] = '\\';
			esc[k++] = 'n';
		} else
			esc[k++] = *s;
	}
	esc[k] = '\0';
	if (path_join(p, sizeof(p), root, "fake_kernel.log") < 0)
		return;
	/* Never created here: a write let go after its tree was removed must not leave a file
	 * behind in the directories being removed. */
	int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	fprintf(f, "%s %s -> %s\n", rel, esc,
		r < 0 ? errno_name(-r, errbuf, sizeof(errbuf)) : "ok");
	fclose(f);
}

static bool fd_path(int fd, char *buf, size_t size)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, size - 1);
	if (n < 0 || (size_t)n >= size - 1)
		return false;
	buf[n] = '\0';
	return true;
}

static bool under_real_sys(const char *path)
{
	return !strcmp(path, "/sys") || !strncmp(path, "/sys/", 5);
}

ssize_t __wrap_write(int fd, const void *buf, size_t count)
{
	char path[PATH_MAX], root[PATH_MAX];
	if (!fd_path(fd, path, sizeof(path)))
		return __real_write(fd, buf, count);
	if (under_real_sys(path))
		broken_test("a write to the real %s; a test never writes there", path);
	/* The tree the tool sees at /sys: umockdev's testbed (tests/unit/testbed.h). The
	 * descriptor's path is the file's real one, below it. */
	const char *env = getenv("UMOCKDEV_DIR");
	char sys[PATH_MAX];
	if (!env || !*env || snprintf(sys, sizeof(sys), "%s/sys", env) >= (int)sizeof(sys) ||
	    !realpath(sys, root))
		return __real_write(fd, buf, count);
	if (under_real_sys(root))
		broken_test("UMOCKDEV_DIR puts the real %s at /sys", root);
	size_t rl = strlen(root);
	if (strncmp(path, root, rl) || path[rl] != '/')
		return __real_write(fd, buf, count);
	char val[FAKE_PAGE_SIZE + 1];
	size_t n = count < FAKE_PAGE_SIZE ? count : FAKE_PAGE_SIZE;
	memcpy(val, buf, n);
	val[n] = '\0';
	int r = 0;
	pthread_mutex_lock(&kernel_lock);
	bool handled = store(root, path + rl + 1, path, fd, val, count, &r);
	if (handled)
		log_write(root, path + rl + 1, val, r);
	pthread_mutex_unlock(&kernel_lock);
	if (!handled)
		return __real_write(fd, buf, count);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return (ssize_t)count;
}

/* ---- building trees ----------------------------------------------------------------------- */

static int mkdir_p(const char *path)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int put(const char *dir, const char *name, const char *content)
{
	char p[PATH_MAX];
	if (path_join(p, sizeof(p), dir, name) < 0)
		return -ENAMETOOLONG;
	FILE *f = fopen(p, "we");
	if (!f)
		return -errno;
	fputs(content, f);
	return fclose(f) == 0 ? 0 : -errno;
}

static int start_log(const char *root)
{
	char p[PATH_MAX];
	if (path_join(p, sizeof(p), root, "fake_kernel.log") < 0)
		return -ENAMETOOLONG;
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int fake_sysfs_bus(const char *root, const char *bus)
{
	char p[PATH_MAX];
	int r;
	if ((r = mkdir_p(root)) < 0 || (r = start_log(root)) < 0)
		return r;
	if (snprintf(p, sizeof(p), "%s/bus/%s/devices", root, bus) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	if ((r = mkdir_p(p)) < 0)
		return r;
	snprintf(p, sizeof(p), "%s/bus/%s/drivers", root, bus);
	if ((r = mkdir_p(p)) < 0)
		return r;
	*strrchr(p, '/') = '\0';
	if ((r = put(p, "drivers_probe", "")) < 0)
		return r;
	return put(p, "drivers_autoprobe", "1\n");
}

int fake_sysfs_driver(const char *root, const char *bus, const char *drv)
{
	char p[PATH_MAX];
	int r;
	if (snprintf(p, sizeof(p), "%s/bus/%s/drivers/%s", root, bus, drv) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	if ((r = mkdir_p(p)) < 0 || (r = put(p, "bind", "")) < 0)
		return r;
	return put(p, "unbind", "");
}

int fake_sysfs_device(const char *root, const char *rel, const char *bus, const char *drv,
		      bool with_override)
{
	char real[PATH_MAX], devdir[PATH_MAX], p[PATH_MAX], busdir[PATH_MAX];
	int r;
	if (!realpath(root, real))
		return -errno;
	if (strncmp(rel, "devices/", 8))
		return -EINVAL;
	if (snprintf(devdir, sizeof(devdir), "%s/%s", real, rel) >= (int)sizeof(devdir) ||
	    snprintf(p, sizeof(p), "%s/power", devdir) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	if ((r = mkdir_p(p)) < 0 || (r = put(devdir, "uevent", "")) < 0 ||
	    (r = put(p, "control", "auto\n")) < 0 ||
	    (with_override && (r = put(devdir, "driver_override", "(null)\n")) < 0))
		return r;
	snprintf(busdir, sizeof(busdir), "%s/bus/%s", real, bus);
	if ((r = path_join(p, sizeof(p), devdir, "subsystem")) < 0 ||
	    (r = rel_link(real, devdir, busdir, p)) < 0)
		return r;
	if (snprintf(p, sizeof(p), "%s/devices/%s", busdir, strrchr(devdir, '/') + 1) >=
	    (int)sizeof(p))
		return -ENAMETOOLONG;
	strcat(busdir, "/devices");
	if ((r = rel_link(real, busdir, devdir, p)) < 0)
		return r;
	return drv ? link_driver(real, devdir, bus, drv) : 0;
}

int fake_sysfs_rng(const char *root)
{
	char p[PATH_MAX];
	int r;
	if ((r = fake_sysfs_bus(root, "pci")) < 0 || (r = fake_sysfs_bus(root, "virtio")) < 0 ||
	    (r = fake_sysfs_driver(root, "pci", "virtio-pci")) < 0 ||
	    (r = fake_sysfs_driver(root, "pci", "vfio-pci")) < 0 ||
	    (r = fake_sysfs_driver(root, "virtio", "virtio_rng")) < 0 ||
	    (r = fake_sysfs_device(root, FAKE_RNG_PCI, "pci", "virtio-pci", true)) < 0 ||
	    (r = fake_sysfs_device(root, FAKE_RNG_VIRTIO, "virtio", "virtio_rng", false)) < 0)
		return r;
	if ((r = path_join(p, sizeof(p), root, FAKE_RNG_PCI)) < 0 ||
	    (r = fake_sysfs_behave(p, "match virtio-pci")) < 0 ||
	    (r = path_join(p, sizeof(p), root, FAKE_RNG_VIRTIO)) < 0)
		return r;
	return fake_sysfs_behave(p, "match virtio_rng");
}

int fake_sysfs_behave(const char *devdir, const char *fmt, ...)
{
	char p[PATH_MAX];
	if (path_join(p, sizeof(p), devdir, "fake_behaviour") < 0)
		return -ENAMETOOLONG;
	FILE *f = fopen(p, "ae");
	if (!f)
		return -errno;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	return fclose(f) == 0 ? 0 : -errno;
}

int fake_sysfs_behave_clear(const char *devdir)
{
	char p[PATH_MAX];
	if (path_join(p, sizeof(p), devdir, "fake_behaviour") < 0)
		return -ENAMETOOLONG;
	return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
}

int fake_sysfs_release(const char *devdir)
{
	return put(devdir, "fake_release", "");
}

int fake_sysfs_bound(const char *devdir, char *buf, size_t size)
{
	if (!exists(devdir, "uevent"))
		return -ENODEV;
	bound_driver(devdir, buf, size);
	return 0;
}

void fake_sysfs_log_clear(const char *root)
{
	char p[PATH_MAX];
	if (path_join(p, sizeof(p), root, "fake_kernel.log") == 0)
		if (truncate(p, 0) < 0) {
			/* no tree, no log */
		}
}

char *fake_sysfs_log(const char *root)
{
	char p[PATH_MAX];
	char *buf = calloc(1, 1);
	size_t len = 0;
	if (!buf || path_join(p, sizeof(p), root, "fake_kernel.log") < 0)
		return buf;
	FILE *f = fopen(p, "re");
	if (!f)
		return buf;
	char chunk[512];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		char *nb = realloc(buf, len + n + 1);
		if (!nb)
			break;
		buf = nb;
		memcpy(buf + len, chunk, n);
		len += n;
		buf[len] = '\0';
	}
	fclose(f);
	return buf;
}

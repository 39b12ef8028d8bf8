// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probebench/paths.h"

static const char *state_dir_override;

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

const char *pb_sysfs_root(void)
{
	return "/sys";
}

const char *pb_procfs_root(void)
{
	return env_or("PROBEBENCH_PROCFS", "/proc");
}

const char *pb_devfs_root(void)
{
	return env_or("PROBEBENCH_DEVFS", "/dev");
}

const char *pb_rundir_root(void)
{
	return env_or("PROBEBENCH_RUNDIR", "/run");
}

static bool run_has(const char *rel)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", pb_rundir_root(), rel);
	return access(p, F_OK) == 0;
}

bool pb_udevd_running(void)
{
	return run_has("udev/control");
}

bool pb_journald_running(void)
{
	return run_has("systemd/journal/socket");
}

const char *pb_state_dir(void)
{
	if (state_dir_override)
		return state_dir_override;
	return env_or("PROBEBENCH_STATE_DIR", "/var/lib/probebench");
}

void pb_set_state_dir(const char *dir)
{
	state_dir_override = dir;
}

static int vpath(char *buf, size_t size, const char *root, const char *fmt, va_list ap)
{
	int n = snprintf(buf, size, "%s/", root);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	int m = vsnprintf(buf + n, size - n, fmt, ap);
	if (m < 0 || (size_t)m >= size - n)
		return -ENAMETOOLONG;
	return 0;
}

#define DEFINE_PATH_FN(fn, rootfn)                                                                 \
	int fn(char *buf, size_t size, const char *fmt, ...)                                       \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		int r = vpath(buf, size, rootfn(), fmt, ap);                                       \
		va_end(ap);                                                                        \
		return r;                                                                          \
	}

DEFINE_PATH_FN(pb_sys_path, pb_sysfs_root)
DEFINE_PATH_FN(pb_proc_path, pb_procfs_root)
DEFINE_PATH_FN(pb_state_path, pb_state_dir)

// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probebench/paths.h"
#include "probebench/target.h"
#include "probebench/util.h"

int pb_target_from_syspath(const char *path, struct pb_target *ret)
{
	struct pb_target t = {.numa_node = -1};
	int r = pb_realpath(PB_ROOT_SYS, t.syspath, "%s", path);
	if (r < 0)
		return r;
	/* Only device directories: they have a uevent file and a subsystem link. */
	if (pb_access(PB_ROOT_SYS, F_OK, "%s/uevent", t.syspath) < 0)
		return -ENODEV;
	r = pb_readlink_name(PB_ROOT_SYS, t.bus, sizeof(t.bus), "%s/subsystem", t.syspath);
	if (r < 0)
		return r == -ENOENT ? -ENODEV : r;
	const char *slash = strrchr(t.syspath, '/');
	if (!slash || strlen(slash + 1) >= sizeof(t.name))
		return -EINVAL;
	strcpy(t.name, slash + 1);
	r = pb_readlink_name(PB_ROOT_SYS, t.driver, sizeof(t.driver), "%s/driver", t.syspath);
	if (r == -ENOENT)
		t.driver[0] = '\0';
	else if (r < 0)
		return r;
	*ret = t;
	return 0;
}

int pb_target_driver(const struct pb_target *t, char *buf, size_t size)
{
	int r = pb_readlink_name(PB_ROOT_SYS, buf, size, "%s/driver", t->syspath);
	if (r == -ENOENT) {
		if (!pb_target_present(t))
			return -ENODEV;
		buf[0] = '\0';
		return 0;
	}
	return r < 0 ? r : 0;
}

bool pb_target_present(const struct pb_target *t)
{
	return pb_access(PB_ROOT_SYS, F_OK, "%s/uevent", t->syspath) == 0;
}

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
	char buf[PATH_MAX + 64];
	if (!realpath(path, t.syspath))
		return -errno;
	/* Only device directories: they have a uevent file and a subsystem link. */
	int r = snprintf(buf, sizeof(buf), "%s/uevent", t.syspath);
	if (r < 0 || (size_t)r >= sizeof(buf))
		return -ENAMETOOLONG;
	if (access(buf, F_OK) < 0)
		return -ENODEV;
	snprintf(buf, sizeof(buf), "%s/subsystem", t.syspath);
	r = pb_readlink_base(buf, t.bus, sizeof(t.bus));
	if (r < 0)
		return r == -ENOENT ? -ENODEV : r;
	const char *slash = strrchr(t.syspath, '/');
	if (!slash || strlen(slash + 1) >= sizeof(t.name))
		return -EINVAL;
	strcpy(t.name, slash + 1);
	snprintf(buf, sizeof(buf), "%s/driver", t.syspath);
	r = pb_readlink_base(buf, t.driver, sizeof(t.driver));
	if (r == -ENOENT)
		t.driver[0] = '\0';
	else if (r < 0)
		return r;
	*ret = t;
	return 0;
}

int pb_target_driver(const struct pb_target *t, char *buf, size_t size)
{
	char p[PATH_MAX + 64];
	if (snprintf(p, sizeof(p), "%s/driver", t->syspath) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	int r = pb_readlink_base(p, buf, size);
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
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/uevent", t->syspath);
	return access(p, F_OK) == 0;
}

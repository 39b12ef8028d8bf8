// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "probebench/journal.h"
#include "probebench/paths.h"
#include "probebench/util.h"

static const char *const state_names[] = {
    [PB_JOURNAL_ARMED] = "armed",
    [PB_JOURNAL_CYCLING] = "cycling",
    [PB_JOURNAL_HUNG] = "hung",
};

const char *pb_journal_state_name(enum pb_journal_state s)
{
	return (unsigned)s < PB_ARRAY_SIZE(state_names) ? state_names[s] : "unknown";
}

int pb_journal_state_from_name(const char *name)
{
	for (size_t i = 0; i < PB_ARRAY_SIZE(state_names); i++)
		if (name && !strcmp(name, state_names[i]))
			return (int)i;
	return -EINVAL;
}

struct json_object *pb_journal_entry_to_json(const struct pb_journal_entry *e)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "syspath", json_object_new_string(e->syspath));
	json_object_object_add(o, "bus", json_object_new_string(e->bus));
	json_object_object_add(o, "sysname", json_object_new_string(e->sysname));
	json_object_object_add(o, "driver", json_object_new_string(e->driver));
	json_object_object_add(o, "driver_override", json_object_new_string(e->driver_override));
	json_object_object_add(o, "power_control", json_object_new_string(e->power_control));
	if (e->module[0]) {
		json_object_object_add(o, "module", json_object_new_string(e->module));
		json_object_object_add(o, "module_options",
				       json_object_new_string(e->module_options));
	}
	json_object_object_add(o, "state", json_object_new_string(pb_journal_state_name(e->state)));
	json_object_object_add(o, "pid", json_object_new_int(e->pid));
	json_object_object_add(o, "boot_id", json_object_new_string(e->boot_id));
	json_object_object_add(o, "time_unix_ns", json_object_new_int64(e->time_unix_ns));
	return o;
}

static int get_str(struct json_object *o, const char *key, char *buf, size_t size, bool required)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v)) {
		if (required)
			return -EINVAL;
		buf[0] = '\0';
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	const char *s = json_object_get_string(v);
	if (strlen(s) >= size)
		return -EINVAL;
	strcpy(buf, s);
	return 0;
}

/* A name that stays one path component: not empty, not "." or "..", no '/', no control
 * characters. */
static bool name_ok(const char *s)
{
	if (!s[0] || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

bool pb_journal_syspath_ok(const char *syspath)
{
	static const char prefix[] = "/devices/";
	const char *p = pb_root_strip(PB_ROOT_SYS, syspath);
	if (!p || strncmp(p, prefix, sizeof(prefix) - 1))
		return false;
	for (const char *c = p + sizeof(prefix) - 2; *c;) { /* at each '/' */
		const char *next = strchr(c + 1, '/');
		size_t len = next ? (size_t)(next - c - 1) : strlen(c + 1);
		char comp[256];
		if (!len || len >= sizeof(comp))
			return false;
		memcpy(comp, c + 1, len);
		comp[len] = '\0';
		if (!name_ok(comp))
			return false;
		if (!next)
			break;
		c = next;
	}
	return true;
}

int pb_journal_entry_from_json(struct json_object *o, struct pb_journal_entry *ret)
{
	struct pb_journal_entry e = {0};
	char state[32];
	struct json_object *v;
	if (!o || !json_object_is_type(o, json_type_object))
		return -EINVAL;
	if (get_str(o, "syspath", e.syspath, sizeof(e.syspath), true) < 0 ||
	    get_str(o, "bus", e.bus, sizeof(e.bus), true) < 0 ||
	    get_str(o, "sysname", e.sysname, sizeof(e.sysname), true) < 0 ||
	    get_str(o, "driver", e.driver, sizeof(e.driver), true) < 0 ||
	    get_str(o, "driver_override", e.driver_override, sizeof(e.driver_override), false) <
		0 ||
	    get_str(o, "power_control", e.power_control, sizeof(e.power_control), false) < 0 ||
	    get_str(o, "boot_id", e.boot_id, sizeof(e.boot_id), false) < 0 ||
	    get_str(o, "module", e.module, sizeof(e.module), false) < 0 ||
	    get_str(o, "module_options", e.module_options, sizeof(e.module_options), false) < 0 ||
	    get_str(o, "state", state, sizeof(state), true) < 0)
		return -EINVAL;
	int s = pb_journal_state_from_name(state);
	if (s < 0 || !pb_journal_syspath_ok(e.syspath) || !name_ok(e.sysname) ||
	    !name_ok(e.driver) || !name_ok(e.bus) || (e.module[0] && !name_ok(e.module)))
		return -EINVAL;
	e.state = (enum pb_journal_state)s;
	if (json_object_object_get_ex(o, "pid", &v))
		e.pid = (pid_t)json_object_get_int(v);
	if (json_object_object_get_ex(o, "time_unix_ns", &v))
		e.time_unix_ns = json_object_get_int64(v);
	*ret = e;
	return 0;
}

int pb_journal_entry_parse(const char *text, struct pb_journal_entry *ret)
{
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	size_t len = strlen(text);
	struct json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	/* one JSON value and nothing after it but white space */
	bool whole = o && json_tokener_get_error(tok) == json_tokener_success;
	for (size_t i = whole ? json_tokener_get_parse_end(tok) : len; whole && i < len; i++)
		if (!strchr(" \t\r\n", text[i]))
			whole = false;
	json_tokener_free(tok);
	int r = whole ? pb_journal_entry_from_json(o, ret) : -EINVAL;
	json_object_put(o);
	return r;
}

void pb_journal_boot_id(char *buf, size_t size)
{
	if (pb_read_attr(PB_ROOT_PROC, buf, size, "sys/kernel/random/boot_id") < 0)
		buf[0] = '\0';
}

bool pb_journal_hung_now(const struct pb_journal_entry *e, const char *current_boot_id)
{
	if (e->state != PB_JOURNAL_HUNG)
		return false;
	/* Unknown on either side: keep the mark, the safe side. */
	if (!e->boot_id[0] || !current_boot_id[0])
		return true;
	return strcmp(e->boot_id, current_boot_id) == 0;
}

int pb_journal_file_name(const char *sysname, char *buf, size_t size)
{
	int n = snprintf(buf, size, "journal-%s.json", sysname);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	for (char *p = buf + strlen("journal-"); p < buf + n - strlen(".json"); p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			*p = '_';
	return 0;
}

int pb_journal_lock(pid_t *ret_holder)
{
	int r = pb_state_dir_create();
	if (r == 0)
		r = pb_state_dir_check();
	if (r < 0)
		return r;
	int fd = pb_open_file(PB_ROOT_STATE, O_RDWR | O_CREAT, "lock");
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0 || !pb_owned_safely(&st)) {
		close(fd);
		return -EPERM;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		char buf[32] = "";
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		long pid = 0;
		if (n > 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			if (pb_parse_long(buf, 10, 1, INT_MAX, &pid) < 0)
				pid = 0;
		}
		if (ret_holder)
			*ret_holder = (pid_t)pid;
		close(fd);
		return r == -EWOULDBLOCK ? -EWOULDBLOCK : r;
	}
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, n, 0) < 0) {
		/* The pid is informational only. */
	}
	return fd;
}

void pb_journal_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int pb_journal_write(const struct pb_journal_entry *e)
{
	char name[300];
	int r = pb_journal_file_name(e->sysname, name, sizeof(name));
	if (r < 0)
		return r;
	if ((r = pb_state_dir_create()) < 0)
		return r;
	struct json_object *o = pb_journal_entry_to_json(e);
	if (!o)
		return -ENOMEM;
	_cleanup_free_ char *text = NULL;
	if (asprintf(&text, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0)
		text = NULL;
	json_object_put(o);
	if (!text)
		return -ENOMEM;
	return pb_write_atomic(PB_ROOT_STATE, name, text, strlen(text), 0600, 0);
}

int pb_journal_remove(const char *sysname)
{
	char name[300];
	int r = pb_journal_file_name(sysname, name, sizeof(name));
	if (r < 0)
		return r;
	r = pb_unlink(PB_ROOT_STATE, "%s", name);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	return pb_fsync_dir(PB_ROOT_STATE, ".");
}

int pb_journal_load(struct pb_journal_entry **ret, size_t *ret_n, size_t *ret_bad)
{
	DIR *d;
	int r = pb_opendir(PB_ROOT_STATE, &d, ".");
	if (r < 0) {
		if (r == -ENOENT) {
			*ret = NULL;
			*ret_n = 0;
			if (ret_bad)
				*ret_bad = 0;
			return 0;
		}
		return r;
	}
	struct pb_journal_entry *v = NULL;
	size_t n = 0, bad = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (strncmp(de->d_name, "journal-", 8) || l < 14 ||
		    strcmp(de->d_name + l - 5, ".json"))
			continue;
		char *text = NULL;
		struct stat st;
		/* only regular files of this user that nobody else could have written, and no
		 * longer than an entry can be */
		int dfd = pb_root_fd(PB_ROOT_STATE);
		if (pb_stat(PB_ROOT_STATE, &st, AT_SYMLINK_NOFOLLOW, "%s", de->d_name) == 0 &&
		    S_ISREG(st.st_mode) && pb_owned_safely(&st) && dfd >= 0)
			pb_read_regular_at(dfd, de->d_name, O_NOFOLLOW, PB_JOURNAL_MAX_SIZE, &text,
					   NULL);
		struct pb_journal_entry e;
		int k = text ? pb_journal_entry_parse(text, &e) : -EINVAL;
		free(text);
		if (k < 0) {
			bad++;
			continue;
		}
		struct pb_journal_entry *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		v[n++] = e;
	}
	closedir(d);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	if (ret_bad)
		*ret_bad = bad;
	return 0;
}

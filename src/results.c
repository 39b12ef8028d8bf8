// SPDX-License-Identifier: GPL-2.0-or-later
/* Stores run records as files and applies retention. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "probebench/paths.h"
#include "probebench/results.h"
#include "probebench/util.h"

int pb_result_id_make(uint64_t realtime_ns, const char *plan, char *buf, size_t size)
{
	time_t t = (time_t)(realtime_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&t, &tm);
	int n = snprintf(buf, size, "%04d%02d%02dT%02d%02d%02d.%03uZ-%s", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned)(realtime_ns / 1000000ull % 1000), plan);
	if (n < 0 || (size_t)n >= size || (size_t)n >= PB_RESULT_ID_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int pb_result_id_parse(const char *id, uint64_t *ret_realtime_ns, const char **ret_plan)
{
	/* YYYYMMDDTHHMMSS.mmmZ-plan */
	static const char pat[] = "ddddddddTdddddd.dddZ-";
	size_t len = strlen(id);
	if (len <= sizeof(pat) - 1 || len >= PB_RESULT_ID_MAX)
		return -EINVAL;
	for (size_t i = 0; pat[i]; i++)
		if (pat[i] == 'd' ? !isdigit((unsigned char)id[i]) : id[i] != pat[i])
			return -EINVAL;
	const char *plan = id + sizeof(pat) - 1;
	for (const char *p = plan; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return -EINVAL;
	if (plan[0] == '.')
		return -EINVAL;
	struct tm tm = {0};
	unsigned ms;
	if (sscanf(id, "%4d%2d%2dT%2d%2d%2d.%3uZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	if (ret_realtime_ns)
		*ret_realtime_ns = (uint64_t)t * 1000000000ull + ms * 1000000ull;
	if (ret_plan)
		*ret_plan = plan;
	return 0;
}

bool pb_result_id_valid(const char *id)
{
	return pb_result_id_parse(id, NULL, NULL) == 0;
}

/* The path of a stored run: -EINVAL for an id that is not ours (nothing outside dir). */
static int result_path(const char *dir, const char *id, char *buf, size_t size)
{
	if (!pb_result_id_valid(id))
		return -EINVAL;
	int n = snprintf(buf, size, "%s/%s.json", dir, id);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int pb_results_write(const char *dir, const char *id, const char *json_text)
{
	char path[4096];
	int r = result_path(dir, id, path, sizeof(path));
	if (r < 0)
		return r;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return pb_write_file_atomic(path, json_text, strlen(json_text), 0644, 0);
}

int pb_results_read(const char *dir, const char *id, char **ret_text)
{
	char path[4096];
	int r = result_path(dir, id, path, sizeof(path));
	return r < 0 ? r
		     : pb_read_regular_at(AT_FDCWD, path, O_NOFOLLOW, PB_RESULT_MAX_SIZE, ret_text,
					  NULL);
}

int pb_results_open(const char *dir, const char *id, uint64_t *ret_size)
{
	char path[4096];
	int r = result_path(dir, id, path, sizeof(path));
	if (r < 0)
		return r;
	int fd = pb_open_regular_at(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW);
	struct stat st;
	if (fd < 0)
		return fd;
	r = fstat(fd, &st) < 0 ? -errno : st.st_size > PB_RESULT_MAX_SIZE ? -EFBIG : 0;
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_size = (uint64_t)st.st_size;
	return fd;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void pb_results_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

int pb_results_list(const char *dir, char ***ret_ids, size_t *ret_n)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT) {
			*ret_ids = NULL;
			*ret_n = 0;
			return 0;
		}
		return -errno;
	}
	char **ids = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		char id[PB_RESULT_ID_MAX];
		if (len - 5 >= sizeof(id))
			continue;
		memcpy(id, e->d_name, len - 5);
		id[len - 5] = 0;
		if (!pb_result_id_valid(id))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nids = realloc(ids, cap * sizeof(*ids));
			if (!nids) {
				r = -ENOMEM;
				break;
			}
			ids = nids;
		}
		if (!(ids[n] = strdup(id))) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r < 0) {
		pb_results_ids_free(ids, n);
		return r;
	}
	if (n)
		qsort(ids, n, sizeof(*ids), cmp_str);
	*ret_ids = ids;
	*ret_n = n;
	return 0;
}

size_t pb_retention_select(char *const *ids, size_t n, unsigned count, uint64_t age_ns,
			   uint64_t now_realtime_ns, bool *ret_delete)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool del = count && n - i > count;
		uint64_t t;
		/* older than age: t < now - age, which only a clock past age can reach (t + age
		 * would wrap for an age near 2^64 ns and make every run "old") */
		if (!del && age_ns && age_ns < now_realtime_ns &&
		    pb_result_id_parse(ids[i], &t, NULL) == 0 && t < now_realtime_ns - age_ns)
			del = true;
		ret_delete[i] = del;
		k += del;
	}
	return k;
}

int pb_results_apply_retention(const char *dir, unsigned count, uint64_t age_ns,
			       uint64_t now_realtime_ns)
{
	char **ids;
	size_t n;
	int r = pb_results_list(dir, &ids, &n);
	if (r < 0)
		return r;
	_cleanup_free_ bool *del = calloc(n ? n : 1, sizeof(bool));
	if (!del) {
		pb_results_ids_free(ids, n);
		return -ENOMEM;
	}
	pb_retention_select(ids, n, count, age_ns, now_realtime_ns, del);
	int removed = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		if (!del[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s.json", dir, ids[i]);
		if (unlink(path) == 0)
			removed++;
		else if (errno != ENOENT && r == 0)
			r = -errno;
	}
	pb_results_ids_free(ids, n);
	return r < 0 ? r : removed;
}

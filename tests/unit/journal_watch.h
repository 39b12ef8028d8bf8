/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Counts what happens to the journal's files in a state directory, as the kernel sees it
 * (inotify): every pb_journal_write() ends in a rename onto journal-<sysname>.json
 * (IN_MOVED_TO), every pb_journal_remove() in an unlink (IN_DELETE). Temporary files and the lock
 * are not counted, but watched: the kernel merges an event into the last one queued when both
 * are the same, so two renames onto the same name count as two only with the temporary file's
 * events between them.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

struct journal_watch {
	int fd;
	unsigned writes, removes; /* journal files renamed into place, removed */
};

/* Watches dir (which must exist). 0, or -errno. */
static inline int journal_watch_start(struct journal_watch *jw, const char *dir)
{
	jw->writes = jw->removes = 0;
	jw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (jw->fd < 0)
		return -errno;
	if (inotify_add_watch(jw->fd, dir, IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE) <
	    0) {
		int r = -errno;
		close(jw->fd);
		jw->fd = -1;
		return r;
	}
	return 0;
}

static inline bool journal_watch_is_entry(const struct inotify_event *ev)
{
	size_t l = ev->len ? strlen(ev->name) : 0;
	return l > 13 && !strncmp(ev->name, "journal-", 8) && !strcmp(ev->name + l - 5, ".json");
}

/* Takes in the events so far: jw->writes and jw->removes count them since the start. */
static inline void journal_watch_poll(struct journal_watch *jw)
{
	char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	while ((n = read(jw->fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (journal_watch_is_entry(ev)) {
				if (ev->mask & IN_MOVED_TO)
					jw->writes++;
				if (ev->mask & IN_DELETE)
					jw->removes++;
			}
			p += sizeof(*ev) + ev->len;
		}
}

static inline void journal_watch_stop(struct journal_watch *jw)
{
	if (jw->fd >= 0)
		close(jw->fd);
	jw->fd = -1;
}

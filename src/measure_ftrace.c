// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * An ftrace instance as the observer's buffer (run --buffer ftrace): the kernel's own per-CPU
 * ring buffers under tracefs instances/NAME, holding no file descriptor while they fill. The
 * events are enabled in the instance once; its tracing_on (one descriptor, kept open) turns
 * recording on and off for the windows. The records are read after the window through each CPU's
 * per_cpu/cpuN/trace_pipe_raw in turn (one descriptor at a time), sub-buffer by sub-buffer, and
 * split into events with libtraceevent's kbuffer. The instance's clock is "mono"
 * (CLOCK_MONOTONIC: the timestamps compare with the write's). It does not overwrite: a full CPU
 * buffer drops new records and counts them ("dropped events" in per_cpu/cpuN/stats), so losses
 * are exact per CPU.
 *
 * Compared with perf events (measure_perf.c): descriptors and threads do not grow with the CPUs
 * (perf needs one descriptor per event per CPU); a record costs the traced task a third to a
 * fifth of a perf sample (bench/trace_cost.c); there is no counting-only event, so the slab
 * allocations are records too (their counts exact while nothing is dropped), and no reader runs
 * during the window (perf's spill thread needs a descriptor per CPU to poll): what a window writes
 * on one CPU beyond its buffer is dropped, and counted.
 *
 * Instances are named probebench_PID_N; those of processes that are gone (killed before they
 * removed them) are removed when the next one opens.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event-parse.h>
#include <kbuffer.h>
#include <tracefs.h>

#include "probebench/measure.h"
#include "probebench/util.h"

struct pb_ftbuf {
	struct tracefs_instance *inst;
	char name[64];
	int on_fd; /* tracing_on */
	bool on;
	long n_cpus;
	size_t kb_per_cpu;
	uint64_t bytes;	 /* buffer_total_size_kb as the kernel made it */
	size_t last_max; /* the last read: bytes of the CPU that had the most */
	void *page;	 /* one sub-buffer */
	int page_size;
	struct kbuffer *kbuf;
};

static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned seq;

struct stale_ctx {
	char names[64][64];
	size_t n;
};

static int stale_cb(const char *name, void *ud)
{
	struct stale_ctx *c = ud;
	long pid = pb_ftrace_instance_pid(name);
	if (pid < 0 || pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
		return 0;
	if (c->n < sizeof(c->names) / sizeof(c->names[0]))
		snprintf(c->names[c->n++], sizeof(c->names[0]), "%s", name);
	return 0;
}

int pb_ftbuf_remove_stale(void)
{
	struct stale_ctx c = {.n = 0};
	int removed = 0;
	if (tracefs_instances_walk(stale_cb, &c) < 0)
		return 0;
	for (size_t i = 0; i < c.n; i++) {
		struct tracefs_instance *in = tracefs_instance_alloc(NULL, c.names[i]);
		if (!in)
			continue;
		tracefs_instance_file_write(in, "tracing_on", "0");
		tracefs_instance_file_write(in, "events/enable",
					    "0"); /* one write, not per system */
		if (tracefs_instance_destroy(in) == 0)
			removed++;
		tracefs_instance_free(in);
	}
	return removed;
}

static int ft_write(struct pb_ftbuf *b, const char *file, const char *val, char *why,
		    size_t why_size)
{
	if (tracefs_instance_file_write(b->inst, file, val) >= 0)
		return 0;
	int e = errno ? errno : EIO;
	snprintf(why, why_size, "cannot write \"%s\" to tracefs instances/%s/%s: %s", val, b->name,
		 file, strerror(e));
	return -e;
}

int pb_ftbuf_open(const char *role, const struct pb_ftbuf_event *ev, size_t n, size_t kb_per_cpu,
		  struct pb_ftbuf **ret, char *why, size_t why_size)
{
	struct pb_ftbuf *b = calloc(1, sizeof(*b));
	int r;
	if (!b)
		return -ENOMEM;
	b->on_fd = -1;
	b->n_cpus = sysconf(_SC_NPROCESSORS_CONF);
	b->kb_per_cpu = kb_per_cpu;
	if (!tracefs_tracing_dir()) {
		snprintf(why, why_size, "tracefs is not mounted (nor could it be)");
		r = -ENOENT;
		goto fail;
	}
	pthread_mutex_lock(&seq_lock);
	if (seq == 0)
		pb_ftbuf_remove_stale();
	unsigned k = seq++;
	pthread_mutex_unlock(&seq_lock);
	snprintf(b->name, sizeof(b->name), PB_FTRACE_INSTANCE_PREFIX "%d_%u_%s", (int)getpid(), k,
		 role);
	b->inst = tracefs_instance_create(b->name);
	if (!b->inst) {
		r = errno ? -errno : -EIO;
		snprintf(why, why_size, "cannot create the tracefs instance instances/%s: %s",
			 b->name, strerror(-r));
		goto fail;
	}
	char kb[32];
	snprintf(kb, sizeof(kb), "%zu", kb_per_cpu);
	/* off before anything is enabled; the clock CLOCK_MONOTONIC; full buffers drop */
	if ((r = ft_write(b, "tracing_on", "0", why, why_size)) < 0 ||
	    (r = ft_write(b, "trace_clock", "mono", why, why_size)) < 0 ||
	    (r = ft_write(b, "options/overwrite", "0", why, why_size)) < 0 ||
	    (r = ft_write(b, "buffer_size_kb", kb, why, why_size)) < 0)
		goto fail;
	/* each event's own enable file (tracefs_event_enable() takes regular expressions and
	 * walks every system and event of the instance) */
	for (size_t i = 0; i < n; i++) {
		char path[160];
		snprintf(path, sizeof(path), "events/%s/%s/enable", ev[i].sys, ev[i].name);
		if (tracefs_instance_file_write(b->inst, path, "1") < 0) {
			r = errno ? -errno : -ENOENT;
			snprintf(why, why_size, "cannot enable %s:%s in tracefs instances/%s: %s",
				 ev[i].sys, ev[i].name, b->name, strerror(-r));
			goto fail;
		}
	}
	b->on_fd = tracefs_instance_file_open(b->inst, "tracing_on", O_WRONLY | O_CLOEXEC);
	if (b->on_fd < 0) {
		r = errno ? -errno : -EIO;
		snprintf(why, why_size, "cannot open instances/%s/tracing_on: %s", b->name,
			 strerror(-r));
		goto fail;
	}
	/* what the kernel allocated (whole sub-buffers, every CPU) rather than what was asked */
	char *tot = tracefs_instance_file_read(b->inst, "buffer_total_size_kb", NULL);
	unsigned long long tkb;
	b->bytes = tot && sscanf(tot, "%llu", &tkb) == 1
		       ? tkb * 1024
		       : (uint64_t)kb_per_cpu * 1024 * (uint64_t)b->n_cpus;
	free(tot);
	b->page_size = (int)sysconf(_SC_PAGESIZE);
	b->page = malloc((size_t)b->page_size);
	b->kbuf = kbuffer_alloc(sizeof(long) == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4,
				__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? KBUFFER_ENDIAN_BIG
								       : KBUFFER_ENDIAN_LITTLE);
	if (!b->page || !b->kbuf) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = b;
	return 0;
fail:
	pb_ftbuf_free(b);
	return r;
}

int pb_ftbuf_on(struct pb_ftbuf *b, bool on)
{
	if (pwrite(b->on_fd, on ? "1" : "0", 1, 0) != 1)
		return errno ? -errno : -EIO;
	b->on = on;
	return 0;
}

int pb_ftbuf_set_filter(struct pb_ftbuf *b, const char *sys, const char *name, const char *filter)
{
	char path[160];
	snprintf(path, sizeof(path), "events/%s/%s/filter", sys, name);
	if (tracefs_instance_file_write(b->inst, path, filter) < 0)
		return errno ? -errno : -EINVAL;
	return 0;
}

/* Sub-buffer by sub-buffer, the records of one CPU, to fn. The reader page may be partly filled
 * (a window's last records): the kernel hands it over as it is. */
static int read_cpu(struct pb_ftbuf *b, int cpu, pb_ftbuf_fn fn, void *ud)
{
	struct tracefs_cpu *tc = tracefs_cpu_open(b->inst, cpu, true);
	int r = 0;
	size_t bytes = 0;
	if (!tc)
		return errno == ENOENT || errno == ENODEV ? 0 : -errno; /* offline CPU */
	for (;;) {
		int got = tracefs_cpu_read(tc, b->page, true);
		if (got <= 0) {
			if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != 0)
				r = -errno;
			break;
		}
		bytes += (size_t)got;
		if (kbuffer_load_subbuffer(b->kbuf, b->page) < 0) {
			r = -EINVAL;
			break;
		}
		unsigned long long ts;
		for (void *d = kbuffer_read_event(b->kbuf, &ts); d;
		     d = kbuffer_next_event(b->kbuf, &ts)) {
			r = fn(cpu, ts, d, kbuffer_event_size(b->kbuf), ud);
			if (r < 0)
				break;
		}
		if (r < 0)
			break;
	}
	tracefs_cpu_close(tc);
	if (bytes > b->last_max)
		b->last_max = bytes;
	return r;
}

int pb_ftbuf_read(struct pb_ftbuf *b, pb_ftbuf_fn fn, void *ud)
{
	int r = 0;
	b->last_max = 0;
	for (long cpu = 0; cpu < b->n_cpus && r == 0; cpu++)
		r = read_cpu(b, (int)cpu, fn, ud);
	return r;
}

int pb_ftbuf_dropped(struct pb_ftbuf *b, uint64_t *total)
{
	uint64_t sum = 0;
	for (long cpu = 0; cpu < b->n_cpus; cpu++) {
		char path[64];
		snprintf(path, sizeof(path), "per_cpu/cpu%ld/stats", cpu);
		char *s = tracefs_instance_file_read(b->inst, path, NULL);
		if (!s)
			continue; /* offline CPU */
		uint64_t v;
		int ok = pb_ftrace_stats_dropped(s, &v) == 0;
		free(s);
		if (!ok)
			return -EIO;
		sum += v;
	}
	*total = sum;
	return 0;
}

double pb_ftbuf_last_fill(const struct pb_ftbuf *b)
{
	return b && b->kb_per_cpu ? (double)b->last_max / ((double)b->kb_per_cpu * 1024) : 0;
}

unsigned pb_ftbuf_fds(const struct pb_ftbuf *b)
{
	return b && b->on_fd >= 0 ? 1 : 0;
}

uint64_t pb_ftbuf_bytes(const struct pb_ftbuf *b)
{
	return b ? b->bytes : 0;
}

void pb_ftbuf_free(struct pb_ftbuf *b)
{
	if (!b)
		return;
	if (b->inst) {
		tracefs_instance_file_write(b->inst, "tracing_on", "0");
		tracefs_instance_file_write(b->inst, "events/enable", "0");
	}
	if (b->on_fd >= 0)
		close(b->on_fd);
	if (b->inst) {
		/* rmdir fails with EBUSY while anyone has one of the instance's files open (a
		 * reader of its trace_clock, say): tried again for up to 200 ms; an instance left
		 * behind anyway is removed by the next probebench that opens one */
		for (int i = 0; i < 100 && tracefs_instance_destroy(b->inst) < 0 && errno == EBUSY;
		     i++)
			usleep(2000);
		tracefs_instance_free(b->inst);
	}
	if (b->kbuf)
		kbuffer_free(b->kbuf);
	free(b->page);
	free(b);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What one traced event costs the task that hits it, by the kernel interface that records it:
 * a perf tracepoint event that only counts (what the observer's slab events are), one that
 * writes a sample (the observer's other events: TID, TIME, CPU, RAW, IDENTIFIER, CLOCK_MONOTONIC)
 * and an ftrace instance's per-CPU ring buffer (the same event, trace_clock mono). The event is
 * raw_syscalls:sys_enter, hit exactly once per getppid() call; the caller is pinned to one CPU
 * and each interface watches that CPU only. Rounds run every mode once, in rotating order; each
 * mode times CHUNK calls (CLOCK_MONOTONIC) and the perf ring is emptied between chunks, outside
 * the timing. Prints the median ns per call of each mode, the ns an event adds to it, and the
 * ratios side by side. Needs root (perf for all tasks of a CPU, tracefs); changes no device.
 * Usage: trace_cost [ROUNDS [CHUNK]] (defaults 40 and 5000). A killed run leaves its instance
 * behind: rmdir /sys/kernel/tracing/instances/probebench-trace-cost-PID.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <tracefs.h>
#include <unistd.h>

enum mode { M_OFF, M_COUNT, M_SAMPLE, M_FTRACE, M_N };
static const char *mode_name[M_N] = {"off", "perf counting", "perf sampling", "ftrace instance"};

#define RING_PAGES 64

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static long event_id(const char *sys, const char *name)
{
	char path[512];
	const char *dir = tracefs_tracing_dir();
	if (!dir)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/events/%s/%s/id", dir, sys, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	long id = -1;
	if (fscanf(f, "%ld", &id) != 1)
		id = -EINVAL;
	fclose(f);
	return id;
}

static int perf_open(long id, int cpu, int sample)
{
	struct perf_event_attr a = {
	    .size = sizeof(a),
	    .type = PERF_TYPE_TRACEPOINT,
	    .config = (uint64_t)id,
	    .sample_period = sample ? 1 : 0,
	    .sample_type = sample ? PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
					PERF_SAMPLE_CPU | PERF_SAMPLE_RAW
				  : 0,
	    .use_clockid = 1,
	    .clockid = CLOCK_MONOTONIC,
	    .disabled = 1,
	    .wakeup_events = 1u << 30,
	};
	return (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* CHUNK getppid() calls, timed; ns per call. */
static double chunk(long n)
{
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return (double)(now_ns() - t0) / (double)n;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 40;
	long n = argc > 2 ? atol(argv[2]) : 5000;
	if (rounds < 1 || n < 1) {
		fprintf(stderr, "usage: trace_cost [ROUNDS [CHUNK]]\n");
		return 2;
	}
	int cpu = sched_getcpu();
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		perror("trace_cost: sched_setaffinity");
		return 1;
	}
	long id = event_id("raw_syscalls", "sys_enter");
	if (id < 0) {
		fprintf(stderr, "trace_cost: no tracepoint raw_syscalls:sys_enter: %s\n",
			strerror((int)-id));
		return 77;
	}
	int fd_count = perf_open(id, cpu, 0), fd_sample = perf_open(id, cpu, 1);
	if (fd_count < 0 || fd_sample < 0) {
		perror("trace_cost: perf_event_open (root?)");
		return 77;
	}
	long page = sysconf(_SC_PAGESIZE);
	size_t ring = (size_t)RING_PAGES * (size_t)page;
	struct perf_event_mmap_page *meta =
	    mmap(NULL, ring + (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd_sample, 0);
	if (meta == MAP_FAILED) {
		perror("trace_cost: mmap");
		return 1;
	}
	char name[64];
	snprintf(name, sizeof(name), "probebench-trace-cost-%d", (int)getpid());
	struct tracefs_instance *inst = tracefs_instance_create(name);
	if (!inst) {
		perror("trace_cost: tracefs instance");
		return 77;
	}
	int rc = 1;
	if (tracefs_instance_file_write(inst, "trace_clock", "mono") < 0 ||
	    tracefs_event_disable(inst, NULL, NULL) < 0) {
		perror("trace_cost: tracefs instance set-up");
		goto out;
	}
	double *v[M_N];
	for (int m = 0; m < M_N; m++)
		if (!(v[m] = calloc((size_t)rounds, sizeof(double)))) {
			perror("trace_cost");
			goto out;
		}
	uint64_t bytes = 0;
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < M_N; k++) {
			int m = (r + k) % M_N;
			if (m == M_COUNT)
				ioctl(fd_count, PERF_EVENT_IOC_ENABLE, 0);
			if (m == M_SAMPLE)
				ioctl(fd_sample, PERF_EVENT_IOC_ENABLE, 0);
			if (m == M_FTRACE &&
			    tracefs_event_enable(inst, "raw_syscalls", "sys_enter") < 0) {
				perror("trace_cost: enable in the instance");
				goto out;
			}
			/* the sampling ring holds RING_PAGES pages: time it in slices that fill a
			 * quarter of it at most (a sample of this event is under 128 bytes) */
			long slice = m == M_SAMPLE ? (long)(ring / 4 / 128) : n, done = 0;
			double ns = 0;
			while (done < n) {
				long k2 = n - done < slice ? n - done : slice;
				ns += chunk(k2) * (double)k2;
				done += k2;
				if (m == M_SAMPLE) {
					uint64_t head =
					    __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
					bytes += head - meta->data_tail;
					__atomic_store_n(&meta->data_tail, head, __ATOMIC_RELEASE);
				}
			}
			v[m][r] = ns / (double)n;
			if (m == M_COUNT)
				ioctl(fd_count, PERF_EVENT_IOC_DISABLE, 0);
			if (m == M_SAMPLE)
				ioctl(fd_sample, PERF_EVENT_IOC_DISABLE, 0);
			if (m == M_FTRACE)
				tracefs_event_disable(inst, "raw_syscalls", "sys_enter");
		}
	}
	uint64_t counted = 0;
	if (read(fd_count, &counted, sizeof(counted)) != sizeof(counted))
		counted = 0;
	double med[M_N];
	for (int m = 0; m < M_N; m++) {
		qsort(v[m], (size_t)rounds, sizeof(double), cmp_double);
		med[m] = v[m][rounds / 2];
	}
	printf("raw_syscalls:sys_enter on CPU %d, %d rounds x %ld getppid() calls per mode "
	       "(rotating order; CLOCK_MONOTONIC)\n",
	       cpu, rounds, n);
	for (int m = 0; m < M_N; m++)
		printf("%-16s %7.1f ns per call, %+6.1f ns per event\n", mode_name[m], med[m],
		       med[m] - med[M_OFF]);
	double c = med[M_COUNT] - med[M_OFF], s = med[M_SAMPLE] - med[M_OFF],
	       f = med[M_FTRACE] - med[M_OFF];
	printf("per event: perf sampling / perf counting %.2f, perf sampling / ftrace instance "
	       "%.2f, ftrace instance / perf counting %.2f\n",
	       c > 0 ? s / c : 0, f > 0 ? s / f : 0, c > 0 ? f / c : 0);
	printf("check: the counting event saw %" PRIu64 " events for %" PRIu64
	       " calls; the sampling ring received %" PRIu64 " bytes (%.0f a call)\n",
	       counted, (uint64_t)rounds * (uint64_t)n, bytes,
	       (double)bytes / ((double)rounds * (double)n));
	rc = 0;
out:
	tracefs_instance_destroy(inst);
	tracefs_instance_free(inst);
	return rc;
}

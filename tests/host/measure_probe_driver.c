// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test and benchmark driver for the observer on the host's virtio-rng function (1af4:1044, found
 * by id, never by position). Holding the shared rng lock, it unbinds the function from virtio-pci
 * and binds it again, N times, and always leaves it bound.
 *   measure_probe_driver check N   observer armed around every bind write; checks the facts and
 *                                  prints one JSON line of facts per iteration
 *   measure_probe_driver bench N   N pairs of bind writes, bare and observed, interleaved (the
 *                                  order alternates per pair); prints medians and their ratio
 * Env: PB_MEASURE_METHOD=kprobe|tracepoint|kmsg forces a method, PB_WRITER_CPU pins the writer,
 * PB_MEASURE_NO_MEMORY / _NO_UEVENTS / _NO_COUNTERS turn parts of the observer off.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "probebench/observer.h"
#include "probebench/record.h"
#include "probebench/util.h"

#define DRV "/sys/bus/pci/drivers/virtio-pci"

static char bdf[32];
static int failures;

static int find_rng(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char p[512];
		long v = 0, dev = 0;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		if (pb_read_long(p, &v) < 0 || v != 0x1af4)
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/device", de->d_name);
		if (pb_read_long(p, &dev) < 0 || dev != 0x1044)
			continue;
		snprintf(bdf, sizeof(bdf), "%.31s", de->d_name);
		closedir(d);
		return 0;
	}
	closedir(d);
	return -ENOENT;
}

static bool bound(void)
{
	char p[512], drv[64];
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", bdf);
	return pb_readlink_base(p, drv, sizeof(drv)) >= 0 && !strcmp(drv, "virtio-pci");
}

/* Every exit path passes here: the function is left bound to virtio-pci. */
static void ensure_bound(void)
{
	if (bdf[0] && !bound() && pb_write_str(DRV "/bind", bdf) < 0)
		fprintf(stderr, "measure_probe_driver: could not rebind %s to virtio-pci\n", bdf);
}

static void on_signal(int sig)
{
	ensure_bound();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int child_name(char *buf, size_t size)
{
	char p[512];
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s", bdf);
	DIR *d = opendir(p);
	struct dirent *de;
	int r = -ENOENT;
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "virtio", 6) && de->d_name[6] >= '0' &&
		    de->d_name[6] <= '9') {
			snprintf(buf, size, "%.63s", de->d_name);
			r = 0;
			break;
		}
	closedir(d);
	return r;
}

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL iteration %u: ", it);                                \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static void check_facts(unsigned it, const struct pb_iteration_facts *f, uint64_t bind_ns)
{
	char child[64] = "";
	bool seen_pci = false, seen_child = false;
	child_name(child, sizeof(child));
	for (size_t i = 0; i < f->n_probes; i++) {
		const struct pb_probe_fact *p = &f->probes[i];
		if (!strcmp(p->device, bdf) && !strcmp(p->bus, "pci")) {
			seen_pci = true;
			/* pci_call_probe() hops to the device's node whenever it has a valid one.
			 */
			CHECK(p->device_node < 0 || p->hop,
			      "%s on node %d: no hop into a worker seen", p->device,
			      p->device_node);
		} else if (child[0] && !strcmp(p->device, child) && !strcmp(p->bus, "virtio"))
			seen_child = true;
		else
			continue;
		CHECK(p->cpu >= 0, "%s: no CPU", p->device);
		CHECK(p->node >= 0, "%s: no node", p->device);
		CHECK(p->pid > 0 && p->comm[0], "%s: no task", p->device);
		CHECK(p->task_measured, "%s: task not measured", p->device);
		CHECK(p->duration_ns > 0 && p->duration_ns <= bind_ns,
		      "%s: duration %llu ns outside (0, bind %llu ns]", p->device,
		      (unsigned long long)p->duration_ns, (unsigned long long)bind_ns);
		CHECK(p->ret_known && p->ret == 0, "%s: return value", p->device);
	}
	CHECK(seen_pci, "no probe record for %s (pci)", bdf);
	CHECK(seen_child, "no probe record for the virtio child %s", child);
	if (f->memory_measured) {
		uint64_t sum = f->pages_unknown_node;
		for (unsigned n = 0; n < f->n_nodes; n++)
			sum += f->pages_by_node[n];
		CHECK(sum == f->pages_total, "pages by node add up to %llu, total %llu",
		      (unsigned long long)sum, (unsigned long long)f->pages_total);
	}
	CHECK(f->lost_records == 0, "%llu lost records", (unsigned long long)f->lost_records);
}

static int cycle(struct pb_observer *o, struct pb_iteration_facts *f, uint64_t *bind_ns)
{
	int r = pb_write_str(DRV "/unbind", bdf);
	if (r < 0)
		return r;
	if (o && (r = pb_observer_arm(o, gettid())) < 0) {
		ensure_bound();
		return r;
	}
	uint64_t t0 = pb_now_ns();
	int w = pb_write_str(DRV "/bind", bdf);
	uint64_t t1 = pb_now_ns();
	if (o)
		r = pb_observer_disarm(o, t0, t1, f);
	ensure_bound();
	*bind_ns = t1 - t0;
	return w < 0 ? w : r;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + v[n / 2]) / 2.0;
}

int main(int argc, char **argv)
{
	long n;
	if (argc != 3 || (strcmp(argv[1], "check") && strcmp(argv[1], "bench")) ||
	    pb_parse_long(argv[2], 10, 1, 100000, &n) < 0) {
		fprintf(stderr, "usage: %s check|bench N\n", argv[0]);
		return 2;
	}
	bool bench = !strcmp(argv[1], "bench");
	if (geteuid() != 0) {
		printf("SKIP: needs root to bind and to open system-wide perf events\n");
		return 77;
	}
	if (find_rng() < 0) {
		printf("SKIP: no virtio-rng PCI function (1af4:1044) here\n");
		return 77;
	}
	/* A minimal guest initramfs may lack /run/lock. */
	mkdir("/run", 0755);
	mkdir("/run/lock", 0755);
	int lock = open("/run/lock/probebench-host-rng.lock", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		perror("rng lock");
		return 1;
	}
	/* PB_WRITER_CPU pins the writer (in the NUMA guest: a CPU off the device's node). */
	const char *wc = getenv("PB_WRITER_CPU");
	if (wc) {
		long cpu;
		cpu_set_t set;
		if (pb_parse_long(wc, 10, 0, CPU_SETSIZE - 1, &cpu) < 0) {
			fprintf(stderr, "bad PB_WRITER_CPU %s\n", wc);
			return 2;
		}
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			perror("sched_setaffinity");
			return 1;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	atexit(ensure_bound);
	if (!bound()) {
		fprintf(stderr, "%s is not bound to virtio-pci; binding it first\n", bdf);
		ensure_bound();
	}

	char syspath[256];
	long node = -1;
	snprintf(syspath, sizeof(syspath), "/sys/bus/pci/devices/%s/numa_node", bdf);
	pb_read_long(syspath, &node);
	snprintf(syspath, sizeof(syspath), "/sys/bus/pci/devices/%s", bdf);
	struct pb_observer_opts opts = {
	    .device_syspath = syspath, .device_bus = "pci", .device_node = (int)node};
	/* Knobs to take the observer's cost apart (bench): each turns one part off. */
	opts.no_memory = getenv("PB_MEASURE_NO_MEMORY") != NULL;
	opts.no_uevents = getenv("PB_MEASURE_NO_UEVENTS") != NULL;
	opts.no_counters = getenv("PB_MEASURE_NO_COUNTERS") != NULL;
	const char *m = getenv("PB_MEASURE_METHOD");
	if (m && pb_measure_method_from_name(m, &opts.method) < 0) {
		fprintf(stderr, "unknown method %s\n", m);
		return 2;
	}
	struct pb_observer *o = NULL;
	int r = pb_observer_open(&opts, &o);
	if (r < 0) {
		struct json_object *mj = pb_observer_methods_json();
		printf("SKIP: no measurement method works here (%s): %s\n", strerror(-r),
		       json_object_to_json_string(mj));
		json_object_put(mj);
		return 77;
	}
	struct json_object *methods = pb_observer_methods_json();
	fprintf(stderr, "methods: %s\n", json_object_to_json_string(methods));
	json_object_put(methods);
	struct json_object *info = pb_observer_info_json(o);
	fprintf(stderr, "observer: %s\n", json_object_to_json_string(info));
	json_object_put(info);

	uint64_t *bare = calloc(n, sizeof(uint64_t)), *obs = calloc(n, sizeof(uint64_t));
	for (unsigned it = 0; it < (unsigned)n && r >= 0; it++) {
		struct pb_iteration_facts f = {0};
		uint64_t ns = 0;
		if (bench && it % 2 == 0) {
			r = cycle(NULL, NULL, &bare[it]);
			if (r >= 0)
				r = cycle(o, &f, &obs[it]);
		} else {
			r = cycle(o, &f, &ns);
			obs[it] = ns;
			if (bench && r >= 0)
				r = cycle(NULL, NULL, &bare[it]);
		}
		if (r < 0) {
			fprintf(stderr, "iteration %u: %s\n", it, strerror(-r));
			break;
		}
		if (!bench) {
			check_facts(it, &f, obs[it]);
			struct json_object *j = pb_iteration_facts_to_json(&f);
			json_object_object_add(j, "bind_ns",
					       json_object_new_int64((int64_t)obs[it]));
			printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
			json_object_put(j);
		}
		pb_iteration_facts_clear(&f);
	}
	char method[16];
	snprintf(method, sizeof(method), "%s", pb_observer_method(o));
	pb_observer_free(o);
	ensure_bound();
	if (r < 0) {
		free(bare);
		free(obs);
		return 1;
	}
	if (bench) {
		/* Pairs run back to back share the host's load: their ratio drifts less. */
		uint64_t *pr = calloc(n, sizeof(uint64_t));
		for (long i = 0; pr && i < n; i++)
			pr[i] = bare[i] ? obs[i] * 1000000ull / bare[i] : 0;
		double paired = pr ? median(pr, n) / 1e6 : 0;
		free(pr);
		double mb = median(bare, n), mo = median(obs, n);
		printf("{\"pairs\":%ld,\"method\":\"%s\",\"bare_bind_ns_p50\":%.0f,"
		       "\"observed_bind_ns_p50\":%.0f,\"ratio\":%.4f,\"paired_ratio_p50\":%.4f,"
		       "\"how\":\"CLOCK_MONOTONIC around each bind write; bare and observed writes "
		       "interleaved, order alternating per pair, same device\"}\n",
		       n, method, mb, mo, mo / mb, paired);
	}
	free(bare);
	free(obs);
	return failures ? 1 : 0;
}

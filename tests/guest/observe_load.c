// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest test program: loads a kernel module with the observer armed around the load, as it is
 * armed around a bind write, and prints the facts of that window as one JSON document.
 *
 *   observe_load METHOD TARGET_SYSPATH MODULE.ko [PARAMS]
 *
 * METHOD is kprobe, tracepoint or kmsg; TARGET_SYSPATH an existing device below which the
 * module's devices appear (their probes belong to the window, whichever task runs them). The
 * calling thread is the writer: it makes the finit_module() call. With a driver that prefers
 * asynchronous probing, the kernel runs really_probe in an async worker while the loader waits
 * for it: the shape of the probe-path change that runs synchronous probes on the device's node
 * through a work and waits for it. Output: {"writer_tid", "load_ns", "ret", "facts"}.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-c/json.h>

#include "probebench/observer.h"
#include "probebench/record.h"
#include "probebench/util.h"

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: observe_load METHOD TARGET_SYSPATH MODULE.ko [PARAMS]\n");
		return 2;
	}
	enum pb_measure_method method;
	if (pb_measure_method_from_name(argv[1], &method) < 0) {
		fprintf(stderr, "observe_load: unknown method %s\n", argv[1]);
		return 2;
	}
	char why[256] = "";
	struct pb_observer_opts oo = {.device_syspath = argv[2],
				      .method = method,
				      .device_node = -1,
				      .why = why,
				      .why_size = sizeof(why)};
	char node_path[4096];
	long node = -1;
	snprintf(node_path, sizeof(node_path), "%s/numa_node", argv[2]);
	if (pb_read_long(node_path, &node) == 0)
		oo.device_node = (int)node;
	struct pb_observer *o = NULL;
	int r = pb_observer_open(&oo, &o);
	if (r < 0) {
		fprintf(stderr, "observe_load: cannot open the observer: %s (%s)\n", strerror(-r),
			why);
		return 1;
	}
	int fd = open(argv[3], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "observe_load: %s: %s\n", argv[3], strerror(errno));
		pb_observer_free(o);
		return 1;
	}
	pid_t tid = (pid_t)syscall(SYS_gettid);
	r = pb_observer_arm(o, tid);
	if (r < 0) {
		fprintf(stderr, "observe_load: cannot arm: %s\n", strerror(-r));
		close(fd);
		pb_observer_free(o);
		return 1;
	}
	uint64_t t0 = pb_now_ns();
	long ret = syscall(SYS_finit_module, fd, argc > 4 ? argv[4] : "", 0);
	int err = ret < 0 ? errno : 0;
	uint64_t t1 = pb_now_ns();
	close(fd);
	if (err)
		pb_observer_write_failed(o);
	struct pb_iteration_facts f = {0};
	r = pb_observer_disarm(o, t0, t1, &f);
	if (r < 0) {
		fprintf(stderr, "observe_load: collecting the facts failed: %s\n", strerror(-r));
		pb_observer_free(o);
		return 1;
	}
	struct json_object *j = json_object_new_object();
	json_object_object_add(j, "writer_tid", json_object_new_int(tid));
	json_object_object_add(j, "load_ns", json_object_new_int64((int64_t)(t1 - t0)));
	json_object_object_add(j, "ret", json_object_new_int(-err));
	json_object_object_add(j, "facts", pb_iteration_facts_to_json(&f));
	printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
	json_object_put(j);
	pb_iteration_facts_clear(&f);
	pb_observer_free(o);
	if (err)
		fprintf(stderr, "observe_load: finit_module %s: %s\n", argv[3], strerror(err));
	return err ? 1 : 0;
}

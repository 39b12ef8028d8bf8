// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One observer per target, armed around each bind write by the cycle hooks (run_measure.h); the
 * observers share one set of perf events (measure_perf.c), so measurement.observer counts it once.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probebench/cycle.h"
#include "probebench/inventory.h"
#include "probebench/measure.h"
#include "probebench/observer.h"
#include "probebench/record.h"
#include "probebench/module.h"
#include "probebench/run_measure.h"
#include "probebench/target.h"

struct slot {
	const struct pb_target *t;
	struct pb_observer *obs; /* NULL: timing only */
	int open_err;
	char open_why[256];
	char error[400]; /* pb_run_measure_error()'s answer */
	bool armed;
	bool prepared; /* prepare() tried to arm for the coming write */
	bool written;  /* the armed write happened: t0, t1 are its window */
	uint64_t t0, t1;
	int result; /* of that write: 0 bound */
	int arm_err;
	/* Facts of the latest bind write (a retried bind: the last attempt, as bind_ns). Written
	 * by the writer thread, read by collect() after pb_writer_write() returned: the writer's
	 * mutex orders the two. */
	struct pb_measurement *pending;
	unsigned arm_failures, disarm_failures;
	unsigned missing_probes; /* successful binds whose window held no probe */
};

struct pb_run_measure {
	enum pb_measure_method requested;
	struct slot *slots;
	size_t n;
	struct pb_cycle_hooks chained;
	bool has_chained;
};

int pb_run_measure_new(const struct pb_target *targets, size_t n, const struct pb_inventory *inv,
		       const struct pb_device *const *devices, enum pb_measure_method method,
		       unsigned ring_pages, bool slab_samples, enum pb_buffer buffer,
		       struct pb_run_measure **ret)
{
	struct pb_run_measure *m = calloc(1, sizeof(*m));
	if (!m || !(m->slots = calloc(n ? n : 1, sizeof(*m->slots)))) {
		free(m);
		return -ENOMEM;
	}
	m->requested = method;
	m->n = n;
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &m->slots[i];
		s->t = &targets[i];
		const struct pb_device **sub = NULL;
		size_t n_sub = 0;
		if (inv && devices && devices[i] &&
		    pb_inventory_subtree(inv, devices[i], &sub, &n_sub) < 0) {
			pb_run_measure_free(m);
			return -ENOMEM;
		}
		/* --entry module: the load probes every device of the module's drivers; their
		 * probes are this target's too. */
		struct pb_module_device *md = NULL;
		size_t n_md = 0;
		const char **also = NULL;
		if (targets[i].module[0] && pb_module_devices(targets[i].module, &md, &n_md) == 0 &&
		    n_md && (also = calloc(n_md, sizeof(*also))))
			for (size_t k = 0; k < n_md; k++)
				also[k] = md[k].syspath;
		struct pb_observer_opts o = {.device_syspath = targets[i].syspath,
					     .also_syspaths = also,
					     .n_also = also ? n_md : 0,
					     .device_bus = targets[i].bus,
					     .device_node = targets[i].numa_node,
					     .subtree = sub,
					     .n_subtree = n_sub,
					     .method = method,
					     .ring_pages = ring_pages,
					     .slab_samples = slab_samples,
					     .buffer = buffer,
					     .why = s->open_why,
					     .why_size = sizeof(s->open_why)};
		s->open_err = pb_observer_open(&o, &s->obs);
		free(sub);
		free(also);
		free(md);
		if (s->open_err == -ENOMEM) {
			pb_run_measure_free(m);
			return -ENOMEM;
		}
		if (s->open_err < 0)
			s->obs = NULL;
	}
	*ret = m;
	return 0;
}

void pb_run_measure_free(struct pb_run_measure *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		pb_observer_free(m->slots[i].obs);
		pb_measurement_free(m->slots[i].pending);
	}
	free(m->slots);
	free(m);
}

void pb_run_measure_finish(struct pb_run_measure *m)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (m->slots[i].obs)
			pb_observer_kept_end(m->slots[i].obs, PB_KEPT_RUN_END);
}

size_t pb_run_measure_active(const struct pb_run_measure *m)
{
	size_t k = 0;
	for (size_t i = 0; m && i < m->n; i++)
		k += m->slots[i].obs != NULL;
	return k;
}

static struct slot *find(struct pb_run_measure *m, const struct pb_target *t)
{
	for (size_t i = 0; t && i < m->n; i++)
		if (m->slots[i].t == t)
			return &m->slots[i];
	return NULL;
}

static void arm(struct slot *s, pid_t writer_tid)
{
	if (s->armed) {
		/* armed for a write that never came (e.g. a failed driver_override write) */
		struct pb_iteration_facts f = {0};
		pb_observer_disarm(s->obs, 0, 0, &f);
		pb_iteration_facts_clear(&f);
	}
	s->arm_err = pb_observer_arm(s->obs, writer_tid);
	s->armed = s->arm_err == 0;
	s->written = false;
	pb_measurement_free(s->pending);
	s->pending = NULL;
	if (!s->armed)
		s->arm_failures++;
}

/* Before the target's unbind: what it still holds of its last bind's pages is settled. */
static void before_unbind(struct pb_run_measure *m, const struct pb_target *t)
{
	struct slot *s = find(m, t);
	if (s && s->obs)
		pb_observer_kept_end(s->obs, PB_KEPT_NEXT_UNBIND);
}

/* In the cycling thread, before the write is handed over and before the gate of --parallel:
 * arming costs a few hundred us (more under sanitizers) and must not skew parallel writes. */
static void prepare(void *ud, const struct pb_target *t, enum pb_step step, pid_t writer_tid)
{
	struct pb_run_measure *m = ud;
	struct slot *s = step == PB_STEP_BIND ? find(m, t) : NULL;
	if (step == PB_STEP_UNBIND)
		before_unbind(m, t);
	if (s && s->obs) {
		arm(s, writer_tid);
		s->prepared = true;
	}
	if (m->has_chained && m->chained.prepare)
		m->chained.prepare(m->chained.userdata, t, step, writer_tid);
}

/* For writes made without pb_cycle_once() (no prepare): arm here, in the writer thread. */
static void before_write(void *ud, const struct pb_target *t, enum pb_step step)
{
	struct pb_run_measure *m = ud;
	struct slot *s = step == PB_STEP_BIND ? find(m, t) : NULL;
	if (step == PB_STEP_UNBIND)
		before_unbind(m, t); /* again when prepare() ran: a no-op then */
	if (s && s->obs && !s->prepared)
		arm(s, (pid_t)syscall(SYS_gettid));
	if (m->has_chained && m->chained.before_write)
		m->chained.before_write(m->chained.userdata, t, step);
}

/* Right after the write, in the writer thread: only stop the events and read the counters (cheap);
 * decoding waits for collect(), so a writer that finished does not take CPU time from parallel
 * writers still to start or in their write. */
static void after_write(void *ud, const struct pb_target *t, enum pb_step step, int result,
			uint64_t t0, uint64_t t1)
{
	struct pb_run_measure *m = ud;
	struct slot *s = step == PB_STEP_BIND ? find(m, t) : NULL;
	if (m->has_chained && m->chained.after_write)
		m->chained.after_write(m->chained.userdata, t, step, result, t0, t1);
	if (!s || !s->obs)
		return;
	s->prepared = false;
	if (s->armed) {
		pb_observer_stop(s->obs);
		s->written = true;
		s->t0 = t0;
		s->t1 = t1;
		s->result = result;
		if (result != 0)
			pb_observer_write_failed(s->obs);
	} else {
		pb_measurement_free(s->pending);
		s->pending = pb_measurement_error("arming the observer failed", s->arm_err);
	}
}

/* After the cycle, in the cycling thread: decode the last bind write's window. */
static struct pb_measurement *decode(struct slot *s)
{
	struct pb_measurement *m = NULL;
	struct pb_iteration_facts f = {0};
	int r = pb_observer_disarm(s->obs, s->written ? s->t0 : 0, s->written ? s->t1 : 0, &f);
	s->armed = false;
	if (!s->written)
		m = NULL; /* armed for a write that never came */
	else if (r < 0) {
		s->disarm_failures++;
		m = pb_measurement_error("collecting the observer's facts failed", r);
	} else if ((m = pb_measurement_new())) {
		m->facts = f;
		f = (struct pb_iteration_facts){0};
		/* from here to the target's next unbind: which of its pages the device keeps */
		pb_observer_kept_start(s->obs, &m->facts);
		/* A successful bind always runs really_probe: a window without a probe is the
		 * method failing, not a fact. Say so, and let auto try the next method. */
		if (s->result == 0 && m->facts.n_probes == 0) {
			s->missing_probes++;
			snprintf(m->missing_probe, sizeof(m->missing_probe),
				 "the bind succeeded and %s saw no probe (a bind always runs "
				 "really_probe)",
				 pb_measure_method_name(m->facts.method));
			int next = pb_observer_fall_back(s->obs, m->missing_probe);
			if (next >= 0)
				m->method_after = next;
		}
	}
	pb_iteration_facts_clear(&f);
	s->written = false;
	return m;
}

static struct pb_measurement *collect(void *ud, const struct pb_target *t)
{
	struct pb_run_measure *m = ud;
	struct slot *s = find(m, t);
	struct pb_measurement *j = NULL;
	if (s && s->obs && s->armed) {
		pb_measurement_free(s->pending);
		s->pending = decode(s);
	}
	if (s) {
		j = s->pending;
		s->pending = NULL;
	}
	if (m->has_chained && m->chained.collect) {
		struct pb_measurement *c = m->chained.collect(m->chained.userdata, t);
		if (!j)
			return c;
		pb_measurement_free(c);
	}
	return j;
}

void pb_run_measure_hooks(struct pb_run_measure *m, const struct pb_cycle_hooks *chained,
			  struct pb_cycle_hooks *ret)
{
	m->has_chained = chained != NULL;
	if (chained)
		m->chained = *chained;
	*ret = (struct pb_cycle_hooks){.userdata = m,
				       .prepare = prepare,
				       .before_write = before_write,
				       .after_write = after_write,
				       .collect = collect};
}

const char *pb_run_measure_error(struct pb_run_measure *m, size_t i)
{
	struct slot *s = i < m->n ? &m->slots[i] : NULL;
	if (!s || s->obs)
		return NULL;
	snprintf(s->error, sizeof(s->error), "%s%s",
		 s->open_err == -ENOTSUP ? "no measurement method works here: "
					 : "observer could not open: ",
		 s->open_why[0] ? s->open_why : strerror(-s->open_err));
	return s->error;
}

static void add_set(const struct pb_perf_stats *s, unsigned *fds, unsigned *perf_events,
		    unsigned *rings, uint64_t *locked)
{
	*fds += s->fds;
	*perf_events += s->perf_events;
	*rings += s->rings;
	*locked += s->locked_bytes;
}

/* What the observers hold, each shared set of events once (the record's measurement.observer). */
static struct json_object *resources_json(const struct pb_run_measure *m)
{
	const void *seen[_PB_METHOD_MAX * 2], *kept_seen = NULL;
	unsigned n_seen = 0, targets = 0, fds = 0, perf_events = 0, rings = 0, ring_pages = 0,
		 cpus = 0, kept_fds = 0;
	uint64_t locked = 0, kept_locked = 0, decoded = 0, decode_ns = 0;
	bool ftrace = false;
	const char *buffer_why = NULL;
	for (size_t i = 0; i < m->n; i++) {
		struct pb_perf_stats sh, kept;
		unsigned counters, other;
		if (!m->slots[i].obs)
			continue;
		targets++;
		pb_observer_resources(m->slots[i].obs, &sh, &kept, &counters, &other);
		fds += counters + other;
		perf_events += counters;	       /* the writer counters are perf events */
		if (kept.id && kept.id != kept_seen) { /* one watch for every observer */
			kept_seen = kept.id;
			add_set(&kept, &fds, &perf_events, &rings, &locked);
			kept_fds += kept.fds;
			kept_locked += kept.locked_bytes;
		}
		bool dup = !sh.id;
		for (unsigned k = 0; k < n_seen && !dup; k++)
			dup = seen[k] == sh.id;
		if (dup || n_seen == sizeof(seen) / sizeof(seen[0]))
			continue;
		seen[n_seen++] = sh.id;
		add_set(&sh, &fds, &perf_events, &rings, &locked);
		ftrace |= sh.ftrace;
		if (!buffer_why)
			buffer_why = sh.buffer_why; /* the set's own text: open while m is */
		decoded += sh.records_decoded;
		decode_ns += sh.decode_ns;
		if (sh.ring_pages > ring_pages)
			ring_pages = sh.ring_pages;
		if (sh.cpus > cpus)
			cpus = sh.cpus;
	}
	struct json_object *j = json_object_new_object();
	/* none: no perf or ftrace buffer (kmsg, or no observer opened) */
	json_object_object_add(j, "buffer",
			       json_object_new_string(!n_seen  ? "none"
						      : ftrace ? "ftrace"
							       : "perf"));
	json_object_object_add(j, "buffer_why",
			       buffer_why ? json_object_new_string(buffer_why) : NULL);
	json_object_object_add(j, "fds", json_object_new_int64(fds));
	json_object_object_add(j, "perf_events", json_object_new_int64(perf_events));
	json_object_object_add(j, "locked_bytes", json_object_new_int64((int64_t)locked));
	json_object_object_add(j, "rings", json_object_new_int64(rings));
	json_object_object_add(j, "ring_pages", json_object_new_int64(ring_pages));
	json_object_object_add(j, "cpus", json_object_new_int64(cpus));
	json_object_object_add(j, "shared_sets", json_object_new_int64(n_seen));
	json_object_object_add(j, "targets", json_object_new_int64(targets));
	json_object_object_add(j, "kept_fds", json_object_new_int64(kept_fds));
	json_object_object_add(j, "kept_locked_bytes", json_object_new_int64((int64_t)kept_locked));
	struct rlimit rl;
	json_object_object_add(j, "fd_limit",
			       getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
				   ? json_object_new_int64((int64_t)rl.rlim_cur)
				   : NULL);
	json_object_object_add(j, "records_decoded", json_object_new_int64((int64_t)decoded));
	json_object_object_add(j, "decode_ns", json_object_new_int64((int64_t)decode_ns));
	return j;
}

struct json_object *pb_run_measure_json(struct pb_run_measure *m)
{
	struct json_object *j = json_object_new_object(), *used = json_object_new_array(),
			   *obs = json_object_new_array();
	json_object_object_add(j, "enabled", json_object_new_boolean(true));
	json_object_object_add(j, "requested",
			       json_object_new_string(pb_measure_method_name(m->requested)));
	json_object_object_add(j, "availability", pb_observer_methods_json());
	for (size_t i = 0; i < m->n; i++) {
		const struct slot *s = &m->slots[i];
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "target", json_object_new_string(s->t->name));
		const char *meth = s->obs ? pb_observer_method(s->obs) : NULL;
		json_object_object_add(e, "method", meth ? json_object_new_string(meth) : NULL);
		const char *err = pb_run_measure_error(m, i);
		json_object_object_add(e, "error", err ? json_object_new_string(err) : NULL);
		json_object_object_add(e, "info", s->obs ? pb_observer_info_json(s->obs) : NULL);
		json_object_object_add(e, "arm_failures", json_object_new_int64(s->arm_failures));
		json_object_object_add(e, "disarm_failures",
				       json_object_new_int64(s->disarm_failures));
		json_object_object_add(e, "missing_probes",
				       json_object_new_int64(s->missing_probes));
		json_object_array_add(obs, e);
		bool seen = false;
		for (size_t k = 0; meth && k < i; k++)
			seen |=
			    m->slots[k].obs && !strcmp(pb_observer_method(m->slots[k].obs), meth);
		if (meth && !seen)
			json_object_array_add(used, json_object_new_string(meth));
	}
	json_object_object_add(j, "used", used);
	json_object_object_add(j, "observer", resources_json(m));
	json_object_object_add(j, "observers", obs);
	return j;
}

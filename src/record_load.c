// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A stored run record (schema/run.schema.json, versions 1 to 3) read back into the typed record
 * (record.h), for the records of other processes: `compare` and the daemon's metrics after a
 * restart. The summaries are recomputed from the iterations, as the run that wrote them did.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "probebench/log.h"
#include "probebench/paths.h"
#include "probebench/record.h"
#include "probebench/results.h"

/* The member KEY of O when it has type T, else NULL. */
static struct json_object *member(struct json_object *o, const char *key, enum json_type t)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, t) ? v : NULL;
}

static int64_t num(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v = member(o, key, json_type_int);
	if (!v)
		return dflt;
	/* json-c clamps what does not fit 64 bits to these: an overflow, not a value */
	int64_t x = json_object_get_int64(v);
	return x == INT64_MAX || x == INT64_MIN ? dflt : x;
}

/* The same, when it fits the field it is read into; else dflt (a stored record is not trusted:
 * a node of 2^32 must not become node 0, a negative time not 2^64 - 1). */
static int num_int(struct json_object *o, const char *key, int dflt)
{
	int64_t v = num(o, key, dflt);
	return v >= INT_MIN && v <= INT_MAX ? (int)v : dflt;
}

static unsigned num_uint(struct json_object *o, const char *key)
{
	int64_t v = num(o, key, 0);
	return v >= 0 && v <= UINT_MAX ? (unsigned)v : 0;
}

static uint64_t num_u64(struct json_object *o, const char *key)
{
	int64_t v = num(o, key, 0);
	return v > 0 ? (uint64_t)v : 0;
}

static bool flag(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key, json_type_boolean);
	return v && json_object_get_boolean(v);
}

static void str(struct json_object *o, const char *key, char *buf, size_t size)
{
	struct json_object *v = member(o, key, json_type_string);
	snprintf(buf, size, "%s", v ? json_object_get_string(v) : "");
}

/* As str(), false when the string did not fit (a name cut short could name something else). */
static bool str_whole(struct json_object *o, const char *key, char *buf, size_t size)
{
	struct json_object *v = member(o, key, json_type_string);
	return snprintf(buf, size, "%s", v ? json_object_get_string(v) : "") < (int)size;
}

/* The method named by the member KEY of O; -1 when absent or unknown. */
static int method(struct json_object *o, const char *key)
{
	char s[16];
	enum pb_measure_method m;
	str(o, key, s, sizeof(s));
	return pb_measure_method_from_name(s, &m) == 0 ? (int)m : -1;
}

static enum pb_measure_method method_or_auto(struct json_object *o, const char *key)
{
	int m = method(o, key);
	return m < 0 ? PB_METHOD_AUTO : (enum pb_measure_method)m;
}

static unsigned by_node(struct json_object *o, const char *key, uint64_t *v)
{
	struct json_object *a = member(o, key, json_type_array);
	size_t n = a ? json_object_array_length(a) : 0;
	if (n > PB_MEASURE_MAX_NODES)
		n = PB_MEASURE_MAX_NODES;
	for (size_t i = 0; i < n; i++) {
		int64_t x = json_object_get_int64(json_object_array_get_idx(a, i));
		v[i] = x > 0 ? (uint64_t)x : 0;
	}
	return (unsigned)n;
}

static void probe_from(struct json_object *j, struct pb_probe_fact *p)
{
	str(j, "device", p->device, sizeof(p->device));
	str(j, "bus", p->bus, sizeof(p->bus));
	str(j, "driver", p->driver, sizeof(p->driver));
	str(j, "comm", p->comm, sizeof(p->comm));
	p->cpu = num_int(j, "cpu", -1);
	p->node = num_int(j, "node", -1);
	p->device_node = num_int(j, "device_node", -1);
	struct json_object *on = member(j, "on_device_node", json_type_boolean);
	p->on_device_node = on ? json_object_get_boolean(on) : -1;
	p->pid = (pid_t)num_int(j, "pid", 0);
	p->task_measured = flag(j, "task_measured");
	p->start_ns = num_u64(j, "start_ns");
	p->start_exact = flag(j, "start_exact");
	p->duration_ns = num_u64(j, "duration_ns");
	p->ret_known = member(j, "ret", json_type_int) != NULL;
	p->ret = num_int(j, "ret", 0);
	p->depth = num_int(j, "depth", 0);
	p->writer_migrations = num_uint(j, "migrations");
	struct json_object *hop = member(j, "hop", json_type_object);
	p->hop = hop != NULL;
	if (hop) {
		str(hop, "function", p->hop_function, sizeof(p->hop_function));
		str(hop, "comm", p->hop_comm, sizeof(p->hop_comm));
		p->hop_whole_probe = flag(hop, "whole_probe");
		p->origin_pid = (pid_t)num_int(hop, "origin_pid", 0);
		p->hop_pid = (pid_t)num_int(hop, "pid", 0);
		p->hop_cpu = num_int(hop, "cpu", -1);
		p->hop_duration_ns = num_u64(hop, "duration_ns");
		/* offsets from the write's start, kept as times on the probe's clock */
		uint64_t t0 = p->start_ns - num_u64(j, "start_offset_ns");
		p->hop_queue_ns = t0 + num_u64(hop, "queue_offset_ns");
		p->hop_start_ns = t0 + num_u64(hop, "start_offset_ns");
		struct json_object *w = member(hop, "worker", json_type_object);
		p->hop_on_cpu_ns = num_u64(w, "on_cpu_ns");
		p->hop_switches = num_uint(w, "context_switches");
		p->hop_migrations = num_uint(w, "migrations");
	}
	struct json_object *mem = member(j, "memory", json_type_object);
	p->pages_measured = mem != NULL;
	if (mem) {
		p->n_page_nodes = by_node(mem, "pages_by_node", p->pages_by_node);
		p->pages_unknown_node = num_u64(mem, "pages_unknown_node");
	}
	p->method = method_or_auto(j, "method");
}

static const enum pb_kept_state kept_states[] = {
    PB_KEPT_WATCHING, PB_KEPT_NEXT_UNBIND, PB_KEPT_RUN_END, PB_KEPT_NONE_HELD, PB_KEPT_UNKNOWN};

/* memory.freed_in_window, memory.slab_caches and memory.kept of a stored iteration. -ENOMEM. */
static int load_kept(struct json_object *mem, struct pb_iteration_facts *f)
{
	struct json_object *fr = member(mem, "freed_in_window", json_type_object);
	if (fr) {
		f->frees_measured = true;
		f->frees_exact = flag(fr, "exact");
		by_node(fr, "pages_by_node", f->pages_freed_by_node);
		f->pages_freed_total = num_u64(fr, "pages_total");
	}
	struct json_object *sc = member(mem, "slab_caches", json_type_array);
	size_t nsc = sc ? json_object_array_length(sc) : 0;
	f->slab_caches_measured = sc != NULL;
	if (nsc && !(f->slab_caches = calloc(nsc, sizeof(*f->slab_caches))))
		return -ENOMEM;
	for (size_t i = 0; i < nsc; i++) {
		struct json_object *o = json_object_array_get_idx(sc, i);
		struct pb_slab_delta *d = &f->slab_caches[f->n_slab_caches++];
		str(o, "cache", d->cache, sizeof(d->cache));
		d->total = num(o, "delta", 0);
		struct json_object *bn = member(o, "delta_by_node", json_type_array);
		size_t k = bn ? json_object_array_length(bn) : 0;
		for (d->n_nodes = 0; d->n_nodes < k && d->n_nodes < PB_MEASURE_MAX_NODES;
		     d->n_nodes++)
			d->by_node[d->n_nodes] =
			    json_object_get_int64(json_object_array_get_idx(bn, d->n_nodes));
	}
	struct json_object *kj = member(mem, "kept", json_type_object);
	if (!kj)
		return 0;
	struct pb_kept_pages *k = f->kept = pb_kept_new();
	if (!k)
		return -ENOMEM;
	char st[16];
	str(kj, "state", st, sizeof(st));
	k->state = PB_KEPT_UNKNOWN;
	for (size_t i = 0; i < sizeof(kept_states) / sizeof(kept_states[0]); i++)
		if (!strcmp(st, pb_kept_state_name(kept_states[i])))
			k->state = kept_states[i];
	str(kj, "why", k->why, sizeof(k->why));
	k->exact = flag(kj, "exact");
	k->n_nodes = by_node(kj, "pages_by_node", k->pages_by_node);
	k->pages_total = num_u64(kj, "pages_total");
	k->pages_unknown_node = num_u64(kj, "pages_unknown_node");
	k->freed_pages = num_u64(kj, "freed_after_window_pages");
	k->watched_ns = num_u64(kj, "watched_ns");
	k->gap_ns = num_u64(kj, "gap_ns");
	return 0;
}

static struct pb_measurement *measurement_from(struct json_object *j)
{
	struct pb_measurement *m = pb_measurement_new();
	if (!m)
		return NULL;
	struct json_object *err = member(j, "error", json_type_string);
	if (err) {
		snprintf(m->error, sizeof(m->error), "%s", json_object_get_string(err));
		return m;
	}
	struct pb_iteration_facts *f = &m->facts;
	f->method = method_or_auto(j, "method");
	struct json_object *probes = member(j, "probes", json_type_array);
	size_t n = probes ? json_object_array_length(probes) : 0;
	if (n && !(f->probes = calloc(n, sizeof(*f->probes)))) {
		pb_measurement_free(m);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *pj = json_object_array_get_idx(probes, i);
		probe_from(pj, &f->probes[f->n_probes++]);
		if (i == 0) /* the write's start, from which every offset counts */
			f->write_start_ns = f->probes[0].start_ns - num_u64(pj, "start_offset_ns");
	}
	f->uevent_kernel_ns = num(j, "uevent_kernel_ns", -1);
	f->uevent_udev_ns = num(j, "uevent_udev_ns", -1);
	struct json_object *mem = member(j, "memory", json_type_object);
	f->memory_measured = mem != NULL;
	f->local_ratio = -1;
	if (mem) {
		static const char *const maps[] = {"memory_blocks", "zoneinfo", "none"};
		char s[16];
		str(mem, "pfn_map", s, sizeof(s));
		f->pfn_map_source = "none";
		for (size_t k = 0; k < sizeof(maps) / sizeof(maps[0]); k++)
			if (!strcmp(s, maps[k]))
				f->pfn_map_source = maps[k];
		struct json_object *ratio = member(mem, "local_ratio", json_type_double);
		f->local_ratio = ratio ? json_object_get_double(ratio) : -1;
		f->n_nodes = by_node(mem, "pages_by_node", f->pages_by_node);
		f->pages_total = num_u64(mem, "pages_total");
		f->pages_unknown_node = num_u64(mem, "pages_unknown_node");
		struct json_object *slab = member(mem, "slab_proxy", json_type_object);
		/* records before "sampled" always sampled: their allocs_by_node says so */
		f->slab_sampled = member(slab, "sampled", json_type_boolean)
				      ? flag(slab, "sampled")
				      : member(slab, "allocs_by_node", json_type_array) != NULL;
		if (f->slab_sampled) {
			by_node(slab, "allocs_by_node", f->slab_allocs_by_node);
			by_node(slab, "bytes_by_node", f->slab_bytes_by_node);
		}
		f->slab_counted = member(slab, "counted_by_node", json_type_array) != NULL;
		char from[32] = "";
		str(slab, "counted_from", from, sizeof(from)); /* absent (older records): perf */
		f->slab_counted_ftrace = !strcmp(from, "ftrace records");
		f->n_slab_counted_nodes = by_node(slab, "counted_by_node", f->slab_counted_by_node);
		if (load_kept(mem, f) < 0) {
			pb_measurement_free(m);
			return NULL;
		}
	}
	f->writer_tid = (pid_t)num_int(j, "writer_tid", 0);
	f->events_seen = num_u64(j, "events_seen");
	f->decode_ns = num_u64(j, "decode_ns");
	f->decode_work_ns = num_u64(j, "decode_work_ns");
	f->lost_records = num_u64(j, "lost_records");
	f->lost_exact = flag(j, "lost_exact");
	f->lost_slab_records = num_u64(j, "lost_slab_records");
	str(j, "missing_probe", m->missing_probe, sizeof(m->missing_probe));
	m->method_after = method(j, "method_after");
	return m;
}

static int fail(char *err, size_t size, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return r;
}

static int outcome_from(const char *s)
{
	for (int o = PB_CYCLE_OK; o <= PB_CYCLE_STATE_CHANGED; o++)
		if (!strcmp(s, pb_cycle_outcome_name(o)))
			return o;
	return -1;
}

static int iteration_from(struct pb_run_record *r, struct json_object *j, size_t k, char *err,
			  size_t size)
{
	struct pb_record_iteration it = {.iteration = num_uint(j, "iteration")};
	char target[128], placement[32], outcome[32];
	if (!str_whole(j, "target", target, sizeof(target)) ||
	    !str_whole(j, "placement", placement, sizeof(placement)))
		return fail(err, size, -EINVAL,
			    "iteration %zu: a target or placement name too long", k);
	str(j, "outcome", outcome, sizeof(outcome));
	for (it.target = 0; it.target < r->n_targets; it.target++)
		if (!strcmp(r->targets[it.target].t.name, target))
			break;
	for (it.placement = 0; it.placement < r->n_placements; it.placement++)
		if (!strcmp(r->placements[it.placement].label, placement))
			break;
	int o = outcome_from(outcome);
	if (it.target == r->n_targets || it.placement == r->n_placements || o < 0)
		return fail(err, size, -EINVAL,
			    "iteration %zu names target \"%s\", placement \"%s\", outcome \"%s\": "
			    "not in the record's targets, placements or the known outcomes",
			    k, target, placement, outcome);
	it.res = (struct pb_cycle_result){.outcome = (enum pb_cycle_outcome)o,
					  .unbind_ns = num_u64(j, "unbind_ns"),
					  .bind_ns = num_u64(j, "bind_ns"),
					  .load_ns = num_u64(j, "load_ns"),
					  .cycle_ns = num_u64(j, "cycle_ns"),
					  .unbind_errno = num_int(j, "unbind_errno", 0),
					  .bind_errno = num_int(j, "bind_errno", 0),
					  .retries = num_uint(j, "retries"),
					  .verified = flag(j, "verified"),
					  .put_back = flag(j, "put_back"),
					  .writer_cpu = num_int(j, "writer_cpu", -1),
					  .writer_node = num_int(j, "writer_node", -1)};
	struct json_object *m = member(j, "measurement", json_type_object);
	if (m && !(it.measurement = measurement_from(m)))
		return -ENOMEM;
	if (pb_run_record_add_iteration(r, &it) < 0) {
		pb_measurement_free(it.measurement);
		return -ENOMEM;
	}
	return 0;
}

static int targets_from(struct pb_run_record *r, struct json_object *j, char *err, size_t size)
{
	struct json_object *a = member(j, "targets", json_type_array),
			   *p = member(j, "placements", json_type_array);
	if (!a || !p)
		return fail(err, size, -EINVAL, "no targets or placements: not a run record");
	size_t n = json_object_array_length(a), np = json_object_array_length(p);
	r->targets = calloc(n ? n : 1, sizeof(*r->targets));
	r->placements = calloc(np ? np : 1, sizeof(*r->placements));
	if (!r->targets || !r->placements)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(a, i);
		struct pb_target *x = &r->targets[r->n_targets++].t;
		str(t, "syspath", x->syspath, sizeof(x->syspath));
		str(t, "bus", x->bus, sizeof(x->bus));
		if (!str_whole(t, "name", x->name, sizeof(x->name)))
			return fail(err, size, -EINVAL, "target %zu: its name is longer than %zu",
				    i, sizeof(x->name) - 1);
		str(t, "driver", x->driver, sizeof(x->driver));
		str(t, "module", x->module, sizeof(x->module));
		x->numa_node = num_int(t, "numa_node", -1);
		x->numa_inherited = flag(t, "numa_node_inherited");
	}
	for (size_t i = 0; i < np; i++) {
		struct json_object *e = json_object_array_get_idx(p, i);
		struct pb_record_placement *x = &r->placements[r->n_placements++];
		if (!str_whole(e, "label", x->label, sizeof(x->label)))
			return fail(err, size, -EINVAL,
				    "placement %zu: its label is longer than %zu", i,
				    sizeof(x->label) - 1);
		x->cpu = num_int(e, "cpu", -1);
		x->node = num_int(e, "node", -1);
	}
	return 0;
}

int pb_run_record_from_json(struct json_object *j, struct pb_run_record **ret, char *err,
			    size_t err_size)
{
	*ret = NULL;
	struct json_object *schema = member(j, "schema", json_type_object), *v;
	char name[32];
	str(schema, "name", name, sizeof(name));
	if (strcmp(name, "probebench-run"))
		return fail(err, err_size, -EINVAL,
			    "not a run record (schema.name is not probebench-run)");
	struct pb_run_record *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->schema_version = num_int(schema, "version", 1);
	str(j, "tool_version", r->tool_version, sizeof(r->tool_version));
	str(j, "host", r->host, sizeof(r->host));
	str(member(j, "uname", json_type_object), "release", r->kernel_release,
	    sizeof(r->kernel_release));
	if (!r->kernel_release[0])
		str(member(j, "kernel", json_type_object), "release", r->kernel_release,
		    sizeof(r->kernel_release));
	r->start_unix_ns = num(j, "start_unix_ns", 0);
	r->end_unix_ns = num(j, "end_unix_ns", 0);
	struct json_object *o = member(j, "options", json_type_object);
	char s[32];
	str(o, "entry", s, sizeof(s));
	r->options.entry = !strcmp(s, "probe")	  ? PB_ENTRY_PROBE
			   : !strcmp(s, "module") ? PB_ENTRY_MODULE
						  : PB_ENTRY_BIND;
	str(o, "module_options", r->options.module_options, sizeof(r->options.module_options));
	r->options.iterations = num_uint(o, "iterations");
	r->options.warmup = num_uint(o, "warmup");
	r->options.parallel = flag(o, "parallel");
	r->options.measure = flag(o, "measure");
	r->options.include_lossy = flag(o, "include_lossy");
	r->options.slab_samples = flag(o, "slab_samples");
	str(o, "buffer", s, sizeof(s));
	int buf = pb_buffer_parse(s);
	r->options.buffer =
	    buf < 0 ? PB_BUFFER_PERF : (enum pb_buffer)buf; /* absent (older): perf */
	r->options.method = method_or_auto(o, "method");
	struct json_object *m = member(j, "measurement", json_type_object);
	r->measure_enabled = flag(m, "enabled");
	str(m, "why_not", r->measure_why_not, sizeof(r->measure_why_not));
	r->warmup_done = num_uint(j, "warmup_done");
	str(j, "status", r->status, sizeof(r->status));
	int64_t st = num(j, "exit_code", PB_RUN_OK);
	r->run_status = st >= 0 && st < PB_RUN_STATUS__MAX ? (enum pb_run_status)st : PB_RUN_FAILED;
	int ret_code = targets_from(r, j, err, err_size);
	struct json_object *its = member(j, "iterations", json_type_array);
	for (size_t i = 0; ret_code == 0 && its && i < json_object_array_length(its); i++)
		if ((v = json_object_array_get_idx(its, i)))
			ret_code = iteration_from(r, v, i, err, err_size);
	if (ret_code == 0)
		ret_code = pb_run_record_summarise(r);
	if (ret_code == -ENOMEM)
		fail(err, err_size, ret_code, "out of memory");
	if (ret_code < 0) {
		pb_run_record_free(r);
		return ret_code;
	}
	*ret = r;
	return 0;
}

struct pb_run_record *pb_run_record_read(const char *path)
{
	struct json_object *o = NULL;
	struct pb_run_record *r = NULL;
	char err[256], *text = NULL;
	/* a regular file only, read to a bound: a FIFO or /dev/zero is refused at once */
	int k = pb_read_regular_at(AT_FDCWD, path, 0, PB_RESULT_MAX_SIZE, &text, NULL);
	if (k == 0 && !(o = json_tokener_parse(text)))
		k = -EBADMSG;
	free(text);
	if (k == -EBADMSG)
		pb_error("%s: cannot read a JSON document: not JSON", path);
	else if (k == -EINVAL)
		pb_error("%s: cannot read a run record: not a regular file (a FIFO, a device, ...)",
			 path);
	else if (k == -EFBIG)
		pb_error(
		    "%s: cannot read a run record: larger than %d MiB (the result store's bound)",
		    path, PB_RESULT_MAX_SIZE >> 20);
	else if (k < 0)
		pb_error_errno(k, "%s: cannot read a run record", path);
	else if (!json_object_is_type(o, json_type_object))
		pb_error("%s: not a run record (the top level is not an object)", path);
	else if (pb_run_record_from_json(o, &r, err, sizeof(err)) < 0)
		pb_error("%s: %s", path, err);
	json_object_put(o);
	return r;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The run record's JSON form (schema/run.schema.json), made from the typed record (record.h) in
 * this one place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "probebench/record.h"
#include "probebench/policy.h"
#include "probebench/stats.h"

static const char *duration_source(const struct pb_probe_fact *p)
{
	switch (p->method) {
	case PB_METHOD_KPROBE:
		return "kprobe";
	case PB_METHOD_TRACEPOINT:
		return "initcall_debug_console";
	case PB_METHOD_KMSG:
		return "initcall_debug_kmsg";
	default:
		return "unknown";
	}
}

static struct json_object *jint_or_null(bool known, int64_t v)
{
	return known ? json_object_new_int64(v) : NULL;
}

struct json_object *pb_json_u64_array(const uint64_t *v, unsigned n)
{
	struct json_object *a = json_object_new_array();
	for (unsigned i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int64((int64_t)v[i]));
	return a;
}

/* Slab caches whose objects in use changed, by node (a delta may be negative). */
static struct json_object *slab_deltas_json(const struct pb_slab_delta *d, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object(), *bn = json_object_new_array();
		for (unsigned k = 0; k < d[i].n_nodes; k++)
			json_object_array_add(bn, json_object_new_int64(d[i].by_node[k]));
		json_object_object_add(o, "cache", json_object_new_string(d[i].cache));
		json_object_object_add(o, "delta", json_object_new_int64(d[i].total));
		json_object_object_add(o, "delta_by_node", bn);
		json_object_array_add(a, o);
	}
	return a;
}

/* The probes' pages freed again inside the window (by any task); null when frees were not traced.
 */
static struct json_object *freed_json(const struct pb_iteration_facts *f)
{
	if (!f->frees_measured)
		return NULL;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "pages_by_node",
			       pb_json_u64_array(f->pages_freed_by_node, f->n_nodes));
	json_object_object_add(o, "pages_total",
			       json_object_new_int64((int64_t)f->pages_freed_total));
	json_object_object_add(o, "exact", json_object_new_boolean(f->frees_exact));
	return o;
}

/* What the device kept of them until its next unbind (or the run's end); null: not watched. */
static struct json_object *kept_json(const struct pb_kept_pages *k)
{
	if (!k)
		return NULL;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "state", json_object_new_string(pb_kept_state_name(k->state)));
	json_object_object_add(o, "why",
			       k->state == PB_KEPT_UNKNOWN ? json_object_new_string(k->why) : NULL);
	bool known = k->state != PB_KEPT_UNKNOWN && k->state != PB_KEPT_WATCHING;
	json_object_object_add(o, "pages_by_node",
			       known ? pb_json_u64_array(k->pages_by_node, k->n_nodes) : NULL);
	json_object_object_add(o, "pages_total",
			       known ? json_object_new_int64((int64_t)k->pages_total) : NULL);
	json_object_object_add(o, "pages_unknown_node",
			       known ? json_object_new_int64((int64_t)k->pages_unknown_node)
				     : NULL);
	json_object_object_add(o, "freed_after_window_pages",
			       known ? json_object_new_int64((int64_t)k->freed_pages) : NULL);
	json_object_object_add(o, "watched_ns",
			       known ? json_object_new_int64((int64_t)k->watched_ns) : NULL);
	json_object_object_add(o, "gap_ns",
			       known ? json_object_new_int64((int64_t)k->gap_ns) : NULL);
	json_object_object_add(o, "exact", json_object_new_boolean(known && k->exact));
	return o;
}

struct json_object *pb_iteration_facts_to_json(const struct pb_iteration_facts *f)
{
	struct json_object *j = json_object_new_object();
	uint64_t t0 = f->write_start_ns;
	json_object_object_add(j, "method",
			       json_object_new_string(pb_measure_method_name(f->method)));
	struct json_object *probes = json_object_new_array();
	for (size_t i = 0; i < f->n_probes; i++) {
		const struct pb_probe_fact *p = &f->probes[i];
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "device",
				       p->device[0] ? json_object_new_string(p->device) : NULL);
		json_object_object_add(e, "bus", p->bus[0] ? json_object_new_string(p->bus) : NULL);
		json_object_object_add(e, "driver",
				       p->driver[0] ? json_object_new_string(p->driver) : NULL);
		json_object_object_add(e, "cpu", jint_or_null(p->cpu >= 0, p->cpu));
		json_object_object_add(e, "node", jint_or_null(p->node >= 0, p->node));
		json_object_object_add(e, "device_node",
				       jint_or_null(p->device_node >= 0, p->device_node));
		json_object_object_add(
		    e, "on_device_node",
		    p->on_device_node < 0 ? NULL : json_object_new_boolean(p->on_device_node));
		json_object_object_add(e, "pid", json_object_new_int(p->pid));
		json_object_object_add(e, "comm",
				       p->comm[0] ? json_object_new_string(p->comm) : NULL);
		json_object_object_add(e, "task_measured",
				       json_object_new_boolean(p->task_measured));
		json_object_object_add(e, "start_ns", json_object_new_int64((int64_t)p->start_ns));
		json_object_object_add(e, "start_offset_ns",
				       json_object_new_int64((int64_t)p->start_ns - (int64_t)t0));
		json_object_object_add(e, "start_exact", json_object_new_boolean(p->start_exact));
		json_object_object_add(e, "duration_ns",
				       json_object_new_int64((int64_t)p->duration_ns));
		json_object_object_add(e, "duration_source",
				       json_object_new_string(duration_source(p)));
		json_object_object_add(e, "ret", jint_or_null(p->ret_known, p->ret));
		json_object_object_add(e, "depth", json_object_new_int(p->depth));
		json_object_object_add(e, "migrations",
				       json_object_new_int((int)p->writer_migrations));
		struct json_object *hop = NULL;
		if (p->hop) {
			hop = json_object_new_object();
			json_object_object_add(hop, "function",
					       json_object_new_string(p->hop_function));
			json_object_object_add(hop, "whole_probe",
					       json_object_new_boolean(p->hop_whole_probe));
			json_object_object_add(hop, "origin_pid",
					       json_object_new_int(p->origin_pid));
			json_object_object_add(hop, "pid", json_object_new_int(p->hop_pid));
			json_object_object_add(hop, "comm", json_object_new_string(p->hop_comm));
			json_object_object_add(hop, "cpu", json_object_new_int(p->hop_cpu));
			json_object_object_add(
			    hop, "queue_offset_ns",
			    json_object_new_int64((int64_t)p->hop_queue_ns - (int64_t)t0));
			json_object_object_add(
			    hop, "start_offset_ns",
			    json_object_new_int64((int64_t)p->hop_start_ns - (int64_t)t0));
			json_object_object_add(hop, "duration_ns",
					       json_object_new_int64((int64_t)p->hop_duration_ns));
			struct json_object *w = json_object_new_object();
			json_object_object_add(w, "on_cpu_ns",
					       json_object_new_int64((int64_t)p->hop_on_cpu_ns));
			json_object_object_add(w, "context_switches",
					       json_object_new_int((int)p->hop_switches));
			json_object_object_add(w, "migrations",
					       json_object_new_int((int)p->hop_migrations));
			json_object_object_add(hop, "worker", w);
		}
		json_object_object_add(e, "hop", hop);
		struct json_object *pg = NULL;
		if (p->pages_measured) {
			pg = json_object_new_object();
			json_object_object_add(
			    pg, "pages_by_node",
			    pb_json_u64_array(p->pages_by_node, p->n_page_nodes));
			json_object_object_add(
			    pg, "pages_unknown_node",
			    json_object_new_int64((int64_t)p->pages_unknown_node));
		}
		json_object_object_add(e, "memory", pg);
		json_object_object_add(e, "method",
				       json_object_new_string(pb_measure_method_name(p->method)));
		json_object_array_add(probes, e);
	}
	json_object_object_add(j, "probes", probes);
	json_object_object_add(j, "uevent_kernel_ns",
			       jint_or_null(f->uevent_kernel_ns >= 0, f->uevent_kernel_ns));
	json_object_object_add(j, "uevent_udev_ns",
			       jint_or_null(f->uevent_udev_ns >= 0, f->uevent_udev_ns));
	struct json_object *mem = NULL;
	if (f->memory_measured) {
		mem = json_object_new_object();
		long ps = sysconf(_SC_PAGESIZE);
		uint64_t bytes[PB_MEASURE_MAX_NODES];
		for (unsigned i = 0; i < f->n_nodes; i++)
			bytes[i] = f->pages_by_node[i] * (uint64_t)ps;
		json_object_object_add(mem, "pfn_map", json_object_new_string(f->pfn_map_source));
		json_object_object_add(mem, "pages_by_node",
				       pb_json_u64_array(f->pages_by_node, f->n_nodes));
		json_object_object_add(mem, "bytes_by_node", pb_json_u64_array(bytes, f->n_nodes));
		json_object_object_add(mem, "pages_total",
				       json_object_new_int64((int64_t)f->pages_total));
		json_object_object_add(mem, "pages_unknown_node",
				       json_object_new_int64((int64_t)f->pages_unknown_node));
		json_object_object_add(mem, "local_ratio",
				       f->local_ratio < 0 ? NULL
							  : json_object_new_double(f->local_ratio));
		struct json_object *slab = json_object_new_object();
		/* not sampled (the default): no sampled figures, rather than zeros */
		json_object_object_add(slab, "sampled", json_object_new_boolean(f->slab_sampled));
		if (f->slab_sampled) {
			json_object_object_add(
			    slab, "allocs_by_node",
			    pb_json_u64_array(f->slab_allocs_by_node, f->n_nodes));
			json_object_object_add(
			    slab, "bytes_by_node",
			    pb_json_u64_array(f->slab_bytes_by_node, f->n_nodes));
		}
		if (f->slab_counted)
			json_object_object_add(
			    slab, "counted_from",
			    json_object_new_string(f->slab_counted_ftrace
						       ? "ftrace records"
						       : "perf counting events"));
		json_object_object_add(slab, "counted_by_node",
				       f->slab_counted ? pb_json_u64_array(f->slab_counted_by_node,
									   f->n_slab_counted_nodes)
						       : NULL);
		json_object_object_add(mem, "slab_proxy", slab);
		json_object_object_add(mem, "freed_in_window", freed_json(f));
		json_object_object_add(mem, "kept", kept_json(f->kept));
		json_object_object_add(mem, "slab_caches",
				       f->slab_caches_measured
					   ? slab_deltas_json(f->slab_caches, f->n_slab_caches)
					   : NULL);
	}
	json_object_object_add(j, "memory", mem);
	struct json_object *cnt = NULL;
	if (f->counters_measured) {
		cnt = json_object_new_object();
		for (size_t i = 0; i < PB_MEASURE_N_COUNTERS; i++) {
			const struct pb_counter *c = &f->counters[i];
			if (!c->name)
				continue;
			json_object_object_add(cnt, c->name,
					       c->supported
						   ? json_object_new_int64((int64_t)c->value)
						   : json_object_new_string("unsupported"));
		}
	}
	json_object_object_add(j, "writer_counters", cnt);
	json_object_object_add(j, "writer_tid", json_object_new_int(f->writer_tid));
	json_object_object_add(j, "events_seen", json_object_new_int64((int64_t)f->events_seen));
	json_object_object_add(j, "decode_ns", json_object_new_int64((int64_t)f->decode_ns));
	json_object_object_add(j, "decode_work_ns",
			       json_object_new_int64((int64_t)f->decode_work_ns));
	json_object_object_add(j, "lost_records", json_object_new_int64((int64_t)f->lost_records));
	json_object_object_add(j, "lost_exact", json_object_new_boolean(f->lost_exact));
	json_object_object_add(j, "lost_slab_records",
			       json_object_new_int64((int64_t)f->lost_slab_records));
	return j;
}

struct json_object *pb_measurement_to_json(const struct pb_measurement *m)
{
	if (!m)
		return NULL;
	if (m->error[0]) {
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "error", json_object_new_string(m->error));
		return j;
	}
	struct json_object *j = pb_iteration_facts_to_json(&m->facts);
	if (m->missing_probe[0])
		json_object_object_add(j, "missing_probe",
				       json_object_new_string(m->missing_probe));
	if (m->method_after >= 0)
		json_object_object_add(
		    j, "method_after",
		    json_object_new_string(pb_measure_method_name(m->method_after)));
	return j;
}

/* The statistics, or null when they count nothing. */
static struct json_object *stats_or_null(const struct pb_stats *st)
{
	return st->n ? pb_stats_to_json(st) : NULL;
}

static struct json_object *summary_group_json(const struct pb_summary_group *g)
{
	struct json_object *e = json_object_new_object(), *on = json_object_new_object();
	json_object_object_add(e, "depth", json_object_new_int(g->depth));
	json_object_object_add(e, "bus", json_object_new_string(g->bus));
	json_object_object_add(e, "driver", json_object_new_string(g->driver));
	json_object_object_add(e, "probe_ns", stats_or_null(&g->probe_ns));
	json_object_object_add(on, "yes", json_object_new_int64((int64_t)g->on_node_yes));
	json_object_object_add(on, "no", json_object_new_int64((int64_t)g->on_node_no));
	json_object_object_add(on, "unknown", json_object_new_int64((int64_t)g->on_node_unknown));
	uint64_t known = g->on_node_yes + g->on_node_no;
	json_object_object_add(
	    on, "share",
	    known ? json_object_new_double((double)g->on_node_yes / (double)known) : NULL);
	json_object_object_add(e, "on_device_node", on);
	json_object_object_add(e, "hops", json_object_new_int64((int64_t)g->hops));
	return e;
}

struct json_object *pb_measure_summary_to_json(const struct pb_measure_summary *s)
{
	struct json_object *out = json_object_new_object();
	json_object_object_add(out, "method", s->method ? json_object_new_string(s->method) : NULL);
	json_object_object_add(out, "iterations_measured",
			       json_object_new_int64((int64_t)s->measured));
	json_object_object_add(out, "iterations_missing_probe",
			       json_object_new_int64((int64_t)s->missing_probe));
	json_object_object_add(out, "iterations_lossy", json_object_new_int64((int64_t)s->lossy));
	json_object_object_add(out, "lossy_included", json_object_new_boolean(s->lossy_included));
	struct json_object *pa = json_object_new_array();
	for (size_t j = 0; j < s->n_groups; j++)
		json_object_array_add(pa, summary_group_json(&s->groups[j]));
	json_object_object_add(out, "probes", pa);
	json_object_object_add(out, "uevent_kernel_ns", stats_or_null(&s->uevent_kernel_ns));
	json_object_object_add(out, "uevent_udev_ns", stats_or_null(&s->uevent_udev_ns));
	struct json_object *mo = NULL;
	if (s->memory) {
		long ps = sysconf(_SC_PAGESIZE);
		uint64_t bytes[PB_MEASURE_MAX_NODES];
		for (unsigned i = 0; i < s->n_page_nodes; i++)
			bytes[i] = s->pages_by_node[i] * (uint64_t)ps;
		mo = json_object_new_object();
		json_object_object_add(mo, "pages_by_node",
				       pb_json_u64_array(s->pages_by_node, s->n_page_nodes));
		json_object_object_add(mo, "bytes_by_node",
				       pb_json_u64_array(bytes, s->n_page_nodes));
		json_object_object_add(mo, "pages_total",
				       json_object_new_int64((int64_t)s->pages_total));
		json_object_object_add(mo, "pages_unknown_node",
				       json_object_new_int64((int64_t)s->pages_unknown_node));
		json_object_object_add(mo, "slab_sampled",
				       json_object_new_boolean(s->slab_sampled));
		if (s->slab_sampled)
			json_object_object_add(mo, "slab_allocs_by_node",
					       pb_json_u64_array(s->slab_by_node, s->n_slab_nodes));
		json_object_object_add(
		    mo, "slab_counted_by_node",
		    pb_json_u64_array(s->slab_counted_by_node, s->n_slab_counted_nodes));
		json_object_object_add(mo, "slab_counted_from",
				       json_object_new_string(s->slab_counted_ftrace
								  ? "ftrace records"
								  : "perf counting events"));
		json_object_object_add(mo, "pages_freed_in_window_total",
				       json_object_new_int64((int64_t)s->pages_freed_total));
		json_object_object_add(mo, "kept_iterations",
				       json_object_new_int64((int64_t)s->kept_iterations));
		json_object_object_add(mo, "kept_unknown_iterations",
				       json_object_new_int64((int64_t)s->kept_unknown));
		json_object_object_add(mo, "kept_pages_by_node",
				       pb_json_u64_array(s->kept_by_node, s->n_kept_nodes));
		json_object_object_add(mo, "kept_pages_total",
				       json_object_new_int64((int64_t)s->kept_total));
		json_object_object_add(mo, "slab_caches",
				       slab_deltas_json(s->slab_caches, s->n_slab_caches));
	}
	json_object_object_add(out, "memory", mo);
	json_object_object_add(out, "lost_records",
			       json_object_new_int64((int64_t)s->lost_records));
	json_object_object_add(out, "lost_slab_records",
			       json_object_new_int64((int64_t)s->lost_slab_records));
	return out;
}

/* How each of the record's numbers was obtained: short identifiers, explained in the schema's
 * descriptions (schema/run.schema.json, "method") and doc/measurement.md. */
static struct json_object *method_json(void)
{
	static const struct {
		const char *number, *how;
	} methods[] = {
	    {"unbind_ns", "clock_monotonic_write"},
	    {"bind_ns", "clock_monotonic_write"},
	    {"verified", "driver_link"},
	    {"cycle_ns", "clock_monotonic_cycle"},
	    {"writer_cpu", "sched_getcpu"},
	    {"percentiles", "nearest_rank"},
	    {"summary", "ok_iterations"},
	    {"bins", "log2_floor"},
	    {"measurement", "observer_window"},
	    {"probe_ns", "really_probe"},
	    {"uevent_kernel_ns", "netlink_kernel_uevent"},
	    {"uevent_udev_ns", "netlink_udev_uevent"},
	    {"pages_by_node", "kmem_mm_page_alloc"},
	    {"freed_in_window", "kmem_mm_page_free"},
	    {"kept", "kmem_mm_page_free_pfn_filter_to_next_unbind"},
	    {"slab_caches", "sysfs_slub_objects_before_after"},
	};
	struct json_object *x = json_object_new_object();
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		json_object_object_add(x, methods[i].number,
				       json_object_new_string(methods[i].how));
	return x;
}

static struct json_object *options_json(const struct pb_record_options *o)
{
	struct json_object *x = json_object_new_object();
	json_object_object_add(x, "entry", json_object_new_string(pb_entry_name(o->entry)));
	if (o->entry == PB_ENTRY_MODULE)
		json_object_object_add(x, "module_options",
				       json_object_new_string(o->module_options));
	json_object_object_add(x, "iterations", json_object_new_int64(o->iterations));
	json_object_object_add(x, "warmup", json_object_new_int64(o->warmup));
	json_object_object_add(x, "duration_ns", json_object_new_uint64(o->duration_ns));
	json_object_object_add(x, "interval_ns", json_object_new_uint64(o->interval_ns));
	json_object_object_add(x, "timeout_ns", json_object_new_uint64(o->timeout_ns));
	json_object_object_add(x, "max_consecutive_failures",
			       json_object_new_int64(o->max_consecutive_failures));
	json_object_object_add(x, "retries_per_bind", json_object_new_int(PB_CYCLE_RETRIES));
	json_object_object_add(x, "retry_backoff_ns",
			       json_object_new_uint64(PB_CYCLE_RETRY_BACKOFF_NS));
	struct json_object *forced = json_object_new_array();
	for (int k = 0; k < 32; k++)
		if (o->forced_reasons & (1u << k))
			json_object_array_add(forced, json_object_new_string(pb_reason_name(k)));
	json_object_object_add(x, "forced", forced);
	json_object_object_add(x, "parallel", json_object_new_boolean(o->parallel));
	json_object_object_add(x, "state_dir", json_object_new_string(o->state_dir));
	json_object_object_add(x, "measure", json_object_new_boolean(o->measure));
	json_object_object_add(x, "method",
			       json_object_new_string(pb_measure_method_name(o->method)));
	json_object_object_add(x, "fifo_prio", json_object_new_int(o->fifo_prio));
	json_object_object_add(x, "ring_pages", json_object_new_int64(o->ring_pages));
	json_object_object_add(x, "slab_samples", json_object_new_boolean(o->slab_samples));
	json_object_object_add(x, "buffer", json_object_new_string(pb_buffer_name(o->buffer)));
	json_object_object_add(x, "include_lossy", json_object_new_boolean(o->include_lossy));
	json_object_object_add(x, "mlock", json_object_new_boolean(o->mlock));
	return x;
}

static struct json_object *target_json(const struct pb_record_target *rt)
{
	const struct pb_target *t = &rt->t;
	struct json_object *x = json_object_new_object();
	json_object_object_add(x, "syspath", json_object_new_string(t->syspath));
	json_object_object_add(x, "bus", json_object_new_string(t->bus));
	json_object_object_add(x, "name", json_object_new_string(t->name));
	json_object_object_add(x, "driver", json_object_new_string(t->driver));
	json_object_object_add(x, "numa_node", json_object_new_int(t->numa_node));
	json_object_object_add(x, "numa_node_inherited",
			       json_object_new_boolean(t->numa_inherited));
	if (t->module[0])
		json_object_object_add(x, "module", json_object_new_string(t->module));
	json_object_object_add(x, "verdict", json_object_get(rt->verdict));
	return x;
}

static struct json_object *iteration_json(const struct pb_run_record *r,
					  const struct pb_record_iteration *it)
{
	struct json_object *x = json_object_new_object();
	json_object_object_add(x, "iteration", json_object_new_int64(it->iteration));
	json_object_object_add(x, "target", json_object_new_string(r->targets[it->target].t.name));
	json_object_object_add(x, "placement",
			       json_object_new_string(r->placements[it->placement].label));
	json_object_object_add(x, "writer_cpu", json_object_new_int(it->res.writer_cpu));
	json_object_object_add(x, "writer_node", json_object_new_int(it->res.writer_node));
	json_object_object_add(x, "unbind_ns", json_object_new_uint64(it->res.unbind_ns));
	json_object_object_add(x, "bind_ns", json_object_new_uint64(it->res.bind_ns));
	if (r->options.entry == PB_ENTRY_MODULE)
		json_object_object_add(x, "load_ns", json_object_new_uint64(it->res.load_ns));
	json_object_object_add(x, "cycle_ns", json_object_new_uint64(it->res.cycle_ns));
	json_object_object_add(x, "unbind_errno", json_object_new_int(it->res.unbind_errno));
	json_object_object_add(x, "bind_errno", json_object_new_int(it->res.bind_errno));
	json_object_object_add(x, "retries", json_object_new_int(it->res.retries));
	json_object_object_add(x, "verified", json_object_new_boolean(it->res.verified));
	json_object_object_add(x, "put_back", json_object_new_boolean(it->res.put_back));
	json_object_object_add(x, "outcome",
			       json_object_new_string(pb_cycle_outcome_name(it->res.outcome)));
	if (it->measurement)
		json_object_object_add(x, "measurement", pb_measurement_to_json(it->measurement));
	return x;
}

static struct json_object *summary_json(const struct pb_run_record *r,
					const struct pb_record_summary *s)
{
	struct json_object *x = json_object_new_object();
	json_object_object_add(x, "target", json_object_new_string(r->targets[s->target].t.name));
	json_object_object_add(x, "placement",
			       json_object_new_string(r->placements[s->placement].label));
	json_object_object_add(x, "unbind_ns", pb_stats_to_json(&s->unbind_ns));
	json_object_object_add(x, "bind_ns", pb_stats_to_json(&s->bind_ns));
	if (s->measured)
		json_object_object_add(x, "measurement",
				       pb_measure_summary_to_json(&s->measurement));
	return x;
}

/* NULL stays absent; a fact is shared with the record. */
static void add_fact(struct json_object *rec, const char *key, struct json_object *v)
{
	if (v)
		json_object_object_add(rec, key, json_object_get(v));
}

struct json_object *pb_run_record_to_json(const struct pb_run_record *r)
{
	struct json_object *rec = json_object_new_object(), *x;
	x = json_object_new_object();
	json_object_object_add(x, "name", json_object_new_string("probebench-run"));
	json_object_object_add(x, "version", json_object_new_int(r->schema_version));
	json_object_object_add(rec, "schema", x);
	json_object_object_add(rec, "tool_version", json_object_new_string(r->tool_version));
	add_fact(rec, "kernel", r->kernel);
	json_object_object_add(rec, "host", json_object_new_string(r->host));
	add_fact(rec, "uname", r->uname);
	add_fact(rec, "topology", r->topology);
	if (r->measurement_info)
		add_fact(rec, "measurement", r->measurement_info);
	else {
		x = json_object_new_object();
		json_object_object_add(x, "enabled", json_object_new_boolean(r->measure_enabled));
		if (!r->measure_enabled)
			json_object_object_add(x, "why_not",
					       json_object_new_string(r->measure_why_not));
		json_object_object_add(rec, "measurement", x);
	}
	json_object_object_add(rec, "hygiene",
			       r->hygiene ? json_object_get(r->hygiene) : json_object_new_object());
	json_object_object_add(rec, "start_unix_ns", json_object_new_int64(r->start_unix_ns));
	json_object_object_add(rec, "end_unix_ns", json_object_new_int64(r->end_unix_ns));
	json_object_object_add(rec, "options", options_json(&r->options));
	json_object_object_add(rec, "method", method_json());
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < r->n_targets; i++)
		json_object_array_add(a, target_json(&r->targets[i]));
	json_object_object_add(rec, "targets", a);
	a = json_object_new_array();
	for (size_t i = 0; i < r->n_placements; i++) {
		x = json_object_new_object();
		json_object_object_add(x, "label", json_object_new_string(r->placements[i].label));
		json_object_object_add(x, "cpu", json_object_new_int(r->placements[i].cpu));
		json_object_object_add(x, "node", json_object_new_int(r->placements[i].node));
		json_object_array_add(a, x);
	}
	json_object_object_add(rec, "placements", a);
	a = json_object_new_array();
	for (size_t i = 0; i < r->n_iterations; i++)
		json_object_array_add(a, iteration_json(r, &r->iterations[i]));
	json_object_object_add(rec, "iterations", a);
	a = json_object_new_array();
	for (size_t i = 0; i < r->n_summaries; i++)
		json_object_array_add(a, summary_json(r, &r->summaries[i]));
	json_object_object_add(rec, "summary", a);
	json_object_object_add(rec, "warmup_done", json_object_new_int64(r->warmup_done));
	json_object_object_add(rec, "journal_restored",
			       r->restored ? json_object_get(r->restored)
					   : json_object_new_array());
	json_object_object_add(rec, "status", json_object_new_string(r->status));
	json_object_object_add(rec, "exit_code", json_object_new_int((int)r->run_status));
	return rec;
}

char *pb_run_record_json_text(const struct pb_run_record *r)
{
	struct json_object *j = pb_run_record_to_json(r);
	const char *text = j ? json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								     JSON_C_TO_STRING_NOSLASHESCAPE)
			     : NULL;
	char *copy = text ? strdup(text) : NULL;
	json_object_put(j);
	return copy;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* The typed run record's own parts (record.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "probebench/record.h"

struct pb_measurement *pb_measurement_new(void)
{
	struct pb_measurement *m = calloc(1, sizeof(*m));
	if (m)
		m->method_after = -1;
	return m;
}

struct pb_measurement *pb_measurement_error(const char *what, int err)
{
	struct pb_measurement *m = pb_measurement_new();
	if (m)
		snprintf(m->error, sizeof(m->error), "%s: %s", what, strerror(-err));
	return m;
}

void pb_measurement_free(struct pb_measurement *m)
{
	if (!m)
		return;
	pb_iteration_facts_clear(&m->facts);
	free(m);
}

int pb_run_record_add_iteration(struct pb_run_record *r, const struct pb_record_iteration *it)
{
	if (r->n_iterations == r->cap_iterations) {
		size_t cap = r->cap_iterations ? r->cap_iterations * 2 : 256;
		struct pb_record_iteration *n = realloc(r->iterations, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		r->iterations = n;
		r->cap_iterations = cap;
	}
	r->iterations[r->n_iterations++] = *it;
	return 0;
}

static void summaries_clear(struct pb_run_record *r)
{
	for (size_t i = 0; i < r->n_summaries; i++)
		pb_measure_summary_clear(&r->summaries[i].measurement);
	free(r->summaries);
	r->summaries = NULL;
	r->n_summaries = 0;
}

/* One target x placement: bind and unbind times of its ok iterations, their measurements. */
static int summarise_one(struct pb_run_record *r, struct pb_record_summary *s, uint64_t *b,
			 uint64_t *ub, const struct pb_measurement **ms)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_iterations; i++) {
		const struct pb_record_iteration *it = &r->iterations[i];
		if (it->target != s->target || it->placement != s->placement ||
		    it->res.outcome != PB_CYCLE_OK)
			continue;
		b[n] = it->res.bind_ns;
		ub[n] = it->res.unbind_ns;
		ms[n++] = it->measurement;
	}
	if (pb_stats_compute(ub, n, &s->unbind_ns) < 0 || pb_stats_compute(b, n, &s->bind_ns) < 0)
		return -ENOMEM;
	s->measured = r->measure_enabled;
	if (s->measured)
		return pb_measure_summary_make(ms, n, r->options.include_lossy, &s->measurement);
	return 0;
}

int pb_run_record_summarise(struct pb_run_record *r)
{
	summaries_clear(r);
	size_t n = r->n_targets * r->n_placements;
	uint64_t *b = malloc((r->n_iterations + 1) * sizeof(*b)),
		 *ub = malloc((r->n_iterations + 1) * sizeof(*ub));
	const struct pb_measurement **ms = malloc((r->n_iterations + 1) * sizeof(*ms));
	r->summaries = calloc(n ? n : 1, sizeof(*r->summaries));
	int ret = b && ub && ms && r->summaries ? 0 : -ENOMEM;
	for (size_t t = 0; ret == 0 && t < r->n_targets; t++)
		for (size_t p = 0; ret == 0 && p < r->n_placements; p++) {
			struct pb_record_summary *s = &r->summaries[r->n_summaries++];
			s->target = t;
			s->placement = p;
			ret = summarise_one(r, s, b, ub, ms);
		}
	free(b);
	free(ub);
	free(ms);
	if (ret < 0)
		summaries_clear(r);
	return ret;
}

void pb_run_record_free(struct pb_run_record *r)
{
	if (!r)
		return;
	summaries_clear(r);
	for (size_t i = 0; i < r->n_iterations; i++)
		pb_measurement_free(r->iterations[i].measurement);
	free(r->iterations);
	for (size_t i = 0; i < r->n_targets; i++)
		json_object_put(r->targets[i].verdict);
	free(r->targets);
	free(r->placements);
	json_object_put(r->kernel);
	json_object_put(r->uname);
	json_object_put(r->topology);
	json_object_put(r->measurement_info);
	json_object_put(r->hygiene);
	json_object_put(r->restored);
	free(r);
}

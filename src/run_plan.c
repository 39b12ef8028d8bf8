// SPDX-License-Identifier: GPL-2.0-or-later
/* The run's plan: targets, their safety verdicts, writer placements (run_plan.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/inventory.h"
#include "probebench/log.h"
#include "probebench/module.h"
#include "probebench/run_plan.h"
#include "probebench/selector.h"
#include "probebench/util.h"

void pb_placement_label(const struct pb_placement *p, char *buf, size_t size)
{
	if (p->cpu >= 0)
		snprintf(buf, size, "cpu%d", p->cpu);
	else if (p->node >= 0)
		snprintf(buf, size, "node%d", p->node);
	else
		snprintf(buf, size, "any");
}

static int resolve_targets(struct pb_run_plan *plan, const struct pb_run_opts *o)
{
	char err[1024] = "";
	int r = 0;
	plan->inventory = o->inventory;
	if (!plan->inventory) {
		r = pb_inventory_load(&plan->own_inventory, err, sizeof(err));
		if (r < 0) {
			pb_error("cannot read the devices: %s", err[0] ? err : strerror(-r));
			return r;
		}
		plan->inventory = plan->own_inventory;
	}
	struct pb_device **devs = NULL;
	size_t n = 0;
	r = pb_inventory_resolve(plan->inventory, o->targets, o->n_targets, &devs, &n, err,
				 sizeof(err));
	if (r < 0) {
		if (r == -EINVAL || r == -ENOENT)
			pb_error("%s", err);
		else
			pb_error_errno(r, "selecting the targets");
		return r;
	}
	plan->targets = calloc(n ? n : 1, sizeof(*plan->targets));
	plan->verdicts = calloc(n ? n : 1, sizeof(*plan->verdicts));
	plan->devices = calloc(n ? n : 1, sizeof(*plan->devices));
	if (!plan->targets || !plan->verdicts || !plan->devices)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = pb_target_from_syspath(devs[i]->syspath, &plan->targets[i]);
		if (r < 0) {
			pb_error_errno(r, "%s", devs[i]->syspath);
			break;
		}
		/* The inventory's node: own, or inherited from the nearest ancestor with one. */
		plan->targets[i].numa_node = devs[i]->numa_node;
		plan->targets[i].numa_inherited = devs[i]->node_source == PB_NODE_INHERITED;
		plan->devices[i] = devs[i];
		plan->n_targets++;
	}
	free(devs);
	return r;
}

/* Cycling a device removes and re-creates what is below it; a hung one is never touched. */
static int check_overlaps(const struct pb_run_plan *plan, const char (*hung)[PATH_MAX],
			  size_t n_hung)
{
	const struct pb_target *t = plan->targets;
	for (size_t i = 0; i < plan->n_targets; i++) {
		for (size_t j = 0; j < i; j++)
			if (pb_path_below(t[i].syspath, t[j].syspath) ||
			    pb_path_below(t[j].syspath, t[i].syspath)) {
				pb_error("targets %s and %s: one is below the other, and cycling "
					 "the upper one re-creates the lower; name one of them",
					 t[j].name, t[i].name);
				return -EINVAL;
			}
		for (size_t k = 0; k < n_hung; k++)
			if (!strcmp(hung[k], t[i].syspath) ||
			    pb_path_below(t[i].syspath, hung[k]) ||
			    pb_path_below(hung[k], t[i].syspath)) {
				pb_error(
				    "%s: a write to it (or to %s) hung in this boot; it is never "
				    "touched again before a reboot",
				    t[i].name, hung[k]);
				return -EDEADLK;
			}
	}
	return 0;
}

static void add_refusal(struct pb_verdict *v, enum pb_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_refusal(struct pb_verdict *v, enum pb_reason reason, const char *fmt, ...)
{
	if (v->n >= PB_ARRAY_SIZE(v->refusals))
		return;
	struct pb_refusal *f = &v->refusals[v->n++];
	f->reason = reason;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

/*
 * --entry module: unloading the target's module unbinds every device of its drivers, so each of
 * them must pass the checks the target passes; their refusals join the target's verdict, naming
 * the device. A module that cannot be unloaded (built in, in use, needed) is refused whatever
 * --force says. Two targets of one module are one unload: -EINVAL.
 */
static int check_module(struct pb_run_plan *plan, size_t i, struct pb_policy_ctx *ctx)
{
	struct pb_target *t = &plan->targets[i];
	struct pb_verdict *v = &plan->verdicts[i];
	struct pb_module_state ms;
	char why[256];
	if (!t->driver[0])
		return 0; /* refused as no-driver */
	int r = pb_module_state_read(t->bus, t->driver, &ms);
	if (r < 0)
		return pb_error_errno(r, "%s: cannot read the module of driver %s", t->name,
				      t->driver);
	/* The module to unload: none for a built-in driver (refused below). */
	if (!ms.builtin)
		snprintf(t->module, sizeof(t->module), "%s", ms.name);
	for (size_t j = 0; j < i && t->module[0]; j++)
		if (!strcmp(plan->targets[j].module, t->module)) {
			pb_error("targets %s and %s share module %s: --entry module unloads it "
				 "once for all its devices; name one of them",
				 plan->targets[j].name, t->name, t->module);
			pb_module_state_clear(&ms);
			return -EINVAL;
		}
	if (pb_module_refusal(&ms, t->driver, why, sizeof(why))) {
		add_refusal(v, PB_REASON_MODULE, "%s", why);
		plan->module_refused = true;
	}
	for (size_t k = 0; k < ms.n_devices; k++) {
		const struct pb_module_device *d = &ms.devices[k];
		if (!strcmp(d->syspath, t->syspath))
			continue;
		const struct pb_device *dev = pb_inventory_find(plan->inventory, d->syspath);
		if (!dev) {
			add_refusal(v, PB_REASON_MODULE,
				    "module %s also drives %s (%s), which the inventory does not "
				    "hold, so it cannot be checked",
				    ms.name, d->name, d->driver);
			plan->module_refused = true;
			continue;
		}
		struct pb_verdict dv = {0};
		r = pb_policy_check(ctx, plan->inventory, dev, &dv);
		if (r < 0) {
			pb_module_state_clear(&ms);
			return pb_error_errno(r, "%s: safety check failed", d->name);
		}
		for (size_t m = 0; m < dv.n; m++)
			add_refusal(v, dv.refusals[m].reason, "module %s also drives %s: %s",
				    ms.name, d->name, dv.refusals[m].detail);
	}
	pb_module_state_clear(&ms);
	return 0;
}

static int check_policy(struct pb_run_plan *plan, const struct pb_run_opts *o)
{
	uint32_t forced = o->forced_reasons;
	struct pb_policy_ctx *ctx = NULL;
	int r = pb_policy_ctx_new(&ctx);
	if (r < 0)
		return pb_error_errno(r, "cannot take the safety snapshot");
	plan->allowed = true;
	for (size_t i = 0; i < plan->n_targets; i++) {
		struct pb_target *t = &plan->targets[i];
		r = pb_policy_check(ctx, plan->inventory, plan->devices[i], &plan->verdicts[i]);
		if (r < 0) {
			pb_policy_ctx_free(ctx);
			return pb_error_errno(r, "%s: safety check failed", t->name);
		}
		if (o->entry == PB_ENTRY_MODULE && (r = check_module(plan, i, ctx)) < 0) {
			pb_policy_ctx_free(ctx);
			return r;
		}
		plan->allowed &= pb_verdict_allowed(&plan->verdicts[i], forced);
	}
	plan->allowed &= !plan->module_refused;
	pb_policy_ctx_free(ctx);
	return 0;
}

static int build_placements(struct pb_run_plan *plan, const struct pb_run_opts *o)
{
	size_t n = o->n_writer_nodes + o->n_writer_cpus;
	plan->n_placements = n ? n : 1;
	plan->placements = calloc(plan->n_placements, sizeof(*plan->placements));
	if (!plan->placements)
		return -ENOMEM;
	int f = o->fifo_prio > 0 ? o->fifo_prio : 0;
	plan->placements[0] = (struct pb_placement){-1, -1, f};
	for (size_t i = 0; i < o->n_writer_nodes; i++)
		plan->placements[i] = (struct pb_placement){-1, o->writer_nodes[i], f};
	for (size_t i = 0; i < o->n_writer_cpus; i++)
		plan->placements[o->n_writer_nodes + i] =
		    (struct pb_placement){o->writer_cpus[i], -1, f};
	return 0;
}

int pb_run_plan_make(const struct pb_run_opts *o, const char (*hung)[PATH_MAX], size_t n_hung,
		     struct pb_run_plan **ret)
{
	struct pb_run_plan *plan = calloc(1, sizeof(*plan));
	*ret = NULL;
	if (!plan)
		return -ENOMEM;
	int r = resolve_targets(plan, o);
	if (r == 0)
		r = check_overlaps(plan, hung, n_hung);
	if (r == 0)
		r = build_placements(plan, o);
	if (r == 0)
		r = check_policy(plan, o);
	if (r < 0) {
		pb_run_plan_free(plan);
		return r;
	}
	*ret = plan;
	return 0;
}

void pb_run_plan_free(struct pb_run_plan *p)
{
	if (!p)
		return;
	free(p->targets);
	free(p->verdicts);
	free(p->devices);
	pb_inventory_free(p->own_inventory);
	free(p->placements);
	free(p);
}

void pb_run_plan_print(FILE *f, const struct pb_run_plan *p, const struct pb_run_opts *o)
{
	fprintf(f, "plan: entry %s, %u warm-up + %u iterations", pb_entry_name(o->entry), o->warmup,
		o->iterations);
	if (o->duration_ns)
		fprintf(f, " (at most %.3f s)", o->duration_ns / 1e9);
	fprintf(f, ", timeout %.3f s, stop after %u consecutive failures\n", o->timeout_ns / 1e9,
		o->max_consecutive_failures);
	for (size_t i = 0; i < p->n_targets; i++) {
		const struct pb_target *t = &p->targets[i];
		fprintf(f, "  target %s: bus %s, driver %s, numa node %d%s, %s\n", t->name, t->bus,
			t->driver[0] ? t->driver : "(none)", t->numa_node,
			t->numa_inherited ? " (inherited)" : "", t->syspath);
		if (t->module[0])
			fprintf(f, "  module %s, loaded with '%s'\n", t->module,
				o->module_options ? o->module_options : "");
	}
	for (size_t i = 0; i < p->n_placements; i++) {
		char l[32];
		pb_placement_label(&p->placements[i], l, sizeof(l));
		fprintf(f, "  writer placement %s\n", l);
	}
	fprintf(f, "verdicts:\n");
	for (size_t i = 0; i < p->n_targets; i++) {
		const struct pb_verdict *v = &p->verdicts[i];
		for (size_t k = 0; k < v->n; k++)
			fprintf(f, "  %s: %s%s: %s\n", p->targets[i].name,
				pb_reason_name(v->refusals[k].reason),
				o->forced_reasons & (1u << v->refusals[k].reason) ? " (forced)"
										  : " (refused)",
				v->refusals[k].detail);
		if (!v->n)
			fprintf(f, "  %s: every check passed\n", p->targets[i].name);
	}
}

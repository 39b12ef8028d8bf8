// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's state and event loop. The main thread runs an sd-event loop: signal sources
 * (SIGTERM/SIGINT stop, SIGHUP reloads), one time source per periodic plan, I/O sources for
 * uevents (libudev) and for the worker's completion (eventfd), the watchdog
 * (sd_event_set_watchdog), and a post source that starts the next pending plan after anything
 * happened. One worker thread at a time runs a plan through pb_run_execute(); libmicrohttpd
 * serves the API from its own thread, reading only pre-rendered documents under `lock`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <json-c/json.h>
#include <libudev.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "probebench/config.h"
#include "probebench/daemon.h"
#include "probebench/http.h"
#include "probebench/inventory.h"
#include "probebench/journal.h"
#include "probebench/log.h"
#include "probebench/selector.h"
#include "probebench/metrics.h"
#include "probebench/paths.h"
#include "probebench/placement.h"
#include "probebench/record.h"
#include "probebench/report_html.h"
#include "probebench/results.h"
#include "probebench/run.h"
#include "probebench/util.h"
#include "probebench/version.h"

/* How late a plan's timer may fire, so that the loop can wake up for several at once. */
#define TIMER_ACCURACY_USEC 1000

struct daemon;

/* Where the users of a plan's targets kept their memory after its run ("placement": true). */
struct placement_sample {
	struct pb_inventory *inv; /* the report's devices point into it */
	struct pb_placement_report *rep;
};

static void placement_sample_clear(struct placement_sample *s)
{
	pb_placement_report_free(s->rep);
	pb_inventory_free(s->inv);
	*s = (struct placement_sample){0};
}

struct plan_state {
	struct daemon *d;
	char name[72];
	uint64_t runs_by_status[PB_RUN_STATUS__MAX];
	bool has_last;
	enum pb_run_status last_status;
	double last_end_time_s, last_duration_s;
	char last_id[PB_RESULT_ID_MAX];
	struct pb_run_record *last_record; /* the latest run (owned) */
	struct placement_sample placement; /* sampled after the latest run (owned) */
	uint64_t next_due_ns;		   /* CLOCK_MONOTONIC; 0 = not scheduled */
	sd_event_source *timer;
	bool pending;
	char pending_reason[64];
};

struct worker {
	bool active;
	pthread_t thread;
	struct pb_run_opts opts;
	char **targets; /* selectors handed to the run */
	size_t n_targets;
	struct pb_inventory *inventory; /* read for the plan's rules, handed to its run; or NULL */
	int writer_nodes[PB_CONFIG_MAX_NODES];
	char plan[72];
	char reason[64];
	uint64_t start_mono_ns, start_real_ns;
	enum pb_run_status status;
	struct pb_run_record *record;
	bool placement; /* sample placement after the run */
	struct placement_sample sample;
};

struct daemon {
	const struct pb_daemon_opts *opts;
	struct pb_config *cfg;
	struct plan_state *plans;
	size_t n_plans;
	struct worker w;
	volatile sig_atomic_t stop_run;
	bool stopping;
	sd_event *event;
	int efd; /* the worker writes 1 when it is done */
	struct udev *udev;
	struct udev_monitor *mon;
	sd_event_source *uevent_source;
	struct pb_http *http;
	double start_time_s;
	uint64_t reloads_ok, reloads_failed;
	bool restore_ran; /* at start: journal entries found, the restore's exit code */
	unsigned restore_entries;
	int restore_exit;
	size_t results_stored;

	pthread_mutex_t lock; /* guards the documents below, read by the HTTP thread */
	struct doc *status_json;
	struct doc *runs_json;
	struct doc *metrics_text;
	char latest_id[PB_RESULT_ID_MAX]; /* the newest stored run; "": none */
	char results_dir[4096];
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void iso_time(uint64_t real_ns, char *buf, size_t size)
{
	time_t t = (time_t)(real_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(real_ns / 1000000ull % 1000));
}

/*
 * A rendered document, shared by reference with the HTTP responses that send it: a slow reader
 * holds the document it started with, not a copy of it, and a new rendering replaces the slot
 * without waiting for readers.
 */
struct doc {
	atomic_uint refs;
	size_t len;
	char text[];
};

static void doc_unref(void *p)
{
	struct doc *doc = p;
	if (doc && atomic_fetch_sub(&doc->refs, 1) == 1)
		free(doc);
}

/* Replaces *slot with text (taken, and freed here); a NULL text or no memory clears it. */
static void set_doc(struct daemon *d, struct doc **slot, char *text)
{
	size_t len = text ? strlen(text) : 0;
	struct doc *doc = text ? malloc(sizeof(*doc) + len + 1) : NULL;
	if (doc) {
		atomic_init(&doc->refs, 1);
		doc->len = len;
		memcpy(doc->text, text, len + 1);
	}
	free(text);
	pthread_mutex_lock(&d->lock);
	struct doc *old = *slot;
	*slot = doc;
	pthread_mutex_unlock(&d->lock);
	doc_unref(old);
}

static struct plan_state *plan_state(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_plans; i++)
		if (!strcmp(d->plans[i].name, name))
			return &d->plans[i];
	return NULL;
}

static const struct pb_config_plan *config_plan(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->cfg->n_plans; i++)
		if (!strcmp(d->cfg->plans[i].name, name))
			return &d->cfg->plans[i];
	return NULL;
}

/* ---- documents served over HTTP --------------------------------------------------------- */

static struct json_object *target_json(const struct pb_config_target *t)
{
	if (t->device)
		return json_object_new_string(t->device);
	struct json_object *o = json_object_new_object();
	char id[8];
	snprintf(id, sizeof(id), "%04x", (unsigned)t->vendor);
	json_object_object_add(o, "vendor", json_object_new_string(id));
	snprintf(id, sizeof(id), "%04x", (unsigned)t->device_id);
	json_object_object_add(o, "device", json_object_new_string(id));
	if (t->driver)
		json_object_object_add(o, "driver", json_object_new_string(t->driver));
	return o;
}

static void render_status(struct daemon *d)
{
	struct json_object *o = json_object_new_object();
	char buf[64];
	uint64_t now_mono = pb_now_ns(), now_real = realtime_ns();
	json_object_object_add(o, "schema", json_object_new_string("probebench-status"));
	json_object_object_add(o, "version", json_object_new_int(1));
	struct json_object *dm = json_object_new_object();
	json_object_object_add(dm, "version", json_object_new_string(PB_VERSION));
	json_object_object_add(dm, "pid", json_object_new_int((int)getpid()));
	iso_time((uint64_t)(d->start_time_s * 1e9), buf, sizeof(buf));
	json_object_object_add(dm, "start_time", json_object_new_string(buf));
	json_object_object_add(dm, "config", json_object_new_string(d->cfg->path));
	json_object_object_add(dm, "state",
			       json_object_new_string(d->stopping   ? "stopping"
						      : d->w.active ? "running"
								    : "idle"));
	json_object_object_add(o, "daemon", dm);
	if (d->w.active) {
		struct json_object *cur = json_object_new_object();
		json_object_object_add(cur, "plan", json_object_new_string(d->w.plan));
		json_object_object_add(cur, "reason", json_object_new_string(d->w.reason));
		iso_time(d->w.start_real_ns, buf, sizeof(buf));
		json_object_object_add(cur, "start_time", json_object_new_string(buf));
		struct json_object *ts = json_object_new_array();
		for (size_t i = 0; i < d->w.n_targets; i++)
			json_object_array_add(ts, json_object_new_string(d->w.targets[i]));
		json_object_object_add(cur, "targets", ts);
		json_object_object_add(o, "current", cur);
	} else {
		json_object_object_add(o, "current", NULL);
	}
	struct json_object *plans = json_object_new_array();
	for (size_t i = 0; i < d->cfg->n_plans; i++) {
		const struct pb_config_plan *cp = &d->cfg->plans[i];
		struct plan_state *ps = plan_state(d, cp->name);
		struct json_object *p = json_object_new_object();
		json_object_object_add(p, "name", json_object_new_string(cp->name));
		struct json_object *ts = json_object_new_array();
		for (size_t k = 0; k < cp->n_targets; k++)
			json_object_array_add(ts, target_json(&cp->targets[k]));
		json_object_object_add(p, "targets", ts);
		json_object_object_add(p, "entry",
				       json_object_new_string(pb_entry_name(cp->entry)));
		json_object_object_add(p, "iterations", json_object_new_int((int)cp->iterations));
		json_object_object_add(p, "warmup", json_object_new_int((int)cp->warmup));
		struct json_object *wn = json_object_new_array();
		for (size_t k = 0; k < cp->n_writer_nodes; k++)
			json_object_array_add(wn, json_object_new_int(cp->writer_nodes[k]));
		json_object_object_add(p, "writer_nodes", wn);
		struct json_object *sc = json_object_new_object();
		json_object_object_add(sc, "every_seconds",
				       cp->every_ns ? json_object_new_double(cp->every_ns / 1e9)
						    : NULL);
		json_object_object_add(sc, "at_start", json_object_new_boolean(cp->at_start));
		json_object_object_add(sc, "on_add", json_object_new_boolean(cp->on_add));
		json_object_object_add(p, "schedule", sc);
		if (ps && ps->next_due_ns) {
			iso_time(pb_mono_to_realtime_ns(ps->next_due_ns, now_mono, now_real), buf,
				 sizeof(buf));
			json_object_object_add(p, "next_run", json_object_new_string(buf));
		} else {
			json_object_object_add(p, "next_run", NULL);
		}
		uint64_t total = 0;
		for (int c = 0; ps && c < PB_RUN_STATUS__MAX; c++)
			total += ps->runs_by_status[c];
		json_object_object_add(p, "runs_since_start",
				       json_object_new_int64((int64_t)total));
		if (ps && ps->has_last) {
			struct json_object *l = json_object_new_object();
			json_object_object_add(
			    l, "id", ps->last_id[0] ? json_object_new_string(ps->last_id) : NULL);
			json_object_object_add(l, "exit_code",
					       json_object_new_int((int)ps->last_status));
			json_object_object_add(
			    l, "result",
			    json_object_new_string(pb_run_status_name(ps->last_status)));
			iso_time((uint64_t)(ps->last_end_time_s * 1e9), buf, sizeof(buf));
			json_object_object_add(l, "end_time", json_object_new_string(buf));
			json_object_object_add(p, "last", l);
		} else {
			json_object_object_add(p, "last", NULL);
		}
		json_object_array_add(plans, p);
	}
	json_object_object_add(o, "plans", plans);
	struct json_object *res = json_object_new_object();
	json_object_object_add(res, "dir", json_object_new_string(d->cfg->results_dir));
	json_object_object_add(res, "stored", json_object_new_int64((int64_t)d->results_stored));
	json_object_object_add(res, "retention_count",
			       json_object_new_int64((int64_t)d->cfg->retention_count));
	json_object_object_add(res, "retention_age_seconds",
			       json_object_new_double(d->cfg->retention_age_ns / 1e9));
	json_object_object_add(o, "results", res);
	char *text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	set_doc(d, &d->status_json, text);
}

/* The runs index, newest first, from the results directory. */
static void render_runs(struct daemon *d)
{
	char **ids = NULL;
	size_t n = 0;
	int r = pb_results_list(d->cfg->results_dir, &ids, &n);
	if (r < 0)
		pb_warn("cannot list %s: %s", d->cfg->results_dir, strerror(-r));
	d->results_stored = n;
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	json_object_object_add(o, "schema", json_object_new_string("probebench-runs"));
	json_object_object_add(o, "version", json_object_new_int(1));
	for (size_t i = n; i-- > 0;) {
		struct json_object *e = json_object_new_object();
		uint64_t t = 0;
		const char *plan = "";
		char buf[160];
		pb_result_id_parse(ids[i], &t, &plan);
		json_object_object_add(e, "id", json_object_new_string(ids[i]));
		json_object_object_add(e, "plan", json_object_new_string(plan));
		iso_time(t, buf, sizeof(buf));
		json_object_object_add(e, "start_time", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "/api/v1/runs/%s", ids[i]);
		json_object_object_add(e, "url", json_object_new_string(buf));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "runs", a);
	char *text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	/* the newest file is what /api/v1/runs/latest serves */
	pthread_mutex_lock(&d->lock);
	snprintf(d->latest_id, sizeof(d->latest_id), "%s", n ? ids[n - 1] : "");
	snprintf(d->results_dir, sizeof(d->results_dir), "%s", d->cfg->results_dir);
	pthread_mutex_unlock(&d->lock);
	pb_results_ids_free(ids, n);
	set_doc(d, &d->runs_json, text);
}

static void render_metrics(struct daemon *d)
{
	struct pb_metrics_plan *mp = calloc(d->n_plans ? d->n_plans : 1, sizeof(*mp));
	if (!mp)
		return;
	for (size_t i = 0; i < d->n_plans; i++) {
		struct plan_state *ps = &d->plans[i];
		mp[i].name = ps->name;
		memcpy(mp[i].runs_by_status, ps->runs_by_status, sizeof(ps->runs_by_status));
		mp[i].has_last = ps->has_last;
		mp[i].last_status = ps->last_status;
		mp[i].last_end_time_s = ps->last_end_time_s;
		mp[i].last_duration_s = ps->last_duration_s;
		mp[i].last_record = ps->last_record;
		mp[i].placement = ps->placement.rep;
	}
	struct pb_metrics_daemon md = {
	    .version = PB_VERSION,
	    .start_time_s = d->start_time_s,
	    .results_stored = d->results_stored,
	    .run_in_progress = d->w.active,
	    .config_reloads_ok = d->reloads_ok,
	    .config_reloads_failed = d->reloads_failed,
	    .restore_ran = d->restore_ran,
	    .restore_entries = d->restore_entries,
	    .restore_exit = d->restore_exit,
	};
	char *text = NULL;
	if (pb_metrics_render(&md, mp, d->n_plans, &text) < 0)
		text = NULL;
	free(mp);
	if (!text)
		return;
	if (d->cfg->textfile) {
		int r = pb_write_file_atomic(d->cfg->textfile, text, strlen(text), 0644, 0);
		if (r < 0)
			pb_warn("cannot write textfile %s: %s", d->cfg->textfile, strerror(-r));
	}
	set_doc(d, &d->metrics_text, text);
}

static void notify_status(struct daemon *d)
{
	char next[160] = "";
	uint64_t now = pb_now_ns(), best = 0;
	const char *best_plan = NULL;
	for (size_t i = 0; i < d->n_plans; i++)
		if (d->plans[i].next_due_ns && (!best || d->plans[i].next_due_ns < best)) {
			best = d->plans[i].next_due_ns;
			best_plan = d->plans[i].name;
		}
	if (best_plan) {
		char when[64];
		iso_time(pb_mono_to_realtime_ns(best, now, realtime_ns()), when, sizeof(when));
		snprintf(next, sizeof(next), "; next: %s at %s", best_plan, when);
	}
	if (d->stopping)
		sd_notifyf(false, "STATUS=stopping%s",
			   d->w.active ? ": finishing the current cycle" : "");
	else if (d->w.active)
		sd_notifyf(false, "STATUS=running plan %s (%s): %zu target(s), %u+%u iterations%s",
			   d->w.plan, d->w.reason, d->w.n_targets, d->w.opts.warmup,
			   d->w.opts.iterations, next);
	else
		sd_notifyf(false, "STATUS=idle: %zu plan(s), %zu stored run(s)%s", d->cfg->n_plans,
			   d->results_stored, next);
}

static void refresh(struct daemon *d)
{
	render_status(d);
	render_metrics(d);
	notify_status(d);
}

/* /report, /report/ID: a stored run record as the HTML report (report_html.h). */
static int http_report(struct daemon *d, const char *id, struct pb_http_body *ret)
{
	char dir[4096], latest[PB_RESULT_ID_MAX], *text = NULL, *body = NULL, err[160];
	size_t len = 0;
	pthread_mutex_lock(&d->lock);
	snprintf(dir, sizeof(dir), "%s", d->results_dir);
	snprintf(latest, sizeof(latest), "%s", d->latest_id);
	pthread_mutex_unlock(&d->lock);
	const char *title = id ? id : "latest run";
	if (!id)
		id = latest;
	if (!pb_result_id_valid(id))
		return 404;
	int r = pb_results_read(dir, id, &text);
	if (r < 0)
		return r == -ENOENT || r == -EINVAL ? 404 : 500;
	r = pb_report_html_from_text(text, title, &body, &len, err, sizeof(err));
	free(text);
	if (r < 0)
		return 500;
	ret->data = body;
	ret->len = len;
	ret->release = free;
	ret->release_cls = body;
	ret->content_type = "text/html; charset=utf-8";
	return 200;
}

static int http_get(void *userdata, enum pb_http_route route, const char *id,
		    struct pb_http_body *ret)
{
	struct daemon *d = userdata;
	if (route == PB_ROUTE_REPORT || route == PB_ROUTE_REPORT_RUN)
		return http_report(d, route == PB_ROUTE_REPORT_RUN ? id : NULL, ret);
	if (route == PB_ROUTE_RUN || route == PB_ROUTE_RUNS_LATEST) {
		/* stored runs are sent from their file, opened only if regular (no FIFO waits) */
		char dir[4096], latest[PB_RESULT_ID_MAX];
		pthread_mutex_lock(&d->lock);
		snprintf(dir, sizeof(dir), "%s", d->results_dir);
		snprintf(latest, sizeof(latest), "%s", d->latest_id);
		pthread_mutex_unlock(&d->lock);
		if (route == PB_ROUTE_RUNS_LATEST)
			id = latest;
		if (!pb_result_id_valid(id))
			return 404;
		int fd = pb_results_open(dir, id, &ret->size);
		if (fd < 0)
			return fd == -ENOENT ? 404 : 500;
		ret->fd = fd;
		ret->content_type = "application/json";
		return 200;
	}
	pthread_mutex_lock(&d->lock);
	struct doc *doc = route == PB_ROUTE_STATUS ? d->status_json
			  : route == PB_ROUTE_RUNS ? d->runs_json
						   : d->metrics_text;
	if (doc)
		atomic_fetch_add(&doc->refs, 1);
	pthread_mutex_unlock(&d->lock);
	if (!doc)
		return 404;
	ret->data = doc->text;
	ret->len = doc->len;
	ret->release = doc_unref;
	ret->release_cls = doc;
	ret->content_type = route == PB_ROUTE_METRICS ? "text/plain; version=0.0.4; charset=utf-8"
						      : "application/json";
	return 200;
}

/* ---- plans ------------------------------------------------------------------------------ */

static int add_target(struct worker *w, const char *sel)
{
	for (size_t k = 0; k < w->n_targets; k++)
		if (!strcmp(w->targets[k], sel))
			return 0;
	char **n = realloc(w->targets, (w->n_targets + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	w->targets = n;
	if (!(w->targets[w->n_targets] = strdup(sel)))
		return -ENOMEM;
	w->n_targets++;
	return 0;
}

/*
 * Turns a plan's targets into the selectors handed to the pipeline: explicit selectors as
 * written (the run resolves them as `probebench run` does), rules as the PCI addresses of the
 * functions of the inventory they match now. Nothing else is ever added. The inventory, when
 * rules needed one, stays with the worker and is the run's (pb_run_opts.inventory).
 */
static int resolve_targets(struct daemon *d, const struct pb_config_plan *p)
{
	struct worker *w = &d->w;
	int r = 0;
	w->n_targets = 0;
	for (size_t i = 0; r == 0 && i < p->n_targets; i++) {
		const struct pb_config_target *t = &p->targets[i];
		if (t->device) {
			r = add_target(w, t->device);
			continue;
		}
		char err[512] = "";
		if (!w->inventory && (r = pb_inventory_load(&w->inventory, err, sizeof(err))) < 0) {
			pb_log_struct(LOG_ERR, PB_LOG_FIELDS({"PLAN", p->name}),
				      "plan %s: cannot read the devices: %s", p->name,
				      err[0] ? err : strerror(-r));
			break;
		}
		for (size_t k = 0; r == 0 && k < w->inventory->n_functions; k++) {
			const struct pb_device *f = w->inventory->functions[k];
			if (f->pci && pb_config_target_matches(t, f))
				r = add_target(w, f->sysname);
		}
	}
	if (r < 0)
		return r;
	return w->n_targets ? 0 : -ENODEV;
}

/*
 * Whether a device just added (a PCI function, from its uevent) is named by the plan's target t
 * (an explicit selector or a rule), as `probebench run` would match it.
 */
static bool target_names(const struct pb_config_target *t, struct udev_device *dev, long vendor,
			 long device)
{
	const char *syspath = udev_device_get_syspath(dev), *root = pb_sysfs_root();
	struct pb_pci_info pci = {.vendor_id = (uint16_t)vendor, .device_id = (uint16_t)device};
	unsigned dom = 0;
	long cls = -1;
	const char *c = udev_device_get_sysattr_value(dev, "class");
	if (c && pb_parse_long(c, 0, 0, 0xffffff, &cls) == 0) {
		pci.class_id = (uint16_t)(cls >> 8);
		pci.prog_if = (uint8_t)cls;
	}
	bool is_pci = sscanf(udev_device_get_sysname(dev), "%x:%x:%x.%x", &dom, &pci.bus, &pci.dev,
			     &pci.func) == 4;
	pci.domain = (int)dom;
	struct pb_device d = {.syspath = (char *)syspath,
			      .devpath = syspath + strlen(root),
			      .sysname = (char *)udev_device_get_sysname(dev),
			      .driver = (char *)udev_device_get_driver(dev),
			      .pci = is_pci && vendor >= 0 && device >= 0 ? &pci : NULL};
	return pb_config_target_matches(t, &d);
}

static void *worker_main(void *arg)
{
	struct daemon *d = arg;
	d->w.status = pb_run_execute(&d->w.opts, &d->w.record, &d->stop_run);
	if (d->w.placement && !d->stop_run) {
		char err[512];
		int r = pb_placement_sample((const char *const *)d->w.targets, d->w.n_targets,
					    &d->w.sample.inv, &d->w.sample.rep, err, sizeof(err));
		if (r < 0)
			pb_log_struct(LOG_WARNING, PB_LOG_FIELDS({"PLAN", d->w.plan}),
				      "plan %s: placement not sampled: %s", d->w.plan, err);
	}
	uint64_t one = 1;
	if (write(d->efd, &one, sizeof(one)) < 0) {
		/* the eventfd counter cannot overflow with one write per run */
	}
	return NULL;
}

static void worker_clear(struct worker *w)
{
	for (size_t i = 0; i < w->n_targets; i++)
		free(w->targets[i]);
	free(w->targets);
	w->targets = NULL;
	w->n_targets = 0;
	pb_inventory_free(w->inventory);
	w->inventory = NULL;
	pb_run_record_free(w->record);
	w->record = NULL;
	placement_sample_clear(&w->sample);
}

static void start_plan(struct daemon *d, struct plan_state *ps)
{
	const struct pb_config_plan *p = config_plan(d, ps->name);
	struct worker *w = &d->w;
	ps->pending = false;
	if (!p)
		return;
	snprintf(w->plan, sizeof(w->plan), "%s", p->name);
	snprintf(w->reason, sizeof(w->reason), "%s", ps->pending_reason);
	int r = resolve_targets(d, p);
	if (r < 0) {
		pb_log_struct(LOG_ERR, PB_LOG_FIELDS({"PLAN", p->name}),
			      r == -ENODEV
				  ? "plan %s: no device matches its targets now; run skipped"
				  : "plan %s: cannot resolve targets: %s",
			      p->name, strerror(-r));
		worker_clear(w);
		ps->runs_by_status[PB_RUN_INVALID]++;
		ps->has_last = true;
		ps->last_status = PB_RUN_INVALID;
		ps->last_end_time_s = realtime_ns() / 1e9;
		ps->last_duration_s = 0;
		ps->last_id[0] = 0;
		refresh(d);
		return;
	}
	memcpy(w->writer_nodes, p->writer_nodes, sizeof(w->writer_nodes));
	w->opts = (struct pb_run_opts){
	    .targets = (const char *const *)w->targets,
	    .n_targets = w->n_targets,
	    .entry = p->entry,
	    .iterations = p->iterations,
	    .warmup = p->warmup,
	    .interval_ns = p->interval_ns,
	    .timeout_ns = p->timeout_ns,
	    .writer_nodes = w->writer_nodes,
	    .n_writer_nodes = p->n_writer_nodes,
	    .max_consecutive_failures = 3,
	    .measure = p->measure,
	    .method = PB_METHOD_AUTO,
	    .inventory = w->inventory, /* the one its rules were matched in, if any */
	};
	w->placement = p->placement;
	d->stop_run = 0;
	w->start_mono_ns = pb_now_ns();
	w->start_real_ns = realtime_ns();
	w->status = PB_RUN_FAILED;
	w->record = NULL;
	for (size_t i = 0; i < w->n_targets; i++)
		pb_log_struct(LOG_INFO, PB_LOG_FIELDS({"PLAN", p->name}, {"DEVICE", w->targets[i]}),
			      "plan %s: starting run (%s) on %s: %u warm-up + %u iterations",
			      p->name, w->reason, w->targets[i], p->warmup, p->iterations);
	r = pthread_create(&w->thread, NULL, worker_main, d);
	if (r != 0) {
		pb_log_struct(LOG_ERR, PB_LOG_FIELDS({"PLAN", p->name}),
			      "plan %s: cannot start worker: %s", p->name, strerror(r));
		worker_clear(w);
		refresh(d);
		return;
	}
	w->active = true;
	refresh(d);
}

static void finish_plan(struct daemon *d)
{
	struct worker *w = &d->w;
	if (!w->active)
		return;
	pthread_join(w->thread, NULL);
	w->active = false;
	struct plan_state *ps = plan_state(d, w->plan);
	char id[PB_RESULT_ID_MAX] = "";
	if (w->record) {
		char *text = pb_run_record_json_text(w->record);
		int r = pb_result_id_make(w->start_real_ns, w->plan, id, sizeof(id));
		if (r >= 0)
			r = text ? pb_results_write(d->cfg->results_dir, id, text) : -ENOMEM;
		free(text);
		if (r < 0) {
			pb_log_struct(LOG_ERR, PB_LOG_FIELDS({"PLAN", w->plan}),
				      "plan %s: cannot store the run in %s: %s", w->plan,
				      d->cfg->results_dir, strerror(-r));
			id[0] = 0;
		}
		r = pb_results_apply_retention(d->cfg->results_dir, d->cfg->retention_count,
					       d->cfg->retention_age_ns, realtime_ns());
		if (r > 0)
			pb_info("retention removed %d old run(s)", r);
		else if (r < 0)
			pb_warn("retention in %s: %s", d->cfg->results_dir, strerror(-r));
	}
	/* one line per target, with its driver from the record when there is one */
	for (size_t i = 0; i < w->n_targets; i++) {
		const char *drv = NULL;
		for (size_t k = 0; w->record && k < w->record->n_targets; k++)
			if (!strcmp(w->record->targets[k].t.name, w->targets[i]))
				drv = w->record->targets[k].t.driver;
		pb_log_struct(
		    w->status == PB_RUN_OK ? LOG_INFO : LOG_ERR,
		    PB_LOG_FIELDS({"PLAN", w->plan}, {"DEVICE", w->targets[i]}, {"DRIVER", drv}),
		    "plan %s: run on %s ended: %s (exit %d)%s%s", w->plan, w->targets[i],
		    pb_run_status_name(w->status), (int)w->status, id[0] ? ", stored as " : "", id);
	}
	if (ps) {
		if (w->status >= 0 && w->status < PB_RUN_STATUS__MAX)
			ps->runs_by_status[w->status]++;
		ps->has_last = true;
		ps->last_status = w->status;
		ps->last_end_time_s = realtime_ns() / 1e9;
		ps->last_duration_s = (pb_now_ns() - w->start_mono_ns) / 1e9;
		snprintf(ps->last_id, sizeof(ps->last_id), "%s", id);
		if (w->record) {
			pb_run_record_free(ps->last_record);
			ps->last_record = w->record;
			w->record = NULL;
		}
		placement_sample_clear(&ps->placement);
		ps->placement = w->sample;
		w->sample = (struct placement_sample){0};
	}
	worker_clear(w);
	render_runs(d);
	refresh(d);
}

/* ---- configuration ---------------------------------------------------------------------- */

/* A periodic plan is due: it becomes pending (once), and its timer is set to the next period. */
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct plan_state *ps = userdata;
	struct daemon *d = ps->d;
	const struct pb_config_plan *p = config_plan(d, ps->name);
	(void)usec;
	if (!p || !p->every_ns || d->stopping)
		return sd_event_source_set_enabled(s, SD_EVENT_OFF);
	if (!ps->pending)
		snprintf(ps->pending_reason, sizeof(ps->pending_reason), "every %llus",
			 (unsigned long long)(p->every_ns / 1000000000ull));
	ps->pending = true;
	ps->next_due_ns = pb_add_sat_u64(pb_now_ns(), p->every_ns);
	return sd_event_source_set_time(s, ps->next_due_ns / 1000);
}

static void plan_states_free(struct plan_state *plans, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sd_event_source_disable_unref(plans[i].timer);
		pb_run_record_free(plans[i].last_record);
		placement_sample_clear(&plans[i].placement);
	}
	free(plans);
}

/* Builds plan states for cfg, keeping counters and last runs of plans that stay. */
static int adopt_config(struct daemon *d, struct pb_config *cfg, bool first)
{
	struct plan_state *np = calloc(cfg->n_plans ? cfg->n_plans : 1, sizeof(*np));
	if (!np)
		return -ENOMEM;
	uint64_t now = pb_now_ns();
	for (size_t i = 0; i < cfg->n_plans; i++) {
		const struct pb_config_plan *p = &cfg->plans[i];
		struct plan_state *old = plan_state(d, p->name);
		if (old) {
			np[i] = *old;
			np[i].last_record = NULL; /* moved over once every plan is set up */
			np[i].placement = (struct placement_sample){0};
		}
		np[i].d = d;
		np[i].timer = NULL;
		snprintf(np[i].name, sizeof(np[i].name), "%s", p->name);
		np[i].next_due_ns = p->every_ns ? pb_add_sat_u64(now, p->every_ns) : 0;
		if (first && p->at_start) {
			np[i].pending = true;
			snprintf(np[i].pending_reason, sizeof(np[i].pending_reason), "at start");
		}
		if (!p->every_ns)
			continue;
		/* time sources are one-shot by default; this one is re-armed by on_timer() */
		int r = sd_event_add_time(d->event, &np[i].timer, CLOCK_MONOTONIC,
					  np[i].next_due_ns / 1000, TIMER_ACCURACY_USEC, on_timer,
					  &np[i]);
		if (r >= 0)
			r = sd_event_source_set_enabled(np[i].timer, SD_EVENT_ON);
		if (r < 0) {
			plan_states_free(np, cfg->n_plans); /* the rest is still zeroed */
			return r;
		}
	}
	for (size_t i = 0; i < cfg->n_plans; i++) {
		struct plan_state *old = plan_state(d, cfg->plans[i].name);
		if (old) {
			np[i].last_record = old->last_record;
			old->last_record = NULL;
			np[i].placement = old->placement;
			old->placement = (struct placement_sample){0};
		}
	}
	plan_states_free(d->plans, d->n_plans);
	d->plans = np;
	d->n_plans = cfg->n_plans;
	struct pb_config *old = d->cfg;
	d->cfg = cfg;
	pb_config_free(old);
	return 0;
}

/* Loads the newest stored record of each plan, so metrics survive a restart. */
static void load_last_records(struct daemon *d)
{
	char **ids;
	size_t n;
	if (pb_results_list(d->cfg->results_dir, &ids, &n) < 0)
		return;
	for (size_t i = n; i-- > 0;) {
		const char *plan;
		uint64_t t;
		if (pb_result_id_parse(ids[i], &t, &plan) < 0)
			continue;
		struct plan_state *ps = plan_state(d, plan);
		if (!ps || ps->last_record)
			continue;
		char *text, err[200];
		if (pb_results_read(d->cfg->results_dir, ids[i], &text) < 0)
			continue;
		struct json_object *j = json_tokener_parse(text);
		free(text);
		snprintf(err, sizeof(err), "not JSON");
		int r =
		    j ? pb_run_record_from_json(j, &ps->last_record, err, sizeof(err)) : -EINVAL;
		json_object_put(j);
		if (r == 0)
			snprintf(ps->last_id, sizeof(ps->last_id), "%s", ids[i]);
		else
			pb_warn("stored run %s in %s: %s; its metrics are not shown", ids[i],
				d->cfg->results_dir, err);
	}
	pb_results_ids_free(ids, n);
}

static int on_uevent(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static int setup_udev(struct daemon *d)
{
	bool want = false;
	for (size_t i = 0; i < d->cfg->n_plans; i++)
		want |= d->cfg->plans[i].on_add;
	if (!want || d->mon)
		return 0;
	if (!d->udev && !(d->udev = udev_new()))
		return -ENOMEM;
	/*
	 * Without udevd nobody re-broadcasts processed events on the "udev" group, so listen to
	 * the kernel's own uevents then. They arrive before udev rules ran, which is all a
	 * schedule needs: the device exists and names its ids.
	 */
	char ctl[256];
	bool have_udevd = pb_udevd_running();
	snprintf(ctl, sizeof(ctl), "%s", have_udevd ? "udev" : "kernel");
	d->mon = udev_monitor_new_from_netlink(d->udev, ctl);
	if (!d->mon)
		return -errno ? -errno : -ENOMEM;
	int r = udev_monitor_filter_add_match_subsystem_devtype(d->mon, "pci", NULL);
	if (r >= 0)
		r = udev_monitor_enable_receiving(d->mon);
	if (r >= 0)
		r = sd_event_add_io(d->event, &d->uevent_source, udev_monitor_get_fd(d->mon),
				    EPOLLIN, on_uevent, d);
	if (r < 0) {
		d->mon = udev_monitor_unref(d->mon);
		return r;
	}
	pb_info("watching %s uevents for added PCI devices", ctl);
	return 0;
}

static int on_uevent(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	(void)s, (void)fd, (void)revents;
	struct udev_device *dev = udev_monitor_receive_device(d->mon);
	if (!dev)
		return 0;
	const char *action = udev_device_get_action(dev);
	const char *name = udev_device_get_sysname(dev);
	if (action && name && !strcmp(action, "add")) {
		long vendor = -1, device = -1;
		const char *v = udev_device_get_sysattr_value(dev, "vendor");
		const char *dv = udev_device_get_sysattr_value(dev, "device");
		const char *drv = udev_device_get_driver(dev);
		if (v)
			pb_parse_long(v, 0, 0, 0xffff, &vendor);
		if (dv)
			pb_parse_long(dv, 0, 0, 0xffff, &device);
		for (size_t i = 0; i < d->cfg->n_plans; i++) {
			const struct pb_config_plan *p = &d->cfg->plans[i];
			if (!p->on_add)
				continue;
			for (size_t k = 0; k < p->n_targets; k++) {
				const struct pb_config_target *t = &p->targets[k];
				if (!target_names(t, dev, vendor, device))
					continue;
				struct plan_state *ps = plan_state(d, p->name);
				if (ps && !ps->pending) {
					ps->pending = true;
					snprintf(ps->pending_reason, sizeof(ps->pending_reason),
						 "device added");
					pb_log_struct(
					    LOG_INFO,
					    PB_LOG_FIELDS({"PLAN", p->name}, {"DEVICE", name},
							  {"DRIVER", drv}),
					    "plan %s: %s was added; run queued", p->name, name);
				}
				break;
			}
		}
	}
	udev_device_unref(dev);
	return 0;
}

/* The API has no authentication and no TLS: fine on loopback, said aloud anywhere else. */
static void warn_if_exposed(const struct pb_config *cfg)
{
	bool loopback = true;
	if (cfg->http_listen && pb_config_listen_addr(cfg->http_listen, NULL, &loopback) == 0 &&
	    !loopback)
		pb_warn(
		    "%s: http.listen %s is beyond loopback: whoever reaches it reads the status, "
		    "every stored run and the metrics (no authentication, no TLS)",
		    cfg->path, cfg->http_listen);
}

static int start_http(struct daemon *d)
{
	if (!d->cfg->http_listen)
		return 0;
	int r =
	    pb_http_start(d->cfg->http_listen, d->cfg->http_max_connections, http_get, d, &d->http);
	if (r < 0)
		return pb_error_errno(r, "%s: http.listen: cannot listen on %s", d->cfg->path,
				      d->cfg->http_listen);
	warn_if_exposed(d->cfg);
	pb_info("HTTP API on http://%s/api/v1/status", d->cfg->http_listen);
	return 0;
}

static void reload(struct daemon *d)
{
	char err[1024];
	struct pb_config *cfg = NULL;
	sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
		   (unsigned long long)(pb_now_ns() / 1000), d->opts->config_path);
	int r = pb_config_load(d->opts->config_path, &cfg, err, sizeof(err));
	if (r >= 0) {
		bool http_changed =
		    !d->cfg->http_listen != !cfg->http_listen ||
		    (cfg->http_listen && strcmp(cfg->http_listen, d->cfg->http_listen) != 0) ||
		    cfg->http_max_connections != d->cfg->http_max_connections;
		r = adopt_config(d, cfg, false);
		if (r < 0) {
			snprintf(err, sizeof(err), "%s: cannot set up its plans: %s", cfg->path,
				 strerror(-r));
			pb_config_free(cfg);
		} else if (http_changed) {
			/* The old server goes first (the new one may want its port); a failure
			 * leaves HTTP off and logged, the plans keep running. */
			pb_http_stop(d->http);
			d->http = NULL;
			if (d->cfg->http_listen &&
			    (r = pb_http_start(d->cfg->http_listen, d->cfg->http_max_connections,
					       http_get, d, &d->http)) < 0)
				pb_error(
				    "%s: http.listen: cannot listen on %s: %s; HTTP API is off "
				    "until the next reload",
				    d->cfg->path, d->cfg->http_listen, strerror(-r));
			else
				warn_if_exposed(d->cfg);
			r = 0;
		}
	}
	if (r < 0) {
		d->reloads_failed++;
		pb_error("reload refused, keeping the running configuration: %s", err);
	} else {
		d->reloads_ok++;
		r = setup_udev(d);
		if (r < 0)
			pb_warn("cannot watch uevents (%s): on_add schedules will not fire",
				strerror(-r));
		load_last_records(d);
		render_runs(d);
		pb_info("configuration reloaded from %s: %zu plan(s)", d->cfg->path,
			d->cfg->n_plans);
	}
	sd_notify(false, "READY=1");
	refresh(d);
}

/* ---- event loop ------------------------------------------------------------------------- */

static int on_reload_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	(void)s, (void)si;
	pb_info("SIGHUP: reloading %s", d->opts->config_path);
	reload(d);
	return 0;
}

static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	(void)s;
	if (d->stopping)
		return 0;
	pb_info("%s: %s", strsignal((int)si->ssi_signo),
		d->w.active ? "finishing the current cycle, then restoring" : "stopping");
	d->stopping = true;
	d->stop_run = 1;
	sd_notify(false, "STOPPING=1");
	refresh(d);
	return 0;
}

static int on_worker_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t v;
	(void)s, (void)revents;
	/* the worker writes only as it returns, so a count read means the join will not block */
	if (read(fd, &v, sizeof(v)) == sizeof(v))
		finish_plan(d);
	return 0;
}

/*
 * Runs after every dispatched event: leaves the loop once stopping and idle, else starts the
 * first pending plan when no plan runs.
 */
static int on_post(sd_event_source *s, void *userdata)
{
	struct daemon *d = userdata;
	(void)s;
	if (d->stopping) {
		if (!d->w.active)
			return sd_event_exit(d->event, 0);
		return 0;
	}
	for (size_t i = 0; i < d->n_plans && !d->w.active; i++)
		if (d->plans[i].pending)
			start_plan(d, &d->plans[i]);
	return 0;
}

/* The event loop and its fixed sources; the plans' timers come with adopt_config(). */
static int setup_event(struct daemon *d)
{
	static const int stop_signals[] = {SIGTERM, SIGINT};
	int r = sd_event_new(&d->event);
	if (r < 0)
		return pb_error_errno(r, "cannot create the event loop");
	for (size_t i = 0; i < PB_ARRAY_SIZE(stop_signals); i++)
		if ((r = sd_event_add_signal(d->event, NULL, stop_signals[i], on_stop_signal, d)) <
		    0)
			return pb_error_errno(r, "cannot watch %s", strsignal(stop_signals[i]));
	if ((r = sd_event_add_signal(d->event, NULL, SIGHUP, on_reload_signal, d)) < 0)
		return pb_error_errno(r, "cannot watch SIGHUP");
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->efd < 0)
		return pb_error_errno(-errno, "cannot create an eventfd");
	if ((r = sd_event_add_io(d->event, NULL, d->efd, EPOLLIN, on_worker_done, d)) < 0)
		return pb_error_errno(r, "cannot watch the worker");
	if ((r = sd_event_add_post(d->event, NULL, on_post, d)) < 0)
		return pb_error_errno(r, "cannot add the scheduler");
	/* WATCHDOG=1 from the loop itself, when systemd asks for it (WATCHDOG_USEC); a value
	 * that does not parse leaves the watchdog off, as before systemd could act on it */
	if ((r = sd_event_set_watchdog(d->event, true)) < 0)
		pb_log_errno(LOG_WARNING, r, "WATCHDOG_USEC=%s ignored, no watchdog pings",
			     getenv("WATCHDOG_USEC") ?: "");
	return 0;
}

int pb_daemon_main(const struct pb_daemon_opts *opts)
{
	static struct daemon dd; /* one per process: the HTTP thread points into it */
	struct daemon *d = &dd;
	struct pb_config *cfg = opts->config;
	int ret, r;
	*d = (struct daemon){.opts = opts, .efd = -1};
	pthread_mutex_init(&d->lock, NULL);
	d->start_time_s = realtime_ns() / 1e9;

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	/* blocked before any thread starts, so every thread inherits it and only the event loop
	 * sees them */
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((ret = setup_event(d)) < 0) {
		pb_config_free(cfg);
		goto out;
	}
	ret = adopt_config(d, cfg, true);
	if (ret < 0) {
		pb_config_free(cfg);
		pb_error_errno(ret, "cannot set up the plans' timers");
		goto out;
	}

	if (opts->restore) {
		sd_notify(false, "STATUS=restoring devices left by an interrupted run");
		struct pb_journal_entry *je = NULL;
		size_t n_je = 0, n_bad = 0;
		if (pb_journal_load(&je, &n_je, &n_bad) == 0)
			d->restore_entries = (unsigned)(n_je + n_bad);
		free(je);
		r = opts->restore();
		d->restore_ran = true;
		d->restore_exit = r;
		if (r != 0)
			pb_warn("restore at start ended with exit %d; continuing", r);
	}
	if (mkdir(d->cfg->results_dir, 0755) < 0 && errno != EEXIST) {
		ret = -errno;
		pb_error("%s: results_dir: cannot create %s: %s", d->cfg->path, d->cfg->results_dir,
			 strerror(-ret));
		goto out;
	}
	r = pb_results_apply_retention(d->cfg->results_dir, d->cfg->retention_count,
				       d->cfg->retention_age_ns, realtime_ns());
	if (r > 0)
		pb_info("retention removed %d old run(s)", r);
	load_last_records(d);
	render_runs(d);
	render_status(d);
	render_metrics(d);
	if ((ret = start_http(d)) < 0)
		goto out;
	r = setup_udev(d);
	if (r < 0)
		pb_warn("cannot watch uevents (%s): on_add schedules will not fire", strerror(-r));

	sd_notify(false, "READY=1");
	pb_info("ready: %zu plan(s) from %s", d->cfg->n_plans, d->cfg->path);
	refresh(d);
	/* plans pending at start (at_start) run before the first event */
	on_post(NULL, d);

	ret = sd_event_loop(d->event);
	if (ret < 0) {
		pb_error_errno(ret, "event loop");
		goto out;
	}
	/* the loop ends only once stopping (on_post) */
	ret = d->stopping ? 0 : -ECANCELED;
	if (d->stopping) {
		if (opts->restore) {
			sd_notify(false, "STATUS=restoring devices");
			r = opts->restore();
			if (r != 0)
				pb_error("restore at exit ended with exit %d", r);
		}
	}
out:
	if (d->w.active) {
		d->stop_run = 1;
		pthread_join(d->w.thread, NULL);
		d->w.active = false;
		worker_clear(&d->w);
	}
	pb_http_stop(d->http);
	d->http = NULL;
	plan_states_free(d->plans, d->n_plans);
	d->uevent_source = sd_event_source_disable_unref(d->uevent_source);
	if (d->mon)
		udev_monitor_unref(d->mon);
	if (d->udev)
		udev_unref(d->udev);
	d->event = sd_event_unref(d->event);
	pb_config_free(d->cfg);
	doc_unref(d->status_json);
	doc_unref(d->runs_json);
	doc_unref(d->metrics_text);
	if (d->efd >= 0)
		close(d->efd);
	pb_info("stopped");
	return ret;
}

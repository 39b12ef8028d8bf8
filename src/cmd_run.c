// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probebench/cmd.h"
#include "probebench/cycle.h"
#include "probebench/log.h"
#include "probebench/paths.h"
#include "probebench/journal.h"
#include "probebench/policy.h"
#include "probebench/record.h"
#include "probebench/report.h"
#include "probebench/run.h"
#include "probebench/run_plan.h"
#include "probebench/stats.h"
#include "probebench/util.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void help(FILE *f)
{
	fprintf(
	    f,
	    "Usage: probebench run [OPTIONS] TARGET...\n\n"
	    "Unbinds and rebinds each TARGET's driver (the one bound at start) and times every\n"
	    "write. TARGET is a selector, as `probebench list` takes them: a PCI address\n"
	    "(0000:00:05.0, 00:05.0), a vendor:device (1af4:1044), a driver or device name\n"
	    "(virtio_rng, virtio4) or a sysfs path; every device it matches is a target, and each\n"
	    "must pass the safety checks (see `probebench list`).\n\n"
	    "  -n, --iterations N     measured cycles per target and placement (default 100)\n"
	    "  -w, --warmup N         unmeasured cycles first (default 5)\n"
	    "      --duration DUR     stop starting cycles after DUR (10s, 2m; 0 = no limit)\n"
	    "      --interval DUR     pause between cycles (default 0)\n"
	    "      --timeout DUR      a bind/unbind write taking longer is a hang (default 10s)\n"
	    "      --entry bind|probe|module\n"
	    "                         bind: DRV/unbind then DRV/bind (device_driver_attach);\n"
	    "                         probe: DRV/unbind, driver_override=DRV, bus/drivers_probe\n"
	    "                         (__device_attach), driver_override restored (default bind);\n"
	    "                         module: unload the driver's module and load it again\n"
	    "                         (libkmod), waiting up to --timeout until every device of\n"
	    "                         its drivers is bound again; all of them must pass the\n"
	    "                         safety checks; refused for a built-in driver or a module\n"
	    "                         in use or needed by other modules\n"
	    "      --module-options S options for every load of --entry module (async_probe=1)\n"
	    "      --writer-node LIST pin the writing thread to these NUMA nodes (0,2-3)\n"
	    "      --writer-cpu LIST  pin the writing thread to these CPUs; placements are\n"
	    "                         visited round-robin, one writer thread each\n"
	    "      --force REASON     lift exactly this safety refusal (repeatable)\n"
	    "      --dry-run          print the plan and every check's verdict; write nothing\n"
	    "      --json FILE        write the run record (schema/run.schema.json)\n"
	    "      --state-dir DIR    journal and lock directory (default " PB_DEFAULT_STATE_DIR
	    ")\n"
	    "      --max-failures K   stop after K consecutive failed cycles (default 3)\n"
	    "      --parallel         cycle all targets at the same moment, one pinned writer\n"
	    "                         thread per target and placement; unbinds and binds start\n"
	    "                         together\n"
	    "      --no-measure       bare timing only: no observer around the bind writes\n"
	    "      --method M         how probes are observed: auto (best available, default),\n"
	    "                         kprobe, tracepoint or kmsg (doc/measurement.md); when none\n"
	    "                         works the run goes on with timing only and says why\n"
	    "      --ring-pages N     observer's ring buffers per CPU, in pages (power of two;\n"
	    "                         default 512 / CPUs, 16 to 128): one for page frees and\n"
	    "                         sampled slab events, one for the others; raise it when the\n"
	    "                         record shows lost records\n"
	    "      --slab-samples     sample every slab allocation (kmalloc, kmem_cache_alloc) of\n"
	    "                         the window for the slab proxy's sizes; by default they are\n"
	    "                         only counted per CPU (by node), which costs the bind less\n"
	    "      --buffer B         the observer's buffer: perf (perf events: a descriptor\n"
	    "                         per event and CPU), ftrace (tracefs instances: a\n"
	    "                         descriptor each whatever the CPUs, and 2 a CPU for the\n"
	    "                         slab counts) or auto (default: perf while it holds at\n"
	    "                         most 256 descriptors, 18 CPUs with every event, else\n"
	    "                         ftrace)\n"
	    "      --include-lossy    count iterations that lost records in the summaries (by\n"
	    "                         default they are shown in the record and left out)\n"
	    "      --fifo PRIO        run the writer threads SCHED_FIFO at PRIO (needs\n"
	    "                         RLIMIT_RTPRIO >= PRIO or CAP_SYS_NICE)\n"
	    "      --progress MODE    progress on stderr: bar (a line redrawn in place), lines\n"
	    "                         (for a log or a pipe: a line per target and placement as\n"
	    "                         it completes and at every tenth of the run, with elapsed\n"
	    "                         time and ETA), none; auto (default): bar on a terminal,\n"
	    "                         else none\n"
	    "  -h, --help             show this help\n\n"
	    "Measurement (on by default): one observer per target (all sharing one set of perf\n"
	    "events and rings) is armed for the writer thread right before every bind write\n"
	    "and disarmed right after it; each iteration records\n"
	    "every driver probe in the write (device, bus, driver, CPU, node, task, duration,\n"
	    "return value, method, its pages by node, the hop into a worker), the bind\n"
	    "uevents, the pages allocated by node and the writer's counters. The process locks\n"
	    "its memory (mlockall) before cycling; each writer's buffer and stack sit on its\n"
	    "node.\n\n"
	    "Failure policy: a bind write failing with EAGAIN, EBUSY or EINTR, or leaving the\n"
	    "device unbound (deferred probe), is retried %d times, 10 ms apart (a retry that\n"
	    "binds makes the cycle ok); then (or at once for any other errno) the device is\n"
	    "put back on its driver (driver_override +\n"
	    "drivers_probe, then DRV/bind) and the cycle counts as failed. A write that does not\n"
	    "return within --timeout marks the device hung; the run stops.\n\n"
	    "Exit: 0 ok, 1 failure, 2 usage, 3 refused by a safety check, 4 bind failed K times\n"
	    "(device put back), 5 a write hung, 6 interrupted (devices restored, partial\n"
	    "record written), 7 a target disappeared.\n",
	    PB_CYCLE_RETRIES);
}

static int write_json(const char *path, const struct pb_run_record *rec)
{
	char *text = pb_run_record_json_text(rec);
	if (!text)
		return -ENOMEM;
	int r = pb_write_file_atomic(path, text, strlen(text), 0644, 0);
	free(text);
	return r;
}

enum progress_mode { PROGRESS_AUTO, PROGRESS_BAR, PROGRESS_LINES, PROGRESS_NONE };

/* The progress shown on stderr: a line redrawn on a terminal (the ok iterations' bind times
 * give its running median), or lines for a log or a pipe. */
struct progress {
	enum progress_mode mode;
	uint64_t duration_ns; /* --duration */
	unsigned iterations;  /* --iterations: a target x placement is complete at this count */
	uint64_t *bind_ns;
	size_t n, cap;
	uint64_t last_draw_ns;
	unsigned *per_cell; /* lines: iterations so far per target x placement */
	size_t n_cells;
	uint64_t tenths; /* lines: tenths of the run reported */
};

/* The estimated time left: from the pace so far, capped by --duration. */
static uint64_t progress_eta(const struct progress *pg, const struct pb_run_position *at)
{
	uint64_t eta = at->done && at->total > at->done
			   ? at->since_measured_ns / at->done * (at->total - at->done)
			   : 0;
	if (pg->duration_ns && (!at->total || eta > pg->duration_ns - at->since_start_ns))
		eta =
		    pg->duration_ns > at->since_start_ns ? pg->duration_ns - at->since_start_ns : 0;
	return eta;
}

/* --progress lines: a line at the first iteration, per target x placement as it completes, and
 * at every tenth of the run or after 30 s without a line; each with done of total, elapsed time
 * and ETA. */
static void progress_line(struct progress *pg, const struct pb_record_iteration *it,
			  const struct pb_run_position *at)
{
	size_t cells = at->n_targets * at->n_placements;
	if (!pg->per_cell && cells && (pg->per_cell = calloc(cells, sizeof(*pg->per_cell))))
		pg->n_cells = cells;
	size_t c = it->target * at->n_placements + it->placement;
	uint64_t now = pb_now_ns(), tenths = at->total ? at->done * 10 / at->total : 0;
	char what[256];
	if (c < pg->n_cells && ++pg->per_cell[c] == pg->iterations)
		snprintf(what, sizeof(what), "%s %s complete (%u iterations)", at->target,
			 at->placement, pg->iterations);
	else if (!pg->last_draw_ns || tenths > pg->tenths ||
		 now - pg->last_draw_ns >= 30000000000ull)
		what[0] = 0;
	else
		return;
	pg->tenths = tenths > pg->tenths ? tenths : pg->tenths;
	pg->last_draw_ns = now;
	pb_report_progress_line(stderr, what[0] ? what : NULL, at->done, at->total,
				at->since_start_ns, progress_eta(pg, at));
}

/* Each measured iteration (pb_run_opts.on_iteration). On a terminal the line is drawn 5 times a
 * second at most: done of total, the running median bind time, the estimated time left. */
static void progress_iteration(void *ud, const struct pb_record_iteration *it,
			       const struct pb_run_position *at)
{
	struct progress *pg = ud;
	if (pg->mode == PROGRESS_LINES) {
		progress_line(pg, it, at);
		return;
	}
	if (it->res.outcome == PB_CYCLE_OK) {
		if (pg->n == pg->cap) {
			size_t cap = pg->cap ? 2 * pg->cap : 256;
			uint64_t *v = realloc(pg->bind_ns, cap * sizeof(*v));
			if (v) {
				pg->bind_ns = v;
				pg->cap = cap;
			}
		}
		if (pg->n < pg->cap)
			pg->bind_ns[pg->n++] = it->res.bind_ns;
	}
	uint64_t now = pb_now_ns();
	if (now - pg->last_draw_ns <= 200000000ull)
		return;
	pg->last_draw_ns = now;
	struct pb_stats s;
	uint64_t median = pb_stats_compute(pg->bind_ns, pg->n, &s) == 0 ? s.percentile[0] : 0;
	pb_report_progress(stderr, at->done, at->total, median, progress_eta(pg, at));
}

/* --dry-run: the plan, the verdicts, what the journal would put back first; nothing written. */
static int dry_run(const struct pb_run_opts *o)
{
	int r = pb_run_opts_check(o);
	if (r < 0)
		return r == -EINVAL ? PB_EXIT_USAGE : PB_EXIT_FAILURE;
	struct pb_run_plan *plan = NULL;
	r = pb_run_plan_make(o, NULL, 0, &plan);
	if (r < 0)
		return r == -EINVAL || r == -ENOENT ? PB_EXIT_USAGE : PB_EXIT_FAILURE;
	pb_run_plan_print(stdout, plan, o);
	struct pb_journal_entry *v = NULL;
	size_t n = 0, bad = 0;
	if (pb_journal_load(&v, &n, &bad) == 0)
		for (size_t i = 0; i < n; i++)
			printf("  journal: %s (%s) would be restored first\n", v[i].sysname,
			       pb_journal_state_name(v[i].state));
	free(v);
	int code = pb_exit_of_run(pb_run_refuse_driverless(plan));
	if (code == PB_EXIT_OK) {
		printf("%s; nothing written (dry run)\n",
		       plan->allowed ? "all targets allowed" : "refused");
		code = plan->allowed ? PB_EXIT_OK : PB_EXIT_REFUSED;
	}
	pb_run_plan_free(plan);
	return code;
}

enum {
	OPT_DURATION = 256,
	OPT_INTERVAL,
	OPT_TIMEOUT,
	OPT_ENTRY,
	OPT_WRITER_NODE,
	OPT_WRITER_CPU,
	OPT_FORCE,
	OPT_DRY_RUN,
	OPT_JSON,
	OPT_STATE_DIR,
	OPT_MAX_FAILURES,
	OPT_PARALLEL,
	OPT_NO_MEASURE,
	OPT_METHOD,
	OPT_FIFO,
	OPT_RING_PAGES,
	OPT_INCLUDE_LOSSY,
	OPT_SLAB_SAMPLES,
	OPT_BUFFER,
	OPT_MODULE_OPTIONS,
	OPT_PROGRESS,
};

static const struct option options[] = {
    {"iterations", required_argument, NULL, 'n'},
    {"warmup", required_argument, NULL, 'w'},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"entry", required_argument, NULL, OPT_ENTRY},
    {"module-options", required_argument, NULL, OPT_MODULE_OPTIONS},
    {"writer-node", required_argument, NULL, OPT_WRITER_NODE},
    {"writer-cpu", required_argument, NULL, OPT_WRITER_CPU},
    {"force", required_argument, NULL, OPT_FORCE},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"json", required_argument, NULL, OPT_JSON},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"max-failures", required_argument, NULL, OPT_MAX_FAILURES},
    {"parallel", no_argument, NULL, OPT_PARALLEL},
    {"no-measure", no_argument, NULL, OPT_NO_MEASURE},
    {"method", required_argument, NULL, OPT_METHOD},
    {"fifo", required_argument, NULL, OPT_FIFO},
    {"ring-pages", required_argument, NULL, OPT_RING_PAGES},
    {"include-lossy", no_argument, NULL, OPT_INCLUDE_LOSSY},
    {"slab-samples", no_argument, NULL, OPT_SLAB_SAMPLES},
    {"buffer", required_argument, NULL, OPT_BUFFER},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"help", no_argument, NULL, 'h'},
    {},
};

/* The command line: the run's options and what the front does with the run. */
struct run_args {
	struct pb_run_opts o;
	int *nodes, *cpus; /* o.writer_nodes, o.writer_cpus */
	const char *json_path;
	bool dry;
	enum progress_mode progress;
};

/* -n, -w, --max-failures. Returns -1, or the exit code to stop with. */
static int parse_count(int c, struct pb_run_opts *o)
{
	long v;
	if (pb_parse_long(optarg, 10, c == OPT_MAX_FAILURES ? 1 : 0, 100000000, &v) < 0) {
		pb_error("--%s: '%s' is not a valid count",
			 c == 'n'   ? "iterations"
			 : c == 'w' ? "warmup"
				    : "max-failures",
			 optarg);
		return PB_EXIT_USAGE;
	}
	if (c == 'n')
		o->iterations = (unsigned)v;
	else if (c == 'w')
		o->warmup = (unsigned)v;
	else
		o->max_consecutive_failures = (unsigned)v;
	return -1;
}

/* --duration, --interval, --timeout. Returns -1, or the exit code to stop with. */
static int parse_duration(int c, struct pb_run_opts *o)
{
	uint64_t ns;
	const char *name = c == OPT_DURATION   ? "duration"
			   : c == OPT_INTERVAL ? "interval"
					       : "timeout";
	if (pb_parse_duration_ns(optarg, &ns) < 0 || (c == OPT_TIMEOUT && !ns)) {
		pb_error("--%s: '%s' is not a valid duration (e.g. 500ms, 2s, 1m)", name, optarg);
		return PB_EXIT_USAGE;
	}
	if (c == OPT_DURATION)
		o->duration_ns = ns;
	else if (c == OPT_INTERVAL)
		o->interval_ns = ns;
	else
		o->timeout_ns = ns;
	return -1;
}

/* --writer-node, --writer-cpu (the last one given counts). Returns -1, or the exit code. */
static int parse_writers(int c, struct run_args *a)
{
	int **dst = c == OPT_WRITER_NODE ? &a->nodes : &a->cpus;
	size_t *n = c == OPT_WRITER_NODE ? &a->o.n_writer_nodes : &a->o.n_writer_cpus;
	free(*dst);
	*dst = NULL;
	if (pb_parse_int_list(optarg, dst, n) < 0) {
		pb_error("--writer-%s: '%s' is not a list like 0,2-3",
			 c == OPT_WRITER_NODE ? "node" : "cpu", optarg);
		return PB_EXIT_USAGE;
	}
	return -1;
}

/* --force REASON. Returns -1, or the exit code to stop with. */
static int parse_force(struct pb_run_opts *o)
{
	int r = pb_reason_from_name(optarg);
	if (r == PB_REASON_MODULE) {
		pb_error(
		    "--force: a module refusal is never lifted (the unload would fail, or unbind "
		    "what was not checked); use --entry bind or --entry probe");
		return PB_EXIT_USAGE;
	}
	if (r < 0) {
		char names[256] = "";
		for (int k = 0; k < PB_REASON__MAX; k++)
			if (k != PB_REASON_MODULE)
				snprintf(names + strlen(names), sizeof(names) - strlen(names),
					 "%s%s", k ? ", " : "", pb_reason_name(k));
		pb_error("--force: unknown reason '%s' (reasons: %s)", optarg, names);
		return PB_EXIT_USAGE;
	}
	o->forced_reasons |= 1u << r;
	return -1;
}

/* --method, --ring-pages, --fifo. Returns -1, or the exit code to stop with. */
static int parse_measure(int c, struct pb_run_opts *o)
{
	long v;
	switch (c) {
	case OPT_METHOD:
		if (pb_measure_method_from_name(optarg, &o->method) < 0) {
			pb_error("--method: '%s' is not auto, kprobe, tracepoint or kmsg", optarg);
			return PB_EXIT_USAGE;
		}
		break;
	case OPT_RING_PAGES:
		if (pb_parse_long(optarg, 10, 1, 65536, &v) < 0 || (v & (v - 1))) {
			pb_error("--ring-pages: '%s' is not a power of two 1..65536", optarg);
			return PB_EXIT_USAGE;
		}
		o->ring_pages = (unsigned)v;
		break;
	case OPT_FIFO:
		if (pb_parse_long(optarg, 10, 1, 99, &v) < 0) {
			pb_error("--fifo: '%s' is not a priority 1..99", optarg);
			return PB_EXIT_USAGE;
		}
		o->fifo_prio = (int)v;
		break;
	}
	return -1;
}

/* One option, c as getopt_long() returned it. Returns -1, or the exit code to stop with. */
static int parse_option(int c, struct run_args *a)
{
	switch (c) {
	case 'n':
	case 'w':
	case OPT_MAX_FAILURES:
		return parse_count(c, &a->o);
	case OPT_DURATION:
	case OPT_INTERVAL:
	case OPT_TIMEOUT:
		return parse_duration(c, &a->o);
	case OPT_ENTRY:
		if (!strcmp(optarg, "bind"))
			a->o.entry = PB_ENTRY_BIND;
		else if (!strcmp(optarg, "probe"))
			a->o.entry = PB_ENTRY_PROBE;
		else if (!strcmp(optarg, "module"))
			a->o.entry = PB_ENTRY_MODULE;
		else {
			pb_error("--entry: '%s' is not 'bind', 'probe' or 'module'", optarg);
			return PB_EXIT_USAGE;
		}
		return -1;
	case OPT_MODULE_OPTIONS:
		a->o.module_options = optarg;
		return -1;
	case OPT_WRITER_NODE:
	case OPT_WRITER_CPU:
		return parse_writers(c, a);
	case OPT_FORCE:
		return parse_force(&a->o);
	case OPT_DRY_RUN:
		a->dry = true;
		return -1;
	case OPT_JSON:
		a->json_path = optarg;
		return -1;
	case OPT_STATE_DIR:
		pb_set_state_dir(optarg);
		return -1;
	case OPT_PARALLEL:
		a->o.parallel = true;
		return -1;
	case OPT_NO_MEASURE:
		a->o.measure = false;
		return -1;
	case OPT_INCLUDE_LOSSY:
		a->o.include_lossy = true;
		return -1;
	case OPT_SLAB_SAMPLES:
		a->o.slab_samples = true;
		return -1;
	case OPT_BUFFER: {
		int b = pb_buffer_parse(optarg);
		if (b < 0) {
			pb_error("--buffer: '%s' is not auto, perf or ftrace", optarg);
			return PB_EXIT_USAGE;
		}
		a->o.buffer = (enum pb_buffer)b;
		return -1;
	}
	case OPT_PROGRESS: {
		static const char *const modes[] = {"auto", "bar", "lines", "none"};
		for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++)
			if (!strcmp(optarg, modes[k])) {
				a->progress = (enum progress_mode)k;
				return -1;
			}
		pb_error("--progress: '%s' is not auto, bar, lines or none", optarg);
		return PB_EXIT_USAGE;
	}
	case OPT_METHOD:
	case OPT_RING_PAGES:
	case OPT_FIFO:
		return parse_measure(c, &a->o);
	case 'h':
		help(stdout);
		return PB_EXIT_OK;
	default:
		fprintf(stderr, "See probebench run --help.\n");
		return PB_EXIT_USAGE;
	}
}

/* The command line into *a (its defaults first). Returns -1, or the exit code to stop with. */
static int parse_args(int argc, char **argv, struct run_args *a)
{
	a->o = (struct pb_run_opts){
	    .entry = PB_ENTRY_BIND,
	    .iterations = 100,
	    .warmup = 5,
	    .timeout_ns = 10ull * 1000000000ull,
	    .max_consecutive_failures = 3,
	    .measure = true,
	    .method = PB_METHOD_AUTO,
	    .mlock = true,
	};
	int c, k;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:w:h", options, NULL)) >= 0)
		if ((k = parse_option(c, a)) >= 0)
			return k;
	if (!a->o.iterations && !a->o.duration_ns) {
		pb_error("--iterations 0 needs a --duration");
		return PB_EXIT_USAGE;
	}
	if (optind >= argc) {
		pb_error("no target given (probebench run [OPTIONS] TARGET...)");
		return PB_EXIT_USAGE;
	}
	a->o.targets = (const char *const *)argv + optind;
	a->o.n_targets = argc - optind;
	a->o.writer_nodes = a->nodes;
	a->o.writer_cpus = a->cpus;
	return -1;
}

/* The run, its table on stdout, its record in json_path (when given). Returns the exit code. */
static int run_and_report(struct pb_run_opts *o, const char *json_path, enum progress_mode mode)
{
	if (mode == PROGRESS_AUTO)
		mode = isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_NONE;
	struct progress pg = {
	    .mode = mode, .duration_ns = o->duration_ns, .iterations = o->iterations};
	bool progress = mode != PROGRESS_NONE;
	if (progress) {
		o->on_iteration = progress_iteration;
		o->userdata = &pg;
	}
	struct pb_run_record *rec = NULL;
	int code = pb_exit_of_run(pb_run_execute(o, &rec, &stop_requested)), r;
	free(pg.bind_ns);
	free(pg.per_cell);
	if (mode == PROGRESS_BAR)
		fputs("\r\033[K", stderr);
	if (rec) {
		pb_report_summary(stdout, rec);
		if (json_path && (r = write_json(json_path, rec)) < 0) {
			pb_error_errno(r, "cannot write %s", json_path);
			if (code == PB_EXIT_OK)
				code = PB_EXIT_FAILURE;
		}
		pb_run_record_free(rec);
	}
	if (code == PB_EXIT_INTERRUPTED)
		pb_error("interrupted: devices restored%s",
			 json_path ? ", partial record written" : "");
	return code;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = {};
	int code = parse_args(argc, argv, &a);
	if (code < 0) {
		struct sigaction sa = {.sa_handler = on_signal};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		code = a.dry ? dry_run(&a.o) : run_and_report(&a.o, a.json_path, a.progress);
	}
	free(a.nodes);
	free(a.cpus);
	return code;
}

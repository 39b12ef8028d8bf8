/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The cycle engine: one unbind + bind of one device, every sysfs write done by a pinned writer
 * thread and watched with a timeout, the journal kept in step, failures retried and the device
 * put back on its original driver.
 *
 * The journal (journal.h) is written once per device per run: durably by pb_cycle_arm(), before
 * anything on the device changes, then only when something it records changes (a "hung" mark),
 * and removed by pb_cycle_disarm() after the last verified bind. A cycle writes no journal.
 *
 * Failure policy (also in doc/run.md and `run --help`):
 *  - a bind write failing with EAGAIN, EBUSY or EINTR, or succeeding while the device ends up not
 *    bound to its driver (deferred probe), is retried up to PB_CYCLE_RETRIES times, 10 ms apart;
 *    a retry whose write binds the device makes the cycle ok (retries and bind_errno tell);
 *  - after that (or at once for any other errno, e.g. ENODEV from a driver rejecting the device),
 *    the device is put back: driver_override set to the original driver (when the bus has it) +
 *    bus/drivers_probe, then DRV/bind, each verified; driver_override then restored;
 *  - a write that does not return within the timeout marks the device "hung" in the journal; the
 *    writer thread is abandoned and nothing touches the device again.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "probebench/journal.h"
#include "probebench/module.h"
#include "probebench/run.h"
#include "probebench/target.h"

struct json_object;
struct pb_measurement;

#define PB_CYCLE_RETRIES	  3
#define PB_CYCLE_RETRY_BACKOFF_NS 10000000ull
/* --entry module: how long the observed window stays open after the last asynchronous probe's
 * bind uevent, for its really_probe to return inside it (not counted in bind_ns). */
#define PB_MODULE_SETTLE_NS 50000000ull

/* Where the writer thread runs: cpu >= 0 pins to that CPU; else node >= 0 pins to the node's
 * CPUs (libnuma); both -1: wherever the scheduler puts it. fifo_prio > 0: the thread runs
 * SCHED_FIFO at that priority (pb_writer_new fails with -EPERM when that is not allowed). */
struct pb_placement {
	int cpu;
	int node;
	int fifo_prio;
};

enum pb_step {
	PB_STEP_UNBIND, /* timed: DRV/unbind */
	PB_STEP_BIND,	/* timed: DRV/bind or bus/drivers_probe */
	PB_STEP_SETUP,	/* untimed helper writes: driver_override, power/control, put-back */
};

/*
 * Measurement hooks, called in the writer thread right before and right after the timed
 * write(2) (outside the timed interval), and collect() in the calling thread after each cycle to
 * attach a measurement (record.h; the caller frees it) to the iteration record (may return NULL).
 * All optional. after_write gets the write's result and the CLOCK_MONOTONIC times (pb_now_ns())
 * taken right before and right after write(2), the same ones the cycle's *_ns come from.
 */
struct pb_cycle_hooks {
	void *userdata;
	/* Called by pb_cycle_once() in the cycling thread before each unbind/bind write is handed
	 * to the writer, and before the targets meet at the gate (--parallel): slow set-up (arming
	 * an observer for writer_tid) happens here, so it does not skew the parallel writes. */
	void (*prepare)(void *userdata, const struct pb_target *t, enum pb_step step,
			pid_t writer_tid);
	void (*before_write)(void *userdata, const struct pb_target *t, enum pb_step step);
	void (*after_write)(void *userdata, const struct pb_target *t, enum pb_step step,
			    int result, uint64_t t0_ns, uint64_t t1_ns);
	struct pb_measurement *(*collect)(void *userdata, const struct pb_target *t);
};

struct pb_writer;

/* Starts a writer thread pinned per *pl. Returns 0 or -errno (-EINVAL: no such cpu/node). */
int pb_writer_new(const struct pb_placement *pl, const struct pb_cycle_hooks *hooks,
		  struct pb_writer **ret);
/* Stops and joins the thread; a hung writer is abandoned (its thread is stuck in the kernel). */
void pb_writer_free(struct pb_writer *w);
/*
 * Where a writer's memory sits, as its thread found after pinning (get_mempolicy with
 * MPOL_F_NODE | MPOL_F_ADDR): its request buffer (allocated on the writer's node) and a page of
 * its stack. expected_node: the placement's node (-1 when unpinned or without NUMA); -1: unknown.
 */
void pb_writer_memory(const struct pb_writer *w, int *expected_node, int *buf_node,
		      int *stack_node);
bool pb_writer_hung(const struct pb_writer *w);
/* The writer thread's kernel thread id. */
pid_t pb_writer_tid(const struct pb_writer *w);
/*
 * Writes s to path (a regular file below the sysfs root, opened through paths.h: anything else is
 * refused at once) from the writer thread; waits at most timeout_ns. Returns the write's result
 * (0 or -errno), or -ETIMEDOUT when it has not returned (the writer is then hung and refuses
 * further work with -EDEADLK). *ret_ns: CLOCK_MONOTONIC around write(2); *ret_cpu: sched_getcpu()
 * just before it. t and step are passed to the hooks for PB_STEP_UNBIND/PB_STEP_BIND.
 */
int pb_writer_write(struct pb_writer *w, const char *path, const char *s, uint64_t timeout_ns,
		    const struct pb_target *t, enum pb_step step, uint64_t *ret_ns, int *ret_cpu);

enum pb_cycle_outcome {
	PB_CYCLE_OK,		/* unbound, rebound by the last bind write (after retries, if any),
				   verified */
	PB_CYCLE_UNBIND_FAILED, /* unbind refused; device still on its driver */
	PB_CYCLE_BIND_FAILED,	/* bind failed after retries; device put back (or bound by
				   someone else's probe while the write failed) */
	PB_CYCLE_LOST,		/* bind and put-back failed: device left unbound (journal kept) */
	PB_CYCLE_HUNG,		/* a write did not return; device marked hung */
	PB_CYCLE_GONE,		/* the device disappeared */
	PB_CYCLE_STATE_CHANGED, /* not bound to the expected driver before the cycle */
};

const char *pb_cycle_outcome_name(enum pb_cycle_outcome o);

struct pb_cycle_result {
	enum pb_cycle_outcome outcome;
	uint64_t unbind_ns, bind_ns; /* last attempt's; --entry module: the unload, and the load
				      * until every device of the module is bound again */
	uint64_t load_ns;	     /* --entry module: the load call alone (init_module) */
	uint64_t cycle_ns; /* whole cycle: journal, writes, verification, retries, put-back */
	int unbind_errno, bind_errno; /* positive errno of the first failure (also of a bind that a
				       * retry then made: outcome ok, retries > 0), 0 none */
	unsigned retries;
	bool verified; /* bound to the original driver after the cycle */
	bool put_back; /* the put-back route was needed */
	int writer_cpu, writer_node;
};

/*
 * Several targets cycled at the same moment (--parallel): each cycle runs in its own thread and
 * meets the others at a gate right before its unbind write and right before its first bind
 * write; a cycle that stops early leaves the gate, so the others never wait for it.
 */
struct pb_gate;
int pb_gate_new(unsigned parties, struct pb_gate **ret);
void pb_gate_free(struct pb_gate *g);
/* Blocks until every party still in the gate has arrived. */
void pb_gate_wait(struct pb_gate *g);
/* Leaves for good; releases the others when they were waiting only for this party. */
void pb_gate_leave(struct pb_gate *g);

struct pb_kmod;
struct pb_cycle_cfg {
	enum pb_entry_path entry;
	uint64_t timeout_ns;
	struct pb_gate *gate;	    /* NULL: cycle alone */
	struct pb_kmod *kmod;	    /* --entry module: the libkmod context the writer uses */
	const char *module_options; /* --entry module: the options of every load (NULL: none) */
};

/*
 * Unloads (load false) or loads module from the writer thread, as pb_writer_write() does a write,
 * with the hooks around it for PB_STEP_UNBIND/PB_STEP_BIND. A load passes options and then waits,
 * in the writer, until every device of wait[] is bound to its driver again (polled each 0.5 ms)
 * or timeout_ns has passed (-ETIME). *ret_ns: CLOCK_MONOTONIC around the call and that wait;
 * *ret_load_ns: around the load call alone (may be NULL). The writer gives up after twice
 * timeout_ns (-ETIMEDOUT, hung).
 */
int pb_writer_module(struct pb_writer *w, struct pb_kmod *k, bool load, const char *module,
		     const char *options, const struct pb_module_device *wait, size_t n_wait,
		     uint64_t timeout_ns, const struct pb_target *t, enum pb_step step,
		     uint64_t *ret_ns, uint64_t *ret_load_ns, int *ret_cpu);

/*
 * Prepares a target: records its driver, driver_override and power/control in *je (state
 * "armed"; with cfg->entry PB_ENTRY_MODULE also t->module and cfg->module_options), writes the
 * journal durably (file and directory fsync'd), then sets power/control=on (cfg->timeout_ns).
 * Returns 0 or -errno (journal or sysfs); on failure nothing was unbound, and a journal failure
 * changed nothing at all. The entry then stands for every cycle of the run.
 */
int pb_cycle_arm(struct pb_writer *w, const struct pb_target *t, const struct pb_cycle_cfg *cfg,
		 struct pb_journal_entry *je);
/* Undoes arm (power/control) and removes the journal entry: the end of the run for t. */
int pb_cycle_disarm(struct pb_writer *w, const struct pb_target *t, uint64_t timeout_ns,
		    struct pb_journal_entry *je);

/* One cycle of a target armed by pb_cycle_arm() (its entry in the journal already). It writes
 * the journal only when the entry changes: "hung" on a timeout (durably, before it returns);
 * removed when the device is gone. */
void pb_cycle_once(struct pb_writer *w, const struct pb_target *t, struct pb_journal_entry *je,
		   const struct pb_cycle_cfg *cfg, struct pb_cycle_result *ret);

enum pb_restore_outcome {
	PB_RESTORE_OK,	     /* bound to its driver, settings restored, entry cleared */
	PB_RESTORE_REBOUND,  /* it was unbound: rebound, settings restored, entry cleared */
	PB_RESTORE_HUNG,     /* marked hung: skipped, entry kept */
	PB_RESTORE_GONE,     /* the device no longer exists: entry cleared */
	PB_RESTORE_OTHER,    /* bound to another driver: left alone, entry kept */
	PB_RESTORE_FAILED,   /* could not rebind or restore: entry kept */
	PB_RESTORE_MISMATCH, /* its syspath and bus/BUS/devices/NAME are two devices: untouched,
				entry kept */
};
const char *pb_restore_outcome_name(enum pb_restore_outcome o);

/* Puts one journal entry's device back. Returns the outcome; *ret_err the errno of a failure. */
enum pb_restore_outcome pb_restore_entry(struct pb_writer *w, const struct pb_journal_entry *je,
					 uint64_t timeout_ns, int *ret_err);

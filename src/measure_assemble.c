// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pure logic: from the events of one bind window to per-probe records, hops, page placement.
 * Attribution is by what happened, not by names:
 *  - a probe whose device is known (the kprobe event fetches it, initcall_debug lines name it)
 *    belongs to the bind when the device is the target or below it, whichever task ran it;
 *  - otherwise by task and time: the writer over the write, a worker over a hop;
 *  - a hop is a work a probing task queued inside the window and waited for (blocked, the
 *    worker or the pool's flush barrier woke it), or, where no work is
 *    seen, the task that woke a probing task blocked inside its probe (a kthread the probe
 *    started); function names only label it.
 * IRQ-context records are dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probebench/measure.h"

int pb_parse_probe_line(const char *msg, char *dev, size_t dev_size, int *ret, uint64_t *usecs)
{
	char name[128];
	int rv;
	unsigned long long us;
	int n = 0;
	if (sscanf(msg, "probe of %127s returned %d after %llu usecs%n", name, &rv, &us, &n) != 3 ||
	    n == 0)
		return -EINVAL;
	if (strlen(name) >= dev_size)
		return -ENAMETOOLONG;
	strcpy(dev, name);
	*ret = rv;
	*usecs = us;
	return 0;
}

int pb_parse_kmsg_record(const char *rec, uint64_t *ts_us, const char **text, size_t *text_len)
{
	unsigned pri;
	unsigned long long seq, ts;
	int n = 0;
	if (sscanf(rec, "%u,%llu,%llu,%n", &pri, &seq, &ts, &n) != 3 || n == 0)
		return -EINVAL;
	const char *semi = strchr(rec + n, ';');
	if (!semi)
		return -EINVAL;
	const char *t = semi + 1;
	size_t l = strcspn(t, "\n");
	*ts_us = ts;
	*text = t;
	*text_len = l;
	return 0;
}

struct hop {
	pid_t queuer, worker;
	int cpu;
	uint64_t queue, start, end;
	uint64_t fn_addr; /* 0: a wake-up hop */
	char fn[48];
	char comm[16];
	bool used;
	/* The queuer was not seen waiting for the work (it was never blocked and woken by it): the
	 * worker preempted it, or its vCPU stalled, until the work was done. Only a whole probe
	 * hops so. */
	bool unwaited;
};

struct ctx {
	const struct pb_assemble_in *in;
	struct hop *hops;
	size_t n_hops, cap_hops;
};

static int node_of_cpu(const struct pb_assemble_in *in, int cpu)
{
	if (cpu < 0 || cpu >= in->n_cpus || !in->cpu_node)
		return -1;
	return in->cpu_node[cpu];
}

/* The comm a pid had last in the window, from sched_switch records (a thread created in the
 * window starts as its creator's copy, e.g. "kthreadd", and is named after). */
static void comm_of(const struct pb_assemble_in *in, pid_t pid, char comm[16])
{
	comm[0] = 0;
	for (size_t i = in->n; i-- > 0;) {
		const struct pb_mevent *e = &in->ev[i];
		if (e->type != PB_EV_SWITCH)
			continue;
		if (e->sw.prev_pid == pid) {
			snprintf(comm, 16, "%s", e->sw.prev_comm);
			return;
		}
		if (e->sw.next_pid == pid) {
			snprintf(comm, 16, "%s", e->sw.next_comm);
			return;
		}
	}
}

static bool in_set(const pid_t *set, size_t n, pid_t p)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == p)
			return true;
	return false;
}

/*
 * A switch-out that blocks (sched_switch's prev_state S or D: bits 0 and 1 in every kernel's
 * report); a preempted task (R+, reported as TASK_REPORT_MAX) still runs, it does not wait.
 */
static bool blocks(const struct pb_mevent *x)
{
	return x->sw.prev_state & 3;
}

/* The task ran a work between from and to (a worker: its waits are judged as works). */
static bool ran_work(const struct pb_assemble_in *in, pid_t pid, uint64_t from, uint64_t to)
{
	for (size_t i = 0; i < in->n; i++) {
		const struct pb_mevent *x = &in->ev[i];
		if (x->type == PB_EV_WQ_START && x->pid == pid && x->ts >= from && x->ts <= to)
			return true;
	}
	return false;
}

/* The task was blocked (S or D) at ts, since a switch-out after from. */
static bool blocked_at(const struct pb_assemble_in *in, pid_t task, uint64_t from, uint64_t ts)
{
	const struct pb_mevent *last = NULL;
	for (size_t i = 0; i < in->n && in->ev[i].ts <= ts; i++) {
		const struct pb_mevent *x = &in->ev[i];
		if (x->type == PB_EV_SWITCH && (x->sw.prev_pid == task || x->sw.next_pid == task))
			last = x;
	}
	return last && last->ts >= from && last->sw.prev_pid == task && blocks(last);
}

/*
 * The task, blocked since it queued the work, was woken (not from an irq) by the work's worker,
 * or, after the work ended, by another worker: flush_work()'s barrier runs in whichever worker
 * of the pool takes it when the work had not started yet. Other wake-ups may come first (on
 * PREEMPT_RT, a sleeping lock's owner hands it over).
 */
static bool woken_by(const struct pb_assemble_in *in, pid_t task, pid_t worker, uint64_t queued,
		     uint64_t start, uint64_t end, uint64_t before)
{
	for (size_t i = 0; i < in->n; i++) {
		const struct pb_mevent *x = &in->ev[i];
		if (x->type != PB_EV_WAKEUP || x->irq || x->wake.pid != task || x->ts < start ||
		    x->ts > before)
			continue;
		if ((x->pid == worker || (x->ts >= end && ran_work(in, x->pid, start, x->ts))) &&
		    blocked_at(in, task, queued, x->ts))
			return true;
	}
	return false;
}

/*
 * Pairs queue -> execute_start -> execute_end by work pointer and keeps the hops: works
 * queued by a probing task inside the window that ended inside it and that the queuer
 * waited for (or was not seen waiting for: see struct hop's unwaited). Works queued for later
 * (deferred_probe_work_func) end after the write, works queued and not waited for (a driver
 * scheduling its own work) do not block the queuer: neither is a hop.
 */
static int find_hops(struct ctx *c)
{
	const struct pb_assemble_in *in = c->in;
	pid_t set[64];
	size_t nset = 0;
	set[nset++] = in->writer_tid;
	c->cap_hops = in->n ? in->n : 1;
	c->hops = calloc(c->cap_hops, sizeof(*c->hops));
	if (!c->hops)
		return -ENOMEM;

	bool grew = true;
	while (grew) {
		grew = false;
		for (size_t i = 0; i < in->n; i++) {
			const struct pb_mevent *q = &in->ev[i];
			/* In an irq (a delayed work's timer) the "queuer" is whoever was
			 * interrupted: not a probing task's doing. */
			if (q->type != PB_EV_WQ_QUEUE || q->irq || q->ts < in->t0 ||
			    q->ts > in->t1 || !in_set(set, nset, q->pid))
				continue;
			bool seen = false;
			for (size_t h = 0; h < c->n_hops; h++)
				if (c->hops[h].queue == q->ts && c->hops[h].queuer == q->pid)
					seen = true;
			if (seen)
				continue;
			const struct pb_mevent *s = NULL, *e = NULL;
			for (size_t j = i + 1; j < in->n; j++) {
				const struct pb_mevent *x = &in->ev[j];
				if (!s && x->type == PB_EV_WQ_START && x->wq.work == q->wq.work)
					s = x;
				else if (s && x->type == PB_EV_WQ_END && x->wq.work == q->wq.work &&
					 x->pid == s->pid) {
					e = x;
					break;
				}
			}
			if (!s || !e || e->ts > in->t1)
				continue;
			bool unwaited = !woken_by(in, q->pid, s->pid, q->ts, s->ts, e->ts, in->t1);
			struct hop *h = &c->hops[c->n_hops++];
			*h = (struct hop){.queuer = q->pid,
					  .worker = s->pid,
					  .cpu = s->cpu,
					  .queue = q->ts,
					  .start = s->ts,
					  .end = e->ts,
					  .fn_addr = q->wq.function,
					  .unwaited = unwaited};
			snprintf(h->fn, sizeof(h->fn), "%s", q->wq.fn[0] ? q->wq.fn : s->wq.fn);
			comm_of(in, s->pid, h->comm);
			if (!in_set(set, nset, s->pid) && nset < 64) {
				set[nset++] = s->pid;
				grew = true;
			}
		}
	}
	return 0;
}

static int add_probe(struct pb_iteration_facts *out, size_t *cap, const struct pb_probe_fact *p)
{
	if (out->n_probes == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct pb_probe_fact *np = realloc(out->probes, nc * sizeof(*np));
		if (!np)
			return -ENOMEM;
		out->probes = np;
		*cap = nc;
	}
	out->probes[out->n_probes++] = *p;
	return 0;
}

static unsigned migrations_in(const struct pb_assemble_in *in, pid_t pid, uint64_t s, uint64_t e)
{
	unsigned n = 0;
	for (size_t i = 0; i < in->n; i++) {
		const struct pb_mevent *x = &in->ev[i];
		if (x->type == PB_EV_MIGRATE && x->mig.pid == pid && x->ts >= s && x->ts <= e)
			n++;
	}
	return n;
}

/*
 * The worker's time on a CPU and its switches out between start and end, from sched_switch:
 * it runs at start (execute_start is recorded on its CPU), so it is on a CPU until a
 * switch-out.
 */
static void worker_sched(const struct pb_assemble_in *in, pid_t pid, uint64_t start, uint64_t end,
			 uint64_t *on_cpu, unsigned *switches)
{
	bool running = true;
	uint64_t since = start, on = 0;
	unsigned n = 0;
	for (size_t i = 0; i < in->n; i++) {
		const struct pb_mevent *x = &in->ev[i];
		if (x->type != PB_EV_SWITCH || x->ts <= start || x->ts > end)
			continue;
		if (x->sw.prev_pid == pid && running) {
			on += x->ts - since;
			running = false;
			n++;
		} else if (x->sw.next_pid == pid && !running) {
			since = x->ts;
			running = true;
		}
	}
	if (running)
		on += end - since;
	*on_cpu = on;
	*switches = n;
}

static void set_hop(const struct pb_assemble_in *in, struct pb_probe_fact *p, const struct hop *hp)
{
	p->hop = true;
	snprintf(p->hop_function, sizeof(p->hop_function), "%s", hp->fn);
	p->hop_function_addr = hp->fn_addr;
	p->hop_pid = hp->worker;
	snprintf(p->hop_comm, sizeof(p->hop_comm), "%s", hp->comm);
	p->hop_cpu = hp->cpu;
	p->hop_queue_ns = hp->queue;
	p->hop_start_ns = hp->start;
	p->hop_duration_ns = hp->end - hp->start;
	worker_sched(in, hp->worker, hp->start, hp->end, &p->hop_on_cpu_ns, &p->hop_switches);
	p->hop_migrations = migrations_in(in, hp->worker, hp->start, hp->end);
}

/* Whether TASK was inside a probe of its own at TS. */
static bool in_probe_of(const struct pb_iteration_facts *out, pid_t task, uint64_t ts)
{
	for (size_t i = 0; i < out->n_probes; i++) {
		const struct pb_probe_fact *p = &out->probes[i];
		if ((p->pid == task || p->origin_pid == task) && p->start_ns <= ts &&
		    ts <= p->start_ns + p->duration_ns)
			return true;
	}
	return false;
}

/*
 * Attaches hops to probes (innermost probe first). A hop queued by the probe's task inside
 * it that the probe waited on for at least a quarter of its time carried the driver's ->probe
 * (PCI's work_on_cpu, a driver's own work): the worker's task, CPU and node are the probe's. A
 * probe that ran inside a hop, in its worker, was moved as a whole (really_probe itself, as the
 * seed's queue_work_node does): it keeps its task, and its origin is the task that queued the work.
 */
static void attach_hops(struct ctx *c, struct pb_iteration_facts *out)
{
	const struct pb_assemble_in *in = c->in;
	for (size_t h = 0; h < c->n_hops; h++) {
		struct hop *hp = &c->hops[h];
		struct pb_probe_fact *best = NULL;
		bool whole = false;
		/* Inside a probe first: a child probed in the worker of its parent's hop
		 * (PCI's virtio child) lies around nothing; it is the parent that hopped. */
		for (int pass = 0; pass < 2 && !best; pass++)
			for (size_t i = 0; i < out->n_probes; i++) {
				struct pb_probe_fact *p = &out->probes[i];
				/* Kernel-reported us round down: allow 1 us at the start. */
				uint64_t s = p->window_start_ns;
				uint64_t pe = p->start_ns + p->duration_ns;
				/* A work the probe waited on for at least a quarter of it (from
				 * the queueing to the end) carried its body; a short flush
				 * inside it (a cache drain, a driver's own small work) did
				 * not. */
				bool inside = !hp->unwaited && p->pid == hp->queuer &&
					      hp->queue >= s && hp->end <= pe &&
					      4 * (hp->end - hp->queue) >= p->duration_ns;
				bool around = p->pid == hp->worker && p->start_ns >= hp->start &&
					      pe <= hp->end + 1000;
				if (pass == 0 ? !inside : !around)
					continue;
				if (!best || p->duration_ns < best->duration_ns) {
					best = p;
					whole = around;
				}
			}
		if (!best || best->hop)
			continue;
		/* A work the queuer was not seen waiting on, but that ended before the write
		 * returned, moved a whole probe when the queuer was in no probe of its own; from
		 * inside one it is a driver's asynchronous work (an async child's probe), not the
		 * probe moving. */
		if (hp->unwaited && in_probe_of(out, hp->queuer, hp->queue))
			continue;
		hp->used = true;
		set_hop(in, best, hp);
		best->origin_pid = whole ? hp->queuer : best->pid;
		best->hop_whole_probe = whole;
		if (whole)
			continue;
		/* The driver's ->probe ran in the worker: its task, CPU and node are reported. */
		best->pid = hp->worker;
		snprintf(best->comm, sizeof(best->comm), "%s", hp->comm);
		best->cpu = hp->cpu;
		best->node = node_of_cpu(in, hp->cpu);
	}
}

/* A real-time task (kernel priority below 100) at ts, as the last sched record before it shows
 * it (an irq thread starts at a normal priority and makes itself SCHED_FIFO). */
static bool realtime(const struct pb_assemble_in *in, pid_t pid, uint64_t ts)
{
	int prio = -1;
	for (size_t i = 0; i < in->n && in->ev[i].ts <= ts; i++) {
		const struct pb_mevent *x = &in->ev[i];
		if (x->type == PB_EV_SWITCH && (x->sw.prev_pid == pid || x->sw.next_pid == pid))
			prio = x->sw.prev_pid == pid ? x->sw.prev_prio : x->sw.next_prio;
	}
	return prio >= 0 && prio < 100;
}

/* t woke a (not from an interrupt) in [from, to]. */
static bool woke_back(const struct pb_assemble_in *in, pid_t t, pid_t a, uint64_t from, uint64_t to)
{
	for (size_t i = 0; i < in->n && in->ev[i].ts <= to; i++) {
		const struct pb_mevent *x = &in->ev[i];
		if (x->ts >= from && x->type == PB_EV_WAKEUP && !x->irq && x->pid == t &&
		    x->wake.pid == a)
			return true;
	}
	return false;
}

/* The last task a woke inside [from, to] that woke a back before `end` was b: a handed work to
 * b, then waited (a handshake's first half; wake-ups an interrupt made while a ran are not a's).
 * A thread a woke long before and that woke it back for another reason (an irq thread it created
 * in request_irq(), on PREEMPT_RT) is not the last it woke before the wait. Tasks that never woke
 * a back do not count: on PREEMPT_RT the probe's task itself wakes rcuc/N and ksoftirqd/N on its
 * way out of a timer interrupt, right after it woke its kthread. */
static bool woke(const struct pb_assemble_in *in, pid_t a, pid_t b, uint64_t from, uint64_t to,
		 uint64_t end)
{
	pid_t last = 0;
	for (size_t i = 0; i < in->n; i++) {
		const struct pb_mevent *x = &in->ev[i];
		if (x->type == PB_EV_WAKEUP && !x->irq && x->pid == a && x->ts >= from &&
		    x->ts <= to && woke_back(in, x->wake.pid, a, x->ts, end))
			last = x->wake.pid;
	}
	return last == b;
}

/* a's last wake-up of b in [from, to] (*woken; 0: none, or one from an irq) and b's first run
 * after it (*ran; 0: no switch shows it). */
static void handed_to(const struct pb_assemble_in *in, pid_t a, pid_t b, uint64_t from, uint64_t to,
		      uint64_t *woken, uint64_t *ran)
{
	*woken = *ran = 0;
	for (size_t i = 0; i < in->n && in->ev[i].ts <= to; i++) {
		const struct pb_mevent *x = &in->ev[i];
		if (x->ts < from)
			continue;
		if (x->type == PB_EV_WAKEUP && !x->irq && x->pid == a && x->wake.pid == b)
			*woken = x->ts, *ran = 0;
		else if (x->type == PB_EV_SWITCH && x->sw.next_pid == b && *woken && !*ran)
			*ran = x->ts;
	}
}

/* How long task was off a CPU (switched out, asleep or preempted) inside [from, to). */
static uint64_t off_cpu_for(const struct pb_assemble_in *in, pid_t task, uint64_t from, uint64_t to)
{
	uint64_t sum = 0, off = 0;
	for (size_t i = 0; i < in->n && in->ev[i].ts < to; i++) {
		const struct pb_mevent *x = &in->ev[i];
		if (x->type != PB_EV_SWITCH || x->ts < from)
			continue;
		if (x->sw.prev_pid == task)
			off = x->ts;
		else if (x->sw.next_pid == task && off)
			sum += x->ts - off, off = 0;
	}
	return sum + (off ? to - off : 0);
}

/* Whether b ran for a for at least a quarter of a's probe (duration, from `from`) before waking
 * it at `to`: b's time from its first run after a's last wake-up of b (the wake-up itself when no
 * switch shows it) to `to`, against the probe's time less what neither task ran: b's wait for a
 * CPU after the wake-up, and a's own time off its CPU before it (waiting for kthreadd to create
 * the thread, or preempted by it).
 * Under TCG an idle vCPU may take tens of milliseconds to pick a woken thread up. */
static bool ran_quarter(const struct pb_assemble_in *in, pid_t a, pid_t b, uint64_t from,
			uint64_t to, uint64_t duration)
{
	uint64_t woken, ran;
	handed_to(in, a, b, from, to, &woken, &ran);
	uint64_t since = ran ? ran : woken;
	if (!since || since > to)
		return false;
	uint64_t idle = (woken && ran > woken ? ran - woken : 0) +
			(woken ? off_cpu_for(in, a, from, woken) : 0);
	return 4 * (to - since) >= (duration > idle ? duration - idle : 0);
}

/*
 * A probe with no work hop that blocked inside itself and was woken by the last task it had woken
 * before blocking (a kthread it started and waited for): that task ran for it. Wake-ups from an
 * irq, by a timer thread or a lock holder the probe never woke are waits, not hops; a worker that
 * woke it ran a work, which find_hops() judged already (a short flush is no hop); an interrupt
 * thread (real-time priority) that completed the probe's wait for its device handled an
 * interrupt, it did not run the probe (PREEMPT_RT threads every handler: virtio_rng's child
 * probe waits for its device's answer, and irq/N-virtioM wakes it). A task that ran less than a
 * quarter of the probe (less its own wait for a CPU and the probe's time off its CPU before it
 * woke the task) between the probe's wake-up and its own is a handshake, not the probe's body (a
 * new thread signalling that it started, as request_irq waits for its irq thread on PREEMPT_RT).
 * What the task ran counts, not how long the probe waited: a probe whose CPU stalled (a preempted
 * vCPU) may find the body done when it comes to wait, and then waits only for the thread's exit
 * (kthread_stop). The longest such wait is the hop (creating the thread is another, with kthreadd,
 * which the probe woke last); its worker's CPU is the one it woke the probe from.
 */
static void attach_wakeup_hops(struct ctx *c, struct pb_iteration_facts *out)
{
	const struct pb_assemble_in *in = c->in;
	for (size_t i = 0; i < out->n_probes; i++) {
		struct pb_probe_fact *p = &out->probes[i];
		uint64_t pe = p->start_ns + p->duration_ns, best_len = 0, off = 0;
		const struct pb_mevent *best = NULL;
		bool blocked = false;
		if (p->hop || !p->task_measured)
			continue;
		for (size_t k = 0; k < in->n; k++) {
			const struct pb_mevent *x = &in->ev[k];
			if (x->ts < p->window_start_ns || x->ts > pe)
				continue;
			if (x->type == PB_EV_SWITCH && x->sw.prev_pid == p->pid && blocks(x)) {
				blocked = true;
				off = x->ts;
			} else if (x->type == PB_EV_WAKEUP && x->wake.pid == p->pid && blocked) {
				blocked = false;
				if (!x->irq && x->pid > 0 && x->pid != p->pid &&
				    x->ts - off > best_len &&
				    woke(in, p->pid, x->pid, p->window_start_ns, off, pe) &&
				    ran_quarter(in, p->pid, x->pid, p->window_start_ns, x->ts,
						p->duration_ns) &&
				    !ran_work(in, x->pid, off, x->ts) &&
				    !realtime(in, x->pid, x->ts)) {
					best_len = x->ts - off;
					best = x;
				}
			}
		}
		if (!best)
			continue;
		/* From the worker's first run after the probe woke it to its wake-up of the probe.
		 */
		uint64_t woken, ran;
		handed_to(in, p->pid, best->pid, p->window_start_ns, best->ts, &woken, &ran);
		struct hop hp = {.queuer = p->pid,
				 .worker = best->pid,
				 .cpu = best->cpu,
				 .queue = woken ? woken : best->ts - best_len,
				 .start = ran ? ran : best->ts - best_len,
				 .end = best->ts};
		snprintf(hp.fn, sizeof(hp.fn), "wake-up");
		comm_of(in, best->pid, hp.comm);
		set_hop(in, p, &hp);
		p->origin_pid = p->pid;
		p->pid = hp.worker;
		snprintf(p->comm, sizeof(p->comm), "%s", hp.comm);
		p->cpu = hp.cpu;
		p->node = node_of_cpu(in, hp.cpu);
		/* Its pages count as the probe's over the wait (see memory_facts). */
		if (c->n_hops < c->cap_hops)
			c->hops[c->n_hops++] = hp;
	}
}

/*
 * Attribution windows: an exact start is its own; an estimated one (end - the kernel's us,
 * whose end stamp follows the kernel's own printk) of a probe at depth 0 reaches back to the
 * last sure boundary: the end of the same task's previous probe that ended before it, or the
 * write's start. A nested probe keeps its estimate (1 us earlier for the rounding): reaching
 * back would hand it its parent's earlier work.
 */
static void set_windows(const struct pb_assemble_in *in, struct pb_iteration_facts *out)
{
	for (size_t i = 0; i < out->n_probes; i++) {
		struct pb_probe_fact *p = &out->probes[i];
		p->window_start_ns = p->start_ns;
		if (p->start_exact)
			continue;
		if (p->depth > 0) {
			p->window_start_ns = p->start_ns > 1000 ? p->start_ns - 1000 : 0;
			continue;
		}
		uint64_t lb = in->t0;
		for (size_t j = 0; j < out->n_probes; j++) {
			const struct pb_probe_fact *q = &out->probes[j];
			uint64_t qe = q->start_ns + q->duration_ns;
			if (j != i && q->pid == p->pid && qe <= p->start_ns && qe > lb)
				lb = qe;
		}
		p->window_start_ns = lb < p->start_ns ? lb : p->start_ns;
	}
}

/*
 * Whether P ran inside Q. Exact starts (kprobe): P's span lies in Q's (1 us of slack). Estimated
 * starts (end - the kernel's us): each end stamp follows its own printk, late by however long the
 * task took to reach it (a preempted vCPU makes that tens of us), so Q's estimated start can fall
 * after the true start of a child that ran early in Q's probe. In one task probes nest like a
 * stack: P, ending before Q, ran inside Q when it ended after Q's estimated start or when its
 * device sits below Q's (a child created and probed by Q's probe).
 */
static bool nested_in(const struct pb_assemble_in *in, const struct pb_probe_fact *p,
		      const struct pb_probe_fact *q)
{
	uint64_t pe = p->start_ns + p->duration_ns, qe = q->start_ns + q->duration_ns;
	if (q->duration_ns <= p->duration_ns || pe > qe)
		return false;
	if (p->start_ns + 1000 >= q->start_ns)
		return true;
	if (p->start_exact || q->start_exact || p->pid != q->pid)
		return false;
	if (pe + 1000 >= q->start_ns)
		return true;
	return p->device[0] && q->device[0] && in->below &&
	       in->below(p->device, q->device, in->belongs_ud) == 1;
}

static void set_depths(const struct pb_assemble_in *in, struct pb_iteration_facts *out)
{
	for (size_t i = 0; i < out->n_probes; i++) {
		struct pb_probe_fact *p = &out->probes[i];
		p->depth = 0;
		for (size_t j = 0; j < out->n_probes; j++)
			if (i != j && nested_in(in, p, &out->probes[j]))
				p->depth++;
	}
}

/* 1: the device is the target or below it, 0: it is not, -1: unknown (no name, no answer). */
static int belongs(const struct pb_assemble_in *in, const char *dev)
{
	return dev[0] && in->belongs ? in->belongs(dev, in->belongs_ud) : -1;
}

/* The writer over the write, a hop's worker over the hop. */
static bool probing_task_at(const struct ctx *c, pid_t pid, uint64_t ts)
{
	if (pid == c->in->writer_tid)
		return ts >= c->in->t0 && ts <= c->in->t1;
	for (size_t h = 0; h < c->n_hops; h++)
		if (c->hops[h].worker == pid && ts >= c->hops[h].start && ts <= c->hops[h].end)
			return true;
	return false;
}

/* tracepoint method: the initcall_debug line, written by the task that ran really_probe. */
static int probes_from_console(struct ctx *c, struct pb_iteration_facts *out, size_t *cap)
{
	const struct pb_assemble_in *in = c->in;
	for (size_t i = 0; i < in->n; i++) {
		const struct pb_mevent *e = &in->ev[i];
		if (e->type != PB_EV_CONSOLE || e->ts < in->t0 || e->ts > in->t1)
			continue;
		struct pb_probe_fact p = {.cpu = e->cpu, .pid = e->pid, .task_measured = true};
		uint64_t us;
		if (pb_parse_probe_line(e->msg, p.device, sizeof(p.device), &p.ret, &us) < 0)
			continue;
		int b = belongs(in, p.device);
		if (b == 0 || (b < 0 && !probing_task_at(c, e->pid, e->ts)))
			continue;
		p.ret_known = true;
		p.duration_ns = us * 1000;
		p.start_ns = e->ts > p.duration_ns ? e->ts - p.duration_ns : 0;
		p.start_exact = false;
		p.method = PB_METHOD_TRACEPOINT;
		p.node = node_of_cpu(in, e->cpu);
		p.writer_migrations = migrations_in(in, e->pid, p.start_ns, e->ts);
		comm_of(in, e->pid, p.comm);
		int r = add_probe(out, cap, &p);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * kprobe method: entry/return pairs per task, nested like a stack. Any task's probe is taken
 * when its device belongs to the bind; a probe of an unknown device only from a probing task.
 */
static int probes_from_kprobes(struct ctx *c, struct pb_iteration_facts *out, size_t *cap)
{
	const struct pb_assemble_in *in = c->in;
	struct {
		pid_t pid;
		uint64_t ts;
		int cpu;
		bool ours;
		const struct pb_mevent *e;
	} stack[64];
	size_t depth = 0;
	for (size_t i = 0; i < in->n; i++) {
		const struct pb_mevent *e = &in->ev[i];
		if (e->ts < in->t0 || e->ts > in->t1)
			continue;
		if (e->type == PB_EV_PROBE_ENTRY) {
			int b = belongs(in, e->kp.dev);
			bool ours = b == 1 || (b < 0 && probing_task_at(c, e->pid, e->ts));
			if (depth < 64)
				stack[depth++] = (typeof(stack[0])){e->pid, e->ts, e->cpu, ours, e};
			continue;
		}
		if (e->type != PB_EV_PROBE_RETURN)
			continue;
		/* The innermost open entry of this task. */
		ssize_t k;
		for (k = (ssize_t)depth - 1; k >= 0 && stack[k].pid != e->pid; k--)
			;
		if (k < 0)
			continue; /* entry before the window: not ours */
		bool ours = stack[k].ours;
		const struct pb_mevent *entry = stack[k].e;
		struct pb_probe_fact p = {.cpu = e->cpu,
					  .pid = e->pid,
					  .task_measured = true,
					  .start_ns = stack[k].ts,
					  .duration_ns = e->ts - stack[k].ts,
					  .start_exact = true,
					  .ret = (int)e->kret.ret,
					  .ret_known = e->kret.ret_known,
					  .method = PB_METHOD_KPROBE};
		memmove(&stack[k], &stack[k + 1], (depth - k - 1) * sizeof(stack[0]));
		depth--;
		if (!ours)
			continue;
		snprintf(p.device, sizeof(p.device), "%s", entry->kp.dev);
		snprintf(p.driver, sizeof(p.driver), "%s", entry->kp.drv);
		/* No name fetched (an architecture without fetch args): initcall_debug's line, when
		 * enabled, follows the return in the same task. */
		for (size_t j = i + 1; !p.device[0] && j < in->n; j++) {
			const struct pb_mevent *m = &in->ev[j];
			int rv;
			uint64_t us;
			if (m->pid != e->pid)
				continue;
			if (m->type == PB_EV_PROBE_RETURN || m->type == PB_EV_PROBE_ENTRY)
				break;
			if (m->type == PB_EV_CONSOLE &&
			    pb_parse_probe_line(m->msg, p.device, sizeof(p.device), &rv, &us) == 0)
				break;
		}
		p.node = node_of_cpu(in, p.cpu);
		p.writer_migrations = migrations_in(in, e->pid, p.start_ns, e->ts);
		comm_of(in, e->pid, p.comm);
		int r = add_probe(out, cap, &p);
		if (r < 0)
			return r;
	}
	return 0;
}

static int probes_from_kmsg(const struct pb_assemble_in *in, struct pb_iteration_facts *out,
			    size_t *cap)
{
	for (size_t i = 0; i < in->n_kmsg; i++) {
		struct pb_probe_fact p = {.cpu = -1,
					  .node = -1,
					  .pid = in->writer_tid,
					  .task_measured = false,
					  .method = PB_METHOD_KMSG};
		uint64_t us;
		if (pb_parse_probe_line(in->kmsg_lines[i], p.device, sizeof(p.device), &p.ret,
					&us) < 0 ||
		    belongs(in, p.device) == 0) /* another device's probe in the window */
			continue;
		p.ret_known = true;
		p.duration_ns = us * 1000;
		/*
		 * The kmsg stamp is the kernel's local clock, not CLOCK_MONOTONIC: keep it only
		 * where it falls inside the write, else place the probe to end with the write.
		 */
		uint64_t end = in->kmsg_ts_us ? in->kmsg_ts_us[i] * 1000 : 0;
		if (end < in->t0 || end > in->t1)
			end = in->t1;
		p.start_ns = end > p.duration_ns ? end - p.duration_ns : 0;
		p.start_exact = false;
		int r = add_probe(out, cap, &p);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Adds one mm_page_alloc record (2^order pages) to a by-node tally; returns the node, or -1 when
 * its pfn is on no known node (counted in *unknown).
 */
static int add_pages(const struct pb_assemble_in *in, const struct pb_mevent *e, uint64_t *by_node,
		     uint64_t *unknown, unsigned *n_nodes, uint64_t *pages_out)
{
	uint64_t pages = 1ull << (e->page.order > 20 ? 20 : e->page.order);
	int node;
	*pages_out = 0;
	if (e->page.pfn == UINT64_MAX)
		return -1; /* a failed allocation: the tracepoint's pfn is -1, no page was taken */
	node = pb_pfnmap_node(in->pfnmap, e->page.pfn);
	*pages_out = pages;
	if (node < 0 || node >= PB_MEASURE_MAX_NODES) {
		*unknown += pages;
		return -1;
	}
	by_node[node] += pages;
	if ((unsigned)node + 1 > *n_nodes)
		*n_nodes = node + 1;
	return node;
}

/* Inside a probe of the bind, in the task that ran it (a probe attributed by its device). */
static bool in_probe(const struct pb_iteration_facts *out, pid_t pid, uint64_t ts)
{
	for (size_t i = 0; i < out->n_probes; i++) {
		const struct pb_probe_fact *p = &out->probes[i];
		pid_t task = p->hop && !p->hop_whole_probe ? p->origin_pid : p->pid;
		if (task == pid && ts >= p->window_start_ns && ts <= p->start_ns + p->duration_ns)
			return true;
	}
	return false;
}

/*
 * The probe's blocks (out->held: every block counted in pages_by_node) against the window's page
 * frees: pages freed again inside the window by node, and only the blocks still (partly) held
 * kept in out->held.
 */
static int window_frees(const struct pb_assemble_in *in, struct pb_iteration_facts *out)
{
	int r = pb_blocks_apply_frees(out->held, out->n_held, in->ev, in->n);
	if (r < 0)
		return r;
	size_t k = 0;
	for (size_t i = 0; i < out->n_held; i++) {
		struct pb_page_block *b = &out->held[i];
		out->pages_freed_total += b->freed;
		if (b->node >= 0 && b->node < PB_MEASURE_MAX_NODES)
			out->pages_freed_by_node[b->node] += b->freed;
		if (b->freed < (UINT64_C(1) << b->order))
			out->held[k++] = *b;
	}
	out->n_held = k;
	out->frees_measured = true;
	return 0;
}

static int memory_facts(const struct ctx *c, struct pb_iteration_facts *out)
{
	const struct pb_assemble_in *in = c->in;
	uint64_t local = 0, known = 0;
	size_t cap_held = 0;
	out->memory_measured = true;
	out->pfn_map_source = in->pfnmap->source;
	out->n_nodes = in->pfnmap->n_nodes;
	for (size_t i = 0; i < in->n; i++) {
		const struct pb_mevent *e = &in->ev[i];
		if (e->irq || !(probing_task_at(c, e->pid, e->ts) || in_probe(out, e->pid, e->ts)))
			continue;
		if (e->type == PB_EV_PAGE_ALLOC) {
			uint64_t pages;
			int node = add_pages(in, e, out->pages_by_node, &out->pages_unknown_node,
					     &out->n_nodes, &pages);
			out->pages_total += pages;
			if (pages && in->frees) {
				if (out->n_held == cap_held) {
					size_t nc = cap_held ? 2 * cap_held : 64;
					void *q = realloc(out->held, nc * sizeof(*out->held));
					if (!q)
						return -ENOMEM;
					out->held = q;
					cap_held = nc;
				}
				out->held[out->n_held++] =
				    (struct pb_page_block){.pfn = e->page.pfn,
							   .order = e->page.order,
							   .node = node,
							   .ts = e->ts};
			}
			if (node < 0)
				continue;
			known += pages;
			if (node == in->device_node)
				local += pages;
		} else if (e->type == PB_EV_SLAB_ALLOC) {
			int node = node_of_cpu(in, e->cpu);
			if (node < 0 || node >= PB_MEASURE_MAX_NODES)
				continue;
			out->slab_allocs_by_node[node]++;
			out->slab_bytes_by_node[node] += e->slab.bytes;
			if ((unsigned)node + 1 > out->n_nodes)
				out->n_nodes = node + 1;
		}
	}
	out->local_ratio = (known && in->device_node >= 0) ? (double)local / (double)known : -1;
	if (in->frees) {
		int r = window_frees(in, out);
		if (r < 0)
			return r;
	}

	/* Per probe: its own tasks inside it (a depth-0 probe includes its nested ones). */
	for (size_t k = 0; k < out->n_probes; k++) {
		struct pb_probe_fact *p = &out->probes[k];
		pid_t origin = p->hop ? p->origin_pid : p->pid;
		uint64_t pe = p->start_ns + p->duration_ns;
		uint64_t he = p->hop_start_ns + p->hop_duration_ns;
		p->pages_measured = true;
		p->n_page_nodes = out->n_nodes;
		for (size_t i = 0; i < in->n; i++) {
			const struct pb_mevent *e = &in->ev[i];
			if (e->type != PB_EV_PAGE_ALLOC || e->irq)
				continue;
			bool mine =
			    (e->pid == origin && e->ts >= p->window_start_ns && e->ts <= pe) ||
			    (p->hop && e->pid == p->hop_pid && e->ts >= p->hop_start_ns &&
			     e->ts <= he);
			uint64_t pages;
			if (mine)
				add_pages(in, e, p->pages_by_node, &p->pages_unknown_node,
					  &p->n_page_nodes, &pages);
		}
	}
	return 0;
}

int pb_measure_assemble(const struct pb_assemble_in *in, struct pb_iteration_facts *out)
{
	struct ctx c = {.in = in};
	size_t cap = 0;
	int r;

	out->method = in->method;
	out->write_start_ns = in->t0;
	out->write_end_ns = in->t1;
	out->writer_tid = in->writer_tid;
	out->device_node = in->device_node;
	out->local_ratio = -1;
	out->pfn_map_source = "none";

	r = find_hops(&c);
	if (r < 0)
		return r;

	switch (in->method) {
	case PB_METHOD_KPROBE:
		r = probes_from_kprobes(&c, out, &cap);
		break;
	case PB_METHOD_TRACEPOINT:
		r = probes_from_console(&c, out, &cap);
		break;
	case PB_METHOD_KMSG:
		r = probes_from_kmsg(in, out, &cap);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0)
		goto fail;
	set_depths(in, out);
	set_windows(in, out);
	if (in->method != PB_METHOD_KMSG) {
		attach_hops(&c, out);
		attach_wakeup_hops(&c, out);
	}
	for (size_t i = 0; i < out->n_probes; i++) {
		struct pb_probe_fact *p = &out->probes[i];
		/* really_probe() hands a driver's error up negated (positive), and initcall_debug
		 * prints that: the driver's own ->probe value is the negative one. */
		if (p->ret_known && p->ret > 0)
			p->ret = -p->ret;
		p->device_node = in->device_node;
		p->on_device_node =
		    (p->node < 0 || in->device_node < 0) ? -1 : p->node == in->device_node;
		if (!p->device[0] && p->depth == 0 && in->target_name)
			snprintf(p->device, sizeof(p->device), "%s", in->target_name);
	}
	if (in->pfnmap && in->method != PB_METHOD_KMSG && (r = memory_facts(&c, out)) < 0)
		goto fail;
	free(c.hops);
	return 0;
fail:
	free(c.hops);
	free(out->probes);
	out->probes = NULL;
	out->n_probes = 0;
	free(out->held);
	out->held = NULL;
	out->n_held = 0;
	return r;
}

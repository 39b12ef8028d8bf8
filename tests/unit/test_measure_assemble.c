// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "probebench/measure.h"
#include "probebench/record.h"

#define WRITER	100
#define KWORKER 200
#define US	1000ull

static struct pb_mevent evs[64];
static size_t nev;

static struct pb_mevent *add(enum pb_mevent_type t, uint64_t ts, int cpu, pid_t pid)
{
	struct pb_mevent *e = &evs[nev++];
	memset(e, 0, sizeof(*e));
	e->type = t;
	e->ts = ts;
	e->cpu = cpu;
	e->pid = pid;
	return e;
}

static void wq(enum pb_mevent_type t, uint64_t ts, int cpu, pid_t pid, uint64_t work,
	       const char *fn)
{
	struct pb_mevent *e = add(t, ts, cpu, pid);
	e->wq.work = work;
	snprintf(e->wq.fn, sizeof(e->wq.fn), "%s", fn);
}

static void console(uint64_t ts, int cpu, pid_t pid, const char *msg)
{
	snprintf(add(PB_EV_CONSOLE, ts, cpu, pid)->msg, sizeof(evs[0].msg), "%s", msg);
}

static void sw(uint64_t ts, int cpu, pid_t prev, const char *pc, pid_t next, const char *nc)
{
	struct pb_mevent *e = add(PB_EV_SWITCH, ts, cpu, prev);
	e->sw.prev_state = 2;			 /* blocked (D); a preemption is set by the test */
	e->sw.prev_prio = e->sw.next_prio = 120; /* SCHED_NORMAL */
	e->sw.prev_pid = prev;
	e->sw.next_pid = next;
	snprintf(e->sw.prev_comm, 16, "%s", pc);
	snprintf(e->sw.next_comm, 16, "%s", nc);
}

static void page(uint64_t ts, int cpu, pid_t pid, uint64_t pfn, unsigned order, bool irq)
{
	struct pb_mevent *e = add(PB_EV_PAGE_ALLOC, ts, cpu, pid);
	e->page.pfn = pfn;
	e->page.order = order;
	e->irq = irq;
}

static void wake(uint64_t ts, int cpu, pid_t waker, pid_t wakee)
{
	add(PB_EV_WAKEUP, ts, cpu, waker)->wake.pid = wakee;
}

static int cmp_ts(const void *a, const void *b)
{
	const struct pb_mevent *x = a, *y = b;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static void qsort_events(void)
{
	qsort(evs, nev, sizeof(evs[0]), cmp_ts);
}

static const int cpu_node[4] = {0, 0, 1, 1};
static struct pb_pfn_range ranges[2] = {{0, 1000, 0}, {1000, 2000, 1}};
static struct pb_pfnmap pfnmap = {.r = ranges, .n = 2, .source = "memory_blocks", .n_nodes = 2};

static struct pb_assemble_in input(enum pb_measure_method m)
{
	return (struct pb_assemble_in){.ev = evs,
				       .n = nev,
				       .method = m,
				       .writer_tid = WRITER,
				       .t0 = 1000 * US,
				       .t1 = 2000 * US,
				       .target_name = "0000:01:00.0",
				       .device_node = 1,
				       .cpu_node = cpu_node,
				       .n_cpus = 4,
				       .pfnmap = &pfnmap};
}

static const struct pb_probe_fact *find(const struct pb_iteration_facts *f, const char *dev)
{
	for (size_t i = 0; i < f->n_probes; i++)
		if (!strcmp(f->probes[i].device, dev))
			return &f->probes[i];
	return NULL;
}

/*
 * NUMA guest shape: the writer (CPU 0) runs really_probe of the PCI function, which hops with
 * work_on_cpu to a kworker on CPU 2 (node 1); the virtio child's really_probe runs in that
 * kworker. A deferred-probe work queued by the writer runs after the write: not a hop.
 */
static void pci_hop_and_child(void **state)
{
	(void)state;
	nev = 0;
	sw(1001 * US, 0, 1, "idle", WRITER, "probebench");
	wq(PB_EV_WQ_QUEUE, 1010 * US, 0, WRITER, 0xaa, "work_for_cpu_fn");
	sw(1011 * US, 0, WRITER, "probebench", 1, "idle");
	sw(1015 * US, 2, 1, "idle", KWORKER, "kworker/2:1");
	wq(PB_EV_WQ_START, 1020 * US, 2, KWORKER, 0xaa, "work_for_cpu_fn");
	page(1100 * US, 2, KWORKER, 1500, 2, false);	     /* 4 pages on node 1 */
	page(1110 * US, 2, KWORKER, 10, 0, false);	     /* 1 page on node 0 */
	page(1120 * US, 2, KWORKER, 5000, 0, false);	     /* 1 page on no node */
	page(1130 * US, 2, KWORKER, 1200, 3, true);	     /* irq: dropped */
	page(1140 * US, 3, 999, 1200, 3, false);	     /* another task: dropped */
	sw(1300 * US, 2, KWORKER, "kworker/2:1", 1, "idle"); /* the worker sleeps 100 us */
	sw(1400 * US, 2, 1, "idle", KWORKER, "kworker/2:1");
	console(1600 * US, 2, KWORKER, "probe of virtio7 returned 0 after 400 usecs");
	wq(PB_EV_WQ_END, 1700 * US, 2, KWORKER, 0xaa, "work_for_cpu_fn");
	wake(1701 * US, 2, KWORKER, WRITER);	     /* the flush barrier */
	page(1750 * US, 2, KWORKER, 1300, 0, false); /* worker after the hop: dropped */
	page(1760 * US, 0, WRITER, 1400, 0, false);  /* writer in the window: 1 page node 1 */
	wq(PB_EV_WQ_QUEUE, 1790 * US, 0, WRITER, 0xbb, "deferred_probe_work_func");
	console(1800 * US, 0, WRITER, "probe of 0000:01:00.0 returned 0 after 795 usecs");
	wq(PB_EV_WQ_START, 2100 * US, 1, 300, 0xbb, "deferred_probe_work_func");
	wq(PB_EV_WQ_END, 2101 * US, 1, 300, 0xbb, "deferred_probe_work_func");

	struct pb_assemble_in in = input(PB_METHOD_TRACEPOINT);
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 2);
	const struct pb_probe_fact *pci = find(&f, "0000:01:00.0"), *child = find(&f, "virtio7");
	assert_non_null(pci);
	assert_non_null(child);
	assert_int_equal(pci->depth, 0);
	assert_int_equal(child->depth, 1);
	assert_true(pci->hop);
	assert_string_equal(pci->hop_function, "work_for_cpu_fn");
	assert_int_equal(pci->pid, KWORKER);
	assert_string_equal(pci->comm, "kworker/2:1");
	assert_int_equal(pci->cpu, 2);
	assert_int_equal(pci->node, 1);
	assert_int_equal(pci->on_device_node, 1);
	assert_true(pci->hop_duration_ns == 680 * US);
	assert_true(pci->hop_queue_ns == 1010 * US);
	/* worker on a CPU from execute_start (1020) to 1300 and from 1400 to execute_end (1700) */
	assert_true(pci->hop_on_cpu_ns == 580 * US);
	assert_int_equal(pci->hop_switches, 1);
	assert_int_equal(pci->hop_migrations, 0);
	assert_true(pci->duration_ns == 795 * US);
	assert_true(pci->start_ns == 1005 * US);
	assert_false(child->hop);
	assert_int_equal(child->pid, KWORKER);
	assert_int_equal(child->cpu, 2);
	assert_true(child->duration_ns == 400 * US);
	assert_true(child->ret_known && child->ret == 0);
	/* Pages: 4 + 1 (node 1) from the worker and the writer, 1 on node 0, 1 unknown. */
	assert_true(f.memory_measured);
	assert_true(f.pages_by_node[0] == 1);
	assert_true(f.pages_by_node[1] == 5);
	assert_true(f.pages_unknown_node == 1);
	assert_true(f.pages_total == 7);
	assert_true(f.local_ratio > 0.83 && f.local_ratio < 0.84);
	/* Per probe: the PCI probe holds every page of its window (worker in the hop, writer in
	 * the probe); the child's window (1200..1600 us) has none. */
	assert_true(pci->pages_measured && child->pages_measured);
	assert_true(pci->pages_by_node[1] == 5 && pci->pages_by_node[0] == 1);
	assert_true(pci->pages_unknown_node == 1);
	assert_true(child->pages_by_node[0] == 0 && child->pages_by_node[1] == 0);
	assert_true(child->pages_unknown_node == 0);
	struct json_object *j = pb_iteration_facts_to_json(&f);
	assert_non_null(j);
	json_object_put(j);
	pb_iteration_facts_clear(&f);
}

/* Names only label: a work the prober waited for is a hop whatever its function (the observer
 * names it later from kallsyms); a short one it waited for inside the probe is not. */
static void hop_by_wait(void **state)
{
	(void)state;
	nev = 0;
	wq(PB_EV_WQ_QUEUE, 1010 * US, 0, WRITER, 0xaa, "");
	sw(1011 * US, 0, WRITER, "probebench", 1, "idle");
	sw(1015 * US, 2, 1, "idle", KWORKER, "kworker/2:1");
	wq(PB_EV_WQ_START, 1020 * US, 2, KWORKER, 0xaa, "");
	wq(PB_EV_WQ_END, 1700 * US, 2, KWORKER, 0xaa, "");
	wake(1700 * US, 2, KWORKER, WRITER); /* the flush barrier */
	sw(1701 * US, 0, 1, "idle", WRITER, "probebench");
	/* A second work the writer did not wait for (it kept running): not a hop. */
	wq(PB_EV_WQ_QUEUE, 1710 * US, 0, WRITER, 0xbb, "");
	wq(PB_EV_WQ_START, 1720 * US, 1, 300, 0xbb, "");
	wq(PB_EV_WQ_END, 1730 * US, 1, 300, 0xbb, "");
	console(1800 * US, 0, WRITER, "probe of 0000:01:00.0 returned 0 after 795 usecs");
	struct pb_assemble_in in = input(PB_METHOD_TRACEPOINT);
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 1);
	assert_true(f.probes[0].hop);
	assert_int_equal(f.probes[0].hop_pid, KWORKER);
	assert_string_equal(f.probes[0].hop_function, "");
	assert_int_equal(f.probes[0].pid, KWORKER);
	pb_iteration_facts_clear(&f);
	/* The writer was only preempted (R+), it did not wait: no hop. */
	evs[1].sw.prev_state = 0x100;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_false(f.probes[0].hop);
	evs[1].sw.prev_state = 2;
	/* Same events, but the writer runs during the work: no hop. */
	for (size_t i = 0; i < nev; i++)
		if (evs[i].type == PB_EV_SWITCH && evs[i].sw.next_pid == WRITER)
			evs[i].ts = 1500 * US;
	qsort_events();
	pb_iteration_facts_clear(&f);
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_false(f.probes[0].hop);
	pb_iteration_facts_clear(&f);
	/* A short work the writer waited for inside the probe (a cache drain: 20 us of 795): not
	 * the probe's body, not a hop, neither as a work nor as a wake-up; the probe stays in the
	 * writer. */
	nev = 0;
	wq(PB_EV_WQ_QUEUE, 1010 * US, 0, WRITER, 0xaa, "drain_local_pages_wq");
	wake(1010 * US, 0, WRITER, KWORKER); /* queueing wakes the worker */
	sw(1011 * US, 0, WRITER, "probebench", 1, "idle");
	evs[nev - 1].sw.prev_state = 2; /* blocked in flush_work */
	sw(1015 * US, 2, 1, "idle", KWORKER, "kworker/2:1");
	wq(PB_EV_WQ_START, 1020 * US, 2, KWORKER, 0xaa, "drain_local_pages_wq");
	wq(PB_EV_WQ_END, 1040 * US, 2, KWORKER, 0xaa, "drain_local_pages_wq");
	wake(1040 * US, 2, KWORKER, WRITER); /* the flush barrier wakes the writer */
	sw(1041 * US, 0, 1, "idle", WRITER, "probebench");
	console(1800 * US, 0, WRITER, "probe of 0000:01:00.0 returned 0 after 795 usecs");
	in = input(PB_METHOD_TRACEPOINT);
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 1);
	assert_false(f.probes[0].hop);
	assert_int_equal(f.probes[0].pid, WRITER);
	pb_iteration_facts_clear(&f);
}

/* Host shape: no hop, both probes in the writer; a probe logged by another task is ignored. */
static void in_writer_probes(void **state)
{
	(void)state;
	nev = 0;
	sw(1001 * US, 1, 1, "idle", WRITER, "probebench");
	struct pb_mevent *m = add(PB_EV_MIGRATE, 1300 * US, 0, WRITER);
	m->mig.pid = WRITER;
	m->mig.dest_cpu = 1;
	console(1500 * US, 1, 555, "probe of sda returned 0 after 10 usecs");
	console(1700 * US, 1, WRITER, "probe of virtio4 returned 0 after 300 usecs");
	console(1710 * US, 1, WRITER, "probe of 0000:00:05.0 returned -19 after 700 usecs");
	console(2500 * US, 1, WRITER, "probe of late returned 0 after 1 usecs"); /* after write */
	struct pb_assemble_in in = input(PB_METHOD_TRACEPOINT);
	in.device_node = -1;
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 2);
	const struct pb_probe_fact *pci = find(&f, "0000:00:05.0"), *child = find(&f, "virtio4");
	assert_non_null(pci);
	assert_non_null(child);
	assert_int_equal(pci->pid, WRITER);
	assert_string_equal(pci->comm, "probebench");
	assert_int_equal(pci->ret, -19);
	assert_int_equal(pci->on_device_node, -1);
	assert_int_equal(child->depth, 1);
	assert_int_equal(pci->writer_migrations, 1);
	assert_int_equal(child->writer_migrations, 0);
	assert_false(pci->start_exact);
	pb_iteration_facts_clear(&f);
}

/* kprobe shape: nested entry/return pairs; an unmatched return (entry before window) dropped. */
static void kprobe_pairs(void **state)
{
	(void)state;
	nev = 0;
	add(PB_EV_PROBE_RETURN, 1001 * US, 0, WRITER);
	add(PB_EV_PROBE_ENTRY, 1010 * US, 0, WRITER);
	add(PB_EV_PROBE_ENTRY, 1200 * US, 0, WRITER);
	struct pb_mevent *r = add(PB_EV_PROBE_RETURN, 1500 * US, 0, WRITER);
	r->kret.ret = 0;
	r->kret.ret_known = true;
	console(1501 * US, 0, WRITER, "probe of virtio4 returned 0 after 300 usecs");
	r = add(PB_EV_PROBE_RETURN, 1900 * US, 1, WRITER);
	r->kret.ret = -12;
	r->kret.ret_known = true;
	struct pb_assemble_in in = input(PB_METHOD_KPROBE);
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 2);
	const struct pb_probe_fact *child = find(&f, "virtio4");
	const struct pb_probe_fact *pci = find(&f, "0000:01:00.0"); /* named by depth 0 */
	assert_non_null(child);
	assert_non_null(pci);
	assert_true(child->start_exact);
	assert_true(child->duration_ns == 300 * US);
	assert_true(pci->duration_ns == 890 * US);
	assert_int_equal(pci->ret, -12);
	assert_int_equal(pci->cpu, 1);
	assert_int_equal(child->depth, 1);
	pb_iteration_facts_clear(&f);
}

static struct pb_mevent *entry(uint64_t ts, int cpu, pid_t pid, const char *dev)
{
	struct pb_mevent *e = add(PB_EV_PROBE_ENTRY, ts, cpu, pid);
	snprintf(e->kp.dev, sizeof(e->kp.dev), "%s", dev);
	snprintf(e->kp.drv, sizeof(e->kp.drv), "pbtest");
	return e;
}

static void ret(uint64_t ts, int cpu, pid_t pid, int rv)
{
	struct pb_mevent *r = add(PB_EV_PROBE_RETURN, ts, cpu, pid);
	r->kret.ret = rv;
	r->kret.ret_known = true;
}

/* The target is pbtest1 and devices named pbtest1.*; other names are another target's. */
static int test_belongs(const char *name, void *ud)
{
	(void)ud;
	if (!strncmp(name, "pbtest1", 7))
		return name[7] == 0 || name[7] == '.';
	return strncmp(name, "pbtest", 6) ? -1 : 0;
}

static struct pb_assemble_in pbtest_input(enum pb_measure_method m)
{
	struct pb_assemble_in in = input(m);
	in.target_name = "pbtest1";
	in.belongs = test_belongs;
	return in;
}

/*
 * The seed's shape: the writer queues a work of a name no list knows and waits; really_probe
 * itself runs in an unbound worker on node 1. The probe is the worker's (task, CPU, node), the
 * hop moved it whole, its origin is the writer.
 */
static void seed_shape(void **state)
{
	(void)state;
	nev = 0;
	wq(PB_EV_WQ_QUEUE, 1010 * US, 0, WRITER, 0xcc, "");
	sw(1011 * US, 0, WRITER, "probebench", 1, "idle");
	sw(1015 * US, 2, 1, "idle", KWORKER, "kworker/u8:3");
	wq(PB_EV_WQ_START, 1020 * US, 2, KWORKER, 0xcc, "");
	entry(1030 * US, 2, KWORKER, "pbtest1");
	page(1100 * US, 2, KWORKER, 1500, 0, false);
	ret(1600 * US, 2, KWORKER, 0);
	wq(PB_EV_WQ_END, 1610 * US, 2, KWORKER, 0xcc, "");
	wake(1620 * US, 2, KWORKER, WRITER);
	sw(1630 * US, 0, 1, "idle", WRITER, "probebench");
	struct pb_assemble_in in = pbtest_input(PB_METHOD_KPROBE);
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 1);
	const struct pb_probe_fact *p = &f.probes[0];
	assert_string_equal(p->device, "pbtest1");
	assert_string_equal(p->driver, "pbtest");
	assert_int_equal(p->pid, KWORKER);
	assert_string_equal(p->comm, "kworker/u8:3");
	assert_int_equal(p->cpu, 2);
	assert_int_equal(p->node, 1);
	assert_true(p->hop);
	assert_true(p->hop_whole_probe);
	assert_int_equal(p->origin_pid, WRITER);
	assert_true(p->hop_function_addr == 0 && !p->hop_function[0]);
	assert_true(p->pages_by_node[1] == 1);
	assert_true(f.pages_by_node[1] == 1);
	pb_iteration_facts_clear(&f);

	/* The worker never woke the writer and the writer was back on a CPU meanwhile: no wait
	 * seen. The work still ended before the write returned, queued by the writer outside any
	 * probe of its own: the probe moved, a hop all the same. */
	for (size_t i = 0; i < nev; i++)
		if (evs[i].type == PB_EV_WAKEUP)
			evs[i].wake.pid = 4242;
		else if (evs[i].type == PB_EV_SWITCH && evs[i].sw.next_pid == WRITER)
			evs[i].ts = 1012 * US, evs[i].sw.prev_pid = 1;
	qsort_events();
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 1);
	assert_true(f.probes[0].hop && f.probes[0].hop_whole_probe);
	assert_int_equal(f.probes[0].pid, KWORKER);
	assert_int_equal(f.probes[0].origin_pid, WRITER);
	pb_iteration_facts_clear(&f);
}

/*
 * --parallel: two binds overlap. A probe of the other target (pbtest0) in another task inside
 * this window is not this bind's; this target's child in an unrelated task is; a nameless probe
 * of an unknown task is not.
 */
static void parallel_attribution(void **state)
{
	(void)state;
	nev = 0;
	entry(1010 * US, 0, WRITER, "pbtest1");
	entry(1050 * US, 2, 300, "pbtest0");
	entry(1100 * US, 0, WRITER, "pbtest1.c0");
	ret(1200 * US, 0, WRITER, 0);
	entry(1300 * US, 3, 301, "pbtest1.c1");	   /* async child in a kthread */
	add(PB_EV_PROBE_ENTRY, 1310 * US, 1, 302); /* no name, not a probing task */
	ret(1400 * US, 3, 301, 0);
	ret(1410 * US, 1, 302, 0);
	ret(1500 * US, 2, 300, 0);
	ret(1900 * US, 0, WRITER, 0);
	struct pb_assemble_in in = pbtest_input(PB_METHOD_KPROBE);
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 3);
	assert_null(find(&f, "pbtest0"));
	assert_non_null(find(&f, "pbtest1"));
	assert_int_equal(find(&f, "pbtest1.c0")->depth, 1);
	assert_int_equal(find(&f, "pbtest1.c1")->pid, 301);
	assert_int_equal(find(&f, "pbtest1.c1")->cpu, 3);
	pb_iteration_facts_clear(&f);

	/* kmsg: another device's line in the window is not this bind's. */
	nev = 0;
	const char *lines[] = {"probe of pbtest0 returned 0 after 250 usecs",
			       "probe of pbtest1 returned 0 after 600 usecs"};
	uint64_t ts[] = {1500, 1600};
	in = pbtest_input(PB_METHOD_KMSG);
	in.kmsg_lines = lines;
	in.kmsg_ts_us = ts;
	in.n_kmsg = 2;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 1);
	assert_string_equal(f.probes[0].device, "pbtest1");
	pb_iteration_facts_clear(&f);
}

/*
 * The probe starts a kthread on node 1, wakes it and waits: no work at all. The kthread woke
 * the writer after 500 us of a 700 us probe: a wake-up hop, the kthread's task and CPU, its
 * pages. A timer's wake-up (irq) of a sleeping probe is not a hop.
 */
static void kthread_hop(void **state)
{
	(void)state;
	nev = 0;
	entry(1100 * US, 0, WRITER, "pbtest1");
	wake(1150 * US, 0, WRITER, 77);	 /* the probe wakes its kthread */
	wake(1155 * US, 0, WRITER, 999); /* an interrupt while it runs wakes some task: */
	evs[nev - 1].irq = true;	 /* not the probe's doing */
	sw(1160 * US, 0, WRITER, "probebench", 1, "idle");
	evs[nev - 1].sw.prev_state = 2; /* TASK_UNINTERRUPTIBLE */
	sw(1165 * US, 3, 1, "idle", 77, "pbtest_kthread");
	page(1200 * US, 3, 77, 1600, 1, false);
	wake(1660 * US, 3, 77, WRITER);
	sw(1670 * US, 0, 1, "idle", WRITER, "probebench");
	ret(1800 * US, 0, WRITER, 0);
	struct pb_assemble_in in = pbtest_input(PB_METHOD_KPROBE);
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 1);
	const struct pb_probe_fact *p = &f.probes[0];
	assert_true(p->hop);
	assert_string_equal(p->hop_function, "wake-up");
	assert_int_equal(p->pid, 77);
	assert_string_equal(p->comm, "pbtest_kthread");
	assert_int_equal(p->cpu, 3);
	assert_int_equal(p->node, 1);
	assert_int_equal(p->origin_pid, WRITER);
	assert_true(p->pages_by_node[1] == 2);
	assert_true(f.pages_by_node[1] == 2);
	pb_iteration_facts_clear(&f);

	/* PREEMPT_RT: an irq thread the probe created (request_irq woke it); the device's
	 * interrupt wakes the thread, which completes the probe's wait. The probe woke another task
	 * last before waiting, one that wakes it back later: the thread did not run for it. */
	nev = 0;
	entry(1100 * US, 0, WRITER, "pbtest1");
	wake(1120 * US, 0, WRITER, 88);	 /* request_irq() starts irq/54-pbtest1 */
	wake(1200 * US, 0, WRITER, 300); /* something else since */
	wake(1700 * US, 2, 300, WRITER);
	sw(1300 * US, 0, WRITER, "probebench", 1, "idle");
	wake(1500 * US, 3, 1, 88);
	evs[nev - 1].irq = true; /* the hard irq wakes its thread */
	sw(1501 * US, 3, 1, "idle", 88, "irq/54-pbtest1");
	wake(1510 * US, 3, 88, WRITER);
	sw(1520 * US, 0, 1, "idle", WRITER, "probebench");
	ret(1800 * US, 0, WRITER, 0);
	qsort_events();
	in.n = nev;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_false(f.probes[0].hop);
	assert_int_equal(f.probes[0].pid, WRITER);
	pb_iteration_facts_clear(&f);
	/* The same thread the last the probe woke (nothing else since request_irq): it runs at a
	 * real-time priority (SCHED_FIFO 50: kernel priority 49) by the time it wakes the probe,
	 * though it started at a normal one: an interrupt thread, no hop. */
	sw(1125 * US, 2, 1, "idle", 88, "irq/54-pbtest1"); /* its first run, still prio 120 */
	sw(1126 * US, 2, 88, "irq/54-pbtest1", 1, "idle");
	qsort_events();
	in.n = nev;
	for (size_t i = 0; i < nev; i++)
		if (evs[i].type == PB_EV_WAKEUP && evs[i].wake.pid == 300)
			evs[i].wake.pid = 88;
		else if (evs[i].type == PB_EV_SWITCH && evs[i].sw.next_pid == 88 &&
			 evs[i].ts > 1126 * US)
			evs[i].sw.next_prio = 49;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_false(f.probes[0].hop);
	pb_iteration_facts_clear(&f);

	/* A new thread's start-up handshake (the probe wakes it and waits 50 us for it to say it
	 * runs, as request_irq does on PREEMPT_RT) in a 700 us probe: not the probe's body. It
	 * stays one when the new thread waits 4 ms for a CPU: 50 us of running against the 700 us
	 * of the probe's own. */
	in.t1 = 7000 * US;
	for (uint64_t late = 0; late <= 4000 * US; late += 4000 * US) {
		nev = 0;
		entry(1100 * US, 0, WRITER, "pbtest1");
		wake(1300 * US, 0, WRITER, 88);
		sw(1301 * US, 0, WRITER, "probebench", 1, "idle");
		sw(late + 1302 * US, 2, 1, "idle", 88, "irq/54-pbtest1");
		wake(late + 1351 * US, 2, 88, WRITER);
		sw(late + 1352 * US, 0, 1, "idle", WRITER, "probebench");
		ret(late + 1800 * US, 0, WRITER, 0);
		in.n = nev;
		f = (struct pb_iteration_facts){0};
		assert_int_equal(pb_measure_assemble(&in, &f), 0);
		assert_false(f.probes[0].hop);
		pb_iteration_facts_clear(&f);
	}
	in.t1 = 2000 * US;

	/* The probe's CPU stalls right after it woke its kthread (a preempted vCPU: no switch
	 * shows it): the body ran and completed before the probe came to wait, so the probe
	 * waits only for the thread's exit (kthread_stop), a short wait. The thread ran the
	 * body for it all the same: the hop, from the thread's first run to its wake-up. */
	nev = 0;
	entry(1100 * US, 0, WRITER, "pbtest1");
	wake(1150 * US, 0, WRITER, 77);
	sw(1165 * US, 3, 1, "idle", 77, "pbtest_kthread");
	page(1200 * US, 3, 77, 1600, 1, false);
	sw(1700 * US, 0, WRITER, "probebench", 1, "idle"); /* kthread_stop() waits */
	wake(1710 * US, 3, 77, WRITER);			   /* the thread exits */
	sw(1711 * US, 0, 1, "idle", WRITER, "probebench");
	ret(1750 * US, 0, WRITER, 0);
	in.n = nev;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_true(f.probes[0].hop);
	assert_int_equal(f.probes[0].pid, 77);
	assert_true(f.probes[0].hop_start_ns == 1165 * US);
	assert_true(f.probes[0].pages_by_node[1] == 2);
	pb_iteration_facts_clear(&f);

	/* 6.1-rt: on its way out of a timer interrupt, right after waking its kthread, the
	 * probe's task wakes rcuc/0 and ksoftirqd/0, which run and sleep again before it waits.
	 * They never wake it back: the kthread is still the last task it handed work to. */
	nev = 0;
	entry(1100 * US, 0, WRITER, "pbtest1");
	wake(1150 * US, 0, WRITER, 77);
	wake(1152 * US, 0, WRITER, 45);
	wake(1153 * US, 0, WRITER, 47);
	sw(1154 * US, 0, WRITER, "probebench", 45, "rcuc/0");
	evs[nev - 1].sw.prev_state = 256; /* preempted */
	sw(1155 * US, 0, 45, "rcuc/0", 47, "ksoftirqd/0");
	evs[nev - 1].sw.prev_state = 1;
	sw(1156 * US, 0, 47, "ksoftirqd/0", WRITER, "probebench");
	evs[nev - 1].sw.prev_state = 1;
	sw(1160 * US, 0, WRITER, "probebench", 1, "idle");
	evs[nev - 1].sw.prev_state = 2;
	sw(1165 * US, 3, 1, "idle", 77, "pbtest_kthread");
	page(1200 * US, 3, 77, 1600, 1, false);
	wake(1660 * US, 3, 77, WRITER);
	sw(1670 * US, 0, 1, "idle", WRITER, "probebench");
	ret(1800 * US, 0, WRITER, 0);
	in.n = nev;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_true(f.probes[0].hop);
	assert_int_equal(f.probes[0].pid, 77);
	assert_int_equal(f.probes[0].cpu, 3);
	pb_iteration_facts_clear(&f);

	/* 6.1-rt under TCG: the kthread the probe woke got a CPU 4 ms later (its vCPU idle), ran
	 * the body for 1 ms and woke the probe: 1 ms of a 5.3 ms probe, less than a quarter of it,
	 * but a quarter of what is left once the wait for a CPU, which neither task ran, is taken
	 * out. The hop, timed from the thread's first run. */
	nev = 0;
	entry(1100 * US, 0, WRITER, "pbtest1");
	wake(1150 * US, 0, WRITER, 77);
	sw(1160 * US, 0, WRITER, "probebench", 1, "idle");
	evs[nev - 1].sw.prev_state = 2;
	sw(5150 * US, 3, 1, "idle", 77, "pbtest_kthread");
	page(5200 * US, 3, 77, 1600, 1, false);
	wake(6150 * US, 3, 77, WRITER);
	sw(6160 * US, 0, 1, "idle", WRITER, "probebench");
	ret(6400 * US, 0, WRITER, 0);
	in.n = nev;
	in.t1 = 7000 * US;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_true(f.probes[0].hop);
	assert_int_equal(f.probes[0].pid, 77);
	assert_int_equal(f.probes[0].cpu, 3);
	assert_true(f.probes[0].hop_start_ns == 5150 * US);
	pb_iteration_facts_clear(&f);
	/* 6.1-rt under TCG: creating the thread took the probe 1.9 ms of waiting (kthreadd, the
	 * new thread's hello), then the thread waited 1.1 ms for a CPU, ran the body for 0.6 ms
	 * and woke the probe, 3.7 ms after it began: the body's run is measured against what was
	 * left of the probe once both waits are taken out. */
	/* Once waiting for kthreadd, once preempted by it (R+). */
	for (int preempted = 0; preempted < 2; preempted++) {
		nev = 0;
		entry(1100 * US, 0, WRITER, "pbtest1");
		wake(1110 * US, 0, WRITER, 2); /* kthread_create_on_node() */
		sw(1111 * US, 0, WRITER, "probebench", 1, "idle");
		evs[nev - 1].sw.prev_state = preempted ? 256 : 2;
		sw(1200 * US, 1, 1, "idle", 2, "kthreadd");
		sw(1300 * US, 1, 2, "kthreadd", 77, "kthreadd");
		evs[nev - 1].sw.prev_state = 1;
		wake(3000 * US, 1, 77, WRITER); /* the new thread says hello */
		sw(3001 * US, 1, 77, "kthreadd", 1, "idle");
		evs[nev - 1].sw.prev_state = 2;
		sw(3010 * US, 0, 1, "idle", WRITER, "probebench");
		wake(3020 * US, 0, WRITER, 77); /* wake_up_process() after kthread_bind() */
		sw(4000 * US, 0, WRITER, "probebench", 1, "idle");
		evs[nev - 1].sw.prev_state = 2;
		sw(4100 * US, 3, 1, "idle", 77, "pbtest_kthread");
		wake(4700 * US, 3, 77, WRITER);
		sw(4710 * US, 0, 1, "idle", WRITER, "probebench");
		ret(4800 * US, 0, WRITER, 0);
		in.n = nev;
		in.t1 = 7000 * US;
		f = (struct pb_iteration_facts){0};
		assert_int_equal(pb_measure_assemble(&in, &f), 0);
		assert_true(f.probes[0].hop);
		assert_int_equal(f.probes[0].pid, 77);
		assert_true(f.probes[0].hop_start_ns == 4100 * US);
		pb_iteration_facts_clear(&f);
	}
	in.t1 = 2000 * US;

	/* The kthread's wait again, ended by a timer (irq context): a sleep, not a hop. */
	nev = 0;
	entry(1100 * US, 0, WRITER, "pbtest1");
	wake(1150 * US, 0, WRITER, 77);
	sw(1160 * US, 0, WRITER, "probebench", 1, "idle");
	sw(1165 * US, 3, 1, "idle", 77, "pbtest_kthread");
	wake(1660 * US, 3, 77, WRITER);
	sw(1670 * US, 0, 1, "idle", WRITER, "probebench");
	ret(1800 * US, 0, WRITER, 0);
	for (size_t i = 0; i < nev; i++)
		if (evs[i].type == PB_EV_WAKEUP && evs[i].wake.pid == WRITER)
			evs[i].irq = true;
	in.n = nev;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_false(f.probes[0].hop);
	assert_int_equal(f.probes[0].pid, WRITER);
	pb_iteration_facts_clear(&f);
}

/*
 * tracepoint: the kernel stamps the end after its own printk, so end - us starts late (here the
 * line comes 300 us after really_probe returned). The depth-0 probe's window reaches back to the
 * write's start: its early pages and the hop it queued right away are still its own.
 */
static void late_printk(void **state)
{
	(void)state;
	nev = 0;
	page(1050 * US, 0, WRITER, 1500, 0, false);
	wq(PB_EV_WQ_QUEUE, 1060 * US, 0, WRITER, 0xaa, "");
	wake(1060 * US, 0, WRITER, KWORKER);
	sw(1061 * US, 0, WRITER, "probebench", 1, "idle");
	evs[nev - 1].sw.prev_state = 2;
	wq(PB_EV_WQ_START, 1070 * US, 2, KWORKER, 0xaa, "");
	sw(1071 * US, 2, 1, "idle", KWORKER, "kworker/2:1");
	wq(PB_EV_WQ_END, 1400 * US, 2, KWORKER, 0xaa, "");
	wake(1401 * US, 2, KWORKER, WRITER);
	console(1800 * US, 0, WRITER, "probe of pbtest1 returned 0 after 450 usecs");
	struct pb_assemble_in in = pbtest_input(PB_METHOD_TRACEPOINT);
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 1);
	const struct pb_probe_fact *p = &f.probes[0];
	assert_true(p->start_ns == 1350 * US && !p->start_exact);
	assert_true(p->window_start_ns == 1000 * US);
	assert_true(p->hop);
	assert_int_equal(p->pid, KWORKER);
	assert_true(p->pages_by_node[1] == 1);
	pb_iteration_facts_clear(&f);
}

/*
 * The seed's shape, the wait unseen: the worker the writer woke preempts it on its CPU and runs
 * the whole probe before the writer runs again, so the writer's wait finds the work done and
 * never blocks (seen on 6.12 with a module load and async probing). The probe still moved as a
 * whole; from inside a probe of the writer's own, the same shape is a driver's asynchronous work
 * (an async child's probe): no hop.
 */
static void preempted_queuer(void **state)
{
	(void)state;
	nev = 0;
	wq(PB_EV_WQ_QUEUE, 1010 * US, 2, WRITER, 0xcc, "");
	wake(1011 * US, 2, WRITER, KWORKER);
	sw(1012 * US, 2, WRITER, "observe_load", KWORKER, "kworker/u18:0");
	evs[nev - 1].sw.prev_state = 0; /* preempted, runnable */
	wq(PB_EV_WQ_START, 1020 * US, 2, KWORKER, 0xcc, "");
	entry(1030 * US, 2, KWORKER, "pbtest1");
	ret(1600 * US, 2, KWORKER, 0);
	wq(PB_EV_WQ_END, 1610 * US, 2, KWORKER, 0xcc, "");
	sw(1620 * US, 2, KWORKER, "kworker/u18:0", WRITER, "observe_load");
	evs[nev - 1].sw.prev_state = 0x80; /* idle */
	struct pb_assemble_in in = pbtest_input(PB_METHOD_KPROBE);
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 1);
	assert_true(f.probes[0].hop && f.probes[0].hop_whole_probe);
	assert_int_equal(f.probes[0].pid, KWORKER);
	assert_int_equal(f.probes[0].origin_pid, WRITER);
	pb_iteration_facts_clear(&f);

	/* The writer is back on a CPU before the work ends (on 6.1-rt under TCG its vCPU stalled
	 * while it was still running), and the write returned only after the work: the probe
	 * moved all the same. */
	sw(1300 * US, 3, 1, "idle", WRITER, "observe_load");
	qsort_events();
	in.n = nev;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_true(f.probes[0].hop && f.probes[0].hop_whole_probe);
	assert_int_equal(f.probes[0].origin_pid, WRITER);
	pb_iteration_facts_clear(&f);
	/* A work that ends after the write returned is no hop (asynchronous probing the writer does
	 * not wait for); the probe in it is the worker's, by its device. */
	in.t1 = 1500 * US;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 0); /* its return came after the window */
	pb_iteration_facts_clear(&f);
	in.t1 = 2000 * US;

	/* Queued from inside the writer's own probe of pbtest1: pbtest1.c0's probe in the work is
	 * an asynchronous child's, not a moved probe. */
	nev = 0;
	entry(1000 * US, 2, WRITER, "pbtest1");
	wq(PB_EV_WQ_QUEUE, 1010 * US, 2, WRITER, 0xcc, "");
	wake(1011 * US, 2, WRITER, KWORKER);
	sw(1012 * US, 2, WRITER, "probebench", KWORKER, "kworker/u18:0");
	evs[nev - 1].sw.prev_state = 0;
	wq(PB_EV_WQ_START, 1020 * US, 2, KWORKER, 0xcc, "");
	entry(1030 * US, 2, KWORKER, "pbtest1.c0");
	ret(1100 * US, 2, KWORKER, 0);
	wq(PB_EV_WQ_END, 1110 * US, 2, KWORKER, 0xcc, "");
	sw(1120 * US, 2, KWORKER, "kworker/u18:0", WRITER, "probebench");
	ret(1700 * US, 2, WRITER, 0);
	in.n = nev;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 2);
	assert_false(find(&f, "pbtest1")->hop);
	assert_false(find(&f, "pbtest1.c0")->hop);
	assert_int_equal(find(&f, "pbtest1.c0")->pid, KWORKER);
	pb_iteration_facts_clear(&f);
}

/* pbtest1.c0 sits below pbtest1 (the test's device tree). */
static int test_below(const char *name, const char *ancestor, void *ud)
{
	(void)ud;
	size_t l = strlen(ancestor);
	return !strncmp(name, ancestor, l) && name[l] == '.';
}

/*
 * The tracepoint method's starts are end stamps minus the kernel's us, and each end stamp is late
 * by however long its printk took to come (a preempted vCPU): the parent's estimated start can
 * fall after the start of the child it created and probed first. Seen in the guest: c0 printed
 * 158 us at +734, c1 4736 us at +5710, the parent 5855 us at +6506, so the parent's estimate
 * (+651) came 76 us after c0's (+576). Both children are still nested, and nesting by the tree
 * holds even when the child ended before the parent's estimated start.
 */
static void lagged_parent_printk(void **state)
{
	(void)state;
	nev = 0;
	console(1734 * US, 0, WRITER, "probe of pbtest1.c0 returned 0 after 158 usecs");
	console(6710 * US, 0, WRITER, "probe of pbtest1.c1 returned 0 after 4736 usecs");
	console(7506 * US, 0, WRITER, "probe of pbtest1 returned 0 after 5855 usecs");
	struct pb_assemble_in in = pbtest_input(PB_METHOD_TRACEPOINT);
	in.t1 = 8000 * US;
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 3);
	assert_int_equal(find(&f, "pbtest1")->depth, 0);
	assert_int_equal(find(&f, "pbtest1.c0")->depth, 1);
	assert_int_equal(find(&f, "pbtest1.c1")->depth, 1);
	pb_iteration_facts_clear(&f);

	/* Later still: c0's end stamp comes before the parent's estimated start. Without the tree
	 * it looks like a probe before the parent's; with it, it is the parent's child. */
	evs[2].ts = 7700 * US;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(find(&f, "pbtest1.c0")->depth, 0);
	pb_iteration_facts_clear(&f);
	in.below = test_below;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(find(&f, "pbtest1")->depth, 0);
	assert_int_equal(find(&f, "pbtest1.c0")->depth, 1);
	assert_int_equal(find(&f, "pbtest1.c1")->depth, 1);
	pb_iteration_facts_clear(&f);

	/* Another task's probe that overlaps the parent's estimate is not its child. */
	evs[0].pid = 555;
	f = (struct pb_iteration_facts){0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(find(&f, "pbtest1.c0")->depth, 0);
	pb_iteration_facts_clear(&f);
}

/* PREEMPT_RT: the writer, waiting for its work, is first woken by a sleeping lock's owner and
 * blocks again; the work's worker wakes it at the end: still the hop. */
static void hop_after_other_wakeup(void **state)
{
	(void)state;
	nev = 0;
	wq(PB_EV_WQ_QUEUE, 1010 * US, 0, WRITER, 0xaa, "");
	wake(1010 * US, 0, WRITER, KWORKER);
	wq(PB_EV_WQ_START, 1012 * US, 2, KWORKER, 0xaa, ""); /* before the writer blocks */
	sw(1015 * US, 0, WRITER, "probebench", 1, "idle");
	wake(1100 * US, 1, 500, WRITER); /* a lock handed over */
	sw(1101 * US, 0, 1, "idle", WRITER, "probebench");
	sw(1110 * US, 0, WRITER, "probebench", 1, "idle");
	wq(PB_EV_WQ_END, 1700 * US, 2, KWORKER, 0xaa, "");
	wake(1701 * US, 2, KWORKER, WRITER);
	sw(1702 * US, 0, 1, "idle", WRITER, "probebench");
	console(1800 * US, 0, WRITER, "probe of 0000:01:00.0 returned 0 after 795 usecs");
	struct pb_assemble_in in = input(PB_METHOD_TRACEPOINT);
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 1);
	assert_true(f.probes[0].hop);
	assert_int_equal(f.probes[0].pid, KWORKER);
	pb_iteration_facts_clear(&f);
}

/* A failed allocation (pfn -1) took no page: counted nowhere, not as unknown either. The
 * probe's failure is reported as the driver returned it (negative). */
static void failed_allocation(void **state)
{
	(void)state;
	nev = 0;
	entry(1100 * US, 0, WRITER, "pbtest1");
	page(1200 * US, 0, WRITER, UINT64_MAX, 4, false);
	page(1300 * US, 0, WRITER, 1500, 0, false);
	ret(1800 * US, 0, WRITER, 12); /* really_probe hands -ENOMEM up as 12 */
	struct pb_assemble_in in = pbtest_input(PB_METHOD_KPROBE);
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_true(f.pages_total == 1);
	assert_true(f.pages_unknown_node == 0);
	assert_true(f.probes[0].pages_unknown_node == 0);
	assert_int_equal(f.probes[0].ret, -12);
	pb_iteration_facts_clear(&f);
}

static void page_free(uint64_t ts, int cpu, pid_t pid, uint64_t pfn, unsigned order)
{
	struct pb_mevent *e = add(PB_EV_PAGE_FREE, ts, cpu, pid);
	e->page.pfn = pfn;
	e->page.order = order;
}

/*
 * Page frees inside the window: the probe's scratch page freed again (by any task, here a
 * softirq of another CPU) is not held; a page freed before it was allocated (the same pfn's
 * previous owner) does not count; half of an order-1 block freed leaves one page held.
 */
static void frees_in_window(void **state)
{
	(void)state;
	nev = 0;
	entry(1100 * US, 0, WRITER, "pbtest1");
	page_free(1150 * US, 3, 999, 1500, 0);	    /* before the probe took it: not the probe's */
	page(1200 * US, 0, WRITER, 1500, 0, false); /* kept: node 1 */
	page(1210 * US, 0, WRITER, 10, 0, false);   /* scratch, freed below: node 0 */
	page(1220 * US, 0, WRITER, 1600, 1, false); /* 2 pages, one freed: node 1 */
	page_free(1300 * US, 2, 555, 10, 0);
	page_free(1310 * US, 0, WRITER, 1601, 0);
	ret(1800 * US, 0, WRITER, 0);
	struct pb_assemble_in in = pbtest_input(PB_METHOD_KPROBE);
	in.frees = true;
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_true(f.pages_total == 4);
	assert_true(f.frees_measured);
	assert_true(f.pages_freed_total == 2);
	assert_true(f.pages_freed_by_node[0] == 1 && f.pages_freed_by_node[1] == 1);
	assert_int_equal(f.n_held, 2); /* 1500 whole, 1600 half */
	assert_true(f.held[0].pfn == 1500 && f.held[0].freed == 0 && f.held[0].node == 1);
	assert_true(f.held[1].pfn == 1600 && f.held[1].order == 1 && f.held[1].freed == 1);
	/* without frees traced: no held list, nothing said about frees */
	pb_iteration_facts_clear(&f);
	f = (struct pb_iteration_facts){0};
	in.frees = false;
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_false(f.frees_measured);
	assert_int_equal(f.n_held, 0);
	assert_null(f.held);
	pb_iteration_facts_clear(&f);
}

static void kmsg_lines(void **state)
{
	(void)state;
	nev = 0;
	const char *lines[] = {"probe of virtio4 returned 0 after 250 usecs", "something else",
			       "probe of 0000:00:05.0 returned 0 after 600 usecs"};
	uint64_t ts[] = {1500, 1, 1600};
	struct pb_assemble_in in = input(PB_METHOD_KMSG);
	in.kmsg_lines = lines;
	in.kmsg_ts_us = ts;
	in.n_kmsg = 3;
	struct pb_iteration_facts f = {0};
	assert_int_equal(pb_measure_assemble(&in, &f), 0);
	assert_int_equal(f.n_probes, 2);
	assert_false(f.probes[0].task_measured);
	assert_int_equal(f.probes[0].cpu, -1);
	assert_true(f.probes[0].start_ns == 1250 * US);
	assert_false(f.memory_measured);
	pb_iteration_facts_clear(&f);
}

static void parsers(void **state)
{
	(void)state;
	char dev[16];
	int ret;
	uint64_t us;
	assert_int_equal(pb_parse_probe_line("probe of virtio4 returned 0 after 1694 usecs", dev,
					     sizeof(dev), &ret, &us),
			 0);
	assert_string_equal(dev, "virtio4");
	assert_true(us == 1694);
	assert_int_equal(
	    pb_parse_probe_line("probe of x returned 0 after", dev, sizeof(dev), &ret, &us),
	    -EINVAL);
	assert_int_equal(
	    pb_parse_probe_line("probe of a-name-far-too-long returned 0 after 1 usecs", dev,
				sizeof(dev), &ret, &us),
	    -ENAMETOOLONG);
	const char *text;
	size_t len;
	assert_int_equal(pb_parse_kmsg_record("7,1234,1866510517,-;probe of virtio4 returned 0 "
					      "after 2569 usecs\n SUBSYSTEM=virtio\n",
					      &us, &text, &len),
			 0);
	assert_true(us == 1866510517ull);
	assert_int_equal((int)len, 44);
	assert_int_equal(pb_parse_kmsg_record("garbage", &us, &text, &len), -EINVAL);
}

static void fallback_order(void **state)
{
	(void)state;
	const char *why[_PB_METHOD_MAX];
	struct pb_measure_caps all = {true, true, true, true, true};
	assert_int_equal(pb_measure_choose(&all, PB_METHOD_AUTO, why), PB_METHOD_KPROBE);
	struct pb_measure_caps host = {false, true, true, true, true};
	assert_int_equal(pb_measure_choose(&host, PB_METHOD_AUTO, why), PB_METHOD_TRACEPOINT);
	assert_non_null(why[PB_METHOD_KPROBE]);
	assert_int_equal(pb_measure_choose(&host, PB_METHOD_KPROBE, why), -ENOTSUP);
	assert_int_equal(pb_measure_choose(&host, PB_METHOD_KMSG, why), PB_METHOD_KMSG);
	struct pb_measure_caps no_console = {false, true, false, true, true};
	assert_int_equal(pb_measure_choose(&no_console, PB_METHOD_AUTO, why), PB_METHOD_KMSG);
	struct pb_measure_caps nothing = {false, false, false, false, true};
	assert_int_equal(pb_measure_choose(&nothing, PB_METHOD_AUTO, why), -ENOTSUP);
	assert_non_null(why[PB_METHOD_KMSG]);
	enum pb_measure_method m;
	assert_int_equal(pb_measure_method_from_name("tracepoint", &m), 0);
	assert_int_equal(m, PB_METHOD_TRACEPOINT);
	assert_int_equal(pb_measure_method_from_name("ebpf", &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pci_hop_and_child),
	    cmocka_unit_test(hop_by_wait),
	    cmocka_unit_test(seed_shape),
	    cmocka_unit_test(preempted_queuer),
	    cmocka_unit_test(parallel_attribution),
	    cmocka_unit_test(kthread_hop),
	    cmocka_unit_test(late_printk),
	    cmocka_unit_test(lagged_parent_printk),
	    cmocka_unit_test(hop_after_other_wakeup),
	    cmocka_unit_test(failed_allocation),
	    cmocka_unit_test(frees_in_window),
	    cmocka_unit_test(in_writer_probes),
	    cmocka_unit_test(kprobe_pairs),
	    cmocka_unit_test(kmsg_lines),
	    cmocka_unit_test(parsers),
	    cmocka_unit_test(fallback_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

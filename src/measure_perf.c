// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Trace events and kprobes through perf_event_open: one disabled group per online CPU, enabled
 * only around the bind write. Each CPU has two mmap'ed rings: the slab events (kmalloc,
 * kmem_cache_alloc) write into one, every other event (probes, workqueue, sched, console, page
 * allocations) into the other, so that a flood of slab allocations (an ACPI method interpreted
 * during a probe makes 100k of them) can overflow only the slab proxy, never the probe records
 * or the pages by node.
 * Sample times are CLOCK_MONOTONIC (use_clockid) so they compare with the write timestamps.
 * Raw tracepoint records are decoded with libtraceevent, formats from libtracefs.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <event-parse.h>
#include <tracefs.h>

#include "probebench/measure.h"
#include "probebench/paths.h"
#include "probebench/util.h"

#define TP_FLAG_IRQ_MASK (0x08 | 0x10 | 0x40) /* hardirq, softirq, nmi */

struct spec {
	enum pb_mevent_type type;
	const char *sys, *name; /* tracepoint; sys NULL: kprobe on name */
	bool retprobe;
	bool optional; /* the bus probe kprobe: its symbol may be missing or not probe-able */
	bool dead;     /* optional and refused by the kernel: skipped */
	bool no_regs;  /* retprobe without PERF_SAMPLE_REGS_INTR: return value not visible */
	bool counting; /* a counter only (no samples, no ring): read after the window */
	struct tep_event *ev;
};

struct pevent {
	int fd;
	int cpu;
	uint64_t id;
	const struct spec *spec;
};

struct cpu_ring {
	int cpu;
	int leader; /* the CPU's group leader (the same for both rings of a CPU) */
	bool slab;  /* the slab events' ring */
	void *base;
	size_t size; /* data area */
	uint64_t tail;
};

struct pb_perf {
	struct tep_handle *tep;
	struct spec specs[16];
	size_t n_specs;
	struct pevent *ev;
	size_t n_ev;
	struct cpu_ring *rings;
	size_t n_rings;
	size_t page_size;
	unsigned ring_pages;
	struct {
		uint64_t addr;
		const char *name;
	} syms[8];
	size_t n_syms;
	bool syms_visible; /* kallsyms shows real addresses (not hidden by kptr_restrict) */
};

static long perf_open(struct perf_event_attr *a, pid_t pid, int cpu, int group, unsigned long fl)
{
	return syscall(SYS_perf_event_open, a, pid, cpu, group, fl);
}

int pb_perf_kprobe_type(void)
{
	char path[4096];
	long t;
	int r = pb_sys_path(path, sizeof(path), "bus/event_source/devices/kprobe/type");
	if (r < 0)
		return r;
	r = pb_read_long(path, &t);
	return r < 0 ? r : (int)t;
}

int pb_perf_tracepoint_usable(const char *sys, const char *name)
{
	int size = 0;
	char *id = tracefs_event_file_read(NULL, sys, name, "id", &size);
	long v;
	if (!id || size <= 0) {
		free(id);
		return -ENOENT;
	}
	id[strcspn(id, "\n")] = 0;
	int r = pb_parse_long(id, 10, 0, INT32_MAX, &v);
	free(id);
	if (r < 0)
		return r;
	struct perf_event_attr a = {.size = sizeof(a),
				    .type = PERF_TYPE_TRACEPOINT,
				    .config = (uint64_t)v,
				    .sample_period = 1,
				    .disabled = 1};
	long fd =
	    perf_open(&a, -1, sched_getcpu() >= 0 ? sched_getcpu() : 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	close((int)fd);
	return 0;
}

static int kprobe_retbit(void)
{
	char path[4096], buf[64];
	int r = pb_sys_path(path, sizeof(path), "bus/event_source/devices/kprobe/format/retprobe");
	if (r < 0)
		return r;
	r = pb_read_str(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	long bit;
	if (strncmp(buf, "config:", 7) || pb_parse_long(buf + 7, 10, 0, 63, &bit) < 0)
		return -EINVAL;
	return (int)bit;
}

/* Addresses of the work functions that mark a hop; raw records carry pointers only. */
static void load_syms(struct pb_perf *p, bool *have_local_pci_probe)
{
	char path[4096];
	*have_local_pci_probe = false;
	if (pb_proc_path(path, sizeof(path), "kallsyms") < 0)
		return;
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type, name[256];
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		if (!strcmp(name, "local_pci_probe"))
			*have_local_pci_probe = true;
		if (addr)
			p->syms_visible = true;
		for (size_t i = 0; pb_hop_functions[i]; i++)
			if (!strcmp(name, pb_hop_functions[i]) && addr && p->n_syms < 8)
				p->syms[p->n_syms++] =
				    (typeof(p->syms[0])){addr, pb_hop_functions[i]};
	}
	fclose(f);
}

static void add_spec(struct pb_perf *p, enum pb_mevent_type t, const char *sys, const char *name,
		     bool ret)
{
	p->specs[p->n_specs++] =
	    (struct spec){.type = t, .sys = sys, .name = name, .retprobe = ret};
}

void pb_perf_free(struct pb_perf *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_rings; i++)
		if (p->rings[i].base)
			munmap(p->rings[i].base, p->rings[i].size + p->page_size);
	for (size_t i = 0; i < p->n_ev; i++)
		if (p->ev[i].fd >= 0)
			close(p->ev[i].fd);
	free(p->rings);
	free(p->ev);
	if (p->tep)
		tep_free(p->tep);
	free(p);
}

int pb_perf_open(const struct pb_perf_opts *o, struct pb_perf **ret, char *why, size_t why_size)
{
	struct pb_perf *p = calloc(1, sizeof(*p));
	int r = 0, kp_type = -1, retbit = 0;
	bool have_lpp;
	if (!p)
		return -ENOMEM;
	p->page_size = (size_t)sysconf(_SC_PAGESIZE);
	p->ring_pages = o->ring_pages ? o->ring_pages : 128;
	if (p->ring_pages & (p->ring_pages - 1)) {
		snprintf(why, why_size, "ring_pages %u is not a power of two", p->ring_pages);
		r = -EINVAL;
		goto fail;
	}
	load_syms(p, &have_lpp);

	/* Only the formats used: loading every event of a system costs hundreds of ms. */
	p->tep = tep_alloc();
	if (!p->tep) {
		r = -ENOMEM;
		goto fail;
	}
	tep_set_long_size(p->tep, (int)sizeof(long));
	tep_set_file_bigendian(p->tep, __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? TEP_BIG_ENDIAN
									      : TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(p->tep, __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? TEP_BIG_ENDIAN
									       : TEP_LITTLE_ENDIAN);
	add_spec(p, PB_EV_WQ_QUEUE, "workqueue", "workqueue_queue_work", false);
	add_spec(p, PB_EV_WQ_START, "workqueue", "workqueue_execute_start", false);
	add_spec(p, PB_EV_WQ_END, "workqueue", "workqueue_execute_end", false);
	add_spec(p, PB_EV_SWITCH, "sched", "sched_switch", false);
	add_spec(p, PB_EV_MIGRATE, "sched", "sched_migrate_task", false);
	if (o->console)
		add_spec(p, PB_EV_CONSOLE, "printk", "console", false);
	if (o->memory) {
		add_spec(p, PB_EV_PAGE_ALLOC, "kmem", "mm_page_alloc", false);
		add_spec(p, PB_EV_SLAB_ALLOC, "kmem", "kmalloc", false);
		add_spec(p, PB_EV_SLAB_ALLOC, "kmem", "kmem_cache_alloc", false);
		/* The same two as counters: exact per CPU (all tasks) even when samples are lost.
		 */
		add_spec(p, PB_EV_SLAB_ALLOC, "kmem", "kmalloc", false);
		p->specs[p->n_specs - 1].counting = true;
		add_spec(p, PB_EV_SLAB_ALLOC, "kmem", "kmem_cache_alloc", false);
		p->specs[p->n_specs - 1].counting = true;
	}
	if (o->kprobes) {
		kp_type = pb_perf_kprobe_type();
		retbit = kprobe_retbit();
		if (kp_type < 0 || retbit < 0) {
			snprintf(why, why_size, "no kprobe PMU (%s)",
				 strerror(-(kp_type < 0 ? kp_type : retbit)));
			r = -ENOTSUP;
			goto fail;
		}
		add_spec(p, PB_EV_PROBE_ENTRY, NULL, "really_probe", false);
		add_spec(p, PB_EV_PROBE_RETURN, NULL, "really_probe", true);
		if (have_lpp) {
			add_spec(p, PB_EV_BUSPROBE_ENTRY, NULL, "local_pci_probe", false);
			add_spec(p, PB_EV_BUSPROBE_RETURN, NULL, "local_pci_probe", true);
			p->specs[p->n_specs - 1].optional = p->specs[p->n_specs - 2].optional =
			    true;
		}
	}
	for (size_t i = 0; i < p->n_specs; i++) {
		struct spec *s = &p->specs[i];
		if (!s->sys)
			continue;
		s->ev = tep_find_event_by_name(p->tep, s->sys, s->name);
		if (!s->ev) {
			int size = 0;
			char *fmt = tracefs_event_file_read(NULL, s->sys, s->name, "format", &size);
			if (fmt && size > 0)
				tep_parse_event(p->tep, fmt, (size_t)size, s->sys);
			free(fmt);
			s->ev = tep_find_event_by_name(p->tep, s->sys, s->name);
		}
		if (!s->ev) {
			snprintf(why, why_size, "no tracepoint %s:%s (tracefs at %s)", s->sys,
				 s->name,
				 tracefs_tracing_dir() ? tracefs_tracing_dir() : "not mounted");
			r = -ENOENT;
			goto fail;
		}
	}

	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	p->rings = calloc(2 * ncpu, sizeof(*p->rings));
	p->ev = calloc(ncpu * p->n_specs, sizeof(*p->ev));
	if (!p->rings || !p->ev) {
		r = -ENOMEM;
		goto fail;
	}
	for (long cpu = 0; cpu < ncpu; cpu++) {
		int leader = -1, out[2] = {-1, -1}; /* ring owners: other events, slab events */
		for (size_t i = 0; i < p->n_specs; i++) {
			struct spec *s = &p->specs[i];
			if (s->dead)
				continue;
			bool slab = s->type == PB_EV_SLAB_ALLOC;
			if (s->counting && leader < 0)
				continue; /* a counter never leads a group */
		retry:;
			struct perf_event_attr a = {
			    .size = sizeof(a),
			    .sample_period = 1,
			    .sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID |
					   PERF_SAMPLE_TIME | PERF_SAMPLE_CPU,
			    .use_clockid = 1,
			    .clockid = CLOCK_MONOTONIC,
			    .disabled = leader < 0,
			    .wakeup_events = 1u << 30,
			};
			if (s->sys) {
				a.type = PERF_TYPE_TRACEPOINT;
				a.config = (uint64_t)s->ev->id;
				a.sample_type |= PERF_SAMPLE_RAW;
				if (s->counting) {
					a.sample_period = 0;
					a.sample_type = 0;
				}
			} else {
				a.type = (uint32_t)kp_type;
				a.config = s->retprobe ? 1ull << retbit : 0;
				a.config1 = (uint64_t)(uintptr_t)s->name;
#if defined(__x86_64__)
				if (s->retprobe && !s->no_regs) {
					a.sample_type |= PERF_SAMPLE_REGS_INTR;
					a.sample_regs_intr =
					    1ull << 0; /* PERF_REG_X86_AX: return value */
				}
#endif
			}
			long fd = perf_open(&a, -1, (int)cpu, leader, PERF_FLAG_FD_CLOEXEC);
			if (fd < 0) {
				if (errno == ENODEV && leader < 0)
					break; /* offline CPU */
				if (!s->sys && s->retprobe && !s->no_regs && cpu == 0) {
					s->no_regs = true;
					goto retry;
				}
				if (s->optional && cpu == 0) {
					s->dead = true;
					continue;
				}
				r = -errno;
				snprintf(why, why_size, "perf_event_open %s%s%s on CPU %ld: %s",
					 s->sys ? s->sys : "kprobe ", s->sys ? ":" : "", s->name,
					 cpu, strerror(errno));
				goto fail;
			}
			struct pevent *pe = &p->ev[p->n_ev++];
			pe->fd = (int)fd;
			pe->cpu = (int)cpu;
			pe->spec = s;
			if (s->counting)
				continue; /* no ID needed, no ring */
			if (ioctl(pe->fd, PERF_EVENT_IOC_ID, &pe->id) < 0) {
				r = -errno;
				snprintf(why, why_size, "PERF_EVENT_IOC_ID: %s", strerror(errno));
				goto fail;
			}
			if (leader < 0)
				leader = pe->fd;
			if (out[slab] < 0) {
				out[slab] = pe->fd;
				struct cpu_ring *cr = &p->rings[p->n_rings++];
				cr->cpu = (int)cpu;
				cr->leader = leader;
				cr->slab = slab;
				cr->size = p->ring_pages * p->page_size;
				cr->base = mmap(NULL, cr->size + p->page_size,
						PROT_READ | PROT_WRITE, MAP_SHARED, pe->fd, 0);
				if (cr->base == MAP_FAILED) {
					cr->base = NULL;
					r = -errno;
					snprintf(why, why_size, "mmap of the perf ring: %s",
						 strerror(errno));
					goto fail;
				}
			} else if (ioctl(pe->fd, PERF_EVENT_IOC_SET_OUTPUT, out[slab]) < 0) {
				r = -errno;
				snprintf(why, why_size,
					 "PERF_EVENT_IOC_SET_OUTPUT of %s%s%s on CPU %ld: %s",
					 s->sys ? s->sys : "kprobe ", s->sys ? ":" : "", s->name,
					 cpu, strerror(errno));
				goto fail;
			}
		}
	}
	if (!p->n_rings) {
		r = -ENODEV;
		snprintf(why, why_size, "no online CPU accepted the events");
		goto fail;
	}
	*ret = p;
	return 0;
fail:
	pb_perf_free(p);
	return r;
}

static int group_ioctl(struct pb_perf *p, unsigned long req)
{
	for (size_t i = 0; i < p->n_rings; i++)
		if ((i == 0 || p->rings[i].leader != p->rings[i - 1].leader) &&
		    ioctl(p->rings[i].leader, req, PERF_IOC_FLAG_GROUP) < 0)
			return -errno;
	return 0;
}

int pb_perf_enable(struct pb_perf *p)
{
	int r = group_ioctl(p, PERF_EVENT_IOC_RESET); /* the counters start at 0 per window */
	return r < 0 ? r : group_ioctl(p, PERF_EVENT_IOC_ENABLE);
}

int pb_perf_slab_counts(struct pb_perf *p, const int *cpu_node, int n_cpus, uint64_t *by_node,
			unsigned max_nodes, unsigned *n_nodes)
{
	bool any = false;
	for (size_t i = 0; i < p->n_ev; i++) {
		const struct pevent *pe = &p->ev[i];
		uint64_t v;
		if (!pe->spec->counting)
			continue;
		if (read(pe->fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
			return -EIO;
		any = true;
		int node = pe->cpu < n_cpus ? cpu_node[pe->cpu] : -1;
		if (node < 0 || (unsigned)node >= max_nodes)
			continue;
		by_node[node] += v;
		if ((unsigned)node + 1 > *n_nodes)
			*n_nodes = node + 1;
	}
	return any ? 0 : -ENOENT;
}

int pb_perf_disable(struct pb_perf *p)
{
	return group_ioctl(p, PERF_EVENT_IOC_DISABLE);
}

static const struct pevent *find_ev(const struct pb_perf *p, uint64_t id)
{
	for (size_t i = 0; i < p->n_ev; i++)
		if (p->ev[i].id == id)
			return &p->ev[i];
	return NULL;
}

static uint64_t fval(struct tep_event *ev, struct tep_record *rec, const char *name)
{
	unsigned long long v = 0;
	if (tep_get_field_val(NULL, ev, name, rec, &v, 0) < 0)
		return 0;
	return v;
}

static void fstr(struct tep_event *ev, struct tep_record *rec, const char *name, char *buf,
		 size_t size)
{
	int len = 0;
	const char *s = tep_get_field_raw(NULL, ev, name, rec, &len, 0);
	buf[0] = 0;
	if (!s || len <= 0)
		return;
	size_t n = (size_t)len < size - 1 ? (size_t)len : size - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static const char *sym_name(const struct pb_perf *p, uint64_t addr)
{
	for (size_t i = 0; i < p->n_syms; i++)
		if (p->syms[i].addr == addr)
			return p->syms[i].name;
	/* Visible symbols and not a hop function's address: some other work, never a hop. Only
	 * with hidden symbols ("") does the assembly fall back to the waited-for heuristic. */
	return p->syms_visible ? PB_WORK_FN_OTHER : "";
}

static int decode(const struct pb_perf *p, const uint8_t *rec, size_t size, struct pb_mevent *out)
{
	const uint8_t *q = rec + sizeof(struct perf_event_header), *end = rec + size;
	uint64_t id;
	if (q + 8 > end)
		return -EINVAL;
	memcpy(&id, q, 8);
	q += 8;
	const struct pevent *pe = find_ev(p, id);
	if (!pe)
		return -ENOENT;
	struct {
		uint32_t pid, tid;
		uint64_t time;
		uint32_t cpu, res;
	} h;
	if (q + sizeof(h) > end)
		return -EINVAL;
	memcpy(&h, q, sizeof(h));
	q += sizeof(h);
	memset(out, 0, sizeof(*out));
	out->type = pe->spec->type;
	out->ts = h.time;
	out->cpu = (int)h.cpu;
	out->pid = (pid_t)h.tid;
	if (!pe->spec->sys) {
		if (pe->spec->retprobe && q + 16 <= end) {
			uint64_t abi, ax;
			memcpy(&abi, q, 8);
			if (abi != PERF_SAMPLE_REGS_ABI_NONE) {
				memcpy(&ax, q + 8, 8);
				out->kret.ret = (long)(int)ax;
				out->kret.ret_known = true;
			}
		}
		return 0;
	}
	uint32_t raw_size;
	if (q + 4 > end)
		return -EINVAL;
	memcpy(&raw_size, q, 4);
	q += 4;
	if (q + raw_size > end)
		return -EINVAL;
	struct tep_record tr = {
	    .ts = h.time, .size = (int)raw_size, .data = (void *)q, .cpu = (int)h.cpu};
	struct tep_event *ev = pe->spec->ev;
	out->irq = fval(ev, &tr, "common_flags") & TP_FLAG_IRQ_MASK;
	switch (out->type) {
	case PB_EV_WQ_QUEUE:
	case PB_EV_WQ_START:
	case PB_EV_WQ_END:
		out->wq.work = fval(ev, &tr, "work");
		out->wq.function = fval(ev, &tr, "function");
		snprintf(out->wq.fn, sizeof(out->wq.fn), "%s", sym_name(p, out->wq.function));
		break;
	case PB_EV_CONSOLE:
		fstr(ev, &tr, "msg", out->msg, sizeof(out->msg));
		break;
	case PB_EV_SWITCH:
		out->sw.prev_pid = (pid_t)fval(ev, &tr, "prev_pid");
		out->sw.next_pid = (pid_t)fval(ev, &tr, "next_pid");
		out->sw.prev_state = (long)fval(ev, &tr, "prev_state");
		fstr(ev, &tr, "prev_comm", out->sw.prev_comm, sizeof(out->sw.prev_comm));
		fstr(ev, &tr, "next_comm", out->sw.next_comm, sizeof(out->sw.next_comm));
		break;
	case PB_EV_MIGRATE:
		out->mig.pid = (pid_t)fval(ev, &tr, "pid");
		out->mig.dest_cpu = (int)fval(ev, &tr, "dest_cpu");
		break;
	case PB_EV_PAGE_ALLOC:
		out->page.pfn = fval(ev, &tr, "pfn");
		out->page.order = (unsigned)fval(ev, &tr, "order");
		break;
	case PB_EV_SLAB_ALLOC:
		out->slab.bytes = fval(ev, &tr, "bytes_alloc");
		break;
	default:
		break;
	}
	return 0;
}

static int cmp_ev(const void *a, const void *b)
{
	const struct pb_mevent *x = a, *y = b;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

int pb_perf_drain(struct pb_perf *p, struct pb_mevent **ret, size_t *ret_n, uint64_t *ret_lost,
		  uint64_t *ret_lost_slab)
{
	size_t n = 0, cap = 0;
	uint64_t lost = 0, lost_slab = 0;
	struct pb_mevent *ev = NULL;
	uint8_t *tmp = NULL;
	size_t tmp_size = 0;
	int r = 0;

	for (size_t i = 0; i < p->n_rings; i++) {
		struct cpu_ring *cr = &p->rings[i];
		struct perf_event_mmap_page *mp = cr->base;
		uint8_t *data = (uint8_t *)cr->base + p->page_size;
		uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
		uint64_t tail = mp->data_tail;
		while (tail < head) {
			struct perf_event_header hdr;
			size_t off = tail % cr->size;
			for (size_t k = 0; k < sizeof(hdr); k++)
				((uint8_t *)&hdr)[k] = data[(off + k) % cr->size];
			if (hdr.size < sizeof(hdr) || tail + hdr.size > head)
				break;
			if (tmp_size < hdr.size) {
				uint8_t *t = realloc(tmp, hdr.size);
				if (!t) {
					r = -ENOMEM;
					goto out;
				}
				tmp = t;
				tmp_size = hdr.size;
			}
			size_t first = cr->size - off < hdr.size ? cr->size - off : hdr.size;
			memcpy(tmp, data + off, first);
			memcpy(tmp + first, data, hdr.size - first);
			if (hdr.type == PERF_RECORD_LOST) {
				uint64_t l[2];
				memcpy(l, tmp + sizeof(hdr), sizeof(l));
				*(cr->slab ? &lost_slab : &lost) += l[1];
			} else if (hdr.type == PERF_RECORD_SAMPLE) {
				if (n == cap) {
					cap = cap ? cap * 2 : 256;
					struct pb_mevent *ne = realloc(ev, cap * sizeof(*ne));
					if (!ne) {
						r = -ENOMEM;
						goto out;
					}
					ev = ne;
				}
				if (decode(p, tmp, hdr.size, &ev[n]) == 0)
					n++;
			}
			tail += hdr.size;
		}
		__atomic_store_n(&mp->data_tail, head, __ATOMIC_RELEASE);
	}
	if (n)
		qsort(ev, n, sizeof(*ev), cmp_ev);
out:
	free(tmp);
	if (r < 0) {
		free(ev);
		return r;
	}
	*ret = ev;
	*ret_n = n;
	*ret_lost = lost;
	*ret_lost_slab = lost_slab;
	return 0;
}

/* ---- counters of the writer ------------------------------------------------------------- */
struct pb_counters {
	pid_t tid;
	int fd[PB_MEASURE_N_COUNTERS];
};

static const struct {
	const char *name;
	uint32_t type;
	uint64_t config;
} counter_defs[PB_MEASURE_N_COUNTERS] = {
    {"task_clock_ns", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    {"context_switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cpu_migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    {"page_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
};

int pb_counters_open(pid_t tid, struct pb_counters **ret)
{
	struct pb_counters *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->tid = tid;
	for (size_t i = 0; i < PB_MEASURE_N_COUNTERS; i++) {
		struct perf_event_attr a = {.size = sizeof(a),
					    .type = counter_defs[i].type,
					    .config = counter_defs[i].config,
					    .disabled = 1,
					    .exclude_hv = 1};
		long fd = perf_open(&a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
		c->fd[i] = fd < 0 ? -1 : (int)fd;
	}
	if (c->fd[0] < 0) {
		int r = -errno;
		pb_counters_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

pid_t pb_counters_tid(const struct pb_counters *c)
{
	return c->tid;
}

int pb_counters_enable(struct pb_counters *c)
{
	for (size_t i = 0; i < PB_MEASURE_N_COUNTERS; i++)
		if (c->fd[i] >= 0 && (ioctl(c->fd[i], PERF_EVENT_IOC_RESET, 0) < 0 ||
				      ioctl(c->fd[i], PERF_EVENT_IOC_ENABLE, 0) < 0))
			return -errno;
	return 0;
}

int pb_counters_read(struct pb_counters *c, struct pb_counter out[PB_MEASURE_N_COUNTERS])
{
	for (size_t i = 0; i < PB_MEASURE_N_COUNTERS; i++) {
		out[i] = (struct pb_counter){.name = counter_defs[i].name};
		if (c->fd[i] < 0)
			continue;
		ioctl(c->fd[i], PERF_EVENT_IOC_DISABLE, 0);
		uint64_t v;
		if (read(c->fd[i], &v, sizeof(v)) == sizeof(v)) {
			out[i].supported = true;
			out[i].value = v;
		}
	}
	return 0;
}

void pb_counters_free(struct pb_counters *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < PB_MEASURE_N_COUNTERS; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	free(c);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * pbtest: a test driver that knows its own probes, the ground truth for probebench.
 *
 * Load it only in the test guest (scripts/probebench-vm), never on a machine that matters.
 *
 * Devices
 *   The module creates one device per entry of the "nodes" parameter on its own bus "pbtest":
 *   nodes=0,1 (the default) gives pbtest0 on NUMA node 0 and pbtest1 on node 1 (-1: no node).
 *   Each device has a "numa_node" file in its own sysfs directory and dev_to_node() agrees.
 *   "parents" (optional, index-matched with nodes) names a PCI device to hang each test device
 *   below ("-" or empty: none, the device sits at /sys/devices/pbtestN): probebench lists and
 *   cycles only PCI functions and the devices below them.
 *     insmod pbtest.ko nodes=0,1 parents=0000:20:00.0,0000:80:00.0 async=1
 *   async=1 makes the driver prefer asynchronous probing (PROBE_PREFER_ASYNCHRONOUS): the probes
 *   at module load (driver registration) then run from async workers on the device's node. The
 *   generic async_probe=1 works as well. A sysfs bind is synchronous whatever the setting.
 *
 * Drivers
 *   "pbtest" binds the test devices: /sys/bus/pbtest/drivers/pbtest/{bind,unbind}.
 *   "pbtest_child" binds the children a pbtest probe creates (pbtestN.cK), always synchronously,
 *   so their probes nest inside the parent's. Children are removed when the parent is unbound.
 *
 * Probe behaviour: files of the device, /sys/bus/pbtest/devices/pbtestN/pbtest_*, read at the
 * start of each probe (write them before the bind):
 *   pbtest_sleep_us   sleep this long (usleep_range below 20 ms, msleep above)
 *   pbtest_busy_us    busy loop this long (ktime_get_ns(); cond_resched() between rounds)
 *   pbtest_hang_ms    sleep this long, then go on (a bounded hang, at most 60 s)
 *   pbtest_pages      allocate this many order-0 pages (alloc_pages_node), kept until remove
 *   pbtest_page_node  node passed to alloc_pages_node; -1 (default): none, the local node
 *   pbtest_scratch    allocate this many order-0 pages after pbtest_pages and free them again
 *                     before ->probe returns (scratch space: freed inside the probe)
 *   pbtest_release_ms free the kept pages (pbtest_pages) this long after a successful probe,
 *                     from a delayed work; 0 (default): kept until remove
 *   pbtest_children   create this many child devices pbtestN.cK (at most 16)
 *   pbtest_hop        none | work_on_cpu | queue_work_node | kthread: run the probe body
 *                     (hang, sleep, busy loop, pages, scratch, children, in that order) in
 *                     another task:
 *                       work_on_cpu      work_on_cpu(first online CPU of the node)
 *                       queue_work_node  queue_work_node(node, system_unbound_wq) + flush_work,
 *                                        work function pbtest_node_work_fn
 *                       kthread          kthread_create_on_node + kthread_bind(first online CPU
 *                                        of the node) + wait_for_completion
 *   pbtest_hop_node   node of the hop; -1 (default): the device's node
 *   pbtest_fail       errno the probe returns after the body (its pages and children are
 *                     released first); 0 (default): success
 *   pbtest_fail_times 0 (default): every probe fails while pbtest_fail is set; N: the next N
 *                     probes fail, then pbtest_fail goes back to 0 (re-armed by each write)
 *   pbtest_defer      return -EPROBE_DEFER (before the body) this many times per bind cycle,
 *                     then probe; re-armed by each write and after each successful probe
 *   pbtest_reset      write anything: every setting back to its default
 * A bind with pbtest_fail=5 fails with EIO and leaves the device unbound; one with pbtest_defer
 * fails with EAGAIN (the driver core's translation of -EPROBE_DEFER).
 *
 * Truth: /sys/kernel/debug/pbtest/truth, one line per probe of either driver, oldest first, at
 * most 1024 (older ones are dropped: seq then has a gap). Writing anything clears it; seq keeps
 * counting. Keys, always all of them and in this order (times: ktime_get_ns(), CLOCK_MONOTONIC):
 *   seq            number of the probe, in the order the probes ended
 *   dev drv        device and driver
 *   parent         parent device for a child (pbtest_child), else -
 *   dev_node       dev_to_node() of the device
 *   start_ns end_ns dur_ns   entry into and return from the driver's ->probe
 *   ret            what ->probe returned (-517: -EPROBE_DEFER)
 *   async          1 when ->probe ran in an async worker (current_is_async())
 *   cpu end_cpu    CPU at entry and at return (the task may move between them)
 *   node           node of cpu
 *   pid comm       the task that entered ->probe (comm: blanks and '=' shown as '?')
 *   hop            none | work_on_cpu | queue_work_node | kthread
 *   hop_node hop_cpu   node asked of the hop, CPU it was bound to (-1: none or unbound)
 *   worker_pid worker_comm worker_cpu worker_end_cpu worker_node
 *                  the task that ran the body when it hopped (else -1 and -), its CPU when
 *                  the body started and ended, the node of the first
 *   body_start_ns body_end_ns   the body (0 when it did not run: deferral, child)
 *   body_nvcsw body_nivcsw      voluntary/involuntary context switches of the body's task
 *                               during the body
 *   sleep_us busy_us hang_ms pages page_node children fail defer   the settings the probe used
 *   defer_left     deferrals left after this probe
 *   pages_nodeN    pages the probe allocated that landed on node N (page_to_nid()), for each
 *                  possible node N below 8; pages_other: on nodes 8 and above
 *   nr_children    child devices it created (and kept, unless it failed)
 *   rp_start_ns rp_end_ns   entry into and return from the driver core's really_probe()
 *                  around this ->probe, timed by the module's own kretprobe (ktime_get_ns()
 *                  in its handlers); 0 when the kretprobe could not be registered or missed
 *                  the call (more than PBTEST_RP_ACTIVE really_probe calls at once)
 *   scratch release_ms   two more settings the probe used
 */
#include <linux/async.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/gfp.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/slab.h>
#include <linux/topology.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#define PBTEST_MAX_DEVS		8
#define PBTEST_RING		1024
#define PBTEST_NODES		8
#define PBTEST_MAX_CHILDREN	16
#define PBTEST_MAX_PAGES	65536
#define PBTEST_MAX_SLEEP_US	60000000
#define PBTEST_MAX_BUSY_US	10000000
#define PBTEST_MAX_HANG_MS	60000

static int pbtest_nodes[PBTEST_MAX_DEVS] = { 0, 1 };
static int pbtest_nr_nodes = 2;
module_param_array_named(nodes, pbtest_nodes, int, &pbtest_nr_nodes, 0444);
MODULE_PARM_DESC(nodes, "NUMA node of each test device pbtestN (default 0,1; -1: none)");

static char *pbtest_parents[PBTEST_MAX_DEVS];
static int pbtest_nr_parents;
module_param_array_named(parents, pbtest_parents, charp, &pbtest_nr_parents, 0444);
MODULE_PARM_DESC(parents, "PCI device to put each test device below (- or empty: none)");

static bool pbtest_async;
module_param_named(async, pbtest_async, bool, 0444);
MODULE_PARM_DESC(async, "the pbtest driver prefers asynchronous probing");

enum pbtest_hop {
	PBTEST_HOP_NONE,
	PBTEST_HOP_WORK_ON_CPU,
	PBTEST_HOP_QUEUE_WORK_NODE,
	PBTEST_HOP_KTHREAD,
};

static const char * const pbtest_hop_names[] = {
	[PBTEST_HOP_NONE] = "none",
	[PBTEST_HOP_WORK_ON_CPU] = "work_on_cpu",
	[PBTEST_HOP_QUEUE_WORK_NODE] = "queue_work_node",
	[PBTEST_HOP_KTHREAD] = "kthread",
};

struct pbtest_cfg {
	unsigned int sleep_us;
	unsigned int busy_us;
	unsigned int hang_ms;
	unsigned int pages;
	int page_node;
	unsigned int children;
	enum pbtest_hop hop;
	int hop_node;
	int fail;
	unsigned int fail_times;
	unsigned int defer;
	unsigned int scratch;
	unsigned int release_ms;
};

static const struct pbtest_cfg pbtest_cfg_default = {
	.page_node = NUMA_NO_NODE,
	.hop = PBTEST_HOP_NONE,
	.hop_node = NUMA_NO_NODE,
};

struct pbtest_child {
	struct device dev;
};

struct pbtest_dev {
	struct device dev;
	struct device *pci_parent;	/* reference taken on the "parents" device */
	struct mutex lock;		/* cfg, fail_left, defer_left */
	struct pbtest_cfg cfg;
	unsigned int fail_left;
	unsigned int defer_left;
	/* what a successful probe keeps until remove (probe and remove: device lock), or until
	 * release runs (release_ms after the probe) */
	struct list_head pages;
	struct delayed_work release;
	struct pbtest_child *children[PBTEST_MAX_CHILDREN];
	unsigned int nr_children;
};

/* One probe as it happened. */
struct pbtest_truth {
	u64 seq;
	char dev[32];
	char parent[32];
	const char *drv;
	int dev_node;
	u64 start_ns, end_ns;
	int ret;
	bool async;
	int cpu, end_cpu, node;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	enum pbtest_hop hop;
	int hop_node, hop_cpu;
	pid_t worker_pid;
	char worker_comm[TASK_COMM_LEN];
	int worker_cpu, worker_end_cpu, worker_node;
	u64 body_start_ns, body_end_ns;
	unsigned long body_nvcsw, body_nivcsw;
	struct pbtest_cfg cfg;
	unsigned int defer_left;
	unsigned int pages_by_node[PBTEST_NODES];
	unsigned int pages_other;
	unsigned int nr_children;
	u64 rp_start_ns, rp_end_ns;
};

/* A probe of pbtest in flight: what the body (maybe in another task) works on. */
struct pbtest_run {
	struct pbtest_dev *pd;
	struct pbtest_truth t;
	struct list_head pages;
	struct pbtest_child *children[PBTEST_MAX_CHILDREN];
	unsigned int nr_children;
	struct work_struct work;
	struct completion done;
	long ret;
};

static const struct device_type pbtest_dev_type;
static const struct device_type pbtest_child_type;
static struct bus_type pbtest_bus;
static struct device_driver pbtest_driver;
static struct device_driver pbtest_child_driver;
static struct pbtest_dev *pbtest_devs[PBTEST_MAX_DEVS];
static int pbtest_nr_devs;

/* ---- the truth ring ---- */

static DEFINE_MUTEX(pbtest_ring_lock);
static struct pbtest_truth *pbtest_ring;
static unsigned int pbtest_ring_head, pbtest_ring_count;
static u64 pbtest_ring_seq;
static struct dentry *pbtest_debugfs;

/*
 * really_probe() spans of the pbtest bus's devices, from a kretprobe: its handlers run with
 * preemption off, so the spans have a ring and a raw spinlock of their own; a reader matches
 * them to the probes (same device, the span around ->probe) when it opens the truth file.
 */
#define PBTEST_RP_ACTIVE 32
struct pbtest_rp_span {
	char dev[32];
	u64 start_ns, end_ns;
};
static DEFINE_RAW_SPINLOCK(pbtest_rp_lock);
static struct pbtest_rp_span *pbtest_rp_ring;
static unsigned int pbtest_rp_head, pbtest_rp_count;
static bool pbtest_rp_armed;

static int pbtest_rp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct device *dev = (struct device *)regs_get_kernel_argument(regs, 0);
	struct pbtest_rp_span *span = (struct pbtest_rp_span *)ri->data;

	if (!dev || dev->bus != &pbtest_bus)
		return 1; /* not ours: no return handler */
	strscpy(span->dev, dev_name(dev), sizeof(span->dev));
	span->start_ns = ktime_get_ns();
	return 0;
}

static int pbtest_rp_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct pbtest_rp_span *span = (struct pbtest_rp_span *)ri->data;
	unsigned long flags;

	span->end_ns = ktime_get_ns();
	raw_spin_lock_irqsave(&pbtest_rp_lock, flags);
	pbtest_rp_ring[pbtest_rp_head] = *span;
	pbtest_rp_head = (pbtest_rp_head + 1) % PBTEST_RING;
	if (pbtest_rp_count < PBTEST_RING)
		pbtest_rp_count++;
	raw_spin_unlock_irqrestore(&pbtest_rp_lock, flags);
	return 0;
}

static struct kretprobe pbtest_rp = {
	.kp.symbol_name = "really_probe",
	.entry_handler = pbtest_rp_entry,
	.handler = pbtest_rp_return,
	.data_size = sizeof(struct pbtest_rp_span),
	.maxactive = PBTEST_RP_ACTIVE,
};

/* Fills in the really_probe span around each probe of a snapshot (called without locks held). */
static void pbtest_rp_match(struct pbtest_truth *e, unsigned int n)
{
	struct pbtest_rp_span *spans;
	unsigned int i, j, count, first;
	unsigned long flags;

	if (!pbtest_rp_armed)
		return;
	spans = kvcalloc(PBTEST_RING, sizeof(*spans), GFP_KERNEL);
	if (!spans)
		return;
	raw_spin_lock_irqsave(&pbtest_rp_lock, flags);
	count = pbtest_rp_count;
	first = (pbtest_rp_head + PBTEST_RING - count) % PBTEST_RING;
	for (i = 0; i < count; i++)
		spans[i] = pbtest_rp_ring[(first + i) % PBTEST_RING];
	raw_spin_unlock_irqrestore(&pbtest_rp_lock, flags);
	for (i = 0; i < n; i++)
		for (j = 0; j < count; j++)
			if (!strcmp(spans[j].dev, e[i].dev) && spans[j].start_ns <= e[i].start_ns &&
			    e[i].end_ns <= spans[j].end_ns) {
				e[i].rp_start_ns = spans[j].start_ns;
				e[i].rp_end_ns = spans[j].end_ns;
				break;
			}
	kvfree(spans);
}

static void pbtest_truth_push(struct pbtest_truth *t)
{
	mutex_lock(&pbtest_ring_lock);
	t->seq = pbtest_ring_seq++;
	pbtest_ring[pbtest_ring_head] = *t;
	pbtest_ring_head = (pbtest_ring_head + 1) % PBTEST_RING;
	if (pbtest_ring_count < PBTEST_RING)
		pbtest_ring_count++;
	mutex_unlock(&pbtest_ring_lock);
}

/* What a reader sees: a copy of the ring taken when it opened the file. */
struct pbtest_snapshot {
	unsigned int n;
	struct pbtest_truth e[];
};

static void *pbtest_truth_start(struct seq_file *m, loff_t *pos)
{
	struct pbtest_snapshot *s = m->private;

	return *pos < s->n ? &s->e[*pos] : NULL;
}

static void *pbtest_truth_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return pbtest_truth_start(m, pos);
}

static void pbtest_truth_stop(struct seq_file *m, void *v)
{
}

static const char *pbtest_comm(char *buf, const char *comm)
{
	int i;

	for (i = 0; i < TASK_COMM_LEN - 1 && comm[i]; i++)
		buf[i] = (comm[i] <= ' ' || comm[i] == '=' || comm[i] > '~') ? '?' : comm[i];
	buf[i] = 0;
	return i ? buf : "-";
}

static int pbtest_truth_show(struct seq_file *m, void *v)
{
	const struct pbtest_truth *t = v;
	char comm[TASK_COMM_LEN], wcomm[TASK_COMM_LEN];
	unsigned int i;

	seq_printf(m, "seq=%llu dev=%s drv=%s parent=%s dev_node=%d start_ns=%llu end_ns=%llu dur_ns=%llu ret=%d async=%d",
		   t->seq, t->dev, t->drv, t->parent[0] ? t->parent : "-", t->dev_node,
		   t->start_ns, t->end_ns, t->end_ns - t->start_ns, t->ret, t->async);
	seq_printf(m, " cpu=%d end_cpu=%d node=%d pid=%d comm=%s", t->cpu, t->end_cpu, t->node,
		   t->pid, pbtest_comm(comm, t->comm));
	seq_printf(m, " hop=%s hop_node=%d hop_cpu=%d worker_pid=%d worker_comm=%s worker_cpu=%d worker_end_cpu=%d worker_node=%d",
		   pbtest_hop_names[t->hop], t->hop_node, t->hop_cpu, t->worker_pid,
		   pbtest_comm(wcomm, t->worker_comm), t->worker_cpu, t->worker_end_cpu,
		   t->worker_node);
	seq_printf(m, " body_start_ns=%llu body_end_ns=%llu body_nvcsw=%lu body_nivcsw=%lu",
		   t->body_start_ns, t->body_end_ns, t->body_nvcsw, t->body_nivcsw);
	seq_printf(m, " sleep_us=%u busy_us=%u hang_ms=%u pages=%u page_node=%d children=%u fail=%d defer=%u defer_left=%u",
		   t->cfg.sleep_us, t->cfg.busy_us, t->cfg.hang_ms, t->cfg.pages,
		   t->cfg.page_node, t->cfg.children, t->cfg.fail, t->cfg.defer, t->defer_left);
	for (i = 0; i < min_t(unsigned int, nr_node_ids, PBTEST_NODES); i++)
		seq_printf(m, " pages_node%u=%u", i, t->pages_by_node[i]);
	seq_printf(m, " pages_other=%u nr_children=%u rp_start_ns=%llu rp_end_ns=%llu scratch=%u release_ms=%u\n",
		   t->pages_other, t->nr_children, t->rp_start_ns, t->rp_end_ns, t->cfg.scratch,
		   t->cfg.release_ms);
	return 0;
}

static const struct seq_operations pbtest_truth_seq_ops = {
	.start = pbtest_truth_start,
	.next = pbtest_truth_next,
	.stop = pbtest_truth_stop,
	.show = pbtest_truth_show,
};

static int pbtest_truth_open(struct inode *inode, struct file *file)
{
	struct pbtest_snapshot *s;
	unsigned int i, first;
	int ret;

	if (!(file->f_mode & FMODE_READ))
		return 0;
	s = kvzalloc(struct_size(s, e, PBTEST_RING), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	mutex_lock(&pbtest_ring_lock);
	first = (pbtest_ring_head + PBTEST_RING - pbtest_ring_count) % PBTEST_RING;
	for (i = 0; i < pbtest_ring_count; i++)
		s->e[i] = pbtest_ring[(first + i) % PBTEST_RING];
	s->n = pbtest_ring_count;
	mutex_unlock(&pbtest_ring_lock);
	pbtest_rp_match(s->e, s->n);
	ret = seq_open(file, &pbtest_truth_seq_ops);
	if (ret) {
		kvfree(s);
		return ret;
	}
	((struct seq_file *)file->private_data)->private = s;
	return 0;
}

static int pbtest_truth_release(struct inode *inode, struct file *file)
{
	struct seq_file *m;

	if (!(file->f_mode & FMODE_READ))
		return 0;
	m = file->private_data;
	kvfree(m->private);
	return seq_release(inode, file);
}

static ssize_t pbtest_truth_write(struct file *file, const char __user *buf, size_t len,
				  loff_t *ppos)
{
	mutex_lock(&pbtest_ring_lock);
	pbtest_ring_head = 0;
	pbtest_ring_count = 0;
	mutex_unlock(&pbtest_ring_lock);
	raw_spin_lock_irq(&pbtest_rp_lock);
	pbtest_rp_head = 0;
	pbtest_rp_count = 0;
	raw_spin_unlock_irq(&pbtest_rp_lock);
	return len;
}

static const struct file_operations pbtest_truth_fops = {
	.owner = THIS_MODULE,
	.open = pbtest_truth_open,
	.read = seq_read,
	.write = pbtest_truth_write,
	.llseek = noop_llseek,
	.release = pbtest_truth_release,
};

/* ---- the probe body ---- */

static inline struct pbtest_dev *to_pbtest_dev(struct device *dev)
{
	return container_of(dev, struct pbtest_dev, dev);
}

static int pbtest_node_cpu(int node)
{
	const struct cpumask *mask = cpu_online_mask;
	unsigned int cpu;

	if (node != NUMA_NO_NODE && node_online(node))
		mask = cpumask_of_node(node);
	cpu = cpumask_first_and(mask, cpu_online_mask);
	return cpu < nr_cpu_ids ? cpu : cpumask_first(cpu_online_mask);
}

static void pbtest_sleep_us(unsigned int us)
{
	if (us < 20000)
		usleep_range(us, us + us / 8 + 10);
	else
		msleep(DIV_ROUND_UP(us, 1000));
}

static void pbtest_busy_us(unsigned int us)
{
	u64 end = ktime_get_ns() + (u64)us * NSEC_PER_USEC;

	while (ktime_get_ns() < end) {
		cpu_relax();
		cond_resched();
	}
}

static void pbtest_free_pages(struct list_head *pages)
{
	struct page *p, *n;

	list_for_each_entry_safe(p, n, pages, lru) {
		list_del(&p->lru);
		__free_page(p);
	}
}

static void pbtest_del_children(struct pbtest_child **children, unsigned int *n)
{
	while (*n)
		device_unregister(&children[--*n]->dev);
}

static void pbtest_child_release(struct device *dev)
{
	kfree(container_of(dev, struct pbtest_child, dev));
}

static int pbtest_add_children(struct pbtest_run *run, unsigned int n)
{
	struct pbtest_dev *pd = run->pd;
	struct pbtest_child *c;
	int ret;

	while (run->nr_children < n) {
		c = kzalloc(sizeof(*c), GFP_KERNEL);
		if (!c)
			return -ENOMEM;
		device_initialize(&c->dev);
		c->dev.parent = &pd->dev;
		c->dev.bus = pd->dev.bus;
		c->dev.type = &pbtest_child_type;
		c->dev.release = pbtest_child_release;
		set_dev_node(&c->dev, dev_to_node(&pd->dev));
		ret = dev_set_name(&c->dev, "%s.c%u", dev_name(&pd->dev), run->nr_children);
		if (!ret)
			ret = device_add(&c->dev);
		if (ret) {
			put_device(&c->dev);
			return ret;
		}
		run->children[run->nr_children++] = c;
	}
	return 0;
}

static int pbtest_alloc_pages(struct pbtest_run *run, unsigned int n, int node)
{
	struct pbtest_truth *t = &run->t;
	struct page *p;
	int nid;

	if (node != NUMA_NO_NODE && !node_online(node))
		node = NUMA_NO_NODE;
	while (n--) {
		p = alloc_pages_node(node, GFP_KERNEL, 0);
		if (!p)
			return -ENOMEM;
		list_add_tail(&p->lru, &run->pages);
		nid = page_to_nid(p);
		if (nid >= 0 && nid < PBTEST_NODES)
			t->pages_by_node[nid]++;
		else
			t->pages_other++;
	}
	return 0;
}

/* Scratch space: n pages taken and given back at once (not in the truth's page counts). */
static int pbtest_scratch(unsigned int n, int node)
{
	LIST_HEAD(pages);
	struct page *p;
	int ret = 0;

	if (node != NUMA_NO_NODE && !node_online(node))
		node = NUMA_NO_NODE;
	while (n--) {
		p = alloc_pages_node(node, GFP_KERNEL, 0);
		if (!p) {
			ret = -ENOMEM;
			break;
		}
		list_add_tail(&p->lru, &pages);
	}
	pbtest_free_pages(&pages);
	return ret;
}

/* The body: in the task that entered ->probe, or in the hop's worker. */
static long pbtest_body(void *arg)
{
	struct pbtest_run *run = arg;
	struct pbtest_truth *t = &run->t;
	const struct pbtest_cfg *cfg = &t->cfg;
	unsigned long nvcsw = current->nvcsw, nivcsw = current->nivcsw;
	int ret = 0;

	t->body_start_ns = ktime_get_ns();
	if (t->hop != PBTEST_HOP_NONE) {
		t->worker_cpu = raw_smp_processor_id();
		t->worker_node = cpu_to_node(t->worker_cpu);
		t->worker_pid = task_pid_nr(current);
		get_task_comm(t->worker_comm, current);
	}
	if (cfg->hang_ms)
		msleep(cfg->hang_ms);
	if (cfg->sleep_us)
		pbtest_sleep_us(cfg->sleep_us);
	if (cfg->busy_us)
		pbtest_busy_us(cfg->busy_us);
	if (cfg->pages)
		ret = pbtest_alloc_pages(run, cfg->pages, cfg->page_node);
	if (!ret && cfg->scratch)
		ret = pbtest_scratch(cfg->scratch, cfg->page_node);
	if (!ret && cfg->children)
		ret = pbtest_add_children(run, cfg->children);
	if (t->hop != PBTEST_HOP_NONE)
		t->worker_end_cpu = raw_smp_processor_id();
	t->body_nvcsw = current->nvcsw - nvcsw;
	t->body_nivcsw = current->nivcsw - nivcsw;
	t->body_end_ns = ktime_get_ns();
	return ret;
}

static void pbtest_node_work_fn(struct work_struct *work)
{
	struct pbtest_run *run = container_of(work, struct pbtest_run, work);

	run->ret = pbtest_body(run);
}

static int pbtest_kthread_fn(void *arg)
{
	struct pbtest_run *run = arg;

	run->ret = pbtest_body(run);
	complete(&run->done);
	return 0;
}

static long pbtest_hop_body(struct pbtest_run *run)
{
	struct pbtest_truth *t = &run->t;
	struct task_struct *task;
	int node = t->cfg.hop_node;

	if (node == NUMA_NO_NODE || !node_online(node))
		node = dev_to_node(&run->pd->dev);
	t->hop_node = node;
	switch (t->hop) {
	case PBTEST_HOP_WORK_ON_CPU:
		t->hop_cpu = pbtest_node_cpu(node);
		return work_on_cpu(t->hop_cpu, pbtest_body, run);
	case PBTEST_HOP_QUEUE_WORK_NODE:
		INIT_WORK(&run->work, pbtest_node_work_fn);
		queue_work_node(node, system_unbound_wq, &run->work);
		flush_work(&run->work);
		return run->ret;
	case PBTEST_HOP_KTHREAD:
		t->hop_cpu = pbtest_node_cpu(node);
		init_completion(&run->done);
		task = kthread_create_on_node(pbtest_kthread_fn, run, node, "pbtest_kt/%d",
					      t->hop_cpu);
		if (IS_ERR(task))
			return PTR_ERR(task);
		/* the thread exits by itself once done: keep its task_struct for kthread_stop() */
		get_task_struct(task);
		kthread_bind(task, t->hop_cpu);
		wake_up_process(task);
		wait_for_completion(&run->done);
		kthread_stop(task);
		put_task_struct(task);
		return run->ret;
	default:
		t->hop_node = NUMA_NO_NODE;
		return pbtest_body(run);
	}
}

/* ---- the drivers ---- */

static void pbtest_truth_begin(struct pbtest_truth *t, struct device *dev, const char *drv)
{
	t->start_ns = ktime_get_ns();
	t->cpu = raw_smp_processor_id();
	t->node = cpu_to_node(t->cpu);
	t->pid = task_pid_nr(current);
	get_task_comm(t->comm, current);
	t->async = current_is_async();
	strscpy(t->dev, dev_name(dev), sizeof(t->dev));
	if (dev->parent && dev->type == &pbtest_child_type)
		strscpy(t->parent, dev_name(dev->parent), sizeof(t->parent));
	t->drv = drv;
	t->dev_node = dev_to_node(dev);
	t->hop_node = NUMA_NO_NODE;
	t->hop_cpu = -1;
	t->worker_pid = -1;
	t->worker_cpu = -1;
	t->worker_end_cpu = -1;
	t->worker_node = NUMA_NO_NODE;
}

static void pbtest_truth_end(struct pbtest_truth *t, int ret)
{
	t->ret = ret;
	t->end_cpu = raw_smp_processor_id();
	t->end_ns = ktime_get_ns();
	pbtest_truth_push(t);
}

static int pbtest_probe(struct device *dev)
{
	struct pbtest_dev *pd = to_pbtest_dev(dev);
	struct pbtest_run *run;
	struct pbtest_truth *t;
	bool defer = false;
	int ret;
	u64 start = ktime_get_ns();

	run = kzalloc(sizeof(*run), GFP_KERNEL);
	if (!run)
		return -ENOMEM;
	t = &run->t;
	pbtest_truth_begin(t, dev, pbtest_driver.name);
	t->start_ns = start;
	run->pd = pd;
	INIT_LIST_HEAD(&run->pages);

	mutex_lock(&pd->lock);
	t->cfg = pd->cfg;
	if (pd->defer_left) {
		pd->defer_left--;
		defer = true;
	}
	t->defer_left = pd->defer_left;
	mutex_unlock(&pd->lock);
	t->hop = t->cfg.hop;
	if (defer) {
		ret = -EPROBE_DEFER;
		goto out;
	}

	ret = pbtest_hop_body(run);
	if (!ret && t->cfg.fail) {
		mutex_lock(&pd->lock);
		if (pd->cfg.fail && (!pd->cfg.fail_times || pd->fail_left)) {
			ret = -pd->cfg.fail;
			if (pd->fail_left && !--pd->fail_left)
				pd->cfg.fail = 0;
		}
		mutex_unlock(&pd->lock);
	}
	t->nr_children = run->nr_children;
	if (ret) {
		pbtest_del_children(run->children, &run->nr_children);
		pbtest_free_pages(&run->pages);
		goto out;
	}
	mutex_lock(&pd->lock);
	list_splice_init(&run->pages, &pd->pages);
	mutex_unlock(&pd->lock);
	if (t->cfg.release_ms)
		schedule_delayed_work(&pd->release, msecs_to_jiffies(t->cfg.release_ms));
	memcpy(pd->children, run->children, sizeof(pd->children));
	pd->nr_children = run->nr_children;
	mutex_lock(&pd->lock);
	pd->defer_left = pd->cfg.defer;
	t->defer_left = pd->defer_left;
	mutex_unlock(&pd->lock);
out:
	pbtest_truth_end(t, ret);
	kfree(run);
	return ret;
}

static int pbtest_remove(struct device *dev)
{
	struct pbtest_dev *pd = to_pbtest_dev(dev);

	cancel_delayed_work_sync(&pd->release);
	pbtest_del_children(pd->children, &pd->nr_children);
	pbtest_free_pages(&pd->pages);
	return 0;
}

/* release_ms after a successful probe: the kept pages go back before the device is unbound. */
static void pbtest_release_fn(struct work_struct *work)
{
	struct pbtest_dev *pd = container_of(to_delayed_work(work), struct pbtest_dev, release);
	LIST_HEAD(pages);

	mutex_lock(&pd->lock);
	list_splice_init(&pd->pages, &pages);
	mutex_unlock(&pd->lock);
	pbtest_free_pages(&pages);
}

static int pbtest_child_probe(struct device *dev)
{
	struct pbtest_truth *t;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	pbtest_truth_begin(t, dev, pbtest_child_driver.name);
	t->cfg = pbtest_cfg_default;
	pbtest_truth_end(t, 0);
	kfree(t);
	return 0;
}

static int pbtest_child_remove(struct device *dev)
{
	return 0;
}

static struct device_driver pbtest_driver = {
	.name = "pbtest",
	.bus = &pbtest_bus,
	.owner = THIS_MODULE,
	.probe = pbtest_probe,
	.remove = pbtest_remove,
};

static struct device_driver pbtest_child_driver = {
	.name = "pbtest_child",
	.bus = &pbtest_bus,
	.owner = THIS_MODULE,
	.probe = pbtest_child_probe,
	.remove = pbtest_child_remove,
	/* children are probed inside the parent's probe, also with async_probe=1 */
	.probe_type = PROBE_FORCE_SYNCHRONOUS,
};

/* ---- sysfs: the bus's numa_node, the devices' settings ---- */

static ssize_t numa_node_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", dev_to_node(dev));
}
static DEVICE_ATTR_RO(numa_node);

static struct attribute *pbtest_bus_attrs[] = {
	&dev_attr_numa_node.attr,
	NULL,
};
ATTRIBUTE_GROUPS(pbtest_bus);

static int pbtest_store_uint(struct device *dev, const char *buf, unsigned int max,
			     unsigned int *field)
{
	struct pbtest_dev *pd = to_pbtest_dev(dev);
	unsigned int v;
	int ret = kstrtouint(buf, 0, &v);

	if (ret)
		return ret;
	if (v > max)
		return -ERANGE;
	mutex_lock(&pd->lock);
	*field = v;
	if (field == &pd->cfg.defer)
		pd->defer_left = v;
	if (field == &pd->cfg.fail_times)
		pd->fail_left = v;
	mutex_unlock(&pd->lock);
	return 0;
}

static int pbtest_store_node(struct device *dev, const char *buf, int *field)
{
	struct pbtest_dev *pd = to_pbtest_dev(dev);
	int v, ret = kstrtoint(buf, 0, &v);

	if (ret)
		return ret;
	if (v != NUMA_NO_NODE && (v < 0 || v >= nr_node_ids || !node_online(v)))
		return -EINVAL;
	mutex_lock(&pd->lock);
	*field = v;
	mutex_unlock(&pd->lock);
	return 0;
}

#define PBTEST_ATTR_UINT(name, max)							\
static ssize_t pbtest_##name##_show(struct device *dev, struct device_attribute *attr,	\
				    char *buf)						\
{											\
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_pbtest_dev(dev)->cfg.name));	\
}											\
static ssize_t pbtest_##name##_store(struct device *dev, struct device_attribute *attr,	\
				     const char *buf, size_t len)			\
{											\
	int ret = pbtest_store_uint(dev, buf, max, &to_pbtest_dev(dev)->cfg.name);	\
	return ret ? ret : len;								\
}											\
static DEVICE_ATTR_RW(pbtest_##name)

#define PBTEST_ATTR_NODE(name)								\
static ssize_t pbtest_##name##_show(struct device *dev, struct device_attribute *attr,	\
				    char *buf)						\
{											\
	return sysfs_emit(buf, "%d\n", READ_ONCE(to_pbtest_dev(dev)->cfg.name));	\
}											\
static ssize_t pbtest_##name##_store(struct device *dev, struct device_attribute *attr,	\
				     const char *buf, size_t len)			\
{											\
	int ret = pbtest_store_node(dev, buf, &to_pbtest_dev(dev)->cfg.name);		\
	return ret ? ret : len;								\
}											\
static DEVICE_ATTR_RW(pbtest_##name)

PBTEST_ATTR_UINT(sleep_us, PBTEST_MAX_SLEEP_US);
PBTEST_ATTR_UINT(busy_us, PBTEST_MAX_BUSY_US);
PBTEST_ATTR_UINT(hang_ms, PBTEST_MAX_HANG_MS);
PBTEST_ATTR_UINT(pages, PBTEST_MAX_PAGES);
PBTEST_ATTR_UINT(children, PBTEST_MAX_CHILDREN);
PBTEST_ATTR_UINT(fail_times, UINT_MAX);
PBTEST_ATTR_UINT(defer, UINT_MAX);
PBTEST_ATTR_UINT(scratch, PBTEST_MAX_PAGES);
PBTEST_ATTR_UINT(release_ms, PBTEST_MAX_HANG_MS);
PBTEST_ATTR_NODE(page_node);
PBTEST_ATTR_NODE(hop_node);

static ssize_t pbtest_hop_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", pbtest_hop_names[READ_ONCE(to_pbtest_dev(dev)->cfg.hop)]);
}

static ssize_t pbtest_hop_store(struct device *dev, struct device_attribute *attr,
				const char *buf, size_t len)
{
	struct pbtest_dev *pd = to_pbtest_dev(dev);
	int i = sysfs_match_string(pbtest_hop_names, buf);

	if (i < 0)
		return i;
	mutex_lock(&pd->lock);
	pd->cfg.hop = i;
	mutex_unlock(&pd->lock);
	return len;
}
static DEVICE_ATTR_RW(pbtest_hop);

static ssize_t pbtest_fail_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(to_pbtest_dev(dev)->cfg.fail));
}

static ssize_t pbtest_fail_store(struct device *dev, struct device_attribute *attr,
				 const char *buf, size_t len)
{
	struct pbtest_dev *pd = to_pbtest_dev(dev);
	int v, ret = kstrtoint(buf, 0, &v);

	if (ret)
		return ret;
	if (v <= -MAX_ERRNO || v >= MAX_ERRNO)
		return -ERANGE;
	if (v < 0)
		v = -v;
	mutex_lock(&pd->lock);
	pd->cfg.fail = v;
	pd->fail_left = pd->cfg.fail_times;
	mutex_unlock(&pd->lock);
	return len;
}
static DEVICE_ATTR_RW(pbtest_fail);

static ssize_t pbtest_reset_store(struct device *dev, struct device_attribute *attr,
				  const char *buf, size_t len)
{
	struct pbtest_dev *pd = to_pbtest_dev(dev);

	mutex_lock(&pd->lock);
	pd->cfg = pbtest_cfg_default;
	pd->fail_left = 0;
	pd->defer_left = 0;
	mutex_unlock(&pd->lock);
	return len;
}
static DEVICE_ATTR_WO(pbtest_reset);

static struct attribute *pbtest_dev_attrs[] = {
	&dev_attr_pbtest_sleep_us.attr,
	&dev_attr_pbtest_busy_us.attr,
	&dev_attr_pbtest_hang_ms.attr,
	&dev_attr_pbtest_pages.attr,
	&dev_attr_pbtest_page_node.attr,
	&dev_attr_pbtest_children.attr,
	&dev_attr_pbtest_hop.attr,
	&dev_attr_pbtest_hop_node.attr,
	&dev_attr_pbtest_fail.attr,
	&dev_attr_pbtest_fail_times.attr,
	&dev_attr_pbtest_defer.attr,
	&dev_attr_pbtest_scratch.attr,
	&dev_attr_pbtest_release_ms.attr,
	&dev_attr_pbtest_reset.attr,
	NULL,
};
ATTRIBUTE_GROUPS(pbtest_dev);

static const struct device_type pbtest_dev_type = {
	.name = "pbtest",
	.groups = pbtest_dev_groups,
};

static const struct device_type pbtest_child_type = {
	.name = "pbtest_child",
};

/* ---- the bus ---- */

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
static int pbtest_match(struct device *dev, const struct device_driver *drv)
#else
static int pbtest_match(struct device *dev, struct device_driver *drv)
#endif
{
	if (dev->type == &pbtest_dev_type)
		return drv == &pbtest_driver;
	if (dev->type == &pbtest_child_type)
		return drv == &pbtest_child_driver;
	return 0;
}

static struct bus_type pbtest_bus = {
	.name = "pbtest",
	.match = pbtest_match,
	.dev_groups = pbtest_bus_groups,
};

static void pbtest_dev_release(struct device *dev)
{
	struct pbtest_dev *pd = to_pbtest_dev(dev);

	put_device(pd->pci_parent);
	kfree(pd);
}

static struct device *pbtest_find_parent(const char *name)
{
	if (!name || !*name || !strcmp(name, "-"))
		return NULL;
#if IS_ENABLED(CONFIG_PCI)
	return bus_find_device_by_name(&pci_bus_type, NULL, name);
#else
	return NULL;
#endif
}

static int pbtest_add_device(int i)
{
	const char *pname = i < pbtest_nr_parents ? pbtest_parents[i] : NULL;
	int node = pbtest_nodes[i];
	struct pbtest_dev *pd;
	int ret;

	if (node != NUMA_NO_NODE && (node < 0 || node >= nr_node_ids || !node_online(node))) {
		pr_err("pbtest: nodes[%d]=%d is not an online node\n", i, node);
		return -EINVAL;
	}
	pd = kzalloc(sizeof(*pd), GFP_KERNEL);
	if (!pd)
		return -ENOMEM;
	mutex_init(&pd->lock);
	pd->cfg = pbtest_cfg_default;
	INIT_LIST_HEAD(&pd->pages);
	INIT_DELAYED_WORK(&pd->release, pbtest_release_fn);
	device_initialize(&pd->dev);
	pd->dev.bus = &pbtest_bus;
	pd->dev.type = &pbtest_dev_type;
	pd->dev.release = pbtest_dev_release;
	set_dev_node(&pd->dev, node);
	pd->pci_parent = pbtest_find_parent(pname);
	if (pname && *pname && strcmp(pname, "-") && !pd->pci_parent) {
		pr_err("pbtest: parents[%d]: no PCI device %s\n", i, pname);
		put_device(&pd->dev);
		return -ENODEV;
	}
	pd->dev.parent = pd->pci_parent;
	ret = dev_set_name(&pd->dev, "pbtest%d", i);
	if (!ret)
		ret = device_add(&pd->dev);
	if (ret) {
		put_device(&pd->dev);
		return ret;
	}
	pbtest_devs[pbtest_nr_devs++] = pd;
	return 0;
}

static void pbtest_del_devices(void)
{
	while (pbtest_nr_devs)
		device_unregister(&pbtest_devs[--pbtest_nr_devs]->dev);
}

static int __init pbtest_init(void)
{
	int i, ret;

	pbtest_ring = kvcalloc(PBTEST_RING, sizeof(*pbtest_ring), GFP_KERNEL);
	if (!pbtest_ring)
		return -ENOMEM;
	pbtest_rp_ring = kvcalloc(PBTEST_RING, sizeof(*pbtest_rp_ring), GFP_KERNEL);
	if (!pbtest_rp_ring) {
		kvfree(pbtest_ring);
		return -ENOMEM;
	}
	pbtest_debugfs = debugfs_create_dir("pbtest", NULL);
	debugfs_create_file("truth", 0600, pbtest_debugfs, NULL, &pbtest_truth_fops);

	/* before the driver registers: its probes at load are timed too */
	ret = register_kretprobe(&pbtest_rp);
	if (ret)
		pr_warn("pbtest: no kretprobe on really_probe (%d): rp_start_ns/rp_end_ns stay 0\n", ret);
	pbtest_rp_armed = !ret;

	ret = bus_register(&pbtest_bus);
	if (ret)
		goto err_debugfs;
	/* devices first: registering the driver then probes them, asynchronously if asked */
	for (i = 0; i < pbtest_nr_nodes; i++) {
		ret = pbtest_add_device(i);
		if (ret)
			goto err_devices;
	}
	ret = driver_register(&pbtest_child_driver);
	if (ret)
		goto err_devices;
	pbtest_driver.probe_type = pbtest_async ? PROBE_PREFER_ASYNCHRONOUS :
						  PROBE_DEFAULT_STRATEGY;
	ret = driver_register(&pbtest_driver);
	if (ret)
		goto err_child_driver;
	return 0;

err_child_driver:
	driver_unregister(&pbtest_child_driver);
err_devices:
	pbtest_del_devices();
	bus_unregister(&pbtest_bus);
err_debugfs:
	if (pbtest_rp_armed)
		unregister_kretprobe(&pbtest_rp);
	debugfs_remove_recursive(pbtest_debugfs);
	kvfree(pbtest_rp_ring);
	kvfree(pbtest_ring);
	return ret;
}

static void __exit pbtest_exit(void)
{
	/* asynchronous probes started by the driver's registration finish first */
	async_synchronize_full();
	driver_unregister(&pbtest_driver);
	driver_unregister(&pbtest_child_driver);
	pbtest_del_devices();
	bus_unregister(&pbtest_bus);
	if (pbtest_rp_armed)
		unregister_kretprobe(&pbtest_rp);
	debugfs_remove_recursive(pbtest_debugfs);
	kvfree(pbtest_rp_ring);
	kvfree(pbtest_ring);
}

module_init(pbtest_init);
module_exit(pbtest_exit);

MODULE_DESCRIPTION("probebench test driver: probes that record their own ground truth");
MODULE_LICENSE("GPL");

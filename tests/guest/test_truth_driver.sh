#!/bin/bash
# The pbtest module (tests/kmod) itself, in the NUMA guest, with plain sysfs writes (no
# probebench): for each probe behaviour, the truth lines say what was set and what happened.
#  - bind from a shell pinned to CPU 0 (node 0) or CPU 2 (node 1): the entry task is that shell;
#  - sleep_us / busy_us / hang_ms: the probe lasts at least that long;
#  - pages on node 1, and page_node -1 (local: the writer's node);
#  - hops: work_on_cpu runs the body in kworker/2:N on CPU 2, queue_work_node in a kworker/uN:M
#    on a node-1 CPU, kthread in pbtest_kt/2 on CPU 2; pbtest0's work_on_cpu hop lands on CPU 0;
#  - fail=5: the bind write fails with EIO, the device stays unbound, its children are gone;
#  - defer=2: two writes fail with EAGAIN, the third binds; three truth lines (-517, -517, 0);
#  - children=2: pbtest1.c0/.c1 probed by pbtest_child inside the parent's probe, in the same
#    task, with the parent recorded; removed at unbind;
#  - module parameters: nodes=1,1,0 gives three devices on those nodes; async=1 probes each device
#    at load from an async worker on the device's node; async_probe=1 too; clean unload, and no
#    kernel warning in the log after the boot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kmod.sh"
need_vm
kmod_setup

vm_run driver --exec "$KMOD_GUEST_LIB"'
cd /out
command -v taskset >/dev/null || { echo "no taskset in the guest" >&2; exit 3; }
dmesg -c >boot-dmesg.txt # boot messages (QEMU topology warnings) are not from pbtest
pbt_unbind pbtest0; pbt_unbind pbtest1
# step NAME DEV CPU: bind DEV from a shell pinned to CPU, keep its pid, the write status and
# error, whether DEV is bound, the devices, the truth; then unbind DEV and reset it.
step() {
	echo clear >$PBT_TRUTH
	taskset -c "$3" sh -c "echo \$\$ >$1.pid; echo $2 2>$1.err >$PBT/drivers/pbtest/bind"
	echo $? >$1.rc
	if [ -e "$PBT/devices/$2/driver" ]; then echo bound; else echo unbound; fi >$1.state
	ls $PBT/devices >$1.devs
	for c in $PBT/devices/$2.c*; do
		[ -e "$c" ] && echo "${c##*/} $(basename "$(readlink "$c/driver")") $(cat "$c/numa_node")"
	done >$1.children
	cat $PBT_TRUTH >$1.truth
	[ ! -e "$PBT/devices/$2/driver" ] || pbt_unbind "$2"
	ls $PBT/devices >$1.after
	pbt_set "$2" reset 1
}
step plain0 pbtest1 0
step plain2 pbtest1 2
pbt_set pbtest1 sleep_us 20000; step sleep pbtest1 0
pbt_set pbtest1 busy_us 20000; step busy pbtest1 2
pbt_set pbtest1 hang_ms 500; step hang pbtest1 0
pbt_set pbtest1 pages 16; pbt_set pbtest1 page_node 1; step pages1 pbtest1 0
pbt_set pbtest1 pages 16; step pageslocal0 pbtest1 0
pbt_set pbtest1 pages 16; step pageslocal2 pbtest1 2
pbt_set pbtest1 hop work_on_cpu; pbt_set pbtest1 sleep_us 5000; step work_on_cpu pbtest1 0
pbt_set pbtest1 hop queue_work_node; pbt_set pbtest1 sleep_us 5000; step queue_work_node pbtest1 0
pbt_set pbtest1 hop kthread; pbt_set pbtest1 sleep_us 5000; step kthread pbtest1 0
pbt_set pbtest0 hop work_on_cpu; step work_on_cpu0 pbtest0 2
pbt_set pbtest1 hop work_on_cpu; pbt_set pbtest1 pages 8; pbt_set pbtest1 page_node -1; step hoppages pbtest1 0
pbt_set pbtest1 children 2; step children pbtest1 0
pbt_set pbtest1 children 2; pbt_set pbtest1 hop queue_work_node; step hopchildren pbtest1 0
pbt_set pbtest1 children 2; pbt_set pbtest1 pages 4; pbt_set pbtest1 fail 5; step fail pbtest1 0
# fail_times=1: the first bind fails, the next one binds
pbt_set pbtest1 fail_times 1; pbt_set pbtest1 fail 5
echo clear >$PBT_TRUTH
for i in 1 2; do
	echo pbtest1 2>/dev/null >$PBT/drivers/pbtest/bind; echo $? >>failonce.rc
done
cat $PBT_TRUTH >failonce.truth; pbt_unbind pbtest1; pbt_set pbtest1 reset 1
# defer=2: three writes from one pinned shell
pbt_set pbtest1 defer 2
echo clear >$PBT_TRUTH
taskset -c 0 sh -c "echo \$\$ >defer.pid; for i in 1 2 3; do echo pbtest1 2>>defer.err >$PBT/drivers/pbtest/bind; echo \$? >>defer.rc; done"
cat $PBT_TRUTH >defer.truth
[ -e $PBT/devices/pbtest1/driver ] && echo bound >defer.state
pbt_unbind pbtest1; pbt_set pbtest1 reset 1
# module parameters
echo clear >$PBT_TRUTH
pbt_load nodes=1,1,0 && for d in $PBT/devices/*; do echo "${d##*/} $(cat $d/numa_node) $(basename "$(readlink $d/driver)")"; done >nodes.devs
cat $PBT_TRUTH >nodes.truth
pbt_load async=1 && cat $PBT_TRUTH >async.truth
rmmod pbtest
insmod $PBT_KO async_probe=1 && sleep 2 && cat $PBT_TRUTH >async_probe.truth
rmmod pbtest && { [ -e $PBT ] && echo bus || true; [ -e /sys/kernel/debug/pbtest ] && echo debugfs || true; } >unload.left
lsmod >lsmod.txt
dmesg >dmesg.txt
exit 0'
expect_rc 0 "the guest script"

"$PY" - "$vm_out" <<'PYEOF' || fail "the pbtest driver does not do what it was asked"
import os, re, sys
d = sys.argv[1]
bad = []
def rd(n):
    p = os.path.join(d, n)
    return open(p).read() if os.path.exists(p) else None
def truth(n):
    out = []
    for line in (rd(n + ".truth") or "").splitlines():
        e = dict(kv.split("=", 1) for kv in line.split())
        for k, v in e.items():
            if re.fullmatch(r"-?\d+", v):
                e[k] = int(v)
        out.append(e)
    return out
def need(cond, what):
    if not cond:
        bad.append(what)
    return cond
def main_probe(n, dev="pbtest1"):
    ts = [e for e in truth(n) if e["dev"] == dev and e["drv"] == "pbtest"]
    if not need(len(ts) == 1, f"{n}: {len(ts)} truth lines for {dev}, expected 1: {ts}"):
        return None
    return ts[0]
def node_of(cpu):
    return 0 if cpu < 2 else 1

for n, cpu in (("plain0", 0), ("plain2", 2)):
    e = main_probe(n)
    if e:
        pid = int(rd(n + ".pid"))
        need(e["pid"] == pid and e["comm"] == "sh", f"{n}: entry task {e['pid']}/{e['comm']}, the writer was {pid}/sh")
        need(e["cpu"] == cpu and e["node"] == node_of(cpu), f"{n}: entry cpu/node {e['cpu']}/{e['node']}, writer pinned to CPU {cpu}")
        need(e["ret"] == 0 and e["hop"] == "none" and e["worker_pid"] == -1, f"{n}: {e}")
        need(e["dev_node"] == 1 and e["end_ns"] > e["start_ns"] > 0, f"{n}: {e}")
        need(rd(n + ".state").strip() == "bound" and rd(n + ".rc").strip() == "0", f"{n}: not bound")
        print(f"{n}: entry {e['comm']} pid {e['pid']} cpu {e['cpu']} node {e['node']}, {e['dur_ns']} ns")
for n, key, want in (("sleep", "sleep_us", 20000), ("busy", "busy_us", 20000), ("hang", "hang_ms", 500000)):
    e = main_probe(n)
    if e:
        asked = want * 1000
        need(e[key] * (1000 if key == "hang_ms" else 1) == want, f"{n}: truth says {key}={e[key]}")
        body = e["body_end_ns"] - e["body_start_ns"]
        need(e["dur_ns"] >= body >= asked, f"{n}: probe {e['dur_ns']} ns, body {body} ns, asked {asked} ns")
        print(f"{n}: asked {asked} ns, body {body} ns, probe {e['dur_ns']} ns, switches {e['body_nvcsw']}+{e['body_nivcsw']}")
e = main_probe("busy")
if e:
    need(e["body_nvcsw"] == 0, f"busy: the busy loop slept ({e['body_nvcsw']} voluntary switches)")
for n, want in (("pages1", [0, 16]), ("pageslocal0", [16, 0]), ("pageslocal2", [0, 16])):
    e = main_probe(n)
    if e:
        got = [e["pages_node0"], e["pages_node1"]]
        need(got == want and e["pages"] == 16, f"{n}: pages by node {got}, expected {want}")
        print(f"{n}: page_node {e['page_node']}, writer cpu {e['cpu']}: pages by node {got}")
for n, dev, cpus, comm in (("work_on_cpu", "pbtest1", {2}, r"kworker/2:\d+H?"),
                           ("queue_work_node", "pbtest1", {2, 3}, r"kworker/u\d+:\d+"),
                           ("kthread", "pbtest1", {2}, r"pbtest_kt/2"),
                           ("work_on_cpu0", "pbtest0", {0}, r"kworker/0:\d+H?")):
    e = main_probe(n, dev)
    if not e:
        continue
    node = node_of(min(cpus))
    pid = int(rd(n + ".pid"))
    need(e["hop"] == n.rstrip("0"), f"{n}: hop {e['hop']}")
    need(e["pid"] == pid and e["comm"] == "sh", f"{n}: entry task {e['pid']}/{e['comm']}, writer {pid}")
    need(e["worker_pid"] not in (-1, pid) and re.fullmatch(comm, e["worker_comm"]),
         f"{n}: worker {e['worker_pid']}/{e['worker_comm']}, expected {comm}")
    need(e["worker_cpu"] in cpus and e["worker_end_cpu"] in cpus and e["worker_node"] == node and e["hop_node"] == node,
         f"{n}: worker cpu {e['worker_cpu']}-{e['worker_end_cpu']} node {e['worker_node']} hop_node {e['hop_node']}, expected CPUs {cpus}")
    if n != "queue_work_node":
        need(e["hop_cpu"] == min(cpus), f"{n}: hop_cpu {e['hop_cpu']}")
    need(e["start_ns"] < e["body_start_ns"] <= e["body_end_ns"] < e["end_ns"], f"{n}: body not inside the probe: {e}")
    print(f"{n}: entry {e['comm']} cpu {e['cpu']} -> {e['worker_comm']} pid {e['worker_pid']} cpu {e['worker_cpu']} node {e['worker_node']}, "
          f"body {e['body_end_ns'] - e['body_start_ns']} ns of {e['dur_ns']} ns")
e = main_probe("hoppages")
if e:
    need([e["pages_node0"], e["pages_node1"]] == [0, 8], f"hoppages: local pages of a hop to node 1 landed {[e['pages_node0'], e['pages_node1']]}")
for n, parent_task in (("children", "entry"), ("hopchildren", "worker")):
    ts = truth(n)
    p = main_probe(n)
    kids = [e for e in ts if e["drv"] == "pbtest_child"]
    if not p or not need(len(kids) == 2, f"{n}: {len(kids)} child probes"):
        continue
    pid = p["pid"] if parent_task == "entry" else p["worker_pid"]
    for i, k in enumerate(sorted(kids, key=lambda k: k["dev"])):
        need(k["dev"] == f"pbtest1.c{i}" and k["parent"] == "pbtest1" and k["ret"] == 0 and k["dev_node"] == 1, f"{n}: child {k}")
        need(p["start_ns"] < k["start_ns"] <= k["end_ns"] < p["end_ns"], f"{n}: child probe not inside the parent's: {k}")
        need(k["pid"] == pid, f"{n}: child probed by pid {k['pid']}, the parent's {parent_task} is {pid}")
    need(p["nr_children"] == 2, f"{n}: nr_children {p['nr_children']}")
    ch = rd(n + ".children").split("\n")
    need(ch[:2] == ["pbtest1.c0 pbtest_child 1", "pbtest1.c1 pbtest_child 1"], f"{n}: children in sysfs {ch}")
    need("pbtest1.c0" not in rd(n + ".after"), f"{n}: children left after unbind: {rd(n + '.after')}")
    print(f"{n}: children probed in pid {pid} inside the parent's probe")
e = main_probe("fail")
if e:
    need(e["ret"] == -5 and e["fail"] == 5 and e["nr_children"] == 2 and e["pages_node0"] + e["pages_node1"] == 4, f"fail: {e}")
    need(rd("fail.rc").strip() != "0" and "Input/output error" in rd("fail.err"), f"fail: write status {rd('fail.rc')} {rd('fail.err')}")
    need(rd("fail.state").strip() == "unbound", "fail: the device is bound")
    need("pbtest1.c" not in rd("fail.devs"), f"fail: children left: {rd('fail.devs')}")
    print(f"fail: ret {e['ret']}, write: {rd('fail.err').strip()}")
fo = [e["ret"] for e in truth("failonce")]
need(fo == [-5, 0] and rd("failonce.rc").split() == ["1", "0"], f"fail_times=1: probes {fo}, writes {rd('failonce.rc').split()}")
ts = truth("defer")
pid = int(rd("defer.pid"))
need([e["ret"] for e in ts] == [-517, -517, 0] and [e["defer_left"] for e in ts] == [1, 0, 2]
     and all(e["pid"] == pid and e["body_start_ns"] == 0 for e in ts[:2]),
     f"defer=2: {[(e['ret'], e['defer_left'], e['pid']) for e in ts]}")
need(rd("defer.rc").split() == ["1", "1", "0"] and rd("defer.err").count("Resource temporarily unavailable") == 2,
     f"defer=2: writes {rd('defer.rc').split()}, {rd('defer.err')}")
need((rd("defer.state") or "").strip() == "bound", "defer=2: not bound after the third write")
print(f"defer: probes returned {[e['ret'] for e in ts]}")
need((rd("nodes.devs") or "").split("\n")[:3] == ["pbtest0 1 pbtest", "pbtest1 1 pbtest", "pbtest2 0 pbtest"], f"nodes=1,1,0: {rd('nodes.devs')}")
for n in ("async", "async_probe"):
    ts = [e for e in truth(n) if e["drv"] == "pbtest"]
    need(len(ts) == 2, f"{n}: {len(ts)} probes at load")
    for e in ts:
        need(e["async"] == 1 and e["comm"].startswith("kworker/u") and e["node"] == e["dev_node"],
             f"{n}: {e['dev']} probed by {e['comm']} async={e['async']} node {e['node']}, device node {e['dev_node']}")
        print(f"{n}: {e['dev']} probed at load by {e['comm']} cpu {e['cpu']} node {e['node']} (device node {e['dev_node']})")
# every probe, at load or bound by a write, deferred, failed or a child: the driver's kretprobe
# gives the driver core's really_probe span around its ->probe
spans = 0
for f in sorted(os.listdir(d)):
    if f.endswith(".truth"):
        for e in truth(f[:-6]):
            spans += 1
            need(0 < e["rp_start_ns"] <= e["start_ns"] <= e["end_ns"] <= e["rp_end_ns"],
                 f"{f}: {e['dev']} ->probe {e['start_ns']}..{e['end_ns']} not inside really_probe "
                 f"{e['rp_start_ns']}..{e['rp_end_ns']}")
need(spans > 10, f"only {spans} truth lines to check the really_probe span of")
print(f"really_probe spans around ->probe: {spans} probes checked")
need(rd("unload.left") == "", f"left after rmmod: {rd('unload.left')}")
need("pbtest" not in rd("lsmod.txt"), "pbtest still loaded")
for l in rd("dmesg.txt").splitlines():
    if re.search(r"BUG|WARNING|Call Trace|refcount|leak|sleeping function", l):
        bad.append(f"kernel log: {l}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
echo PASS

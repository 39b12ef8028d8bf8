#!/bin/bash
# Measurement facts of `probebench run` on a real two-node kernel (the NUMA guest, kprobes):
#  - the e1000e function on node 1 (0000:81:00.0), writer on node 0 and on node 1: its driver
#    probe hops into a kworker on a node-1 CPU whatever the writer's node (pci_call_probe's
#    work_on_cpu), reported on the device's node. Its probe takes ~0.6 s under TCG and makes
#    ~130k slab allocations (ACPI methods): by default they are counted per CPU, not sampled
#    (the record says so and has no sampled figures), and no probe, task or page record may be
#    lost;
#  - the node-1 virtio-rng function cycled at PCI level with the writer on node 0: its probe and
#    its virtio child's probe, nested in it, both run in a node-1 kworker, and both are recorded;
#    that run samples the slab allocations too (--slab-samples): the counters hold at least what
#    the samples saw, node by node, when none was lost;
#  - the virtio child of the node-1 virtio-rng function (0000:82:00.0), cycled on the virtio bus:
#    probed in the writer's own task on a CPU of the writer's node, reported off the device's node with the
#    writer on node 0 and on it with the writer on node 1;
#  - the kprobe method is the one used; pages by node are reported and add up; every device ends
#    bound; the records validate; every window counts its own losses, none misses its probe;
#  - with kprobes disarmed (debugfs kprobes/enabled = 0), auto reports the first bind's missing
#    probe as a measurement failure and moves to the tracepoint method for the others;
#  - when the kernel refuses to create the kprobe event (one of the same name exists: EEXIST),
#    auto says why and measures every bind with the tracepoint method.
. "$(dirname "$0")/lib.sh"
"$PROBEBENCH" --help | grep -q '^  run ' || skip "this build has no run command"
need_vm

vm_run measure --exec '
rc=0
probebench run 0000:81:00.0 --writer-node 0,1 --iterations 3 --warmup 1 --json e1000e.json || rc=$?
probebench run 0000:82:00.0 --writer-node 0 --slab-samples --iterations 3 --warmup 1 --json rngpci.json || rc=$?
c=$(basename /sys/bus/pci/devices/0000:82:00.0/virtio*)
echo "$c" >child.txt
probebench run "$c" --writer-node 0,1 --iterations 3 --warmup 1 --json child.json || rc=$?
# kprobes disarmed system-wide: the kprobe events exist and never fire, so the first bind
# succeeds with no probe seen; auto must say so and move on to the tracepoint method
k=/sys/kernel/debug/kprobes/enabled
if [ -w $k ]; then
	echo 0 >$k
	probebench run "$c" --writer-node 0 --iterations 3 --warmup 0 --json fallback.json || rc=$?
	echo 1 >$k
fi
# the kprobe event cannot be created: one of the same name (with the pid of the run: exec keeps it) is
# already there, so the kernel refuses ours (EEXIST); auto must say why and use tracepoint
ke=/sys/kernel/tracing/kprobe_events
sh -c "echo \"p:probebench/really_probe_\$\$ really_probe\" >>$ke &&
	exec probebench run $c --writer-node 0 --iterations 3 --warmup 0 --json noevent.json" || rc=$?
grep -o "probebench/really_probe_[0-9]*" $ke | sed "s/^/-:/" >>$ke || true
{
	echo "0000:81:00.0 $(basename "$(readlink /sys/bus/pci/devices/0000:81:00.0/driver)")"
	echo "0000:82:00.0 $(basename "$(readlink /sys/bus/pci/devices/0000:82:00.0/driver)")"
	echo "$c $(basename "$(readlink /sys/bus/virtio/devices/$c/driver)")"
} >after.txt
exit $rc'
expect_rc 0 "probebench run with measurement in the guest"
for f in e1000e.json child.json rngpci.json; do
	[ -s "$vm_out/$f" ] || fail "$f did not come back from the guest"
	validate_json "$vm_out/$f" "$PB_SOURCE_DIR/schema/run.schema.json" || fail "$f does not validate"
done
child=$(cat "$vm_out/child.txt")
grep -qx "0000:81:00.0 e1000e" "$vm_out/after.txt" || fail "e1000e function not bound after the run"
grep -qx "0000:82:00.0 virtio-pci" "$vm_out/after.txt" || fail "virtio-rng function not bound after the run"
grep -qx "$child virtio_rng" "$vm_out/after.txt" || fail "$child not bound to virtio_rng after the run"

[ -s "$vm_out/fallback.json" ] || fail "no fallback.json: the guest has no writable kprobes/enabled in debugfs"
validate_json "$vm_out/fallback.json" "$PB_SOURCE_DIR/schema/run.schema.json" || fail "fallback.json does not validate"
"$PY" - "$vm_out/fallback.json" <<'PYEOF' || fail "auto did not move past a method that saw no probe"
import json, sys
d = json.load(open(sys.argv[1]))
its = d["iterations"]
first, rest = its[0]["measurement"], [i["measurement"] for i in its[1:]]
print("first:", first.get("missing_probe"), "->", first.get("method_after"), "; then:",
      [(m["method"], len(m["probes"])) for m in rest])
assert first["method"] == "kprobe" and first["probes"] == [] and "missing_probe" in first, first
assert first["method_after"] == "tracepoint", first
assert rest and all(m["method"] == "tracepoint" and len(m["probes"]) == 1 for m in rest), rest
o = d["measurement"]["observers"][0]
assert o["missing_probes"] == 1 and o["info"]["fell_back_from"] == ["kprobe"], o
assert o["info"]["method"] == "tracepoint" and "saw no probe" in o["info"]["fallback_reason"], o
s = d["summary"][0]["measurement"]
assert s["iterations_missing_probe"] == 1 and s["probes"][0]["probe_ns"]["N"] == len(rest), s
PYEOF

[ -s "$vm_out/noevent.json" ] || fail "no noevent.json: the run with its kprobe event taken did not write its record"
validate_json "$vm_out/noevent.json" "$PB_SOURCE_DIR/schema/run.schema.json" || fail "noevent.json does not validate"
"$PY" - "$vm_out/noevent.json" <<'PYEOF' || fail "auto did not fall back when the kprobe event could not be created"
import json, sys
d = json.load(open(sys.argv[1]))
o = d["measurement"]["observers"][0]
print("observer:", o["info"]["method"], o["info"]["fell_back_from"], o["info"]["fallback_reason"])
assert o["info"]["method"] == "tracepoint" and o["info"]["fell_back_from"] == ["kprobe"], o
assert "cannot create the kprobe event" in o["info"]["fallback_reason"], o
ms = [i["measurement"] for i in d["iterations"]]
assert len(ms) == 3 and all(m["method"] == "tracepoint" and len(m["probes"]) == 1 for m in ms), ms
assert o["missing_probes"] == 0, o
PYEOF

"$PY" - "$vm_out/e1000e.json" "$vm_out/child.json" "$child" "$vm_out/rngpci.json" <<'PYEOF' || fail "measurement facts do not match the guest"
import json, sys
e, c, child = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
rp = json.load(open(sys.argv[4]))
bad = []
def node_of_cpu(doc, cpu):
    for n in doc["topology"]["nodes"]:
        if cpu in n["cpus"]:
            return n["node"]
    return None
for name, d in (("e1000e", e), ("child", c), ("rng PCI", rp)):
    for it in d["iterations"]:
        m = it["measurement"]
        if "missing_probe" in m or not m["lost_exact"]:
            bad.append(f"{name} it {it['iteration']}: missing probe or inexact losses: {m.get('missing_probe')} {m['lost_exact']}")
    for o in d["measurement"]["observers"]:
        if o["missing_probes"] or o["info"]["fell_back_from"]:
            bad.append(f"{name}: observer {o}")
for name, d in (("e1000e", e), ("child", c)):
    if d["status"] != "complete":
        bad.append(f"{name}: status {d['status']}")
    if d["measurement"]["used"] != ["kprobe"]:
        bad.append(f"{name}: methods used {d['measurement']['used']}, expected kprobe")
    nodes = {i["writer_node"] for i in d["iterations"]}
    if nodes != {0, 1}:
        bad.append(f"{name}: writer nodes {nodes}")
    for it in d["iterations"]:
        f = it.get("measurement", {})
        mem = f.get("memory")
        if not mem or sum(mem["pages_by_node"]) + mem["pages_unknown_node"] != mem["pages_total"] \
                or len(mem["pages_by_node"]) != 2:
            bad.append(f"{name} it {it['iteration']}: pages by node missing or not adding up: {mem}")
for it in e["iterations"]:
    ps = [p for p in it["measurement"]["probes"] if p["depth"] == 0 and p["driver"] == "e1000e"]
    if len(ps) != 1:
        bad.append(f"e1000e it {it['iteration']}: {len(ps)} e1000e probe records"); continue
    p = ps[0]
    print(f"e1000e writer node {it['writer_node']}: probe in {p['comm']} cpu {p['cpu']} node {p['node']}, "
          f"{p['duration_ns']/1e3:.0f} us, hop {p['hop'] and p['hop']['function']}")
    if it["measurement"]["lost_records"]:
        bad.append(f"e1000e it {it['iteration']}: {it['measurement']['lost_records']} lost records")
    if not p["hop"] or not p["comm"].startswith("kworker"):
        bad.append(f"e1000e it {it['iteration']}: no hop into a kworker: {p}")
    elif p["hop"]["function"].startswith("0x") or p["hop"]["whole_probe"]:
        # kallsyms is readable in the guest: the label is the work's function; PCI moves
        # only the driver's ->probe, really_probe stays in the writer
        bad.append(f"e1000e it {it['iteration']}: hop {p['hop']}")
    else:
        w = p["hop"]["worker"]
        print(f"  worker: {w['on_cpu_ns']/1e3:.0f} us on a CPU of {p['hop']['duration_ns']/1e3:.0f} us, "
              f"{w['context_switches']} switches, {w['migrations']} migrations")
        if not 0 < w["on_cpu_ns"] <= p["hop"]["duration_ns"]:
            bad.append(f"e1000e it {it['iteration']}: worker on-CPU time {w} outside the hop")
    if p["node"] != 1 or node_of_cpu(e, p["cpu"]) != 1 or p["on_device_node"] is not True:
        bad.append(f"e1000e it {it['iteration']}: probe not on node 1: {p}")
    if p["duration_ns"] > it["bind_ns"]:
        bad.append(f"e1000e it {it['iteration']}: probe longer than its bind write")
    # slab flood of the e1000e probe (its worker on node 1): counted per CPU, not sampled
    sp = it["measurement"]["memory"]["slab_proxy"]
    if sp["sampled"] is not False or "allocs_by_node" in sp or "bytes_by_node" in sp \
            or not sp["counted_by_node"] or len(sp["counted_by_node"]) != 2 or not sp["counted_by_node"][1]:
        bad.append(f"e1000e it {it['iteration']}: slab proxy {sp}")
    else:
        print(f"  slab allocations: counted {sp['counted_by_node']}, not sampled (lost flood records {it['measurement']['lost_slab_records']})")
    # pages of the probe itself: its worker runs on node 1 and allocates there
    pm = p["memory"]
    if not pm or len(pm["pages_by_node"]) != 2 or pm["pages_by_node"][1] == 0 \
            or sum(pm["pages_by_node"]) > it["measurement"]["memory"]["pages_total"]:
        bad.append(f"e1000e it {it['iteration']}: probe pages {pm}")
    else:
        print(f"  probe pages by node {pm['pages_by_node']}")
for it in c["iterations"]:
    ps = [p for p in it["measurement"]["probes"] if p["depth"] == 0 and p["driver"] == "virtio_rng"]
    if len(ps) != 1:
        bad.append(f"child it {it['iteration']}: {len(ps)} virtio_rng probe records"); continue
    p = ps[0]
    print(f"{child} writer node {it['writer_node']} cpu {it['writer_cpu']}: probe in {p['comm']} "
          f"cpu {p['cpu']} node {p['node']}, on device node {p['on_device_node']}")
    # no hop: the probe queues a short work and waits for it (a flush of a few us), which
    # holds far less than half of the probe: not a hop
    if p["hop"] or p["pid"] != it["measurement"]["writer_tid"] or p["comm"] != "probebench":
        bad.append(f"child it {it['iteration']}: not probed in the writer's task: {p}")
    # the writer is pinned to its node's CPUs (it may move between them inside the write)
    if node_of_cpu(c, p["cpu"]) != it["writer_node"] or p["node"] != it["writer_node"]:
        bad.append(f"child it {it['iteration']}: probe cpu/node {p['cpu']}/{p['node']}, writer {it['writer_cpu']}/{it['writer_node']}")
    if p["on_device_node"] is not (it["writer_node"] == 1):
        bad.append(f"child it {it['iteration']}: on_device_node {p['on_device_node']} with the writer on node {it['writer_node']}")
# the writers' own memory sits on their nodes (request buffer and a stack page)
wm = e["hygiene"]["writer_memory"]
print("writer memory:", wm)
if sorted(x["expected_node"] for x in wm) != [0, 1] or not all(x["on_writer_node"] is True for x in wm):
    bad.append(f"writer memory not on the writers' nodes: {wm}")
# no udevd in this guest: the kernel's bind uevent only, udev's copy is not waited for
for it in e["iterations"] + c["iterations"]:
    m = it["measurement"]
    if not m["uevent_kernel_ns"] or m["uevent_udev_ns"] is not None:
        bad.append(f"{it['target']} it {it['iteration']}: uevents {m['uevent_kernel_ns']} / {m['uevent_udev_ns']}")
if rp["status"] != "complete" or len(rp["iterations"]) != 3:
    bad.append(f"rng PCI level: status {rp['status']}, {len(rp['iterations'])} iterations")
for it in rp["iterations"]:
    m = it["measurement"]
    if m["lost_records"]:
        bad.append(f"rng PCI it {it['iteration']}: {m['lost_records']} lost records")
    own = [p for p in m["probes"] if p["depth"] == 0 and p["driver"] == "virtio-pci"]
    kids = [p for p in m["probes"] if p["depth"] == 1 and p["bus"] == "virtio" and p["driver"] == "virtio_rng"]
    print(f"rng PCI writer node {it['writer_node']}: " + "; ".join(
        f"{p['driver']} d{p['depth']} in {p['comm']} cpu {p['cpu']} node {p['node']} {p['duration_ns']/1e3:.0f} us"
        for p in own + kids) + f"; lost slab records {m['lost_slab_records']}")
    # --slab-samples: the samples of the probing tasks, within what the counters saw
    sp = m["memory"]["slab_proxy"]
    if sp["sampled"] is not True or len(sp["allocs_by_node"]) != 2 or not sum(sp["allocs_by_node"]) \
            or not sp["counted_by_node"] or (not m["lost_slab_records"] and any(
                a > (sp["counted_by_node"][k] if k < len(sp["counted_by_node"]) else 0)
                for k, a in enumerate(sp["allocs_by_node"]))):
        bad.append(f"rng PCI it {it['iteration']}: sampled slab proxy {sp}")
    else:
        print(f"  slab allocations: sampled {sp['allocs_by_node']}, counted {sp['counted_by_node']}")
    if len(own) != 1 or len(kids) != 1:
        bad.append(f"rng PCI it {it['iteration']}: {len(own)} virtio-pci and {len(kids)} virtio_rng probe records")
        continue
    for p in own + kids:
        if not p["comm"].startswith("kworker") or p["node"] != 1 or p["on_device_node"] is not True:
            bad.append(f"rng PCI it {it['iteration']}: {p['driver']} not probed in a node-1 kworker: {p}")
    o, k = own[0], kids[0]
    if not (o["start_ns"] <= k["start_ns"] and k["start_ns"] + k["duration_ns"] <= o["start_ns"] + o["duration_ns"]):
        bad.append(f"rng PCI it {it['iteration']}: the child's probe is not inside the function's")
for name, d in (("e1000e", e), ("child", c)):
    for s in d["summary"]:
        m = s["measurement"]
        print(f"{name} {s['placement']}: " + ", ".join(
            f"{g['driver']} d{g['depth']} p50 {g['probe_ns']['percentile']['50.000000']/1e3:.0f} us "
            f"on node {g['on_device_node']['yes']}/{g['on_device_node']['yes'] + g['on_device_node']['no']}"
            for g in m["probes"]) + f"; pages {m['memory'] and m['memory']['pages_by_node']}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
echo PASS

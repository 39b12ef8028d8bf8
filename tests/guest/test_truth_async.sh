#!/bin/bash
# The shape of the probe-path change this tool was started for: really_probe itself runs in
# another task, queued on the device's node, while the task that asked for the probe waits for
# it. A stock kernel shows that shape when a driver that prefers asynchronous probing is
# registered: the module loader queues the probe with async_schedule_dev() (queue_work_node()
# on the device's node) and waits in async_synchronize_full(). In the NUMA guest, the pbtest
# module (tests/kmod) is loaded with async=1 and one device on node 1, by tests/guest/
# observe_load.c with the observer armed around the finit_module() call (kprobe and tracepoint
# methods). The observer's probe must agree with the driver's own truth: the device, the async
# worker that ran it (task, CPU, node), a hop that moved the whole probe, whose origin is the
# loading task, and a duration not shorter than the driver's. PB_TRUTH_METHODS narrows the
# methods, PB_TRUTH_KEEP=DIR keeps what the guest wrote, PB_TRUTH_DUMP=1 adds the observer's
# decoded events to it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kmod.sh"
helper=${PB_BUILD_DIR:-}/observe_load
[ -x "$helper" ] || skip "no observe_load program in the build directory (${PB_BUILD_DIR:-unset})"
need_vm
kmod_setup
vm_opts+=(--add "$helper")
methods=${PB_TRUTH_METHODS:-kprobe tracepoint}
vm_run async --timeout "${PB_VM_TIMEOUT:-300}" --exec "$KMOD_GUEST_LIB
methods='$methods'
dump='${PB_TRUTH_DUMP:-}'"'
cd /out
# the first PCI bridge of node 1: the test device hangs below it
p1=$(pbt_bridge 1)
[ -n "$p1" ] || { echo "no PCI bridge on node 1" >&2; exit 3; }
echo $p1 >parent.txt
for m in $methods; do
	rmmod pbtest 2>/dev/null
	[ -z "$dump" ] || { mkdir -p dump-$m && export PB_OBSERVER_DUMP=/out/dump-$m; }
	observe_load $m /sys/bus/pci/devices/$p1 $PBT_KO "nodes=1 parents=$p1 async=1" >$m.json 2>$m.err
	echo $? >$m.rc
	cat $PBT_TRUTH >$m.truth
done
rmmod pbtest
exit 0'
# PB_TRUTH_KEEP=DIR keeps what the guest wrote; PB_TRUTH_DUMP=1 adds the observer's decoded events
[ -z "${PB_TRUTH_KEEP:-}" ] || { mkdir -p "$PB_TRUTH_KEEP" && cp -r "$vm_out"/. "$PB_TRUTH_KEEP"/; }
expect_rc 0 "the guest script"

failed=0
for m in $methods; do
	f=$vm_out/$m
	echo "--- $m: observe_load exit $(cat "$f.rc"): $(cat "$f.err")"
	"$PY" - "$f.json" "$f.truth" "$m" <<'PYEOF' || failed=$((failed + 1))
import json, sys
rec = json.load(open(sys.argv[1]))
truth = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[2]) if line.strip()]
m = sys.argv[3]
bad = []
def need(ok, what):
    print(("  ok   " if ok else "  FAIL ") + what)
    if not ok:
        bad.append(what)
need(rec["ret"] == 0, f"the module loaded (ret {rec['ret']})")
t = [e for e in truth if e["dev"] == "pbtest0"]
need(len(t) == 1 and t[0]["async"] == "1", f"the driver probed pbtest0 once, asynchronously: {t}")
if bad:
    sys.exit(1)
t = t[0]
f = rec["facts"]
ps = [p for p in f["probes"] if p["device"] == "pbtest0"]
need(len(ps) == 1, f"{m}: one probe of pbtest0 in the window: {[p['device'] for p in f['probes']]}")
if bad:
    sys.exit(1)
p = ps[0]
need(p["pid"] == int(t["pid"]) and p["comm"] == t["comm"],
     f"{m}: task {p['pid']}/{p['comm']}, truth {t['pid']}/{t['comm']} (the async worker)")
need(p["pid"] != rec["writer_tid"], f"{m}: not the loading task {rec['writer_tid']}")
cpus = {int(t["cpu"]), int(t["end_cpu"])}
need(p["cpu"] in cpus or p["migrations"] > 0, f"{m}: CPU {p['cpu']}, truth {sorted(cpus)}")
need(p["node"] == int(t["node"]) == 1, f"{m}: node {p['node']}, truth {t['node']} (the device's node)")
need(p["on_device_node"] is True, f"{m}: on the device's node")
h = p["hop"]
need(h is not None and h["whole_probe"] and h["pid"] == p["pid"],
     f"{m}: the whole probe hopped to the worker: {h}")
need(h is not None and h["origin_pid"] == rec["writer_tid"],
     f"{m}: the hop's origin is the loading task {rec['writer_tid']}: {h and h['origin_pid']}")
dur = int(t["end_ns"]) - int(t["start_ns"])
need(p["duration_ns"] >= dur - 2000, f"{m}: duration {p['duration_ns']} ns, the driver's own {dur} ns")
print(f"  {m}: probe of pbtest0 in {p['comm']} on CPU {p['cpu']} (node {p['node']}), "
      f"{p['duration_ns'] / 1e3:.1f} us (driver {dur / 1e3:.1f} us), load {rec['load_ns'] / 1e6:.1f} ms")
sys.exit(1 if bad else 0)
PYEOF
done
[ "$failed" -eq 0 ] || fail "$failed of the methods disagree with the driver's truth"
echo PASS

#!/bin/bash
# The case the seed patch's cover letter measured: three NVMe functions on node 1 bound in
# parallel, each bind written from its own pinned writer thread at the same moment (the writers
# meet at a gate before the unbinds and before the binds). Every iteration of every function is
# verified; where per-probe measurement is in the record, each probe has its CPU and duration
# and, in most iterations, the three bind writes overlap in time (the write's start is the
# probe's start_ns - start_offset_ns). Not in every one: three writers pinned to node 1's two
# vCPUs share them with the node-1 worker that runs the probes, so under TCG a writer can get its
# CPU only after another's write has ended. Sequential writers would never overlap at all.
# The probes themselves need not overlap: pci_call_probe hands all three to a worker on a node-1
# CPU, and the workqueue may run them one after another.
. "$(dirname "$0")/lib.sh"
"$PROBEBENCH" run --help | grep -q -- '--parallel' || skip "this build's run has no --parallel"
need_vm

vm_run parallel --exec '
probebench run --parallel 0000:83:00.0 0000:84:00.0 0000:85:00.0 --writer-node 1 \
	--iterations 6 --warmup 1 --json par.json
rc=$?
for d in 0000:83:00.0 0000:84:00.0 0000:85:00.0; do
	echo "$d $(basename "$(readlink /sys/bus/pci/devices/$d/driver)")"
done >after.txt
exit $rc'
expect_rc 0 "parallel run in the guest"
for d in 0000:83:00.0 0000:84:00.0 0000:85:00.0; do
	grep -qx "$d nvme" "$vm_out/after.txt" || fail "$d is not bound to nvme after the run"
done
validate_json "$vm_out/par.json" "$PB_SOURCE_DIR/schema/run.schema.json" ||
	fail "the parallel run record does not validate"
"$PY" - "$vm_out/par.json" <<'PYEOF' || fail "the parallel run record"
import json, sys, collections
doc = json.load(open(sys.argv[1]))
bad = []
if doc["status"] != "complete":
    bad.append("status %r" % doc["status"])
by_iter = collections.defaultdict(dict)
overlapped = measured = 0
for it in doc["iterations"]:
    if it["outcome"] != "ok" or not it["verified"]:
        bad.append("iteration %r" % it)
    if it["writer_node"] != 1:
        bad.append("%s iteration %d: writer on node %d" % (it["target"], it["iteration"], it["writer_node"]))
    by_iter[it["iteration"]][it["target"]] = it
for i, its in sorted(by_iter.items()):
    if len(its) != 3:
        bad.append("iteration %d has %d targets" % (i, len(its)))
        continue
    windows, writes = [], []
    for t, it in its.items():
        m = it.get("measurement")
        if not m:
            continue
        own = [p for p in m.get("probes", []) if p.get("depth", 0) == 0]
        if not own:
            bad.append("%s iteration %d: no probe record" % (t, i))
            continue
        p = own[0]
        if p.get("cpu") is None or not p.get("duration_ns"):
            bad.append("%s iteration %d: probe without cpu/duration: %r" % (t, i, p))
        windows.append((p["start_ns"], p["start_ns"] + p["duration_ns"]))
        w0 = p["start_ns"] - p["start_offset_ns"]
        writes.append((w0, w0 + it["bind_ns"]))
    if len(writes) == 3:
        measured += 1
        t0 = min(s for s, e in writes)
        ok = max(s for s, e in writes) <= min(e for s, e in writes)
        overlapped += ok
        print("iteration %d: bind writes (start, end) in ms from the first start: %s -> %s" % (
            i, " ".join("(%.1f, %.1f)" % ((s - t0) / 1e6, (e - t0) / 1e6) for s, e in sorted(writes)),
            "overlap" if ok else "do not all overlap"))
    if len(windows) == 3:
        print("iteration %d: probes %s" % (i, "overlap" if max(s for s, e in windows) <= min(e for s, e in windows) else "ran one after another (workqueue)"))
print("iterations:", len(doc["iterations"]), "targets per iteration:", sorted({len(v) for v in by_iter.values()}))
if measured and 2 * overlapped < measured:
    bad.append("the three bind writes overlapped in only %d of %d iterations" % (overlapped, measured))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
echo PASS

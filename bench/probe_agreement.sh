#!/bin/bash
# Agreement of the reported probe duration with an independent reference, in the NUMA guest.
# The reference is the kernel's own tracefs kprobe and kretprobe events on really_probe (set up
# here through kprobe_events, read from the trace buffer with trace_clock=mono), recorded during
# the same `probebench run` whose own numbers come from its own tracefs kprobe events (samples decoded from
# its ring buffer). Each probe the tool reports is paired with the reference probe of the same
# device that started within 200 us of it; the ratio of medians per device is printed.
# Goal: medians within 5%. Devices: e1000e (probe in a node-1 kworker), the node-1 virtio-rng
# function (PCI probe with the virtio child's probe nested in it), one NVMe function.
# Both observer methods are compared, kprobe and tracepoint, in two runs of one boot.
# ITERATIONS (default 10) per device and writer node; needs QEMU and a kernel (see probebench-vm).
set -eu
ITERATIONS=${ITERATIONS:-10}
# shellcheck source=lib/guest.sh
. "$(dirname "$0")/lib/guest.sh" agree
. "$top/bench/lib/reference.sh"
"$vm" --probebench "$PROBEBENCH" --out "$out" --exec "$REF_START
probebench run 0000:81:00.0 0000:82:00.0 0000:83:00.0 --writer-node 0,1 \
	--iterations $ITERATIONS --warmup 1 --method kprobe --json run.json >run.txt
rc=\$?
probebench run 0000:81:00.0 0000:82:00.0 0000:83:00.0 --writer-node 0,1 \
	--iterations $ITERATIONS --warmup 1 --method tracepoint --json run-tp.json >run-tp.txt || rc=\$?
$REF_STOP
exit \$rc" >"$out/vm.log" 2>&1 || {
	rc=$?
	cat "$out/vm.log" >&2
	echo "the guest run failed (exit $rc)" >&2
	exit 1
}
/usr/bin/python3 - "$top/bench/lib" "$out/trace.txt" "$out/run.json" "$out/run-tp.json" <<'PYEOF'
import collections, json, statistics, sys
sys.path.insert(0, sys.argv.pop(1))
import reference
ref, lost = reference.load(sys.argv[1])
print("reference: tracefs kprobe/kretprobe events on really_probe (trace_clock mono, us resolution)")
worst = 0.0
for path in sys.argv[2:]:
    doc = json.load(open(path))
    tool = collections.defaultdict(list)
    methods = set()
    for it in doc["iterations"]:
        for p in (it.get("measurement") or {}).get("probes", []):
            tool[p["device"]].append((p["start_ns"], p["duration_ns"], it["writer_node"]))
            methods.add(p["method"])
    how = {"kprobe": "tracefs kprobe events read through perf, CLOCK_MONOTONIC",
           "tracepoint": "the kernel's initcall_debug duration (us) ending at the printk:console sample"}
    print("\ntool: %s (%s); %d iterations per device and writer node" % (
        ",".join(sorted(methods)), "; ".join(how.get(m, m) for m in sorted(methods)), len(doc["iterations"]) // 6))
    print("%-14s %5s %12s %12s %7s %9s" % ("device", "pairs", "tool p50 us", "ref p50 us", "ratio", "max |d|%"))
    for dev in sorted(tool, key=str):
        pairs = []
        for s, d, _ in tool[dev]:
            best = reference.pair(ref, dev, s)
            if best:
                pairs.append((d, best[1]))
        if not pairs:
            print("%-14s no reference probe within 200 us of the tool's %d" % (dev, len(tool[dev])))
            worst = float("inf")
            continue
        t = statistics.median(p[0] for p in pairs)
        r = statistics.median(p[1] for p in pairs)
        dmax = max(abs(a - b) / b for a, b in pairs if b) * 100
        worst = max(worst, abs(t / r - 1))
        print("%-14s %5d %12.1f %12.1f %7.3f %9.2f" % (dev, len(pairs), t / 1e3, r / 1e3, t / r, dmax))
if lost:
    print("the trace buffer lost events: %d LOST lines" % lost)
print("\nlargest difference of medians: %.2f%% (goal <= 5%%)" % (worst * 100))
PYEOF

#!/bin/bash
# The observer's bias by CPU number, in the NUMA guest: the same probe (the virtio child of the
# node-1 virtio-rng function, cycled on the virtio bus) measured with the writer on the guest's
# first CPU and on its last, ITERATIONS (default 200) binds each, interleaved, for the kprobe and
# the tracepoint method in one boot. The probe itself runs in the writer, so only the CPU
# changes. Each probe is paired with an independent reference (the kernel's own tracefs kprobe
# events, trace buffer): the tool's offset from it (median of tool - reference) is what the
# observer adds inside the span, free of TCG's noise on the probe itself; the bias is how much
# more it adds on the last CPU than on the first, as a ratio of the probe; far from 1.00 it is the
# observer's own doing (one perf kprobe per CPU per observer made every really_probe run ~3N
# handlers, and how many fell inside the measured span depended on the CPU). Goal: 1.00 +- 0.01.
# PB_VM_ARGS: extra harness options, e.g. "--kernel-package linux-image-6.12.*+deb12-amd64-unsigned".
set -eu
ITERATIONS=${ITERATIONS:-200}
# shellcheck source=lib/guest.sh
. "$(dirname "$0")/lib/guest.sh" bias
# A reference records every really_probe in the same boot, independently of the tool: the
# kernel's own tracefs kprobe/kretprobe events in the trace buffer (trace_clock mono). Each
# probe the tool reports is paired with the reference probe of the same device that started
# within 200 us; tool / reference per placement cancels what TCG's noise does to the probe
# itself, and leaves what the observer adds inside the measured span.
. "$top/bench/lib/reference.sh"
"$vm" --probebench "$PROBEBENCH" "${vm_args[@]}" --out "$out" --exec "$REF_START
child=\$(ls -d /sys/bus/pci/devices/0000:82:00.0/virtio[0-9]*) || exit 3
last=\$((\$(nproc) - 1))
rc=0
for m in kprobe tracepoint; do
	probebench run \"\$child\" --writer-cpu 0,\$last --iterations $ITERATIONS --warmup 2 \
		--method \$m --json run-\$m.json >run-\$m.txt || rc=\$?
done
$REF_STOP
exit \$rc" >"$out/vm.log" 2>&1 || {
	rc=$?
	cat "$out/vm.log" >&2
	echo "the guest run failed (exit $rc)" >&2
	exit 1
}
/usr/bin/python3 - "$top/bench/lib" "$out/trace.txt" "$out/run-kprobe.json" "$out/run-tracepoint.json" <<'PYEOF'
import collections, json, random, statistics, sys
sys.path.insert(0, sys.argv.pop(1))
import reference
ref, _ = reference.load(sys.argv[1])
def ci(a, b, n=2000):
    """95 % bootstrap interval of (median(b.tool)/median(b.ref)) / (median(a.tool)/median(a.ref))."""
    rng = random.Random(1)
    def q(x):
        s = rng.choices(x, k=len(x))
        return statistics.median(t for t, _ in s) / statistics.median(r for _, r in s)
    v = sorted(q(b) / q(a) for _ in range(n))
    return v[int(0.025 * n)], v[int(0.975 * n)]
print("CPU-number bias: really_probe of the node-1 virtio child, writer on the first vs the last CPU;")
print("reference: tracefs kprobe/kretprobe events in the trace buffer, same boot, paired per probe")
print(f"{'method':<11} {'CPU':>4} {'pairs':>5} {'tool p50':>9} {'ref p50':>9} {'offset p50':>10} {'tool/ref':>8}")
how = {"kprobe": "tracefs kprobe/kretprobe on really_probe read through perf, CLOCK_MONOTONIC",
       "tracepoint": "initcall_debug via printk:console (kernel us; inside really_probe: negative offset)"}
for path in sys.argv[2:]:
    r = json.load(open(path))
    by = collections.defaultdict(list)
    for it in r["iterations"]:
        m = it.get("measurement") or {}
        if it.get("outcome") not in (None, "ok") or m.get("missing_probe") or m.get("lost_records"):
            continue
        for p in m.get("probes", []):
            if p["depth"] != 0:
                continue
            best = reference.pair(ref, p["device"], p["start_ns"])
            if best:
                by[it["writer_cpu"]].append((p["duration_ns"], best[1]))
    cpus = sorted(by)
    if len(cpus) != 2:
        sys.exit(f"{path}: expected two writer CPUs with paired probes, got {cpus}")
    meth = r["measurement"]["used"][0]
    q = {}
    for c in cpus:
        t = statistics.median(x for x, _ in by[c]); rr = statistics.median(y for _, y in by[c])
        off = statistics.median(x - y for x, y in by[c])
        q[c] = t / rr
        print(f"{meth:<11} {c:>4} {len(by[c]):>5} {t/1e3:>7.0f}us {rr/1e3:>7.0f}us {off/1e3:>8.1f}us {t/rr:>8.3f}")
    lo, hi = ci(by[cpus[0]], by[cpus[1]])
    off = {c: statistics.median(x - y for x, y in by[c]) for c in cpus}
    refall = statistics.median(y for c in cpus for _, y in by[c])
    d = off[cpus[1]] - off[cpus[0]]
    print(f"{meth:<11} what the observer adds, CPU {cpus[1]} - CPU {cpus[0]}: {d/1e3:+.1f}us = "
          f"bias ratio {1 + d / refall:.4f} of the {refall/1e3:.0f}us probe (goal 1.00 +- 0.01)")
    print(f"{meth:<11} ratio of tool/ref medians, CPU {cpus[1]} / CPU {cpus[0]}: {q[cpus[1]]/q[cpus[0]]:.3f} "
          f"(95% {lo:.3f}-{hi:.3f}); {how.get(meth, meth)}")
PYEOF

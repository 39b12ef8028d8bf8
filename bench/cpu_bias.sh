#!/bin/bash
# The observer's bias by CPU number, in the NUMA guest: the same probe (the virtio child of the
# node-1 virtio-rng function, cycled on the virtio bus) measured with the writer on the guest's
# first CPU and on its last, ITERATIONS (default 200) binds each, interleaved, for the kprobe and
# the tracepoint method in one boot. The probe itself runs in the writer, so only the CPU
# changes: a ratio of medians (last CPU / first CPU) far from 1.00 is the observer's own doing
# (one kprobe per CPU per observer made every really_probe run ~3N handlers, and how many fell
# inside the measured span depended on the CPU). Goal: 1.00 +- 0.01 (TCG noise permitting:
# the tracepoint method's ratio in the same boot is the noise floor).
# PB_VM_ARGS: extra harness options, e.g. "--kernel-package linux-image-6.12.*+deb12-amd64-unsigned".
set -eu
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
top=$(cd "$(dirname "$0")/.." && pwd)
vm="$top/scripts/probebench-vm"
ITERATIONS=${ITERATIONS:-200}
read -r -a vm_args <<<"${PB_VM_ARGS:-}"
"$vm" --probebench "$PROBEBENCH" "${vm_args[@]}" --check >/dev/null 2>&1 || {
	echo "SKIP: the guest test bed is unavailable: $("$vm" --probebench "$PROBEBENCH" --check 2>&1 >/dev/null)"
	exit 77
}
out=$(mktemp -d /var/tmp/pb-bias.XXXXXX)
[ -n "${KEEP:-}" ] && echo "keeping $out" >&2 || trap 'rm -rf "$out"' EXIT
"$vm" --probebench "$PROBEBENCH" "${vm_args[@]}" --out "$out" --exec "
child=\$(ls -d /sys/bus/pci/devices/0000:82:00.0/virtio[0-9]*) || exit 3
last=\$((\$(nproc) - 1))
rc=0
for m in kprobe tracepoint; do
	probebench run \"\$child\" --writer-cpu 0,\$last --iterations $ITERATIONS --warmup 2 \
		--method \$m --json run-\$m.json >run-\$m.txt || rc=\$?
done
exit \$rc" >"$out/vm.log" 2>&1 || {
	rc=$?
	cat "$out/vm.log" >&2
	echo "the guest run failed (exit $rc)" >&2
	exit 1
}
/usr/bin/python3 - "$out/run-kprobe.json" "$out/run-tracepoint.json" <<'PYEOF'
import json, random, statistics, sys
def ci(a, b, n=2000):
    """95 % bootstrap interval of median(b) / median(a)."""
    rng = random.Random(1)
    r = sorted(statistics.median(rng.choices(b, k=len(b))) / statistics.median(rng.choices(a, k=len(a)))
               for _ in range(n))
    return r[int(0.025 * n)], r[int(0.975 * n)]
print("CPU-number bias: p50 of really_probe of the node-1 virtio child, writer on the first vs the last CPU")
print(f"{'method':<11} {'first CPU':>10} {'last CPU':>10} {'ratio':>6} {'95% CI':>13}  how")
how = {"kprobe": "tracefs kprobe/kretprobe on really_probe, one per process, CLOCK_MONOTONIC",
       "tracepoint": "initcall_debug via printk:console (kernel us)"}
for path in sys.argv[1:]:
    r = json.load(open(path))
    by = {}
    for it in r["iterations"]:
        m = it.get("measurement") or {}
        if it.get("outcome") not in (None, "ok") or m.get("missing_probe") or m.get("lost_records"):
            continue
        for p in m.get("probes", []):
            if p["depth"] == 0:
                by.setdefault(it["placement"], []).append(p["duration_ns"])
    keys = sorted(by)
    if len(keys) != 2:
        sys.exit(f"{path}: expected two placements, got {keys}")
    a, b = (statistics.median(by[k]) for k in keys)
    lo, hi = ci(by[keys[0]], by[keys[1]])
    meth = r["measurement"]["used"][0]
    print(f"{meth:<11} {a/1e3:>8.0f}us {b/1e3:>8.0f}us {b/a:>6.3f} {lo:>6.3f}-{hi:<6.3f}  {how.get(meth, meth)}; N={len(by[keys[0]])}/{len(by[keys[1]])}")
PYEOF

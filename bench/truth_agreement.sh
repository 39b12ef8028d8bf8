#!/bin/bash
# Agreement of probebench's probe durations with the pbtest driver's own truth (tests/kmod), per
# probe behaviour and method, in the NUMA guest: guest/test_truth_run runs pbtest0 and pbtest1
# (writer on node 0 and 1, 5 iterations each) for every behaviour with the kprobe and the
# tracepoint method and checks every fact; this bench pairs each measured probe with the
# driver's record of that same probe. The driver keeps two spans per probe: its ->probe
# (ktime_get_ns at entry and return) and, from a kretprobe of its own on really_probe, the
# driver core's really_probe around it — the span probebench measures. Per behaviour:
#   measured - really_probe   what the measurement adds (its own events, where its timestamps
#                             sit); the constant c is its median on the calibration probe "plain"
#   (measured - c) / really_probe   paired ratio, median over the probes, and the share of probes
#                             within 2 % (goal: every probe of a millisecond or more)
#   really_probe - ->probe    the driver core's own work around ->probe (not a measurement error:
#                             it is part of the probe's cost, and it varies with what ->probe did)
# PB_VM_KERNEL_PACKAGE chooses the guest kernel (e.g. linux-image-6.12.*+deb12-amd64-unsigned);
# PB_TRUTH_BEHAVIOURS narrows the behaviours (plain is the calibration: keep it).
set -eu
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /var/tmp/pb-truth.XXXXXX)
[ -n "${KEEP:-}" ] && echo "keeping $out" >&2 || trap 'rm -rf "$out"' EXIT
rc=0
PB_SOURCE_DIR=$top PB_TRUTH_KEEP=$out/guest bash "$top/tests/guest/test_truth_run.sh" >"$out/test.log" 2>&1 || rc=$?
case $rc in
0) ;;
77) echo "SKIP: $(grep -m1 -i skip "$out/test.log")"; exit 77 ;;
*) tail -40 "$out/test.log" >&2; echo "the truth test failed (exit $rc): the durations below are of a run that disagrees" >&2 ;;
esac
/usr/bin/python3 - "$top/tests/guest" "$out/guest" <<'PYEOF'
import glob, json, os, statistics, sys
sys.path.insert(0, sys.argv[1])
import truth_check

cells = {}  # (method, behaviour) -> [(->probe, measured, really_probe)]
for f in sorted(glob.glob(os.path.join(sys.argv[2], "*.json"))):
    label = os.path.basename(f)[:-5]
    meth, _, beh = label.partition("-")
    c = truth_check.Checker(json.load(open(f)), truth_check.parse_truth(f[:-5] + ".truth"), label)
    c.run()
    cells[(meth, beh)] = [d for ds in c.durations.values() for d in ds if d[2] is not None]
if not any(cells.values()):
    sys.exit("no probe paired with the driver's really_probe span (is the driver's kretprobe armed?)")
how = {"kprobe": "tracefs kprobe/kretprobe on really_probe, CLOCK_MONOTONIC",
       "tracepoint": "initcall_debug via printk:console (kernel us)"}
med = statistics.median
for meth in sorted({k[0] for k in cells}):
    plain = cells.get((meth, "plain")) or []
    const = med(m - rp for _, m, rp in plain) if plain else 0.0
    print(f"\n{meth}: {how.get(meth, meth)}")
    print(f"constant c = median(measured - really_probe) of 'plain' = {const / 1e3:.1f} us (n={len(plain)})")
    print(f"{'behaviour':<16} {'n':>3} {'->probe':>10} {'really_probe':>12} {'m - rp':>8} "
          f"{'(m-c)/rp':>9} {'in 2 %':>7} {'rp - ->probe (min..max)':>26}")
    worst = 0.0
    for (m_, b), v in sorted(cells.items()):
        if m_ != meth or not v:
            continue
        ratios = [(m - const) / rp for _, m, rp in v]
        within = sum(abs(r - 1) <= 0.02 for r in ratios)
        core = [rp - p for p, _, rp in v]
        rp50 = med(rp for _, _, rp in v)
        if rp50 >= 1e6 and b != "plain":
            worst = max(worst, abs(med(ratios) - 1))
        print(f"{b:<16} {len(v):>3} {med(p for p, _, _ in v) / 1e3:>8.0f}us {rp50 / 1e3:>10.0f}us "
              f"{med(m - rp for _, m, rp in v) / 1e3:>6.1f}us {med(ratios):>9.4f} {within:>3}/{len(v):<3} "
              f"{med(core) / 1e3:>8.0f}us ({min(core) / 1e3:.0f}..{max(core) / 1e3:.0f})")
    print(f"largest |median ratio - 1| over probes of a millisecond and more: {worst * 100:.2f} % (goal <= 2 %)")
PYEOF

#!/bin/bash
# Agreement of probebench with the pbtest driver's own truth (tests/kmod), per probe behaviour
# and method, in the NUMA guest: guest/test_truth_run runs pbtest0 and pbtest1 (writer on node 0
# and 1, 5 iterations each) for every behaviour with the kprobe and the tracepoint method and
# checks every fact; this bench keeps its durations. The driver times its own ->probe
# (ktime_get_ns); probebench times really_probe, which wraps ->probe with the driver core's own
# work (sysfs links, the bind uevent): a constant, taken as the median offset of the probe that
# does nothing ("plain"). Per behaviour: ratio of medians (measured - constant) / truth and the
# median offset. Goal: within 2 % of the truth plus the stated constant.
# PB_VM_ARGS-like choice of kernel: PB_VM_KERNEL_PACKAGE (e.g. linux-image-6.12.*+deb12-amd64-unsigned).
set -eu
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /var/tmp/pb-truth.XXXXXX)
[ -n "${KEEP:-}" ] && echo "keeping $out" >&2 || trap 'rm -rf "$out"' EXIT
rc=0
PB_SOURCE_DIR=$top bash "$top/tests/guest/test_truth_run.sh" >"$out/test.log" 2>&1 || rc=$?
case $rc in
0) ;;
77) echo "SKIP: $(grep -m1 -i skip "$out/test.log")"; exit 77 ;;
*) tail -40 "$out/test.log" >&2; echo "the truth test failed (exit $rc): the durations below are of a run that disagrees" >&2 ;;
esac
/usr/bin/python3 - "$out/test.log" <<'PYEOF'
import collections, re, statistics, sys
line = re.compile(r'DURATION (\S+)-(\S+) (\S+) (\S+) (\S+): truth p50 ([\d.]+) us, measured p50 ([\d.]+) us, measured - truth p50 ([\d.]+) us')
cells = collections.defaultdict(list)  # (method, behaviour) -> [(truth, measured, offset)]
for l in open(sys.argv[1], errors="replace"):
    m = line.search(l)
    if m:
        cells[(m.group(3), m.group(2))].append(tuple(float(m.group(i)) for i in (6, 7, 8)))
if not cells:
    sys.exit("no DURATION lines in the test's output")
how = {"kprobe": "tracefs kprobe/kretprobe on really_probe, CLOCK_MONOTONIC",
       "tracepoint": "initcall_debug via printk:console (kernel us)"}
for meth in sorted({k[0] for k in cells}):
    const = statistics.median(o for _, _, o in cells[(meth, "plain")]) if (meth, "plain") in cells else 0.0
    print(f"\n{meth}: {how.get(meth, meth)}; constant (median offset of 'plain') {const:.0f} us")
    print(f"{'behaviour':<16} {'truth p50':>10} {'measured':>10} {'offset':>8} {'(m-c)/truth':>11}")
    worst = 0.0
    for (m, b), v in sorted(cells.items()):
        if m != meth:
            continue
        t = statistics.median(x[0] for x in v); mm = statistics.median(x[1] for x in v)
        off = statistics.median(x[2] for x in v)
        ratio = (mm - const) / t if t else float("nan")
        if t >= 1000:  # below a millisecond the constant dominates
            worst = max(worst, abs(ratio - 1))
        print(f"{b:<16} {t:>8.0f}us {mm:>8.0f}us {off:>6.0f}us {ratio:>11.3f}")
    print(f"largest |ratio - 1| over probes of a millisecond and more: {worst * 100:.1f} % (goal <= 2 %)")
PYEOF

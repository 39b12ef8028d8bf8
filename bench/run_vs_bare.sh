# Per-cycle cost of `probebench run --no-measure` (bind entry; the observer's cost: run_observer_overhead.sh, PCI level, verification included; the journal is written once per run, before the first cycle)
# against a bare C loop doing the same two writes on the same device (the host's 1af4:1044
# function), in interleaved blocks within one invocation, alternating which goes first.
# Prints the medians and the ratio of medians. Needs root; holds the shared rng lock.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
: "${PB_BUILD_DIR:?PB_BUILD_DIR must name the build directory}"
BLOCKS=${BLOCKS:-10}
PER_BLOCK=${PER_BLOCK:-30}
# shellcheck source=lib/rng.sh
. "$here/lib/rng.sh"
: >"$work/bare.txt"
for b in $(seq 1 "$BLOCKS"); do
	run_tool() {
		"$PROBEBENCH" run --state-dir "$work/state" --no-measure -n "$PER_BLOCK" -w 0 --json "$work/run$b.json" \
			"$bdf" >/dev/null
	}
	run_bare() { "$PB_BUILD_DIR/bare_cycle" "$PER_BLOCK" >>"$work/bare.txt"; }
	if [ $((b % 2)) -eq 0 ]; then run_tool; run_bare; else run_bare; run_tool; fi
done
/usr/bin/python3 - "$work" "$BLOCKS" "$PER_BLOCK" <<'PYEOF'
import json, statistics, sys
work, blocks, per_block = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bare = [tuple(map(int, l.split())) for l in open(work + "/bare.txt")]
tool, ratios = [], []
def med(v, k): return statistics.median(x[k] for x in v)
for b in range(1, blocks + 1):
    block = [(i["cycle_ns"], i["unbind_ns"], i["bind_ns"])
             for i in json.load(open("%s/run%d.json" % (work, b)))["iterations"] if i["outcome"] == "ok"]
    tool += block
    ratios.append(med(block, 0) / med(bare[(b - 1) * per_block:b * per_block], 0))
print("%d blocks, %d cycles each side (bind entry, PCI level, same device, interleaved)" % (blocks, len(bare)))
print("               %12s %12s" % ("bare loop", "probebench"))
for k, name in ((0, "cycle (median)"), (1, "unbind write"), (2, "bind write")):
    print("%-14s %9.1f us %9.1f us" % (name, med(bare, k) / 1e3, med(tool, k) / 1e3))
print("ratio of per-cycle medians (probebench / bare): %.3f" % (med(tool, 0) / med(bare, 0)))
print("median of per-block ratios: %.3f (blocks from %.3f to %.3f)" % (statistics.median(ratios), min(ratios), max(ratios)))
print("probebench beyond its two write(2) calls (cycle_ns - unbind_ns - bind_ns: opens, hand-offs to"
      " the writer thread, verification): median %.1f us" % (statistics.median(c - u - b for c, u, b in tool) / 1e3))
print("method: CLOCK_MONOTONIC; bare cycle = unbind write + bind write; probebench cycle_ns ="
      " state check + both writes (writer thread) + driver-link verification (the journal is"
      " written once per run, before the first cycle); process start-up is in neither")
PYEOF

# Observer overhead through `probebench run`: median bind_ns of `run` (measurement on: the
# automatically chosen method, kmem events with the slab allocations counted, not sampled, as by
# default, uevents, writer counters) against `run --no-measure` (bare timing), same device (the
# host's 1af4:1044 function, PCI level), in interleaved blocks whose order alternates. Goal:
# median of per-block ratios <= 1.02. bind_ns is CLOCK_MONOTONIC around the bind write(2) in the
# writer thread; arming and decoding happen outside it. Also prints the perf records a measured window
# held (every traced event of every task: they grow with what else runs on the host). Needs
# root; holds the shared rng lock. BLOCKS (default 10) x PER_BLOCK (default 20) cycles per side.
set -eu
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
BLOCKS=${BLOCKS:-10}
PER_BLOCK=${PER_BLOCK:-20}
# shellcheck source=lib/rng.sh
. "$(dirname "$0")/lib/rng.sh"
for b in $(seq 1 "$BLOCKS"); do
	on() { "$PROBEBENCH" run --state-dir "$work/state" -n "$PER_BLOCK" -w 1 --json "$work/on$b.json" "$bdf" >/dev/null; }
	off() { "$PROBEBENCH" run --state-dir "$work/state" --no-measure -n "$PER_BLOCK" -w 1 --json "$work/off$b.json" "$bdf" >/dev/null; }
	if [ $((b % 2)) -eq 0 ]; then on; off; else off; on; fi
done
/usr/bin/python3 - "$work" "$BLOCKS" <<'PYEOF'
import json, statistics, sys
work, blocks = sys.argv[1], int(sys.argv[2])
def load(kind, b):
    d = json.load(open("%s/%s%d.json" % (work, kind, b)))
    return d, [i["bind_ns"] for i in d["iterations"] if i["outcome"] == "ok"]
on, off, ratios, probes = [], [], [], []
method = None
decoded = windows = 0
seen = []
for b in range(1, blocks + 1):
    d, v = load("on", b); on += v
    method = d["measurement"]["used"]
    decoded += d["measurement"]["observer"]["records_decoded"]
    windows += sum(1 for it in d["iterations"] if "probes" in it.get("measurement", {}))
    seen += [it["measurement"]["events_seen"] for it in d["iterations"] if "events_seen" in it.get("measurement", {})]
    for it in d["iterations"]:
        for p in it.get("measurement", {}).get("probes", []):
            if p["depth"] == 0:
                probes.append(p["duration_ns"])
    _, w = load("off", b); off += w
    ratios.append(statistics.median(v) / statistics.median(w))
print("%d blocks x %d cycles per side (PCI level, bind entry, same device, interleaved)" % (blocks, len(on) // blocks))
print("median bind_ns: bare (--no-measure) %.1f us, measured (%s) %.1f us" % (statistics.median(off) / 1e3, ",".join(method), statistics.median(on) / 1e3))
print("ratio of medians (measured / bare): %.3f   median of per-block ratios: %.3f   (goal: per-block <= 1.02)" % (statistics.median(on) / statistics.median(off), statistics.median(ratios)))
if windows:
    print("perf records per measured window: mean %.1f (measurement.observer.records_decoded / %d windows), median %.0f (events_seen)" % (decoded / windows, windows, statistics.median(seen) if seen else 0))
if probes:
    print("target's own probe (really_probe) p50 %.1f us while measured" % (statistics.median(probes) / 1e3))
PYEOF

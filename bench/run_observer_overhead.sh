#!/bin/bash
# Observer overhead through `probebench run`: median bind_ns of `run` (measurement on: the
# automatically chosen method, kmem events with the slab allocations counted, not sampled, as by
# default, uevents, writer counters) against `run --no-measure` (bare timing), same device (the
# host's 1af4:1044 function, PCI level), in interleaved blocks whose order rotates. Each buffer of
# BUFFERS (default "perf ftrace": run --buffer) is a measured side of its own, so the buffers are
# compared in the same blocks. Goal: median of per-block ratios <= 1.02. bind_ns is
# CLOCK_MONOTONIC around the bind write(2) in the writer thread; arming and decoding happen
# outside it. Also prints the records a measured window held (every traced event of every task:
# they grow with what else runs on the host). Needs root; holds the shared rng lock. BLOCKS
# (default 10) x PER_BLOCK (default 20) cycles per side.
set -eu
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
BLOCKS=${BLOCKS:-10}
PER_BLOCK=${PER_BLOCK:-20}
BUFFERS=${BUFFERS:-perf ftrace}
# shellcheck source=lib/rng.sh
. "$(dirname "$0")/lib/rng.sh"
sides="off $BUFFERS"
n_sides=$(echo "$sides" | wc -w)
for b in $(seq 1 "$BLOCKS"); do
	# the sides in turn, each block starting one further on
	set -- $sides
	for k in $(seq 0 $((n_sides - 1))); do
		i=$(((b + k) % n_sides + 1))
		side=${!i}
		if [ "$side" = off ]; then
			"$PROBEBENCH" run --state-dir "$work/state" --no-measure -n "$PER_BLOCK" -w 1 --json "$work/off$b.json" "$bdf" >/dev/null
		else
			"$PROBEBENCH" run --state-dir "$work/state" --buffer "$side" -n "$PER_BLOCK" -w 1 --json "$work/$side$b.json" "$bdf" >/dev/null
		fi
	done
done
/usr/bin/python3 - "$work" "$BLOCKS" $BUFFERS <<'PYEOF'
import json, statistics, sys
work, blocks, buffers = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def load(kind, b):
    d = json.load(open("%s/%s%d.json" % (work, kind, b)))
    return d, [i["bind_ns"] for i in d["iterations"] if i["outcome"] == "ok"]
off = {b: load("off", b)[1] for b in range(1, blocks + 1)}
alloff = [v for b in off for v in off[b]]
print("%d blocks x %d cycles per side (PCI level, bind entry, same device, interleaved)" % (blocks, len(alloff) // blocks))
print("median bind_ns: bare (--no-measure) %.1f us" % (statistics.median(alloff) / 1e3))
for buf in buffers:
    on, ratios, probes, seen = [], [], [], []
    method = None
    decoded = windows = 0
    obs = None
    for b in range(1, blocks + 1):
        d, v = load(buf, b)
        on += v
        method = d["measurement"]["used"]
        obs = d["measurement"]["observer"]
        decoded += obs["records_decoded"]
        windows += sum(1 for it in d["iterations"] if "probes" in it.get("measurement", {}))
        seen += [it["measurement"]["events_seen"] for it in d["iterations"] if "events_seen" in it.get("measurement", {})]
        for it in d["iterations"]:
            for p in it.get("measurement", {}).get("probes", []):
                if p["depth"] == 0:
                    probes.append(p["duration_ns"])
        ratios.append(statistics.median(v) / statistics.median(off[b]))
    print("--buffer %s (%s): measured %.1f us; ratio of medians (measured / bare): %.3f   median of per-block ratios: %.3f   (goal: per-block <= 1.02)" % (
        buf, ",".join(method), statistics.median(on) / 1e3, statistics.median(on) / statistics.median(alloff), statistics.median(ratios)))
    print("  per-block ratios: %s" % " ".join("%.3f" % r for r in ratios))
    if windows:
        print("  records decoded per measured window: mean %.1f (observer.records_decoded / %d windows; with ftrace the slab allocations are records), median %.0f kept for the window (events_seen)" % (
            decoded / windows, windows, statistics.median(seen) if seen else 0))
    print("  observer: %d fds, %.2f MiB (%s)" % (obs["fds"], obs["locked_bytes"] / 2**20, obs.get("buffer", "perf")))
    if probes:
        print("  target's own probe (really_probe) p50 %.1f us while measured" % (statistics.median(probes) / 1e3))
PYEOF

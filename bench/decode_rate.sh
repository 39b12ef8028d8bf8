#!/bin/bash
# Decoding rate of the observer: how many perf records one core turns into events per second,
# and what a whole window's facts cost per event. Runs `probebench run` on the host's 1af4:1044
# function (PCI level) for N cycles (default 40) and reads the record:
#   measurement.observer.records_decoded / decode_ns: ring records decoded (copy out of the ring,
#     libtraceevent field reads) per second of one core: decoding is single-threaded;
#   iterations[].measurement decode_work_ns / events_seen: the window's work (decoding, the
#     assembly, device lookups, SLUB snapshot) per event of the window;
#   decode_ns: the write's return to the facts (with the wait for udev's uevent).
# Needs root; holds the shared rng lock.
set -eu
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
N=${N:-40}
# shellcheck source=lib/rng.sh
. "$(dirname "$0")/lib/rng.sh"
"$PROBEBENCH" run --state-dir "$work/state" -n "$N" -w 1 --json "$work/r.json" "$bdf" >/dev/null
/usr/bin/python3 - "$work/r.json" <<'PYEOF'
import json, statistics, sys
d = json.load(open(sys.argv[1]))
o = d["measurement"]["observer"]
ms = [i["measurement"] for i in d["iterations"]
      if i.get("measurement") and "events_seen" in i["measurement"] and i["measurement"]["events_seen"]]
if not o["decode_ns"] or not ms:
    sys.exit("no decoded events in the record (measurement off, or kmsg method)")
print("method %s, %d CPUs, %d windows" % (",".join(d["measurement"]["used"]), o["cpus"], len(ms)))
print("record decoding: %d records in %.2f ms: %.0f events/s per core (%.0f ns per event)" % (
    o["records_decoded"], o["decode_ns"] / 1e6, o["records_decoded"] / (o["decode_ns"] / 1e9),
    o["decode_ns"] / o["records_decoded"]))
ev = sum(m["events_seen"] for m in ms)
work = sum(m["decode_work_ns"] for m in ms)
print("window facts: %d events, work %.2f ms: %.0f events/s per core (%.0f ns per event, "
      "assembly and device lookups included)" % (ev, work / 1e6, ev / (work / 1e9), work / ev))
print("write's return to the facts: median %.2f ms (with the wait for udev's uevent), "
      "median work %.2f ms, median %d events per window" % (
          statistics.median(m["decode_ns"] for m in ms) / 1e6,
          statistics.median(m["decode_work_ns"] for m in ms) / 1e6,
          statistics.median(m["events_seen"] for m in ms)))
PYEOF

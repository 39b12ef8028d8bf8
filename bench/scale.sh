#!/bin/bash
# The observer at scale: what a run costs in file descriptors and locked memory on the default
# 4-vCPU, two-node guest with one target, and on a 64-vCPU, four-node guest (probebench-vm
# --cpus 64 --nodes 4) with 8 targets in --parallel; and the observer's overhead on each, as
# measured / --no-measure median bind_ns per target. Goal (issue 16): on the big guest, the
# observer's fds and locked memory both <= 4x the small guest's; the overhead ratio as on the
# small guest.
#
# Each guest is booted once and runs BLOCKS (default 2) blocks of a measured run and a
# --no-measure run of PER_BLOCK (default 5) cycles each (1 warm-up), alternating which goes
# first. Every run has --timeout 120s: under TCG a bind on the 64-vCPU guest takes seconds. The observer's figures come from the record (measurement.observer.fds and
# .locked_bytes) when the binary writes them; otherwise from the guest's /proc while the
# measured runs go: a sampler reads, every second, the process's fd count, how many of its fds are
# perf events (anon_inode:[perf_event]), VmLck and VmPin, and keeps /proc/PID/maps at the most
# perf fds seen (in the measured and the bare runs alike, so that its own cost falls on both
# sides); the observer's locked memory is then the sum of its perf_event mappings (the
# rings perf locks for it). The peak over the measured runs is printed.
#
# Usage: PROBEBENCH=build-rel/probebench bench/scale.sh
#        bench/scale.sh --analyze DIR     print the figures of a kept work directory again
#   BLOCKS, PER_BLOCK   blocks and cycles per run (defaults 2 and 5)
#   BIG_CPUS, BIG_NODES the big guest (defaults 64 and 4; BIG_CPUS a multiple of BIG_NODES)
#   SMALL_TARGETS       the small guest's targets (default 0000:82:00.0, virtio-rng on node 1)
#   BIG_TARGETS         the big guest's (default: eight functions on the four nodes: the
#                       virtio-rng and NVMe of node 0, the virtio-rng and three NVMe of node 1,
#                       the virtio-rng of nodes 2 and 3)
#   NOFILE              the fd limit (ulimit -n) of the runs (default 65536: the observer's
#                       cost, not the limit, is measured); before them one measured cycle
#                       runs at the limit the guest started with (1024, as a server's shell
#                       has it) to show which methods the observer gets there
#   RUN_ARGS            more options for every run (e.g. --method kprobe)
#   PB_VM_ARGS          more harness options (e.g. --kernel-package ...); TIMEOUT per boot
#                       (default 7200 s)
#   KEEP=1              keep the work directory (records, samples, maps, logs)
# Run it under `flock /tmp/pb-guest.lock` where guests share the machine.
set -eu
analyze() { # DIR: the figures, from the records, samples and maps a run left in DIR
	/usr/bin/python3 - "$1" <<'PYEOF'
import json, os, statistics, sys
out = sys.argv[1]
blocks, big_cpus, big_nodes = open(os.path.join(out, "params")).read().split()
blocks = int(blocks)
label_small, label_big = "4 vCPU/2 nodes", "%s vCPU/%s nodes" % (big_cpus, big_nodes)

def perf_maps_bytes(path):  # the sum of the perf_event mappings (the observer's rings)
    total = 0
    if os.path.exists(path):
        for line in open(path):
            if "[perf_event]" in line:
                lo, hi = line.split()[0].split("-")
                total += int(hi, 16) - int(lo, 16)
    return total

def guest(name):
    d = os.path.join(out, name)
    status = dict(l.split() for l in open(os.path.join(d, "status.txt")))
    lim = open(os.path.join(d, "limits.txt")).read().split()
    res = {"nofile": lim[1], "limit_check": lim[2] if len(lim) > 2 else None, "status": status}
    p = os.path.join(d, "limit.json")
    if os.path.exists(p):  # the one cycle at the starting fd limit: what each observer got
        got = {}
        for o in (json.load(open(p)).get("measurement") or {}).get("observers", []):
            info = o.get("info") or {}
            why = o.get("error") or info.get("fallback_reason") or ""
            got.setdefault((o.get("method"), why), []).append(o["target"])
        res["limit_methods"] = got
    recs = {}
    for kind in ("on", "off"):
        for b in range(1, blocks + 1):
            p = os.path.join(d, "%s%d.json" % (kind, b))
            if os.path.exists(p):
                recs[(kind, b)] = json.load(open(p))
    res["recs"] = recs
    res["targets"] = max([len(r.get("targets", [])) for r in recs.values()] or [0])
    # the observer's figures: the record's when it has them, else the samples'
    fds = locked = None
    src = "record"
    for (kind, b), r in recs.items():
        o = (r.get("measurement") or {}).get("observer") if kind == "on" else None
        if isinstance(o, dict) and "fds" in o and "locked_bytes" in o:
            fds = max(fds or 0, o["fds"])
            locked = max(locked or 0, o["locked_bytes"])
    peak = [0, 0, 0, 0]
    best_maps = 0
    for b in range(1, blocks + 1):
        s = os.path.join(d, "on%d.samples" % b)
        if os.path.exists(s):
            for line in open(s):
                v = [int(x) for x in line.split()]
                if len(v) == 4:
                    peak = [max(a, c) for a, c in zip(peak, v)]
        best_maps = max(best_maps, perf_maps_bytes(os.path.join(d, "on%d.maps" % b)))
    if fds is None:
        src = "/proc samples"
        fds, locked = peak[1], best_maps
    res.update(src=src, fds=fds, locked=locked, all_fds=peak[0], vmlck_kb=peak[2], vmpin_kb=peak[3])
    # observers that could not open, by reason
    errs = {}
    for (kind, b), r in recs.items():
        if kind != "on":
            continue
        for o in (r.get("measurement") or {}).get("observers", []):
            why = o.get("error") or (o.get("info") or {}).get("fallback_reason")
            if why:
                errs.setdefault("%s: %s" % (o.get("method"), why), set()).add(o["target"])
    res["errors"] = errs
    # overhead: per target, median over blocks of median(bind_ns measured) / median(bind_ns bare)
    ratios, on_med, off_med = {}, {}, {}
    for b in range(1, blocks + 1):
        if ("on", b) not in recs or ("off", b) not in recs:
            continue
        per = {}
        for kind in ("on", "off"):
            for it in recs[(kind, b)]["iterations"]:
                if it["outcome"] == "ok":
                    per.setdefault((it["target"], kind), []).append(it["bind_ns"])
        for (t, kind), v in per.items():
            (on_med if kind == "on" else off_med).setdefault(t, []).extend(v)
            if kind == "on" and (t, "off") in per:
                ratios.setdefault(t, []).append(statistics.median(v) / statistics.median(per[(t, "off")]))
    res["ratios"] = {t: statistics.median(v) for t, v in ratios.items()}
    res["on_med"] = {t: statistics.median(v) for t, v in on_med.items()}
    res["off_med"] = {t: statistics.median(v) for t, v in off_med.items()}
    return res

s, g = guest("small"), guest("big")
def mib(b):
    return "%.1f MiB" % (b / 1048576)
print("observer's resources (peak over the measured runs; from the %s / %s)" % (s["src"], g["src"]))
print("%-34s %16s %16s %8s" % ("", label_small, label_big, "ratio"))
print("%-34s %16d %16d %8s" % ("targets", s["targets"], g["targets"], ""))
print("%-34s %16d %16d %8.2f" % ("observer fds (perf events)", s["fds"], g["fds"], g["fds"] / max(s["fds"], 1)))
print("%-34s %16s %16s %8.2f" % ("observer locked memory (rings)", mib(s["locked"]), mib(g["locked"]), g["locked"] / max(s["locked"], 1)))
print("%-34s %16d %16d %8.2f" % ("process fds, all", s["all_fds"], g["all_fds"], g["all_fds"] / max(s["all_fds"], 1)))
print("%-34s %16s %16s %8.2f" % ("process VmLck (mlockall)", mib(s["vmlck_kb"] * 1024), mib(g["vmlck_kb"] * 1024), g["vmlck_kb"] / max(s["vmlck_kb"], 1)))
print("%-34s %16s %16s" % ("process VmPin", mib(s["vmpin_kb"] * 1024), mib(g["vmpin_kb"] * 1024)))
print("%-34s %16s %16s" % ("fd limit (ulimit -n)", s["nofile"], g["nofile"]))
for name, r in (("small", s), ("big", g)):
    for (method, why), targets in sorted((r.get("limit_methods") or {}).items(), key=str):
        print("%s guest at fd limit %s: %d target(s) observed by %s%s" % (
            name, r["limit_check"], len(targets), method, " (fell back: %s)" % why if why else ""))
print("goal: both ratios <= 4: fds %s, locked memory %s%s" % (
    "met" if g["fds"] <= 4 * s["fds"] else "NOT met", "met" if g["locked"] <= 4 * s["locked"] else "NOT met",
    "; not comparable: an observer fell back or failed in the measured runs (below)" if s["errors"] or g["errors"] else ""))
for name, r in (("small", s), ("big", g)):
    bad = {k: v for k, v in r["status"].items() if v != "0"}
    if bad:
        print("%s guest: runs that exited non-zero: %s" % (name, " ".join("%s=%s" % kv for kv in sorted(bad.items()))))
    for why, targets in r["errors"].items():
        print("%s guest: measured runs: %d target(s) (%s) observed by %s" % (name, len(targets), " ".join(sorted(targets)), why))
print()
print("overhead: median bind_ns measured / --no-measure, median of %d per-block ratios" % blocks)
print("%-8s %-14s %12s %12s %8s" % ("guest", "target", "bare p50", "measured p50", "ratio"))
for name, r in (("small", s), ("big", g)):
    for t in sorted(r["ratios"]):
        print("%-8s %-14s %10.1fus %10.1fus %8.3f" % (name, t, r["off_med"][t] / 1e3, r["on_med"][t] / 1e3, r["ratios"][t]))
    if r["ratios"]:
        print("%-8s %-14s %12s %12s %8.3f" % (name, "median", "", "", statistics.median(r["ratios"].values())))
PYEOF
}
if [ "${1:-}" = --analyze ]; then
	[ -f "${2:-}/params" ] || { echo "usage: $0 --analyze DIR (a work directory kept with KEEP=1)" >&2; exit 2; }
	analyze "$2"
	exit 0
fi
BLOCKS=${BLOCKS:-2} PER_BLOCK=${PER_BLOCK:-5} BIG_CPUS=${BIG_CPUS:-64} BIG_NODES=${BIG_NODES:-4}
SMALL_TARGETS=${SMALL_TARGETS:-0000:82:00.0}
BIG_TARGETS=${BIG_TARGETS:-0000:21:00.0 0000:22:00.0 0000:82:00.0 0000:83:00.0 0000:84:00.0 0000:85:00.0 0000:91:00.0 0000:a1:00.0}
TIMEOUT=${TIMEOUT:-7200}
# shellcheck source=lib/guest.sh
. "$(dirname "$0")/lib/guest.sh" scale

# The guest's part (busybox sh, in /out): the blocks, each measured run with the sampler beside it.
# shellcheck disable=SC2016 # expanded in the guest
guest='
LIMIT_CHECK=$(ulimit -n)
[ -z "${NOFILE:-}" ] || ulimit -n "$NOFILE"
echo "nofile $(ulimit -n) $LIMIT_CHECK" >limits.txt
sample() { # TAG: "fds perf_fds VmLck_kB VmPin_kB" lines while probebench runs
	most=0
	while :; do
		for p in $(pidof probebench); do
			all=$(ls /proc/$p/fd 2>/dev/null | wc -l)
			perf=$(ls -l /proc/$p/fd 2>/dev/null | grep -c "perf_event")
			lck=$(awk "/^VmLck:/ { l = \$2 } /^VmPin:/ { p = \$2 } END { print l + 0, p + 0 }" /proc/$p/status 2>/dev/null)
			echo "$all $perf $lck"
			rings=$(grep -c "perf_event" /proc/$p/maps 2>/dev/null)
			if [ "${rings:-0}" -gt "$most" ]; then
				cat /proc/$p/maps >"$1.maps" 2>/dev/null
				most=$rings
			fi
		done
		sleep 1
	done >"$1.samples"
}
one() { # on|off BLOCK
	tag=$1$2
	extra=
	[ "$1" = off ] && extra=--no-measure
	sample "$tag" &
	sp=$!
	probebench run $TARGETS $RUN_ARGS $extra -n "$PER_BLOCK" -w 1 --timeout 120s --progress none \
		--json "$tag.json" >"$tag.log" 2>&1
	echo "$tag $?" >>status.txt
	kill $sp
	wait $sp 2>/dev/null
}
# First one measured cycle at the fd limit the guest started with: which methods the observer
# gets there (it falls back when perf_event_open fails).
(
	ulimit -n "$LIMIT_CHECK"
	probebench run $TARGETS $RUN_ARGS -n 1 -w 0 --timeout 120s --progress none --json limit.json >limit.log 2>&1
	echo "limit $?" >>status.txt
)
b=1
while [ $b -le "$BLOCKS" ]; do
	if [ $((b % 2)) = 0 ]; then one on $b; one off $b; else one off $b; one on $b; fi
	b=$((b + 1))
done
'
boot() { # NAME TARGETS RUN-ARGS [HARNESS OPTIONS...]
	local name=$1 targets=$2 args=$3 t0=$SECONDS
	shift 3
	echo "booting the $name guest ($*)" >&2
	"$vm" --probebench "$PROBEBENCH" "${vm_args[@]}" --timeout "$TIMEOUT" --boot-timeout "$TIMEOUT" \
		--out "$out/$name" "$@" --env "TARGETS=$targets" --env "RUN_ARGS=$args ${RUN_ARGS:-}" \
		--env "BLOCKS=$BLOCKS" --env "PER_BLOCK=$PER_BLOCK" --env "NOFILE=${NOFILE:-65536}" \
		--exec "$guest" >"$out/$name.log" 2>&1 || { tail -30 "$out/$name.log" >&2; exit 1; }
	echo "$name guest: $((SECONDS - t0)) s; $(grep 'guest reached' "$out/$name.log" | sed 's/^probebench-vm: //')" >&2
}
boot small "$SMALL_TARGETS" ""
boot big "$BIG_TARGETS" --parallel --cpus "$BIG_CPUS" --nodes "$BIG_NODES"

echo "$BLOCKS $BIG_CPUS $BIG_NODES" >"$out/params"
analyze "$out"

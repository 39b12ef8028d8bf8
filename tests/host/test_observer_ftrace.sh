#!/bin/bash
# run --buffer ftrace on the host's virtio-rng function: the observer's buffer is tracefs
# instances, not perf events. While the run goes, the process holds no perf event but its writer
# counters and the two slab counting events a CPU (anon_inode:[perf_event] in /proc/PID/fd), its
# instances exist (instances/probebench_PID_*: events, frees, kept) with the clock mono, no
# overwrite and the buffer size the record states; the record says buffer "ftrace", fds and
# locked_bytes as held (one tracing_on descriptor per instance), the slab allocations counted by
# perf, and the figures agree with a run through perf events on the same device (probes, pages,
# slab counts within reason). With --slab-samples the slab allocations are records in an
# instance of their own (_slab) and counted from them. After the run no instance is left; an instance of a process that is gone
# is removed by the next run; an unknown --buffer is refused.
. "$(dirname "$0")/lib.sh"
rng_cycle_setup
T=/sys/kernel/tracing
[ -d "$T/instances" ] || skip "no tracefs instances at $T"

rc=0
"$PROBEBENCH" run --state-dir "$STATE" --buffer bogus -n 1 "$BDF" >"$OUT/bogus.txt" 2>&1 || rc=$?
[ $rc -eq 2 ] && grep -q "buffer.*bogus.*perf or ftrace" "$OUT/bogus.txt" ||
	fail "--buffer bogus: rc $rc: $(cat "$OUT/bogus.txt")"

# an instance left by a process that is gone
sh -c 'exit 0' &
dead=$!
wait $dead
! kill -0 $dead 2>/dev/null || skip "pid $dead is in use again"
mkdir "$T/instances/probebench_${dead}_0_events" || fail "cannot make a stale instance"

"$PROBEBENCH" run --state-dir "$STATE" --buffer ftrace -n 20 -w 1 --json "$OUT/ft.json" "$BDF" \
	>"$OUT/ft.txt" 2>&1 &
pid=$!
maxperf=0
while kill -0 "$pid" 2>/dev/null; do
	perf=$(ls -l "/proc/$pid/fd" 2>/dev/null | grep -c 'perf_event' || true)
	[ "$perf" -le $maxperf ] || maxperf=$perf
	# each instance as last seen (the first look may come while it is being set up)
	for i in "$T"/instances/probebench_"${pid}"_*; do
		[ -d "$i" ] || continue
		l="${i##*/} $(grep -o '\[[a-z_]*\]' "$i/trace_clock" 2>/dev/null) overwrite=$(cat "$i/options/overwrite" 2>/dev/null) $(cat "$i/buffer_total_size_kb" 2>/dev/null) KiB" || continue
		grep -v "^${i##*/} " "$OUT/instances.txt" >"$OUT/i.tmp" 2>/dev/null || true
		echo "$l" >>"$OUT/i.tmp"
		mv "$OUT/i.tmp" "$OUT/instances.txt"
	done
	sleep 0.05
done
rc=0
wait "$pid" || rc=$?
[ $rc -eq 0 ] || fail "run --buffer ftrace: rc $rc: $(tail -5 "$OUT/ft.txt")"
check_bound
cat "$OUT/instances.txt" 2>/dev/null || true
[ ! -d "$T/instances/probebench_${dead}_0_events" ] || fail "the stale instance of pid $dead was not removed"
left=$(ls -d "$T"/instances/probebench_"${pid}"_* 2>/dev/null || true)
[ -z "$left" ] || fail "instances left after the run: $left"
grep -q '^observer: [0-9]* fds, [0-9.]* MiB of kernel memory (ftrace instance buffers' "$OUT/ft.txt" ||
	fail "no ftrace observer line: $(cat "$OUT/ft.txt")"
grep -q "slab allocations (.*counted per CPU by perf" "$OUT/ft.txt" ||
	fail "the slab line does not say how it was counted: $(grep slab "$OUT/ft.txt")"
validate_json "$OUT/ft.json" "$SCHEMA_DIR/run.schema.json" || fail "ft.json does not validate"

"$PROBEBENCH" run --state-dir "$STATE" -n 20 -w 1 --json "$OUT/pf.json" "$BDF" >"$OUT/pf.txt" 2>&1 ||
	fail "run (perf): $(tail -5 "$OUT/pf.txt")"
check_bound

"$PY" - "$OUT/ft.json" "$OUT/pf.json" "$OUT/instances.txt" "$maxperf" "$(getconf _NPROCESSORS_CONF)" "$(getconf PAGESIZE)" <<'PYEOF'
import json, statistics, sys
ft, pf = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
inst = open(sys.argv[3]).read().split("\n")
maxperf, ncpu, page = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
bad = []
m = ft["measurement"]
if m["used"] == ["kmsg"] or not m["used"]:
    print("SKIP: no trace event method here"); sys.exit(0)
o = m["observer"]
print("ftrace observer:", json.dumps(o))
print("perf observer:  ", json.dumps(pf["measurement"]["observer"]))
po = pf["measurement"]["observer"]
if ft["options"]["buffer"] != "ftrace" or o["buffer"] != "ftrace" or pf["options"]["buffer"] != "auto":
    bad.append("buffers: options %s/%s, observer %s" % (ft["options"]["buffer"], pf["options"]["buffer"], o["buffer"]))
# auto on a small host: perf, and the record says why (every event on every CPU within 256)
# (what perf held but the writer counters: the ftrace run's perf events less its slab counts)
want = "auto: perf events would hold %d descriptors" % (po["perf_events"] - (o["perf_events"] - 2 * ncpu))
if po["buffer"] != "perf" or not po["buffer_why"].startswith(want) or "within 256" not in po["buffer_why"]:
    bad.append("auto: buffer %s, why %r (expected %r...)" % (po["buffer"], po["buffer_why"], want))
if o["buffer_why"] != "--buffer ftrace":
    bad.append("ftrace: why %r" % o["buffer_why"])
# the writer's counters (4 to 6) and two slab counting events a CPU are the only perf events
if not 4 + 2 * ncpu <= maxperf <= 6 + 2 * ncpu or o["perf_events"] != maxperf:
    bad.append("perf event descriptors: %d held, %d in the record (the writer counters and 2 a CPU)" % (maxperf, o["perf_events"]))
# the shared events (2 instances) and the kept-page watch (1): a descriptor each
shared = [l.split() for l in inst if l and l.split()[0].endswith(("_events", "_frees", "_slab"))]
kept = [l.split() for l in inst if l and l.split()[0].endswith("_kept")]
if sorted(x[0].rsplit("_", 1)[1] for x in shared) != ["events", "frees"] or not kept:
    bad.append("instances seen: %s" % inst)
for x in shared + kept:
    if x[1] != "[mono]" or x[2] != "overwrite=0":
        bad.append("instance not mono / no-overwrite: %s" % x)
if o["fds"] - o["perf_events"] - o["kept_fds"] > 2 + 3 or o["kept_fds"] != 1:
    bad.append("fds %d: more than the instances' %d, the uevent sockets and the perf events" % (o["fds"], 2 + o["kept_fds"]))
kb = sum(int(x[3]) for x in shared)
if o["locked_bytes"] - o["kept_locked_bytes"] != kb * 1024:
    bad.append("locked_bytes %d (kept %d): the two instances have %d KiB (buffer_total_size_kb)" % (o["locked_bytes"], o["kept_locked_bytes"], kb))
# asked ring_pages a CPU; the kernel rounds up to whole sub-buffers
if not o["ring_pages"] * page * 2 * ncpu <= kb * 1024 <= o["ring_pages"] * page * 2 * ncpu * 1.05:
    bad.append("ring_pages %d on %d CPUs but %d KiB in the two instances" % (o["ring_pages"], ncpu, kb))
def figures(d):
    b, probe, pages, slab, froms = [], [], [], [], set()
    for it in d["iterations"]:
        f = it.get("measurement", {})
        if it["outcome"] != "ok" or "probes" not in f:
            continue
        b.append(it["bind_ns"])
        probe += [p["duration_ns"] for p in f["probes"] if p["depth"] == 0]
        mem = f["memory"]
        pages.append(mem["pages_total"])
        sp = mem["slab_proxy"]
        if sp["counted_by_node"] is not None:
            slab.append(sum(sp["counted_by_node"]))
            froms.add(sp.get("counted_from"))
        if f["lost_records"] or f["lost_slab_records"] or not f["lost_exact"]:
            bad.append("iteration %d lost records or cannot say" % it["iteration"])
    return b, probe, pages, slab, froms
fb, fprobe, fpages, fslab, ffrom = figures(ft)
pb, pprobe, ppages, pslab, pfrom = figures(pf)
print("ftrace: %d windows, probe p50 %.0f us, pages p50 %s, slab p50 %s, from %s" % (len(fb), statistics.median(fprobe) / 1e3, statistics.median(fpages), statistics.median(fslab) if fslab else None, ffrom))
print("perf:   %d windows, probe p50 %.0f us, pages p50 %s, slab p50 %s, from %s" % (len(pb), statistics.median(pprobe) / 1e3, statistics.median(ppages), statistics.median(pslab) if pslab else None, pfrom))
if len(fb) < 18 or len(fprobe) < 18:
    bad.append("ftrace: %d measured windows, %d probes of 20" % (len(fb), len(fprobe)))
if ffrom != {"perf counting events"} or pfrom != {"perf counting events"}:
    bad.append("counted_from: ftrace %s, perf %s" % (ffrom, pfrom))
if fpages and statistics.median(fpages) != statistics.median(ppages):
    bad.append("pages per bind: ftrace %s, perf %s" % (statistics.median(fpages), statistics.median(ppages)))
# every task's allocations count: this test's own sampling (forks, reads) runs beside the
# ftrace run only, so the quietest windows are compared
if not fslab or not pslab or not 0.8 <= min(fslab) / min(pslab) <= 1.25:
    bad.append("slab allocations per bind: ftrace %s, perf %s" % (fslab, pslab))
if not 0.5 <= statistics.median(fprobe) / statistics.median(pprobe) <= 2:
    bad.append("probe durations disagree: %s vs %s" % (statistics.median(fprobe), statistics.median(pprobe)))
if bad:
    print("\n".join(bad), file=sys.stderr); sys.exit(1)
PYEOF

# --slab-samples: the slab allocations are records in their own instance, counted from them
"$PROBEBENCH" run --state-dir "$STATE" --buffer ftrace --slab-samples -n 5 -w 1 --json "$OUT/fts.json" "$BDF" >"$OUT/fts.txt" 2>&1 ||
	fail "run --buffer ftrace --slab-samples: $(tail -5 "$OUT/fts.txt")"
check_bound
grep -q "slab allocations (kmalloc+kmem_cache_alloc counted from the ftrace buffer's records" "$OUT/fts.txt" ||
	fail "the slab line does not say how it was counted: $(grep slab "$OUT/fts.txt")"
"$PY" - "$OUT/fts.json" "$(getconf _NPROCESSORS_CONF)" <<'PYEOF' || fail "--slab-samples with the ftrace buffer"
import json, sys
d = json.load(open(sys.argv[1]))
ncpu = int(sys.argv[2])
o = d["measurement"]["observer"]
print("ftrace --slab-samples observer:", json.dumps(o))
# three instances (events, frees, slab) and the kept one, a ring per CPU each; no slab perf events
assert o["rings"] == 4 * ncpu, o
assert o["perf_events"] <= 6, o
n = 0
for it in d["iterations"]:
    sp = it.get("measurement", {}).get("memory", {}).get("slab_proxy")
    if not sp or sp["counted_by_node"] is None:
        continue
    assert sp["counted_from"] == "ftrace records" and sp["sampled"], sp
    assert sum(sp["allocs_by_node"]) > 0 and sum(sp["counted_by_node"]) > 0, sp
    n += 1
assert n >= 4, n
PYEOF

# A run killed with its instances open leaves them (kernel memory), initcall_debug changed
# (tracepoint method) and the device unbound at worst: restore puts all of it back.
icd=/sys/module/kernel/parameters/initcall_debug
icd_before=$(cat $icd)
"$PROBEBENCH" run --state-dir "$STATE" --buffer ftrace --method tracepoint -n 400 -w 0 "$BDF" >"$OUT/killed.txt" 2>&1 &
pid=$!
# killed inside a bind write (initcall_debug is set around each) once a cycle has run (a kept
# watch's instance exists)
for _ in $(seq 2000); do
	ls -d "$T"/instances/probebench_"${pid}"_*_kept >/dev/null 2>&1 && [ "$(cat $icd)" = Y ] && break
	sleep 0.002
done
kill -9 $pid
wait $pid 2>/dev/null || true
left=$(ls -d "$T"/instances/probebench_"${pid}"_* 2>/dev/null | wc -l)
[ "$left" -ge 3 ] || fail "the killed run left $left instances (it was killed before it had them?)"
[ "$(cat $icd)" = Y ] || fail "the killed run had not set initcall_debug"
"$PROBEBENCH" restore --state-dir "$STATE" >"$OUT/restore.txt" 2>&1 || fail "restore: $(cat "$OUT/restore.txt")"
cat "$OUT/restore.txt"
grep -q "removed [0-9]* tracefs instance(s) left by a run that is gone" "$OUT/restore.txt" ||
	fail "restore does not say it removed the instances"
! ls -d "$T"/instances/probebench_"${pid}"_* >/dev/null 2>&1 || fail "instances left after restore"
[ "$(cat $icd)" = "$icd_before" ] || fail "initcall_debug is $(cat $icd) after restore, was $icd_before"
check_bound "after restore"

# the kmsg method has no trace buffer at all: the record says none, without a reason
"$PROBEBENCH" run --state-dir "$STATE" --method kmsg -n 2 -w 0 --json "$OUT/kmsg.json" "$BDF" >"$OUT/kmsg.txt" 2>&1 ||
	fail "run --method kmsg: $(tail -5 "$OUT/kmsg.txt")"
check_bound
"$PY" - "$OUT/kmsg.json" <<'PYEOF' || fail "the kmsg record names a buffer"
import json, sys
m = json.load(open(sys.argv[1]))["measurement"]
if m["used"] != ["kmsg"]:
    print("SKIP-KMSG: kmsg not used here:", m["used"]); sys.exit(0)
o = m["observer"]
print("kmsg observer:", o["buffer"], o["buffer_why"])
assert o["buffer"] == "none" and o["buffer_why"] is None, o
PYEOF
echo PASS

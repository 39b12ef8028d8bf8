#!/bin/bash
# The record's measurement.observer on the host's virtio-rng function: the perf events and the
# locked bytes it states are those the process holds (anon_inode:[perf_event] descriptors in
# /proc/PID/fd, perf_event mappings in /proc/PID/maps, sampled while the run goes), its fds are
# the process's perf event, pipe, socket and eventfd descriptors beyond those of the same run
# without measurement, every traced event is open on every CPU, the rings are sized as
# documented, and the text output prints the line. Then RLIMIT_NOFILE: a soft limit too low for
# the events is raised up to the hard one; a hard limit too low leaves the target timed only,
# with the count of descriptors needed in the record.
. "$(dirname "$0")/lib.sh"
rng_cycle_setup

# sample NAME ARGS...: runs probebench run ARGS... in the background and keeps, in NAME.max,
# the most file descriptors, perf event descriptors and perf mapping bytes seen at once.
sample() {
	local name=$1 pid fd perf map maxfd=0 maxperf=0 maxmap=0 rc=0
	shift
	"$PROBEBENCH" run --state-dir "$STATE" "$@" >"$OUT/$name.txt" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		# the kinds the observer opens: perf events, pipes, sockets, eventfds (not the
		# files it reads for a moment, such as SLUB's counts, nor the access layer's roots)
		fd=$(ls -l "/proc/$pid/fd" 2>/dev/null | grep -Ec 'perf_event|pipe:|socket:|eventfd' || true)
		perf=$(ls -l "/proc/$pid/fd" 2>/dev/null | grep -c 'perf_event' || true)
		map=0
		for r in $(grep perf_event "/proc/$pid/maps" 2>/dev/null | cut -d' ' -f1); do
			map=$((map + 0x${r#*-} - 0x${r%-*}))
		done
		[ "$fd" -le $maxfd ] || maxfd=$fd
		[ "$perf" -le $maxperf ] || maxperf=$perf
		[ "$map" -le $maxmap ] || maxmap=$map
		sleep 0.05
	done
	wait "$pid" || rc=$?
	[ $rc -eq 0 ] || fail "$name: run failed (rc $rc): $(tail -5 "$OUT/$name.txt")"
	echo "$maxfd $maxperf $maxmap" >"$OUT/$name.max"
	echo "$name: at most $maxfd perf/pipe/socket/eventfd fds, $maxperf perf events, $maxmap bytes of perf mappings"
}

sample on -n 30 -w 1 --json "$OUT/on.json" "$BDF"
check_bound
sample off -n 30 -w 1 --no-measure --json "$OUT/off.json" "$BDF"
check_bound
validate_json "$OUT/on.json" "$SCHEMA_DIR/run.schema.json" || fail "on.json does not validate"
grep -Eq '^observer: [0-9]+ fds, [0-9.]+ MiB locked \(perf mmap rings: ' "$OUT/on.txt" ||
	fail "the text output has no observer line: $(cat "$OUT/on.txt")"

rc=0
"$PY" - "$OUT/on.json" "$OUT/on.max" "$OUT/off.max" "$(getconf PAGESIZE)" "$(getconf _NPROCESSORS_CONF)" <<'PYEOF' || rc=$?
import json, os, sys
d = json.load(open(sys.argv[1]))
on_fd, on_perf, on_map = map(int, open(sys.argv[2]).read().split())
off_fd, _, _ = map(int, open(sys.argv[3]).read().split())
page, ncpu = int(sys.argv[4]), int(sys.argv[5])
m = d["measurement"]
if m["used"] == ["kmsg"] or not m["used"]:
    print("SKIP-MEASURE: no perf method here"); sys.exit(77)
o = m["observer"]
print("record:", json.dumps(o))
bad = []
if o["targets"] != 1 or o["shared_sets"] != 1 or o["cpus"] != ncpu:
    bad.append("targets %d, shared sets %d, cpus %d (%d CPUs here)" % (o["targets"], o["shared_sets"], o["cpus"], ncpu))
want_pages = max(16, min(128, 1 << (512 // ncpu).bit_length() - 1))
if o["ring_pages"] != want_pages:
    bad.append("ring_pages %d, expected %d for %d CPUs" % (o["ring_pages"], want_pages, ncpu))
# two shared rings per CPU, one kept-page ring per CPU
if o["rings"] != 3 * ncpu:
    bad.append("%d rings on %d CPUs" % (o["rings"], ncpu))
shared = o["locked_bytes"] - o["kept_locked_bytes"]
if shared != 2 * ncpu * (o["ring_pages"] + 1) * page:
    bad.append("shared rings %d bytes, not 2 x %d CPUs x %d pages" % (shared, ncpu, o["ring_pages"] + 1))
if o["locked_bytes"] != on_map:
    bad.append("locked_bytes %d, but the process mapped %d bytes of perf rings" % (o["locked_bytes"], on_map))
if o["perf_events"] != on_perf:
    bad.append("perf_events %d, but the process held %d perf event descriptors" % (o["perf_events"], on_perf))
if o["fds"] != on_fd - off_fd:
    bad.append("fds %d, but the run held %d descriptors more than without measurement (%d - %d)" % (o["fds"], on_fd - off_fd, on_fd, off_fd))
# every traced event on every CPU: workqueue (3), sched (3), printk:console where it exists,
# kmem (page allocations, kmalloc, kmem_cache_alloc, two page frees), kprobes (2); the kept-page
# watch's two page-free events per CPU; the writer's 4 to 6 counters (no PMU: 4)
per_cpu = 6 + (1 if os.path.exists("/sys/kernel/tracing/events/printk/console") else 0) + 5 + (2 if "kprobe" in m["used"] else 0)
counters = o["perf_events"] - o["kept_fds"] - per_cpu * ncpu
if o["kept_fds"] != 2 * ncpu or not 4 <= counters <= 6:
    bad.append("perf events %d: %d kept, %d per CPU expected on %d CPUs, leaves %d writer counters" % (o["perf_events"], o["kept_fds"], per_cpu, ncpu, counters))
if not o["fd_limit"] or o["fd_limit"] < o["fds"]:
    bad.append("fd_limit %r" % o["fd_limit"])
if not o["records_decoded"] or not o["decode_ns"]:
    bad.append("no decoding figures: %d records, %d ns" % (o["records_decoded"], o["decode_ns"]))
for it in d["iterations"]:
    f = it["measurement"]
    if not (0 < f["decode_work_ns"] <= f["decode_ns"]):
        bad.append("iteration %d: decode_work_ns %d, decode_ns %d" % (it["iteration"], f["decode_work_ns"], f["decode_ns"]))
if bad:
    print("\n".join(bad), file=sys.stderr); sys.exit(1)
PYEOF
[ $rc -eq 77 ] && skip "no perf measurement method on this host"
[ $rc -eq 0 ] || fail "measurement.observer does not state what the process held"

# A soft limit below what the events need is raised (up to the hard limit).
need=$("$PY" -c 'import json,sys; o=json.load(open(sys.argv[1]))["measurement"]["observer"]; print(o["fds"])' "$OUT/on.json")
rc=0
(ulimit -Sn 32 && "$PROBEBENCH" run --state-dir "$STATE" -n 2 -w 0 --json "$OUT/soft.json" "$BDF" >"$OUT/soft.txt" 2>&1) || rc=$?
[ $rc -eq 0 ] || fail "soft limit 32: rc $rc: $(cat "$OUT/soft.txt")"
check_bound
"$PY" - "$OUT/soft.json" <<'PYEOF' || fail "the soft limit was not raised"
import json, sys
m = json.load(open(sys.argv[1]))["measurement"]
assert m["observers"][0]["error"] is None, m["observers"][0]
assert m["observer"]["fd_limit"] > 32, m["observer"]
PYEOF
# A hard limit too low for perf events, asked for: timed only, and the record says how many
# descriptors were needed.
rc=0
(ulimit -n 24 && "$PROBEBENCH" run --state-dir "$STATE" --method tracepoint --buffer perf -n 2 -w 0 --json "$OUT/hard.json" "$BDF" >"$OUT/hard.txt" 2>&1) || rc=$?
[ $rc -eq 0 ] || fail "hard limit 24: rc $rc: $(cat "$OUT/hard.txt")"
check_bound
"$PY" - "$OUT/hard.json" <<'PYEOF' || fail "the record does not say the observer needs more descriptors"
import json, re, sys
m = json.load(open(sys.argv[1]))["measurement"]
e = m["observers"][0]["error"] or ""
print("error:", e)
assert re.search(r"needs \d+ file descriptors", e) and "limit is" in e, e
assert m["observer"]["targets"] == 0, m["observer"]
PYEOF
# The same limit with the buffer left to auto: the ftrace buffer, whose descriptors fit, and the
# record says why.
rc=0
(ulimit -n 24 && "$PROBEBENCH" run --state-dir "$STATE" --method tracepoint -n 2 -w 0 --json "$OUT/auto.json" "$BDF" >"$OUT/auto.txt" 2>&1) || rc=$?
[ $rc -eq 0 ] || fail "hard limit 24, auto: rc $rc: $(cat "$OUT/auto.txt")"
check_bound
"$PY" - "$OUT/auto.json" <<'PYEOF' || fail "auto did not take the ftrace buffer at a low limit"
import json, re, sys
m = json.load(open(sys.argv[1]))["measurement"]
o = m["observer"]
print("auto at 24 descriptors:", o["buffer"], o["buffer_why"], o["fds"], "fds")
assert m["observers"][0]["error"] is None, m["observers"][0]
assert o["buffer"] == "ftrace" and o["targets"] == 1, o
assert re.match(r"auto: perf events would need \d+ descriptors \(\d+ events on \d+ CPUs\), more than the limit allows \(24, hard 24\)$", o["buffer_why"]), o["buffer_why"]
assert o["fds"] < 24, o
PYEOF
echo "ok (the observer holds $need fds here)"

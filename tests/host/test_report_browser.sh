#!/bin/bash
# probebench report in a real browser: run records of the host's virtio-rng function (two
# measured, one --no-measure), a comparison of the measured two, and a variant of a measured
# record with the device on NUMA node 0 and the probe hopping into a worker on another CPU
# (made here from a real record with python: the host's device has no NUMA node), and a real
# record of the NUMA test guest (tests/fixtures/report/guest-numa.json, from scripts/demo). Each page is
# loaded by headless Chromium from a file (no network: no proxy, no background networking; the
# page's Content-Security-Policy forbids any fetch): no console message at all (an uncaught
# exception or a blocked fetch would print one), the page's script ran to its end (it marks
# #pb-script), every expected figure is in the DOM, and a screenshot of each is saved in
# $PB_BUILD_DIR/report-screenshots. The same input gives the same bytes. Refusals: no -o, no
# record (exit 2), a file that is not a record or not a comparison, a missing file (exit 1).
. "$(dirname "$0")/lib.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || skip "no chromium (scripts/install-deps installs it)"
rng_cycle_setup

"$PROBEBENCH" run --state-dir "$STATE" -n 10 -w 1 --json "$OUT/a.json" "$BDF" >/dev/null ||
	fail "measured run a failed"
"$PROBEBENCH" run --state-dir "$STATE" -n 10 -w 1 --json "$OUT/b.json" "$BDF" >/dev/null ||
	fail "measured run b failed"
"$PROBEBENCH" run --state-dir "$STATE" -n 5 -w 1 --no-measure --json "$OUT/bare.json" "$BDF" >/dev/null ||
	fail "bare run failed"
check_bound "after the runs"
"$PROBEBENCH" compare --json "$OUT/ab.json" "$OUT/a.json" "$OUT/b.json" >/dev/null || fail "compare exited $?"

# The device on node 0, every probe on CPU 0 and the target's probe hopping to CPU 1.
"$PY" - "$OUT/a.json" "$OUT/numa.json" <<'PYEOF' || fail "cannot make the NUMA variant"
import json, sys
d = json.load(open(sys.argv[1]))
for t in d["targets"]:
    t["numa_node"] = 0
for it in d["iterations"]:
    m = it.get("measurement") or {}
    for p in m.get("probes", []):
        p.update(cpu=0, node=0, device_node=0, on_device_node=True)
        if p["depth"] == 0:
            p["hop"] = {"function": "work_for_cpu_fn", "comm": "kworker/1:1", "pid": 77,
                        "cpu": 1, "whole_probe": False, "origin_pid": p["pid"],
                        "queue_offset_ns": p["start_offset_ns"] + 1000,
                        "start_offset_ns": p["start_offset_ns"] + 20000,
                        "duration_ns": max(p["duration_ns"] - 40000, 1000),
                        "worker": {"on_cpu_ns": 1000, "context_switches": 1, "migrations": 0}}
json.dump(d, open(sys.argv[2], "w"))
PYEOF

report() { # NAME ARGS...
	local name=$1
	shift
	"$PROBEBENCH" report -o "$OUT/$name.html" "$@" || fail "report $name exited $?"
	"$PROBEBENCH" report -o "$OUT/$name.again.html" "$@" || fail "report $name (again) exited $?"
	cmp -s "$OUT/$name.html" "$OUT/$name.again.html" || fail "$name: the same input gave other bytes"
	# nothing to fetch: the only URL is the SVG namespace
	! grep -o 'https\?://[^"]*' "$OUT/$name.html" | grep -v '^http://www.w3.org/2000/svg$' ||
		fail "$name: the page names a URL"
}
# refusals: no output, no record, a file that is not a record, a comparison that is not one
set +e
"$PROBEBENCH" report "$OUT/a.json" 2>"$OUT/e1"; rc1=$?
"$PROBEBENCH" report -o "$OUT/x.html" 2>"$OUT/e2"; rc2=$?
"$PROBEBENCH" report -o "$OUT/x.html" "$OUT/ab.json" 2>"$OUT/e3"; rc3=$?
"$PROBEBENCH" report -o "$OUT/x.html" --compare "$OUT/a.json" "$OUT/a.json" 2>"$OUT/e4"; rc4=$?
"$PROBEBENCH" report -o "$OUT/x.html" "$OUT/missing.json" 2>"$OUT/e5"; rc5=$?
set -e
[ "$rc1/$rc2/$rc3/$rc4/$rc5" = 2/2/1/1/1 ] || fail "exit codes $rc1/$rc2/$rc3/$rc4/$rc5, want 2/2/1/1/1"
grep -q "no output given" "$OUT/e1" || fail "no -o: $(cat "$OUT/e1")"
grep -q "no run record given" "$OUT/e2" || fail "no record: $(cat "$OUT/e2")"
grep -q "ab.json: not a run record" "$OUT/e3" || fail "a comparison as a record: $(cat "$OUT/e3")"
grep -q "a.json: not a comparison" "$OUT/e4" || fail "a record as a comparison: $(cat "$OUT/e4")"
grep -q "missing.json: cannot read" "$OUT/e5" || fail "a missing file: $(cat "$OUT/e5")"
[ ! -e "$OUT/x.html" ] || fail "a refused report left a file"

report a "$OUT/a.json"
report bare "$OUT/bare.json"
report numa "$OUT/numa.json"
report guest "$(dirname "$0")/../fixtures/report/guest-numa.json"
report cmp --compare "$OUT/ab.json" "$OUT/a.json" "$OUT/b.json"

shots="${PB_BUILD_DIR:-$OUT}/report-screenshots"
mkdir -p "$shots"
browser() { # FILE ARGS...: headless Chromium, no network, a fresh profile
	local f=$1
	shift
	timeout 60 "$CHROMIUM" --headless --disable-gpu --no-sandbox --no-proxy-server \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-default-apps --disable-extensions --no-first-run --no-default-browser-check \
		--user-data-dir="$OUT/profile" --enable-logging=stderr --v=0 "$@" "file://$f"
}

# load NAME ID...: the page renders without a console message, its script ran, the ids exist
load() {
	local name=$1 id
	shift
	browser "$OUT/$name.html" --dump-dom >"$OUT/$name.dom" 2>"$OUT/$name.log" ||
		fail "$name: chromium --dump-dom exited $? ($(tail -n 3 "$OUT/$name.log"))"
	if grep -E 'CONSOLE|Uncaught|Refused to' "$OUT/$name.log"; then
		fail "$name: the browser logged the messages above"
	fi
	grep -q '<p id="pb-script" hidden="" data-ok="1">script ran</p>' "$OUT/$name.dom" ||
		fail "$name: the page's script did not run to its end"
	for id in "$@"; do
		grep -q "id=\"$id\"" "$OUT/$name.dom" || fail "$name: no element #$id in the DOM"
	done
	browser "$OUT/$name.html" --screenshot="$shots/$name.png" --window-size=1400,2400 \
		>/dev/null 2>"$OUT/$name.shot.log" || fail "$name: screenshot failed"
	[ "$(head -c 8 "$shots/$name.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
		fail "$name: $shots/$name.png is not a PNG"
	echo "$name: $(grep -c '<figure class="fig ' "$OUT/$name.dom") figures; screenshot $shots/$name.png"
}

cell=r0-t0-p0
load a "dist-$cell" "series-$cell" "node-$cell" "pages-$cell" "timeline-$cell"
# both the target's probe and its nested child are drawn in the ECDF, on the timeline too
grep -q 'probe pci/virtio-pci' "$OUT/a.dom" || fail "a: no probe series of virtio-pci"
grep -q 'nested probe virtio/virtio_rng' "$OUT/a.dom" || fail "a: no nested probe series"
grep -q 'class="tl-probe depth1' "$OUT/a.dom" || fail "a: no nested probe on the timeline"

load bare "dist-$cell" "series-$cell" "why-$cell"
grep -q 'class="why-not" id="why-r0-t0-p0">No probe figures.*--no-measure' "$OUT/bare.dom" ||
	fail "bare: the page does not say why there are no probe figures"
! grep -q "id=\"timeline-$cell\"" "$OUT/bare.dom" || fail "bare: a timeline without measurement"

load numa "node-$cell" "timeline-$cell"
sed -n "/id=\"node-$cell\"/,/<\/figure>/p" "$OUT/numa.dom" | grep -q '>10/10<' ||
	fail "numa: the probes on the device's node are not 10/10"
sed -n "/id=\"timeline-$cell\"/,/<\/figure>/p" "$OUT/numa.dom" >"$OUT/numa.timeline"
grep -q '>CPU 1<' "$OUT/numa.timeline" || fail "numa: no lane for the hop worker's CPU"
grep -q 'class="tl-hop"' "$OUT/numa.timeline" || fail "numa: no hop on the timeline"

load cmp compare cmp-0 cmpdist-0 dist-r0-t0-p0 dist-r1-t0-p0
# a real record of the NUMA guest (scripts/demo): two devices on nodes 0 and 1, the writer on
# either node, the PCI probe in a worker on the device's node
load guest timeline-r0-t0-p0 timeline-r0-t0-p1 timeline-r0-t1-p0 timeline-r0-t1-p1 node-r0-t1-p1 pages-r0-t1-p1
[ "$(grep -c 'class="tl-hop"' "$OUT/guest.dom")" -ge 4 ] || fail "guest: not every timeline has its hop"
[ "$(grep -c '>4/4<' "$OUT/guest.dom")" -ge 8 ] || fail "guest: probes not all on the device's node"

"$PY" - "$OUT/ab.json" "$OUT/cmp.dom" <<'PYEOF' || fail "cmp: a comparison is not in the page"
import json, sys
d = json.load(open(sys.argv[1]))
dom = open(sys.argv[2]).read()
assert 'id="compare"' in dom
for k, c in enumerate(d["comparisons"]):
    assert f'id="cmp-{k}"' in dom, k
    assert f'id="cmpdist-{k}"' in dom, k  # both records were given: the samples of A and B
    fig = dom[dom.index(f'id="cmp-{k}"'):dom.index(f'id="cmpdist-{k}"')]
    assert c["verdict"] + "</b>" in fig, (k, c["verdict"])
    assert "shift " in fig and "interval" in fig, k
print(len(d["comparisons"]), "series compared, each with its figure")
PYEOF
echo "PASS"

#!/bin/bash
# probebench compare on real records: two runs of the host's virtio-rng function (found by id),
# one measured and one with --no-measure. The comparison validates against its schema, pairs the
# bind and unbind series (the probe series exist only in the measured run and are listed as
# such), and a record compared with itself shows ratio 1 and no change everywhere. Several
# records a side (BASE... -- CAND...): pooled, each record's median listed, the verdict table at
# most 120 columns. Bad input: a missing file, a FIFO, /dev/zero, a file that is not JSON, one that is not a run
# record, wrong arguments (an empty side of --, -- twice).
. "$(dirname "$0")/lib.sh"
rng_cycle_setup

"$PROBEBENCH" run --state-dir "$STATE" -n 12 -w 1 --json "$OUT/a.json" "$BDF" >/dev/null ||
	fail "measured run failed"
"$PROBEBENCH" run --state-dir "$STATE" -n 12 -w 1 --no-measure --json "$OUT/b.json" "$BDF" >/dev/null ||
	fail "bare run failed"
for r in c d e; do
	"$PROBEBENCH" run --state-dir "$STATE" -n 12 -w 1 --json "$OUT/$r.json" "$BDF" >/dev/null ||
		fail "measured run $r failed"
done
check_bound "after the runs"

"$PROBEBENCH" compare --json "$OUT/ab.json" "$OUT/a.json" "$OUT/b.json" >"$OUT/ab.txt" ||
	fail "compare exited $?"
validate_json "$OUT/ab.json" "$SCHEMA_DIR/compare.schema.json" || fail "the comparison does not validate"
cat "$OUT/ab.txt"
grep -q "^$BDF .* bind_ns .* 12/12 " "$OUT/ab.txt" || fail "no bind_ns row with 12 samples a side"
grep -q "^baseline:  1 record: $OUT/a.json (kernel " "$OUT/ab.txt" || fail "no baseline line"
grep -q "^only in the baseline: $BDF any probe pci/virtio-pci depth 0 \[[a-z]*\]$" "$OUT/ab.txt" ||
	fail "the measured run's probe series is not listed as baseline-only"

"$PROBEBENCH" compare --json "$OUT/aa.json" "$OUT/a.json" "$OUT/a.json" >/dev/null || fail "self-compare exited $?"
"$PY" - "$OUT/aa.json" <<'PYEOF' || fail "a record compared with itself"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["comparisons"], d
metrics = {c["metric"] for c in d["comparisons"]}
assert {"bind_ns", "unbind_ns", "probe pci/virtio-pci depth 0", "probe virtio/virtio_rng depth 1"} <= metrics, metrics
for c in d["comparisons"]:
    assert c["ratio"] == 1 and c["p"] == 1 and c["verdict"] == "no significant change", c
    assert c["p_adjusted"] == 1 and c["shift_ns"]["estimate"] == 0, c
    if c["metric"].startswith("probe "):
        assert c["method"] in ("kprobe", "tracepoint", "kmsg"), c
assert not d["only_in_baseline"] and not d["only_in_candidate"], d
assert d["baseline"]["records"] == 1 and d["candidate"]["records"] == 1, d
PYEOF

# one measured record against another: the verdict table of the two
"$PROBEBENCH" compare "$OUT/c.json" "$OUT/d.json" >"$OUT/cd.txt" || fail "compare c d exited $?"
cat "$OUT/cd.txt"
grep -q "^$BDF virtio-pci .* bind/[a-z]* " "$OUT/cd.txt" || fail "no verdict row in the one-against-one form"
! grep -q " $" "$OUT/cd.txt" || fail "trailing blanks in the output"

# several records a side, as probebench-vm ab calls it
"$PROBEBENCH" compare --json "$OUT/m.json" "$OUT/a.json" "$OUT/c.json" -- "$OUT/d.json" "$OUT/e.json" \
	>"$OUT/m.txt" || fail "compare A1 A2 -- B1 B2 exited $?"
validate_json "$OUT/m.json" "$SCHEMA_DIR/compare.schema.json" || fail "the multi-record comparison does not validate"
cat "$OUT/m.txt"
grep -q "^baseline:  2 records: $OUT/a.json, $OUT/c.json " "$OUT/m.txt" || fail "no two-record baseline line"
grep -q "^candidate: 2 records: $OUT/d.json, $OUT/e.json " "$OUT/m.txt" || fail "no two-record candidate line"
grep -q "^$BDF .* bind_ns .* 24/24 " "$OUT/m.txt" || fail "no bind_ns row pooling 24 samples a side"
grep -q "^boot to boot: $BDF any bind_ns: baseline 2 of 2 records" "$OUT/m.txt" || fail "no boot-to-boot line"
grep -q "^$BDF virtio-pci .* bind/[a-z]* " "$OUT/m.txt" || fail "no verdict row for virtio-pci"
grep -q "^$BDF +virtio_rng " "$OUT/m.txt" || fail "no verdict row for the nested virtio_rng probe"
sed -n '/^device /,$p' "$OUT/m.txt" | awk 'length($0) > 120 { bad = 1 } END { exit bad }' ||
	fail "the verdict table is wider than 120 columns"
"$PY" - "$OUT/m.json" <<'PYEOF' || fail "the multi-record document"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["baseline"]["records"] == 2 and len(d["baseline"]["runs"]) == 2, d["baseline"]
assert d["candidate"]["runs"][1]["file"].endswith("/e.json"), d["candidate"]
bind = [c for c in d["comparisons"] if c["metric"] == "bind_ns"][0]
for side in ("baseline", "candidate"):
    s = bind[side]
    assert s["N"] == 24 and s["records"] == 2, s
    assert len(s["record_medians"]) == 2 and all(m > 0 for m in s["record_medians"]), s
    assert s["sd_between"] is not None and s["sd_within"] is not None, s
    assert s["left_out"]["not_ok"] == 0, s
# two records a side: the pooled test corrected for the boots (Kish's design effect)
assert bind["design_effect"] >= 1, bind
assert bind["p_method"] == ("clustered" if bind["design_effect"] > 1 else "exact") or \
    bind["p_method"] == "normal", bind
assert bind["p_adjusted"] >= bind["p"], bind
sh = bind["shift_ns"]
assert sh["level"] == 1 - d["alpha"] and sh["low"] <= sh["estimate"] <= sh["high"], sh
probes = [c for c in d["comparisons"] if c["metric"].startswith("probe ")]
assert probes and all(c["baseline"]["node"] is not None for c in probes), probes
PYEOF

expect_fail() { # RC PATTERN ARGS...
	local want=$1 pat=$2 rc=0
	shift 2
	timeout 20 "$PROBEBENCH" compare "$@" >/dev/null 2>"$OUT/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "compare $*: exit $rc, expected $want: $(cat "$OUT/err")"
	grep -q -- "$pat" "$OUT/err" || fail "compare $*: no '$pat' in: $(cat "$OUT/err")"
}
expect_fail 1 "$OUT/none.json: cannot read" "$OUT/a.json" "$OUT/none.json"
echo "not json" >"$OUT/bad.json"
expect_fail 1 "$OUT/bad.json: cannot read a JSON document" "$OUT/bad.json" "$OUT/a.json"
# a FIFO where a record belongs is refused at once (nothing writes to it: a blocking read would
# wait for ever), and so is /dev/zero (endless)
mkfifo "$OUT/fifo.json"
expect_fail 1 "$OUT/fifo.json: cannot read a run record" "$OUT/a.json" "$OUT/fifo.json"
expect_fail 1 "/dev/zero: cannot read a run record" /dev/zero "$OUT/a.json"
echo '{"plans": []}' >"$OUT/cfg.json"
expect_fail 1 "$OUT/cfg.json: not a run record" "$OUT/a.json" "$OUT/cfg.json"
expect_fail 2 "exactly two run records" "$OUT/a.json"
expect_fail 2 "--alpha: must be a number" --alpha 2 "$OUT/a.json" "$OUT/b.json"
expect_fail 2 "exactly two run records" "$OUT/a.json" "$OUT/b.json" "$OUT/c.json"
expect_fail 2 "no candidate run record after --" "$OUT/a.json" "$OUT/c.json" --
expect_fail 2 "no baseline run record before --" -- "$OUT/a.json"
expect_fail 2 "no baseline run record before --" --json "$OUT/x.json" -- "$OUT/a.json"
expect_fail 2 "-- given twice" "$OUT/a.json" -- "$OUT/c.json" -- "$OUT/d.json"
expect_fail 1 "$OUT/none.json: cannot read" "$OUT/a.json" -- "$OUT/c.json" "$OUT/none.json"
echo "PASS: compare pairs real records one or several a side, is neutral on itself and refuses bad input"

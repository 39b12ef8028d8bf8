#!/bin/bash
# probebench compare on real records: two runs of the host's virtio-rng function (found by id),
# one measured and one with --no-measure. The comparison validates against its schema, pairs the
# bind and unbind series (the probe series exist only in the measured run and are listed as
# such), and a record compared with itself shows ratio 1 and no change everywhere. Bad input:
# a missing file, a file that is not JSON, one that is not a run record, wrong arguments.
. "$(dirname "$0")/lib.sh"
rng_cycle_setup

"$PROBEBENCH" run --state-dir "$STATE" -n 12 -w 1 --json "$OUT/a.json" "$BDF" >/dev/null ||
	fail "measured run failed"
"$PROBEBENCH" run --state-dir "$STATE" -n 12 -w 1 --no-measure --json "$OUT/b.json" "$BDF" >/dev/null ||
	fail "bare run failed"
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

expect_fail() { # RC PATTERN ARGS...
	local want=$1 pat=$2 rc=0
	shift 2
	"$PROBEBENCH" compare "$@" >/dev/null 2>"$OUT/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "compare $*: exit $rc, expected $want: $(cat "$OUT/err")"
	grep -q -- "$pat" "$OUT/err" || fail "compare $*: no '$pat' in: $(cat "$OUT/err")"
}
expect_fail 1 "$OUT/none.json: cannot read" "$OUT/a.json" "$OUT/none.json"
echo "not json" >"$OUT/bad.json"
expect_fail 1 "$OUT/bad.json: cannot read a JSON document" "$OUT/bad.json" "$OUT/a.json"
echo '{"plans": []}' >"$OUT/cfg.json"
expect_fail 1 "$OUT/cfg.json: not a run record" "$OUT/a.json" "$OUT/cfg.json"
expect_fail 2 "exactly two run records" "$OUT/a.json"
expect_fail 2 "--alpha: must be a number" --alpha 2 "$OUT/a.json" "$OUT/b.json"
echo "PASS: compare pairs real records, is neutral on itself and refuses bad input"

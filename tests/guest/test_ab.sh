#!/bin/bash
# probebench-vm ab: the same plan on two sides in alternating boots, every record kept, one
# comparison of them all. Here both sides boot the same kernel (A and B identical), 2 boots each,
# the node-1 virtio-rng function cycled with the writer on each node: the boots run A B A B, the
# four records validate, compare.json (schema) pools two records a side with their per-record
# medians, the verdict table is printed and kept in verdict.txt. Whether identical sides ever
# come out "significant" is not asserted here (at alpha 0.01 it may, rarely); bench/ab_null.sh
# measures that rate. Refusals: no --out, --json in the run's arguments, a directory that holds
# records already, --exec; a side that cannot boot stops ab with the harness's status and
# no comparison.
. "$(dirname "$0")/lib.sh"
need_vm
"$PROBEBENCH" compare --help 2>&1 | grep -q -- ' -- ' || skip "this build's compare takes no records a side"

ab() { "$VM" ab "${vm_opts[@]}" "$@"; }

# refusals, before any boot
out=$TEST_TMP/ab
refuse() { # WANT-MESSAGE ARGS...
	local want=$1 rc=0 err
	shift
	err=$(ab "$@" 2>&1 >/dev/null) || rc=$?
	[ $rc = 125 ] || fail "ab $*: exit $rc, expected 125 ($err)"
	grep -q -- "$want" <<<"$err" || fail "ab $*: '$err' does not say '$want'"
	echo "refused: ab $* -> $err"
}
refuse "needs --out" -- run 0000:82:00.0
refuse "own --json" --out "$out" -- run 0000:82:00.0 --json /out/x.json
refuse "give -- run" --out "$out" -- list
refuse "does not apply" --out "$out" --exec true -- run 0000:82:00.0
mkdir -p "$TEST_TMP/full" && echo '{}' >"$TEST_TMP/full/a-1.json"
refuse "already holds records" --out "$TEST_TMP/full" -- run 0000:82:00.0
rc=0
ab --a-kernel /nonexistent/vmlinuz --out "$TEST_TMP/nokernel" -- run 0000:82:00.0 >"$TEST_TMP/nokernel.out" 2>&1 || rc=$?
cat "$TEST_TMP/nokernel.out"
[ $rc = 125 ] || fail "a side that cannot boot: exit $rc, expected 125"
grep -q "boot a-1 left no record" "$TEST_TMP/nokernel.out" || fail "a side that cannot boot is not named"
[ ! -e "$TEST_TMP/nokernel/compare.json" ] || fail "a comparison was written without every record"

rc=0
ab --boots 2 --out "$out" -- run 0000:82:00.0 --writer-node 0,1 --iterations 6 --warmup 1 --method kprobe \
	>"$TEST_TMP/ab.out" 2>"$TEST_TMP/ab.err" || rc=$?
sed 's/^/  | /' "$TEST_TMP/ab.err" "$TEST_TMP/ab.out"
[ $rc = 0 ] || fail "ab: exit $rc"
[ "$(grep -o 'boot [ab]-[0-9]' "$TEST_TMP/ab.err" | tr '\n' ' ')" = "boot a-1 boot b-1 boot a-2 boot b-2 " ] ||
	fail "the boots did not alternate A B A B"
for r in a-1 b-1 a-2 b-2; do
	[ -s "$out/$r.json" ] || fail "no record $r.json"
	[ -s "$out/$r.log" ] || fail "no output $r.log"
	validate_json "$out/$r.json" "$PB_SOURCE_DIR/schema/run.schema.json" || fail "$r.json does not validate"
done
validate_json "$out/compare.json" "$PB_SOURCE_DIR/schema/compare.schema.json" || fail "compare.json does not validate"
cmp -s "$out/verdict.txt" "$TEST_TMP/ab.out" || fail "verdict.txt is not what ab printed"
# the report of the comparison, A next to B with both sides' samples, every record's figures
grep -q "^probebench-vm ab: report: $out/report.html$" "$TEST_TMP/ab.err" || fail "ab did not name its report"
grep -q 'id="cmp-0"' "$out/report.html" || fail "no comparison in report.html"
grep -q 'id="cmpdist-0"' "$out/report.html" || fail "report.html lacks the samples of both sides"
grep -q 'id="series-r3-t0-p1"' "$out/report.html" || fail "report.html lacks the fourth record's figures"
grep -q '^device .*driver .*entry/method' "$out/verdict.txt" || fail "no verdict table"
"$PY" - "$out/compare.json" <<'PYEOF' || fail "compare.json is not a comparison of two records a side"
import json, sys
c = json.load(open(sys.argv[1]))
bad = []
for side, names in (("baseline", ["a-1.json", "a-2.json"]), ("candidate", ["b-1.json", "b-2.json"])):
    s = c[side]
    if s.get("records") != 2 or [r["file"].split("/")[-1] for r in s.get("runs", [])] != names:
        bad.append(f"{side}: {s.get('records')} records {s.get('runs')}")
probes = [x for x in c["comparisons"] if x["metric"].startswith("probe pci/") and x.get("method") == "kprobe"]
if len(probes) != 2:  # one per writer node
    bad.append(f"{len(probes)} kprobe series of the PCI probe, expected 2 (node0, node1)")
for x in probes:
    for side in ("baseline", "candidate"):
        s = x[side]
        if s["N"] != 12 or len(s.get("record_medians", [])) != 2 or s.get("between_share") is None:
            bad.append(f"{x['placement']} {side}: N {s['N']}, record medians {s.get('record_medians')}")
    if x.get("p_adjusted") is None or x.get("shift_ns") is None:
        bad.append(f"{x['placement']}: no adjusted p or shift")
    print(f"{x['placement']}: p50 {x['baseline']['median'] / 1e6:.2f} -> {x['candidate']['median'] / 1e6:.2f} ms, "
          f"p {x['p']:.3g} adjusted {x['p_adjusted']:.3g}: {x['verdict']}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
echo PASS

#!/bin/bash
# probebench-vm ab: the same plan on two sides in alternating boots, every record kept, one
# comparison of them all. A is the stock guest, B the same kernel booted with
# driver_async_probe=virtio_rng; the plan reloads the virtio_rng module (--entry module) with the
# writer on node 0, 6 times a boot, 2 boots a side. The module drives both virtio-rng children
# (node 0 and node 1): loaded synchronously, both probes run in the loading writer on node 0
# (half of them on their device's node); with asynchronous probing the 6.1 driver core queues
# each probe to its device's node (async_schedule_dev()), so all of them are. compare.json must
# say so: on-node share up, significant after Holm. Also: the boots run A B A B, the four records
# validate, compare.json (schema) pools two records a side with their per-record medians, the
# verdict table names the entry and is kept in verdict.txt. Refusals: no --out, --json in the
# run's arguments, a directory that holds records already, --exec; a side that cannot boot stops
# ab with the harness's status and no comparison. Identical sides are bench/ab_null.sh's.
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

# virtio0: the child of 0000:82:00.0 (node 1), named by the order virtio-pci (built in) probes
# the functions, the same in every boot of this topology
rc=0
ab --boots 2 --b-append driver_async_probe=virtio_rng --out "$out" -- \
	run virtio0 --entry module --writer-node 0 --iterations 6 --warmup 1 --method kprobe \
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
grep -q 'id="series-r3-t0-p0"' "$out/report.html" || fail "report.html lacks the fourth record's figures"
grep -q '^device .*driver .*entry/method' "$out/verdict.txt" || fail "no verdict table"
grep -q '^virtio0 .*virtio_rng .*module/kprobe' "$out/verdict.txt" || fail "the verdict table does not name the module entry"
"$PY" - "$out/compare.json" <<'PYEOF' || fail "compare.json does not show the probes moving to their device's node"
import json, sys
c = json.load(open(sys.argv[1]))
bad = []
for side, names in (("baseline", ["a-1.json", "a-2.json"]), ("candidate", ["b-1.json", "b-2.json"])):
    s = c[side]
    if s.get("records") != 2 or [r["file"].split("/")[-1] for r in s.get("runs", [])] != names:
        bad.append(f"{side}: {s.get('records')} records {s.get('runs')}")
    if s.get("entry") != "module":
        bad.append(f"{side}: entry {s.get('entry')}")
sh = [x for x in c["node_shares"] if x["metric"] == "probe virtio/virtio_rng depth 0" and x.get("method") == "kprobe"]
if len(sh) != 1:
    bad.append(f"{len(sh)} on-node share series of virtio_rng's probes: {c['node_shares']}")
else:
    x = sh[0]
    print(f"on the device's node: {x['baseline_share']:.2f} of {x['baseline_n']} -> {x['candidate_share']:.2f} of "
          f"{x['candidate_n']}, Fisher p {x['p']:.3g}, adjusted {x['p_adjusted']:.3g}: {x['verdict']}")
    if not (x["baseline_share"] < 0.75 and x["candidate_share"] == 1.0):
        bad.append("the shares did not move from the writer's node to the devices' nodes")
    if not (x["p_adjusted"] < c["alpha"] and x["verdict"] == "more on the device's node"):
        bad.append(f"the change is not called significant: {x}")
probes = [x for x in c["comparisons"] if x["metric"] == "probe virtio/virtio_rng depth 0"]
for x in probes:
    for side in ("baseline", "candidate"):
        if len(x[side].get("record_medians", [])) != 2 or x[side].get("between_share") is None:
            bad.append(f"{side}: record medians {x[side].get('record_medians')}")
    print(f"probe p50 {x['baseline']['median'] / 1e6:.2f} -> {x['candidate']['median'] / 1e6:.2f} ms, "
          f"shift {x['shift_ns']}, p adjusted {x['p_adjusted']:.3g}: {x['verdict']}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
echo PASS

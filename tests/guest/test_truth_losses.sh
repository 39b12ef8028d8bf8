#!/bin/bash
# Losses, against the pbtest driver (tests/kmod) in the NUMA guest. pbtest1 allocates 10,000
# pages in each probe (10,000 kmem:mm_page_alloc records in one window), pbtest0 none; both are
# cycled in one run, interleaved, with the kprobe method:
#  - default rings: no record is lost (the spill thread moves the ring out when it is half full),
#    and the probe's pages are all there, on node 1 where the driver put them;
#  - a tiny ring (--ring-pages 1): the losses are reported in pbtest1's own windows, exactly
#    (lost_exact), never in pbtest0's windows that follow them; the lossy iterations are counted
#    in the summary and left out of its statistics, and --include-lossy counts them in (but for
#    a window that lost the probe's own records: a missing probe, always left out).
# PB_TRUTH_BUFFER (perf, ftrace) picks the observer's buffer (run --buffer; unset: the default).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kmod.sh"
"$PROBEBENCH" --help | grep -q '^  run ' || skip "this build has no run command"
need_vm
kmod_setup

vm_run losses --exec "$KMOD_GUEST_LIB
buffer='${PB_TRUTH_BUFFER:+--buffer $PB_TRUTH_BUFFER}'"'
cd /out
pbt_load nodes=0,1 parents=$(pbt_bridge 0),$(pbt_bridge 1) || exit 3
pbt_set pbtest1 pages 10000
pbt_set pbtest1 page_node 1
rc=0
probebench run pbtest0 pbtest1 --writer-node 0 --iterations 3 --warmup 1 --method kprobe $buffer \
	--json default.json >default.txt 2>&1 || rc=$?
probebench run pbtest0 pbtest1 --writer-node 0 --iterations 3 --warmup 1 --method kprobe $buffer \
	--ring-pages 1 --json tiny.json >tiny.txt 2>&1 || rc=$?
probebench run pbtest0 pbtest1 --writer-node 0 --iterations 3 --warmup 1 --method kprobe $buffer \
	--ring-pages 1 --include-lossy --json tiny-incl.json >tiny-incl.txt 2>&1 || rc=$?
exit $rc'
expect_rc 0 "the guest script"
for f in default tiny tiny-incl; do
	validate_json "$vm_out/$f.json" "$PB_SOURCE_DIR/schema/run.schema.json" || fail "$f.json does not validate"
done
"$PY" - "$vm_out/default.json" "$vm_out/tiny.json" "$vm_out/tiny-incl.json" <<'PYEOF' || fail "losses are not reported as they happened"
import json, sys
d, t, ti = (json.load(open(p)) for p in sys.argv[1:4])
bad = []
def probe(it):
    ps = [p for p in it["measurement"]["probes"] if p["depth"] == 0]
    return ps[0] if len(ps) == 1 else None
for it in d["iterations"]:
    m = it["measurement"]
    p = probe(it)
    pages = p and p["memory"] and p["memory"]["pages_by_node"]
    print(f"default {it['target']} it {it['iteration']}: lost {m['lost_records']} (exact {m['lost_exact']}), probe pages {pages}")
    if m["lost_records"] or not m["lost_exact"]:
        bad.append(f"default ring: {it['target']} it {it['iteration']} lost {m['lost_records']}")
    if it["target"] == "pbtest1" and (not pages or len(pages) < 2 or pages[1] < 10000):
        bad.append(f"default ring: pbtest1 it {it['iteration']}: probe pages {pages}, the driver took 10000 on node 1")
for it in t["iterations"]:
    m = it["measurement"]
    print(f"tiny {it['target']} it {it['iteration']}: lost {m['lost_records']} (exact {m['lost_exact']})")
    if not m["lost_exact"]:
        bad.append(f"tiny ring: {it['target']} it {it['iteration']}: losses not counted per window")
    if it["target"] == "pbtest1" and not m["lost_records"]:
        bad.append(f"tiny ring: pbtest1 it {it['iteration']}: 10000 page records and no loss")
    if it["target"] == "pbtest0" and m["lost_records"]:
        bad.append(f"tiny ring: pbtest0 it {it['iteration']}: {m['lost_records']} lost in a window without a flood (late?)")
for doc, incl in ((t, False), (ti, True)):
    for s in doc["summary"]:
        m = s["measurement"]
        n = m["probes"][0]["probe_ns"]["N"] if m["probes"] and m["probes"][0]["probe_ns"] else 0
        print(f"{'include' if incl else 'default'} summary {s['target']}: lossy {m['iterations_lossy']}, "
              f"missing probe {m['iterations_missing_probe']}, probes in the statistics {n}")
        if s["target"] == "pbtest1":
            # a window that lost the probe's own records has no probe: a missing probe, left
            # out even with --include-lossy
            want = 3 - m["iterations_missing_probe"] if incl else 0
            if m["iterations_lossy"] != 3 or m["lossy_included"] != incl or n != want:
                bad.append(f"summary of pbtest1 ({'--include-lossy' if incl else 'default'}): {m['iterations_lossy']} lossy, {m['iterations_missing_probe']} missing, N {n}")
        elif m["iterations_lossy"] != 0 or n != 3:
            bad.append(f"summary of pbtest0: {m['iterations_lossy']} lossy, N {n}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
grep -q "iterations that lost records: 3, left out of these statistics" "$vm_out/tiny.txt" ||
	fail "the text report does not say the lossy iterations were left out: $(cat "$vm_out/tiny.txt")"
echo PASS

#!/bin/bash
# What a probe's pages become, against the pbtest driver (tests/kmod) in the NUMA guest: pbtest1
# (node 1) cycled with the writer on node 0, kprobe method, 3 iterations, for three behaviours:
#   keep     16 pages on node 1 kept until remove: every bind's memory.kept holds them on node 1
#            (state next_unbind, and run_end for the run's last bind), nothing freed in between;
#   scratch  32 pages taken and freed again inside ->probe: memory.freed_in_window counts them,
#            kept does not (state none_held when nothing was left to watch);
#   release  16 pages kept, freed by the driver 100 ms after the probe (--interval 400ms between
#            cycles): freed after the window, not kept at the next unbind.
# The gross figure (pages_total) stays what it was: every page the probing tasks took. Then the
# e1000e and an NVMe function (node 1), 2 binds each: every bind's kept figure settles and, with
# what was freed, stays within the gross figure; the figures are printed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kmod.sh"
"$PROBEBENCH" --help | grep -q '^  run ' || skip "this build has no run command"
need_vm
kmod_setup

vm_run kept --exec "$KMOD_GUEST_LIB"'
cd /out
pbt_load nodes=0,1 parents=$(pbt_bridge 0),$(pbt_bridge 1) || exit 3
for b in keep scratch release; do
	pbt_set pbtest1 reset 1
	more=
	case $b in
	keep) pbt_set pbtest1 pages 16; pbt_set pbtest1 page_node 1 ;;
	scratch) pbt_set pbtest1 scratch 32; pbt_set pbtest1 page_node 1 ;;
	release) pbt_set pbtest1 pages 16; pbt_set pbtest1 page_node 1; pbt_set pbtest1 release_ms 100; more="--interval 400ms" ;;
	esac
	echo clear >$PBT_TRUTH
	probebench run pbtest1 --writer-node 0 --iterations 3 --warmup 1 --method kprobe $more \
		--json $b.json >$b.txt 2>&1
	echo $? >$b.rc
	cat $PBT_TRUTH >$b.truth
done
pbt_set pbtest1 reset 1
# real drivers: the e1000e function and an NVMe function on node 1
probebench run 0000:81:00.0 0000:83:00.0 --writer-node 0 --iterations 2 --warmup 0 --method kprobe \
	--json real.json >real.txt 2>&1
echo $? >real.rc
exit 0'
expect_rc 0 "the guest script"
for b in keep scratch release real; do
	echo "--- $b: probebench exit $(cat "$vm_out/$b.rc")"
	sed 's/^/  | /' "$vm_out/$b.txt"
	[ "$(cat "$vm_out/$b.rc")" = 0 ] || fail "$b: probebench run failed"
	validate_json "$vm_out/$b.json" "$PB_SOURCE_DIR/schema/run.schema.json" || fail "$b: the record does not validate"
	grep -q "kept until the next unbind" "$vm_out/$b.txt" || fail "$b: the summary says nothing of kept pages"
done
"$PY" - "$vm_out" <<'PYEOF' || fail "the kept-page figures disagree with what the driver did"
import json, sys
d = sys.argv[1]
bad = []
def need(c, what):
    if not c:
        bad.append(what)
def iterations(b):
    r = json.load(open(f"{d}/{b}.json"))
    its = sorted(r["iterations"], key=lambda it: it["measurement"]["probes"][0]["start_ns"])
    return r, its
for b in ("keep", "scratch", "release"):
    r, its = iterations(b)
    need(len(its) == 3, f"{b}: {len(its)} iterations")
    for i, it in enumerate(its):
        mem = it["measurement"]["memory"]
        k, fr = mem.get("kept"), mem.get("freed_in_window")
        need(k is not None and fr is not None, f"{b} #{i}: no kept or freed_in_window: {mem}")
        if not k or not fr:
            continue
        last = i == len(its) - 1
        # scratch: nothing left to watch, unless the probe's task took a page of its own (a slab
        # refill, say) that it still held
        want = {"run_end" if last else "next_unbind"} | ({"none_held"} if b == "scratch" else set())
        need(k["state"] in want, f"{b} #{i}: kept state {k['state']} ({k.get('why')}), expected {want}")
        byn = k["pages_by_node"] or []
        kept1 = byn[1] if len(byn) > 1 else 0
        print(f"{b} #{i}: gross {mem['pages_total']} {mem['pages_by_node']}, freed in window {fr['pages_total']}, "
              f"kept {k['pages_total']} {byn} ({k['state']}, freed after {k['freed_after_window_pages']}, "
              f"watched {k['watched_ns'] / 1e6:.1f} ms after a gap of {k['gap_ns'] / 1e6:.1f} ms, exact {k['exact']})")
        need(k["pages_total"] + fr["pages_total"] + k["freed_after_window_pages"] <= mem["pages_total"],
             f"{b} #{i}: kept + freed exceed the gross pages")
        if b == "keep":
            need(kept1 >= 16, f"keep #{i}: {kept1} pages kept on node 1, the driver keeps 16")
        elif b == "scratch":
            need(fr["pages_total"] >= 32, f"scratch #{i}: {fr['pages_total']} freed in the window, the driver freed 32")
            need(mem["pages_total"] >= 32, f"scratch #{i}: gross {mem['pages_total']}")
            need(k["pages_total"] <= mem["pages_total"] - 32, f"scratch #{i}: the scratch pages counted as kept")
        elif b == "release" and not last:
            need(k["freed_after_window_pages"] >= 16, f"release #{i}: {k['freed_after_window_pages']} freed after the window, the driver released 16")
            need(kept1 <= max(0, (mem["pages_by_node"] + [0, 0])[1] - 16), f"release #{i}: released pages still counted as kept")
r = json.load(open(f"{d}/real.json"))
for it in r["iterations"]:
    mem = it["measurement"]["memory"]
    k, fr = mem["kept"], mem["freed_in_window"]
    print(f"real {it['target']} #{it['iteration']}: gross {mem['pages_total']} {mem['pages_by_node']}, "
          f"freed in window {fr['pages_total']}, kept {k['pages_total']} {k['pages_by_node']} ({k['state']}, "
          f"freed after {k['freed_after_window_pages']}, gap {k['gap_ns'] / 1e6:.1f} ms, exact {k['exact']})")
    need(k["state"] in ("next_unbind", "run_end"), f"real {it['target']}: kept state {k['state']} ({k.get('why')})")
    if k["pages_total"] is not None:
        need(k["pages_total"] + fr["pages_total"] + k["freed_after_window_pages"] <= mem["pages_total"],
             f"real {it['target']}: kept + freed exceed the gross pages")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
echo PASS

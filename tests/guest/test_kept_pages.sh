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
# what was freed, stays within the gross figure; the slab caches that changed around each bind
# (SLUB's per-node counts) are there; the figures are printed. Last, three pbtest devices in
# --parallel, sharing the process's one kept-page watch: pbtest0 keeps 16 pages on node 0,
# pbtest1 keeps 24 on node 1 and frees them 400 ms after the probe (1 s between cycles: the
# watch starts later in --parallel, after every window is decoded), pbtest2 keeps 8 on node 1:
# each target's kept figure is its own (the frees are told apart by page frame), and the
# watch's descriptors are those of one set of page-free events on every CPU (two while it moves
# to a new filter), not one set per target.
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
pbt_load nodes=0,1,1 parents=$(pbt_bridge 0),$(pbt_bridge 1),$(pbt_bridge 1) || exit 3
pbt_set pbtest0 pages 16; pbt_set pbtest0 page_node 0
pbt_set pbtest1 pages 24; pbt_set pbtest1 page_node 1; pbt_set pbtest1 release_ms 400
pbt_set pbtest2 pages 8; pbt_set pbtest2 page_node 1
probebench run --parallel pbtest0 pbtest1 pbtest2 --writer-node 0 --iterations 3 --warmup 1 \
	--method kprobe --interval 1s --json par.json >par.txt 2>&1
echo $? >par.rc
for d in pbtest0 pbtest1 pbtest2; do pbt_set $d reset 1; done
# real drivers: the e1000e function and an NVMe function on node 1
probebench run 0000:81:00.0 0000:83:00.0 --writer-node 0 --iterations 2 --warmup 0 --method kprobe \
	--json real.json >real.txt 2>&1
echo $? >real.rc
exit 0'
expect_rc 0 "the guest script"
for b in keep scratch release real par; do
	echo "--- $b: probebench exit $(cat "$vm_out/$b.rc")"
	sed 's/^/  | /' "$vm_out/$b.txt"
	[ "$(cat "$vm_out/$b.rc")" = 0 ] || fail "$b: probebench run failed"
	validate_json "$vm_out/$b.json" "$PB_SOURCE_DIR/schema/run.schema.json" || fail "$b: the record does not validate"
	grep -q "kept until the next unbind" "$vm_out/$b.txt" || fail "$b: the summary says nothing of kept pages"
	grep -q "slab objects after - before the bind" "$vm_out/$b.txt" || fail "$b: the summary says nothing of slab caches"
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
def settled(label, its, also=set()):
    """Each bind's memory, kept and freed_in_window figures, and whether it is the run's last:
    its watch settled at the next unbind, or at the run's end for the last (or in also)."""
    for i, it in enumerate(its):
        mem = it["measurement"]["memory"]
        k, fr = mem.get("kept"), mem.get("freed_in_window")
        need(k is not None and fr is not None, f"{label} #{i}: no kept or freed_in_window: {mem}")
        if not k or not fr:
            continue
        last = i == len(its) - 1
        want = {"run_end" if last else "next_unbind"} | also
        need(k["state"] in want, f"{label} #{i}: kept state {k['state']} ({k.get('why')}), expected {want}")
        print(f"{label} #{i}: gross {mem['pages_total']} {mem['pages_by_node']}, freed in window {fr['pages_total']}, "
              f"kept {k['pages_total']} {k['pages_by_node']} ({k['state']}, freed after {k['freed_after_window_pages']}, "
              f"watched {k['watched_ns'] / 1e6:.1f} ms after a gap of {k['gap_ns'] / 1e6:.1f} ms, exact {k['exact']})")
        need(k["pages_total"] + fr["pages_total"] + k["freed_after_window_pages"] <= mem["pages_total"],
             f"{label} #{i}: kept + freed exceed the gross pages")
        yield i, mem, k, fr, last
for b in ("keep", "scratch", "release"):
    r, its = iterations(b)
    need(len(its) == 3, f"{b}: {len(its)} iterations")
    # scratch: nothing left to watch, unless the probe's task took a page of its own (a slab
    # refill, say) that it still held
    for i, mem, k, fr, last in settled(b, its, {"none_held"} if b == "scratch" else set()):
        byn = k["pages_by_node"] or []
        kept1 = byn[1] if len(byn) > 1 else 0
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
    sc = mem.get("slab_caches")
    need(isinstance(sc, list), f"real {it['target']}: no slab cache figures: {sc}")
    print(f"  slab caches: " + ", ".join(f"{c['cache']} {c['delta']:+d} {c['delta_by_node']}" for c in (sc or [])[:4]))
    if k["pages_total"] is not None:
        need(k["pages_total"] + fr["pages_total"] + k["freed_after_window_pages"] <= mem["pages_total"],
             f"real {it['target']}: kept + freed exceed the gross pages")
# --parallel: two targets on the one watch, each with its own figures
r = json.load(open(f"{d}/par.json"))
o = r["measurement"]["observer"]
ncpu = o["cpus"]  # the shared events', on every CPU as the kept-page watch's
print(f"par: observer {o['targets']} targets, kept-page watch {o['kept_fds']} fds, "
      f"{o['kept_locked_bytes']} bytes on {ncpu} CPUs")
need(o["targets"] == 3, f"par: {o['targets']} targets observed")
need(o["kept_fds"] in (2 * ncpu, 4 * ncpu),
     f"par: the kept-page watch held {o['kept_fds']} fds: one set of 2 events on {ncpu} CPUs (two while moving) expected")
by = {}
for it in r["iterations"]:
    by.setdefault(it["target"], []).append(it)
need(sorted(by) == ["pbtest0", "pbtest1", "pbtest2"] and all(len(v) == 3 for v in by.values()),
     f"par: iterations {dict((t, len(v)) for t, v in by.items())}")
for t, its in sorted(by.items()):
    its.sort(key=lambda it: it["measurement"]["probes"][0]["start_ns"])
    for i, mem, k, fr, last in settled(f"par {t}", its):
        byn = (k["pages_by_node"] or []) + [0, 0]
        gross = mem["pages_by_node"] + [0, 0]
        if t == "pbtest0":
            need(byn[0] >= 16, f"par pbtest0 #{i}: {byn[0]} pages kept on node 0, the driver keeps 16")
            need(k["freed_after_window_pages"] < 24,
                 f"par pbtest0 #{i}: {k['freed_after_window_pages']} freed after the window: pbtest1's frees?")
        elif t == "pbtest2":
            need(byn[1] >= 8, f"par pbtest2 #{i}: {byn[1]} pages kept on node 1, the driver keeps 8")
            need(k["freed_after_window_pages"] < 24,
                 f"par pbtest2 #{i}: {k['freed_after_window_pages']} freed after the window: pbtest1's frees?")
        elif not last:
            need(k["freed_after_window_pages"] >= 24,
                 f"par pbtest1 #{i}: {k['freed_after_window_pages']} freed after the window, the driver released 24")
            need(byn[1] <= max(0, gross[1] - 24), f"par pbtest1 #{i}: released pages still counted as kept")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
echo PASS

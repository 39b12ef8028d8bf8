#!/bin/bash
# Measurement in `probebench run` on the host's virtio-rng function (1af4:1044, found by id):
# every measured iteration of a PCI-level run has a probe record for the PCI function (virtio-pci)
# and one for its virtio child (virtio_rng), with CPU, node, task and a duration no longer than
# the bind write; pages by node add up to the total; the summary has probe stats; the record
# validates. Slab allocations are counted per CPU and not sampled by default (the record says
# so, with no sampled figures), sampled too with --slab-samples. Then a virtio-level run on the
# child, a --no-measure run, --fifo, and bad options.
# The device always ends bound, the journal empty.
. "$(dirname "$0")/lib.sh"
rng_cycle_setup


# FILE N SLAB EXPECTED: EXPECTED lists depth|bus|driver[|device] that every iteration must show;
# SLAB is counted (the default) or sampled (--slab-samples).
check_measured() {
	validate_json "$1" "$SCHEMA_DIR/run.schema.json" || fail "$1 does not validate"
	rc=0
	"$PY" - "$@" <<'PYEOF' || rc=$?
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2]); sampled = sys.argv[3] == "sampled"; want = sys.argv[4:]
m = d["measurement"]
if not m["enabled"] or not m["used"]:
    print("SKIP-MEASURE: no method works here: %s" % json.dumps(m)[:400]); sys.exit(77)
if m["used"] == ["kmsg"]:
    print("SKIP-MEASURE: only the kmsg method works here; it sees no CPU or task"); sys.exit(77)
its = d["iterations"]
assert d["status"] == "complete" and len(its) == n, (d["status"], len(its))
for it in its:
    assert it["outcome"] == "ok", it
    f = it["measurement"]
    assert "error" not in f, f
    assert f["method"] in m["used"]
    for w in want:
        depth, bus, drv, *dev = w.split("|")
        ps = [p for p in f["probes"] if p["depth"] == int(depth) and p["bus"] == bus and p["driver"] == drv]
        assert len(ps) == 1, ("iteration %d: %d probe records for %s" % (it["iteration"], len(ps), w), f["probes"])
        p = ps[0]
        if dev:
            assert p["device"] == dev[0], (p["device"], dev)
        assert isinstance(p["cpu"], int) and p["cpu"] >= 0, p
        assert isinstance(p["node"], int) and p["node"] >= 0, p
        assert p["pid"] > 0 and p["comm"], p
        assert p["task_measured"] is True, p
        assert p["ret"] == 0, p
        assert 0 < p["duration_ns"] <= it["bind_ns"], ("probe longer than its bind write", p["duration_ns"], it["bind_ns"])
        # without a hop, the probe runs in the writer, on the CPU the writer wrote from
        if p["hop"] is None and f["method"] != "kmsg":
            assert p["comm"] == "probebench" and p["pid"] == f["writer_tid"], p
    mem = f["memory"]
    if mem is not None:
        assert sum(mem["pages_by_node"]) + mem["pages_unknown_node"] == mem["pages_total"], mem
        assert len(mem["bytes_by_node"]) == len(mem["pages_by_node"])
        # per probe: inside the window's pages; a nested probe's inside its parent's
        pages = {}
        for p in f["probes"]:
            assert p["memory"] is not None, p
            pages[p["depth"]] = sum(p["memory"]["pages_by_node"]) + p["memory"]["pages_unknown_node"]
            assert pages[p["depth"]] <= mem["pages_total"], (p["memory"], mem)
        if 1 in pages:
            assert pages[1] <= pages[0], pages
        # slab: the counters (every task on the CPUs, whole enable window) hold at least what
        # the samples of the probing tasks saw, node by node, when no sample was lost; not
        # sampled, the record has no sampled figures (absent, not zero)
        sp = mem["slab_proxy"]
        assert sp["counted_by_node"] is not None, sp
        assert sp["sampled"] is sampled, sp
        if not sampled:
            assert "allocs_by_node" not in sp and "bytes_by_node" not in sp, sp
            # the probe allocates (virtio-pci: its device, the virtio child: its virtqueues)
            assert sum(sp["counted_by_node"]) > 0, ("no slab allocation counted", it["iteration"], sp)
        elif not f["lost_slab_records"]:
            for k, a in enumerate(sp["allocs_by_node"]):
                assert a <= (sp["counted_by_node"][k] if k < len(sp["counted_by_node"]) else 0), sp
s = d["summary"][0]["measurement"]
assert s["iterations_measured"] == n, s["iterations_measured"]
for w in want:
    depth, bus, drv, *dev = w.split("|")
    g = [x for x in s["probes"] if x["depth"] == int(depth) and x["bus"] == bus and x["driver"] == drv]
    assert len(g) == 1 and g[0]["probe_ns"]["N"] == n, (w, s["probes"])
    print("%s: %s probe p50 %.1f us (%s), on device node %s" % (d["targets"][0]["name"], drv,
          g[0]["probe_ns"]["percentile"]["50.000000"] / 1e3, s["method"], g[0]["on_device_node"]))
assert d["options"]["slab_samples"] is sampled, d["options"]
if s["memory"] is not None:
    assert sum(s["memory"]["pages_by_node"]) + s["memory"]["pages_unknown_node"] == s["memory"]["pages_total"]
    assert s["memory"]["slab_sampled"] is sampled, s["memory"]
    assert sum(s["memory"]["slab_counted_by_node"]) > 0, s["memory"]
    if sampled:
        assert sum(s["memory"]["slab_allocs_by_node"]) > 0, s["memory"]
    else:
        assert "slab_allocs_by_node" not in s["memory"], s["memory"]
    print("slab allocations over the run (%s): counted %s%s" % (
        "sampled" if sampled else "not sampled", s["memory"]["slab_counted_by_node"],
        ", sampled %s" % s["memory"]["slab_allocs_by_node"] if sampled else ""))
    # virtio-pci's probe allocates its virtqueues: some pages over the run, seen by mm_page_alloc
    if any(w.startswith("0|pci|") for w in want):
        assert s["memory"]["pages_total"] > 0, s["memory"]
        print("pages over the run: %d" % s["memory"]["pages_total"])
PYEOF
	[ $rc -eq 77 ] && skip "measurement unavailable (see above)"
	[ $rc -eq 0 ] || fail "record $1 is wrong"
}

"$PROBEBENCH" run --state-dir "$STATE" -n 10 -w 1 --json "$OUT/pci.json" "$BDF" >"$OUT/pci.txt" ||
	fail "PCI-level run failed (rc $?)"
cat "$OUT/pci.txt"
check_bound
check_measured "$OUT/pci.json" 10 counted "0|pci|virtio-pci|$BDF" "1|virtio|virtio_rng"
grep -q "probe pci/virtio-pci (" "$OUT/pci.txt" || fail "no probe row in the table"
grep -q "child virtio/virtio_rng (" "$OUT/pci.txt" || fail "no child probe row in the table"
grep -q "pages by node" "$OUT/pci.txt" || fail "no pages row in the table"
grep -q "slab allocations (.*counted per CPU by perf; sizes not sampled: --slab-samples)" "$OUT/pci.txt" ||
	fail "the table does not say the slab allocations were not sampled"

# The sampled slab proxy, as before the default counted only.
"$PROBEBENCH" run --state-dir "$STATE" --slab-samples -n 5 -w 1 --json "$OUT/slab.json" "$BDF" >"$OUT/slab.txt" ||
	fail "--slab-samples run failed (rc $?)"
check_bound
check_measured "$OUT/slab.json" 5 sampled "0|pci|virtio-pci|$BDF" "1|virtio|virtio_rng"
grep -q "slab allocations (perf-counted" "$OUT/slab.txt" || fail "no slab row in the --slab-samples table"
if grep -q "sizes not sampled" "$OUT/slab.txt"; then fail "--slab-samples: the table says not sampled"; fi

CHILD=$(rng_child "$BDF") || fail "no virtio child"
"$PROBEBENCH" run --state-dir "$STATE" -n 10 -w 1 --json "$OUT/virtio.json" "$CHILD" >/dev/null ||
	fail "virtio-level run failed (rc $?)"
check_bound
check_measured "$OUT/virtio.json" 10 counted "0|virtio|virtio_rng|$CHILD"

# Bare timing: no observer, the record says so.
"$PROBEBENCH" run --state-dir "$STATE" --no-measure -n 3 -w 0 --json "$OUT/bare.json" "$BDF" >"$OUT/bare.txt" ||
	fail "--no-measure run failed (rc $?)"
check_bound
validate_json "$OUT/bare.json" "$SCHEMA_DIR/run.schema.json" || fail "bare record does not validate"
"$PY" - "$OUT/bare.json" <<'PYEOF' || fail "--no-measure record is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["measurement"]["enabled"] is False and d["options"]["measure"] is False
assert all("measurement" not in i for i in d["iterations"]), "measurement without an observer"
assert "measurement" not in d["summary"][0]
PYEOF
grep -q "measurement off" "$OUT/bare.txt" || fail "the table does not say measurement is off"

# SCHED_FIFO writer (root has CAP_SYS_NICE), a forced method.
"$PROBEBENCH" run --state-dir "$STATE" --fifo 10 --method tracepoint -n 2 -w 0 --json "$OUT/fifo.json" "$BDF" >/dev/null ||
	fail "--fifo run failed (rc $?)"
check_bound
"$PY" - "$OUT/fifo.json" <<'PYEOF' || fail "--fifo record is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["hygiene"]["sched_fifo_prio"] == 10 and d["hygiene"]["mlockall"].startswith("ok"), d["hygiene"]
assert d["measurement"]["requested"] == "tracepoint"
PYEOF

# Bad options: usage errors before anything is touched.
rc=0; "$PROBEBENCH" run --state-dir "$STATE" --method nope -n 1 "$BDF" 2>"$OUT/err" || rc=$?
[ $rc -eq 2 ] && grep -q "method" "$OUT/err" || fail "--method nope: rc $rc: $(cat "$OUT/err")"
rc=0; "$PROBEBENCH" run --state-dir "$STATE" --fifo 100 -n 1 "$BDF" 2>"$OUT/err" || rc=$?
[ $rc -eq 2 ] || fail "--fifo 100: rc $rc"
check_bound
echo "ok"

# 200 verified cycles at the PCI level and at the virtio level of the host's virtio-rng function
# (1af4:1044, found by id), both entry paths; the record validates; the device ends bound to its
# original driver and the journal is empty.
. "$(dirname "$0")/lib.sh"
rng_cycle_setup


# Checks N measured iterations, every one verified and ok.
check_record() { # FILE N
	validate_json "$1" "$SCHEMA_DIR/run.schema.json" || fail "$1 does not validate"
	"$PY" - "$1" "$2" <<'PYEOF' || fail "record $1 is wrong"
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
its = d["iterations"]
assert d["status"] == "complete" and d["exit_code"] == 0, d["status"]
assert len(its) == n, (len(its), n)
bad = [i for i in its if not i["verified"] or i["outcome"] != "ok" or i["bind_errno"] or i["unbind_errno"]]
assert not bad, bad[:3]
assert all(i["bind_ns"] > 0 and i["unbind_ns"] > 0 for i in its)
s = d["summary"][0]["bind_ns"]
assert s["N"] == n and s["min"] <= s["percentile"]["50.000000"] <= s["max"]
print("%s: %d cycles, bind median %.1f us, unbind median %.1f us" % (d["targets"][0]["name"], n,
      s["percentile"]["50.000000"] / 1e3, d["summary"][0]["unbind_ns"]["percentile"]["50.000000"] / 1e3))
PYEOF
}

"$PROBEBENCH" run --state-dir "$STATE" -n 200 -w 3 --json "$OUT/pci.json" "$BDF" >"$OUT/pci.txt" ||
	fail "PCI-level run failed (rc $?)"
grep -q "median" "$OUT/pci.txt" || fail "no summary table"
check_record "$OUT/pci.json" 200
check_bound

CHILD=$(rng_child "$BDF") || fail "no virtio child"
"$PROBEBENCH" run --state-dir "$STATE" -n 200 -w 3 --json "$OUT/virtio.json" "$CHILD" >/dev/null ||
	fail "virtio-level run failed (rc $?)"
check_record "$OUT/virtio.json" 200
check_bound

# The probe entry path (driver_override + drivers_probe) at both levels, and a vendor:device target.
"$PROBEBENCH" run --state-dir "$STATE" --entry probe -n 20 -w 1 --json "$OUT/probe.json" 1af4:1044 >/dev/null ||
	fail "probe-entry PCI run failed (rc $?)"
check_record "$OUT/probe.json" 20
[ "$(cat "/sys/bus/pci/devices/$BDF/driver_override")" = "(null)" ] || fail "driver_override not restored"
CHILD=$(rng_child "$BDF")
"$PROBEBENCH" run --state-dir "$STATE" --entry probe -n 20 -w 1 --json "$OUT/probe-v.json" "$CHILD" >/dev/null ||
	fail "probe-entry virtio run failed (rc $?)"
check_record "$OUT/probe-v.json" 20
check_bound

# Writer placement: every CPU as its own placement, round-robin; the writer ran where pinned.
"$PROBEBENCH" run --state-dir "$STATE" -n 5 -w 0 --writer-cpu "0-$(($(nproc) - 1))" --writer-node 0 \
	--json "$OUT/pl.json" "$BDF" >/dev/null || fail "placement run failed (rc $?)"
"$PY" - "$OUT/pl.json" "$(nproc)" <<'PYEOF' || fail "placements wrong"
import json, sys
d = json.load(open(sys.argv[1])); ncpu = int(sys.argv[2])
assert len(d["placements"]) == ncpu + 1
for i in d["iterations"]:
    if i["placement"].startswith("cpu"):
        assert i["writer_cpu"] == int(i["placement"][3:]), i
    else:
        assert i["writer_node"] == 0, i
assert len(d["iterations"]) == 5 * (ncpu + 1)
PYEOF
# --parallel (one thread per target; a single target here, the only cyclable device family)
"$PROBEBENCH" run --state-dir "$STATE" --parallel -n 10 -w 0 --writer-node 0 --json "$OUT/par.json" \
	"$BDF" >/dev/null || fail "parallel run failed (rc $?)"
check_record "$OUT/par.json" 10
check_bound
echo "PASS"

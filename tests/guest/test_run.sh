# probebench run on a real two-node kernel: in the guest, a virtio-rng function and an NVMe
# function on node 1 are cycled with the writer on node 0 and then on node 1. The record
# validates against the run schema, every writer ran on the node of its placement, the targets
# carry node 1, and both functions are bound to their drivers again afterwards.
. "$(dirname "$0")/lib.sh"
"$PROBEBENCH" --help | grep -q '^  run ' || skip "this build has no run command"
need_vm

vm_run run --exec '
probebench run 0000:82:00.0 0000:83:00.0 --writer-node 0,1 --iterations 3 --warmup 1 --json run.json
rc=$?
for d in 0000:82:00.0 0000:83:00.0; do
	echo "$d $(basename "$(readlink /sys/bus/pci/devices/$d/driver)")"
done >after.txt
exit $rc'
expect_rc 0 "probebench run in the guest"
j=$vm_out/run.json
[ -s "$j" ] || fail "run.json did not come back from the guest"
schema=$PB_SOURCE_DIR/schema/run.schema.json
if [ -f "$schema" ]; then
	validate_json "$j" "$schema" || fail "run --json does not validate against $schema"
fi
grep -qx "0000:82:00.0 virtio-pci" "$vm_out/after.txt" || fail "the virtio-rng function is not bound after the run"
grep -qx "0000:83:00.0 nvme" "$vm_out/after.txt" || fail "the NVMe function is not bound after the run"
"$PY" - "$j" <<'PYEOF' || fail "the run record does not match the guest"
import json, sys
doc = json.load(open(sys.argv[1]))
bad = []
if doc.get("status") != "complete":
    bad.append(f"status {doc.get('status')!r}")
nodes = {t["name"]: t["numa_node"] for t in doc["targets"]}
if nodes != {"0000:82:00.0": 1, "0000:83:00.0": 1}:
    bad.append(f"target nodes {nodes}")
place = {p["label"]: p["node"] for p in doc["placements"]}
if sorted(place.values()) != [0, 1]:
    bad.append(f"placements {place}")
seen = set()
for it in doc["iterations"]:
    seen.add((it["target"], it["placement"]))
    if it["writer_node"] != place.get(it["placement"]):
        bad.append(f"iteration {it}: writer on node {it['writer_node']}, placement {it['placement']}")
    if it["outcome"] != "ok":
        bad.append(f"iteration {it}: outcome {it['outcome']}")
if len(seen) != 4:
    bad.append(f"target/placement pairs measured: {sorted(seen)}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
echo PASS

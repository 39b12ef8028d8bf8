# probebench list on a real two-node kernel: in the guest, every function of the harness's
# topology shows up with its driver and the NUMA node the firmware gave it, names come from
# pci.ids, and the JSON document validates against the inventory schema.
. "$(dirname "$0")/lib.sh"
"$PROBEBENCH" --help | grep -q '^  list ' || skip "this build has no list command"
need_vm

vm_run list --exec 'probebench list --json >list.json && probebench list >list.txt'
expect_rc 0 "probebench list in the guest"
j=$vm_out/list.json
[ -s "$j" ] || fail "list.json did not come back from the guest"
schema=$PB_SOURCE_DIR/schema/inventory.schema.json
if [ -f "$schema" ]; then
	validate_json "$j" "$schema" || fail "list --json does not validate against $schema"
fi
"$PY" - "$j" <<'PYEOF' || fail "the guest's inventory is not the harness's topology"
import json, sys
doc = json.load(open(sys.argv[1]))
fns = {f["pci"]["bdf"]: f for f in doc["functions"]}
want = {  # BDF: (vendor, device, driver, node)
    "0000:81:00.0": ("8086", "10d3", "e1000e", 1),
    "0000:82:00.0": ("1af4", "1044", "virtio-pci", 1),
    "0000:83:00.0": ("1b36", "0010", "nvme", 1),
    "0000:84:00.0": ("1b36", "0010", "nvme", 1),
    "0000:85:00.0": ("1b36", "0010", "nvme", 1),
    "0000:21:00.0": ("1af4", "1044", "virtio-pci", 0),
    "0000:22:00.0": ("1b36", "0010", "nvme", 0),
}
bad = []
for bdf, (ven, dev, drv, node) in want.items():
    f = fns.get(bdf)
    if f is None:
        bad.append(f"{bdf} missing")
        continue
    got = (f["pci"]["vendor_id"], f["pci"]["device_id"], f["driver"], f["numa"]["node"])
    if got != (ven, dev, drv, node):
        bad.append(f"{bdf}: {got}, expected {(ven, dev, drv, node)}")
if not fns.get("0000:81:00.0", {}).get("pci", {}).get("vendor_name"):
    bad.append("no vendor name for the e1000e: pci.ids missing in the guest?")
for bdf in ("0000:82:00.0", "0000:21:00.0"):
    kids = [c for c in fns.get(bdf, {}).get("children", []) if c.get("driver") == "virtio_rng"]
    if len(kids) != 1:
        bad.append(f"{bdf}: no virtio child bound to virtio_rng")
nodes = [n["node"] for n in doc["topology"]["nodes"]]
if nodes != [0, 1]:
    bad.append(f"topology nodes {nodes}, expected [0, 1]")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
grep -q "0000:81:00.0" "$vm_out/list.txt" || fail "the table of list does not show the e1000e"
echo PASS

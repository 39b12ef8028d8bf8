#!/bin/bash
# list's safety verdicts on this machine's own functions, found by id, read-only: the disk, network,
# vsock and balloon functions are refused by the policy's own checks (mounted root filesystem,
# routed interface, vsock transport, memory balloon); the rng function may be cycled. Nothing here
# writes to sysfs.
. "$(dirname "$0")/lib.sh"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$PROBEBENCH" list --json >"$out" || fail "list --json exited $?"
validate_json "$out" "$SCHEMA_DIR/inventory.schema.json" || fail "list --json does not validate"

"$PY" - "$out" <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
want = {  # vendor:device -> reasons that must be among the refusals (None: must be allowed)
    "1af4:1042": {"mounted", "root-disk"},
    "1af4:1041": {"net-active"},
    "1af4:1053": {"vsock"},
    "1af4:1045": {"balloon"},
    "1af4:1044": None,
}
seen = set()
for fn in doc["functions"]:
    key = "%s:%s" % (fn["pci"]["vendor_id"], fn["pci"]["device_id"])
    if key not in want:
        continue
    seen.add(key)
    safety = fn.get("safety")
    assert safety is not None, "%s (%s) has no safety verdict" % (fn["sysname"], key)
    reasons = {r["reason"] for r in safety["refusals"]}
    if want[key] is None:
        assert safety["allowed"] and not reasons, "%s (%s) refused: %s" % (fn["sysname"], key, safety)
        # Its bound children may be cycled too (the virtio child bound to virtio_rng).
        for ch in fn["children"]:
            if ch["driver"]:
                assert ch["safety"]["allowed"], "%s refused: %s" % (ch["sysname"], ch["safety"])
    else:
        assert not safety["allowed"], "%s (%s) allowed" % (fn["sysname"], key)
        assert want[key] <= reasons, "%s (%s): want %s, got %s" % (fn["sysname"], key, want[key], reasons)
        for r in safety["refusals"]:  # each detail names the device the cause was found on
            assert "below " + fn["sysname"] in r["detail"], r
    print("%s %s: %s" % (fn["sysname"], key, sorted(reasons) or "may cycle"))
missing = set(want) - seen
if missing == set(want):
    print("SKIP: none of the virtio functions 1af4:1041/1042/1044/1053 is on this machine")
    sys.exit(77)
for m in sorted(missing):
    print("note: %s not present, its verdict not checked" % m)
PYEOF

#!/bin/bash
# Uevent latencies in the NUMA guest with systemd-udevd running (probebench-vm --udevd), as on a
# server: every measured bind of the node-1 virtio-rng function's virtio child and of an NVMe
# function has the kernel's bind uevent and udev's processed copy, matched by devpath and action,
# the copy no earlier than the kernel's event; the observer says udev was running. (Without udevd,
# guest/test_run_measure checks that only the kernel's event is reported.)
. "$(dirname "$0")/lib.sh"
need_vm

vm_run uevents --udevd --exec '
[ -e /run/udev/control ] || { echo "no udevd control socket" >&2; exit 3; }
c=$(basename /sys/bus/pci/devices/0000:82:00.0/virtio*)
probebench run "$c" 0000:83:00.0 --writer-node 1 --iterations 4 --warmup 1 --json u.json'
expect_rc 0 "run with udevd in the guest"
validate_json "$vm_out/u.json" "$PB_SOURCE_DIR/schema/run.schema.json" || fail "the record does not validate"
"$PY" - "$vm_out/u.json" <<'PYEOF' || fail "uevent facts with udevd"
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
for o in d["measurement"]["observers"]:
    if not o["info"] or o["info"].get("udev_running") is not True:
        bad.append(f"observer of {o['target']}: udev not seen running: {o['info']}")
for it in d["iterations"]:
    m = it["measurement"]
    k, u = m["uevent_kernel_ns"], m["uevent_udev_ns"]
    print(f"{it['target']}: bind {it['bind_ns']/1e6:.2f} ms, kernel uevent {k and k/1e6:.2f} ms, udev copy {u and u/1e6:.2f} ms")
    if not k or not u or u < k:
        bad.append(f"{it['target']} iteration {it['iteration']}: kernel {k}, udev {u}")
for s in d["summary"]:
    if not s["measurement"]["uevent_udev_ns"]:
        bad.append(f"summary of {s['target']}: no udev latency stats")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
echo PASS

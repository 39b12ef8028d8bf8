#!/bin/bash
# The safety policy on a real kernel with real storage and network drivers, in the NUMA guest:
# an NVMe namespace that is mounted refuses its function (mounted), and the function may cycle
# once it is unmounted; an e1000e interface that is up with an IPv4 address and route, or with an
# IPv6 address and route, refuses its function (net-active), and the function may cycle once the
# interface is down. Verdicts are read from `list --json` (read-only).
. "$(dirname "$0")/lib.sh"
need_vm

# ext4 asks the crypto API for crc32c at mount time; modules.dep cannot say so.
vm_run safety --module ext4 --module crc32c_generic --exec '
set -e
nvme=0000:83:00.0 nic=0000:81:00.0
ns=$(ls -d /sys/bus/pci/devices/$nvme/nvme/nvme*/nvme*n1 | head -n 1)
ns=${ns##*/}
ifc=$(ls /sys/bus/pci/devices/$nic/net | head -n 1)
echo "namespace $ns interface $ifc" >names.txt
mke2fs -q /dev/$ns
mkdir -p /mnt/t
mount -t ext2 /dev/$ns /mnt/t
probebench list --json >mounted.json
umount /mnt/t
probebench list --json >unmounted.json
ip link set "$ifc" up
ip addr add 192.0.2.10/24 dev "$ifc"
ip route add 198.51.100.0/24 via 192.0.2.1 dev "$ifc"
probebench list --json >v4.json
ip -4 addr flush dev "$ifc"
ip -6 addr add fd00:1::10/64 dev "$ifc"
ip -6 route add fd00:2::/64 via fd00:1::1 dev "$ifc"
probebench list --json >v6.json
ip -6 addr flush dev "$ifc" scope global
ip -6 route flush dev "$ifc" 2>/dev/null || true
ip link set "$ifc" down
probebench list --json >down.json
ip -6 route show >routes-after.txt 2>&1 || true
'
expect_rc 0 "the safety scenario in the guest"
cat "$vm_out/names.txt"
"$PY" - "$vm_out" <<'PYEOF' || fail "verdicts in the guest"
import json, os, sys
d = sys.argv[1]
def verdict(doc, bdf):
    for f in doc["functions"]:
        if f["pci"]["bdf"] == bdf:
            return f.get("safety")
    raise SystemExit(f"{bdf} not listed")
bad = []
def expect(file, bdf, reason):
    doc = json.load(open(os.path.join(d, file)))
    s = verdict(doc, bdf)
    reasons = sorted({r["reason"] for r in s["refusals"]})
    if reason is None and not s["allowed"]:
        bad.append(f"{file}: {bdf} refused: {s['refusals']}")
    if reason is not None and (s["allowed"] or reason not in reasons):
        bad.append(f"{file}: {bdf} {reasons}, expected {reason}")
    print(f"{file}: {bdf}: {'may cycle' if s['allowed'] else reasons}")
    for r in s["refusals"]:
        print(f"    {r['reason']}: {r['detail']}")
expect("mounted.json", "0000:83:00.0", "mounted")
expect("unmounted.json", "0000:83:00.0", None)
expect("v4.json", "0000:81:00.0", "net-active")
expect("v6.json", "0000:81:00.0", "net-active")
expect("down.json", "0000:81:00.0", None)
# The other NVMe functions were never in use.
expect("mounted.json", "0000:84:00.0", None)
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
echo PASS

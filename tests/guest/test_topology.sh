# A guest of another shape: --cpus 8 --nodes 4 --memory 2048 boots four nodes of two CPUs and
# 512 MiB each, one socket a node (and so no kernel warning about a socket across nodes), the
# default devices on nodes 0 and 1 and a virtio-rng function of their own on nodes 2 and 3;
# probebench list sees that topology and every function on its node.
. "$(dirname "$0")/lib.sh"
"$PROBEBENCH" --help | grep -q '^  list ' || skip "this build has no list command"
need_vm

vm_run topo --cpus 8 --nodes 4 --memory 2048 --exec '
cat /sys/devices/system/node/online >nodes.txt
for n in /sys/devices/system/node/node[0-9]*; do
	echo "${n##*/} $(cat "$n/cpulist") $(awk "/MemTotal/ { print \$4 }" "$n/meminfo")"
done >>nodes.txt
for c in /sys/devices/system/cpu/cpu[0-9]*; do
	echo "${c##*/} $(cat "$c/topology/physical_package_id")"
done >packages.txt
for d in /sys/bus/pci/devices/*; do
	echo "${d##*/} $(cat "$d/vendor"):$(cat "$d/device") $(cat "$d/numa_node") $(basename "$(readlink "$d/driver" || echo none)")"
done >pci.txt
dmesg >dmesg.txt
probebench list --json >list.json'
expect_rc 0 "the 8-CPU, 4-node guest"
out=$vm_out
head -n 1 "$out/nodes.txt" | grep -qx "0-3" || fail "the guest's nodes are not 0-3: $(head -n 1 "$out/nodes.txt")"
for k in 0 1 2 3; do
	line=$(grep "^node$k " "$out/nodes.txt") || fail "no node$k in the guest"
	read -r _ cpus kb <<<"$line"
	[ "$cpus" = "$((2 * k))-$((2 * k + 1))" ] || fail "node $k has CPUs $cpus, expected $((2 * k))-$((2 * k + 1))"
	# 512 MiB a node, less what the kernel holds back there
	[ "$kb" -gt $((400 * 1024)) ] && [ "$kb" -le $((512 * 1024)) ] || fail "node $k has $kb kB, expected about 512 MiB"
done
[ "$(wc -l <"$out/packages.txt")" = 8 ] || fail "the guest does not have 8 CPUs: $(cat "$out/packages.txt")"
while read -r cpu pkg; do
	[ "$pkg" = $((${cpu#cpu} / 2)) ] || fail "$cpu is in package $pkg, expected its node's, $((${cpu#cpu} / 2))"
done <"$out/packages.txt"
! grep -E "topology_sane|not on the same node" "$out/dmesg.txt" || fail "the kernel warns about the CPU topology"

count() { # VENDOR:DEVICE NODE DRIVER
	awk -v id="$1" -v node="$2" -v drv="$3" '$2 == id && $3 == node && $4 == drv' "$out/pci.txt" | wc -l
}
[ "$(count 0x8086:0x10d3 1 e1000e)" = 1 ] || fail "no e1000e bound on node 1: $(cat "$out/pci.txt")"
[ "$(count 0x1b36:0x0010 1 nvme)" = 3 ] || fail "not three NVMe functions bound on node 1"
[ "$(count 0x1b36:0x0010 0 nvme)" = 1 ] || fail "no NVMe function bound on node 0"
for k in 0 1 2 3; do
	[ "$(count 0x1af4:0x1044 $k virtio-pci)" = 1 ] || fail "not one virtio-rng bound on node $k: $(cat "$out/pci.txt")"
done
grep -q "^0000:91:00.0 0x1af4:0x1044 2 " "$out/pci.txt" && grep -q "^0000:a1:00.0 0x1af4:0x1044 3 " "$out/pci.txt" ||
	fail "the virtio-rng functions of nodes 2 and 3 are not at 0000:91:00.0 and 0000:a1:00.0"

"$PY" - "$out/list.json" <<'PYEOF' || fail "probebench list does not see the guest's topology"
import json, sys
doc = json.load(open(sys.argv[1]))
bad = []
nodes = {n["node"]: n for n in doc["topology"]["nodes"]}
if sorted(nodes) != [0, 1, 2, 3]:
    bad.append(f"topology nodes {sorted(nodes)}, expected [0, 1, 2, 3]")
for k, n in nodes.items():
    if n["cpus"] != [2 * k, 2 * k + 1]:
        bad.append(f"node {k}: cpus {n['cpus']}")
fns = {f["pci"]["bdf"]: f for f in doc["functions"]}
for bdf, node in (("0000:21:00.0", 0), ("0000:82:00.0", 1), ("0000:91:00.0", 2), ("0000:a1:00.0", 3)):
    f = fns.get(bdf)
    if not f or f["numa"]["node"] != node or f["driver"] != "virtio-pci":
        bad.append(f"{bdf}: {f and (f['driver'], f['numa']['node'])}, expected virtio-pci on node {node}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
echo PASS

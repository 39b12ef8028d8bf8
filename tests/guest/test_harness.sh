# The VM harness itself: it boots the two-node guest, runs the build's probebench in it, passes
# the command's exit status through and brings the files under /out back to the host.
. "$(dirname "$0")/lib.sh"
need_vm

# 1. probebench --version runs in the guest and exits 0; its stdout reaches the host's stdout.
vm_run version -- --version
expect_rc 0 "probebench --version in the guest"
want=$("$PROBEBENCH" --version)
grep -qxF "$want" "$vm_out.stdout" || fail "guest stdout lacks '$want'"

# 2. An unknown subcommand exits 2 in the guest, and so does the harness; stderr comes through.
vm_run unknown -- no-such-command
expect_rc 2 "an unknown subcommand in the guest"
grep -q "unknown command 'no-such-command'" "$vm_out.stderr" || fail "the guest command's stderr did not reach the host"

# 3. Files written under /out (also in subdirectories, also when the command fails) come back;
#    the guest has the mounts and devices the tool needs; any exit status passes through.
vm_run files --exec '
set -e
echo "probebench=$(command -v probebench)" >env.txt
pwd >>env.txt
mkdir -p sub/deeper
printf "a b\n" >"sub/deeper/with space.txt"
for d in /sys/bus/pci/devices/*; do
	echo "${d##*/} $(cat "$d/vendor"):$(cat "$d/device") $(cat "$d/numa_node") $(basename "$(readlink "$d/driver" || echo none)")"
done >pci.txt
cat /proc/mounts >mounts.txt
cat /sys/devices/system/node/online >nodes.txt
for n in /sys/devices/system/node/node[0-9]*; do echo "${n##*/} $(cat "$n/cpulist")"; done >>nodes.txt
ls /sys/bus/virtio/drivers >virtio-drivers.txt
exit 7'
expect_rc 7 "a guest command that exits 7"
out=$vm_out
[ -f "$out/env.txt" ] || fail "env.txt did not come back from the guest's /out"
grep -qx "probebench=/usr/bin/probebench" "$out/env.txt" || fail "probebench is not in the guest's PATH"
grep -qx "/out" "$out/env.txt" || fail "the guest command does not run in /out"
[ "$(cat "$out/sub/deeper/with space.txt")" = "a b" ] || fail "a file in a subdirectory of /out did not come back intact"
for m in "/sys/kernel/tracing tracefs" "/dev devtmpfs" "/proc proc" "/sys sysfs" "/tmp tmpfs" "/var/lib/probebench tmpfs"; do
	grep -q "^[^ ]* ${m% *} ${m#* } " "$out/mounts.txt" || fail "the guest lacks the mount ${m% *} (${m#* })"
done
grep -qx "0-1" "$out/nodes.txt" || fail "the guest does not have NUMA nodes 0-1: $(head -n 1 "$out/nodes.txt")"
grep -qx "node0 0-1" "$out/nodes.txt" && grep -qx "node1 2-3" "$out/nodes.txt" || fail "CPUs are not 0-1 on node 0 and 2-3 on node 1"

# The devices: on node 1 behind the expander bridge an e1000e, a virtio-rng and three NVMe
# functions; on node 0 a virtio-rng and an NVMe function; each bound to its driver.
count() { # VENDOR:DEVICE NODE DRIVER
	awk -v id="$1" -v node="$2" -v drv="$3" '$2 == id && $3 == node && $4 == drv' "$out/pci.txt" | wc -l
}
[ "$(count 0x8086:0x10d3 1 e1000e)" = 1 ] || fail "no e1000e bound on node 1: $(cat "$out/pci.txt")"
[ "$(count 0x1af4:0x1044 1 virtio-pci)" = 1 ] || fail "no virtio-rng (1af4:1044) bound on node 1"
[ "$(count 0x1b36:0x0010 1 nvme)" = 3 ] || fail "not three NVMe functions bound on node 1"
[ "$(count 0x1af4:0x1044 0 virtio-pci)" = 1 ] || fail "no virtio-rng bound on node 0"
[ "$(count 0x1b36:0x0010 0 nvme)" = 1 ] || fail "no NVMe function bound on node 0"
grep -qx virtio_rng "$out/virtio-drivers.txt" || fail "virtio_rng is not loaded in the guest"
echo "PASS"

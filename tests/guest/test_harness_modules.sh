# The VM harness takes a modules tree in the layout `make modules_install INSTALL_MOD_PATH=DIR`
# leaves, with compressed modules (.ko.zst and .ko.xz, decompressed on the host), and loads an
# extra module named with --module along with its dependencies, into a /lib/modules/RELEASE tree in
# the guest from which modprobe unloads and loads them again.
. "$(dirname "$0")/lib.sh"
need_vm
[ -z "${PB_VM_KERNEL:-}${PB_VM_KERNEL_PACKAGE:-}" ] || skip "builds its modules tree from the default kernel's; PB_VM_KERNEL or PB_VM_KERNEL_PACKAGE is set"
command -v zstd >/dev/null && command -v xz >/dev/null || skip "needs zstd and xz to compress the modules"
src=$("$VM" --probebench "$PROBEBENCH" --module virtio_blk --check | sed -n 's/^modules: //p')
kernel=$("$VM" --probebench "$PROBEBENCH" --check | sed -n 's/^kernel: \([^ ]*\).*/\1/p')
[ -f "$src/modules.dep" ] || fail "--check names no modules tree: '$src'"
ver=${src##*/}
root=$TEST_TMP/modroot
dst=$root/lib/modules/$ver
mkdir -p "$dst"
order=$("$VM" --probebench "$PROBEBENCH" --module virtio_blk --check | sed -n 's/^load order: //p')
# Alternate the two compressions; modules.dep names the compressed files, as depmod does, and
# holds only the modules copied, so a lookup outside them fails as it should.
i=0 rename=""
for p in $order; do
	mkdir -p "$dst/$(dirname "$p")"
	if [ $((i % 2)) = 0 ]; then ext=zst && zstd -q -c "$src/$p" >"$dst/$p.zst"; else ext=xz && xz -c "$src/$p" >"$dst/$p.xz"; fi
	rename="$rename;s#$p\(:\| \|\$\)#$p.$ext\1#g"
	i=$((i + 1))
done
for p in $order; do grep "^$p:" "$src/modules.dep"; done | sed "${rename#;}" >"$dst/modules.dep"
cp "$src/modules.builtin" "$dst/"

# The guest has the modules at their own paths in /lib/modules/$(uname -r), decompressed, with
# the dependency data depmod writes, so modprobe unloads and loads them again: e1000e (no
# dependencies) and virtio_rng (busybox's modprobe -r also tries virtio and virtio_ring, which
# virtio_pci holds, and says so in its status: only the module's absence counts).
# shellcheck disable=SC2016 # expanded in the guest
cmd='cat /proc/modules >modules.txt; d=/lib/modules/$(uname -r); ls "$d" >tree.txt
find "$d" -name "*.ko*" | sed "s#^$d/##" | sort >kos.txt
for m in e1000e virtio_rng; do
	modprobe -r $m; echo "$m remove $?" >>reload.txt
	grep -q "^$m " /proc/modules && echo "$m still loaded" >>reload.txt
	modprobe $m; echo "$m load $?" >>reload.txt
done
sleep 1; cat /proc/modules >modules2.txt
for l in /sys/bus/pci/devices/*/driver /sys/bus/virtio/devices/*/driver; do echo "$l $(basename "$(readlink "$l")")"; done >bound.txt'
vm_run modules --kernel "$kernel" --modules "$root" --module virtio_blk --exec "$cmd"
expect_rc 0 "a guest with a compressed modules tree"
for m in e1000e nvme nvme_core virtio_pci virtio_rng virtio_blk; do
	grep -q "^$m " "$vm_out/modules.txt" || fail "module $m is not loaded in the guest"
	grep -q "^$m " "$vm_out/modules2.txt" || fail "module $m is not loaded after the reloads"
done
for f in modules.dep modules.dep.bin modules.alias.bin modules.symbols.bin modules.builtin.bin; do
	grep -qx "$f" "$vm_out/tree.txt" || fail "the guest's /lib/modules/RELEASE has no $f: $(tr '\n' ' ' <"$vm_out/tree.txt")"
done
# Each module at its path in the source tree, decompressed, and nothing else.
for p in $order; do echo "$p"; done | sort | diff -u - "$vm_out/kos.txt" || fail "the guest's modules are not the source tree's paths"
grep -qx "e1000e remove 0" "$vm_out/reload.txt" || fail "modprobe -r e1000e failed: $(cat "$vm_out/reload.txt")"
grep -q "still loaded" "$vm_out/reload.txt" && fail "modprobe -r left a module loaded: $(cat "$vm_out/reload.txt")"
for m in e1000e virtio_rng; do
	grep -qx "$m load 0" "$vm_out/reload.txt" || fail "modprobe $m failed: $(cat "$vm_out/reload.txt")"
done
grep -q "^/sys/bus/pci/devices/0000:81:00.0/driver e1000e$" "$vm_out/bound.txt" || fail "e1000e is not bound again: $(cat "$vm_out/bound.txt")"
[ "$(grep -c " virtio_rng$" "$vm_out/bound.txt")" = 2 ] || fail "both virtio children are not bound to virtio_rng again: $(cat "$vm_out/bound.txt")"
grep -q "warning" "$vm_out.stderr" && fail "the harness warned: $(grep warning "$vm_out.stderr")"
echo PASS

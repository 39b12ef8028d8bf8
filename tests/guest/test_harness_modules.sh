# The VM harness takes a modules tree in the layout `make modules_install INSTALL_MOD_PATH=DIR`
# leaves, with compressed modules (.ko.zst and .ko.xz, decompressed on the host), and loads an
# extra module named with --module along with its dependencies.
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

vm_run modules --kernel "$kernel" --modules "$root" --module virtio_blk --exec 'cat /proc/modules >modules.txt'
expect_rc 0 "a guest with a compressed modules tree"
for m in e1000e nvme nvme_core virtio_pci virtio_rng virtio_blk; do
	grep -q "^$m " "$vm_out/modules.txt" || fail "module $m is not loaded in the guest"
done
grep -q "warning" "$vm_out.stderr" && fail "the harness warned: $(grep warning "$vm_out.stderr")"
echo PASS

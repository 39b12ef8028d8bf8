# run --entry module on the host is refused before anything is touched: the virtio-rng function's
# driver (virtio-pci) and its child's (virtio_rng) are built into this kernel, and virtio-pci also
# drives the root disk, the network and the vsock channel, each named with its reason. --force
# module is a usage error: a module refusal is never lifted. Afterwards every virtio-pci function and virtio device is bound
# as before, no journal entry was written and no module changed.
#
# This test only ever exercises refusals: it skips unless both drivers are built in here (a
# loadable module could be unloaded by a run that passed the checks; the guest tests cover that).
. "$(dirname "$0")/lib.sh"
need_root "reads the devices' state as a run does"
BDF=$(rng_bdf)
for m in virtio_pci virtio_rng; do
	[ ! -e "/sys/module/$m/initstate" ] ||
		skip "$m is a loadable module on this host: this test exercises refusals of built-in drivers only"
done
lock_rng
STATE=$(mktemp -d)
OUT=$(mktemp -d)
trap 'rm -rf "$STATE" "$OUT"' EXIT
CHILD=$(rng_child "$BDF") || fail "no virtio child"

bindings() {
	for d in /sys/bus/pci/devices/* /sys/bus/virtio/devices/*; do
		echo "${d##*/} $(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)"
	done
	cat /proc/modules 2>/dev/null || true
}
bindings >"$OUT/before"

run_refused() { # NAME ARGS...: expects exit 3
	local name=$1 rc=0
	shift
	"$PROBEBENCH" run --state-dir "$STATE" --entry module -n 1 -w 0 "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || rc=$?
	[ "$rc" = 3 ] || fail "$name: exit $rc, expected 3 (refused): $(cat "$OUT/$name.err")"
	! ls "$STATE"/journal-* >/dev/null 2>&1 || fail "$name: a journal entry was written: $(ls "$STATE")"
}

run_refused pci 1af4:1044
grep -q "refused: module: driver virtio-pci is built into the kernel" "$OUT/pci.err" ||
	fail "the PCI function's refusal does not say virtio-pci is built in: $(cat "$OUT/pci.err")"
grep -q -- "--entry bind or --entry probe" "$OUT/pci.err" || fail "the refusal suggests no other entry"
for reason in root-disk net-active vsock; do
	grep -q "refused: $reason: module virtio-pci also drives 0000:" "$OUT/pci.err" ||
		fail "the refusal does not name the function that is the $reason: $(cat "$OUT/pci.err")"
done

run_refused child "$CHILD"
grep -q "refused: module: driver virtio_rng is built into the kernel" "$OUT/child.err" ||
	fail "the child's refusal does not say virtio_rng is built in: $(cat "$OUT/child.err")"
rc=0
"$PROBEBENCH" run --state-dir "$STATE" --entry module --force module "$CHILD" >"$OUT/forced.out" 2>"$OUT/forced.err" || rc=$?
[ "$rc" = 2 ] && grep -q "a module refusal is never lifted" "$OUT/forced.err" ||
	fail "--force module: exit $rc, expected 2 saying it is never lifted: $(cat "$OUT/forced.err")"
run_refused dry --dry-run "$CHILD"
grep -q "$CHILD: module (refused): driver virtio_rng is built into the kernel" "$OUT/dry.out" ||
	fail "--dry-run does not show the module refusal: $(cat "$OUT/dry.out")"

bindings >"$OUT/after"
diff -u "$OUT/before" "$OUT/after" || fail "bindings or modules changed"
echo PASS

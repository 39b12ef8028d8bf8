# The guest on another Debian kernel than the default 6.1: --kernel-package boots the newest
# linux-image-6.12.*+deb12-amd64-unsigned that apt knows (fetched with apt-get download, unpacked,
# never installed). Its drivers are .ko.xz modules (virtio_pci is built in): every function of
# the topology must be bound, the harness must not warn, and probebench list must work there.
# Skips only when apt cannot download the package (no network or registry).
. "$(dirname "$0")/lib.sh"
pattern='linux-image-6.12.*+deb12-amd64-unsigned'
# This test picks its kernel itself, whatever PB_VM_KERNEL* say.
vm_opts=(--probebench "$PROBEBENCH" --timeout "${PB_VM_TIMEOUT:-300}" --kernel-package "$pattern")
command -v apt-cache >/dev/null && command -v apt-get >/dev/null || skip "no apt here to fetch '$pattern'"

# --check resolves (and on the first run downloads) the package and names what it boots.
rc=0
"$VM" "${vm_opts[@]}" --check >"$TEST_TMP/check" 2>"$TEST_TMP/check.err" || rc=$?
echo "--- --check: exit $rc"
sed 's/^/  | /' "$TEST_TMP/check" "$TEST_TMP/check.err"
if [ $rc != 0 ]; then
	why=$(grep 'error:' "$TEST_TMP/check.err" || true)
	case $why in
	*"cannot download"* | *"QEMU not found"*) skip "${why#probebench-vm: error: }" ;;
	esac
	fail "--check with --kernel-package '$pattern' refused: $why"
fi
read -r pkg version < <(sed -n 's/^package: \([^ ]*\) \([^ ]*\) .*/\1 \2/p' "$TEST_TMP/check")
# shellcheck disable=SC2053 # a glob on purpose
[[ $pkg == $pattern ]] || fail "--check resolved '$pattern' to '$pkg'"
[ -n "$version" ] || fail "--check names no version of $pkg"
rel=$(sed -n 's/^kernel: .*\/vmlinuz-\([^ ]*\) .*/\1/p' "$TEST_TMP/check")
[[ $rel == 6.12.* ]] || fail "the kernel of $pkg is not a 6.12 one: '$rel'"
grep -q "^modules: .*/lib/modules/$rel\$" "$TEST_TMP/check" || fail "--check names no modules tree for $rel"
grep -q '^load order: .*e1000e\.ko\.xz' "$TEST_TMP/check" || fail "the 6.12 modules are expected to be .ko.xz"
# Its headers: installed, or unpacked next to the kernel (their package depends on the image,
# so installing them would install a kernel on the host). A module built against them must
# carry the kernel's release.
headers=$(sed -n 's/^headers: //p' "$TEST_TMP/check")
case $headers in
"/usr/src/linux-headers-$rel" | */usr/src/linux-headers-"$rel") [ -f "$headers/Makefile" ] || fail "no Makefile in $headers" ;;
*) fail "--check names no headers for $rel: '$headers'" ;;
esac
if command -v make >/dev/null && command -v gcc-12 >/dev/null; then
	mkdir "$TEST_TMP/kmod"
	cat >"$TEST_TMP/kmod/pbmatrix.c" <<'EOC'
#include <linux/module.h>
static int __init pbmatrix_init(void) { return 0; }
static void __exit pbmatrix_exit(void) {}
module_init(pbmatrix_init);
module_exit(pbmatrix_exit);
MODULE_LICENSE("GPL");
EOC
	echo 'obj-m := pbmatrix.o' >"$TEST_TMP/kmod/Kbuild"
	make -C "$headers" M="$TEST_TMP/kmod" modules >"$TEST_TMP/kmod.log" 2>&1 ||
		fail "cannot build a module against $headers: $(tail -n 5 "$TEST_TMP/kmod.log")"
	vermagic=$(PATH=$PATH:/sbin:/usr/sbin modinfo -F vermagic "$TEST_TMP/kmod/pbmatrix.ko")
	[[ $vermagic == "$rel "* ]] || fail "a module built against $headers has vermagic '$vermagic', not $rel"
	echo "--- built an out-of-tree module against $headers: vermagic $vermagic"
else
	echo "NOTE: no make or gcc-12 here; no module built against $headers"
fi

have_list=0
if "$PROBEBENCH" --help | grep -q '^  list '; then have_list=1; fi
cmd='uname -r >uname.txt && cat /proc/modules >modules.txt &&
for d in /sys/bus/pci/devices/* /sys/bus/virtio/devices/*; do
	if [ -e "$d/driver" ]; then echo "${d##*/} $(basename "$(readlink "$d/driver")")"; fi
done >drivers.txt'
[ $have_list = 0 ] || cmd="$cmd && probebench list --json >list.json"
vm_run matrix --exec "$cmd"
expect_rc 0 "the guest on $pkg"
[ "$(cat "$vm_out/uname.txt")" = "$rel" ] || fail "the guest runs '$(cat "$vm_out/uname.txt")', not $rel"
for m in e1000e nvme virtio_rng; do
	grep -q "^$m " "$vm_out/modules.txt" || fail "module $m is not loaded in the guest"
done
for want in "0000:81:00.0 e1000e" "0000:82:00.0 virtio-pci" "0000:83:00.0 nvme" "0000:84:00.0 nvme" \
	"0000:85:00.0 nvme" "0000:21:00.0 virtio-pci" "0000:22:00.0 nvme"; do
	grep -qx "$want" "$vm_out/drivers.txt" || fail "not bound: $want"
done
[ "$(grep -c ' virtio_rng$' "$vm_out/drivers.txt")" = 2 ] || fail "the two virtio children are not both bound to virtio_rng"
! grep -q "warning" "$vm_out.stderr" || fail "the harness warned: $(grep warning "$vm_out.stderr")"
grep -q "booting vmlinuz-$rel of $pkg" "$vm_out.stderr" || fail "the harness does not say it boots $pkg"

if [ $have_list = 1 ]; then
	j=$vm_out/list.json
	[ -s "$j" ] || fail "list.json did not come back from the guest"
	validate_json "$j" "$PB_SOURCE_DIR/schema/inventory.schema.json" ||
		fail "list --json on $rel does not validate against schema/inventory.schema.json"
	"$PY" - "$j" <<'PYEOF' || fail "the inventory on $rel is not the harness's topology"
import json, sys
doc = json.load(open(sys.argv[1]))
fns = {f["pci"]["bdf"]: f for f in doc["functions"]}
want = {"0000:81:00.0": ("e1000e", 1), "0000:82:00.0": ("virtio-pci", 1), "0000:83:00.0": ("nvme", 1),
        "0000:21:00.0": ("virtio-pci", 0), "0000:22:00.0": ("nvme", 0)}
bad = [f"{b}: {(fns.get(b, {}).get('driver'), fns.get(b, {}).get('numa', {}).get('node'))}, expected {w}"
       for b, w in want.items()
       if (fns.get(b, {}).get("driver"), fns.get(b, {}).get("numa", {}).get("node")) != w]
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
else
	echo "NOTE: this build has no list command; probebench list not run on $rel"
fi
echo PASS

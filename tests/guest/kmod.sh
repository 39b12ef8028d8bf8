# Helpers for guest tests that load the pbtest module (tests/kmod) in the NUMA guest (sourced
# after lib.sh). The module is built on the host and loaded only inside the guest.
#
#   kmod_setup                       # builds pbtest.ko for the guest's kernel, makes a modules root,
#                                    # adds --modules ROOT --module pbtest to vm_opts (or skips)
#   kmod_build VERSION OUTDIR [HEADERS]   # builds OUTDIR/pbtest.ko against HEADERS (default
#                                    # /usr/src/linux-headers-VERSION)
#   kmod_root VERSION SRC_MODULES_DIR ROOT   # a modules root: ROOT/lib/modules/VERSION links every
#                                    # entry of SRC_MODULES_DIR but modules.*, plus updates/pbtest.ko
#
# The guest's init loads pbtest (default parameters) at boot. A guest command that needs other
# parameters reloads it; $KMOD_GUEST_LIB defines shell functions for that, put it first in the
# --exec command:
#   pbt_load [PARAMS...]   rmmod pbtest; insmod it with PARAMS (e.g. nodes=0,1 async=1)
#   pbt_set DEV NAME VALUE write /sys/bus/pbtest/devices/DEV/pbtest_NAME
#   pbt_bind DEV / pbt_unbind DEV   through /sys/bus/pbtest/drivers/pbtest/{bind,unbind}
#   pbt_truth FILE         append the truth lines to FILE and clear them
#   pbt_bridge NODE        the first PCI bridge of NODE (a parent for a test device)
KMOD_SRC=$PB_SOURCE_DIR/tests/kmod

# kmod_build VERSION OUTDIR [HEADERS]: skips (77) when the headers of VERSION are missing.
kmod_build() {
	local ver=$1 out=$2 hdr=${3:-/usr/src/linux-headers-$1}
	[ -f "$hdr/Makefile" ] ||
		skip "no kernel headers for the guest kernel $ver in $hdr (probebench-vm --check says where they should be)"
	mkdir -p "$out"
	cp "$KMOD_SRC/pbtest.c" "$KMOD_SRC/Kbuild" "$out/"
	make -s -C "$hdr" M="$(cd "$out" && pwd)" modules >"$out/build.log" 2>&1 || {
		cat "$out/build.log" >&2
		fail "pbtest.ko does not build against $hdr"
	}
	[ -f "$out/pbtest.ko" ] || fail "the build left no $out/pbtest.ko"
}

# kmod_root VERSION SRC_MODULES_DIR ROOT [KO]: a modules root for probebench-vm --modules ROOT.
kmod_root() {
	local ver=$1 src=$2 root=$3 ko=${4:-$TEST_TMP/kmod/pbtest.ko} dst e
	dst=$root/lib/modules/$ver
	mkdir -p "$dst/updates"
	for e in "$src"/*; do
		case ${e##*/} in
		modules.* | updates) ;;
		*) ln -sfn "$(readlink -f "$e")" "$dst/${e##*/}" ;;
		esac
	done
	# an updates/ directory of the tree itself keeps its entries
	if [ -d "$src/updates" ]; then
		for e in "$src"/updates/*; do
			[ -e "$e" ] && ln -sfn "$(readlink -f "$e")" "$dst/updates/${e##*/}"
		done
	fi
	cp "$ko" "$dst/updates/pbtest.ko"
	[ ! -f "$src/modules.builtin" ] || cp "$src/modules.builtin" "$src/modules.order" "$dst/" 2>/dev/null || true
	[ ! -f "$src/modules.builtin.modinfo" ] || cp "$src/modules.builtin.modinfo" "$dst/"
	depmod -b "$root" "$ver" || fail "depmod -b $root $ver failed"
	grep -q '^updates/pbtest.ko:' "$dst/modules.dep" || fail "depmod did not list updates/pbtest.ko"
}

# kmod_setup: the guest kernel's modules tree from the harness (so PB_VM_KERNEL/PB_VM_MODULES
# keep working), the module built for it, the root made, vm_opts extended.
kmod_setup() {
	local check moddir ver headers
	check=$("$VM" "${vm_opts[@]}" --check 2>&1) || fail "probebench-vm --check: $check"
	moddir=$(sed -n 's/^modules: //p' <<<"$check")
	# the harness names the booted kernel's headers: installed, or unpacked next to a
	# --kernel-package kernel
	headers=$(sed -n 's/^headers: \(\/[^ ]*\)$/\1/p' <<<"$check")
	case $moddir in
	"" | none*) skip "the guest kernel has no modules tree (${moddir:-none}): pbtest cannot be loaded" ;;
	esac
	ver=$(basename "$(cd "$moddir" && pwd)")
	kmod_build "$ver" "$TEST_TMP/kmod" "$headers"
	kmod_root "$ver" "$moddir" "$TEST_TMP/modroot"
	KMOD_VERSION=$ver
	# a --kernel-package kernel is booted as the image it unpacked, with our modules root
	local kernel i opts=()
	kernel=$(sed -n 's/^kernel: \(\/[^ ]*\) .*/\1/p' <<<"$check")
	for ((i = 0; i < ${#vm_opts[@]}; i++)); do
		case ${vm_opts[i]} in
		--kernel-package | --kernel | --modules) i=$((i + 1)) ;;
		*) opts+=("${vm_opts[i]}") ;;
		esac
	done
	vm_opts=("${opts[@]}" --kernel "$kernel" --modules "$TEST_TMP/modroot" --module pbtest)
}

# Shell functions for the guest command (busybox sh).
# shellcheck disable=SC2016
KMOD_GUEST_LIB='
PBT_KO=/lib/modules/$(uname -r)/updates/pbtest.ko
PBT=/sys/bus/pbtest
PBT_TRUTH=/sys/kernel/debug/pbtest/truth
pbt_load() { rmmod pbtest 2>/dev/null; insmod "$PBT_KO" "$@"; }
pbt_set() { echo "$3" >"$PBT/devices/$1/pbtest_$2"; }
pbt_bind() { echo "$1" >"$PBT/drivers/pbtest/bind"; }
pbt_unbind() { echo "$1" >"$PBT/drivers/pbtest/unbind"; }
pbt_truth() { cat "$PBT_TRUTH" >>"$1"; echo clear >"$PBT_TRUTH"; }
# the first PCI bridge of node $1: a parent for a test device (probebench lists PCI functions and
# the devices below them)
pbt_bridge() {
	for d in /sys/bus/pci/devices/*; do
		case $(cat $d/class) in 0x0604*) ;; *) continue ;; esac
		[ "$(cat $d/numa_node)" = "$1" ] && { echo "${d##*/}"; return; }
	done
}
'

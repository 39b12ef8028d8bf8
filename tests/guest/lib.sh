# Shared helpers for guest integration tests (sourced, not run): they boot the two-node NUMA
# guest with scripts/probebench-vm and run the build's probebench inside it.
#
#   . "$(dirname "$0")/lib.sh"
#   need_vm                          # skips (exit 77) with the reason when QEMU or a kernel is missing
#   vm_run OUT -- list --json /out/l.json   # boots, runs probebench; stdout in OUT.stdout,
#                                    # stderr in OUT.stderr, /out files in OUT/, status in $vm_rc
#
# PB_VM_KERNEL and PB_VM_MODULES, when set, pick the kernel (and modules tree) the guest tests
# boot, e.g. a kernel under development; PB_VM_KERNEL_PACKAGE names a Debian kernel package
# instead (--kernel-package, e.g. 'linux-image-6.12.*+deb12-amd64-unsigned'). By default the
# harness boots Debian's stock kernel.
PB_SOURCE_DIR=${PB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=../host/lib.sh
. "$PB_SOURCE_DIR/tests/host/lib.sh"
VM="$PB_SOURCE_DIR/scripts/probebench-vm"

# Options every harness call of the tests gets: the build's binary, the chosen kernel.
# A guest test takes under a minute here; a wedged guest is killed after PB_VM_TIMEOUT seconds
# (default 300) so that it cannot eat the suite's time budget.
vm_opts=(--probebench "$PROBEBENCH" --timeout "${PB_VM_TIMEOUT:-300}")
[ -z "${PB_VM_KERNEL:-}" ] || vm_opts+=(--kernel "$PB_VM_KERNEL")
[ -z "${PB_VM_MODULES:-}" ] || vm_opts+=(--modules "$PB_VM_MODULES")
[ -z "${PB_VM_KERNEL_PACKAGE:-}" ] || vm_opts+=(--kernel-package "$PB_VM_KERNEL_PACKAGE")
# PB_VM_APPEND: extra guest kernel command line (e.g. initcall_debug, or tsc=reliable to try
# another clock source)
[ -z "${PB_VM_APPEND:-}" ] || vm_opts+=(--append "$PB_VM_APPEND")

# Skips the test, with the harness's own reason, when QEMU or a kernel image is missing here or
# apt cannot download PB_VM_KERNEL_PACKAGE (no network or registry); fails when the harness
# refuses for any other reason (a missing module, a package that matches nothing are real failures).
# The first call with a package downloads and unpacks it into the harness's cache.
need_vm() {
	local why
	why=$("$VM" "${vm_opts[@]}" --check 2>&1 >/dev/null) && return 0
	why=$(grep -v "^probebench-vm: downloading" <<<"$why" || true)
	case $why in
	*"QEMU not found"* | *"no kernel to boot"* | *"kernel image not"* | *"cannot download"*) skip "guest test bed unavailable: ${why#probebench-vm: error: }" ;;
	*) fail "the harness refuses to start: $why" ;;
	esac
}

# Work directory of the test, removed at exit.
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pb-guest-test.XXXXXX")
trap 'rm -rf "$TEST_TMP"' EXIT

# vm_run NAME [HARNESS-OPTIONS...] -- PROBEBENCH-ARGS... (or --exec CMD)
# Boots the guest; the guest's /out lands in $TEST_TMP/NAME/, stdout and stderr in
# $TEST_TMP/NAME.stdout and .stderr; the exit status is in $vm_rc. Never fails by itself.
vm_run() {
	local name=$1
	shift
	vm_out=$TEST_TMP/$name
	set +e
	# The harness's work files (and so QEMU's command line) live under $TEST_TMP.
	TMPDIR=$TEST_TMP "$VM" "${vm_opts[@]}" --out "$vm_out" "$@" >"$vm_out.stdout" 2>"$vm_out.stderr"
	vm_rc=$?
	set -e
	echo "--- $name: exit $vm_rc; stdout:"
	sed 's/^/  | /' "$vm_out.stdout"
	echo "--- $name: stderr:"
	sed 's/^/  | /' "$vm_out.stderr"
}

# expect_rc WANT WHAT: fails unless the last vm_run exited WANT.
expect_rc() {
	[ "$vm_rc" = "$1" ] || fail "$2: exit status $vm_rc, expected $1"
}

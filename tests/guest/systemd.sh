# shellcheck shell=bash
# Helpers of the guest tests that boot the systemd guest (probebench-vm --systemd; doc/vm.md),
# sourced after lib.sh. Every vm_run boots it; its /out holds journal.txt, the boot's journal.
# Without mmdebstrap (or a cached root) need_vm fails with the harness's reason: the tests do not
# skip, CI builds the root.
#
# SD_GUEST_LIB: shell functions for the guest command, put in front of it:
#   fail MSG             the daemon's last journal lines and MSG to stderr, exit 1
#   wait_for SECONDS CMD...   polls CMD every half second; false when it never succeeded
vm_opts+=(--systemd)
# shellcheck disable=SC2016,SC2034 # expanded in the guest; used by the tests
SD_GUEST_LIB='
set -u
fail() { echo "FAIL: $*" >&2; journalctl -b --no-pager -u probebench -n 40 >&2; exit 1; }
wait_for() {
	local t=$1 i=0
	shift
	while ! "$@"; do
		i=$((i + 1))
		[ $i -le $((t * 2)) ] || return 1
		sleep 0.5
	done
}
'

# The VM harness never hangs: a guest whose command does not finish within --timeout is killed
# and reported with exit status 124, so is one that twice does not reach the command within
# --boot-timeout; a guest whose kernel dies is reported with 123.
. "$(dirname "$0")/lib.sh"
need_vm

# A command that would sleep for an hour, under a timeout that leaves room to boot. Whether the
# guest is killed while booting or while sleeping, the harness must stop it and say so.
vm_run sleeper --timeout 20 --exec 'echo started; sleep 3600'
expect_rc 124 "a guest command that does not finish"
grep -q "guest did not finish within 20 s" "$vm_out.stderr" || fail "the timeout is not reported"
grep -q "QEMU killed" "$vm_out.stderr" || fail "the report does not say the guest was stopped"
# QEMU's command line names the harness's work directory, which vm_run puts under $TEST_TMP.
if pgrep -f -- "$TEST_TMP/probebench-vm" >/dev/null; then
	fail "a process of the killed guest is still running: $(pgrep -af -- "$TEST_TMP/probebench-vm")"
fi
ls "$TEST_TMP"/probebench-vm.* >/dev/null 2>&1 && fail "the harness left its work directory behind"

# A guest that does not reach the command within --boot-timeout (1 s is shorter than any boot):
# killed, booted once more, then given up on with 124; no QEMU left behind.
vm_run noboot --boot-timeout 1 --exec 'echo started'
expect_rc 124 "a guest that never reaches the command"
grep -q "did not reach the command within 1 s (boot hang); QEMU killed, booting again (2 of 2)" "$vm_out.stderr" ||
	fail "the first boot hang is not reported"
grep -q "never reached the command within 1 s in 2 boots" "$vm_out.stderr" || fail "giving up is not reported"
grep -q "^started" "$vm_out.stdout" && fail "the command ran although the boot was declared hung"
if pgrep -f -- "$TEST_TMP/probebench-vm" >/dev/null; then
	fail "a process of the killed guest is still running: $(pgrep -af -- "$TEST_TMP/probebench-vm")"
fi

# A guest kernel that crashes while the command runs: no exit status, exit 123, the panic shown.
vm_run crash --exec 'echo c >/proc/sysrq-trigger; sleep 3600'
expect_rc 123 "a guest kernel that crashes"
grep -q "ended without reporting the command's exit status" "$vm_out.stderr" || fail "the crash is not reported"
grep -q "guest kernel: .*Kernel panic" "$vm_out.stderr" || fail "the panic line of the guest console is not shown"
echo PASS

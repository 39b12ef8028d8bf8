#!/bin/bash
# The daemon watched, killed and restored by systemd as PID 1 (probebench-vm --systemd), on one
# root disk booted twice (--disk: the second boot is a reboot of the first):
#  boot 1: the daemon cycling the node-1 NVMe function 0000:84:00.0 is stopped with SIGSTOP:
#          systemd's watchdog (a drop-in with WatchdogSec=8s) kills it and starts it again; then SIGKILL
#          while the function is unbound: systemd restarts it and the new daemon rebinds the
#          function (its restore at start) before it is ready; last, with Restart=no, SIGKILL
#          while unbound again leaves the journal entry behind and the guest goes down;
#  boot 2: probebench-restore.service finds the entry and puts the function back before
#          probebench.service starts (the order in the boot's journal); the daemon finds
#          nothing left. NVMe on purpose: udev loads nvme at coldplug, so a restore that ran
#          before coldplug was done found the function without a driver to bind it to.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/systemd.sh"
need_vm
vm_opts+=(--disk "$TEST_TMP/root.img")

# shellcheck disable=SC2016 # expanded in the guest
common=$SD_GUEST_LIB'
dev=/sys/bus/pci/devices/0000:84:00.0
mainpid() { systemctl show -p MainPID --value probebench; }
bound() { [ -e $dev/driver ]; }
running_since() { # PID: active with another main process than PID
	local p
	p=$(mainpid)
	[ "$p" != 0 ] && [ "$p" != "$1" ] && systemctl is-active -q probebench
}
# kill_unbound: SIGKILL to the daemon the moment the function is unbound; true when the
# kill landed while it was (the function still unbound, its journal entry there)
kill_unbound() {
	local p i=0
	p=$(mainpid)
	while bound; do
		i=$((i + 1))
		[ $i -lt 200000 ] || return 1
	done
	kill -KILL "$p"
	while [ -d /proc/$p ]; do sleep 0.05; done
	! bound && ls /var/lib/probebench/journal-* >/dev/null 2>&1
}
'

vm_run boot1 --exec "$common"'
mkdir -p /etc/probebench /etc/systemd/system/probebench.service.d
cat >/etc/probebench/probebench.json <<EOF
{ "plans": [ { "name": "loop", "targets": ["0000:84:00.0"], "iterations": 1000000, "warmup": 0,
  "writer_nodes": [1], "measure": false, "schedule": { "at_start": true } } ] }
EOF
printf "[Service]\nWatchdogSec=8s\nRestartSec=1s\n" >/etc/systemd/system/probebench.service.d/test.conf
systemctl daemon-reload
systemctl start probebench || fail "systemctl start probebench"
sleep 3
# the watchdog: a stopped daemon sends no WATCHDOG=1
p=$(mainpid)
echo "$p" >stopped-pid.txt
kill -STOP "$p"
t0=$(date +%s)
wait_for 90 running_since "$p" || fail "the stopped daemon was not restarted"
echo $(($(date +%s) - t0)) >watchdog-seconds.txt
systemctl show probebench -p NRestarts >after-watchdog.txt
# a crash while the function is unbound: restarted, the function put back first
sleep 3
caught=0
for try in $(seq 1 10); do
	p=$(mainpid)
	if kill_unbound; then caught=1; break; fi
	wait_for 60 running_since "$p" || fail "not restarted after SIGKILL"
	sleep 2
done
[ $caught = 1 ] || fail "no SIGKILL landed while 0000:84:00.0 was unbound in 10 tries"
echo "$try" >kill-tries.txt
wait_for 60 running_since "$p" || fail "not restarted after SIGKILL while unbound"
mainpid >restarted-pid.txt
bound || fail "the function is not bound again after the restart"
curl -sSf --max-time 20 http://127.0.0.1:9464/metrics >metrics-restart.txt || fail "/metrics after the restart"
systemctl show probebench -p NRestarts >after-crash.txt
# leave a journal entry behind: no restart this time, then the guest goes down
printf "[Service]\nRestart=no\n" >/etc/systemd/system/probebench.service.d/norestart.conf
systemctl daemon-reload
sleep 2
caught=0
for try in $(seq 1 10); do
	if kill_unbound; then caught=1; break; fi
	systemctl reset-failed probebench
	systemctl start probebench
	sleep 2
done
[ $caught = 1 ] || fail "no SIGKILL landed while 0000:84:00.0 was unbound (Restart=no) in 10 tries"
ls /var/lib/probebench/ >left-behind.txt
rm /etc/systemd/system/probebench.service.d/test.conf /etc/systemd/system/probebench.service.d/norestart.conf
# the plan must not start cycling the function again at the next boot before it is checked
sed -i "s/\"at_start\": true/\"at_start\": false/" /etc/probebench/probebench.json
grep -q "\"at_start\": false" /etc/probebench/probebench.json || fail "the plan still runs at start"
systemctl daemon-reload
sync
'
expect_rc 0 "boot 1: watchdog and crashes"
b1=$TEST_TMP/boot1
echo "watchdog: restarted $(cat "$b1/watchdog-seconds.txt") s after SIGSTOP"
grep -q "NRestarts=1" "$b1/after-watchdog.txt" || fail "after the watchdog: $(cat "$b1/after-watchdog.txt")"
# each try that killed the daemon while the function was bound was a restart too
grep -q "NRestarts=$((1 + $(cat "$b1/kill-tries.txt")))$" "$b1/after-crash.txt" ||
	fail "after the crash ($(cat "$b1/kill-tries.txt") tries): $(cat "$b1/after-crash.txt")"
grep -q "probebench.service: Watchdog timeout" "$b1/journal.txt" || fail "systemd logged no watchdog timeout"
grep -Eq '^probebench_restore_at_start_entries 1$' "$b1/metrics-restart.txt" ||
	fail "the restarted daemon found no journal entry: $(grep restore_at_start "$b1/metrics-restart.txt")"
grep -Eq '^probebench_restore_at_start_exit_code 0$' "$b1/metrics-restart.txt" || fail "its restore failed"
grep -q '^journal-0000_84_00\.0\.json$' "$b1/left-behind.txt" || fail "no journal entry left for the reboot: $(cat "$b1/left-behind.txt")"
# the restarted daemon put the function back before it was ready
new=$(cat "$b1/restarted-pid.txt")
"$PY" - "$b1/journal.txt" "$new" <<'PYEOF' || fail "the restarted daemon's order"
import sys
lines = open(sys.argv[1]).read().splitlines()
tag = f"probebench[{sys.argv[2]}]: "
mine = [l.split(tag, 1)[1] for l in lines if tag in l]
print("restarted daemon, first lines:", *mine[:4], sep="\n  ")
rebound = [i for i, l in enumerate(mine) if l.startswith("0000:84:00.0: rebound to nvme")]
ready = [i for i, l in enumerate(mine) if l.startswith("ready:")]
if not rebound or not ready or rebound[0] > ready[0]:
    sys.exit(f"expected the rebind before 'ready:' in the journal: rebound at {rebound}, ready at {ready}")
PYEOF

vm_run boot2 --exec "$common"'
wait_for 120 systemctl is-active -q probebench || fail "probebench did not start at boot"
systemctl show probebench-restore -p ActiveState -p Result >restore-state.txt
ls /var/lib/probebench/ >state-dir.txt
bound || fail "0000:84:00.0 is not bound"
curl -sSf --max-time 20 http://127.0.0.1:9464/metrics >metrics.txt || fail "/metrics"
'
expect_rc 0 "boot 2: the reboot"
b2=$TEST_TMP/boot2
grep -q "Result=success" "$b2/restore-state.txt" || fail "probebench-restore.service: $(cat "$b2/restore-state.txt")"
! grep -q '^journal-' "$b2/state-dir.txt" || fail "a journal entry is left after the reboot: $(cat "$b2/state-dir.txt")"
grep -Eq '^probebench_restore_at_start_entries 0$' "$b2/metrics.txt" ||
	fail "the daemon still found entries: $(grep restore_at_start "$b2/metrics.txt")"
"$PY" - "$b2/journal.txt" <<'PYEOF' || fail "the order of restore and daemon at boot"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
def first(pat):
    for i, l in enumerate(lines):
        if re.search(pat, l):
            return i
    return None
put = first(r"probebench\[\d+\]: 0000:84:00\.0: (re)?bound to nvme; settings restored")
done = first(r"Finished probebench-restore\.service")
start = first(r"Starting probebench\.service")
ready = first(r"probebench\[\d+\]: ready: ")
for what, i in (("restore's line", put), ("Finished probebench-restore", done),
                ("Starting probebench", start), ("the daemon ready", ready)):
    print(f"{what}: {lines[i] if i is not None else 'missing'}")
# systemd's own two lines come from one process, in order; the restore's stdout reaches
# journald through another socket than the daemon's messages, so it is held against the
# daemon's readiness, a good way after its start
if None in (put, done, start, ready) or not done < start or not put < ready:
    sys.exit("expected: probebench-restore finished before probebench started, its line before the daemon was ready")
PYEOF
echo PASS

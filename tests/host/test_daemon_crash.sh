#!/bin/bash
# SIGKILL mid-cycle, then a restart: the daemon restores the device from the cycle engine's
# journal before it reports ready. The kill lands while a cycle is in flight (the device was just
# seen unbound), so the journal holds the device; a bind write already in the kernel may still
# complete, so the device can be bound or unbound at the kill — either way the restart must leave
# it bound, its power/control as it was found, and the journal empty; /metrics then says the
# start restored one journal entry (probebench_restore_at_start_entries 1, exit code 0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
daemon_test_setup

export PROBEBENCH_STATE_DIR="$WORK/state"
PORT=$(free_port)
pm_before=$(cat "/sys/bus/pci/devices/$RNG/power/control")
daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" "$(rng_plan crash 100000 '{"at_start": true}')"
start_daemon "$WORK/c.json"
wait_http "$PORT"
end=$((SECONDS + 15))
seen=
while [ "$SECONDS" -lt "$end" ]; do
	if ! rng_bound; then seen=1; break; fi
	kill -0 "$DPID" 2>/dev/null || break
done
kill -KILL "$DPID" 2>/dev/null || true
wait "$DPID" 2>/dev/null || true
DPID=
[ -n "$seen" ] || { cat "$WORK/daemon.log" >&2; fail "the daemon's run never unbound $RNG in 15 s"; }
ls "$PROBEBENCH_STATE_DIR"/journal-* >/dev/null 2>&1 ||
	fail "SIGKILL mid-cycle left no journal entry in $PROBEBENCH_STATE_DIR"
echo "killed mid-cycle; $RNG $(rng_bound && echo bound || echo unbound); journal: $(ls "$PROBEBENCH_STATE_DIR")"

daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" "$(rng_plan crash 3 '{}')"
start_daemon "$WORK/c.json"
wait_http "$PORT" # the HTTP API starts after the restore step
rng_bound || { cat "$WORK/daemon.log" >&2; fail "restart did not restore $RNG"; }
! ls "$PROBEBENCH_STATE_DIR"/journal-* >/dev/null 2>&1 || fail "journal not empty after the restart"
[ "$(cat "/sys/bus/pci/devices/$RNG/power/control")" = "$pm_before" ] ||
	fail "power/control not restored to $pm_before"
# the metrics say that the start had something to restore, and that it all went back
curl -fsS "http://127.0.0.1:$PORT/metrics" >"$WORK/metrics" || fail "no /metrics after the restart"
grep -q '^probebench_restore_at_start_entries 1$' "$WORK/metrics" ||
	fail "restore at start not in the metrics: $(grep restore "$WORK/metrics")"
grep -q '^probebench_restore_at_start_exit_code 0$' "$WORK/metrics" || fail "restore exit code not 0"
kill -TERM "$DPID"
wait_exit "$DPID"
DPID=
[ "$RC" = 0 ] || fail "exit status $RC after SIGTERM"
echo "PASS: SIGKILL mid-cycle, restart restored $RNG and emptied the journal"

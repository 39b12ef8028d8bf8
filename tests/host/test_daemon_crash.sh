#!/bin/bash
# SIGKILL while the rng function is unbound, then a restart: the daemon restores it (from the
# cycle engine's journal) before it reports ready. Needs the real run pipeline and `restore`:
# when no attempt catches the device unbound, the test skips and says so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
daemon_test_setup

PORT=$(free_port)
caught=
seen=
for attempt in 1 2 3 4 5; do
	daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" "$(rng_plan crash 100000 '{"at_start": true}')"
	start_daemon "$WORK/c.json"
	wait_http "$PORT"
	# poll sysfs until the device is seen unbound mid-cycle (bounded: 15 s)
	end=$((SECONDS + 15))
	while [ "$SECONDS" -lt "$end" ]; do
		if ! rng_bound; then seen=1; break; fi
		kill -0 "$DPID" 2>/dev/null || break
	done
	kill -KILL "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=
	if ! rng_bound; then
		caught=$attempt
		break
	fi
	[ -n "$seen" ] || break # never unbound in 15 s: retrying will not help
done
[ -n "$caught" ] || skip "the run pipeline never left $RNG unbound at a SIGKILL (pipeline not merged in this build?)"
echo "attempt $caught: daemon killed with $RNG unbound"

daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" "$(rng_plan crash 3 '{}')"
start_daemon "$WORK/c.json"
wait_http "$PORT" # the HTTP API starts after the restore step
rng_bound || { cat "$WORK/daemon.log" >&2; fail "restart did not restore $RNG"; }
kill -TERM "$DPID"
wait_exit "$DPID"
DPID=
[ "$RC" = 0 ] || fail "exit status $RC after SIGTERM"
echo "PASS: SIGKILL mid-cycle, restart restored $RNG"

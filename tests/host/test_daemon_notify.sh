#!/bin/bash
# The daemon speaks sd_notify: READY=1, then STATUS=, WATCHDOG=1 (WATCHDOG_USEC set), and
# STOPPING=1 on SIGTERM, in that order; it exits 0 and leaves the rng function bound.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
daemon_test_setup

PORT=$(free_port)
daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" "$(rng_plan rng 3 '{"at_start": true}')"
notify_listen "$WORK/notify.sock" "$WORK/notify.log"
NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=1000000 start_daemon "$WORK/c.json"
wait_http "$PORT"
wait_runs "$PORT" 1 rng
sleep 1.2 # at least one watchdog period (WATCHDOG_USEC/2 between pings)
kill -TERM "$DPID"
wait_exit "$DPID"
DPID=
[ "$RC" = 0 ] || { cat "$WORK/daemon.log" >&2; fail "daemon exit status $RC after SIGTERM, want 0"; }
wait "$NPID" 2>/dev/null || true
NPID=

cat "$WORK/notify.log"
ready=$(grep -n -m1 '\(^\||\)READY=1' "$WORK/notify.log" | cut -d: -f1)
status=$(grep -n 'STATUS=' "$WORK/notify.log" | cut -d: -f1 | awk -v r="${ready:-0}" '$1>r' | head -1)
stopping=$(grep -n -m1 'STOPPING=1' "$WORK/notify.log" | cut -d: -f1)
[ -n "$ready" ] || fail "no READY=1"
[ -n "$status" ] || fail "no STATUS= after READY=1"
[ -n "$stopping" ] || fail "no STOPPING=1"
[ "$ready" -lt "$status" ] && [ "$status" -lt "$stopping" ] || fail "order: READY=$ready STATUS=$status STOPPING=$stopping"
grep -q 'STATUS=.*plan rng' "$WORK/notify.log" || fail "no STATUS naming the running plan"
grep -q '^WATCHDOG=1$' "$WORK/notify.log" || fail "no WATCHDOG=1 with WATCHDOG_USEC set"
rng_bound || fail "rng function $RNG left unbound"
echo "PASS: READY, STATUS, WATCHDOG, STOPPING in order; exit 0; $RNG bound"

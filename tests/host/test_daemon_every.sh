#!/bin/bash
# The event loop's timers and watchdog: a plan with {"every": "1s"} runs again and again, about a
# second apart, without any other event; the status names its next run; WATCHDOG=1 keeps coming
# every WATCHDOG_USEC/2 or so while runs come and go (an empty WATCHDOG_USEC is ignored, not
# fatal); SIGINT stops the daemon like SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
daemon_test_setup

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
export PROBEBENCH_STATE_DIR="$WORK/state"

# a WATCHDOG_USEC that does not parse leaves the watchdog off; the daemon runs on
daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" ""
WATCHDOG_USEC= start_daemon "$WORK/c.json"
wait_http "$PORT"
kill -TERM "$DPID"
wait_exit "$DPID"
DPID=
[ "$RC" = 0 ] || { cat "$WORK/daemon.log" >&2; fail "exit status $RC with an empty WATCHDOG_USEC"; }
grep -q 'WATCHDOG_USEC= ignored' "$WORK/daemon.log" || { cat "$WORK/daemon.log" >&2; fail "the bad WATCHDOG_USEC is not logged"; }

daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" "$(rng_plan tick 1 '{"every": "1s"}')"
notify_listen "$WORK/notify.sock" "$WORK/notify.log"
NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=1000000 start_daemon "$WORK/c.json"
wait_http "$PORT"
start=$(date +%s.%N)
curl -fsS "$URL/api/v1/status" | "$PY" -c '
import json, sys
p = json.load(sys.stdin)["plans"][0]
assert p["schedule"]["every_seconds"] == 1 and p["next_run"], p' || fail "status does not show the next run"
wait_runs "$PORT" 3 tick
elapsed=$("$PY" -c "import sys,time; print(time.time() - float(sys.argv[1]))" "$start")
kill -INT "$DPID"
wait_exit "$DPID"
DPID=
[ "$RC" = 0 ] || { cat "$WORK/daemon.log" >&2; fail "exit status $RC after SIGINT, want 0"; }
wait "$NPID" 2>/dev/null || true
NPID=

# three runs need at least two periods after the first one
"$PY" - "$WORK/runs" <<'PYEOF' || fail "the periodic runs are not about a second apart"
import os, sys, datetime
ids = sorted(f[:-5] for f in os.listdir(sys.argv[1]) if f.endswith("-tick.json"))
t = [datetime.datetime.strptime(i[:19], "%Y%m%dT%H%M%S.%f") for i in ids]
gaps = [(b - a).total_seconds() for a, b in zip(t, t[1:])]
print("runs:", len(ids), "gaps (s):", ["%.2f" % g for g in gaps])
assert len(ids) >= 3 and all(0.9 <= g <= 3.0 for g in gaps), gaps
PYEOF
pings=$(grep -c '^WATCHDOG=1$' "$WORK/notify.log" || true)
want=$("$PY" -c "import sys; print(int(float(sys.argv[1]) / 1.0))" "$elapsed")
echo "WATCHDOG=1 x $pings in ${elapsed%.*}+ s"
[ "$pings" -ge "$want" ] || fail "$pings watchdog pings in $elapsed s with WATCHDOG_USEC=1s, want at least $want"
grep -q 'STOPPING=1' "$WORK/notify.log" || fail "no STOPPING=1 after SIGINT"
grep -q 'Interrupt: stopping\|Interrupt: finishing the current cycle' "$WORK/daemon.log" ||
	{ cat "$WORK/daemon.log" >&2; fail "SIGINT not logged"; }
rng_bound || fail "rng function $RNG left unbound"
echo "PASS: periodic runs a second apart, watchdog pings throughout, SIGINT stops with exit 0"

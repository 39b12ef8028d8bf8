#!/bin/bash
# SIGHUP: a changed plan takes effect (RELOADING=1, then READY=1); a broken config is refused,
# logged with file, key and value, and the old plan keeps running.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
daemon_test_setup

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" "$(rng_plan first 2 '{}')"
notify_listen "$WORK/notify.sock" "$WORK/notify.log"
NOTIFY_SOCKET="$WORK/notify.sock" start_daemon "$WORK/c.json"
wait_http "$PORT"

plans() { curl -fsS "$URL/api/v1/status" | "$PY" -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["plans"]))'; }
[ "$(plans)" = first ] || fail "plans at start: '$(plans)'"

# 1. a new plan, run every second: it must appear in the status and produce runs
daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" "$(rng_plan second 2 '{"every": "1s"}')"
kill -HUP "$DPID"
for _ in $(seq 1 100); do [ "$(plans)" = second ] && break; sleep 0.1; done
[ "$(plans)" = second ] || fail "after SIGHUP the plans are '$(plans)', want 'second'"
wait_runs "$PORT" 1 second
grep -q 'RELOADING=1' "$WORK/notify.log" || fail "no RELOADING=1"
r=$(grep -n -m1 'RELOADING=1' "$WORK/notify.log" | cut -d: -f1)
tail -n +"$r" "$WORK/notify.log" | grep -q '^READY=1$' || fail "no READY=1 after RELOADING=1"
grep -q 'configuration reloaded' "$WORK/daemon.log" || fail "reload not logged"

# 2. a broken config: refused, logged naming file/key/value, the plan "second" keeps running
printf '{"plans": [{"name": "third", "targets": ["0000:00:05.0"], "warmup": -3}]}' >"$WORK/c.json"
n_before=$(ls "$WORK/runs" | grep -c -- '-second\.json$')
kill -HUP "$DPID"
for _ in $(seq 1 100); do grep -q 'reload refused' "$WORK/daemon.log" && break; sleep 0.1; done
grep -qF "reload refused, keeping the running configuration: $WORK/c.json: plans[0].warmup: must be an integer 0..100000, got -3" \
	"$WORK/daemon.log" || { cat "$WORK/daemon.log" >&2; fail "the refused reload is not logged with file, key and value"; }
[ "$(plans)" = second ] || fail "after a broken reload the plans are '$(plans)'"
wait_runs "$PORT" $((n_before + 1)) second
curl -fsS "$URL/metrics" | grep -q '^probebench_config_reloads_total{result="failed"} 1$' ||
	fail "failed reload not counted"
kill -0 "$DPID" || fail "daemon died"
echo "PASS: SIGHUP applies a changed plan and keeps the old one when the new config is broken"

#!/bin/bash
# SIGTERM during a run: the daemon finishes the current cycle, stores the partial run, restores,
# exits 0, and the rng function is bound.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
daemon_test_setup

PORT=$(free_port)
daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" "$(rng_plan long 100000 '{"at_start": true}')"
start_daemon "$WORK/c.json"
wait_http "$PORT"
state() { curl -fsS "http://127.0.0.1:$PORT/api/v1/status" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["state"])'; }
for _ in $(seq 1 100); do [ "$(state)" = running ] && break; sleep 0.1; done
[ "$(state)" = running ] || fail "the plan never started running"
curl -fsS "http://127.0.0.1:$PORT/api/v1/status" >"$WORK/status.json"
validate_json "$WORK/status.json" "$SCHEMA_DIR/status.schema.json" || fail "status while running does not match its schema"
"$PY" -c 'import json,sys; c=json.load(open(sys.argv[1]))["current"]; assert c["plan"]=="long" and c["targets"]==[sys.argv[2]], c' "$WORK/status.json" "$RNG" ||
	fail "status does not show the running plan and its target"
curl -fsS "http://127.0.0.1:$PORT/metrics" | grep -q '^probebench_run_in_progress 1$' || fail "run_in_progress is not 1 while running"
sleep 1 # let it cycle
kill -TERM "$DPID"
wait_exit "$DPID"
DPID=
[ "$RC" = 0 ] || { cat "$WORK/daemon.log" >&2; fail "exit status $RC after SIGTERM, want 0"; }
rng_bound || fail "rng function $RNG left unbound after SIGTERM"
ls "$WORK/runs"/*-long.json >/dev/null 2>&1 || fail "the interrupted run was not stored"
grep -q 'finishing the current cycle' "$WORK/daemon.log" || fail "SIGTERM during a run not logged"
echo "PASS: SIGTERM mid-run: exit 0, partial run stored, $RNG bound"

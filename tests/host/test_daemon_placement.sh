#!/bin/bash
# The daemon's placement step: a plan with "placement": true cycles the rng function once and then
# samples who uses it; a reader of /dev/hwrng started here (8 MiB of its own memory) shows in
# probebench_consumer_pages; the function has no NUMA node, so there is no
# probebench_consumer_on_device_node_ratio; promtool accepts /metrics. A plan without the key
# exports neither.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
daemon_test_setup
command -v curl >/dev/null || skip "curl not installed"

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
export PROBEBENCH_STATE_DIR="$WORK/state"
"$PY" -c 'import sys, time; f = open("/dev/hwrng", "rb"); f.read(64); buf = b"x" * (8 << 20); open(sys.argv[1], "w").close(); time.sleep(300)' "$WORK/ready" &
READER=$!
trap 'kill "$READER" 2>/dev/null; daemon_cleanup' EXIT
for _ in $(seq 100); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
[ -e "$WORK/ready" ] || fail "the reader did not start"

plan=$(rng_plan sampled 2 '{"at_start": true}')
plan="${plan%\}}, \"placement\": true}"
daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" "$plan, $(rng_plan plain 2 '{"at_start": true}')"
start_daemon "$WORK/c.json"
wait_http "$PORT"
wait_runs "$PORT" 1 sampled
wait_runs "$PORT" 1 plain
curl -fsS "$URL/metrics" >"$WORK/metrics" || fail "GET /metrics"
grep '^probebench_consumer' "$WORK/metrics" || true
pages=$(sed -n "s/^probebench_consumer_pages{plan=\"sampled\",device=\"$RNG\",node=\"[0-9]*\"} \([0-9]*\)$/\1/p" "$WORK/metrics" | awk '{ s += $1 } END { print s + 0 }')
[ "$pages" -ge 2048 ] || fail "probebench_consumer_pages of $RNG: $pages pages, the reader alone has 2048"
! grep -q '^probebench_consumer_on_device_node_ratio' "$WORK/metrics" || fail "a share for a node-less device"
! grep -q '^probebench_consumer_pages{plan="plain"' "$WORK/metrics" || fail "a plan without placement has consumer pages"
grep -q '^# HELP probebench_consumer_pages ' "$WORK/metrics" || fail "no HELP for probebench_consumer_pages"
if command -v promtool >/dev/null; then
	promtool check metrics <"$WORK/metrics" || fail "promtool check metrics complains"
fi
kill -TERM "$DPID"
wait_exit "$DPID"
DPID=
[ "$RC" = 0 ] || { cat "$WORK/daemon.log" >&2; fail "daemon exit status $RC"; }
grep -q "placement not sampled" "$WORK/daemon.log" && { cat "$WORK/daemon.log" >&2; fail "placement not sampled"; }
rng_bound || fail "rng function $RNG left unbound"
echo "PASS: $pages consumer pages of $RNG after the plan's run, no share (node-less)"

#!/bin/bash
# HTTP throughput and tail latency of /api/v1/runs/latest and /metrics under wrk on loopback.
# The daemon first runs one small plan on the host's virtio-rng function (1af4:1044, holding
# the shared lock) so both documents hold a real run. wrk's numbers include its own client
# cost on the same 2 CPUs; they say nothing about remote clients or a busy run in progress.
set -eu
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
command -v wrk >/dev/null || { echo "wrk not installed"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "needs root: the plan cycles the virtio-rng function"; exit 77; }
DURATION=${DURATION:-10}
CONNS=${CONNS:-8}
WORK=$(mktemp -d /tmp/pb-bench-http.XXXXXX)
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/c.json" <<EOC
{"results_dir": "$WORK/runs", "http": {"listen": "127.0.0.1:$PORT", "max_connections": 64},
 "plans": [{"name": "bench", "targets": [{"vendor": "1af4", "device": "1044", "driver": "virtio-pci"}],
  "iterations": 20, "warmup": 2, "schedule": {"at_start": true}}]}
EOC
exec 9>/run/lock/probebench-host-rng.lock
flock 9
"$PROBEBENCH" daemon --config "$WORK/c.json" --log stderr 2>"$WORK/log" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 600); do
	curl -fs -o /dev/null "http://127.0.0.1:$PORT/api/v1/runs/latest" && break
	sleep 0.1
done
curl -fs -o /dev/null "http://127.0.0.1:$PORT/api/v1/runs/latest" || { cat "$WORK/log"; exit 1; }
echo "binary: $PROBEBENCH; wrk -t2 -c$CONNS -d${DURATION}s --latency, loopback"
for path in /api/v1/runs/latest /metrics; do
	size=$(curl -fs "http://127.0.0.1:$PORT$path" | wc -c)
	out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$PORT$path")
	rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
	p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
	errs=$(echo "$out" | grep -E 'Non-2xx|Socket errors' || true)
	echo "$path ($size bytes): $rps req/s, p50 $p50, p99 $p99 ${errs:+($errs)}"
done

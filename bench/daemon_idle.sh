#!/bin/bash
# Idle cost of the daemon: RSS and CPU time over a minute with one plan scheduled every 24 h
# (nothing runs). Method: VmRSS/VmHWM from /proc/PID/status, utime+stime from /proc/PID/stat
# (clock ticks) at start and after DURATION seconds. It cannot see kernel work done on the
# daemon's behalf outside its own threads. Use a release build (an ASan build inflates RSS).
set -eu
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
DURATION=${DURATION:-60}
WORK=$(mktemp -d /tmp/pb-bench-idle.XXXXXX)
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/c.json" <<EOC
{"results_dir": "$WORK/runs", "http": {"listen": "127.0.0.1:$PORT"},
 "plans": [{"name": "idle", "targets": [{"vendor": "1af4", "device": "1044"}], "schedule": {"every": "24h"}}]}
EOC
WATCHDOG_USEC=${WATCHDOG_USEC:-} "$PROBEBENCH" daemon --config "$WORK/c.json" --log stderr 2>"$WORK/log" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/api/v1/status" && break; sleep 0.1; done
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks)
sleep "$DURATION"
t1=$(ticks)
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")
threads=$(awk '/^Threads/ {print $2}' "/proc/$PID/status")
echo "binary: $PROBEBENCH"
echo "idle ${DURATION}s: CPU $(( (t1 - t0) * 1000 / hz )) ms (utime+stime, ${hz} Hz ticks: resolution $((1000 / hz)) ms)"
echo "RSS ${rss} kB, peak ${hwm} kB, ${threads} threads (VmRSS/VmHWM/Threads from /proc/$PID/status)"

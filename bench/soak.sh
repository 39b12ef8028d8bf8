#!/bin/bash
# Soak: does anything grow that should not? Two parts on the host's virtio-rng function
# (1af4:1044, found by id, under the shared host lock):
#  1. cycles: `probebench run --no-measure` for CYCLES (default 10000) cycles, its RSS and open
#     file descriptors sampled every 0.5 s; printed: first and last samples past the first 10 %
#     and the slope of a least-squares line, per 1000 cycles (the record keeps every iteration,
#     so RSS grows with it: that share is printed next to the slope, from the record's size);
#  2. daemon: a plan cycling the function, then SLOW (default 20) slow clients (a header line a
#     second) and wrk for WRK_SECONDS (default 20) on /metrics and /api/v1/status at once, while
#     a well-behaved client asks /metrics once a second: its worst latency, the daemon's RSS
#     before and after, how many requests wrk made.
set -eu
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root: the cycles bind the virtio-rng function"; exit 77; }
command -v wrk >/dev/null || { echo "SKIP: wrk not installed"; exit 77; }
CYCLES=${CYCLES:-10000} SLOW=${SLOW:-20} WRK_SECONDS=${WRK_SECONDS:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
BDF=$(for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1af4:0x1044 ] && { echo "${d##*/}"; break; }
done)
[ -n "$BDF" ] || { echo "SKIP: no virtio-rng function (1af4:1044) here"; exit 77; }
WORK=$(mktemp -d /tmp/pb-soak.XXXXXX)
exec 9>/run/lock/probebench-host-rng.lock
flock 9
PID=
trap '[ -z "$PID" ] || kill -TERM $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

sample() { # PID OUT: "seconds rss_kib fds" every 0.5 s while PID lives
	local t0=$SECONDS
	while kill -0 "$1" 2>/dev/null; do
		local rss fds
		rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null) || break
		fds=$(ls "/proc/$1/fd" 2>/dev/null | wc -l)
		echo "$(date +%s.%N) $rss $fds" >>"$2"
		sleep 0.5
	done
}

echo "== 1. $CYCLES cycles of $BDF (run --no-measure), $PROBEBENCH"
"$PROBEBENCH" run "$BDF" -n "$CYCLES" -w 0 --no-measure --state-dir "$WORK/state" \
	--json "$WORK/run.json" >"$WORK/run.txt" 2>&1 &
PID=$!
sample "$PID" "$WORK/samples" &
wait "$PID" || { tail "$WORK/run.txt"; exit 1; }
PID=
wait
/usr/bin/python3 - "$WORK/samples" "$CYCLES" "$WORK/run.json" <<'PYEOF'
import json, os, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 3]
cycles = int(sys.argv[2])
if len(rows) < 10:
    sys.exit(f"only {len(rows)} samples: the run was too short to say")
t0, t1 = rows[0][0], rows[-1][0]
rows = [r for r in rows if r[0] >= t0 + 0.1 * (t1 - t0)]  # past start-up
rate = cycles / (t1 - t0)  # cycles per second, taken as uniform
def slope(i):
    xs = [(r[0] - t0) * rate / 1000 for r in rows]  # thousands of cycles
    ys = [r[i] for r in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
rec = json.load(open(sys.argv[3]))
per_it = os.path.getsize(sys.argv[3]) / max(len(rec["iterations"]), 1) / 1024
print(f"{len(rows)} samples over {t1 - t0:.0f} s ({rate:.0f} cycles/s)")
print(f"RSS: {rows[0][1]:.0f} -> {rows[-1][1]:.0f} KiB, slope {slope(1):+.1f} KiB per 1000 cycles "
      f"(the record grows by about {per_it * 1000:.0f} KiB of JSON per 1000 iterations)")
print(f"open fds: {rows[0][2]:.0f} -> {rows[-1][2]:.0f}, slope {slope(2):+.3f} per 1000 cycles")
PYEOF

echo "== 2. the daemon under load: $SLOW slow clients and wrk for ${WRK_SECONDS}s"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/c.json" <<EOC
{"results_dir": "$WORK/runs", "http": {"listen": "127.0.0.1:$PORT"},
 "plans": [{"name": "soak", "targets": [{"vendor": "1af4", "device": "1044", "driver": "virtio-pci"}],
  "iterations": 20, "warmup": 2, "schedule": {"at_start": true}}]}
EOC
"$PROBEBENCH" daemon --config "$WORK/c.json" --log stderr 2>"$WORK/log" &
PID=$!
for _ in $(seq 1 600); do
	curl -fs -o /dev/null "http://127.0.0.1:$PORT/api/v1/runs/latest" && break
	sleep 0.1
done
curl -fs -o /dev/null "http://127.0.0.1:$PORT/api/v1/runs/latest" || { cat "$WORK/log"; exit 1; }
rss0=$(awk '/^VmRSS:/ {print $2}' /proc/$PID/status)
/usr/bin/python3 - "$PORT" "$SLOW" "$WRK_SECONDS" >"$WORK/slow.txt" 2>&1 <<'PYEOF' &
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
end, cut = time.time() + secs, 0
while time.time() < end and socks:
    for s in list(socks):
        try:
            s.sendall(b"X-Slow: 1\r\n")
        except OSError:
            socks.remove(s); cut += 1
    time.sleep(1)
print(f"slow clients cut off by the daemon: {cut} of {n}")
PYEOF
SLOWPID=$!
wrk -t2 -c8 -d"${WRK_SECONDS}s" "http://127.0.0.1:$PORT/metrics" >"$WORK/wrk1.txt" 2>&1 &
wrk -t1 -c4 -d"${WRK_SECONDS}s" "http://127.0.0.1:$PORT/api/v1/status" >"$WORK/wrk2.txt" 2>&1 &
worst=0 fails=0
for _ in $(seq 1 "$WRK_SECONDS"); do
	t=$(curl -s -o /dev/null -m 5 -w '%{time_total}' "http://127.0.0.1:$PORT/metrics") || fails=$((fails + 1))
	worst=$(awk -v a="$worst" -v b="${t:-5}" 'BEGIN { print (b > a ? b : a) }')
	sleep 1
done
wait $SLOWPID || true
sleep 1
rss1=$(awk '/^VmRSS:/ {print $2}' /proc/$PID/status)
echo "well-behaved /metrics during the load: worst $worst s, $fails failed (goal: under 1 s, none)"
cat "$WORK/slow.txt"
for f in wrk1 wrk2; do grep -E "requests in|Requests/sec|Non-2xx" "$WORK/$f.txt" | tr -s ' ' | sed "s/^/$f: /"; done
echo "daemon RSS: $rss0 -> $rss1 KiB"

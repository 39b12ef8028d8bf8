#!/bin/bash
# The HTTP API under hostile clients, with a daemon of no plans (no device is touched): idle
# connections do not lock out a well-behaved one, a client sending a header line a second is cut
# off within the request bound, slow readers of a large record share it instead of each holding
# a copy, a FIFO among the stored runs does not hang a request, and errors are JSON.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
WORK=$(mktemp -d /tmp/pb-daemon-test.XXXXXX)
cleanup() {
	rc=$?
	set +e
	if [ -n "${DPID:-}" ] && kill -TERM "$DPID" 2>/dev/null; then
		# bounded: a daemon whose HTTP thread hangs does not stop on SIGTERM
		for _ in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DPID" 2>/dev/null && rc=1
		wait "$DPID"
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
mkdir -p "$WORK/runs"
# a 50 MB record, and a FIFO where a record belongs
NOW=$(date -u +%Y%m%dT%H%M%S) # stored "now": retention (1 day) keeps them
BIG=$NOW.001Z-big
"$PY" -c 'import sys; open(sys.argv[1], "w").write("{\"pad\": \"" + "a" * (50 << 20) + "\"}\n")' \
	"$WORK/runs/$BIG.json"
mkfifo "$WORK/runs/$NOW.000Z-fifo.json"
# 16 connections (the default), 12 of them per address (all of this test's come from one)
cat >"$WORK/c.json" <<EOC
{"results_dir": "$WORK/runs", "http": {"listen": "127.0.0.1:$PORT", "max_connections": 16},
 "plans": []}
EOC
start_daemon "$WORK/c.json"
wait_http "$PORT"

# errors the daemon answers are JSON
code=$(curl -sS -o "$WORK/body" -w '%{http_code}' "$URL/nope")
[ "$code" = 404 ] || fail "/nope: $code, want 404"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d=={"error":"not found","status":404}, d' \
	"$WORK/body" || fail "the 404 body is not the JSON error: $(cat "$WORK/body")"
echo "ok: 404 body is JSON"

"$PY" - "$PORT" "$DPID" "$WORK/runs/$BIG.json" <<'PYEOF' || fail "the HTTP limits did not hold"
import socket, subprocess, sys, time
port, pid, big = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
url = "http://127.0.0.1:%d" % port
ok = True

def curl(path, limit):
    t0 = time.time()
    r = subprocess.run(["curl", "-sS", "-m", str(limit), "-o", "/dev/null", "-w", "%{http_code}",
                        url + path], capture_output=True, text=True)
    return r.stdout, time.time() - t0

# 20 idle connections (more than max_connections), then one well-behaved client
idle = []
for _ in range(20):
    c = socket.socket()
    c.connect(("127.0.0.1", port))
    idle.append(c)
time.sleep(2)
code, took = curl("/metrics", 5)
print("20 idle connections: /metrics -> %s in %.2fs" % (code, took))
ok &= code == "200"
for c in idle:
    c.close()

# slowloris: a header line a second; the request bound is 10s
c = socket.socket()
c.connect(("127.0.0.1", port))
c.settimeout(1.0)
c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
t0, cut = time.time(), None
while time.time() - t0 < 25 and cut is None:
    try:
        c.sendall(b"X-Slow: 1\r\n")
        if c.recv(1) == b"":
            cut = time.time() - t0
    except socket.timeout:
        pass
    except OSError:
        cut = time.time() - t0
c.close()
print("slowloris: cut off after %s" % ("%.1fs" % cut if cut else "more than 25s"))
ok &= cut is not None and cut < 15
code, took = curl("/metrics", 5)
ok &= code == "200"

# eight slow readers of the 50 MB record: the daemon's memory does not grow by a copy each
def rss_mb():
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
before, peak, readers = rss_mb(), 0, []
for _ in range(8):
    r = socket.socket()
    r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    r.connect(("127.0.0.1", port))
    r.sendall(b"GET /api/v1/runs/%s HTTP/1.1\r\nHost: x\r\n\r\n" % big.rsplit("/", 1)[1][:-5].encode())
    readers.append(r)
for _ in range(20):
    time.sleep(0.1)
    peak = max(peak, rss_mb())
    for r in readers:
        r.recv(100)
for r in readers:
    r.close()
print("8 slow readers of a 50 MB record: RSS %d MB -> peak %d MB" % (before, peak))
ok &= peak - before < 50
sys.exit(0 if ok else 1)
PYEOF
# a FIFO in the results directory: answered at once, not waited on
code=$(curl -sS -m 5 -o "$WORK/body" -w '%{http_code}' "$URL/api/v1/runs/$NOW.000Z-fifo" || true)
[ "$code" = 500 ] || fail "a FIFO as a stored run: '$code', want 500 at once (000: it hung)"
"$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/body" || fail "500 body is not JSON"
echo "ok: a FIFO among the runs -> $code at once"

kill -0 "$DPID" || fail "the daemon died"
echo "PASS: the API stays available to well-behaved clients"

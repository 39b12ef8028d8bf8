#!/bin/bash
# The logger's journal side, against a stand-in for journald: in a private mount namespace a
# datagram socket at /run/systemd/journal/socket receives what sd_journal_send() sends. The
# daemon (--log journal, and --log auto with JOURNAL_STREAM naming its stderr) must send each
# message with PRIORITY=, SYSLOG_IDENTIFIER=probebench, the PLAN= field where a plan is
# concerned (no empty fields), ERRNO= from a failed call, and nothing as text on stderr.
# No device is touched: the only plan's rule matches no PCI function.
. "$(dirname "$0")/lib.sh"
need_root "a private mount namespace hides /run to stand in for journald's socket"
command -v unshare >/dev/null || skip "unshare (util-linux) not installed"
WORK=$(mktemp -d /tmp/pb-log-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export WORK PROBEBENCH PY
export PROBEBENCH_STATE_DIR="$WORK/state"

cat >"$WORK/listen.py" <<'PYEOF'
# Receives journal native protocol datagrams; writes one JSON object of fields per message.
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    d, i, fields = s.recv(1 << 20), 0, {}
    while i < len(d):
        nl = d.index(b"\n", i)
        eq = d.find(b"=", i, nl)
        if eq >= 0:
            fields[d[i:eq].decode()] = d[eq + 1:nl].decode()
            i = nl + 1
        else:  # KEY\n, le64 size, value, \n
            n = struct.unpack("<Q", d[nl + 1:nl + 9])[0]
            fields[d[i:nl].decode()] = d[nl + 9:nl + 9 + n].decode()
            i = nl + 9 + n + 1
    with open(sys.argv[2], "a") as f:  # opened per message: the test renames the file
        f.write(json.dumps(fields) + "\n")
PYEOF
cat >"$WORK/c.json" <<EOC
{"results_dir": "$WORK/runs", "http": null,
 "plans": [{"name": "nomatch", "targets": [{"vendor": "ffff", "device": "fffe"}],
            "schedule": {"at_start": true}}]}
EOC
# an address in use: the daemon refuses to start, through pb_log_errno (ERRNO=)
export PORT_HOLDER_CODE='import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)'

timeout 120 unshare -m --propagation private bash -eu -c '
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/journal
"$PY" "$WORK/listen.py" /run/systemd/journal/socket "$WORK/journal.jsonl" &
lpid=$!
trap "kill \$lpid \${HOLD_PID:-} 2>/dev/null || true" EXIT
for _ in $(seq 1 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done

run_daemon() { # NAME: runs until the skipped run is logged, then SIGTERM
	"$PROBEBENCH" daemon --config "$WORK/c.json" "${@:2}" >"$WORK/$1.out" 2>"$WORK/$1.err" &
	dpid=$!
	for _ in $(seq 1 100); do grep -q "run skipped" "$WORK/journal.jsonl" 2>/dev/null && break; sleep 0.1; done
	kill -TERM $dpid
	wait $dpid
}
run_daemon explicit --log journal
mv "$WORK/journal.jsonl" "$WORK/journal-explicit.jsonl"
touch "$WORK/auto.err"
JOURNAL_STREAM=$(stat -c %d:%i "$WORK/auto.err") run_daemon auto --log auto
mv "$WORK/journal.jsonl" "$WORK/journal-auto.jsonl"

coproc HOLD { exec "$PY" -c "$PORT_HOLDER_CODE"; }
read -r port <&"${HOLD[0]}"
sed "s/\"http\": null/\"http\": {\"listen\": \"127.0.0.1:$port\"}/" "$WORK/c.json" >"$WORK/c2.json"
rc=0
"$PROBEBENCH" daemon --config "$WORK/c2.json" --log journal 2>"$WORK/busy.err" >/dev/null || rc=$?
echo "$rc" >"$WORK/busy.rc"
' || fail "the run in a private mount namespace failed"

for f in explicit auto; do
	"$PY" - "$WORK/journal-$f.jsonl" <<'PYEOF' || fail "journal messages ($f) lack priority, identifier or fields"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
for m in msgs:
    assert m["SYSLOG_IDENTIFIER"] == "probebench" and m["PRIORITY"].isdigit(), m
    assert all(v != "" for v in m.values()), m
ready = [m for m in msgs if m["MESSAGE"].startswith("ready: 1 plan(s)")]
assert ready and ready[0]["PRIORITY"] == "6" and "PLAN" not in ready[0], ready
skip = [m for m in msgs if "no device matches its targets now; run skipped" in m["MESSAGE"]]
assert skip and skip[0]["PRIORITY"] == "3" and skip[0]["PLAN"] == "nomatch", skip
assert "DEVICE" not in skip[0] and "DRIVER" not in skip[0], skip[0]
print("%d messages; e.g." % len(msgs), json.dumps(skip[0]))
PYEOF
	! grep -q '^probebench:' "$WORK/$f.err" || { cat "$WORK/$f.err" >&2; fail "--log $f also wrote text to stderr"; }
done
[ "$(cat "$WORK/busy.rc")" != 0 ] || fail "the daemon started on a port in use"
"$PY" - "$WORK/journal.jsonl" <<'PYEOF' || fail "the failed listen has no ERRNO= field"
import errno, json, sys
m = [json.loads(l) for l in open(sys.argv[1]) if "cannot listen on" in l]
assert m and m[0]["ERRNO"] == str(errno.EADDRINUSE) and m[0]["PRIORITY"] == "3", m
print(json.dumps(m[0]))
PYEOF
echo "PASS: journal messages carry priority, identifier, PLAN= and ERRNO=; none on stderr"

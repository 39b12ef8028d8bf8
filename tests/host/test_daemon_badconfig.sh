#!/bin/bash
# A broken config at start is refused with a message naming the file, key and value, a non-zero
# exit, and nothing started (no HTTP listener, no results directory, no device touched).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
WORK=$(mktemp -d /tmp/pb-daemon-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PORT=$(free_port)

expect_refusal() { # CONFIG WANT_MESSAGE
	rc=0
	"$PROBEBENCH" daemon --config "$1" --log stderr >"$WORK/out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || fail "daemon accepted $1"
	grep -qF -- "$2" "$WORK/out" || { cat "$WORK/out" >&2; fail "no message '$2'"; }
	echo "ok: exit $rc: $(tail -1 "$WORK/out")"
	if curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/status"; then fail "something listens on $PORT"; fi
	[ ! -e "$WORK/runs" ] || fail "results directory created for a refused config"
}

printf '{"results_dir": "%s", "http": {"listen": "127.0.0.1:%s"}, "plans": [{"name": "rng", "targets": ["0000:00:05.0"], "iterations": "abc", "schedule": {"at_start": true}}]}' \
	"$WORK/runs" "$PORT" >"$WORK/bad1.json"
expect_refusal "$WORK/bad1.json" "$WORK/bad1.json: plans[0].iterations: must be an integer 1..1000000, got \"abc\""

printf '{"results_dir": "%s", "http": {"listen": "127.0.0.1:%s"},\n "plans": [\n' "$WORK/runs" "$PORT" >"$WORK/bad2.json"
expect_refusal "$WORK/bad2.json" "$WORK/bad2.json:3:"

printf '{"results_dir": "%s", "http": {"listen": "127.0.0.1:%s"}, "plans": [{"name": "rng", "targets": [{"vendor": "1af4"}]}]}' \
	"$WORK/runs" "$PORT" >"$WORK/bad3.json"
expect_refusal "$WORK/bad3.json" "plans[0].targets[0].device: required"

expect_refusal "$WORK/missing.json" "$WORK/missing.json: cannot open"

rc=0
"$PROBEBENCH" daemon --config "$WORK/bad1.json" --check-config >"$WORK/out" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--check-config on a bad file: exit $rc, want 2"
"$PROBEBENCH" daemon --config "$PB_SOURCE_DIR/examples/probebench.json" --check-config ||
	fail "--check-config refuses the shipped example"
# the config is not laxer than its schema: every value --check-config takes, the schema takes
"$PY" - "$PROBEBENCH" "$SCHEMA_DIR/config.schema.json" "$WORK" <<'PYEOF' || fail "the config takes what its schema refuses"
import json, subprocess, sys, jsonschema
pb, schema, work = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
plan = {"name": "a", "targets": ["0000:00:05.0"]}
cases = []
for d in ["10ms", " 10ms", "+10ms", "1e3ms", "0x10s", "inf", "1.s", "1.5s", "2min", "7d", "1ns", "10", ".5s", "5 s", "-1s"]:
    cases.append({"plans": [dict(plan, interval=d)]})
    cases.append({"plans": [dict(plan, timeout=d)]})
    cases.append({"plans": [], "retention": {"age": d}})
for l in ["127.0.0.1:9464", "localhost:9464", "127.0.0.1:+80", "127.0.0.1: 80", "[::1]:80", "[127.0.0.1]:80", "1.2.3.4:080000", "0.0.0.0:0", "::1:80"]:
    cases.append({"plans": [], "http": {"listen": l}})
for n in ["a", ".", "..", ".x", "a.b", "-", "a b", "x" * 65]:
    cases.append({"plans": [dict(plan, name=n)]})
accepted = 0
for i, c in enumerate(cases):
    path = "%s/x%d.json" % (work, i)
    json.dump(c, open(path, "w"))
    ok = subprocess.run([pb, "daemon", "--config", path, "--check-config"], capture_output=True).returncode == 0
    try:
        jsonschema.validate(c, schema)
        valid = True
    except jsonschema.ValidationError:
        valid = False
    if ok and not valid:
        print("accepted by --check-config, refused by the schema: %s" % json.dumps(c), file=sys.stderr)
        sys.exit(1)
    accepted += ok
print("ok: %d of %d values accepted, each also by the schema" % (accepted, len(cases)))
PYEOF

# a FIFO as the configuration: a clear error at once, not an open that waits for a writer
mkfifo "$WORK/fifo.json"
rc=0
timeout 10 "$PROBEBENCH" daemon --config "$WORK/fifo.json" --check-config >"$WORK/out" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--check-config on a FIFO: exit $rc, want 2 (124: it hung)"
grep -qF "$WORK/fifo.json: not a regular file" "$WORK/out" || fail "no clear error for a FIFO: $(cat "$WORK/out")"
rc=0
timeout 10 "$PROBEBENCH" daemon --config "$WORK/fifo.json" --log stderr >"$WORK/out" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "daemon on a FIFO config: exit $rc, want 2 (124: it hung)"
grep -qF "$WORK/fifo.json: not a regular file" "$WORK/out" || fail "no clear error for a FIFO: $(cat "$WORK/out")"
echo "ok: a FIFO as config refused at once"
rc=0
"$PROBEBENCH" daemon --bogus >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "unknown option: exit $rc, want 2"
echo "PASS: broken configs refused with clear errors"

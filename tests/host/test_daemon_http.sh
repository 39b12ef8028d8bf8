#!/bin/bash
# Every HTTP endpoint with curl: status codes, content types, 404, 405, 413, JSON validated
# against the schemas, `promtool check metrics` on /metrics and on the textfile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus)"
daemon_test_setup

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
TEXTFILE="$WORK/probebench.prom" daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" \
	"$(rng_plan rng 3 '{"at_start": true}')"
start_daemon "$WORK/c.json"
wait_http "$PORT"
wait_runs "$PORT" 1 rng

# check PATH METHOD WANT_CODE WANT_TYPE_PREFIX -> body in $WORK/body, headers in $WORK/hdr
check() {
	if [ "$2" = HEAD ]; then m=(-I); else m=(-X "$2"); fi
	code=$(curl -sS "${m[@]}" -D "$WORK/hdr" -o "$WORK/body" -w '%{http_code}' "$URL$1")
	type=$(grep -i '^content-type:' "$WORK/hdr" | cut -d' ' -f2- | tr -d '\r')
	[ "$code" = "$3" ] || fail "$2 $1: status $code, want $3"
	case "$type" in "$4"*) ;; *) fail "$2 $1: content type '$type', want '$4'" ;; esac
	echo "ok: $2 $1 -> $code $type"
}

check /api/v1/status GET 200 application/json
validate_json "$WORK/body" "$SCHEMA_DIR/status.schema.json" || fail "status does not match its schema"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["plans"][0]["name"]=="rng" and d["plans"][0]["last"]["result"]=="ok", d' "$WORK/body" ||
	fail "status does not show the plan's last run"

# The version the binary reports is the one the status, the run record and /metrics carry.
VERSION=$("$PROBEBENCH" --version | sed -n 's/^probebench //p')
[ -n "$VERSION" ] || fail "probebench --version printed no version"
"$PY" -c 'import json,sys; v=json.load(open(sys.argv[1]))["daemon"]["version"]; assert v==sys.argv[2], v' "$WORK/body" "$VERSION" ||
	fail "status does not carry the version $VERSION"
check /api/v1/runs GET 200 application/json
validate_json "$WORK/body" "$SCHEMA_DIR/runs.schema.json" || fail "runs index does not match its schema"
ID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0]["id"])' "$WORK/body")

check /api/v1/runs/latest GET 200 application/json
cmp -s "$WORK/body" "$WORK/runs/$ID.json" || fail "/api/v1/runs/latest is not the newest stored run"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "summary" in d and "targets" in d' "$WORK/body" ||
	fail "latest is not a run record"
[ ! -f "$SCHEMA_DIR/run.schema.json" ] || validate_json "$WORK/body" "$SCHEMA_DIR/run.schema.json" ||
	fail "latest run does not match run.schema.json"

check "/api/v1/runs/$ID" GET 200 application/json
cmp -s "$WORK/body" "$WORK/runs/$ID.json" || fail "/api/v1/runs/$ID differs from the stored file"

"$PY" -c 'import json,sys; v=json.load(open(sys.argv[1]))["tool_version"]; assert v==sys.argv[2], v' "$WORK/body" "$VERSION" ||
	fail "the run record does not carry the version $VERSION"
check /metrics GET 200 "text/plain; version=0.0.4"
grep -qF "probebench_build_info{version=\"$VERSION\"} 1" "$WORK/body" || fail "build_info does not carry the version $VERSION"
promtool check metrics <"$WORK/body" || fail "promtool check metrics complains about /metrics"
grep -q '^probebench_runs_total{plan="rng",result="ok"} 1$' "$WORK/body" || fail "no runs_total for the run"
grep -q "^probebench_last_run_exit_code{plan=\"rng\"} 0$" "$WORK/body" || fail "no last_run_exit_code"
if grep -q '"bind_ns"' "$WORK/runs/$ID.json"; then
	grep -q "^probebench_bind_duration_seconds_count{plan=\"rng\",device=\"$RNG\"" "$WORK/body" ||
		fail "the record has bind_ns but /metrics has no bind duration for $RNG"
fi
# plans measure by default: the probe facts of the stored run reach /metrics
# (a method that works here must have been used; only without any are the probe metrics absent)
mrc=0
"$PY" -c '
import json, sys
m = json.load(open(sys.argv[1]))["measurement"]
avail = [x for x in m["availability"]["methods"] if x["available"]]
if avail and not m.get("used"):
    print("a measurement method works here but the plan did not measure: %r" % m["observers"], file=sys.stderr)
    sys.exit(2)
sys.exit(0 if avail else 1)' "$WORK/runs/$ID.json" || mrc=$?
[ "$mrc" -le 1 ] || fail "the daemon's run was not measured although a method works here"
if [ "$mrc" = 0 ]; then
	for want in "probebench_probe_duration_seconds_count{plan=\"rng\",device=\"$RNG\",driver=\"virtio-pci\",node=\"[^\"]*\",writer_node=\"[^\"]*\",depth=\"0\"} [1-9]" \
		"probebench_probe_duration_seconds{plan=\"rng\",device=\"$RNG\",driver=\"virtio_rng\",.*depth=\"1\",quantile=\"0.5\"}" \
		"probebench_probe_pages{plan=\"rng\",device=\"$RNG\",.*page_node=\"0\"} [0-9]"; do
		grep -q "^$want" "$WORK/body" || fail "the run was measured but /metrics lacks $want"
	done
else
	echo "note: measurement unavailable here, no probe metrics to check"
fi
[ -f "$WORK/probebench.prom" ] || fail "textfile not written"
promtool check metrics <"$WORK/probebench.prom" || fail "promtool complains about the textfile"
ls -A "$WORK" | grep -q '\.tmp\.' && fail "a temporary textfile was left behind"

check /api/v1/runs/20000101T000000.000Z-none GET 404 application/json
check /api/v1/runs/..%2F..%2Fetc%2Fpasswd GET 404 application/json
check /api/v1/runs/latest/x GET 404 application/json
check /api/v1 GET 404 application/json
check / GET 404 application/json
check /metrics POST 405 application/json
grep -qi '^allow: GET, HEAD' "$WORK/hdr" || fail "405 without Allow: GET, HEAD"
check /api/v1/status PUT 405 application/json
check /api/v1/runs DELETE 405 application/json
check /api/v1/status HEAD 200 application/json

code=$(curl -sS -o /dev/null -w '%{http_code}' -X GET --data-binary 'x=1' "$URL/api/v1/status")
[ "$code" = 413 ] || fail "GET with a body: $code, want 413"
long=$(head -c 20000 /dev/zero | tr '\0' a)
code=$(curl -sS -o /dev/null -w '%{http_code}' "$URL/$long" || true)
case "$code" in 4*) echo "ok: 20 kB URL -> $code" ;; *) fail "20 kB URL: $code, want 4xx" ;; esac
# more connections than max_connections (8): the excess is refused, the daemon stays up
flood=()
for _ in $(seq 1 12); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT"; sleep 2) 2>/dev/null &
	flood+=($!)
done
sleep 0.5
curl -sS -m 5 -o /dev/null "$URL/api/v1/status" 2>/dev/null || true
wait "${flood[@]}" || true
check /api/v1/status GET 200 application/json
validate_json "$SCHEMA_DIR/../examples/probebench.json" "$SCHEMA_DIR/config.schema.json" ||
	fail "the example config does not match config.schema.json"
echo "PASS: every endpoint answered as specified"

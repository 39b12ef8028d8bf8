#!/bin/bash
# The daemon serves its stored runs as HTML reports: /report (the newest run) and /report/ID,
# text/html, the same page `probebench report` makes of the stored file (but for the name the
# page gives the run); an unknown or malformed ID is a JSON 404, HEAD works, nothing else than
# GET and HEAD is allowed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
daemon_test_setup

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
export PROBEBENCH_STATE_DIR="$WORK/state"
daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" "$(rng_plan rep 5 '{"at_start": true}')"
curl -fsS "$URL/report" >/dev/null 2>&1 && fail "something already answers on port $PORT"
start_daemon "$WORK/c.json"
wait_http "$PORT"
wait_runs "$PORT" 1 rep
ID=$(curl -fsS "$URL/api/v1/runs" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["id"])')

curl -fsS -D "$WORK/h1" -o "$WORK/latest.html" "$URL/report" || fail "GET /report failed"
grep -qi '^content-type: text/html; charset=utf-8' "$WORK/h1" || fail "/report is not text/html: $(cat "$WORK/h1")"
curl -fsS -D "$WORK/h2" -o "$WORK/id.html" "$URL/report/$ID" || fail "GET /report/$ID failed"
grep -qi '^content-type: text/html; charset=utf-8' "$WORK/h2" || fail "/report/ID is not text/html"
for f in latest id; do
	head -c 15 "$WORK/$f.html" | grep -q '<!DOCTYPE html>' || fail "$f: not an HTML page"
	grep -q 'id="dist-r0-t0-p0"' "$WORK/$f.html" || fail "$f: no distribution figure"
	grep -q 'id="timeline-r0-t0-p0"' "$WORK/$f.html" || fail "$f: no timeline (the plan measures)"
done
grep -q "<h2>Run $ID</h2>" "$WORK/id.html" || fail "/report/ID does not name the run"
grep -q "<h2>Run latest run</h2>" "$WORK/latest.html" || fail "/report does not say it is the latest run"
# the same page as the command makes of the stored file, but for the run's name
(cd "$WORK/runs" && "$PROBEBENCH" report -o - "$ID.json") >"$WORK/cli.html" || fail "probebench report failed"
diff <(sed "s|$ID.json|NAME|g" "$WORK/cli.html") <(sed "s|$ID|NAME|g" "$WORK/id.html") >/dev/null ||
	fail "/report/ID differs from probebench report of the stored file"

for bad in "nosuchrun" "..%2F..%2Fetc%2Fpasswd" "$ID/x"; do
	code=$(curl -s -o "$WORK/bad" -w '%{http_code}' "$URL/report/$bad")
	[ "$code" = 404 ] || fail "/report/$bad answered $code, not 404"
	grep -q '"status":404' "$WORK/bad" || fail "/report/$bad: not a JSON error: $(cat "$WORK/bad")"
done
code=$(curl -s -I -o /dev/null -w '%{http_code}' "$URL/report")
[ "$code" = 200 ] || fail "HEAD /report answered $code"
code=$(curl -s -X POST -o /dev/null -w '%{http_code}' "$URL/report")
[ "$code" = 405 ] || fail "POST /report answered $code"
rng_bound || fail "rng function $RNG left unbound"
echo "PASS: /report and /report/$ID"

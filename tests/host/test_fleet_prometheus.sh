#!/bin/bash
# The fleet files (contrib/, doc/fleet.md) against a real Prometheus: `promtool check rules` and
# `promtool check config` pass on what is shipped; a Prometheus on loopback (a free port, a
# scratch storage directory) scrapes a daemon through the shipped scrape configuration (file_sd,
# intervals shortened to 1 s) and loads the shipped rules; after three scrapes every expression of
# the Grafana dashboard (variables replaced by .*) and every rule's expression returns data through
# /api/v1/query, every rule evaluates without error, and every metric name they use is one the
# daemon exports. The 7-day baselines are quantile_over_time(...[7d]): they return data from the
# first scrape on, so they are evaluated as shipped. An alert's expression is evaluated without
# its threshold: each side of its comparison (a side that is a number alone is skipped), since a
# firing condition is not what a healthy host has. The daemon cycles the host's rng function
# (plan "rng", every 2 s); the rng function has no NUMA node, so the on-node share comes from a
# second plan ("numa", never scheduled) whose newest stored run the daemon loads at start: a real
# record of the rng function with the device placed on node 0 (the way metrics survive a
# restart). Grafana is not a Debian package: the dashboard is checked for structure
# (schemaVersion, the datasource input and variable, the server and driver variables, every
# panel on the datasource variable).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
command -v prometheus >/dev/null && command -v promtool >/dev/null ||
	skip "no prometheus/promtool (scripts/install-deps installs prometheus)"
SRC=${PB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
RULES=$SRC/contrib/prometheus/probebench.rules.yml
SCRAPE=$SRC/contrib/prometheus/prometheus.yml
DASH=$SRC/contrib/grafana/probebench.json

promtool check rules "$RULES" || fail "promtool check rules"
daemon_test_setup
mkdir -p "$WORK/prom/targets"
cp "$SRC/contrib/prometheus/targets/probebench.example.json" "$WORK/prom/targets/"
sed -e "s|/etc/prometheus/rules/probebench.rules.yml|$RULES|" \
	-e "s|/etc/prometheus/probebench/targets/|$WORK/prom/targets/|" "$SCRAPE" >"$WORK/prom/shipped.yml"
promtool check config "$WORK/prom/shipped.yml" || fail "promtool check config of the shipped configuration"

"$PY" - "$DASH" <<'PYEOF' || fail "the dashboard's structure"
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["schemaVersion"], int) and d["schemaVersion"] >= 30, d.get("schemaVersion")
assert d["uid"] and d["title"]
assert [i["name"] for i in d["__inputs"]] == ["DS_PROMETHEUS"] and d["__inputs"][0]["pluginId"] == "prometheus"
v = {x["name"]: x for x in d["templating"]["list"]}
assert v["datasource"]["type"] == "datasource" and v["datasource"]["query"] == "prometheus", v["datasource"]
for name in ("server", "driver"):
    assert v[name]["type"] == "query" and "label_values(" in v[name]["definition"], v[name]
    assert v[name]["datasource"]["uid"] == "${datasource}"
ids = set()
n = 0
for p in d["panels"]:
    assert p["id"] not in ids, p["id"]
    ids.add(p["id"])
    assert {"h", "w", "x", "y"} <= set(p["gridPos"]), p
    if p["type"] == "row":
        continue
    n += 1
    assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
    assert p["targets"] and all(t["expr"] and t["refId"] for t in p["targets"]), p["title"]
    assert p["description"], p["title"]
print(n, "panels")
PYEOF

# A real record of the rng function, placed on node 0, stored as the "numa" plan's newest run.
export PROBEBENCH_STATE_DIR="$WORK/state"
"$PROBEBENCH" run -n 6 -w 1 --json "$WORK/rec.json" "$RNG" >/dev/null || fail "run for the numa record failed"
mkdir -p "$WORK/runs"
"$PY" - "$WORK/rec.json" "$WORK/runs" <<'PYEOF' || fail "cannot store the numa record"
import datetime, json, sys
d = json.load(open(sys.argv[1]))
for t in d["targets"]:
    t["numa_node"] = 0
for it in d["iterations"]:
    for p in (it.get("measurement") or {}).get("probes", []):
        p.update(node=0, device_node=0, on_device_node=True)
now = datetime.datetime.now(datetime.timezone.utc)
rid = now.strftime("%Y%m%dT%H%M%S.") + "%03dZ-numa" % (now.microsecond // 1000)
json.dump(d, open(f"{sys.argv[2]}/{rid}.json", "w"))
PYEOF

PORT=$(free_port)
daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" \
	"$(rng_plan rng 3 '{"every": "2s", "at_start": true}'), $(rng_plan numa 3 '{}')"
start_daemon "$WORK/c.json"
wait_http "$PORT"
wait_runs "$PORT" 2 rng
curl -fsS "http://127.0.0.1:$PORT/metrics" >"$WORK/metrics" || fail "no /metrics"
grep -q '^probebench_probe_on_device_node_ratio{plan="numa"' "$WORK/metrics" ||
	fail "the numa plan's stored run gives no on-node share"

# Prometheus with the shipped scrape configuration, scraping this daemon every second
PPORT=$(free_port)
echo "[{\"targets\": [\"127.0.0.1:$PORT\"], \"labels\": {\"rack\": \"test\"}}]" >"$WORK/prom/targets/local.json"
rm "$WORK/prom/targets/probebench.example.json" # the example's servers do not exist
sed -e 's/^\(  *\)scrape_interval: 30s/\1scrape_interval: 1s/' -e 's/evaluation_interval: 30s/evaluation_interval: 1s/' \
	-e 's/scrape_timeout: 10s/scrape_timeout: 1s/' -e 's/refresh_interval: 1m/refresh_interval: 1s/' \
	"$WORK/prom/shipped.yml" >"$WORK/prom/prometheus.yml"
promtool check config "$WORK/prom/prometheus.yml" >/dev/null || fail "promtool check config of the test's copy"
prometheus --config.file="$WORK/prom/prometheus.yml" --storage.tsdb.path="$WORK/prom/data" \
	--web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$WORK/prom/log" 2>&1 &
PROM=$!
trap 'kill $PROM 2>/dev/null; wait $PROM 2>/dev/null; daemon_cleanup' EXIT
PROM_URL="http://127.0.0.1:$PPORT"
for _ in $(seq 1 300); do
	n=$(curl -fsS "$PROM_URL/api/v1/query" --data-urlencode 'query=count_over_time(up{job="probebench"}[5m])' 2>/dev/null |
		"$PY" -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(int(r[0]["value"][1]) if r else 0)' 2>/dev/null || echo 0)
	[ "$n" -ge 3 ] && break
	kill -0 "$PROM" 2>/dev/null || { cat "$WORK/prom/log" >&2; fail "prometheus exited"; }
	sleep 0.2
done
[ "$n" -ge 3 ] || { cat "$WORK/prom/log" >&2; fail "fewer than 3 scrapes of the daemon in 60 s"; }
sleep 2 # two more evaluations of the rules

"$PY" - "$PROM_URL" "$DASH" "$RULES" "$WORK/metrics" <<'PYEOF' || fail "an expression returned no data"
import json, re, sys, urllib.parse, urllib.request
import yaml
url, dash, rules, metrics = sys.argv[1:5]

def query(expr):
    q = urllib.parse.urlencode({"query": expr})
    r = json.load(urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=10))
    assert r["status"] == "success", (expr, r)
    d = r["data"]
    return 1 if d["resultType"] == "scalar" else len(d["result"])

def sides(expr):
    """The two sides of the top-level comparison (outside brackets), or [expr]."""
    depth = 0
    for i, c in enumerate(expr):
        depth += c in "([{"
        depth -= c in ")]}"
        if depth == 0 and expr[i:i + 4] in (" != ", " == ", " >= ", " <= "):
            return [expr[:i], expr[i + 4:]]
        if depth == 0 and expr[i:i + 3] in (" > ", " < "):
            return [expr[:i], expr[i + 3:]]
    return [expr]

exported = set()
for line in open(metrics):
    m = re.match(r"# TYPE (\S+) (\S+)", line)
    if m:
        exported.add(m.group(1))
        if m.group(2) == "summary":
            exported |= {m.group(1) + "_sum", m.group(1) + "_count"}
def check_names(expr, where):
    for name in re.findall(r"\b(probebench_[a-z_]+)", expr):
        assert name in exported, f"{where}: {name} is not a metric the daemon exports"

failed, n = [], 0
def need(expr, where):
    global n
    check_names(expr, where)
    k = query(expr)
    n += 1
    print(f"{k:3d} series  {where}: {' '.join(expr.split())[:110]}")
    if not k:
        failed.append(where)

d = json.load(open(dash))
subst = lambda e: e.replace("$server", ".*").replace("$plan", ".*").replace("$driver", ".*")
for v in d["templating"]["list"]:
    if v["type"] == "query":
        m = re.match(r"label_values\((.*), *(\w+)\)$", v["definition"])
        need(subst(m.group(1)), f"variable {v['name']}")
for p in d["panels"]:
    for t in p.get("targets", []):
        need(subst(t["expr"]), f"panel '{p['title']}' {t['refId']}")
for g in yaml.safe_load(open(rules))["groups"]:
    for r in g["rules"]:
        name = r.get("record") or r.get("alert")
        parts = sides(r["expr"].strip()) if "alert" in r else [r["expr"]]
        for k, s in enumerate(parts):
            if re.fullmatch(r"\s*[0-9.]+\s*", s):
                continue
            need(s.strip(), f"{'alert' if 'alert' in r else 'record'} {name}" + (f" side {k}" if len(parts) > 1 else ""))
# Prometheus itself evaluated every rule: no error, and the recorded series exist
st = json.load(urllib.request.urlopen(f"{url}/api/v1/rules", timeout=10))
for g in st["data"]["groups"]:
    for r in g["rules"]:
        assert r["health"] == "ok" and not r.get("lastError"), (r["name"], r.get("lastError"))
        if r["type"] == "recording":
            assert query(r["name"]) > 0, f"recorded series {r['name']} is empty"
print(n, "expressions evaluated;", "no data:", failed)
assert not failed
PYEOF
rng_bound || fail "rng function $RNG left unbound"
echo "PASS"

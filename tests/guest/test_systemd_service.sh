#!/bin/bash
# The daemon as a server runs it: the guest boots Debian with systemd as PID 1 (probebench-vm
# --systemd), probebench installed from the build with cmake --install and its units enabled.
# One boot:
#  - `systemctl start probebench` with a plan cycling the node-1 virtio-rng function with the
#    writer on each node: active (READY=1 came), the run stored, its probes measured under the
#    unit's sandbox (kprobe or tracepoint, nothing missing), /metrics answers on loopback, the
#    journal has the structured fields (PLAN=, DEVICE=) of the unit's messages;
#  - `systemctl reload` with a broken config: refused, still active on the old plans; with a good
#    one: the new plans;
#  - on_add with the real systemd-udevd: the function removed and found again by a rescan runs
#    the plan;
#  - `systemd-analyze security probebench.service`: the exposure README.md and doc/daemon.md state;
#  - the timer fires probebench-run.service, whose record lands.
# (The watchdog, a crash and a reboot: guest/test_systemd_crash.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/systemd.sh"
need_vm

vm_run service --exec "$SD_GUEST_LIB"'
runs() { ls /var/lib/probebench/runs/*-"$1".json 2>/dev/null | wc -l; }
has_runs() { [ "$(runs "$1")" -ge "${2:-1}" ]; }
mkdir -p /etc/probebench
cat >/etc/probebench/probebench.json <<EOF
{ "plans": [ { "name": "cycle", "targets": ["0000:82:00.0"], "iterations": 3, "warmup": 1,
  "writer_nodes": [0, 1], "measure": true, "schedule": { "at_start": true } } ] }
EOF
systemctl start probebench || fail "systemctl start probebench"
systemctl show probebench -p ActiveState -p SubState -p Type -p NRestarts -p StatusText >state-start.txt
wait_for 240 has_runs cycle || fail "no run of plan cycle stored"
cp /var/lib/probebench/runs/*-cycle.json run.json
curl -sSf --max-time 20 http://127.0.0.1:9464/metrics >metrics.txt || fail "/metrics on loopback"
curl -sSf --max-time 20 http://127.0.0.1:9464/api/v1/status >status-1.json || fail "/api/v1/status"

# reload: a broken config is refused, the old one keeps running
echo "{ \"plans\": [ { \"name\": \"broken\", \"targets\": [\"0000:82:00.0\"], \"iterations\": \"abc\" } ] }" \
	>/etc/probebench/probebench.json
systemctl reload probebench || fail "systemctl reload (broken config)"
sleep 2
systemctl is-active probebench >active-after-broken.txt || true
curl -sSf --max-time 20 http://127.0.0.1:9464/api/v1/status >status-broken.json || fail "/api/v1/status after the broken reload"
# a good one: new plans, one of them on_add
cat >/etc/probebench/probebench.json <<EOF
{ "plans": [ { "name": "added", "targets": ["0000:82:00.0"], "iterations": 2, "warmup": 0,
  "writer_nodes": [1], "measure": true, "schedule": { "on_add": true } },
  { "name": "other", "targets": ["0000:84:00.0"], "iterations": 2, "schedule": { "on_add": true } } ] }
EOF
systemctl reload probebench || fail "systemctl reload (good config)"
sleep 2
curl -sSf --max-time 20 http://127.0.0.1:9464/api/v1/status >status-good.json || fail "/api/v1/status after the good reload"

# on_add through the real systemd-udevd: remove the function, rescan the bus
udevadm settle
echo 1 >/sys/bus/pci/devices/0000:82:00.0/remove
udevadm settle
echo 1 >/sys/bus/pci/rescan
udevadm settle
wait_for 240 has_runs added || fail "re-adding 0000:82:00.0 ran no plan"
cp /var/lib/probebench/runs/*-added.json added.json
systemctl show probebench -p ActiveState -p NRestarts >state-end.txt
journalctl -b -u probebench -o json --no-pager >unit-journal.json
systemd-analyze security --no-pager probebench.service >security.txt 2>&1 || true

# the timer fires the one-shot run (it stops the daemon: the two conflict)
echo "PROBEBENCH_RUN_ARGS=\"--iterations 2 --warmup 0 --json /var/lib/probebench/timed-run.json 0000:82:00.0\"" \
	>/etc/probebench/run.conf
mkdir -p /etc/systemd/system/probebench.timer.d
printf "[Timer]\nOnBootSec=\nOnUnitActiveSec=\nOnActiveSec=1s\nRandomizedDelaySec=0\n" \
	>/etc/systemd/system/probebench.timer.d/test.conf
systemctl daemon-reload
systemctl start probebench.timer || fail "systemctl start probebench.timer"
wait_for 240 test -s /var/lib/probebench/timed-run.json || fail "the timer fired no run (or it stored nothing)"
wait_for 60 sh -c "systemctl show probebench-run -p ActiveState | grep -q =inactive" || true
systemctl show probebench-run -p Result -p ExecMainStatus >timed-result.txt
cp /var/lib/probebench/timed-run.json timed-run.json
for u in probebench probebench-restore probebench-run; do
	systemctl cat $u >unit-$u.txt
done
'
expect_rc 0 "the service's checks in the guest"
d=$TEST_TMP/service
[ -s "$d/journal.txt" ] || fail "the harness brought no journal of the boot"
grep -q "ActiveState=active" "$d/state-start.txt" || fail "probebench not active after systemctl start: $(cat "$d/state-start.txt")"
grep -q "Type=notify" "$d/state-start.txt" || fail "the installed unit is not Type=notify"
grep -q "^active" "$d/active-after-broken.txt" || fail "not active after a broken reload"
grep -q "NRestarts=0" "$d/state-end.txt" || fail "the daemon restarted: $(cat "$d/state-end.txt")"
for f in run.json added.json timed-run.json; do
	validate_json "$d/$f" "$PB_SOURCE_DIR/schema/run.schema.json" || fail "$f does not validate"
done
grep -Eq '^probebench_runs_total\{plan="cycle",result="ok"\} 1$' "$d/metrics.txt" ||
	fail "/metrics has no ok run of plan cycle: $(grep runs_total "$d/metrics.txt")"
grep -q '^probebench_probe_duration_seconds' "$d/metrics.txt" || fail "/metrics has no probe durations"
grep -q "Result=success" "$d/timed-result.txt" || fail "probebench-run.service: $(cat "$d/timed-result.txt")"

"$PY" - "$d" <<'PYEOF' || fail "the service's records, reloads and journal"
import json, os, sys
d = sys.argv[1]
bad = []
def load(n):
    return json.load(open(os.path.join(d, n)))
for name, nodes in (("run.json", {0, 1}), ("added.json", {1})):
    r = load(name)
    used = r["measurement"]["used"]
    print(f"{name}: status {r['status']}, methods used {used}")
    if r["status"] != "complete":
        bad.append(f"{name}: status {r['status']}")
    if not used or not set(used) <= {"kprobe", "tracepoint"}:
        bad.append(f"{name}: methods used {used}, expected kprobe or tracepoint")
    if {i["writer_node"] for i in r["iterations"]} != nodes:
        bad.append(f"{name}: writer nodes {sorted({i['writer_node'] for i in r['iterations']})}, expected {sorted(nodes)}")
    for it in r["iterations"]:
        m = it.get("measurement") or {}
        if "missing_probe" in m or not any(p["depth"] == 0 for p in m.get("probes", [])):
            bad.append(f"{name} iteration {it['iteration']}: no probe measured: {m.get('missing_probe')}")
    for o in r["measurement"]["observers"]:
        if o["missing_probes"]:
            bad.append(f"{name}: observer of {o['target']} missed probes")
plans = lambda s: sorted(p["name"] for p in s["plans"])
if plans(load("status-broken.json")) != ["cycle"]:
    bad.append(f"after a broken reload: plans {plans(load('status-broken.json'))}, expected the old ['cycle']")
if plans(load("status-good.json")) != ["added", "other"]:
    bad.append(f"after a good reload: plans {plans(load('status-good.json'))}")
# the unit's journal: structured fields of the daemon's own messages
entries = [json.loads(l) for l in open(os.path.join(d, "unit-journal.json")) if l.strip()]
fields = [e for e in entries if e.get("PLAN") == "cycle" and e.get("DEVICE")]
print(f"journal of probebench.service: {len(entries)} entries, {len(fields)} with PLAN=cycle and DEVICE=")
if not fields:
    bad.append("no journal entry of the unit carries PLAN= and DEVICE=")
if not any("reload refused" in str(e.get("MESSAGE")) for e in entries):
    bad.append("the broken reload was not logged as refused")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF

# systemd-analyze security in the guest (systemd 252, as the unit runs): the figure the docs state
score=$(sed -n 's/.*Overall exposure level for probebench.service: \([0-9.]*\).*/\1/p' "$d/security.txt")
[ -n "$score" ] || fail "systemd-analyze security gave no score: $(tail -n 3 "$d/security.txt")"
echo "systemd-analyze security probebench.service in the guest: exposure $score; what it counts:"
grep '✗' "$d/security.txt" | sed 's/  */ /g; s/^/  /'
for doc in README.md doc/daemon.md; do
	grep -q "exposure \**$score" "$PB_SOURCE_DIR/$doc" || fail "$doc does not state the exposure $score measured in the guest"
done
echo PASS

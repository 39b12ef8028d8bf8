#!/bin/bash
# The on_add schedule: a plan with only {"on_add": true} runs nothing until a PCI "add" uevent
# for a device it names arrives. The kernel sends one for the rng function when "add" is written
# to its uevent file (a synthetic uevent: no driver is touched). A "change" uevent for the same
# device queues nothing. Without udevd the daemon listens to the kernel's own uevents. The plan
# names the function by its vendor:device id, a selector of probebench run, which the added
# device is matched against and the run resolves.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
daemon_test_setup

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
daemon_config "$WORK/c.json" "$PORT" "$WORK/runs" "$(rng_plan added 2 '{"on_add": true}' 1af4:1044)"
start_daemon "$WORK/c.json"
wait_http "$PORT"
for _ in $(seq 1 100); do grep -q 'uevents for added PCI devices' "$WORK/daemon.log" && break; sleep 0.1; done
grep -q 'uevents for added PCI devices' "$WORK/daemon.log" || { cat "$WORK/daemon.log" >&2; fail "the daemon does not watch uevents"; }

nruns() { curl -fsS "$URL/api/v1/runs" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))'; }
sleep 1
[ "$(nruns)" = 0 ] || fail "a run happened before any uevent"

echo change >"/sys/bus/pci/devices/$RNG/uevent"
sleep 2
[ "$(nruns)" = 0 ] || fail "a change uevent queued a run"

echo add >"/sys/bus/pci/devices/$RNG/uevent"
wait_runs "$PORT" 1 added
grep -q "plan added: $RNG was added; run queued" "$WORK/daemon.log" ||
	{ cat "$WORK/daemon.log" >&2; fail "the queued run is not logged"; }
latest=$(curl -fsS "$URL/api/v1/runs/latest")
echo "$latest" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "complete", d["status"]
assert len([i for i in d["iterations"] if i["outcome"] == "ok" and i["verified"]]) == 2, d["iterations"]
# plans measure by default, as probebench run does
assert d["measurement"]["enabled"] is True, d["measurement"]
avail = [m["method"] for m in d["measurement"]["availability"]["methods"] if m["available"]]
if avail:  # a method works on this machine: the plan must have used it
    assert d["measurement"]["used"], d["measurement"]["observers"]
    for i in d["iterations"]:
        assert any(p["depth"] == 0 for p in i["measurement"]["probes"]), i["measurement"]
    print("measured with", d["measurement"]["used"])
else:
    print("no measurement method works here:", d["measurement"]["availability"])
' || fail "the run after the add uevent is not complete and measured"
sleep 2
[ "$(nruns)" = 1 ] || fail "one add uevent made $(nruns) runs"
echo "PASS: an add uevent of the named device runs the on_add plan once; a change uevent does not"

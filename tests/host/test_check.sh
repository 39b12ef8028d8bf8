#!/bin/bash
# probebench check on this host: exit 0 (a report), one "STATUS NAME: detail — lost..." line per
# item, JSON valid against the schema, and statuses that agree with what the host shows.
# check must change nothing: the mount table is the same before and after.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

grep tracefs /proc/mounts >"$tmp/mounts.before" || true
"$PROBEBENCH" check >"$tmp/text" || fail "check exited $?"
"$PROBEBENCH" check --json >"$tmp/check.json" || fail "check --json exited $?"
grep tracefs /proc/mounts >"$tmp/mounts.after" || true
cmp -s "$tmp/mounts.before" "$tmp/mounts.after" || fail "check changed the tracefs mounts"

validate_json "$tmp/check.json" "$SCHEMA_DIR/check.schema.json" || fail "check JSON invalid"
lines=$(grep -cE '^(ok|limited|missing) +[a-z_]+: .+ — lost' "$tmp/text")
items=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["checks"]))' "$tmp/check.json")
[ "$lines" -eq "$items" ] || fail "$lines report lines for $items items"

kprobe=missing
{ [ -w /sys/kernel/tracing/kprobe_events ] && grep -q ' /sys/kernel/tracing tracefs' /proc/mounts; } && kprobe=ok
root=missing
[ "$(id -u)" -eq 0 ] && root=ok
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
sched=missing
grep -qE ' (__traceiter|__tracepoint)_sched_switch$' /proc/kallsyms && sched=present
[ -e /sys/kernel/tracing/events/sched/sched_switch/id ] && sched=present

"$PY" - "$tmp/check.json" "$kprobe" "$root" "$nodes" "$sched" <<'PYEOF' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
kprobe, root, nodes, sched = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
c = {i["name"]: i for i in d["checks"]}
def fail(m): print("FAIL:", m, file=sys.stderr); sys.exit(1)
for name in ("root", "perf_event_paranoid", "tracefs", "kprobe_events", "tracepoints_workqueue",
             "tracepoints_sched", "tracepoints_kmem", "numa_nodes", "udev", "bind_writes"):
    if name not in c: fail("no %s item" % name)
if c["kprobe_events"]["status"] != kprobe and not (kprobe == "missing" and c["kprobe_events"]["status"] == "limited"):
    fail("kprobe_events %s, host %s" % (c["kprobe_events"]["status"], kprobe))
if c["root"]["status"] != root: fail("root %s, host %s" % (c["root"]["status"], root))
want = "ok" if nodes >= 2 else ("limited" if nodes == 1 else None)
if want and c["numa_nodes"]["status"] != want: fail("numa_nodes %s with %d nodes" % (c["numa_nodes"]["status"], nodes))
if sched == "present" and "sched_switch" not in c["tracepoints_sched"]["detail"].split("missing")[0]:
    fail("sched_switch is in this kernel but check says %r" % c["tracepoints_sched"]["detail"])
if root == "ok" and c["bind_writes"]["status"] != "ok": fail("bind_writes %r as root" % c["bind_writes"])
s = d["summary"]
if s["ok"] + s["limited"] + s["missing"] != len(d["checks"]): fail("summary does not add up")
print("ok: %d ok, %d limited, %d missing; kprobe %s" % (s["ok"], s["limited"], s["missing"], kprobe))
PYEOF
echo PASS

# probebench placement in the two-node guest: a reader of the node-1 NVMe namespace (dd, blocked
# on a pipe after its first 4 MiB read, so it stays alive with its buffer touched) bound to node 0
# with numactl (CPUs and memory), then the same reader bound to node 1. The first is reported
# off the device's node (most of its pages on node 0, share below one half), the second on it;
# each with its pid, the namespace's node as the fd it holds, its CPUs' node and memory nodes;
# the pipe's other end (sleep) and the test's shell, which hold nothing of the device, are not
# listed; both documents validate against schema/placement.schema.json.
. "$(dirname "$0")/lib.sh"
"$PROBEBENCH" --help | grep -q '^  placement ' || skip "this build has no placement command"
numactl=$(command -v numactl) || skip "numactl not on this machine (the guest gets the host's)"
need_vm

vm_run placement --add "$numactl" --exec '
ns=$(basename "$(ls -d /sys/bus/pci/devices/0000:83:00.0/nvme/nvme*/nvme*n1 | head -n1)")
dev=/dev/$ns
echo "$dev" >dev.txt
flag=iflag=direct
dd if=$dev of=/dev/null bs=4M count=1 $flag 2>/dev/null || flag=
echo $$ >shell.pid
for node in 0 1; do
	numactl --cpunodebind=$node --membind=$node dd if=$dev bs=4M $flag 2>/dev/null | sleep 600 &
	sleep 3
	pidof dd >dd$node.pid
	pidof sleep | tr " " "\n" | grep -v "^$$\$" >sleep$node.pid
	probebench placement --json p$node.json 0000:83:00.0 >p$node.txt 2>p$node.err
	echo $? >p$node.rc
	echo "=== reader on node $node (pid $(cat dd$node.pid)), $dev"
	cat p$node.txt
	kill $(pidof dd) $(pidof sleep) 2>/dev/null
	wait
done
exit 0'
expect_rc 0 "the placement script in the guest"
for node in 0 1; do
	[ "$(cat "$vm_out/p$node.rc")" = 0 ] || { cat "$vm_out/p$node.err" >&2; fail "placement with the reader on node $node exited $(cat "$vm_out/p$node.rc")"; }
	validate_json "$vm_out/p$node.json" "$SCHEMA_DIR/placement.schema.json" ||
		fail "placement --json (reader on node $node) does not validate"
done
"$PY" - "$vm_out" <<'PYEOF' || fail "placement does not report the readers as they were placed"
import json, os, sys
out = sys.argv[1]
def read(name):
    return open(os.path.join(out, name)).read().split()
dev = read("dev.txt")[0]
shell = int(read("shell.pid")[0])
bad = []
for node in (0, 1):
    doc = json.load(open(os.path.join(out, f"p{node}.json")))
    dd = [int(p) for p in read(f"dd{node}.pid")]
    others = [int(p) for p in read(f"sleep{node}.pid")] + [shell]
    if len(dd) != 1:
        bad.append(f"node {node}: dd pids {dd}")
        continue
    d = doc["devices"][0]
    if d["numa_node"] != 1 or d["node_less"]:
        bad.append(f"device node {d['numa_node']}")
    if not any(f["name"] == dev and f["kind"] == "block" for f in d["files"]):
        bad.append(f"{dev} not among the device's files: {d['files']}")
    cons = {c["pid"]: c for c in d["consumers"]}
    for p in others:
        if p in cons:
            bad.append(f"node {node}: pid {p} ({cons[p]['comm']}) holds nothing of the device but is listed")
    c = cons.get(dd[0])
    if not c:
        bad.append(f"node {node}: the reader {dd[0]} is not listed: {sorted(cons)}")
        continue
    if not any(h["file"] == dev and h["how"] == "fd" for h in c["holds"]):
        bad.append(f"node {node}: reader holds {c['holds']}")
    pages = {b["node"]: b["pages"] for b in c["pages"]["by_node"]}
    if c["pages"]["pages"] < 1024:  # its 4 MiB buffer alone
        bad.append(f"node {node}: reader has {c['pages']['pages']} pages")
    other = 1 - node
    if pages.get(node, 0) <= pages.get(other, 0):
        bad.append(f"node {node}: reader's pages by node {pages}")
    r = c["on_device_node_ratio"]
    if (node == 0 and not r < 0.5) or (node == 1 and not r > 0.5):
        bad.append(f"node {node}: on-device-node ratio {r}")
    # numactl binds CPUs through the affinity, which Cpus_allowed_list shows, and memory through
    # the memory policy, which Mems_allowed_list (the cpuset) does not: both nodes stay allowed
    if c["cpu_nodes"] != [node] or c["mems_allowed_nodes"] != [0, 1]:
        bad.append(f"node {node}: cpu nodes {c['cpu_nodes']}, mems {c['mems_allowed_nodes']}")
    if c["policies"] != f"bind:{node}":
        bad.append(f"node {node}: policies {c['policies']!r}, numactl --membind={node} sets bind:{node}")
    if d["on_device_node_ratio"] is None:
        bad.append(f"node {node}: no device ratio")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
grep -q "^  PID " "$vm_out/p0.txt" || fail "the text output has no table"
echo PASS

#!/bin/bash
# probebench placement on the host's virtio-rng function: a reader of /dev/hwrng started here is
# listed with its pid, the fd it holds and its pages; the device has no NUMA node, so it is said to
# be node-less and no share is computed; this shell, which holds nothing of the device, is not
# listed; the JSON validates; bad selectors and options give the usual messages and exit 2.
# Read only: nothing is unbound (the rng lock keeps runs that cycle the function away meanwhile).
. "$(dirname "$0")/lib.sh"
"$PROBEBENCH" --help | grep -q '^  placement ' || skip "this build has no placement command"
need_root "reads other processes' /proc files and /dev/hwrng"
BDF=$(rng_bdf)
[ -c /dev/hwrng ] || skip "no /dev/hwrng"
[ "$(cat /sys/class/misc/hw_random/rng_current)" != none ] || skip "no current hw rng"
lock_rng
tmp=$(mktemp -d)
reader=
cleanup() {
	[ -z "$reader" ] || kill "$reader" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# A reader that keeps /dev/hwrng open with memory of its own, written when made; it says when
# it is ready by creating a file.
"$PY" -c 'import sys, time; f = open("/dev/hwrng", "rb"); f.read(64); buf = b"x" * (8 << 20); open(sys.argv[1], "w").close(); time.sleep(120)' "$tmp/ready" &
reader=$!
for _ in $(seq 100); do
	[ -e "$tmp/ready" ] && break
	sleep 0.1
done
[ -e "$tmp/ready" ] || fail "the reader did not start"
ls -l "/proc/$reader/fd" | grep -q ' -> /dev/hwrng$' || fail "the reader does not hold /dev/hwrng"

rc=0
"$PROBEBENCH" placement --json "$tmp/p.json" "$BDF" >"$tmp/out" 2>"$tmp/err" || rc=$?
cat "$tmp/out"
[ "$rc" -eq 0 ] || { cat "$tmp/err" >&2; fail "placement exited $rc"; }
! grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$tmp/err" || { cat "$tmp/err" >&2; fail "sanitizer report"; }
validate_json "$tmp/p.json" "$SCHEMA_DIR/placement.schema.json" || fail "placement --json does not validate"
grep -q "node-less" "$tmp/out" || fail "the text does not say the device is node-less"
grep -qE "^  $reader +python" "$tmp/out" || fail "the text does not list the reader $reader"
"$PY" - "$tmp/p.json" "$reader" "$$" "$BDF" <<'PYEOF' || fail "the document does not match"
import json, sys
doc = json.load(open(sys.argv[1]))
reader, shell, bdf = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
bad = []
d = doc["devices"][0]
if d["device"] != "pci/" + bdf:
    bad.append(f"device {d['device']}")
if d["numa_node"] is not None or not d["node_less"] or d["on_device_node_ratio"] is not None:
    bad.append(f"node {d['numa_node']}, node_less {d['node_less']}, ratio {d['on_device_node_ratio']}")
hw = [f for f in d["files"] if f["name"] == "/dev/hwrng"]
if not hw or not hw[0]["via"].startswith("hwrng:") or not hw[0]["owner"].startswith("virtio/"):
    bad.append(f"/dev/hwrng not attributed through the virtio child: {d['files']}")
cons = {c["pid"]: c for c in d["consumers"]}
if shell in cons:
    bad.append(f"the test's shell {shell} is listed")
c = cons.get(reader)
if not c:
    bad.append(f"the reader {reader} is not listed: {sorted(cons)}")
else:
    if not any(h["file"] == "/dev/hwrng" and h["how"] == "fd" for h in c["holds"]):
        bad.append(f"reader holds {c['holds']}")
    # its 8 MiB buffer, written when made, alone is 2048 pages of 4 KiB
    if c["pages_error"] is not None or c["pages"]["bytes"] < 8 << 20:
        bad.append(f"reader pages {c['pages']} ({c['pages_error']})")
    if sum(b["bytes"] for b in c["pages"]["by_node"]) + c["pages"]["other_nodes_bytes"] != c["pages"]["bytes"]:
        bad.append("the reader's pages by node do not add up")
    if c["on_device_node_ratio"] is not None:
        bad.append("a ratio for a node-less device")
    if not c["cpus_allowed"] or not c["cpu_nodes"]:
        bad.append(f"cpus {c['cpus_allowed']} nodes {c['cpu_nodes']}")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF

# Once the reader is gone it is not listed any more.
kill "$reader"
wait "$reader" 2>/dev/null || true
"$PROBEBENCH" placement --json - "$BDF" >"$tmp/p2.json" 2>"$tmp/err"
"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1]))["devices"][0]; sys.exit(int(sys.argv[2]) in [c["pid"] for c in d["consumers"]])' "$tmp/p2.json" "$reader" ||
	fail "the reader is listed after it exited"
reader=

# expect CODE PATTERN ARGS...
expect() {
	local code=$1 pat=$2 rc=0
	shift 2
	"$PROBEBENCH" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" -eq "$code" ] || { cat "$tmp/err" >&2; fail "'$*' exited $rc, expected $code"; }
	grep -qE -- "$pat" "$tmp/err" || { cat "$tmp/err" >&2; fail "'$*': stderr lacks /$pat/"; }
}
expect 2 "selector 'ffff:ffff' \(id\) matches no device" placement ffff:ffff
expect 2 "selector '0000:ff:1f.7' \(slot\) matches no device" placement "$BDF" 0000:ff:1f.7
expect 2 "malformed PCI address '0000:00:zz.0'" placement 0000:00:zz.0
expect 2 "needs at least one selector" placement
expect 2 "unrecognized option|invalid option" placement --bogus "$BDF"
"$PROBEBENCH" placement --help | grep -q "^Usage: probebench placement" || fail "no --help"
echo PASS

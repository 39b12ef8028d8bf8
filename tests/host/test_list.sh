#!/bin/bash
# probebench list on this host: finds the virtio-rng function by id (1af4:1044) with virtio-pci,
# its virtio child bound to virtio_rng with the function's node, inherited; the document
# validates against the schema; selectors pick the function and the child; every function lspci
# shows is listed with the same driver and the same names as lspci -vmm -nn (pci.ids, hwdb).
. "$(dirname "$0")/lib.sh"
bdf=$(rng_bdf)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rng_state() { # driver of the function, its virtio child, the child's driver
	local c
	c=$(rng_child "$bdf") || c=none
	echo "$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver" 2>/dev/null)" 2>/dev/null)" \
		"$c" "$(basename "$(readlink "/sys/bus/pci/devices/$bdf/$c/driver" 2>/dev/null)" 2>/dev/null)"
}

# Every snapshot this test reads, taken together.
snapshots() {
	"$PROBEBENCH" list --json >"$tmp/all.json" || fail "list --json exited $?"
	"$PROBEBENCH" list --json 1af4:1044 >"$tmp/id.json" || fail "list 1af4:1044 exited $?"
	"$PROBEBENCH" list --json "/sys/bus/virtio/devices/$child" >"$tmp/path.json" ||
		fail "list by the child's sysfs path exited $?"
	"$PROBEBENCH" list virtio_rng >"$tmp/text" || fail "list virtio_rng exited $?"
	"$PROBEBENCH" list >"$tmp/full.txt" || fail "list exited $?"
	lspci -D -n -k >"$tmp/lspci" 2>/dev/null || fail "lspci failed"
	lspci -vmm -D -nn >"$tmp/lspci_vmm" 2>/dev/null || fail "lspci -vmm failed"
}

# Other developers cycle the rng function (holding the shared lock while they do). list only
# reads, so it need not hold the lock: a set of snapshots counts when the function was bound,
# with its child bound to virtio_rng, before and after, and every snapshot shows that same
# child bound. After a few tries the lock is taken (bounded wait) and the last set is final.
whole() {
	local before=$1 after
	after=$(rng_state)
	[ "$before" = "$after" ] && [ "$before" = "virtio-pci $child virtio_rng" ] || return 1
	"$PY" - "$tmp" "$bdf" "$child" <<'PYEOF'
import json, os, sys
tmp, bdf, child = sys.argv[1:4]
for n in ("all", "id"):
    try:
        d = json.load(open(os.path.join(tmp, n + ".json")))
    except (OSError, ValueError):
        sys.exit(1)
    f = [f for f in d["functions"] if f["pci"]["bdf"] == bdf]
    kids = f and [c for c in f[0]["children"] if c["sysname"] == child and c["driver"] == "virtio_rng"]
    if not kids or f[0]["driver"] != "virtio-pci":
        sys.exit(1)
PYEOF
	grep -q "virtio/$child \[virtio_rng\]" "$tmp/text" "$tmp/full.txt"
}

got=no
for try in 1 2 3 4 5 6 7 8; do
	before=$(rng_state)
	child=$(echo "$before" | cut -d' ' -f2)
	if [ "$child" != none ]; then
		snapshots
		whole "$before" && { got=yes; break; }
	fi
	sleep 1
done
if [ $got = no ]; then
	exec 9>/run/lock/probebench-host-rng.lock
	flock -w "${PB_LIST_LOCK_WAIT:-300}" 9 ||
		skip "the rng function was being cycled and its lock stayed held for ${PB_LIST_LOCK_WAIT:-300} s"
	before=$(rng_state)
	[ "$before" = "virtio-pci $(rng_child "$bdf") virtio_rng" ] ||
		skip "$bdf is not bound (virtio-pci, child on virtio_rng) right now: $before"
	child=$(rng_child "$bdf")
	snapshots
	exec 9>&-
	echo "note: snapshots taken under the rng lock"
fi
fn_node=$(cat "/sys/bus/pci/devices/$bdf/numa_node")

for f in all id path; do
	validate_json "$tmp/$f.json" "$SCHEMA_DIR/inventory.schema.json" ||
		fail "$f.json does not validate against inventory.schema.json"
done

"$PY" - "$tmp" "$bdf" "$child" "$fn_node" <<'PYEOF' || exit 1
import json, sys, os, re
tmp, bdf, child, fn_node = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def fail(msg):
    print("FAIL:", msg, file=sys.stderr); sys.exit(1)
def load(n): return json.load(open(os.path.join(tmp, n + ".json")))
doc = load("all")
rng = [f for f in doc["functions"] if f["pci"]["vendor_id"] == "1af4" and f["pci"]["device_id"] == "1044"]
if len(rng) != 1: fail("expected one 1af4:1044 function, found %d" % len(rng))
f = rng[0]
if f["pci"]["bdf"] != bdf: fail("1af4:1044 is %s, sysfs says %s" % (f["pci"]["bdf"], bdf))
if f["driver"] != "virtio-pci": fail("driver %r, expected virtio-pci" % f["driver"])
want_node = fn_node if fn_node >= 0 else None
if f["numa"]["node"] != want_node or f["numa"]["source"] != "own":
    fail("function node %r/%s, sysfs numa_node %d" % (f["numa"]["node"], f["numa"]["source"], fn_node))
kids = [c for c in f["children"] if c["subsystem"] == "virtio"]
if [c["sysname"] for c in kids] != [child]: fail("virtio children %r, sysfs has %s" % ([c["sysname"] for c in kids], child))
c = kids[0]
if c["driver"] != "virtio_rng": fail("child driver %r" % c["driver"])
if c["numa"]["source"] != "inherited" or c["numa"]["from"] != bdf or c["numa"]["node"] != f["numa"]["node"]:
    fail("child node %r" % c["numa"])
if c["numa"]["own_attribute"] is not None: fail("virtio child claims its own numa_node")
if not os.path.samefile(c["syspath"], "/sys/bus/virtio/devices/" + child): fail("child syspath %s" % c["syspath"])

# Every function lspci sees, with its driver.
lsp = {}
cur = None
for line in open(os.path.join(tmp, "lspci")):
    m = re.match(r"^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ", line)
    if m: cur = m.group(1); lsp[cur] = None; continue
    m = re.match(r"^\s+Kernel driver in use: (\S+)", line)
    if m and cur: lsp[cur] = m.group(1)
ours = {g["pci"]["bdf"]: g["driver"] for g in doc["functions"]}
if ours != lsp: fail("functions/drivers differ from lspci -k: %r vs %r" % (ours, lsp))

# The same names as lspci -vmm -nn ("Name [id]"; an unknown id is "Device [id]" and the like).
unknown = {"Vendor": "Vendor", "Device": "Device", "Class": "Class", "SVendor": "Unknown vendor", "SDevice": "Device"}
keys = {"Vendor": "vendor_name", "Device": "device_name", "Class": "class_name",
        "SVendor": "subsystem_vendor_name", "SDevice": "subsystem_device_name"}
byslot = {g["pci"]["bdf"]: g["pci"] for g in doc["functions"]}
n_names = 0
for rec in open(os.path.join(tmp, "lspci_vmm")).read().split("\n\n"):
    fields = dict(l.split(":\t", 1) for l in rec.splitlines() if ":\t" in l)
    if "Slot" not in fields: continue
    pci = byslot.get(fields["Slot"])
    if pci is None: fail("lspci -vmm shows %s, list does not" % fields["Slot"])
    for k, ours_key in keys.items():
        if k not in fields: continue
        m = re.match(r"^(.*) \[[0-9a-f]+\]$", fields[k])
        theirs = m.group(1) if m else fields[k]
        mine = pci[ours_key]
        if mine is None and theirs == unknown[k]: continue
        # a class known only by its base class is named with its number, by both
        if mine != theirs and not (k == "Class" and mine == fields[k]):
            fail("%s %s: list says %r, lspci -vmm %r" % (fields["Slot"], k, mine, fields[k]))
        n_names += 1
if n_names == 0: fail("no names compared with lspci -vmm")

if doc["methods"]["children"] != "libudev": fail("subtrees read by %r" % doc["methods"]["children"])
if "probebench placement" not in doc["methods"].get("consumers", ""): fail("list --json does not point to placement: %r" % doc["methods"].get("consumers"))

# Selectors: by id only the function is selected; by path only the child.
ids = load("id")["functions"]
if len(ids) != 1 or not ids[0].get("selected") or ids[0]["children"][0].get("selected"):
    fail("list 1af4:1044 selected the wrong devices")
p = load("path")["functions"]
if len(p) != 1 or p[0].get("selected") or not [k for k in p[0]["children"] if k.get("selected")]:
    fail("list /sys/bus/virtio/devices/%s selected the wrong devices" % child)
print("ok: %s 1af4:1044 [virtio-pci] node %r, child %s [virtio_rng] inherited; %d functions as lspci, %d names as lspci -vmm" % (bdf, f["numa"]["node"], child, len(ours), n_names))
PYEOF

# The text tree: the child line, and the rng function marked as containing a selection.
grep -q "^\* \?$bdf\|^$bdf" "$tmp/text" || fail "list virtio_rng does not show $bdf"
grep -q "└─ \* virtio/$child \[virtio_rng\] node .* (inherited from $bdf)" "$tmp/text" ||
	fail "list virtio_rng does not mark virtio/$child"
"$PY" -c 'import sys; sys.exit(any(len(l.rstrip("\n")) > 100 for l in open(sys.argv[1], encoding="utf-8")))' "$tmp/full.txt" ||
	fail "a line of the tree is longer than 100 characters"

# list and check only read: no file is opened for writing, created, removed or mounted.
# (LeakSanitizer cannot run under ptrace, so it is off for these runs.)
if command -v strace >/dev/null; then
	for cmd in "list --json" "check"; do
		# shellcheck disable=SC2086
		ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=open,openat,openat2,creat,mkdir,mkdirat,unlink,unlinkat,rename,renameat,renameat2,mount,write,memfd_create,close \
			-o "$tmp/strace" "$PROBEBENCH" $cmd >/dev/null 2>&1 || fail "$cmd under strace"
		if grep -E 'O_WRONLY|O_RDWR|O_CREAT|^[0-9]+ +(creat|mkdir|unlink|rename|mount)' "$tmp/strace" |
			grep -v '/dev/null' | grep -q .; then
			grep -E 'O_WRONLY|O_RDWR|O_CREAT|creat|mkdir|unlink|rename|mount' "$tmp/strace" >&2
			fail "probebench $cmd modified something"
		fi
		# writes go to stdout, stderr, or a memory file of its own (list's part of pci.ids)
		"$PY" - "$tmp/strace" <<'PYEOF' || fail "probebench $cmd wrote to a descriptor other than stdout/stderr or its memory files"
import re, sys
memfds = set()
for line in open(sys.argv[1]):
    m = re.match(r"^(\d+) +memfd_create\(.*\) = (\d+)$", line)
    if m: memfds.add((m.group(1), m.group(2))); continue
    m = re.match(r"^(\d+) +close\((\d+)\)", line)
    if m: memfds.discard((m.group(1), m.group(2))); continue
    m = re.match(r"^(\d+) +write\((\d+),", line)
    if m and m.group(2) not in ("1", "2") and (m.group(1), m.group(2)) not in memfds:
        print(line.rstrip(), file=sys.stderr); sys.exit(1)
PYEOF
	done
else
	echo "note: strace not installed; not checking that list and check only read"
fi

# Start-up maps only what every command needs: the daemon's, the journal's and module loading's
# libraries are opened at their first use (src/lazy_libs.c), so list never maps them.
if command -v readelf >/dev/null; then
	needed=$(readelf -d "$PROBEBENCH" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	echo "$needed" | grep -q '^libpci' || fail "readelf shows no NEEDED libpci: $needed"
	echo "$needed" | grep -E '^lib(systemd|microhttpd|kmod)\.' &&
		fail "the binary names a library only some commands use"
fi
if command -v strace >/dev/null; then
	ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=openat -o "$tmp/strace.libs" \
		"$PROBEBENCH" list --json >/dev/null 2>&1 || fail "list --json under strace"
	grep -E '/lib(systemd|microhttpd|kmod)\.so' "$tmp/strace.libs" &&
		fail "list --json opened a library only other commands use"
fi

# The schema is a real check: a broken document must fail it.
"$PY" - "$tmp/all.json" "$tmp/bad.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1])); d["functions"][0]["pci"]["vendor_id"] = "1AF4x"
json.dump(d, open(sys.argv[2], "w"))
PYEOF
if validate_json "$tmp/bad.json" "$SCHEMA_DIR/inventory.schema.json" 2>/dev/null; then
	fail "the schema accepts a malformed vendor_id"
fi
echo "PASS"

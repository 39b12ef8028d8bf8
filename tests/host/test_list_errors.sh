#!/bin/bash
# Bad input to list and check: malformed selectors, a selector that matches nothing, bad options,
# an unreadable attribute in a copy of the fixture tree. Each gives a clear message naming the
# cause, the documented exit code, and no sanitizer report.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FIX="$PB_SOURCE_DIR/tests/fixtures/inventory"

# expect CODE PATTERN -- ARGS... (environment taken from the caller; TESTBED=DIR: DIR/sys at /sys)
expect() {
	local code=$1 pat=$2 rc=0
	shift 3
	if [ -n "${TESTBED:-}" ]; then
		testbed "$TESTBED" "$PROBEBENCH" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	else
		"$PROBEBENCH" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	fi
	if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$tmp/err"; then
		cat "$tmp/err" >&2
		fail "sanitizer report for: $*"
	fi
	[ "$rc" -eq "$code" ] || { cat "$tmp/err" >&2; fail "'$*' exited $rc, expected $code"; }
	grep -qE -- "$pat" "$tmp/err" || { cat "$tmp/err" >&2; fail "'$*': stderr lacks /$pat/"; }
}

expect 2 "malformed PCI address '0000:00:zz.0': Invalid slot number" -- list 0000:00:zz.0
expect 2 "malformed PCI address '0000:00:05.9': Invalid function number" -- list 0000:00:05.9
expect 2 "malformed vendor:device id '1af4:xyz1'" -- list 1af4:xyz1
expect 2 "ambiguous selector '00:05'" -- list 00:05
expect 2 "malformed selector 'a b'" -- list "a b"
expect 2 "empty selector" -- list ""
expect 2 "selector 'ffff:ffff' \(id\) matches no device" -- list --json ffff:ffff
expect 2 "selector 'no_such_driver' \(driver\) matches no device" -- list no_such_driver
expect 2 "selector '/sys/devices/nothing' \(path\) matches no device" -- list /sys/devices/nothing
# The first bad one is named, even after good ones.
expect 2 "selector '0000:ff:1f.7' \(slot\) matches no device" -- list 1af4: 0000:ff:1f.7
expect 2 "unrecognized option|invalid option" -- list --bogus
expect 2 "unrecognized option|invalid option" -- check --bogus
expect 2 "check takes no arguments" -- check extra

# An unreadable attribute: a copy of the fixture with a symlink loop for one vendor file.
mkdir "$tmp/t1" "$tmp/t2"
cp -a "$FIX/sys" "$tmp/t1/sys"
rm "$tmp/t1/sys/devices/pci0000:00/0000:00:05.0/vendor"
ln -s vendor "$tmp/t1/sys/devices/pci0000:00/0000:00:05.0/vendor"
TESTBED="$tmp/t1" expect 1 "cannot list devices: 0000:00:05.0: Cannot open .*vendor: Too many levels of symbolic links" -- list
# An attribute that opens but cannot be read, below a function.
cp -a "$FIX/sys" "$tmp/t2/sys"
mkdir "$tmp/t2/sys/devices/pci0000:80/0000:80:00.0/0000:81:00.0/nvme/nvme0/numa_node"
TESTBED="$tmp/t2" expect 1 "0000:81:00.0: cannot read .*/nvme0/numa_node: Is a directory" -- list --json
# A testbed without a sysfs tree.
TESTBED="$tmp/none" expect 1 "cannot list devices: sysfs root .*: No such file" -- list

# --help is true: exit 0 on stdout, naming every option the parser takes.
"$PROBEBENCH" list --help >"$tmp/h" || fail "list --help exited $?"
grep -q -- "--json" "$tmp/h" && grep -q "SELECTOR" "$tmp/h" || fail "list --help is incomplete"
"$PROBEBENCH" check --help >"$tmp/h" || fail "check --help exited $?"
grep -q -- "--json" "$tmp/h" || fail "check --help is incomplete"

# The fixture lists cleanly, with the same selectors working on it, its subtrees read by
# libudev as on a real system.
testbed "$FIX" "$PROBEBENCH" list --json e1000e /sys/bus/pci/devices/0000:81:00.0 \
	>"$tmp/fix.json" || fail "list over the fixture exited $?"
validate_json "$tmp/fix.json" "$SCHEMA_DIR/inventory.schema.json" || fail "fixture JSON invalid"
"$PY" - "$tmp/fix.json" <<'PYEOF' || fail "fixture selection"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["methods"]["children"] == "libudev" and d["sysfs_root"] == "/sys", (d["methods"], d["sysfs_root"])
assert [f["pci"]["bdf"] for f in d["functions"]] == ["0000:81:00.0", "0000:82:00.0"], d["functions"]
assert all(f.get("selected") for f in d["functions"])
disk = d["functions"][0]["children"][0]["children"][0]
assert disk["block"] == "nvme0n1" and disk["numa"] == {"node": 1, "source": "inherited", "from": "0000:81:00.0", "from_syspath": d["functions"][0]["syspath"], "own_attribute": None}, disk
# the verdicts run would give, from the fixture's own tree
for f in d["functions"]:
    assert "allowed" in (f.get("safety") or {}), f.get("safety")
PYEOF
echo PASS

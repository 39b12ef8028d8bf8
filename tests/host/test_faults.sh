# Faults on the host's virtio-rng function (1af4:1044, found by id): malformed, unknown and
# driverless targets are refused before any write; a driver that rejects the device (a stale
# driver_override makes virtio-pci's bind answer ENODEV) is reported with its errno and the device
# is put back on virtio-pci; a device that disappears mid-run (its PCI parent unbound under it)
# gives exit 7 and a clean journal.
. "$(dirname "$0")/lib.sh"
rng_cycle_setup


expect() { # RC PATTERN ARGS... : run must exit RC and say PATTERN on stderr
	want=$1 pat=$2
	shift 2
	rc=0
	"$PROBEBENCH" run --state-dir "$STATE" -n 3 "$@" >"$OUT/out" 2>"$OUT/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "run $*: exit $rc, expected $want: $(cat "$OUT/err")"
	grep -qi -- "$pat" "$OUT/err" || fail "run $*: no '$pat' in: $(cat "$OUT/err")"
	check_bound "run $*"
}

expect 2 "malformed" "00:05.9"
expect 2 "malformed" "0000:00:zz.0"
expect 2 "malformed" "1af4:10zz"
expect 2 "malformed" "bad name!"
expect 2 "matches no device" "/etc"
expect 2 "matches no device" "0000:ff:1f.7"
expect 2 "matches no device" "1af4:ffff"
expect 2 "matches no device" "virtio999"
# Two selectors naming the same device: one target, cycled once.
"$PROBEBENCH" run --state-dir "$STATE" --dry-run "$BDF" 1af4:1044 >"$OUT/dry2" ||
	fail "dry run of one device named twice failed"
[ "$(grep -c "target $BDF:" "$OUT/dry2")" -eq 1 ] || fail "dry run: $(cat "$OUT/dry2")"
expect 2 "below the other" "$BDF" "$(rng_child "$BDF")"
expect 2 "entry" --entry=sideways "$BDF"
expect 2 "writer-cpu" --writer-cpu 1-0 "$BDF"
expect 2 "unknown reason .no-such-reason. (reasons: mounted, .*balloon, no-driver)" --force=no-such-reason "$BDF"
# A device with no driver bound: refused (reason no-driver), nothing written.
nodrv=
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/driver" ] || { nodrv=${d##*/}; break; }
done
if [ -n "$nodrv" ]; then
	expect 3 "driver" "$nodrv"
else
	echo "no driverless PCI device here: that case not exercised"
fi
# --dry-run writes nothing and prints the verdicts
"$PROBEBENCH" run --state-dir "$STATE" --dry-run "$BDF" >"$OUT/dry" || fail "dry run failed"
grep -q "nothing written" "$OUT/dry" && grep -q "$BDF" "$OUT/dry" || fail "dry run output: $(cat "$OUT/dry")"

# A driver that rejects the device: driver_override names another driver, so virtio-pci's bind
# refuses with ENODEV. Expect: errno reported, put back on virtio-pci, exit 4 after 2 failures,
# driver_override left as it was found.
echo pb-rejecting-driver >"/sys/bus/pci/devices/$BDF/driver_override"
rc=0
"$PROBEBENCH" run --state-dir "$STATE" -n 10 -w 0 --max-failures 2 --json "$OUT/rej.json" "$BDF" \
	>/dev/null 2>"$OUT/err" || rc=$?
[ "$(cat "/sys/bus/pci/devices/$BDF/driver_override")" = pb-rejecting-driver ] ||
	fail "driver_override not restored to the value found"
echo >"/sys/bus/pci/devices/$BDF/driver_override"
[ "$rc" -eq 4 ] || fail "rejecting driver: exit $rc, expected 4: $(cat "$OUT/err")"
grep -q "No such device" "$OUT/err" && grep -q "put back" "$OUT/err" || fail "rejecting driver: $(cat "$OUT/err")"
validate_json "$OUT/rej.json" "$SCHEMA_DIR/run.schema.json" || fail "record does not validate"
"$PY" - "$OUT/rej.json" <<'PYEOF' || fail "rejecting driver record wrong"
import json, sys, errno
d = json.load(open(sys.argv[1]))
its = d["iterations"]
assert d["status"] == "failed" and d["exit_code"] == 4 and len(its) == 2, (d["status"], len(its))
for i in its:
    assert i["bind_errno"] == errno.ENODEV and i["put_back"] and i["verified"], i
    assert i["outcome"] == "bind-failed"
PYEOF
check_bound "rejecting driver"

# A device marked hung in this boot is never touched: run refuses it (and its child), restore
# skips it and says so; the same mark from another boot no longer holds.
SYSPATH=$(readlink -f "/sys/bus/pci/devices/$BDF")
hung_entry() { # BOOT_ID
	printf '{"syspath":"%s","bus":"pci","sysname":"%s","driver":"virtio-pci","driver_override":"","power_control":"%s","state":"hung","pid":1,"boot_id":"%s","time_unix_ns":0}\n' \
		"$SYSPATH" "$BDF" "$(cat "$SYSPATH/power/control")" "$1" >"$STATE/journal-${BDF//:/_}.json"
}
hung_entry "$(cat /proc/sys/kernel/random/boot_id)"
hung_entry "$(cat /proc/sys/kernel/random/boot_id)"
for t in "$BDF" "$(rng_child "$BDF")"; do
	rc=0
	"$PROBEBENCH" run --state-dir "$STATE" -n 3 "$t" >/dev/null 2>"$OUT/err" || rc=$?
	[ "$rc" -eq 1 ] && grep -q "hung" "$OUT/err" || fail "hung $t: exit $rc: $(cat "$OUT/err")"
done
rc=0
"$PROBEBENCH" restore --state-dir "$STATE" >/dev/null 2>"$OUT/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "marked hung" "$OUT/err" || fail "restore of a hung entry: exit $rc: $(cat "$OUT/err")"
ls "$STATE"/journal-* >/dev/null 2>&1 || fail "restore dropped a hung entry"
hung_entry "00000000-0000-0000-0000-000000000000"
"$PROBEBENCH" restore --state-dir "$STATE" >/dev/null || fail "a hung mark from another boot still holds"
check_bound "hung mark from another boot"

# A device that disappears mid-run: cycle the virtio child, unbind its PCI parent under it.
CHILD=$(rng_child "$BDF")
"$PROBEBENCH" run --state-dir "$STATE" -n 100000 -w 0 --interval 5ms "$CHILD" >/dev/null 2>"$OUT/gone.err" &
pid=$!
# mid-run: wait (bounded) until the run has unbound the child at least once
for _ in $(seq 1 500); do
	[ -e "/sys/bus/virtio/devices/$CHILD/driver" ] || break
	ls "$STATE"/journal-* >/dev/null 2>&1 && break
	sleep 0.01
done
echo "$BDF" >/sys/bus/pci/drivers/virtio-pci/unbind
rc=0
wait "$pid" || rc=$?
echo "$BDF" >/sys/bus/pci/drivers/virtio-pci/bind
[ "$rc" -eq 7 ] || fail "vanished device: exit $rc, expected 7: $(cat "$OUT/gone.err")"
grep -q "disappeared" "$OUT/gone.err" || fail "vanished device: $(cat "$OUT/gone.err")"
! ls "$STATE"/journal-* >/dev/null 2>&1 || fail "vanished device: journal not clean: $(ls "$STATE")"
check_bound "vanished device"
echo "PASS"

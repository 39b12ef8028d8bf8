# A sysfs write that never returns, end to end, on a fixture sysfs tree at /sys (testbed): the
# tool built on the fake kernel (probebench_fake, tests/fake/fake_sysfs.h) runs it, and the
# device's fake_behaviour makes its unbind hang until the tree is removed. (A FIFO in place of the
# unbind file no longer stands for a hang: the tool refuses it at once.)
# Expect: exit 5 within the timeout, the device marked hung in the journal, the partial record
# says "timeout", and restore skips it (exit 1) naming it. No real device is touched.
. "$(dirname "$0")/lib.sh"
FAKE=${PROBEBENCH_FAKE:-}
[ -x "$FAKE" ] || skip "no probebench_fake binary (PROBEBENCH_FAKE)"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
S=$T/sys
fn=$S/devices/pci0000:00/0000:00:05.0
mkdir -p "$fn/power" "$S/bus/pci/devices" "$S/bus/pci/drivers/virtio-pci"
: >"$fn/uevent"
echo 0x1af4 >"$fn/vendor"
echo 0x1044 >"$fn/device"
echo 0x00ff00 >"$fn/class"
: >"$fn/config"
echo -1 >"$fn/numa_node"
echo auto >"$fn/power/control"
ln -s ../../../bus/pci "$fn/subsystem"
ln -s ../../../bus/pci/drivers/virtio-pci "$fn/driver"
ln -s ../../../devices/pci0000:00/0000:00:05.0 "$S/bus/pci/devices/0000:00:05.0"
: >"$S/bus/pci/drivers/virtio-pci/bind"
: >"$S/bus/pci/drivers/virtio-pci/unbind"
: >"$S/bus/pci/drivers_probe"
: >"$S/fake_kernel.log"
echo "unbind hang" >"$fn/fake_behaviour"

# a FIFO where the unbind file belongs is refused, not waited on
mkfifo "$T/fifo"
mv "$S/bus/pci/drivers/virtio-pci/unbind" "$T/unbind"
mv "$T/fifo" "$S/bus/pci/drivers/virtio-pci/unbind"
rc=0
testbed "$T" timeout 20 "$PROBEBENCH" run --no-measure --state-dir "$T/state0" -n 1 -w 0 --timeout 200ms \
	0000:00:05.0 >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -eq 3 ] && skip "the safety policy refuses the fixture device: $(cat "$T/err")"
[ "$rc" -ne 5 ] && [ "$rc" -ne 124 ] && grep -q "unbind from virtio-pci failed" "$T/err" ||
	fail "FIFO unbind file: exit $rc: $(cat "$T/err")"
rm "$S/bus/pci/drivers/virtio-pci/unbind"
mv "$T/unbind" "$S/bus/pci/drivers/virtio-pci/unbind"

rc=0
# --no-measure: the testbed has no tracefs for an observer (and libtracefs leaks what it looked
# up when it finds none, which LeakSanitizer would report).
testbed "$T" "$FAKE" run --no-measure --state-dir "$T/state" -n 3 -w 0 --timeout 200ms \
	--json "$T/rec.json" 0000:00:05.0 >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -eq 3 ] && skip "the safety policy refuses the fixture device: $(cat "$T/err")"
[ "$rc" -eq 5 ] || fail "hung write: exit $rc, expected 5: $(cat "$T/err")"
grep -q "did not return" "$T/err" || fail "no hang report: $(cat "$T/err")"
grep -q '"state":"hung"' "$T"/state/journal-* || fail "journal does not mark the device hung"
validate_json "$T/rec.json" "$SCHEMA_DIR/run.schema.json" || fail "record does not validate"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="timeout" and d["exit_code"]==5' \
	"$T/rec.json" || fail "record status"
rc=0
testbed "$T" "$PROBEBENCH" restore --state-dir "$T/state" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "0000:00:05.0.*marked hung" "$T/err" || fail "restore: exit $rc: $(cat "$T/err")"
# a later run refuses the device outright
rc=0
testbed "$T" "$PROBEBENCH" run --no-measure --state-dir "$T/state" -n 1 0000:00:05.0 >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "hung" "$T/err" || fail "second run: exit $rc: $(cat "$T/err")"
echo PASS

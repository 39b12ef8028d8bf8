# The state directory is trusted only when nobody but root could have written it, and a journal
# entry steers root's writes only to the device it names twice (its canonical syspath and
# bus/BUS/devices/NAME). Nothing here binds or unbinds: every case is refused before a write.
#  - a state directory writable by others (0777): run and restore refuse it, naming it;
#  - a lock that is a link to another file: refused, the file keeps its bytes;
#  - a journal entry whose syspath is outside /sys/devices, or whose names climb out ("..")
#    is not taken for an entry (counted as unreadable), and nothing outside sysfs is written;
#  - an entry naming the host's rng function by bus and name but another device by syspath is
#    left alone, entry kept, exit 1.
. "$(dirname "$0")/lib.sh"
rng_cycle_setup # root, the rng lock, OUT and STATE; every case below is refused before a write

mkdir -p "$OUT/open" && chmod 0777 "$OUT/open"
rc=0
"$PROBEBENCH" restore --state-dir "$OUT/open" >"$OUT/o.txt" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q "not trusted" "$OUT/o.txt" || fail "a world-writable state directory: exit $rc, $(cat "$OUT/o.txt")"
rc=0
"$PROBEBENCH" run --state-dir "$OUT/open" -n 1 -w 0 --no-measure "$BDF" >"$OUT/o2.txt" 2>&1 || rc=$?
[ $rc != 0 ] && grep -q "not trusted" "$OUT/o2.txt" ||
	fail "run took a world-writable state directory: exit $rc, $(cat "$OUT/o2.txt")"
! ls "$OUT/open"/journal-* >/dev/null 2>&1 || fail "run wrote a journal entry there"
echo "refused: a state directory others can write to"

mkdir -p "$OUT/lnk" && chmod 0700 "$OUT/lnk"
echo "keep me" >"$OUT/victim"
ln -s "$OUT/victim" "$OUT/lnk/lock"
rc=0
"$PROBEBENCH" restore --state-dir "$OUT/lnk" >"$OUT/l.txt" 2>&1 || rc=$?
[ $rc = 1 ] || fail "a lock that is a link: exit $rc, $(cat "$OUT/l.txt")"
[ "$(cat "$OUT/victim")" = "keep me" ] || fail "the lock's link target was written"
echo "refused: a lock that is a link ($(head -1 "$OUT/l.txt"))"

entry() { # FILE SYSPATH BUS NAME DRIVER
	printf '{"syspath":"%s","bus":"%s","sysname":"%s","driver":"%s","driver_override":"","power_control":"%s","state":"cycling"}\n' \
		"$2" "$3" "$4" "$5" "$6" >"$1"
}
mkdir -p "$OUT/crafted" && chmod 0700 "$OUT/crafted"
echo "untouched" >"$OUT/target_file"
entry "$OUT/crafted/journal-a.json" "$OUT/target_file" pci "$BDF" virtio-pci on
entry "$OUT/crafted/journal-b.json" "/sys/devices/../../$OUT/target_file" pci "$BDF" virtio-pci on
entry "$OUT/crafted/journal-c.json" "/sys/devices/x" .. "$BDF" virtio-pci on
rc=0
"$PROBEBENCH" restore --state-dir "$OUT/crafted" >"$OUT/c.txt" 2>&1 || rc=$?
cat "$OUT/c.txt"
[ "$(cat "$OUT/target_file")" = "untouched" ] || fail "a crafted entry wrote to $OUT/target_file"
[ $rc = 1 ] && grep -q "3 unreadable journal file" "$OUT/c.txt" ||
	fail "the crafted entries are not reported: exit $rc, $(cat "$OUT/c.txt")"

# the rng function by bus and name, its virtio child by syspath: two devices, nothing written
child=$(rng_child "$BDF")
real=$(readlink -f "/sys/bus/virtio/devices/$child")
power=$(cat "$real/power/control")
want=$([ "$power" = on ] && echo auto || echo on)
mkdir -p "$OUT/mix" && chmod 0700 "$OUT/mix"
entry "$OUT/mix/journal-$BDF.json" "$real" pci "$BDF" virtio-pci "$want"
rc=0
"$PROBEBENCH" restore --state-dir "$OUT/mix" >"$OUT/m.txt" 2>&1 || rc=$?
cat "$OUT/m.txt"
[ $rc = 1 ] || fail "an entry naming two devices: exit $rc"
grep -q "is not /sys/bus/pci/devices/$BDF" "$OUT/m.txt" || fail "the mismatch is not named"
[ "$(cat "$real/power/control")" = "$power" ] || fail "power/control of $child was written"
[ -e "$OUT/mix/journal-$BDF.json" ] || fail "the entry was removed"
check_bound "after the refused entries"
echo PASS

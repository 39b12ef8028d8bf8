# Shared helpers for host integration tests (sourced, not run).
# The one host device a test may ever unbind is the virtio-rng function, 1af4:1044, found by id.
set -eu
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
PY=/usr/bin/python3 # Debian's python3, which has python3-jsonschema
SCHEMA_DIR="${PB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/schema"

skip() {
	echo "SKIP: $*"
	exit 77
}
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Runs CMD with the tree DIR/sys at /sys: umockdev's preload library sends the paths there, so
# the tool, libudev and libpci all read that tree, as they read /sys in production. ASan must let
# the library come first (CMakeLists.txt says why that is sound).
testbed() { # DIR CMD...
	local dir=$1
	shift
	UMOCKDEV_DIR=$dir LD_PRELOAD="${PB_UMOCKDEV_PRELOAD:-libumockdev-preload.so.0}${LD_PRELOAD:+:$LD_PRELOAD}" \
		ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" "$@"
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root: $*"
}

# Prints the sysfs name of the host's virtio-rng PCI function (1af4:1044), or skips.
rng_bdf() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1044 ] || continue
		echo "${d##*/}"
		return 0
	done
	skip "no virtio-rng PCI function (1af4:1044) on this machine"
}

# Prints the virtio child (virtioN) of the rng function.
rng_child() {
	for c in "/sys/bus/pci/devices/$1"/virtio*; do
		[ -e "$c" ] && { echo "${c##*/}"; return 0; }
	done
	return 1
}

# Serializes every test or manual run that cycles the rng function, across build trees.
lock_rng() {
	exec 9>/run/lock/probebench-host-rng.lock
	flock 9
}

# Validates a JSON document against a schema file with a real validator.
validate_json() { # FILE SCHEMA
	"$PY" - "$1" "$2" <<'PYEOF'
import json, sys, jsonschema
import glob, os
doc = json.load(open(sys.argv[1]))
schema = json.load(open(sys.argv[2]))
# Every schema of the directory, by $id, so references between them resolve offline.
store = {}
for f in glob.glob(os.path.join(os.path.dirname(os.path.abspath(sys.argv[2])), "*.schema.json")):
    s = json.load(open(f))
    if "$id" in s:
        store[s["$id"]] = s
resolver = jsonschema.RefResolver.from_schema(schema, store=store)
jsonschema.validators.validator_for(schema)(schema, resolver=resolver).validate(doc)
PYEOF
}

# For tests that cycle the rng function: needs root, takes the lock, sets BDF (the function),
# STATE (a fresh --state-dir) and OUT (a scratch directory), and on exit puts the function and its
# virtio child back on their drivers with driver_override as found, then removes both dirs.
rng_cycle_setup() {
	need_root "unbinds and rebinds the virtio-rng function"
	BDF=$(rng_bdf)
	lock_rng
	STATE=$(mktemp -d)
	OUT=$(mktemp -d)
	RNG_OVERRIDE=$(cat "/sys/bus/pci/devices/$BDF/driver_override")
	[ "$RNG_OVERRIDE" != "(null)" ] || RNG_OVERRIDE=
	trap rng_put_back EXIT
}

rng_put_back() {
	# what a run the test killed (or left behind when it failed) changed, put back by the
	# tool from the state directory before that goes: initcall_debug, instances, the journal
	"$PROBEBENCH" restore --state-dir "$STATE" >/dev/null 2>&1 || true
	echo "$RNG_OVERRIDE" >"/sys/bus/pci/devices/$BDF/driver_override" || true
	[ -e "/sys/bus/pci/devices/$BDF/driver" ] ||
		echo "$BDF" >/sys/bus/pci/drivers/virtio-pci/bind || true
	c=$(rng_child "$BDF") && [ ! -e "/sys/bus/virtio/devices/$c/driver" ] &&
		echo "$c" >/sys/bus/virtio/drivers/virtio_rng/bind || true
	rm -rf "$STATE" "$OUT"
}

# check_bound [WHAT]: the function on virtio-pci, its child on virtio_rng, the journal empty.
check_bound() {
	local what=${1:+$1: }
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$BDF/driver")")" = virtio-pci ] ||
		fail "${what}$BDF is not bound to virtio-pci"
	c=$(rng_child "$BDF") || fail "${what}$BDF has no virtio child"
	[ "$(basename "$(readlink "/sys/bus/virtio/devices/$c/driver")")" = virtio_rng ] ||
		fail "${what}$c is not bound to virtio_rng"
	! ls "$STATE"/journal-* >/dev/null 2>&1 || fail "${what}journal not empty: $(ls "$STATE")"
}

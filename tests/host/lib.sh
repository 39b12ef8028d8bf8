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

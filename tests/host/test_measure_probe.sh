#!/bin/bash
# Trace-event path on the host's virtio-rng function (1af4:1044): every iteration has a probe
# record for the PCI function and one for its virtio child, with CPU, node, task and a duration
# no longer than the bind write; pages by node add up to the total; the facts validate against
# schema/measurement.schema.json. The driver holds the rng lock and always rebinds.
. "$(dirname "$0")/lib.sh"
need_root "binds the virtio-rng function and opens system-wide perf events"
bdf=$(rng_bdf)
drv="$PB_BUILD_DIR/measure_probe_driver"
[ -x "$drv" ] || fail "measure_probe_driver not built in $PB_BUILD_DIR"
out=$(mktemp)
trap 'rm -f "$out" "$out.one"' EXIT
rc=0
"$drv" check "${PB_MEASURE_ITERATIONS:-4}" >"$out" || rc=$?
[ "$rc" -eq 77 ] && { cat "$out"; exit 77; }
[ "$(readlink "/sys/bus/pci/devices/$bdf/driver")" != "" ] || fail "$bdf left unbound"
[ "$rc" -eq 0 ] || fail "measure_probe_driver check failed ($rc)"
n=0
while read -r line; do
	printf '%s\n' "$line" >"$out.one"
	validate_json "$out.one" "$SCHEMA_DIR/measurement.schema.json" || fail "facts do not validate: $line"
	n=$((n + 1))
done <"$out"
[ "$n" -ge 1 ] || fail "no iteration facts printed"
echo "ok: $n iterations of $bdf observed, facts validated"

# The host benchmarks' device (sourced): the 1af4:1044 function (virtio-rng), the shared rng lock,
# a work directory on the real disk, and the function bound again to virtio-pci at exit.
# Sets $bdf and $work; exits 77 (SKIP) without root or without the function.
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
exec 9>/run/lock/probebench-host-rng.lock
flock 9
work=$(mktemp -d /var/tmp/pb-bench.XXXXXX) # on the real disk: journal fsyncs cost what they cost
bdf=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1044 ] && bdf=${d##*/}
done
[ -n "$bdf" ] || { echo "SKIP: no 1af4:1044 function"; exit 77; }
cleanup() {
	[ -e "/sys/bus/pci/devices/$bdf/driver" ] || echo "$bdf" >/sys/bus/pci/drivers/virtio-pci/bind || true
	rm -rf "$work"
}
trap cleanup EXIT

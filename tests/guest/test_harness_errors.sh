# The VM harness refuses clearly, with exit status 125 and without booting, when QEMU, the
# kernel image, a module or its own arguments are wrong, and says so when QEMU itself fails. Needs no QEMU and no kernel: every
# case is built from stand-ins in a temporary directory.
. "$(dirname "$0")/lib.sh"
T=$TEST_TMP

# expect_refusal WHAT PATTERN HARNESS-ARGS...: the harness must exit 125 naming PATTERN.
expect_refusal() {
	local what=$1 pattern=$2 rc=0
	shift 2
	"$VM" --probebench "$PROBEBENCH" "$@" >"$T/stdout" 2>"$T/stderr" || rc=$?
	echo "--- $what: exit $rc"
	sed 's/^/  | /' "$T/stderr"
	[ "$rc" = 125 ] || fail "$what: exit status $rc, expected 125"
	grep -q -- "$pattern" "$T/stderr" || fail "$what: the message does not say '$pattern'"
	[ ! -s "$T/stdout" ] || fail "$what: wrote to stdout"
}

: >"$T/fake-kernel"
mkdir -p "$T/mods/kernel/drivers"
# A modules tree with the virtio and NVMe modules but no e1000e.
cat >"$T/mods/modules.dep" <<'DEP'
kernel/drivers/virtio_ring.ko:
kernel/drivers/virtio.ko: kernel/drivers/virtio_ring.ko
kernel/drivers/virtio_pci.ko: kernel/drivers/virtio.ko kernel/drivers/virtio_ring.ko
kernel/drivers/virtio-rng.ko: kernel/drivers/virtio.ko kernel/drivers/virtio_ring.ko
kernel/drivers/nvme-core.ko:
kernel/drivers/nvme.ko: kernel/drivers/nvme-core.ko
DEP
for m in virtio_ring virtio virtio_pci virtio-rng nvme-core nvme; do : >"$T/mods/kernel/drivers/$m.ko"; done

expect_refusal "missing QEMU" "QEMU not found: '$T/no-qemu'" --qemu "$T/no-qemu" -- --version
expect_refusal "missing kernel" "kernel image not found: $T/no-kernel" --qemu /bin/true --kernel "$T/no-kernel" -- --version
expect_refusal "missing module" "module e1000e not found in $T/mods" \
	--qemu /bin/true --kernel "$T/fake-kernel" --modules "$T/mods" -- --version
# modules.dep names a file that is not there.
echo "kernel/drivers/e1000e.ko:" >>"$T/mods/modules.dep"
expect_refusal "module file missing" "module file missing: $T/mods/kernel/drivers/e1000e.ko" \
	--qemu /bin/true --kernel "$T/fake-kernel" --modules "$T/mods" -- --version
: >"$T/mods/kernel/drivers/e1000e.ko"
expect_refusal "a module named on the command line" "module no_such_mod not found in $T/mods" \
	--qemu /bin/true --kernel "$T/fake-kernel" --modules "$T/mods" --module no_such_mod -- --version
expect_refusal "a directory without modules.dep" "no modules tree in $T" \
	--qemu /bin/true --kernel "$T/fake-kernel" --modules "$T" -- --version
expect_refusal "missing probebench" "probebench binary not found or not executable: $T/nope" \
	--qemu /bin/true --kernel "$T/fake-kernel" --modules "$T/mods" --probebench "$T/nope" -- --version
if command -v cc >/dev/null; then
	# A binary that needs a shared library that is not there.
	echo 'int pbx(void) { return 0; }' >"$T/pbx.c"
	echo 'int pbx(void); int main(void) { return pbx(); }' >"$T/main.c"
	cc -shared -fPIC -o "$T/libpbx.so" "$T/pbx.c" && cc -o "$T/needs-lib" "$T/main.c" -L"$T" -lpbx ||
		fail "cannot build the stand-in binary"
	rm "$T/libpbx.so"
	expect_refusal "a missing shared library" "needs libraries this host lacks: *libpbx.so => not found" \
		--qemu /bin/true --kernel "$T/fake-kernel" --modules "$T/mods" --probebench "$T/needs-lib" -- --version
fi
expect_refusal "no command" "nothing to run" --qemu /bin/true --kernel "$T/fake-kernel"
expect_refusal "both --exec and arguments" "not both" --qemu /bin/true --kernel "$T/fake-kernel" --exec true -- --version
expect_refusal "a bad timeout" "whole number of seconds" --qemu /bin/true --kernel "$T/fake-kernel" --timeout 0 -- --version
expect_refusal "an unknown option" "unknown option '--bogus'" --bogus -- --version
# The guest's shape: nodes 2 to 8, CPUs a multiple of the nodes, at least 256 MiB a node.
for bad in "--nodes 1" "--nodes 9" "--nodes two" "--nodes 0"; do
	expect_refusal "$bad" "--nodes needs a whole number from 2 to 8, not '${bad#--nodes }'" $bad -- --version
done
for bad in "--cpus 0" "--cpus 256" "--cpus -4"; do
	expect_refusal "$bad" "--cpus needs a whole number from 1 to 255, not '${bad#--cpus }'" $bad -- --version
done
expect_refusal "CPUs not a multiple of the nodes" "--cpus 6 cannot be spread evenly over 4 nodes" --cpus 6 --nodes 4 -- --version
expect_refusal "CPUs not a multiple of the default nodes" "--cpus 3 cannot be spread evenly over 2 nodes" --cpus=3 -- --version
expect_refusal "too little memory a node" "--memory 768 cannot be split over 4 nodes" --nodes 4 --cpus 4 --memory 768 -- --version
expect_refusal "memory not a multiple of the nodes" "--memory 1025 cannot be split over 2 nodes" --memory 1025 -- --version
expect_refusal "memory not a number" "--memory needs a whole number of MiB, not '2G'" --memory 2G -- --version
expect_refusal "--kernel-package with --kernel" "either --kernel-package or --kernel, not both" \
	--qemu /bin/true --kernel-package 'linux-image-6.12.*+deb12-amd64-unsigned' --kernel "$T/fake-kernel" -- --version
expect_refusal "--kernel-package with --modules" "brings its own modules" \
	--qemu /bin/true --kernel-package 'linux-image-6.12.*+deb12-amd64-unsigned' --modules "$T/mods" -- --version
if command -v apt-cache >/dev/null; then
	expect_refusal "a package pattern that matches nothing" \
		"no package matches --kernel-package 'linux-image-0\.0\.\*-pb-no-such-flavour'" \
		--qemu /bin/true --kernel-package 'linux-image-0.0.*-pb-no-such-flavour' -- --version
fi

# With everything present, --check resolves the dependencies in load order and boots nothing.
"$VM" --probebench "$PROBEBENCH" --qemu /bin/true --kernel "$T/fake-kernel" --modules "$T/mods" --check >"$T/check" 2>&1 ||
	fail "--check refused a complete set-up: $(cat "$T/check")"
order=$(sed -n 's/^load order: //p' "$T/check" | tr ' ' '\n' | sed 's|.*/||')
pos() { grep -nx "$1" <<<"$order" | cut -d: -f1; }
for pair in virtio_ring.ko:virtio.ko virtio.ko:virtio_pci.ko virtio.ko:virtio-rng.ko nvme-core.ko:nvme.ko; do
	a=$(pos "${pair%%:*}") b=$(pos "${pair#*:}")
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] || fail "load order puts ${pair#*:} before ${pair%%:*}: $order"
done
[ "$(grep -c . <<<"$order")" = 7 ] || fail "load order does not list each of the 7 modules once: $order"
grep -q '^headers: none' "$T/check" || fail "--check names headers for a stand-in kernel: $(grep headers "$T/check")"

# The default kernel's headers: the directory, or the package that brings it.
if "$VM" --probebench "$PROBEBENCH" --qemu /bin/true --check >"$T/check-default" 2>&1; then
	rel=$(sed -n 's/^kernel: .* (\(.*\))$/\1/p' "$T/check-default")
	headers=$(sed -n 's/^headers: //p' "$T/check-default")
	echo "--- default kernel $rel: headers: $headers"
	case $headers in
	"/usr/src/linux-headers-$rel") [ -d "$headers" ] || fail "--check names headers that are not there: $headers" ;;
	"none (apt-get install linux-headers-$rel)") ;;
	*) fail "--check names no headers for the default kernel $rel: '$headers'" ;;
	esac
	# A QEMU that exits at once without a word: the harness says QEMU failed, not that the
	# guest ended (an empty console, no command reached). Built with the default kernel.
	expect_refusal "a QEMU that fails silently" "QEMU failed to start (exit 1: /bin/false)" \
		--qemu /bin/false -- --version
fi
echo PASS

# The guest benchmarks' set-up (sourced with a tag: `. lib/guest.sh TAG`): $PROBEBENCH required,
# $top (the source tree), $vm (the harness), $vm_args (from PB_VM_ARGS), the test bed checked
# (exits 77, SKIP, with the harness's reason when it cannot boot), and $out, a work directory
# /var/tmp/pb-TAG.XXXXXX removed at exit unless KEEP is set.
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
top=$(cd "$(dirname "$0")/.." && pwd)
vm="$top/scripts/probebench-vm"
read -r -a vm_args <<<"${PB_VM_ARGS:-}"
"$vm" --probebench "$PROBEBENCH" "${vm_args[@]}" --check >/dev/null 2>&1 || {
	echo "SKIP: the guest test bed is unavailable: $("$vm" --probebench "$PROBEBENCH" "${vm_args[@]}" --check 2>&1 >/dev/null)"
	exit 77
}
out=$(mktemp -d "/var/tmp/pb-$1.XXXXXX")
[ -n "${KEEP:-}" ] && echo "keeping $out" >&2 || trap 'rm -rf "$out"' EXIT

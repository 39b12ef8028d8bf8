#!/bin/bash
# probebench list --json against lspci -vmm -D -k -nn on this machine: both list every PCI function
# with ids, names and drivers. Runs alternate (A B, then B A, ...) so drift hits both alike; each
# run is timed by wall clock around the whole process ($EPOCHREALTIME, microseconds; includes
# exec, dynamic linking and pci.ids loading, output to /dev/null). Prints the medians and their
# ratio, and the spread of the per-round ratios (each round runs both back to back). What it
# cannot see: the split between start-up and listing, and cache effects beyond the
# first (discarded) pair.
#   PROBEBENCH=path/to/probebench RUNS=31 bench/list_vs_lspci.sh
set -eu
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary (an optimized, non-sanitizer build)}"
RUNS=${RUNS:-31}
command -v lspci >/dev/null || { echo "lspci not found (pciutils)" >&2; exit 1; }
if nm -D "$PROBEBENCH" 2>/dev/null | grep -q __asan_init; then
	echo "warning: $PROBEBENCH is built with AddressSanitizer; its times are not representative" >&2
fi

time_us() { # CMD... -> prints elapsed microseconds
	local t0 t1
	t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
	t1=$EPOCHREALTIME
	echo $(( (${t1/./} - ${t0/./}) ))
}
pb() { "$PROBEBENCH" list --json; }
ls_() { lspci -vmm -D -k -nn; }

pb >/dev/null; ls_ >/dev/null # warm caches; not counted
a=() b=()
for ((i = 0; i < RUNS; i++)); do
	if ((i % 2 == 0)); then
		a+=("$(time_us pb)"); b+=("$(time_us ls_)")
	else
		b+=("$(time_us ls_)"); a+=("$(time_us pb)")
	fi
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ma=$(median "${a[@]}")
mb=$(median "${b[@]}")
nf=$("$PROBEBENCH" list --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["functions"]))')
nl=$(lspci -D | wc -l)
echo "runs: $RUNS each, alternated; wall clock per process (EPOCHREALTIME), output to /dev/null"
echo "functions: probebench $nf, lspci $nl"
printf 'median probebench list --json:      %8.1f ms\n' "$(echo "$ma / 1000" | bc -l)"
printf 'median lspci -vmm -D -k -nn:        %8.1f ms\n' "$(echo "$mb / 1000" | bc -l)"
printf 'ratio (probebench / lspci medians): %8.2f\n' "$(echo "$ma / $mb" | bc -l)"
# The spread: each round's ratio (the pair run back to back), its quartiles and extremes.
for ((i = 0; i < RUNS; i++)); do echo "${a[i]} ${b[i]}"; done | awk '{ print $1 / $2 }' | sort -g |
	awk '{ v[NR] = $1 } END {
		i1 = int((NR + 3) / 4); i3 = int((3 * NR + 1) / 4)
		printf "per-round ratio: median %.2f, quartiles %.2f-%.2f, range %.2f-%.2f\n",
			v[int((NR + 1) / 2)], v[i1], v[i3], v[1], v[NR] }'

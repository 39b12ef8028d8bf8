#!/bin/bash
# The bash completion offers what the tool takes: every command and every long option of each
# command's --help (and of probebench-vm --help), the values of --entry, --method and --log, and
# the selectors of a machine (the inventory fixture's sysfs tree: PCI addresses, ids, drivers,
# device names), also after probebench-vm's "--".
. "$(dirname "$0")/lib.sh"
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
BC=/usr/share/bash-completion/bash_completion
[ -r "$BC" ] || skip "bash-completion is not installed"
set +eu # bash-completion's functions are not written for -e and -u
. "$BC"
. "$SRC/completion/probebench.bash"
export PB_COMPLETION_SYSFS=$SRC/tests/fixtures/inventory/sys

comp() { # FUNCTION WORDS...: the completions of the last word, as full words
	local fn=$1 w last
	shift
	# What bash hands a completion function: the line split at COMP_WORDBREAKS (':' and '='
	# are words of their own); a reply replaces only the text after the last ':'.
	COMP_WORDS=()
	for w in "$@"; do
		while [[ $w == *[:=]* ]]; do
			last=${w%%[:=]*}
			[ -n "$last" ] && COMP_WORDS+=("$last")
			COMP_WORDS+=("${w:${#last}:1}")
			w=${w:${#last}+1}
		done
		COMP_WORDS+=("$w")
	done
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	"$fn"
	last=${!#}
	[[ $last == *:* ]] && last=${last%:*}: || last=""
	printf "$last%s\n" "${COMPREPLY[@]}"
}
expect() { # WHAT WANTED-WORDS GOT
	local w
	for w in $2; do
		grep -qx -- "$w" <<<"$3" || fail "$1: $w not offered (got: $(echo $3))"
	done
}

commands=$("$PROBEBENCH" --help | help_commands)
expect "probebench" "$commands --help --version" "$(comp _probebench probebench '')"
for c in $commands; do
	want=$("$PROBEBENCH" "$c" --help | help_options | grep -- '^--')
	expect "probebench $c --" "$want" "$(comp _probebench probebench "$c" --)"
	while read -r opt vals; do
		[ -z "$opt" ] || expect "probebench $c $opt" "$vals" "$(comp _probebench probebench "$c" "$opt" '')"
	done <<<"$("$PROBEBENCH" "$c" --help | help_values)"
	echo "ok: probebench $c: $(wc -w <<<"$want") long options offered"
done
expect "--entry" "bind probe" "$(comp _probebench probebench run --entry '')"
expect "--method" "auto kprobe tracepoint kmsg" "$(comp _probebench probebench run --method '')"
expect "--log" "auto journal stderr" "$(comp _probebench probebench daemon --log '')"

# Selectors, from the fixture tree.
got=$(comp _probebench probebench run -n 5 '')
expect "run selectors" "0000:00:05.0 0000:81:00.0 1af4:1044 8086:10d3 virtio-pci e1000e nvme virtio4 eth1 nvme0" "$got"
[ "$(comp _probebench probebench list 0000:8 | sort | tr '\n' ' ')" = "0000:80:00.0 0000:81:00.0 0000:82:00.0 " ] ||
	fail "list 0000:8 offers $(comp _probebench probebench list 0000:8 | tr '\n' ' ')"
got=$(comp _probebench probebench list virtio)
expect "list virtio" "virtio-pci virtio4" "$got"
grep -qv '^virtio' <<<"$got" && fail "list virtio offers other words: $(echo $got)"
echo "ok: selectors from the fixture sysfs tree"

want=$("$SRC/scripts/probebench-vm" --help | help_options | grep -- '^--')
expect "probebench-vm" "$want" "$(comp _probebench_vm probebench-vm --)"
expect "probebench-vm -- run" "--iterations --writer-node" "$(comp _probebench_vm probebench-vm --out x -- run --)"
expect "probebench-vm --" "$commands" "$(comp _probebench_vm probebench-vm -- '')"
echo "ok: probebench-vm: $(wc -w <<<"$want") long options offered"
expect "probebench-vm" "ab" "$(comp _probebench_vm probebench-vm '')"
# ab's side options name the side for X
want=$("$SRC/scripts/probebench-vm" ab --help | help_options | sed 's/^--X-\(.*\)/--a-\1 --b-\1/')
expect "probebench-vm ab" "$want" "$(comp _probebench_vm probebench-vm ab --)"
expect "probebench-vm ab -- run" "--iterations" "$(comp _probebench_vm probebench-vm ab --a-kernel k -- run --it)"
echo "ok: probebench-vm ab: $(wc -w <<<"$want") long options offered"
[ $bad -eq 0 ] || exit 1
echo "PASS: completion offers the commands, options and selectors"

#!/bin/bash
# The man pages say what the tool says: every option a `--help` lists is described in the man
# page's section of that command, and every option the section describes is in `--help`; the
# same for probebench-vm, and for the daemon configuration's keys (schema/config.schema.json)
# in probebench.json(5). Compares the scdoc sources, so it runs without scdoc.
. "$(dirname "$0")/lib.sh"
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
MAN=$SRC/doc/man

# Option names the man page text describes: its definition lines, "*-n*, *--iterations* _N_".
man_options() {
	grep '^\*-' | grep -o -- '\*--\?[A-Za-z][A-Za-z0-9-]*\*' | tr -d '*' | sort -u
}
# The text of one section ("## NAME" up to the next heading) of a scdoc file.
section() { # FILE NAME
	awk -v want="## $2" '/^#/ { on = ($0 == want); next } on' "$1"
}
compare_sets() { # WHAT TRUTH-LIST MAN-LIST [TRUTH-NAME]
	local o
	for o in $2; do
		grep -qx -- "$o" <<<"$3" || fail "$1: $o is in ${4:---help} but not in the man page"
	done
	for o in $3; do
		grep -qx -- "$o" <<<"$2" || fail "$1: $o is in the man page but not in ${4:---help}"
	done
}

# probebench(1): the commands, then each command's options.
commands=$("$PROBEBENCH" --help | help_commands)
[ -n "$commands" ] || fail "no commands in probebench --help"
for c in $commands; do
	grep -qx "## $c" "$MAN/probebench.1.scd" || { fail "probebench(1) has no section for $c"; continue; }
	h=$("$PROBEBENCH" "$c" --help | help_options)
	[ -n "$h" ] || fail "probebench $c --help lists no option"
	m=$(section "$MAN/probebench.1.scd" "$c" | man_options)
	compare_sets "probebench $c" "$h" "$m"
	# An option's values: "--entry bind|probe" in --help is "*--entry* *bind*|*probe*" here.
	while read -r opt vals; do
		[ -n "$opt" ] || continue
		want="*$opt* *${vals// /*|*}*"
		section "$MAN/probebench.1.scd" "$c" | grep -qF -- "$want" ||
			fail "probebench $c: the man page does not give $opt the values $vals (want '$want')"
	done <<<"$("$PROBEBENCH" "$c" --help | help_values)"
	echo "ok: probebench $c: $(wc -w <<<"$h") options"
done
for s in $(sed -n 's/^## //p' "$MAN/probebench.1.scd"); do
	grep -qx "$s" <<<"$commands" || fail "probebench(1) describes $s, which probebench --help does not list"
done
h=$("$PROBEBENCH" --help | sed -n '/--help shows/,$p' | help_options)
m=$(awk '/^# DESCRIPTION/ { on = 1; next } /^#/ { on = 0 } on' "$MAN/probebench.1.scd" | man_options)
compare_sets "probebench" "$h" "$m"

# probebench-vm(1): --help against OPTIONS, ab --help against AB COMPARISONS.
vm_section() { # HEADING
	awk -v want="# $1" '/^#/ { on = ($0 == want); next } on' "$MAN/probebench-vm.1.scd"
}
h=$("$SRC/scripts/probebench-vm" --help | help_options)
m=$(vm_section OPTIONS | man_options)
[ -n "$h" ] || fail "probebench-vm --help lists no option"
compare_sets "probebench-vm" "$h" "$m"
echo "ok: probebench-vm: $(wc -w <<<"$h") options"
h=$("$SRC/scripts/probebench-vm" ab --help | help_options)
m=$(vm_section "AB COMPARISONS" | man_options)
[ -n "$h" ] || fail "probebench-vm ab --help lists no option"
compare_sets "probebench-vm ab" "$h" "$m"
echo "ok: probebench-vm ab: $(wc -w <<<"$h") options"

# probebench.json(5): the schema's keys, nested ones as parent.key, both ways.
keys=$(python3 - "$SRC/schema/config.schema.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
def fields(v):  # an object's keys, also when it may be null ("oneOf": [object, null])
    out = dict(v.get("properties", {}))
    for alt in v.get("oneOf", []) + v.get("anyOf", []):
        out.update(alt.get("properties", {}))
    return out
def props(o, prefix):
    for k, v in fields(o).items():
        if fields(v):
            props(v, prefix + k + ".")
        else:
            print(prefix + k)
props(s, "")
props(s["$defs"]["plan"], "")
PY
)
[ -n "$keys" ] || fail "no keys read from the schema"
m=$(awk '/^# (TOP-LEVEL KEYS|PLANS)$/ { on = 1; next } /^#/ { on = 0 } on' "$MAN/probebench.json.5.scd" |
	sed -n 's/^\*\([$A-Za-z_.]*\)\*.*/\1/p' | sort -u)
compare_sets "probebench.json(5)" "$(sort -u <<<"$keys")" "$m" "the schema"
# A key's enum values are named, quoted, in its paragraph ("entry" is "bind" or "probe").
enums=$(python3 - "$SRC/schema/config.schema.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for k, v in s["$defs"]["plan"]["properties"].items():
    if "enum" in v:
        print(k, " ".join(v["enum"]))
PY
)
while read -r key vals; do
	[ -n "$key" ] || continue
	para=$(awk -v want="*$key*" 'index($0, want) == 1 { on = 1 } on && /^$/ { exit } on' "$MAN/probebench.json.5.scd")
	for v in $vals; do
		grep -qF "\"$v\"" <<<"$para" || fail "probebench.json(5): $key does not name its value \"$v\""
	done
done <<<"$enums"
echo "ok: probebench.json(5): $(wc -w <<<"$keys") keys"
[ $bad -eq 0 ] || exit 1
echo "PASS: man pages match --help and the config schema"

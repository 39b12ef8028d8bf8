#!/bin/bash
# Built from a git checkout, probebench --version carries `git describe --always --dirty` of
# the tree (the project version first when no tag names a version); elsewhere the project
# version. "-dirty" is left out of the comparison: an edit after the configure step does not
# re-run it.
. "$(dirname "$0")/lib.sh"
: "${PROBEBENCH:?PROBEBENCH must name the probebench binary}"
v=$("$PROBEBENCH" --version)
project=$(sed -n 's/^project(probebench VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ -n "$project" ] || fail "no project version in CMakeLists.txt"
if top=$(git -C "$SRC" rev-parse --show-toplevel 2>/dev/null) && [ "$(realpath "$top")" = "$(realpath "$SRC")" ]; then
	d=$(git -C "$SRC" describe --always --dirty)
	d=${d%-dirty}
	case $d in
	[0-9]*.[0-9]* | v[0-9]*.[0-9]*) want=${d#v} ;;
	*) want="$project-g$d" ;;
	esac
	got=${v#probebench }
	[ "${got%-dirty}" = "$want" ] || fail "--version says '$v', git describe gives $want (built before the last commit? cmake --build re-reads it)"
else
	[ "$v" = "probebench $project" ] || fail "--version says '$v' outside a checkout, want $project"
fi
[ $bad -eq 0 ] || exit 1
echo "PASS: $v"

# shellcheck shell=bash disable=SC2034
# Shared helpers of the install tests (sourced, not run).
set -eu
SRC=${PB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bad=0
fail() {
	echo "FAIL: $*" >&2
	bad=1
}
skip() {
	echo "SKIP: $*"
	exit 77
}

# Option names in --help text: the option column of the lines that start with '-' after at most
# 8 spaces (deeper ones continue a description).
help_options() {
	sed -n 's/^ \{1,8\}\(-[^ ].*\)/\1/p' | sed 's/   .*//' |
		grep -o -- '--\?[A-Za-z][A-Za-z0-9-]*' | grep -v -- '^-[A-Za-z][A-Za-z0-9]' | sort -u
}
# The commands `probebench --help` lists.
help_commands() {
	sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}
# The value lists of options in --help text ("--entry bind|probe" -> "--entry bind probe"), one
# option a line.
help_values() {
	sed -n 's/^ \{1,8\}\(-[^ ].*\)/\1/p' | grep -o -- '--[a-z][a-z0-9-]* [a-z0-9]*\(|[a-z0-9]*\)\+' |
		tr '|' ' ' | sort -u
}

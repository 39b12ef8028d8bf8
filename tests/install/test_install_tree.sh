#!/bin/bash
# `cmake --install` of this build into a staging directory (DESTDIR), with the default prefix
# and with --prefix /usr: every path an installed unit names exists in the staging tree
# (ExecStart= and the other commands, Documentation= files and man pages), a path outside the
# package (/bin/kill) exists on this machine, and each configuration file a unit reads from
# /etc/probebench (ConditionPathExists=, EnvironmentFile=) has its example in the docs.
. "$(dirname "$0")/lib.sh"
: "${PB_BUILD_DIR:?PB_BUILD_DIR must name the build directory}"
STAGE=$(mktemp -d /tmp/pb-install-test.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT

check_tree() { # ROOT PREFIX
	local root=$1 prefix=$2 u line key val p n units=0 bad_before=$bad
	local docdir="$prefix/share/doc/probebench"
	for u in "$root"/lib/systemd/system/probebench* "$root"/usr/lib/systemd/system/probebench*; do
		[ -f "$u" ] || continue
		units=$((units + 1))
		while IFS= read -r line; do
			key=${line%%=*}
			val=${line#*=}
			case $key in
			ExecStart | ExecStartPre | ExecStartPost | ExecReload | ExecStop | ExecStopPost)
				p=${val%% *}
				p=${p#[-@!+:]}
				[ "${p#/}" != "$p" ] || { fail "${u##*/}: $key= is not an absolute path: $p"; continue; }
				case $p in
				*probebench*) [ -x "$root$p" ] || fail "${u##*/}: $key=$p is not in the tree ($prefix)" ;;
				*) [ -x "$p" ] || fail "${u##*/}: $key=$p does not exist" ;;
				esac
				;;
			Documentation)
				for p in $val; do
					case $p in
					file://*) [ -f "$root${p#file://}" ] || fail "${u##*/}: $p is not in the tree ($prefix)" ;;
					man:*)
						n=${p#man:}
						[ -f "$root$prefix/share/man/man${n: -2:1}/${n%(*}.${n: -2:1}.gz" ] ||
							fail "${u##*/}: $p is not in the tree ($prefix)"
						;;
					*) fail "${u##*/}: unexpected Documentation= $p" ;;
					esac
				done
				;;
			ConditionPathExists | EnvironmentFile)
				p=${val#-}
				case $p in
				/etc/probebench/*) [ -f "$root$docdir/examples/${p##*/}" ] ||
					fail "${u##*/}: $key=$p has no example $docdir/examples/${p##*/}" ;;
				*) fail "${u##*/}: $key=$p outside /etc/probebench" ;;
				esac
				;;
			esac
		done <"$u"
	done
	[ $units -eq 4 ] || fail "$units units installed under $root, not 4"
	[ -x "$root$prefix/bin/probebench-vm" ] || fail "no probebench-vm in $prefix/bin"
	[ -f "$root$prefix/share/probebench/schema/config.schema.json" ] || fail "no schemas in $prefix/share/probebench"
	ls "$root"/usr/share/bash-completion/completions/probebench "$root$prefix"/share/bash-completion/completions/probebench \
		>/dev/null 2>&1 || [ -n "$(find "$root" -path '*/completions/probebench')" ] || fail "no bash completion"
	[ $bad -ne $bad_before ] || echo "ok: prefix $prefix: $units units, every path they name is installed"
}

for prefix in "" /usr; do
	root=$STAGE/root${prefix//\//_}
	if [ -n "$prefix" ]; then
		DESTDIR=$root cmake --install "$PB_BUILD_DIR" --prefix "$prefix" >"$STAGE/log" 2>&1 || { cat "$STAGE/log"; fail "cmake --install --prefix $prefix"; }
	else
		DESTDIR=$root cmake --install "$PB_BUILD_DIR" >"$STAGE/log" 2>&1 || { cat "$STAGE/log"; fail "cmake --install"; }
		prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$PB_BUILD_DIR/CMakeCache.txt")
	fi
	check_tree "$root" "$prefix"
done
[ $bad -eq 0 ] || exit 1
echo "PASS: the installed units name only installed paths"

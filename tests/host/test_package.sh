#!/bin/bash
# The Debian package as a user gets it: scripts/package builds it from this tree, lintian finds
# no error in it (its warnings are printed), it has no maintainer script (nothing is enabled or
# started on install), dpkg -i installs it into this system, the installed probebench runs from
# /usr/bin, man finds its pages, bash-completion loads its completion, systemd-analyze verify is
# silent on its units, and dpkg -P removes it leaving none of its files. Never touches a device.
. "$(dirname "$0")/lib.sh"
need_root "dpkg -i"
for c in dpkg-deb dpkg-shlibdeps lintian man systemd-analyze cpack; do
	command -v $c >/dev/null || skip "$c not installed (scripts/install-deps)"
done
command -v scdoc >/dev/null || skip "scdoc not installed: no man pages to package (scripts/install-deps)"
if dpkg-query -W -f='${Status}' probebench 2>/dev/null | grep -q 'ok installed'; then
	skip "a probebench package is installed on this machine already: not replacing it"
fi
SRC=${PB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=$(mktemp -d /tmp/pb-package-test.XXXXXX)
installed=0
cleanup() {
	[ $installed -eq 0 ] || dpkg -P probebench >/dev/null 2>&1 || true
	rm -rf "$OUT"
}
trap cleanup EXIT

start=$(date +%s)
deb=$(PB_PACKAGE_BUILD_DIR="${PB_BUILD_DIR:-$OUT}/package-build" "$SRC/scripts/package" "$OUT/deb" | tail -n 1)
[ -f "$deb" ] || fail "scripts/package printed no package ($deb)"
echo "built ${deb##*/} in $(($(date +%s) - start)) s"

lintian --tag-display-limit 0 "$deb" >"$OUT/lintian" 2>&1 || true
grep -v '^running with root privileges' "$OUT/lintian" | sed 's/^/lintian: /'
grep -q '^E: ' "$OUT/lintian" && fail "lintian reports errors"
echo "ok: lintian: no errors, $(grep -c '^W: ' "$OUT/lintian") warnings"

dpkg-deb -e "$deb" "$OUT/control"
for s in preinst postinst prerm postrm config triggers; do
	[ ! -e "$OUT/control/$s" ] || fail "the package has a $s script"
done
dpkg-deb -f "$deb" Depends | grep -q libpci3 || fail "Depends lacks libpci3: $(dpkg-deb -f "$deb" Depends)"
# the libraries opened at their first use (src/lazy_libs.c) are not seen by dpkg-shlibdeps
for p in libsystemd0 libmicrohttpd12 libkmod2; do
	dpkg-deb -f "$deb" Depends | grep -qw "$p" || fail "Depends lacks $p: $(dpkg-deb -f "$deb" Depends)"
done
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's#^\./#/#' >"$OUT/contents"
for f in /usr/bin/probebench /usr/bin/probebench-vm /usr/share/man/man1/probebench.1.gz \
	/usr/share/man/man1/probebench-vm.1.gz /usr/share/man/man5/probebench.json.5.gz \
	/usr/share/bash-completion/completions/probebench /usr/share/doc/probebench/daemon.md \
	/usr/share/doc/probebench/examples/probebench.json /usr/share/probebench/schema/config.schema.json \
	/lib/systemd/system/probebench.service /lib/systemd/system/probebench-restore.service \
	/lib/systemd/system/probebench-run.service /lib/systemd/system/probebench.timer; do
	grep -qx "$f" "$OUT/contents" || fail "the package lacks $f"
done
grep -q '^/etc/' "$OUT/contents" && fail "the package puts files in /etc: $(grep '^/etc/' "$OUT/contents")"

installed=1
dpkg -i "$deb" >"$OUT/dpkg-i" 2>&1 || { cat "$OUT/dpkg-i" >&2; fail "dpkg -i"; }
dpkg -L probebench >"$OUT/files"
v=$(/usr/bin/probebench --version) || fail "/usr/bin/probebench --version"
[ "$(dpkg -S /usr/bin/probebench)" = "probebench: /usr/bin/probebench" ] || fail "/usr/bin/probebench is not the package's"
want=$(dpkg-deb -f "$deb" Version | tr + -)
[ "$v" = "probebench $want" ] || fail "--version says '$v', the package is $want"
echo "ok: $v"
/usr/bin/probebench-vm --help >/dev/null || fail "probebench-vm --help"
for page in "1 probebench" "1 probebench-vm" "5 probebench.json"; do
	# shellcheck disable=SC2086
	p=$(man -w $page) || fail "man -w $page finds nothing"
	case $p in /usr/share/man/*) ;; *) fail "man -w $page: $p" ;; esac
done
echo "ok: man -w finds probebench(1), probebench-vm(1), probebench.json(5)"
out=$(bash -c '. /usr/share/bash-completion/bash_completion; _completion_loader probebench; complete -p probebench' 2>&1) ||
	fail "bash-completion does not load the completion: $out"
echo "ok: $out"
out=$(cd / && systemd-analyze verify /lib/systemd/system/probebench.service \
	/lib/systemd/system/probebench-restore.service /lib/systemd/system/probebench-run.service \
	/lib/systemd/system/probebench.timer 2>&1) || { echo "$out" >&2; fail "systemd-analyze verify"; }
[ -z "$out" ] || { echo "$out" >&2; fail "systemd-analyze verify printed something"; }
echo "ok: systemd-analyze verify is silent on the installed units"
# Installed, not enabled: no unit of the package is wanted by anything.
en=$(find /etc/systemd/system -name 'probebench*' 2>/dev/null)
[ -z "$en" ] || fail "installing enabled units: $en"

dpkg -P probebench >"$OUT/dpkg-P" 2>&1 || { cat "$OUT/dpkg-P" >&2; fail "dpkg -P"; }
installed=0
dpkg-query -W probebench >/dev/null 2>&1 && fail "probebench is still known to dpkg after dpkg -P"
left=""
while read -r f; do
	[ -d "$f" ] && continue # directories shared with other packages stay
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done <"$OUT/files"
[ -z "$left" ] || fail "files left after dpkg -P:$left"
for d in /usr/share/doc/probebench /usr/share/probebench; do
	[ ! -e "$d" ] || fail "$d left after dpkg -P"
done
echo "ok: dpkg -P removed all $(wc -l <"$OUT/files") paths of the package"
echo "PASS: package built, installed, checked and removed in $(($(date +%s) - start)) s"

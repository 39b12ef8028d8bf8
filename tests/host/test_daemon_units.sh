#!/bin/bash
# Every unit this build generates from units/*.in passes `systemd-analyze verify` (with
# ExecStart pointed at the built binary, since it is not installed here) and the daemon unit has
# what the service needs.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed"
: "${PB_BUILD_DIR:?PB_BUILD_DIR must name the build directory}"
UNITS="$PB_BUILD_DIR/units"
BINDIR=$(sed -n 's#^ExecStart=\(/.*\)/probebench restore$#\1#p' "$UNITS/probebench-restore.service")
[ -n "$BINDIR" ] || fail "no ExecStart in $UNITS/probebench-restore.service"
WORK=$(mktemp -d /tmp/pb-units-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
for u in "$UNITS"/*.service "$UNITS"/*.timer; do
	sed "s#$BINDIR/probebench#$PROBEBENCH#g" "$u" >"$WORK/${u##*/}"
done
cd "$WORK"
for u in *.service *.timer; do
	out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "./$u" 2>&1) || { echo "$out" >&2; fail "verify $u"; }
	[ -z "$out" ] || { echo "$out" >&2; fail "verify $u printed warnings"; }
	echo "ok: systemd-analyze verify $u"
done
s="$WORK/probebench.service"
for want in '^Type=notify$' '^WatchdogSec=' '^Restart=on-failure$' '^StateDirectory=probebench$' \
	'^Documentation=' '^ExecReload=' '^NoNewPrivileges=yes$' '^ProtectSystem=strict$' \
	'^After=probebench-restore.service'; do
	grep -q "$want" "$s" || fail "probebench.service lacks $want"
done
# /sys must stay writable or no bind can happen
grep -q '^ProtectKernelTunables=yes' "$s" && fail "ProtectKernelTunables=yes makes /sys read-only"
grep -q '^Type=oneshot' "$WORK/probebench-restore.service" || fail "restore unit is not oneshot"
grep -q '^Before=.*probebench.service' "$WORK/probebench-restore.service" || fail "restore not ordered before the daemon"
grep -q '^Unit=probebench-run.service' "$WORK/probebench.timer" || fail "timer does not start the oneshot run"
# The daemon and the timed run measure probes: no SystemCallFilter= deny entry (a syscall or a
# group, expanded by systemd-analyze) may take perf_event_open away again.
in_group() { # NAME GROUP: is syscall NAME in GROUP (recursively)?
	local m
	for m in $(systemd-analyze syscall-filter --no-pager "$2" 2>/dev/null | sed -n 's/^ *\([@a-z0-9_]*\)$/\1/p'); do
		[ "$m" = "$2" ] && continue
		[ "$m" = "$1" ] && return 0
		case $m in @*) in_group "$1" "$m" && return 0 ;; esac
	done
	return 1
}
for u in probebench.service probebench-run.service; do
	grep -q '^SystemCallFilter=@system-service perf_event_open' "$WORK/$u" || fail "$u does not allow perf_event_open"
	for tok in $(sed -n 's/^SystemCallFilter=~//p' "$WORK/$u"); do
		[ "$tok" = perf_event_open ] && fail "$u denies perf_event_open"
		case $tok in @*) ! in_group perf_event_open "$tok" || fail "$u denies $tok, which holds perf_event_open" ;; esac
	done
done
score=$(systemd-analyze security --offline=true --no-pager ./probebench.service 2>&1 | sed -n 's/.*Overall exposure level for probebench.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "systemd-analyze security gave no score"
echo "systemd-analyze security --offline=true probebench.service: exposure $score"
echo "PASS: units verified"

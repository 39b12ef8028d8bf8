#!/bin/bash
# run --progress lines with stderr to a pipe (as the demo's guest console is): a line per target
# x placement as it completes and at every tenth of the run, each with done of total, elapsed
# time and ETA, as they happen; stdout keeps only the table. Without --progress, stderr to a pipe
# shows no progress (auto: the redrawn line only on a terminal). A bad mode is a usage error.
. "$(dirname "$0")/lib.sh"
rng_cycle_setup

# two placements (the writer on CPU 0 and CPU 1), 6 iterations each: 12 in all
"$PROBEBENCH" run --state-dir "$STATE" -n 6 -w 1 --no-measure --writer-cpu 0,1 --progress lines \
	"$BDF" 2> >(while IFS= read -r l; do echo "$(date +%s.%N) $l"; done >"$OUT/err") >"$OUT/out" ||
	fail "run --progress lines exited $?"
sleep 0.5 # the process substitution's last lines
check_bound "after the run"
cat "$OUT/err"
grep -q "progress" "$OUT/out" && fail "progress lines on stdout"
line='progress: (.*; )?[0-9]+/12 iterations \([0-9]+%\), elapsed [0-9.]+s, ETA [0-9.]+s$'
n_progress=$(grep -c '^[0-9.]* progress: ' "$OUT/err")
n_well_formed=$(grep -cE "^[0-9.]* $line" "$OUT/err")
[ "$n_progress" -ge 10 ] || fail "only $n_progress progress lines for 12 iterations"
[ "$n_progress" = "$n_well_formed" ] || fail "malformed progress lines"
for cpu in cpu0 cpu1; do
	grep -qE "^[0-9.]* progress: $BDF $cpu complete \(6 iterations\); 1[12]/12 iterations" "$OUT/err" ||
		fail "no line for $BDF $cpu complete"
done
grep -qE "^[0-9.]* progress: $BDF cpu1 complete \(6 iterations\); 12/12 iterations \(100%\)" "$OUT/err" ||
	fail "the last line is not 12/12"
# the lines came as the run went: done counts grow, and they were read over a span of time
"$PY" - "$OUT/err" <<'PYEOF' || fail "the progress lines did not come one by one"
import re, sys
rows = [l.split(" ", 1) for l in open(sys.argv[1]) if " progress: " in l]
done = [int(re.search(r"(\d+)/12 iterations", l).group(1)) for _, l in rows]
assert done == sorted(done) and len(set(done)) == len(done), done
t = [float(s) for s, _ in rows]
assert t[-1] - t[0] > 0.02, t  # a dozen cycles of the rng function take well over 20 ms
PYEOF

# default (auto) with stderr to a pipe: no progress at all
"$PROBEBENCH" run --state-dir "$STATE" -n 2 -w 0 --no-measure "$BDF" 2>&1 >/dev/null | cat >"$OUT/auto" ||
	fail "run exited ${PIPESTATUS[0]}"
! grep -q "progress\|iteration" "$OUT/auto" || fail "auto mode printed progress to a pipe: $(cat "$OUT/auto")"
check_bound "after the second run"

set +e
"$PROBEBENCH" run --state-dir "$STATE" -n 2 --progress sometimes "$BDF" 2>"$OUT/bad"
rc=$?
set -e
[ "$rc" = 2 ] || fail "--progress sometimes exited $rc, not 2"
grep -q "not auto, bar, lines or none" "$OUT/bad" || fail "no message for a bad --progress"
echo PASS

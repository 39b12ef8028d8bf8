#!/bin/bash
# How often does `probebench-vm ab` call identical sides different? ROUNDS (default 5) A/B runs in
# the NUMA guest with both sides the same default guest (2 boots a side, the node-1 virtio-rng
# function with the writer on each node, ITERATIONS binds a boot, kprobe), each compared by
# `probebench compare` as ab does. Prints, per round and in all: the duration and share series
# tested, how many were significant before Holm (raw p < alpha) and after it, and the share of
# rounds with any significant verdict. Goal: about alpha (0.01) or below for the verdicts; the raw
# rate shows what Holm's adjustment and the boot-to-boot variance do (a pooled test treats the
# iterations of one boot as independent: when boots differ more than iterations, raw p values
# come out too small).
# PB_VM_ARGS: extra harness options, e.g. "--kernel-package linux-image-6.12.*+deb12-amd64-unsigned".
set -eu
ROUNDS=${ROUNDS:-5} ITERATIONS=${ITERATIONS:-10}
# shellcheck source=lib/guest.sh
. "$(dirname "$0")/lib/guest.sh" abnull
for ((r = 1; r <= ROUNDS; r++)); do
	"$vm" ab --probebench "$PROBEBENCH" "${vm_args[@]}" --boots 2 --out "$out/r$r" -- \
		run 0000:82:00.0 --writer-node 0,1 --iterations "$ITERATIONS" --warmup 1 --method kprobe \
		>"$out/r$r.txt" 2>"$out/r$r.err" || { cat "$out/r$r.err" >&2; exit 1; }
done
/usr/bin/python3 - "$out" "$ROUNDS" <<'PYEOF'
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
tot = {"tests": 0, "raw": 0, "adj": 0, "rounds_any": 0}
print(f"{'round':>5} {'tests':>5} {'raw p<alpha':>11} {'verdicts':>8}   smallest adjusted p")
for r in range(1, rounds + 1):
    c = json.load(open(f"{out}/r{r}/compare.json"))
    alpha = c["alpha"]
    tests = [x for x in c["comparisons"] if x.get("p") is not None] + \
            [x for x in c["node_shares"] if x.get("p") is not None]
    raw = sum(x["p"] < alpha for x in tests)
    adj = sum(x["verdict"] not in ("no significant change", "too few samples") for x in tests)
    tot["tests"] += len(tests); tot["raw"] += raw; tot["adj"] += adj; tot["rounds_any"] += adj > 0
    print(f"{r:>5} {len(tests):>5} {raw:>11} {adj:>8}   {min(x['p_adjusted'] for x in tests):.3g}")
print(f"in all: {tot['tests']} tests at alpha {alpha}: raw p < alpha {tot['raw']} "
      f"({tot['raw'] / max(tot['tests'], 1):.3f} of tests); significant verdicts {tot['adj']}; "
      f"rounds with any {tot['rounds_any']}/{rounds} (goal: about alpha or below)")
PYEOF

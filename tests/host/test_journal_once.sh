# The journal once per device per run, as the kernel sees the real binary's system calls (strace)
# on the host's virtio-rng function (1af4:1044, found by id): the run creates its state directory
# and fsyncs the parent; the entry is written once (temporary file fsync'd, renamed, directory
# fsync'd) before the first unbind; no cycle writes the journal again; it is removed (directory
# fsync'd) after the last bind. At the PCI level with --entry bind, at the virtio level with
# --entry probe. And nothing per cycle asks libnuma whether NUMA is available (a get_mempolicy
# system call each time): fewer get_mempolicy calls in the run than cycles.
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || skip "strace is not installed"
rng_cycle_setup

traced_run() { # NAME TARGET RUN-OPTIONS...
	local name=$1 target=$2
	shift 2
	# LeakSanitizer cannot run under ptrace; the leak check is the other tests' job
	ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" strace -f -qq -y -o "$OUT/$name.trace" \
		-e trace=mkdir,mkdirat,rename,renameat,renameat2,fsync,fdatasync,unlink,unlinkat,write,get_mempolicy \
		"$PROBEBENCH" run --state-dir "$STATE/$name" --no-measure -n 20 -w 2 "$@" "$target" \
		>"$OUT/$name.txt" 2>&1 || fail "$name: run failed: $(cat "$OUT/$name.txt")"
	"$PY" - "$OUT/$name.trace" "$STATE/$name" "$target" <<'PYEOF' || fail "$name: journal writes wrong"
import re, sys
trace, state, target = sys.argv[1:]
entry = "journal-" + re.sub(r"[^A-Za-z0-9._-]", "_", target) + ".json"
# Each call at its start: a call another thread interrupts is split into "<unfinished ...>"
# (which names the call and its arguments) and "<... resumed>" (skipped).
lines = [l.split(None, 1)[1] for l in open(trace) if "(" in l and "resumed>" not in l]
def at(pred, what):
    idx = [i for i, l in enumerate(lines) if pred(l)]
    assert idx, "no " + what
    return idx
parent = state.rsplit("/", 1)[0]
mk = at(lambda l: l.startswith(("mkdir(", "mkdirat(")) and '"%s"' % state in l, "mkdir of the state directory")
fsync_parent = at(lambda l: l.startswith("fsync(") and "<%s>" % parent in l, "fsync of the state directory's parent")
assert fsync_parent[0] > mk[0], "parent fsync'd before the mkdir"
renames = at(lambda l: l.startswith("rename") and '"%s"' % entry in l, "rename onto " + entry)
assert len(renames) == 1, "%d renames onto %s, expected 1: %s" % (len(renames), entry, [lines[i] for i in renames])
r = renames[0]
tmp_fsync = [i for i, l in enumerate(lines[:r]) if l.startswith("fsync(") and "<%s/" % state in l and entry in l]
assert tmp_fsync, "the temporary file was not fsync'd before its rename"
dir_fsync = [i for i, l in enumerate(lines) if i > r and l.startswith("fsync(") and re.match(r"fsync\(\d+<%s>\)" % re.escape(state), l)]
assert dir_fsync, "the state directory was not fsync'd after the rename"
unbinds = at(lambda l: l.startswith("write(") and (re.search(r"/unbind>", l) or re.search(r"/drivers_probe>", l) or re.search(r"/bind>", l)), "unbind or bind write")
first_unbind = min(i for i in unbinds if "/unbind>" in lines[i])
assert dir_fsync[0] < first_unbind, "the entry was not durable before the first unbind"
n_unbind = sum(1 for i in unbinds if "/unbind>" in lines[i])
assert n_unbind == 22, "%d unbind writes, expected 22" % n_unbind
unlinks = at(lambda l: l.startswith(("unlink(", "unlinkat(")) and '"%s"' % entry in l, "removal of " + entry)
assert len(unlinks) == 1, "%d removals of %s" % (len(unlinks), entry)
assert unlinks[0] > max(unbinds), "entry removed before the last bind"
assert any(i > unlinks[0] and re.match(r"fsync\(\d+<%s>\)" % re.escape(state), lines[i]) for i in range(len(lines))), \
    "the state directory was not fsync'd after the removal"
n_pol = sum(1 for l in lines if l.startswith("get_mempolicy("))
assert n_pol < n_unbind, "%d get_mempolicy calls for %d cycles: something asks per cycle" % (n_pol, n_unbind)
print("%s: 1 journal write before the first of %d unbinds, 1 removal after the last bind; %d get_mempolicy calls" % (target, n_unbind, n_pol))
PYEOF
	check_bound "$name"
	! ls "$STATE/$name"/journal-* >/dev/null 2>&1 || fail "$name: journal not empty: $(ls "$STATE/$name")"
}

traced_run pci "$BDF"
traced_run virtio "$(rng_child "$BDF")" --entry probe
echo "PASS"

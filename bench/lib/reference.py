"""The reference probes recorded by bench/lib/reference.sh: really_probe per device, from the
kernel's trace buffer (trace_clock mono, so the times compare with probebench's)."""
import collections
import re

_LINE = re.compile(r'^\s*(.*)-(\d+)\s+\[(\d+)\].*?\s(\d+)\.(\d+): (probe_in|probe_out): \((.*?)\)(.*)$')


def load(path):
    """Returns ({device: [(start_ns, duration_ns)]}, number of LOST lines)."""
    stacks, ref, lost = collections.defaultdict(list), collections.defaultdict(list), 0
    for line in open(path, errors="replace"):
        m = _LINE.match(line)
        if not m:
            lost += "LOST" in line
            continue
        pid, ts = int(m.group(2)), int(m.group(4)) * 10**9 + int(m.group(5).ljust(9, "0"))
        if m.group(6) == "probe_in":
            dev = re.search(r'dev="([^"]*)"', m.group(8))
            stacks[pid].append((dev.group(1) if dev else "?", ts))
        elif stacks[pid]:
            dev, t0 = stacks[pid].pop()
            ref[dev].append((t0, ts - t0))
    return ref, lost


def pair(ref, device, start_ns, within_ns=200000):
    """The reference probe of device that started closest to start_ns, within within_ns."""
    best = min(ref.get(device, []), key=lambda r: abs(r[0] - start_ns), default=None)
    return best if best and abs(best[0] - start_ns) <= within_ns else None

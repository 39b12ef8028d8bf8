#!/usr/bin/python3
"""Compares a probebench run record with the pbtest driver's own truth.

    truth_check.py [--label NAME] RECORD.json TRUTH.txt

RECORD is what `probebench run --json` wrote (schema/run.schema.json), TRUTH the lines of
/sys/kernel/debug/pbtest/truth taken right after the run (tests/kmod/pbtest.c describes them).
Each measured iteration is matched to the truth by time: its bind window is [t0, t0 + bind_ns],
t0 = a probe's start_ns - start_offset_ns; the truth line of the target whose start_ns lies in
the window is that bind's probe, the pbtest_child lines inside that probe are its children.

What is compared, per iteration (the record's schema defines a probe's task, CPU and node as the
hop worker's when the driver's probe hopped, so that is what they are compared with):
  found            one truth line and one record probe (depth 0) for the target in the window
  ret, outcome     the probe's return value; a failed probe fails the iteration with its errno
  entry task       truth pid = the record's writer_tid (the task that entered ->probe)
  task, cpu, node  the task that ran the body: the worker when it hopped, else the entry task;
                   cpu is either CPU the task was seen on (entry/return, body start/end),
                   or another CPU of that node when the record counts a migration in the
                   probe (the record's CPU is where really_probe returned, after ->probe)
  on_device_node   whether that node is the device's
  hop, hop pid, hop cpu   whether there was a hop, and its worker
  duration         record duration_ns >= truth end_ns - start_ns (the record times really_probe,
                   which wraps ->probe; tracepoint: kernel us, 1 us tolerance)
  hop duration     record hop duration_ns >= the body's duration (same tolerance)
  pages nodeN      the probe's pages on node N in the record >= the driver's own (the record
                   may count other allocations of the probing tasks)
  children         one nested probe (depth 1) per child line, same task, CPU, node, and a
                   duration >= the child's
  deferrals        the iteration's retries = the -EPROBE_DEFER returns before the bind (since
                   the target's previous probe that did not defer)
Prints a table per writer placement (field, truth, measured, agree) and every disagreement;
exits 1 when there is any, 2 on bad input.
"""
import argparse
import json
import re
import statistics
import sys


def parse_truth(path):
    out = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            e = {}
            for kv in line.split():
                k, _, v = kv.partition("=")
                e[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
            out.append(e)
    return out


def node_of_cpu(record, cpu):
    for n in record.get("topology", {}).get("nodes", []):
        if cpu in n.get("cpus", []):
            return n["node"]
    return None


def fmt(v):
    if isinstance(v, float):
        return f"{v:.0f}"
    return "-" if v is None else str(v)


class Checker:
    def __init__(self, record, truth, label):
        self.r = record
        self.truth = truth
        self.label = label
        self.method = (record.get("options") or {}).get("method") or "?"
        self.tol = 1000 if self.method != "kprobe" else 0
        self.rows = {}  # (placement, field) -> list of (truth, measured, agree)
        self.bad = []
        # (target, placement) -> list of (->probe, measured, really_probe or None), the last
        # the driver's own kretprobe span around ->probe (None: missing)
        self.durations = {}

    def row(self, it, field, truth, measured, agree):
        key = (f"{it['target']} {it['placement']}", field)
        self.rows.setdefault(key, []).append((truth, measured, agree))
        if not agree:
            self.bad.append(f"{self.label}: {it['target']} {it['placement']} iteration {it['iteration']}: "
                            f"{field}: truth {fmt(truth)}, measured {fmt(measured)}")

    def run(self):
        its = self.r.get("iterations", [])
        if not its:
            rets = {}
            for e in self.truth:
                if e["drv"] == "pbtest":
                    rets[e["ret"]] = rets.get(e["ret"], 0) + 1
            self.bad.append(f"{self.label}: the record has no iteration (status {self.r.get('status')}, exit code "
                            f"{self.r.get('exit_code')}); the truth has {sum(rets.values())} target probes, "
                            f"returns " + ", ".join(f"{k} x{v}" for k, v in sorted(rets.items())))
        windows = []
        for it in its:
            m = it.get("measurement") or {}
            if "error" in m:
                self.row(it, "measurement", "facts", m["error"], False)
                continue
            ps = m.get("probes", [])
            if not ps:
                self.row(it, "found", "probe in the window", "no probe recorded (no window)", False)
                continue
            t0 = ps[0]["start_ns"] - ps[0]["start_offset_ns"]
            windows.append((t0, t0 + it["bind_ns"], it))
        windows.sort(key=lambda w: w[0])
        last_end = {}
        for t0, t1, it in windows:
            self.iteration(it, t0, t1, last_end.get(it["target"], 0))
            last_end[it["target"]] = t1

    def iteration(self, it, t0, t1, prev_end):
        m = it["measurement"]
        tgt = it["target"]
        ts = [e for e in self.truth if e["dev"] == tgt and e["drv"] == "pbtest" and t0 <= e["start_ns"] <= t1]
        ps = [p for p in m["probes"] if p["depth"] == 0 and p["device"] == tgt]
        self.row(it, "found", len(ts), len(ps), len(ts) == 1 and len(ps) == 1)
        if m.get("lost_records"):
            self.row(it, "lost records", 0, m["lost_records"], False)
        # deferrals: -EPROBE_DEFER returns of the target since its previous probe that did not
        # defer (warm-up cycles are not in the record but are in the truth)
        mine = [e for e in self.truth if e["dev"] == tgt and e["drv"] == "pbtest" and e["start_ns"] < t0]
        since = max([prev_end] + [e["start_ns"] for e in mine if e["ret"] != -517])
        defers = [e for e in mine if e["ret"] == -517 and e["start_ns"] > since]
        if defers or it.get("retries"):
            self.row(it, "deferrals", len(defers), it.get("retries"), len(defers) == it.get("retries"))
        if len(ts) != 1 or len(ps) != 1:
            return
        e, p = ts[0], ps[0]
        self.row(it, "ret", e["ret"], p["ret"], e["ret"] == p["ret"])
        want = "ok" if e["ret"] == 0 else f"failed errno {-e['ret']}"
        got = "ok" if it["outcome"] == "ok" else f"{it['outcome']} errno {it.get('bind_errno')}"
        self.row(it, "outcome", want, got, want == got if e["ret"] == 0 else
                 (it["outcome"] != "ok" and it.get("bind_errno") == -e["ret"]))
        self.row(it, "entry task", f"{e['pid']}/{e['comm']}", f"writer {m.get('writer_tid')}",
                 e["pid"] == m.get("writer_tid"))
        hopped = e["hop"] != "none"
        if hopped:
            task = (e["worker_pid"], e["worker_comm"])
            cpus = {e["worker_cpu"], e["worker_end_cpu"]}
            node = e["worker_node"]
        else:
            task = (e["pid"], e["comm"])
            cpus = {e["cpu"], e["end_cpu"]}
            node = e["node"]
        self.row(it, "task", f"{task[0]}/{task[1]}", f"{p['pid']}/{p['comm']}",
                 (p["pid"], p["comm"]) == task)
        # The record's CPU is the one really_probe returned on (kprobe) or logged on
        # (tracepoint), a little after ->probe returned: a task that moved in between is on
        # neither truth CPU; the record then counts the move (migrations), on the same node.
        moved = p.get("migrations", 0) > 0 and node_of_cpu(self.r, p["cpu"]) == node
        self.row(it, "cpu", "/".join(map(str, sorted(cpus))) + (" (moved)" if moved else ""),
                 p["cpu"], p["cpu"] in cpus or moved)
        self.row(it, "node", node, p["node"], p["node"] == node)
        self.row(it, "on_device_node", node == e["dev_node"], p["on_device_node"],
                 p["on_device_node"] == (node == e["dev_node"]))
        h = p.get("hop")
        self.row(it, "hop", e["hop"], h["function"] if h else "none", hopped == bool(h))
        if hopped:
            self.row(it, "hop pid", e["worker_pid"], h["pid"] if h else None, bool(h) and h["pid"] == e["worker_pid"])
            self.row(it, "hop cpu", "/".join(map(str, sorted(cpus))), h["cpu"] if h else None,
                     bool(h) and h["cpu"] in cpus)
            body = e["body_end_ns"] - e["body_start_ns"]
            if h:
                self.row(it, "hop duration ns", body, h["duration_ns"], h["duration_ns"] >= body - self.tol)
        dur = e["end_ns"] - e["start_ns"]
        self.row(it, "duration ns", dur, p["duration_ns"], p["duration_ns"] >= dur - self.tol)
        rp = self.really_probe(it, e, p, "really_probe ns")
        self.durations.setdefault((tgt, it["placement"]), []).append((dur, p["duration_ns"], rp))
        if e["pages"]:
            mem = p.get("memory") or {}
            byn = mem.get("pages_by_node") or []
            for k in sorted(x for x in e if x.startswith("pages_node")):
                n = int(k[len("pages_node"):])
                got = byn[n] if n < len(byn) else None
                self.row(it, f"pages node{n}", e[k], got, got is not None and got >= e[k])
        kids = sorted((c for c in self.truth if c["drv"] == "pbtest_child" and c["parent"] == tgt
                       and e["start_ns"] <= c["start_ns"] <= e["end_ns"]), key=lambda c: c["start_ns"])
        nested = sorted((q for q in m["probes"] if q["depth"] >= 1), key=lambda q: q["start_ns"])
        if kids or nested:
            self.row(it, "children", len(kids), len(nested), len(kids) == len(nested))
        for i, c in enumerate(kids):
            q = next((q for q in nested if q["device"] == c["dev"]), None)
            if q is None and len(nested) == len(kids):
                q = nested[i] if nested[i]["device"] is None else None
            if q is None:
                self.row(it, "child found", c["dev"], None, False)
                continue
            self.row(it, "child depth", 1, q["depth"], q["depth"] == 1)
            self.row(it, "child task", f"{c['pid']}/{c['comm']}", f"{q['pid']}/{q['comm']}",
                     (q["pid"], q["comm"]) == (c["pid"], c["comm"]))
            ccpus = {c["cpu"], c["end_cpu"]}
            # as for the parent: a child's task that moved after its ->probe returned is on
            # neither truth CPU, and the record counts the move on the same node
            cmoved = q.get("migrations", 0) > 0 and node_of_cpu(self.r, q["cpu"]) == c["node"]
            self.row(it, "child cpu", "/".join(map(str, sorted(ccpus))) + (" (moved)" if cmoved else ""),
                     q["cpu"], q["cpu"] in ccpus or cmoved)
            self.row(it, "child node", c["node"], q["node"], q["node"] == c["node"])
            cd = c["end_ns"] - c["start_ns"]
            self.row(it, "child duration ns", cd, q["duration_ns"], q["duration_ns"] >= cd - self.tol)
            self.really_probe(it, c, q, "child really_probe ns")

    def really_probe(self, it, e, p, field):
        """The driver's own really_probe span (its kretprobe) against the measured duration.

        probebench's kprobe is registered after the driver's: its entry handler runs first and
        its return handler last, so its span holds the driver's (tolerance 0); initcall_debug's
        microseconds are truncated (tolerance 1 us). A probe without the span (the kretprobe not
        armed, or missed) disagrees."""
        if not e.get("rp_start_ns") or not e.get("rp_end_ns"):
            self.row(it, field, "span", "none in the driver's truth (kretprobe not armed?)", False)
            return None
        rp = e["rp_end_ns"] - e["rp_start_ns"]
        self.row(it, field, rp, p["duration_ns"], p["duration_ns"] >= rp - self.tol)
        return rp

    def report(self):
        print(f"== {self.label} (method {self.method})")
        last = None
        for (cell, field), vals in self.rows.items():
            if cell != last:
                print(f"  {cell}")
                print(f"    {'field':<18} {'truth':>24} {'measured':>28}  agree")
                last = cell
            n_ok = sum(1 for v in vals if v[2])
            tv = [v[0] for v in vals]
            mv = [v[1] for v in vals]

            def summary(xs):
                if all(isinstance(x, int) and not isinstance(x, bool) for x in xs) and field.endswith("ns"):
                    return f"p50 {statistics.median(xs):.0f}"
                s = sorted({fmt(x) for x in xs})
                return ",".join(s) if len(s) <= 3 else ",".join(s[:3]) + ",..."
            agree = "yes" if n_ok == len(vals) else f"no ({len(vals) - n_ok}/{len(vals)})"
            print(f"    {field:<18} {summary(tv):>24} {summary(mv):>28}  {agree}")
        for (tgt, pl), ds in sorted(self.durations.items()):
            t = statistics.median(d[0] for d in ds)
            mm = statistics.median(d[1] for d in ds)
            diff = statistics.median(d[1] - d[0] for d in ds)
            rps = [d for d in ds if d[2] is not None]
            rp = (f", really_probe p50 {statistics.median(d[2] for d in rps) / 1e3:.1f} us, measured - "
                  f"really_probe p50 {statistics.median(d[1] - d[2] for d in rps) / 1e3:.1f} us" if rps else "")
            print(f"  DURATION {self.label} {self.method} {tgt} {pl}: truth p50 {t / 1e3:.1f} us, "
                  f"measured p50 {mm / 1e3:.1f} us, measured - truth p50 {diff / 1e3:.1f} us{rp} (n={len(ds)})")
        for b in self.bad:
            print(f"  DISAGREE {b}")
        print(f"  {self.label}: {'all agree' if not self.bad else f'{len(self.bad)} disagreements'}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--label", default=None)
    ap.add_argument("record")
    ap.add_argument("truth")
    a = ap.parse_args()
    try:
        record = json.load(open(a.record))
        truth = parse_truth(a.truth)
    except (OSError, ValueError) as ex:
        print(f"truth_check: {ex}", file=sys.stderr)
        return 2
    c = Checker(record, truth, a.label or a.record)
    c.run()
    c.report()
    return 1 if c.bad else 0


if __name__ == "__main__":
    sys.exit(main())

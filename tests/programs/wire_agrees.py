#!/usr/bin/env python3
"""The wire's view and punchlab-node's own path events agree.

Runs a library scenario with punchlab's own nodes in the real lab
(`punchlab run --real`) and holds what the nodes said (results.json
`timeline`: their path events) against what the lab's wire carried between
them (`wire`: packets delivered per 100 ms, by path):

* while both nodes say direct (from 1 s after they switched to the end), the
  wire delivers packets directly both ways in every second;
* a pair the nodes keep on DERP gets no packet directly at all, either way;
* the wire's first second with direct packets both ways is no later than
  1 s after the nodes' switch (disco pings cross before it: earlier is fine).

Usage: wire_agrees.py PUNCHLAB OUT_DIR SCENARIO...   (root; exit 1 on any
disagreement, naming it)
"""

import json
import os
import subprocess
import sys


def pair_state(timeline, a, b):
    """[(t, state)] for the pair from the nodes' own events (not the wire's)."""
    paths = {a: "none", b: "none"}
    out = []
    for e in timeline:
        if e["reason"] == "wire" or {e["node"], e["peer"]} != {a, b}:
            continue
        paths[e["node"]] = e["path"]
        state = paths[a] if paths[a] == paths[b] else "mixed"
        if not out or out[-1][1] != state:
            out.append((e["t_s"], state))
    return out


def check(results):
    problems = []
    nodes = sorted({e["node"] for e in results["timeline"]})
    a, b = nodes[0], nodes[1]
    stop = results["stop_time_s"]
    states = pair_state(results["timeline"], a, b)
    wire = results.get("wire", [])
    if not wire:
        return ["results.json has no wire samples"]
    direct = {(a, b): set(), (b, a): set()}
    for t, src, dst, path, packets, _ in wire:
        if path in ("direct", "local") and (src, dst) in direct:
            direct[(src, dst)].add(int(t))
    both = sorted(direct[(a, b)] & direct[(b, a)])
    switched = next((t for t, s in states if s == "direct"), None)
    if switched is None:
        if direct[(a, b)] or direct[(b, a)]:
            first = min(direct[(a, b)] | direct[(b, a)])
            problems.append("the nodes never went direct, but the wire delivered packets "
                            "directly from %ds on" % first)
        return problems
    if not both or both[0] > switched + 1:
        problems.append("the nodes went direct at %.3fs, the wire carried packets directly "
                        "both ways only from %s" % (switched, both[0] if both else "never"))
    end_direct = next((t for t, s in states if t > switched and s != "direct"), stop - 1)
    for second in range(int(switched) + 1, int(end_direct)):
        for way in ((a, b), (b, a)):
            if second not in direct[way]:
                problems.append("at %ds the nodes were direct, but the wire delivered nothing "
                                "directly from %s to %s" % (second, way[0], way[1]))
    return problems


def main():
    punchlab, out = sys.argv[1], sys.argv[2]
    failed = False
    for scenario in sys.argv[3:]:
        name = os.path.splitext(os.path.basename(scenario))[0]
        here = os.path.join(out, name)
        subprocess.run([punchlab, "run", "--real", "--quiet", "--out", here, scenario])
        found = [os.path.join(here, d, "results.json") for d in sorted(os.listdir(here))
                 if os.path.isfile(os.path.join(here, d, "results.json"))] if os.path.isdir(here) else []
        if len(found) != 1:
            print("%s: no results.json in %s" % (name, here))
            failed = True
            continue
        with open(found[0]) as f:
            problems = check(json.load(f))
        for p in problems:
            print("%s: %s" % (name, p))
        print("%s: the wire and the nodes %s" % (name, "disagree" if problems else "agree"))
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

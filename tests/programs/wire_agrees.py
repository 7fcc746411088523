#!/usr/bin/env python3
"""The wire's view and punchlab-node's own path events agree.

Runs a library scenario with punchlab's own nodes in the real lab
(`punchlab run --real`) and holds what the nodes said (results.json
`timeline`: their path events) against what the lab's wire carried between
them (`wire`: packets delivered per 100 ms, by path):

* while both nodes say direct (from 1 s after they switched, or after their
  WireGuard session could first carry data if that came later, to the end),
  the wire delivers packets directly both ways in every second;
* a pair the nodes keep on DERP gets no packet directly at all, either way;
* the wire's first second with direct packets both ways is no later than
  1 s after the nodes' switch (disco pings cross before it: earlier is fine).

Data waits for WireGuard's handshake, not for the path: the nodes' path is
disco's, and when both peers' first handshake initiations cross (their
first sends within a one-way delay of each other), both answer, neither
session confirms, and data stays staged until a retry gets through
(REKEY_TIMEOUT, 5 s, per try; phase-locked senders retry on the same tick
and can cross again; bench/README.md "Real wireguard-go collides the same
way"). The session carries data from the first "initiated, response came"
in the nodes' disco log (the initiator sends at once, which confirms the
responder). A direct pair whose session never completes is a disagreement.
This script judges the path, not the scenario's expectations (the run's
own verdict, printed above its lines, is not held here): a crossing makes
full--full's time to direct 10-26 s in the lab where its file says at most
8 s, a known fault of the traffic's start turns (bench/README.md, session
11), which the library's simulated runs (library.*, library-seeds.*) and
`punchlab compare` judge.
(Relayed packets while direct are not an error here: the wire tells paths
by address, and the nodes' periodic STUN to the DERP server's address looks
like relaying to it.)

Usage: wire_agrees.py PUNCHLAB OUT_DIR SCENARIO...   (root; exit 1 on any
disagreement, naming it)
"""

import json
import os
import re
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
    flowing = data_flows_from(results, a, b)
    if flowing is None:
        # Crossed initiations end at a retry within seconds on a direct path
        # (bench/README.md); a direct pair whose session never completed is
        # a data plane that never worked, whatever the path.
        problems.append("the nodes were direct from %.3fs, but no WireGuard handshake between "
                        "them ever completed: no data could flow" % switched)
        return problems
    for way in ((a, b), (b, a)):
        silent = [s for s in range(int(max(switched, flowing)) + 1, int(end_direct))
                  if s not in direct[way]]
        if silent:
            problems.append("the nodes were direct and their session carried data (from %.3fs), "
                            "but the wire delivered nothing directly from %s to %s in second(s) "
                            "%s" % (flowing, way[0], way[1], seconds_text(silent)))
    return problems


def seconds_text(seconds):
    return ", ".join(str(s) for s in seconds)


def data_flows_from(results, a, b):
    """When the pair's data can flow: 0 without WireGuard (the sealed frame
    needs no handshake; no handshake in the disco log), else the first
    handshake an initiator completed; None if none ever did."""
    handshakes = [e for e in results.get("disco_log", [])
                  if e["what"] == "handshake" and {e["node"], e["peer"]} == {a, b}]
    if not handshakes:
        return 0.0
    done = [e["t_s"] for e in handshakes if "initiated, response came" in e["reason"]]
    return min(done) if done else None


def explain(results, out=None):
    """What a failing run's wire and nodes did, second by second, so that a
    failure in CI (whose results directory is gone) says its cause."""
    out = out or sys.stdout
    nodes = sorted({e["node"] for e in results["timeline"]})
    a, b = nodes[0], nodes[1]
    per = {}
    for t, src, dst, path, packets, _ in results.get("wire", []):
        if {src, dst} == {a, b}:
            key = (int(t), "a>b" if src == a else "b>a", path)
            per[key] = per.get(key, 0) + packets
    stop = int(results["stop_time_s"])
    print("  the wire, second by second from 0s (D direct, R relayed, B both, . nothing) and "
          "its direct packets per second:", file=out)
    for way, src in (("a>b", a), ("b>a", b)):
        marks = ""
        counts = []
        for second in range(stop + 1):
            d = per.get((second, way, "direct"), 0) + per.get((second, way, "local"), 0)
            r = per.get((second, way, "derp"), 0)
            marks += "B" if d and r else "D" if d else "R" if r else "."
            counts.append(str(d))
        print("   %s %s" % (src, marks), file=out)
        print("   %s %s" % (" " * len(src), " ".join(counts)), file=out)
    print("  the nodes' own path events:", file=out)
    for e in results["timeline"]:
        if e["reason"] != "wire":
            print("   %.3fs %s->%s %s (%s: %s)" % (e["t_s"], e["node"], e["peer"], e["path"],
                                             e["reason"], e["detail"]), file=out)
    print("  their WireGuard handshakes (data flows from %s):" % data_flows_from(results, a, b),
          file=out)
    for e in results.get("disco_log", []):
        if e["what"] == "handshake" and {e["node"], e["peer"]} == {a, b}:
            print("   %.3fs %s via %s: %s" % (e["t_s"], e["node"], e["via"], e["reason"]), file=out)
    for group, counters in sorted(results.get("counters", {}).items()):
        if group.startswith(("node/", "link/node-", "link/nat-", "derp/")):
            print("  %s: %s" % (group, ", ".join("%s=%s" % kv for kv in sorted(counters.items())
                                                 if kv[1])), file=out)
    for note in results.get("notes", []):
        if not re.search(r"\.yaml:\d+:\d+: nat ", note):  # not the NATs' standing differences
            print("  note: %s" % note, file=out)


def main():
    punchlab, out = sys.argv[1], sys.argv[2]
    failed = False
    failures = []
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
        if problems:
            failures.append((name, found[0]))
        print("%s: the wire and the nodes %s" % (name, "disagree" if problems else "agree"))
        failed = failed or bool(problems)
    # Last, so that the end of a CI log (often all that is kept) holds it.
    for name, path in failures:
        print("%s: what the wire and the nodes did (%s):" % (name, path))
        with open(path) as f:
            explain(json.load(f))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Real tailscaled against punchlab's simulated core, cell by cell.

    agree.py SIM_MATRIX_DIR REAL_MATRIX_DIR [--markdown FILE]

SIM_MATRIX_DIR: `punchlab matrix` (simulation) of the same NAT presets;
REAL_MATRIX_DIR: `punchlab matrix --real --program tailscaled.run --service
control=testcontrol.run`. Prints one table: per cell the path at the end in
both, and the time to direct side by side: the simulation's (first probe to
the first direct round trip), the lab wire's (first packet between the two
tailscaleds to the first instant both sides' packets reached each other
directly) and Tailscale's own (`tailscale ping` from its first ping to its
first direct pong, the later of the two sides). Exit 1 when a cell's path
differs or a real cell did not run; every real cell must be in the
simulated grid.
"""
import json
import os
import re
import sys

DIRECT_AFTER = re.compile(r"^tailscale ping: direct after (\d+) ms")


def load(directory):
    """The grid's cells by (a, b), in the grid's order."""
    with open(os.path.join(directory, "matrix.json")) as f:
        return {(c["a"], c["b"]): c for c in json.load(f)}


def own_time_to_direct(real_dir, cell):
    """Tailscale's own time to direct, seconds: the later side's, or None."""
    logs = None
    for root, dirs, _ in os.walk(os.path.join(real_dir, cell["results"])):
        if "lab-logs" in dirs:
            logs = os.path.join(root, "lab-logs")
            break
    if logs is None:
        return None
    times = []
    for side in ("alice", "bob"):
        found = None
        path = os.path.join(logs, "node-%s.0.out" % side)
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                for line in f:
                    m = DIRECT_AFTER.match(line)
                    if m:
                        found = int(m.group(1)) / 1000.0
                        break
        if found is None:
            return None
        times.append(found)
    return max(times)


def seconds(value):
    return "-" if value is None else "%.1fs" % value


def main(argv):
    if len(argv) not in (3, 5) or (len(argv) == 5 and argv[3] != "--markdown"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    sim_dir, real_dir = argv[1], argv[2]
    sim, real = load(sim_dir), load(real_dir)
    lines = [
        "| alice | bob | path (sim) | path (tailscaled) | agree | time to direct (sim) "
        "| time to direct (wire) | time to direct (tailscale ping) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    disagree = []
    for (a, b), r in real.items():
        s = sim.get((a, b))
        if s is None:
            disagree.append("%s -- %s: not in the simulated grid" % (a, b))
            continue
        same = s["path"] == r["path"]
        if not same:
            disagree.append("%s -- %s: simulation %s, tailscaled %s" % (a, b, s["path"], r["path"]))
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            a, b, s["path"], r["path"], "yes" if same else "**no**",
            seconds(s.get("time_to_direct_s")), seconds(r.get("time_to_direct_s")),
            seconds(own_time_to_direct(real_dir, r))))
    table = "\n".join(lines)
    print(table)
    if len(argv) == 5:
        with open(argv[4], "w") as f:
            f.write(table + "\n")
    for d in disagree:
        print("DISAGREE: " + d)
    if not real:
        print("no real cells ran")
        return 1
    print("%d of %d cells agree on the path" % (len(real) - len(disagree), len(real)))
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

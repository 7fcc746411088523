#!/usr/bin/env python3
"""WireGuard peers that start together collide, and idle wireguard-go then
stays silent for good: the real behaviour that
scenarios/programs/wireguard-port-restricted.yaml avoids by starting bob 1 s
after alice (sim/run-real/README.md, "Peers that start together").

Runs that scenario with both peers at 0 s and a one-way delay of 1 s. The
two launches are within 60 ms of each other, so the first initiations always
cross; each side answers the other's about 1 s after its own initiation,
longer than wireguard-go's retry jitter (0-333 ms), so both retries fall
within the rate limit of the answers and are dropped: the crossed
initiations reach both sides directly, then nothing crosses again. Checked
on the wire (the scenario's expectations) and in wireguard-go's verbose
logs (one initiation each, a retry that sent nothing). If the pair ever goes
direct here, wireguard-go breaks such ties now, and the 1 s in the
scenarios is no longer needed.

Usage: check_collision.py PUNCHLAB OUT_DIR   (root; exit 1 naming what is wrong)
"""

import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "..", "..", "scenarios", "programs", "wireguard-port-restricted.yaml")
NAME = "wireguard-collision"


def _literal_blocks(dumper, text):
    # The program's files stay readable in the written scenario.
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


yaml.add_representer(str, _literal_blocks, Dumper=yaml.SafeDumper)


def collision_scenario():
    with open(SCENARIO) as f:
        s = yaml.safe_load(f)
    s["name"] = NAME
    s["description"] = "wireguard-port-restricted with both peers at 0s and 1s one way (check_collision.py)"
    s["stop_time"] = "12s"
    s["internet"] = {"latency": "1s"}
    for node in s["nodes"].values():
        node.pop("start", None)
    s["expect"] = [
        # The crossed initiations: direct both ways on the wire, once.
        {"between": ["alice", "bob"], "time_to_direct_max": "3s", "from": "0s"},
        # A retry would leave at 5-5.4 s and arrive a second later.
        {"between": ["alice", "bob"], "path": "none", "from": "6s"},
    ]
    return s


def main():
    punchlab, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, NAME + ".yaml")
    with open(path, "w") as f:
        yaml.safe_dump(collision_scenario(), f, sort_keys=False)
    proc = subprocess.run([punchlab, "run", "--real", "--out", out, path], timeout=120)
    problems = []
    if proc.returncode != 0:
        problems.append("exit %d: the expectations above" % proc.returncode)
    for node in ("alice", "bob"):
        try:
            with open(os.path.join(out, NAME, "lab-logs", "node-%s.0.out" % node)) as f:
                log = f.read()
        except OSError as e:
            problems.append("%s: %s" % (node, e))
            continue
        initiations = log.count("Sending handshake initiation")
        if initiations != 1:
            problems.append("%s sent %d handshake initiations, expected 1" % (node, initiations))
        if "retrying (try 2)" not in log:
            problems.append("%s: wireguard-go never tried again" % node)
        if "Received invalid response message" not in log:
            problems.append("%s: its own initiation's answer was not refused" % node)
    if problems:
        print("check_collision.py: " + "; ".join(problems))
        return 1
    print("check_collision.py: crossed initiations, both retries dropped, silent since")
    return 0


if __name__ == "__main__":
    sys.exit(main())

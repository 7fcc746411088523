#!/usr/bin/env python3
"""Fails when a folder includes a layer it must not know (docs/ARCHITECTURE.md,
"Layers"): arrows point one way.

  nat/                   the standard library and protocol/'s value types only
                         (and the port-mapping codecs its server speaks):
                         no ns-3, no sockets, nothing from models/ or sim/
  sim/lab, sim/run-real, the real lab, the scenario model, results and the CLI:
  sim/scenario,          nothing from the ns-3 module (models/: "model/...",
  sim/results, sim/cli   "helper/...") and no ns-3 header; only sim/run-sim
                         (the ns-3 runner) and models/ itself may

usage: layering.py ROOT [--stamp FILE]   (ROOT: the source tree)
"""
import pathlib
import re
import sys

import source_scan  # beside this file

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')

# nat/: quoted includes of these only; angle includes of C++ standard headers only.
NAT_ALLOWED = re.compile(
    r"^punchlab/(nat/[a-z0-9-]+\.h|endpoint\.h|time\.h|random\.h|bytes\.h|transmit\.h|"
    r"stream-machine\.h|stun/nat-discovery\.h|"
    r"portmap/(pmp|pcp|mapping-protocol|upnp-device|upnp-errors|upnp-soap|upnp-ssdp)\.h)$")
STD_HEADER = re.compile(r"^[a-z_]+$")  # <vector>, <cstdint>: no ".h", no "/"

# What the real lab, the scenario model, results and the CLI may not include
# (the CLI reaches ns-3 through sim/run-sim only: run-sim.h, ns3-tools.h).
NO_NS3 = re.compile(r"^(ns3/|model/|helper/|nat-core/)")
NO_NS3_DIRS = ["sim/lab", "sim/run-real", "sim/scenario", "sim/results", "sim/cli"]


def includes(path: pathlib.Path):
    for n, line in source_scan.numbered_lines(path):
        m = INCLUDE_RE.match(line)
        if m:
            yield n, m.group(1), m.group(2), line.strip()


def check(root: pathlib.Path) -> list:
    violations = []
    for path in source_scan.sources(root / "nat"):
        for n, kind, name, line in includes(path):
            ok = NAT_ALLOWED.match(name) if kind == '"' else STD_HEADER.match(name)
            if not ok:
                violations.append(f"{path}:{n}: nat/ knows only the standard library and "
                                  f"protocol/'s value types: {line}")
    for folder in NO_NS3_DIRS:
        for path in source_scan.sources(root / folder):
            for n, kind, name, line in includes(path):
                if NO_NS3.match(name):
                    violations.append(f"{path}:{n}: {folder} must not know the ns-3 module "
                                      f"(only sim/run-sim may): {line}")
    return violations


if __name__ == "__main__":
    sys.exit(source_scan.main(__doc__, check,
                              "layering: a folder reaches for a layer it must not know:"))

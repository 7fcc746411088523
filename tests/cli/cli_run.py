"""Shared by the CLI suites: where the binaries are, a small scenario that
runs in seconds, and how a test runs a command and writes a file."""

import os
import subprocess
from pathlib import Path

BIN_DIR = os.path.abspath(os.environ.get("PUNCHLAB_BIN_DIR", ""))
BIN = os.path.join(BIN_DIR, "punchlab")
NODE_BIN = os.path.join(BIN_DIR, "punchlab-node")
SOURCE = Path(__file__).resolve().parents[2]
TIMEOUT = 120

# A full cone and a symmetric NAT: direct within 10 s of a 20 s run.
PAIR = """\
stop_time: 20s
nats:
  home: {preset: full-cone}
  office: {preset: symmetric}
nodes:
  alice: {behind: home}
  bob: {behind: office}
traffic:
  - {from: alice, to: bob, every: 200ms}
expect:
  - {between: [alice, bob], path: direct, by: 10s}
"""


def run(binary, *args, cwd=None):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=TIMEOUT,
                          cwd=cwd)


def punchlab(*args, cwd=None):
    return run(BIN, *args, cwd=cwd)


def write(directory, name, text):
    path = directory / name
    path.write_text(text)
    return str(path)

"""Shared by the CLI suites: where the binaries are, their exit codes, a
small scenario that runs in seconds, how a test runs a command, checks a
one-line error, keeps a punchlab-node server running, and writes a file."""

import os
import re
import signal
import subprocess
from pathlib import Path

BIN_DIR = os.path.abspath(os.environ.get("PUNCHLAB_BIN_DIR", ""))
BIN = os.path.join(BIN_DIR, "punchlab")
NODE_BIN = os.path.join(BIN_DIR, "punchlab-node")
SOURCE = Path(__file__).resolve().parents[2]
TIMEOUT = 120
# Exit codes (both binaries; sim/README.md).
EXIT_EXPECTATION_FAILED = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 4

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


def run(binary, *args, cwd=None, timeout=TIMEOUT):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)


def punchlab(*args, cwd=None):
    return run(BIN, *args, cwd=cwd)


def node(*args, timeout=TIMEOUT):
    return run(NODE_BIN, *args, timeout=timeout)


def assert_one_line_error(result, code, subcommand, fragment, binary="punchlab-node"):
    """An error is exactly one line on stderr, "<binary> <subcommand>: ...",
    with nothing on stdout, and exits with `code`."""
    assert result.returncode == code, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("%s %s: " % (binary, subcommand)), lines[0]
    assert fragment in lines[0], lines[0]
    assert result.stdout == ""


CONTROL_READY = r"control-server listening on (127\.0\.0\.1:\d+), key (nodekey:[0-9a-f]{64})$"


class Server:
    """A punchlab-node server subprocess (60 s at most); its first stdout line
    must match `ready` (kept as `match`). stop() sends SIGTERM, keeps stderr
    and returns the exit code."""

    def __init__(self, ready, *args):
        self.proc = subprocess.Popen([NODE_BIN, *args, "--duration", "60"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        self.match = re.match(ready, line)
        if not self.match:
            self.stop()
            raise AssertionError("no readiness line, got %r: %s" % (line, self.stderr))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        _, self.stderr = self.proc.communicate(timeout=TIMEOUT)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.stop()


def write(directory, name, text):
    path = directory / name
    path.write_text(text)
    return str(path)

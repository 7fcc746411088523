#!/usr/bin/env python3
"""Runs tests/programs/misbehaving.yaml in the real lab and checks that every
misbehaving program is reported as such in results.json, that the run took
about stop_time (nothing hung it) and that the lab left nothing behind.

Usage: check_misbehaving.py PUNCHLAB OUT_DIR   (root; exit 1 naming what is wrong)
"""

import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    punchlab, out = sys.argv[1], sys.argv[2]
    start = time.monotonic()
    proc = subprocess.run([punchlab, "run", "--real", "--quiet", "--out", out,
                           os.path.join(HERE, "misbehaving.yaml")], timeout=120)
    took = time.monotonic() - start
    problems = []
    if proc.returncode != 1:
        problems.append("exit %d, expected 1 (failed checks)" % proc.returncode)
    with open(os.path.join(out, "misbehaving", "results.json")) as f:
        results = json.load(f)
    runs = {p["node"]: p for p in results["programs"]}
    checks = {(e["text"], e["ok"]) for e in results["expectations"]}

    def expect(cond, what):
        if not cond:
            problems.append(what)

    expect(runs["early"]["status"] == "exited" and runs["early"]["exit_code"] == 3,
           "early: %r" % runs["early"])
    expect("bye" in runs["early"]["detail"], "early: its stderr is not quoted")
    expect(runs["missing"]["status"] == "never-started" and
           "not found in PATH" in runs["missing"]["detail"], "missing: %r" % runs["missing"])
    expect(runs["not-executable"]["status"] == "never-started" and
           "not executable" in runs["not-executable"]["detail"],
           "not-executable: %r" % runs["not-executable"])
    expect(runs["chatty"]["status"] == "output-flood", "chatty: %r" % runs["chatty"])
    expect(runs["flooder"]["status"] == "ran" and runs["flooder"]["peak_packet_rate"] > 100,
           "flooder: %r" % runs["flooder"])
    expect(("program flooder sends at most 100 packets/s", False) in checks,
           "flooder's rate check did not fail")
    expect(runs["fine"]["status"] == "ran", "fine: %r" % runs["fine"])
    expect(("program fine prints a line matching /never printed/", False) in checks,
           "fine's output check did not fail")
    stubborn = [p for p in results["programs"] if p["node"] == "stubborn"]
    expect(len(stubborn) == 2 and all(p["status"] == "ran" for p in stubborn),
           "stubborn: the restart did not stop its whole group: %r" % stubborn)
    expect(("program stubborn runs until stop_time", True) in checks,
           "stubborn's run check failed")
    # Its child ignores SIGTERM: only the lab's SIGKILL ends it, in the
    # restart and at the end.
    alive = []
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(cmdline, "rb") as f:
                if b"stubborn-child.py" in f.read():
                    alive.append(cmdline.split("/")[2])
        except OSError:
            pass  # ended meanwhile
    expect(not alive, "stubborn's child outlived the run: pid %s" % ", ".join(alive))
    for name in ("early", "missing", "not-executable", "chatty"):
        expect(("program %s runs until stop_time" % name, False) in checks,
               "%s's run check did not fail" % name)
    expect(took < 6 + 60, "the run took %.0fs for a 6s scenario" % took)
    # The working directories live in the lab's own directory (/tmp/plab<pid>x<n>-tmp),
    # which goes with the lab; none may stay behind for a runner that has ended.
    left = glob.glob("/tmp/punchlab-programs-*") + [
        d for d in glob.glob("/tmp/plab*x*-tmp/programs")
        if not os.path.exists("/proc/" + d[len("/tmp/plab"):].split("x", 1)[0])]
    expect(not left, "working directories left behind: %r" % left)
    for p in problems:
        print("misbehaving: " + p)
    print("misbehaving: %s (%.0fs)" % ("wrong" if problems else "every program reported", took))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

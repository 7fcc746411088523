#!/usr/bin/env python3
"""Programs whose daemons leave their process group (a double fork and
setsid: re-parented to init, out of reach of the group's SIGTERM and
SIGKILL and of PR_SET_PDEATHSIG) must still end with the lab: whatever
lives in a lab's network namespace goes before the namespace does.

Two daemons, each holding a UDP port: `ignorer` ignores SIGTERM; `respawner`
answers SIGTERM with a fresh copy of itself (a new pid, forked while the
lab is stopping it), which a single look at the namespace's processes
misses. Three ways the lab ends, and a restart of both programs:
  - normally at stop_time;
  - after a failure (the results directory's lab-logs is a file, so saving
    the logs throws after the programs were stopped, and the lab is torn
    down while that error unwinds);
  - the runner killed with SIGKILL mid-run (the lab's guard cleans up);
  - a restart mid-run: the second run binds the same port, so the first
    run's daemon must be gone by then (both runs exit 0).
After each, no daemon may be left (at once for the first two; within 5 s
for the guard, which works after the runner is gone), nor a namespace.

Usage: check_escapees.py PUNCHLAB OUT_DIR   (root; exit 1 naming what is wrong)
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

# The daemons' command lines carry it: theirs, no other run's.
TOKEN = "escapee-" + uuid.uuid4().hex[:12]

SCENARIO = """\
name: escapees
description: Daemons that leave their program's process group and resist SIGTERM.
stop_time: {stop}
nodes:
  ignorer:
    run:
      command: [python3, daemon.py, ignore, "{token}", "{out}"]
      files: {{daemon.py: {program}}}
      expect_exit: 0
      expect_output: ["^bound 7001$"]
      stop_grace: 500ms
  respawner:
    run:
      command: [python3, daemon.py, respawn, "{token}", "{out}"]
      files: {{daemon.py: {program}}}
      expect_exit: 0
      expect_output: ["^bound 7001$"]
      stop_grace: 500ms
{events}"""

# Both restarted mid-run: the second run binds the same port, which only a
# stop that ends the first run's daemon too leaves free.
RESTARTS = """events:
  - {at: 2s, node: ignorer, action: restart}
  - {at: 2s, node: respawner, action: restart}
"""

# Forks, the child calls setsid and forks the daemon, which binds its port,
# says so (and leaves MODE.up in the test's directory) and runs until
# killed; the program itself then exits 0, as a daemonizing program does
# once its daemon is up.
DAEMON = r'''
import os, signal, socket, sys, time
mode = sys.argv[1]
def respawn(signum, frame):
    if os.fork() != 0:
        os._exit(0)
    # The copy goes on with the same socket and the same handler.
ready_read, ready_write = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN if mode == "ignore" else respawn)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 7001))
        print("bound 7001", flush=True)
        open(os.path.join(sys.argv[3], mode + ".up"), "w").close()  # for the test
        os.write(ready_write, b"up")
        os.close(ready_write)
        while True:
            time.sleep(1)
    os._exit(0)
os.close(ready_write)
# Until the daemon is up; it failed (e.g. its port was taken) if it never said so.
sys.exit(0 if os.read(ready_read, 2) == b"up" else 1)
'''

LAB_NAMESPACE = re.compile(r"^plab(\d+)x\d+-")


def yaml_text(text):
    """A YAML double-quoted scalar holding `text`."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def daemons():
    """Pids of processes still running with the token on their command line."""
    found = []
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        pid = cmdline.split("/")[2]
        try:
            with open(cmdline, "rb") as f:
                if TOKEN.encode() not in f.read():
                    continue
            with open("/proc/%s/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue  # ended, not reaped: holds no port or namespace
        except OSError:
            continue  # ended meanwhile
        found.append(int(pid))
    return found


def lab_namespaces(pid):
    names = os.listdir("/run/netns") if os.path.isdir("/run/netns") else []
    return [n for n in names if LAB_NAMESPACE.match(n) and LAB_NAMESPACE.match(n).group(1) == str(pid)]


def write_scenario(out, stop, events=""):
    shutil.rmtree(out, ignore_errors=True)  # no earlier run's files
    os.makedirs(out)
    path = os.path.join(out, "escapees.yaml")
    with open(path, "w") as f:
        f.write(SCENARIO.format(stop=stop, token=TOKEN, out=os.path.abspath(out),
                                program=yaml_text(DAEMON), events=events))
    return path


def end_daemons():
    """Kills what a failed case left, so the next case starts clean."""
    for pid in daemons():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def normal(punchlab, out):
    scenario = write_scenario(out, "3s")
    r = subprocess.run([punchlab, "run", "--real", "--quiet", "--out", out, scenario],
                       capture_output=True, text=True, timeout=120)
    problems = []
    if r.returncode != 0:
        problems.append("exit %d, expected 0 (both daemons up): %s%s" % (r.returncode, r.stdout,
                                                                           r.stderr))
    return problems


def failure(punchlab, out):
    scenario = write_scenario(out, "3s")
    # The logs go to OUT/escapees/lab-logs: a file there makes saving them
    # throw, after the programs were stopped and before the teardown.
    os.makedirs(os.path.join(out, "escapees"), exist_ok=True)
    with open(os.path.join(out, "escapees", "lab-logs"), "w") as f:
        f.write("in the way on purpose\n")
    r = subprocess.run([punchlab, "run", "--real", "--quiet", "--out", out, scenario],
                       capture_output=True, text=True, timeout=120)
    problems = []
    if r.returncode != 4 or "lab-logs" not in r.stderr:
        problems.append("exit %d, expected 4 with the lab-logs error: %s" % (r.returncode, r.stderr))
    return problems


def restarted(punchlab, out):
    scenario = write_scenario(out, "5s", RESTARTS)
    r = subprocess.run([punchlab, "run", "--real", "--quiet", "--out", out, scenario],
                       capture_output=True, text=True, timeout=120)
    problems = []
    if r.returncode != 0:
        problems.append("exit %d, expected 0: %s%s" % (r.returncode, r.stdout, r.stderr))
    with open(os.path.join(out, "escapees", "results.json")) as f:
        runs = [(p["node"], p["status"], p.get("exit_code")) for p in json.load(f)["programs"]]
    for node in ("ignorer", "respawner"):
        mine = [run for run in runs if run[0] == node]
        if mine != [(node, "exited", 0)] * 2:
            problems.append("%s: both runs must bring their daemon up and exit 0: %r" % (node, mine))
    return problems


def killed(punchlab, out):
    scenario = write_scenario(out, "60s")
    proc = subprocess.Popen([punchlab, "run", "--real", "--quiet", "--out", out, scenario],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    up = [os.path.join(out, mode + ".up") for mode in ("ignore", "respawn")]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(map(os.path.exists, up)) and proc.poll() is None:
        time.sleep(0.05)
    problems = []
    if not all(map(os.path.exists, up)):
        problems.append("the daemons never started (exit %s)" % proc.poll())
    proc.kill()
    proc.communicate(timeout=30)
    # The guard notices its pipe close and cleans up; give it 5 s.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (daemons() or lab_namespaces(proc.pid)):
        time.sleep(0.05)
    return problems + ["namespace left: " + n for n in lab_namespaces(proc.pid)]


def main():
    punchlab, out = sys.argv[1], sys.argv[2]
    problems = []
    for name, case in (("normal end", normal), ("failure", failure), ("restart", restarted),
                       ("kill -9", killed)):
        start = time.monotonic()
        found = case(punchlab, os.path.join(out, name.replace(" ", "-")))
        left = daemons()
        if left:
            found.append("daemons left running: pid %s" % ", ".join(map(str, left)))
            end_daemons()
        problems += ["%s: %s" % (name, p) for p in found]
        print("escapees: %s: %s (%.1fs)" % (name, "wrong" if found else "nothing left",
                                            time.monotonic() - start))
    for p in problems:
        print("escapees: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

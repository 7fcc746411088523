"""A tiny network-namespace lab for tests against real peers.

A Lab creates namespaces named ``<prefix><name>`` where the prefix carries the
creating process's pid (``plt<pid>x<n>-``), links them with veth pairs created
directly inside the namespaces (so no interface name ever touches the root
namespace), runs commands in them with bounded waits, and ALWAYS deletes what
it made: on ``close()`` (use it as a context manager or a pytest fixture), at
interpreter exit (atexit), and on SIGINT/SIGTERM/SIGHUP. Namespaces left by a
run that was killed with SIGKILL are recognised by their prefix (the pid in it
is no longer alive) and removed by the next Lab that starts.

Deleting a namespace's name does not stop the processes inside it (they keep
the namespace alive), so close() first ends every process this lab spawned
and then any process still inside its namespaces; all of them were started
by this lab, directly or indirectly.

Addresses come from the documentation ranges only (203.0.113.0/24,
198.51.100.0/24, 192.0.2.0/24).
"""

import atexit
import itertools
import os
import re
import select
import signal
import subprocess
import time

NETNS_DIR = "/run/netns"
PREFIX_RE = re.compile(r"^plt(\d+)x\d+-")
# Bounds for every command the lab runs; the lab never waits unboundedly.
COMMAND_TIMEOUT = 20.0
STOP_GRACE = 3.0

_counter = itertools.count(1)
_live_labs = []
_handlers_installed = False


def _run(argv, timeout=COMMAND_TIMEOUT, check=True, input_text=None):
    result = subprocess.run(argv, input=input_text, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s%s" % (
            result.returncode, " ".join(argv), result.stdout, result.stderr))
    return result


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _list_namespaces():
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def _namespace_pids(ns):
    result = _run(["ip", "netns", "pids", ns], check=False)
    return [int(p) for p in result.stdout.split() if p.isdigit()]


def _kill_namespace_processes(ns):
    """Ends every process inside `ns` (all of them started by the lab that made it)."""
    pids = _namespace_pids(ns)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + STOP_GRACE
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if _pid_alive(p)]
        time.sleep(0.05)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _delete_namespace(ns):
    _kill_namespace_processes(ns)
    _run(["ip", "netns", "delete", ns], check=False)


def remove_stale_namespaces():
    """Deletes namespaces left by labs whose process no longer exists."""
    removed = []
    for ns in _list_namespaces():
        match = PREFIX_RE.match(ns)
        if match and not _pid_alive(int(match.group(1))):
            _delete_namespace(ns)
            removed.append(ns)
    return removed


def _close_all_labs():
    for lab in list(_live_labs):
        lab.close()


_previous_handlers = {}


def _on_signal(signum, frame):
    _close_all_labs()
    previous = _previous_handlers.get(signum)
    if callable(previous):
        # SIGINT: Python's handler raises KeyboardInterrupt, so pytest reports it.
        previous(signum, frame)
        return
    # Otherwise end the process the way the sender asked.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_handlers():
    global _handlers_installed
    if _handlers_installed:
        return
    atexit.register(_close_all_labs)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        _previous_handlers[signum] = signal.signal(signum, _on_signal)
    _handlers_installed = True


class Namespace:
    def __init__(self, lab, name, full_name):
        self.lab = lab
        self.name = name
        self.full_name = full_name

    def run(self, argv, timeout=COMMAND_TIMEOUT, check=True, input_text=None):
        """Runs argv inside the namespace and waits at most `timeout` seconds."""
        return _run(["ip", "netns", "exec", self.full_name] + list(argv), timeout=timeout,
                    check=check, input_text=input_text)

    def spawn(self, argv, **popen_kwargs):
        """Starts argv inside the namespace; the lab ends it on close()."""
        return self.lab._spawn(self, argv, **popen_kwargs)

    def ip(self, *args, check=True):
        return _run(["ip", "-n", self.full_name] + list(args), check=check)

    def sysctl(self, key, value):
        self.run(["sysctl", "-q", "-w", "%s=%s" % (key, value)])

    def nft(self, ruleset):
        self.run(["nft", "-f", "-"], input_text=ruleset)

    def add_address(self, ifname, cidr):
        # nodad: IPv6 addresses are usable at once instead of after DAD.
        extra = ["nodad"] if ":" in cidr else []
        self.ip("addr", "add", cidr, "dev", ifname, *extra)

    def route_default(self, via):
        self.ip("route", "add", "default", "via", via)

    def __repr__(self):
        return "Namespace(%s)" % self.full_name


class Lab:
    def __init__(self):
        if os.geteuid() != 0:
            raise PermissionError("netlab needs root to create network namespaces")
        _install_handlers()
        remove_stale_namespaces()
        self.prefix = "plt%dx%d-" % (os.getpid(), next(_counter))
        self.namespaces = []
        self.processes = []
        self.closed = False
        _live_labs.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def add_namespace(self, name):
        full_name = self.prefix + name
        # Registered before creation so a failure halfway still gets cleaned up.
        ns = Namespace(self, name, full_name)
        self.namespaces.append(ns)
        _run(["ip", "netns", "add", full_name])
        ns.ip("link", "set", "lo", "up")
        return ns

    def link(self, a, a_if, a_cidrs, b, b_if, b_cidrs):
        """A veth pair between namespaces a (interface a_if) and b (b_if), up, addressed."""
        _run(["ip", "-n", a.full_name, "link", "add", a_if, "type", "veth", "peer", "name", b_if,
              "netns", b.full_name])
        for ns, ifname, cidrs in ((a, a_if, a_cidrs), (b, b_if, b_cidrs)):
            for cidr in cidrs:
                ns.add_address(ifname, cidr)
            ns.ip("link", "set", ifname, "up")

    def _spawn(self, ns, argv, **popen_kwargs):
        popen_kwargs.setdefault("stdin", subprocess.DEVNULL)
        popen_kwargs.setdefault("stdout", subprocess.PIPE)
        popen_kwargs.setdefault("stderr", subprocess.PIPE)
        popen_kwargs.setdefault("text", True)
        # `ip netns exec` execs argv in place, so the Popen's pid is argv's pid.
        proc = subprocess.Popen(["ip", "netns", "exec", ns.full_name] + list(argv),
                                start_new_session=True, **popen_kwargs)
        self.processes.append(proc)
        return proc

    def close(self):
        if self.closed:
            return
        self.closed = True
        for proc in self.processes:
            stop_process(proc)
        for ns in reversed(self.namespaces):
            _delete_namespace(ns.full_name)
        if self in _live_labs:
            _live_labs.remove(self)

    def leftovers(self):
        """This lab's namespaces that still exist (empty after close())."""
        return [ns for ns in _list_namespaces() if ns.startswith(self.prefix)]


def stop_process(proc, signum=signal.SIGTERM, grace=STOP_GRACE):
    """Sends `signum` to a process the lab started, then SIGKILL after `grace` s.

    Returns (returncode, stdout, stderr); output pipes are drained so a chatty
    process cannot block on a full pipe while we wait.
    """
    if proc.poll() is None:
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass
    try:
        out, err = proc.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=grace)
    except ValueError:
        # Pipes already consumed by an earlier call.
        proc.wait(timeout=grace)
        out, err = "", ""
    return proc.returncode, out or "", err or ""


def wait_for_line(proc, pattern, timeout):
    """Reads proc's stdout until a line matches `pattern` (a regex) or `timeout` s pass.

    Returns (match, lines_read). Reads with select() so the wait is bounded
    even when the process prints nothing.
    """
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    lines = []
    buffer = ""
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buffer += chunk.decode(errors="replace")
        while "\n" in buffer:
            line, buffer = buffer.split("\n", 1)
            lines.append(line)
            match = regex.search(line)
            if match:
                return match, lines
    return None, lines + ([buffer] if buffer else [])

"""The real lab's NATs (sim/lab/, driven through `punchlab classify-real`):
each of the four nftables NATs is classified as configured by our discovery
client and by Debian's `stun`; the UDP timeout is honoured; and the lab
leaves nothing behind, whether it ends normally, is interrupted, or is
killed outright (the next lab removes what the killed one left).
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

import netlab
from world import require_tool

LAB_NAMESPACE_RE = re.compile(r"^plab(\d+)x\d+-")
CLASSIFY_TIMEOUT = 60
READY_TIMEOUT = 60
EXIT_TIMEOUT = 20
# Our lab's servers: stund on the standard ports, our stun-server on the next two.
A1, A2 = "203.0.113.1", "203.0.113.2"
OUR_SERVER = "%s:3480" % A1
CLIENT = "198.51.100.10"
ROUTER_WAN = "203.0.113.254"

# Every classify-real process this module starts; none may leave a namespace.
_started_pids = []


@pytest.fixture(scope="module")
def punchlab_bin():
    path = os.path.join(os.environ.get("PUNCHLAB_BIN_DIR", ""), "punchlab")
    if not os.access(path, os.X_OK):
        pytest.fail("punchlab not found at %r: build it and set PUNCHLAB_BIN_DIR to the build's "
                    "sim/ directory" % path)
    require_tool("stun", "stun-client")
    require_tool("stund", "stun-server")
    return path


@pytest.fixture(scope="module", autouse=True)
def no_lab_left_behind():
    yield
    left = [ns for ns in lab_namespaces() if int(LAB_NAMESPACE_RE.match(ns).group(1)) in _started_pids]
    for ns in left:
        remove_namespace(ns)
    assert not left, "lab namespaces left behind: %s" % left


def lab_namespaces(pid=None):
    names = [ns for ns in netlab._list_namespaces() if LAB_NAMESPACE_RE.match(ns)]
    if pid is not None:
        names = [ns for ns in names if LAB_NAMESPACE_RE.match(ns).group(1) == str(pid)]
    return names


def remove_namespace(ns):
    """Last-resort cleanup for a test that failed half-way (the lab itself
    normally does this)."""
    netlab._delete_namespace(ns)


def start(punchlab_bin, node_bin, *flags, hold=False):
    argv = [punchlab_bin, "classify-real", "--node-bin", node_bin, "--json", *flags]
    if hold:
        argv.append("--hold")
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _started_pids.append(proc.pid)
    return proc


def classify(punchlab_bin, node_bin, *flags):
    proc = start(punchlab_bin, node_bin, *flags)
    try:
        out, err = proc.communicate(timeout=CLASSIFY_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=EXIT_TIMEOUT)
        pytest.fail("classify-real still running after %ss: %s %s" % (CLASSIFY_TIMEOUT, out, err))
    assert proc.returncode == 0, err
    assert not lab_namespaces(proc.pid), "the lab was not removed"
    return json.loads(out)


class HeldLab:
    """classify-real --hold: the classified lab, kept up until close()."""

    def __init__(self, punchlab_bin, node_bin, *flags):
        self.node_bin = node_bin
        self.proc = start(punchlab_bin, node_bin, *flags, hold=True)
        match, lines = netlab.wait_for_line(self.proc, r"^\{", READY_TIMEOUT)
        if not match:
            code, out, err = netlab.stop_process(self.proc, grace=EXIT_TIMEOUT)
            self._cleanup()
            raise LabFailed(code, "\n".join(lines) + out, err)
        self.report = json.loads(match.string)
        self.namespaces = self.report["lab"]["namespaces"]

    def run(self, role, argv, timeout=15, check=True):
        result = subprocess.run(["ip", "netns", "exec", self.namespaces[role]] + list(argv),
                                capture_output=True, text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, (argv, result.stdout, result.stderr)
        return result

    def spawn(self, role, argv):
        return subprocess.Popen(["ip", "netns", "exec", self.namespaces[role]] + list(argv),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

    def close(self):
        """Releases the lab (communicate closes its stdin); returns (exit code, stderr)."""
        try:
            _, err = self.proc.communicate(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            _, _, err = netlab.stop_process(self.proc, grace=EXIT_TIMEOUT)
        self._cleanup()
        return self.proc.returncode, err

    def _cleanup(self):
        for ns in lab_namespaces(self.proc.pid):
            remove_namespace(ns)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        code, err = self.close()
        if exc[0] is None:
            assert code == 0, err
        return False


class LabFailed(Exception):
    def __init__(self, code, out, err):
        super().__init__("classify-real --hold exited %s: %s %s" % (code, out, err))
        self.code, self.out, self.err = code, out, err


def probe(lab, local, timeout=2.0):
    """Our stun-probe from `local` in the client namespace; returns the mapped port."""
    result = lab.run("client", [lab.node_bin, "stun-probe", OUR_SERVER, "--json", "--local", local,
                                "--timeout", str(timeout)])
    report = json.loads(result.stdout)
    host, _, port = report["mapped"].rpartition(":")
    assert host == ROUTER_WAN, report
    return int(port), report


# --- every lab NAT classifies as what it was built to be ---------------------

# (type, our mapping, our filtering, our port assignment, words in Debian's verdict)
EXPECTED = [
    ("full-cone", "endpoint-independent", "endpoint-independent", "preserve",
     ["Independent Mapping", "Independent Filter", "preserves ports", "no hairpin"]),
    ("restricted-cone", "endpoint-independent", "address-dependent", "preserve",
     ["Independent Mapping, Address Dependent Filter", "preserves ports", "no hairpin"]),
    ("port-restricted-cone", "endpoint-independent", "address-and-port-dependent", "preserve",
     ["Independent Mapping, Port Dependent Filter", "preserves ports", "no hairpin"]),
    ("symmetric", "address-and-port-dependent", "address-and-port-dependent", "random",
     ["Dependent Mapping", "random port", "no hairpin"]),
]


@pytest.mark.parametrize("nat,mapping,filtering,ports,verdict_words", EXPECTED,
                         ids=[e[0] for e in EXPECTED])
def test_lab_nat_classifies_as_configured(punchlab_bin, node_bin, nat, mapping, filtering, ports,
                                          verdict_words):
    report = classify(punchlab_bin, node_bin, "--nat", nat)
    assert report["nat"]["type"] == nat
    assert report["udp_blocked"] is False
    assert report["mapped"].startswith(ROUTER_WAN + ":"), report
    assert (report["mapping"], report["filtering"], report["port_assignment"],
            report["hairpin"]) == (mapping, filtering, ports, "off"), report["report"]
    verdict = report["stun_client"]
    assert verdict.startswith("Primary: "), verdict
    for words in verdict_words:
        assert words in verdict, verdict
    if nat == "full-cone":
        # "Dependent Filter" would also contain "Independent Filter"'s tail.
        assert "Dependent Filter" not in verdict.replace("Independent Filter", ""), verdict
    if nat == "symmetric":
        assert "Independent Mapping" not in verdict, verdict
    # The router ran what the report says it ran.
    rules = report["ruleset"]
    assert ("fully-random" in rules) == (nat == "symmetric")
    assert ("@cone" in rules) == (nat in ("full-cone", "restricted-cone"))
    assert ("@peers" in rules) == (nat == "restricted-cone")


@pytest.mark.parametrize("classic", [False, True], ids=["modern", "classic"])
def test_our_discovery_against_stund_agrees(punchlab_bin, node_bin, classic):
    """Our client also reads Debian's RFC 3489 server (CHANGED-ADDRESS as the
    alternate), with modern or classic requests, and reaches the same verdict."""
    with HeldLab(punchlab_bin, node_bin, "--nat", "restricted-cone") as lab:
        argv = [node_bin, "nat-discover", "%s:3478" % A1, "--json", "--timeout", "1.5"]
        result = lab.run("client", argv + (["--classic"] if classic else []), timeout=30)
        report = json.loads(result.stdout)
        assert report["other_address"] == "%s:3479" % A2
        assert (report["mapping"], report["filtering"], report["port_assignment"],
                report["hairpin"]) == ("endpoint-independent", "address-dependent", "preserve",
                                       "off"), report["report"]


# --- the UDP timeout ----------------------------------------------------------

UDP_TIMEOUT = 3
IDLE = UDP_TIMEOUT + 2.5


def test_symmetric_mapping_expires_after_udp_timeout(punchlab_bin, node_bin):
    with HeldLab(punchlab_bin, node_bin, "--nat", "symmetric",
                 "--udp-timeout", "%ds" % UDP_TIMEOUT) as lab:
        local = "%s:41000" % CLIENT
        first, _ = probe(lab, local)
        again, _ = probe(lab, local)
        # While the mapping lives, the same flow keeps its random port...
        assert again == first
        time.sleep(IDLE)
        # ...and once it timed out, the same flow gets a fresh random one.
        later, _ = probe(lab, local)
        assert later != first


RECEIVER = r"""
import select, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    if select.select([s], [], [], max(0.0, end - time.monotonic()))[0]:
        data, src = s.recvfrom(2048)
        print("got %s from %s:%d" % (data.decode(), src[0], src[1]), flush=True)
"""

SENDER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.sendto(sys.argv[5].encode(), (sys.argv[3], int(sys.argv[4])))
"""


def test_full_cone_mapping_stops_admitting_strangers_after_udp_timeout(punchlab_bin, node_bin):
    with HeldLab(punchlab_bin, node_bin, "--nat", "full-cone",
                 "--udp-timeout", "%ds" % UDP_TIMEOUT) as lab:
        port = 41001
        mapped, _ = probe(lab, "%s:%d" % (CLIENT, port))
        listen_for = IDLE + 6
        receiver = lab.spawn("client", ["python3", "-c", RECEIVER, CLIENT, str(port),
                                        str(listen_for)])
        try:
            match, lines = netlab.wait_for_line(receiver, r"^ready$", 10)
            assert match, lines

            def send_from_stranger(src_port, text):
                lab.run("server", ["python3", "-c", SENDER, A2, str(src_port), ROUTER_WAN,
                                   str(mapped), text])

            # A2 was never contacted: a full cone lets it in while the mapping lives.
            send_from_stranger(5000, "early")
            match, lines = netlab.wait_for_line(receiver, r"^got early from", 3)
            assert match, lines
            assert match.string == "got early from %s:5000" % A2
            # Inbound traffic does not refresh the mapping; after the timeout it is gone.
            time.sleep(IDLE)
            send_from_stranger(5001, "late")
            match, lines = netlab.wait_for_line(receiver, r"^got late from", 1.5)
            assert not match, lines
        finally:
            netlab.stop_process(receiver)


# --- latency (tc netem) -----------------------------------------------------

def test_latency_delays_the_router_server_link(punchlab_bin, node_bin):
    try:
        lab = HeldLab(punchlab_bin, node_bin, "--nat", "port-restricted-cone", "--latency", "50ms")
    except LabFailed as failed:
        if "no netem qdisc" in failed.err:
            pytest.skip("this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM): %s"
                        % failed.err.strip())
        raise
    with lab:
        _, report = probe(lab, "%s:41002" % CLIENT, timeout=3.0)
        # 50 ms each way on the router-server link.
        assert 100 <= report["rtt_ms"] < 1000, report


# --- cleanup: interrupted, killed, stale --------------------------------------

def namespace_pids(ns):
    result = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, timeout=10)
    return [int(p) for p in result.stdout.split()]


def pid_gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open("/proc/%d/stat" % pid) as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


def wait_for_servers(pid, timeout=30):
    """Pids of the servers a running classify-real started, once both run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        servers = [ns for ns in lab_namespaces(pid) if ns.endswith("-server")]
        if servers:
            pids = namespace_pids(servers[0])
            if len(pids) >= 2:
                return pids
        time.sleep(0.05)
    pytest.fail("classify-real (pid %d) never started its servers" % pid)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_classification_removes_the_lab(punchlab_bin, node_bin, signum):
    proc = start(punchlab_bin, node_bin, "--nat", "port-restricted-cone")
    servers = wait_for_servers(proc.pid)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=EXIT_TIMEOUT)
    # It cleans up, then dies of the signal it got, as it would have without a lab.
    assert proc.returncode == -signum, err
    assert "interrupted by signal %d; lab removed" % signum in err
    assert lab_namespaces(proc.pid) == []
    assert all(pid_gone(p) for p in servers)


def test_signal_while_holding_removes_the_lab(punchlab_bin, node_bin):
    lab = HeldLab(punchlab_bin, node_bin, "--nat", "restricted-cone")
    assert len(lab_namespaces(lab.proc.pid)) == 3
    servers = namespace_pids(lab.namespaces["server"])
    lab.proc.send_signal(signal.SIGTERM)
    code, err = lab.close()
    assert code == -signal.SIGTERM, err
    assert lab_namespaces(lab.proc.pid) == []
    assert servers and all(pid_gone(p) for p in servers)


def test_killed_lab_is_removed_by_the_next_one(punchlab_bin, node_bin):
    # A lab from a run whose pid cannot exist any more (above pid_max).
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    fake = "plab%dx1-left" % (pid_max + 1)
    killed = HeldLab(punchlab_bin, node_bin, "--nat", "full-cone")
    try:
        left = lab_namespaces(killed.proc.pid)
        servers = namespace_pids(killed.namespaces["server"])
        killed.proc.kill()  # SIGKILL: no cleanup is possible
        killed.proc.wait(timeout=EXIT_TIMEOUT)
        assert sorted(lab_namespaces(killed.proc.pid)) == sorted(left) and len(left) == 3
        assert servers and not any(pid_gone(p) for p in servers)
        subprocess.run(["ip", "netns", "add", fake], check=True, timeout=10)

        classify(punchlab_bin, node_bin, "--nat", "symmetric")
        assert lab_namespaces(killed.proc.pid) == []
        assert fake not in netlab._list_namespaces()
        assert all(pid_gone(p) for p in servers)
    finally:
        killed.close()
        if fake in netlab._list_namespaces():
            remove_namespace(fake)


@pytest.mark.parametrize("nat", ["restricted-cone", "symmetric"])
def test_public_classify_real_matches_the_configured_preset(punchlab_bin, node_bin, nat):
    """`punchlab classify --nat PRESET --real` (the user-facing command) builds
    the same lab NAT, and its verdict and Debian's agree with the preset."""
    argv = [punchlab_bin, "classify", "--nat", nat, "--real", "--node-bin", node_bin, "--json"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _started_pids.append(proc.pid)
    try:
        out, err = proc.communicate(timeout=CLASSIFY_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=EXIT_TIMEOUT)
        pytest.fail("classify --real still running after %ss: %s %s" % (CLASSIFY_TIMEOUT, out, err))
    assert proc.returncode == 0, err
    report = json.loads(out)
    assert report["mode"] == "real"
    assert report["match"] is True, report
    assert report["mapping"] == report["configured"]["mapping"]
    assert report["filtering"] == report["configured"]["filtering"]
    words = "Address Dependent Filter" if nat == "restricted-cone" else "Dependent Mapping"
    assert words in report["stun_client"], report["stun_client"]
    assert not lab_namespaces(proc.pid), "the lab was not removed"

"""The real lab's NATs (sim/lab/, driven through `punchlab classify --real`):
every preset of nat/ (nat-config.h) is built from nftables and
classified as configured (as far as it shows from outside, see
nat/ nat-observability.h) by our discovery client and by Debian's
`stun`, with hairpinning on and off; what the classification cannot see
(port overloading, paired pooling, hairpinning between two inside hosts, the
REQ-9 filter on looped-back datagrams) is checked with sockets of our own
behind the NAT; the UDP timeout is honoured; and the lab leaves nothing
behind, whether it ends normally, is interrupted, or is killed outright (the
next lab removes what the killed one left).
"""

import gzip
import json
import os
import re
import select
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
OUR_SERVER_ALT = (A2, 3481)
CLIENT = "198.51.100.10"
ROUTER_WAN = "203.0.113.254"
CGNAT_POOL = {"203.0.113.254", "203.0.113.253"}

PRESETS = ["full-cone", "restricted-cone", "port-restricted-cone", "symmetric",
           "symmetric-port-preserving", "cgnat"]
# A carrier NAT's address pool: two external addresses, paired.
POOL = ("--external-ips", "2")

# Every classify process this module starts; none may leave a namespace.
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


def start(punchlab_bin, node_bin, spec, *flags, hold=False):
    argv = [punchlab_bin, "classify", "--nat", spec, "--real", "--node-bin", node_bin, "--json",
            *flags]
    if hold:
        argv.append("--hold")
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _started_pids.append(proc.pid)
    return proc


def classify(punchlab_bin, node_bin, spec, *flags):
    proc = start(punchlab_bin, node_bin, spec, *flags)
    try:
        out, err = proc.communicate(timeout=CLASSIFY_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=EXIT_TIMEOUT)
        pytest.fail("classify --real still running after %ss: %s %s" % (CLASSIFY_TIMEOUT, out, err))
    # 0: found what the NAT shows; 1: something differs (the report names it).
    assert proc.returncode in (0, 1), err
    assert not lab_namespaces(proc.pid), "the lab was not removed"
    report = json.loads(out)
    assert report["mode"] == "real"
    return report


class HeldLab:
    """classify --real --hold: the classified lab, kept up until close()."""

    def __init__(self, punchlab_bin, node_bin, spec, *flags):
        self.node_bin = node_bin
        self.proc = start(punchlab_bin, node_bin, spec, *flags, hold=True)
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
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

    def add_client_address(self, ip):
        """A further inside host: one more address on the client's LAN interface."""
        self.run("client", ["ip", "addr", "add", "%s/24" % ip, "dev", "eth0"])

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
        super().__init__("classify --real --hold exited %s: %s %s" % (code, out, err))
        self.code, self.out, self.err = code, out, err


def probe(lab, local, timeout=2.0):
    """Our stun-probe from `local` in the client namespace; returns the mapped port."""
    result = lab.run("client", [lab.node_bin, "stun-probe", OUR_SERVER, "--json", "--local", local,
                                "--timeout", "%gs" % timeout])
    report = json.loads(result.stdout)
    host, _, port = report["mapped"].rpartition(":")
    assert host == ROUTER_WAN, report
    return int(port), report


# A UDP socket behind the NAT that a test drives line by line, so one socket
# (one inside endpoint) can learn its mapping, send and receive in any order:
#   stun HOST PORT       -> "mapped IP:PORT" (RFC 5389 binding request) or "timeout"
#   send HOST PORT TEXT  -> "sent"
# and every other datagram it receives prints "got TEXT from IP:PORT".
AGENT = r"""
import os, select, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)

def stun_mapped(data, txid):
    if len(data) < 20 or data[8:20] != txid:
        return None
    pos = 20
    while pos + 4 <= len(data):
        kind, length = struct.unpack("!HH", data[pos:pos + 4])
        value = data[pos + 4:pos + 4 + length]
        if kind == 0x0020 and len(value) >= 8:  # XOR-MAPPED-ADDRESS
            port = struct.unpack("!H", value[2:4])[0] ^ 0x2112
            ip = bytes(a ^ b for a, b in zip(value[4:8], b"\x21\x12\xa4\x42"))
            return "%s:%d" % (socket.inet_ntoa(ip), port)
        pos += 4 + (length + 3) // 4 * 4
    return None

pending = None  # (txid, deadline, request, destination, next resend)
stdin = sys.stdin.fileno()
while True:
    timeout = None if pending is None else max(0.0, min(pending[1], pending[4]) - time.monotonic())
    ready = select.select([s, stdin], [], [], timeout)[0]
    now = time.monotonic()
    if pending and now >= pending[1]:
        print("timeout", flush=True)
        pending = None
    elif pending and now >= pending[4]:
        s.sendto(pending[2], pending[3])
        pending = pending[:4] + (now + 0.25,)
    if s in ready:
        data, src = s.recvfrom(2048)
        mapped = stun_mapped(data, pending[0]) if pending else None
        if mapped:
            print("mapped " + mapped, flush=True)
            pending = None
        else:
            print("got %s from %s:%d" % (data.decode(errors="replace"), src[0], src[1]), flush=True)
    if stdin in ready:
        line = sys.stdin.readline()
        if not line:
            break
        words = line.split()
        if words[0] == "stun":
            txid = os.urandom(12)
            request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + txid
            destination = (words[1], int(words[2]))
            s.sendto(request, destination)
            pending = (txid, time.monotonic() + 2.0, request, destination, time.monotonic() + 0.25)
        elif words[0] == "send":
            s.sendto(words[3].encode(), (words[1], int(words[2])))
            print("sent", flush=True)
"""


class Agent:
    """AGENT on ip:port in the lab's client namespace."""

    def __init__(self, lab, ip, port):
        self.proc = lab.spawn("client", ["python3", "-c", AGENT, ip, str(port)])
        self.buffer = ""
        assert self.expect(r"^ready$", 10), "agent %s:%d did not start: %s" % (
            ip, port, self.proc.stderr.read() if self.proc.poll() is not None else "")

    def lines(self, timeout):
        """Lines printed within `timeout` s."""
        out = []
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            self.buffer += chunk.decode(errors="replace")
            while "\n" in self.buffer:
                line, self.buffer = self.buffer.split("\n", 1)
                out.append(line)
        return out

    def expect(self, pattern, timeout):
        """The first line matching `pattern` within `timeout` s (others are dropped), or None."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            for line in self.lines(min(0.2, max(0.0, deadline - time.monotonic()))):
                if regex.search(line):
                    return line
        return None

    def command(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def stun(self, host, port):
        """This socket's mapped endpoint as seen by the STUN server at host:port."""
        self.command("stun %s %d" % (host, port))
        line = self.expect(r"^(mapped|timeout)", 5)
        assert line and line.startswith("mapped "), "no STUN answer from %s:%d: %s" % (host, port, line)
        ip, _, mapped_port = line.split()[1].rpartition(":")
        return ip, int(mapped_port)

    def send(self, endpoint, text):
        self.command("send %s %d %s" % (endpoint[0], endpoint[1], text))
        assert self.expect(r"^sent$", 5)

    def received(self, text, timeout):
        """The source "IP:PORT" of datagram `text` if it arrives within `timeout` s, else None."""
        line = self.expect(r"^got %s from " % re.escape(text), timeout)
        return line.rsplit(" ", 1)[1] if line else None

    def close(self):
        netlab.stop_process(self.proc)


def agents(lab, *endpoints):
    started = []
    try:
        for ip, port in endpoints:
            started.append(Agent(lab, ip, port))
    except BaseException:
        for a in started:
            a.close()
        raise
    return started


def nft_list(lab, *what):
    return lab.run("router", ["nft", "list"] + list(what)).stdout


def hairpin_filtered(lab):
    """Packets the REQ-9 filter dropped (the ruleset's named counter)."""
    text = nft_list(lab, "counter", "ip", "punchlab_nat", "hairpin_filtered")
    return int(re.search(r"packets (\d+)", text).group(1))


# --- every preset classifies as what it was built to be ----------------------

def debian_verdict(shown):
    """The line Debian's `stun` (Vovida's RFC 3489 client) prints for a NAT that
    shows these findings: it names the filter only of an independent mapping."""
    words = []
    if shown["mapping"] == "endpoint-independent":
        words.append("Independent Mapping")
        words.append({"endpoint-independent": "Independent Filter",
                      "address-dependent": "Address Dependent Filter",
                      "address-and-port-dependent": "Port Dependent Filter"}[shown["filtering"]])
    else:
        words.append("Dependent Mapping")
    words.append({"preserve": "preserves ports", "random": "random port"}[shown["port_assignment"]])
    words.append("will hairpin" if shown["hairpin"] == "on" else "no hairpin")
    return "Primary: " + ", ".join(words)


def chain_rules(ruleset, chain):
    """The rules of `chain` in a ruleset as NatRuleset writes it (none if absent)."""
    body = re.search(r"\n  chain %s \{\n(.*?)\n  \}\n" % chain, ruleset, re.S)
    if not body:
        return []
    return [line.strip() for line in body.group(1).splitlines()
            if line.strip() and not line.strip().startswith("type ")]


def check_classification(report, hairpin, pooled=False):
    """The lab built and classified the NAT of report["configured"], whose
    knobs (not a name) decide what the ruleset holds."""
    lab = report["lab"]
    configured = report["configured"]
    assert lab["nat"] == configured["spec"] and lab["hairpin"] == hairpin
    assert report["configured"]["hairpin"] == hairpin
    assert report["udp_blocked"] is False
    # Our discovery found what the NAT shows from outside...
    found = {k: report[k] for k in ("mapping", "filtering", "port_assignment", "hairpin")}
    shown = report["expected"]
    assert found == shown, (report["report"], report["notes"])
    assert report["match"] is True and report["differences"] == []
    # ...which is the configuration, but for what nat-observability.h explains.
    hidden = [k for k in found if found[k] != report["configured"][k]]
    assert len(report["notes"]) == len(hidden), report["notes"]
    # Debian's client, from behind the same NAT, agrees.
    assert report["stun_client"] == debian_verdict(shown), report["stun_client"]
    ip, _, _ = report["mapped"].rpartition(":")
    assert ip in lab["external_addresses"], report["mapped"]
    # The router ran what the report says it ran.
    rules = lab["ruleset"]
    random = configured["port_assignment"] == "random"
    eim = configured["mapping"] == "endpoint-independent"
    new_mapping = chain_rules(rules, "mapping")[-1]  # a flow without a mapping yet
    assert new_mapping.startswith("snat ip to "), new_mapping
    assert new_mapping.endswith("fully-random") == random
    assert ("jhash ip saddr mod 2" in new_mapping) == pooled
    assert len(lab["external_addresses"]) == (2 if pooled else 1)
    assert ("@eim" in rules) == eim
    assert ("@taken" in rules) == (eim and not random)
    dnat = chain_rules(rules, "prerouting")
    assert any(r.startswith('iifname "lan" ip daddr') for r in dnat) == (hairpin == "on")
    cone_dnat = any(r.startswith('iifname "wan" ') for r in dnat)
    assert cone_dnat == (configured["filtering"] != "address-and-port-dependent")
    assert lab["linux_differences"], "every lab NAT differs from the model somewhere"


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_classifies_as_configured(punchlab_bin, node_bin, preset):
    pooled = preset == "cgnat"
    report = classify(punchlab_bin, node_bin, preset, *(POOL if pooled else ()))
    assert report["configured"]["spec"] == preset
    check_classification(report, "on" if preset == "cgnat" else "off", pooled)
    if preset == "symmetric-port-preserving":
        # Port preservation hides the per-destination mapping from any single
        # socket (test_port_overloading... shows it with two inside hosts).
        assert report["configured"]["mapping"] == "address-and-port-dependent"
        assert report["mapping"] == "endpoint-independent"
    if preset == "cgnat":
        assert report["lab"]["udp_timeout"] == "30s"
        assert report["lab"]["external_addresses"] == ["203.0.113.254", "203.0.113.253"]


@pytest.mark.parametrize("preset", PRESETS)
def test_hairpinning_is_a_knob(punchlab_bin, node_bin, preset):
    """Every preset with its hairpinning flipped (cgnat's is on by default)."""
    hairpin = "off" if preset == "cgnat" else "on"
    pooled = preset == "cgnat"
    report = classify(punchlab_bin, node_bin, "%s,hairpin=%s" % (preset, hairpin),
                      *(POOL if pooled else ()))
    check_classification(report, hairpin, pooled)
    if preset == "symmetric":
        # Hairpinning is on, but the probe loops back from a fresh mapping
        # that the client's own mapping never sent to, and the filter drops it
        # (test_symmetric_hairpin_is_dropped_by_the_filter shows the drop).
        assert report["hairpin"] == "off"
        assert any("hairpinning is on" in n for n in report["notes"])
    else:
        assert report["hairpin"] == hairpin


# Knob combinations no preset names: the lab builds them from the knobs.
BEYOND_PRESETS = ["symmetric,filtering=endpoint-independent", "full-cone,ports=random",
                  "symmetric,filtering=address-dependent,hairpin=on"]


@pytest.mark.parametrize("spec", BEYOND_PRESETS)
def test_knob_combinations_beyond_the_presets_classify_as_configured(punchlab_bin, node_bin, spec):
    report = classify(punchlab_bin, node_bin, spec)
    assert report["configured"]["spec"] == spec
    check_classification(report, report["configured"]["hairpin"])
    if spec.startswith("symmetric,filtering="):
        # Random ports show the per-destination mapping; the looser filter
        # lets the server's other address in (RFC 5780 tests II and III).
        assert report["mapping"] == "address-and-port-dependent"
        assert report["filtering"] == spec.split("=")[1].split(",")[0]
    assert any(d.startswith("filtering: ") for d in report["lab"]["linux_differences"]) == \
        spec.startswith("symmetric,")


@pytest.mark.parametrize("spec,knob", [("mapping=address-dependent", "mapping=address-dependent"),
                                       ("full-cone,ports=sequential", "ports=sequential"),
                                       ("symmetric,udp_timeout=1500ms", "udp_timeout=1500ms")])
def test_a_knob_linux_cannot_build_is_refused_before_any_lab(punchlab_bin, node_bin, spec, knob):
    proc = start(punchlab_bin, node_bin, spec)
    out, err = proc.communicate(timeout=CLASSIFY_TIMEOUT)
    assert proc.returncode == 2, (out, err)
    assert out == ""
    assert "--real: %s: " % knob in err, err
    assert lab_namespaces(proc.pid) == []


@pytest.mark.parametrize("classic", [False, True], ids=["modern", "classic"])
def test_our_discovery_against_stund_agrees(punchlab_bin, node_bin, classic):
    """Our client also reads Debian's RFC 3489 server (CHANGED-ADDRESS as the
    alternate), with modern or classic requests, and reaches the same verdict."""
    with HeldLab(punchlab_bin, node_bin, "restricted-cone") as lab:
        argv = [node_bin, "nat-discover", "%s:3478" % A1, "--json", "--timeout", "1.5s"]
        result = lab.run("client", argv + (["--classic"] if classic else []), timeout=30)
        report = json.loads(result.stdout)
        assert report["other_address"] == "%s:3479" % A2
        assert (report["mapping"], report["filtering"], report["port_assignment"],
                report["hairpin"]) == ("endpoint-independent", "address-dependent", "preserve",
                                       "off"), report["report"]


# --- what one socket cannot see -------------------------------------------------

@pytest.mark.parametrize("preset", ["symmetric-port-preserving", "port-restricted-cone"])
def test_port_overloading_shows_the_mapping_per_destination(punchlab_bin, node_bin, preset):
    """Two inside hosts using the same port. Linux masquerade
    (symmetric-port-preserving) maps per destination: the second host gets
    the same external port towards another destination, and then a different
    one towards the first host's destination, so its mapping depends on the
    destination. The endpoint-independent port-restricted cone keeps each
    inside endpoint on one external port of its own."""
    with HeldLab(punchlab_bin, node_bin, preset) as lab:
        lab.add_client_address("198.51.100.11")
        first, second = agents(lab, ("198.51.100.11", 5000), (CLIENT, 5000))
        try:
            assert first.stun(A1, 3480) == (ROUTER_WAN, 5000)
            towards_alt = second.stun(*OUR_SERVER_ALT)
            towards_first = second.stun(A1, 3480)
        finally:
            first.close()
            second.close()
        if preset == "symmetric-port-preserving":
            assert towards_alt == (ROUTER_WAN, 5000)  # shared with the first host
            assert towards_first[1] != 5000           # that flow is taken: a new port
        else:
            assert towards_alt[1] != 5000               # the first host holds 5000
            assert towards_first == towards_alt         # one mapping for every destination


def test_cgnat_pools_external_addresses_paired(punchlab_bin, node_bin):
    """cgnat's two external addresses: every inside address always gets the
    same one (paired pooling), whatever the port or destination, and the
    inside addresses spread over both. Ports are not preserved."""
    inside = ["198.51.100.%d" % i for i in range(10, 16)]
    with HeldLab(punchlab_bin, node_bin, "cgnat", *POOL) as lab:
        for ip in inside[1:]:
            lab.add_client_address(ip)
        endpoints = [(ip, port) for ip in inside for port in (42000, 42001)]
        started = agents(lab, *endpoints)
        try:
            seen = {}
            preserved = 0
            for (ip, port), agent in zip(endpoints, started):
                mapped = agent.stun(A1, 3480)
                # Endpoint-independent: the other server sees the same endpoint.
                assert agent.stun(*OUR_SERVER_ALT) == mapped
                seen.setdefault(ip, set()).add(mapped[0])
                preserved += mapped[1] == port
        finally:
            for a in started:
                a.close()
        assert all(len(addresses) == 1 for addresses in seen.values()), seen
        assert set().union(*seen.values()) == CGNAT_POOL, seen
        # Random ports: keeping an inside port is a 1 in 64512 coincidence.
        assert preserved <= 1, preserved


@pytest.mark.parametrize("spec", ["cgnat", "cgnat,hairpin=off", "full-cone,hairpin=on"])
def test_hairpinning_between_two_inside_hosts(punchlab_bin, node_bin, spec):
    """Host A sends to host B's external endpoint. With hairpinning the router
    loops it back to B with A's external endpoint as the source, so B's reply
    comes back through the router too. cgnat filters by address and port: A's
    first datagram is dropped (B's mapping never sent to A's) but opens A's
    mapping for B, so B's answer gets through, and then A's next one (the
    way hole punching works). A full cone lets A in at once; without
    hairpinning nothing arrives."""
    hairpin = "hairpin=off" not in spec
    full_cone = spec.startswith("full-cone")
    with HeldLab(punchlab_bin, node_bin, spec, *(POOL if spec.startswith("cgnat") else ())) as lab:
        lab.add_client_address("198.51.100.11")
        a, b = agents(lab, (CLIENT, 43000), ("198.51.100.11", 43001))
        try:
            ma = a.stun(A1, 3480)
            mb = b.stun(A1, 3480)
            a.send(mb, "a1")
            got = b.received("a1", 1.5)
            assert got == ("%s:%d" % ma if hairpin and full_cone else None), got
            b.send(ma, "b1")
            got = a.received("b1", 1.5)
            assert got == ("%s:%d" % mb if hairpin else None), got
            a.send(mb, "a2")
            got = b.received("a2", 1.5)
            assert got == ("%s:%d" % ma if hairpin else None), got
            # The mappings stayed put: the looped-back datagrams used them.
            assert a.stun(*OUR_SERVER_ALT) == ma and b.stun(*OUR_SERVER_ALT) == mb
        finally:
            a.close()
            b.close()
        if hairpin and not full_cone:
            assert hairpin_filtered(lab) >= 1  # a1


def test_symmetric_hairpin_is_dropped_by_the_filter(punchlab_bin, node_bin):
    """symmetric,hairpin=on classifies as "hairpin off" because the NAT's own
    filter drops the looped-back probe (REQ-9), not because it does not loop
    it back: the drops are counted. An endpoint-independent NAT passes its
    hairpin probes and counts none."""
    with HeldLab(punchlab_bin, node_bin, "symmetric,hairpin=on") as lab:
        assert lab.report["hairpin"] == "off"
        # Both clients' hairpin probes, with their retransmissions.
        assert hairpin_filtered(lab) >= 2
    with HeldLab(punchlab_bin, node_bin, "cgnat") as lab:
        assert lab.report["hairpin"] == "on"
        assert hairpin_filtered(lab) == 0


# --- the UDP timeout ----------------------------------------------------------

UDP_TIMEOUT = 3
IDLE = UDP_TIMEOUT + 2.5


def test_symmetric_mapping_expires_after_udp_timeout(punchlab_bin, node_bin):
    with HeldLab(punchlab_bin, node_bin, "symmetric,udp_timeout=%ds" % UDP_TIMEOUT) as lab:
        local = "%s:41000" % CLIENT
        first, _ = probe(lab, local)
        again, _ = probe(lab, local)
        # While the mapping lives, the same flow keeps its random port...
        assert again == first
        time.sleep(IDLE)
        # ...and once it timed out, the same flow gets a fresh random one.
        later, _ = probe(lab, local)
        assert later != first


def test_cgnat_endpoint_independent_mapping_expires_after_udp_timeout(punchlab_bin, node_bin):
    with HeldLab(punchlab_bin, node_bin, "cgnat,udp_timeout=%ds" % UDP_TIMEOUT) as lab:
        (agent,) = agents(lab, (CLIENT, 41003))
        try:
            mapped = agent.stun(A1, 3480)
            # One random port for every destination while the mapping lives...
            assert agent.stun(*OUR_SERVER_ALT) == mapped
            time.sleep(IDLE)
            # ...and a fresh random one for the next flow once it is gone.
            later = agent.stun(*OUR_SERVER_ALT)
        finally:
            agent.close()
        assert later[1] != mapped[1]


def test_cgnat_udp_timeout_is_30s(punchlab_bin, node_bin):
    """The preset's timeout, in conntrack and in every mapping table."""
    with HeldLab(punchlab_bin, node_bin, "cgnat") as lab:
        for key in ("net.netfilter.nf_conntrack_udp_timeout",
                    "net.netfilter.nf_conntrack_udp_timeout_stream"):
            assert lab.run("router", ["sysctl", "-n", key]).stdout.strip() == "30"
        for kind, name in (("map", "eim"), ("map", "mappings"), ("set", "peers")):
            assert "timeout 30s" in nft_list(lab, kind, "ip", "punchlab_nat", name), name


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
    with HeldLab(punchlab_bin, node_bin, "full-cone,udp_timeout=%ds" % UDP_TIMEOUT) as lab:
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

def kernel_config(option):
    """`option`'s line in /proc/config.gz ("CONFIG_X=y", "# CONFIG_X is not set"), or None."""
    try:
        with gzip.open("/proc/config.gz", "rt") as config:
            for line in config:
                if re.match(r"^(# )?%s[= ]" % option, line):
                    return line.strip()
    except OSError:
        pass
    return None


def test_latency_delays_the_router_server_link(punchlab_bin, node_bin):
    try:
        lab = HeldLab(punchlab_bin, node_bin, "port-restricted-cone", "--latency", "50ms")
    except LabFailed as failed:
        if "no netem qdisc" in failed.err:
            # Say why precisely: netem not built, and whether a module could be loaded.
            evidence = [kernel_config("CONFIG_NET_SCH_NETEM"), kernel_config("CONFIG_MODULES")]
            pytest.skip("this kernel has no netem qdisc (%s): %s"
                        % ("; ".join(e for e in evidence if e) or "no /proc/config.gz",
                           failed.err.strip()))
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
    """Pids of the servers a running classify --real started, once both run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        servers = [ns for ns in lab_namespaces(pid) if ns.endswith("-server")]
        if servers:
            pids = namespace_pids(servers[0])
            if len(pids) >= 2:
                return pids
        time.sleep(0.05)
    pytest.fail("classify --real (pid %d) never started its servers" % pid)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_classification_removes_the_lab(punchlab_bin, node_bin, signum):
    proc = start(punchlab_bin, node_bin, "port-restricted-cone")
    servers = wait_for_servers(proc.pid)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=EXIT_TIMEOUT)
    # It cleans up, then dies of the signal it got, as it would have without a lab.
    assert proc.returncode == -signum, err
    assert "interrupted by signal %d; lab removed" % signum in err
    assert lab_namespaces(proc.pid) == []
    assert all(pid_gone(p) for p in servers)


def test_signal_while_holding_removes_the_lab(punchlab_bin, node_bin):
    lab = HeldLab(punchlab_bin, node_bin, "cgnat")
    assert len(lab_namespaces(lab.proc.pid)) == 3
    servers = namespace_pids(lab.namespaces["server"])
    lab.proc.send_signal(signal.SIGTERM)
    code, err = lab.close()
    assert code == -signal.SIGTERM, err
    assert lab_namespaces(lab.proc.pid) == []
    assert servers and all(pid_gone(p) for p in servers)


def test_killed_lab_is_removed_by_its_guard_and_a_leftover_by_the_next_lab(punchlab_bin, node_bin):
    # A lab from a run whose pid cannot exist any more (above pid_max), as a
    # guard killed together with its lab would leave.
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    fake = "plab%dx1-left" % (pid_max + 1)
    killed = HeldLab(punchlab_bin, node_bin, "symmetric-port-preserving,hairpin=on")
    try:
        assert len(lab_namespaces(killed.proc.pid)) == 3
        servers = namespace_pids(killed.namespaces["server"])
        killed.proc.kill()  # SIGKILL: the process itself cannot clean up
        killed.proc.wait(timeout=EXIT_TIMEOUT)
        # Its servers die with it (PR_SET_PDEATHSIG); its guard deletes its namespaces.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (lab_namespaces(killed.proc.pid) or
                                               not all(pid_gone(p) for p in servers)):
            time.sleep(0.05)
        assert lab_namespaces(killed.proc.pid) == []
        assert servers and all(pid_gone(p) for p in servers)

        subprocess.run(["ip", "netns", "add", fake], check=True, timeout=10)
        classify(punchlab_bin, node_bin, "symmetric")
        assert fake not in netlab._list_namespaces()
    finally:
        killed.close()
        if fake in netlab._list_namespaces():
            remove_namespace(fake)


def test_a_lab_that_cannot_classify_is_removed(punchlab_bin, node_bin):
    """A client that gives no verdict (here: no punchlab-node at all) fails the
    run with exit 4 and a sentence naming the command, and the lab goes."""
    proc = subprocess.Popen([punchlab_bin, "classify", "--nat", "cgnat", "--real", "--node-bin",
                             "/nonexistent/punchlab-node", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _started_pids.append(proc.pid)
    out, err = proc.communicate(timeout=CLASSIFY_TIMEOUT)
    assert proc.returncode == 4, (out, err)
    assert out == ""
    assert "/nonexistent/punchlab-node" in err
    assert lab_namespaces(proc.pid) == []

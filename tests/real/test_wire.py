"""`punchlab-node wire`, the real lab's userspace wire, between two namespaces:
a TAP device in each, joined by the wire, shaped per direction with the
link model the simulation uses (link/link-model.h). Probes carry their send
time (CLOCK_MONOTONIC, shared by every namespace), so the receiver measures
one-way delays.
"""

import json
import os
import subprocess
import sys
import time

import pytest

import netlab

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, "udp_probe.py")
A = "198.51.100.1"
B = "198.51.100.2"
PORT = 40000
REPLY_TIMEOUT = 10.0
MS = 1_000_000
# As the lab runs them (netns-lab.cc kWirePriority, lab-processes.cc
# kLabProcessPriority): the wire, and the processes whose timing a test
# judges, at SCHED_FIFO above every normal process, so other work on the
# machine does not move what is measured.
WIRE_PRIORITY = 10
PROBE_PRIORITY = 5


class Wire:
    def __init__(self, node_bin, seed):
        self.proc = subprocess.Popen([node_bin, "wire", "--seed", str(seed), "--realtime",
                                      str(WIRE_PRIORITY)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.seq = 0

    def command(self, text):
        self.seq += 1
        self.proc.stdin.write("%d %s\n" % (self.seq, text))
        self.proc.stdin.flush()
        match, lines = netlab.wait_for_line(self.proc, r"^%d (ok|error)( (.*))?$" % self.seq,
                                            REPLY_TIMEOUT)
        assert match, "no reply to %r: %r" % (text, lines)
        assert match.group(1) == "ok", match.group(0)
        return match.group(3)

    def shape(self, direction, delay_ms=0, jitter_ms=0, loss=0, rate_bps=0, down=False):
        self.command("shape t %s %d %d %r %d %s" % (direction, delay_ms * MS, jitter_ms * MS, loss,
                                                   rate_bps, "down" if down else "up"))

    def stats(self):
        return json.loads(self.command("stats"))["t"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture
def pair(node_bin):
    """Namespaces a and b joined by a wire (seed 7) as link "t", eth0 in each."""
    with netlab.Lab() as lab:
        a = lab.add_namespace("a")
        b = lab.add_namespace("b")
        wire = Wire(node_bin, 7)
        try:
            wire.command("link t %s eth0 %s eth0" % (a.full_name, b.full_name))
            for ns, cidr in ((a, A + "/24"), (b, B + "/24")):
                ns.add_address("eth0", cidr)
                ns.ip("link", "set", "eth0", "up")
            yield lab, a, b, wire
        finally:
            wire.close()
        # The wire's devices went with it.
        assert "eth0" not in a.ip("link", "show").stdout


def probe(lab, a, b, count, interval_us, size=64, timeout=10.0, dst=B):
    """Sends `count` probes from a to b (at dst); returns [(seq, one-way delay ns)] in arrival order."""
    receiver = lab._spawn(b, [sys.executable, PROBE, "recv", str(PORT), str(count), str(timeout)])
    match, lines = netlab.wait_for_line(receiver, r"^ready$", 10)
    assert match, lines
    a.run([sys.executable, PROBE, "send", dst, str(PORT), str(count), str(interval_us), str(size)],
          timeout=timeout + 10)
    out, err = receiver.communicate(timeout=timeout + 10)
    got = json.loads(out.strip().splitlines()[-1])
    return [(seq, received - sent) for seq, sent, received in got]


def warm_up(lab, a, b):
    # Neighbour resolution (ARP passes the wire unshaped) before measuring.
    probe(lab, a, b, 3, 1000, timeout=3)


def test_delay_is_applied_one_way(pair):
    lab, a, b, wire = pair
    warm_up(lab, a, b)
    wire.shape("ab", delay_ms=20)
    got = probe(lab, a, b, 500, 1000)  # 1,000 packets/s
    assert len(got) == 500
    delays = sorted(d for _, d in got)
    assert delays[0] >= 20 * MS, delays[0]
    # Precision is bench/wire-bench.py's to measure (it depends on the
    # machine's load); here: applied once, not twice. Judged by the fastest
    # packet, not the median: a busy machine adds its own delay to most
    # packets (a median of 20 ms + load can pass 40 ms), but never takes one
    # below its shape, and a delay applied twice puts every packet >= 40 ms.
    assert delays[0] < 40 * MS, delays[0]
    # The fastest packet alone would pass a wire that stacks delays (each
    # packet released 20 ms after the previous one's release: the first at
    # 20 ms, the 50th near a second). The 10th percentile catches that, and
    # load cannot push it past 40 ms: load delays some packets by a few ms
    # (a median of 29 ms at worst seen), not nine in ten by 20 ms more.
    p10 = delays[len(delays) // 10]
    assert p10 < 40 * MS, (p10, delays[len(delays) // 2])
    # The other direction keeps its own shape (none): no packet back waited
    # the 20 ms. Judged by the fastest, as the delay above is: a loaded
    # machine delays the userspace wire's packets (the median was 29 ms in
    # one CI run beside builds and a fuzz run), it never makes one faster
    # than its shape.
    back = sorted(d for _, d in probe(lab, b, a, 100, 1000, dst=A))
    assert back[0] < 20 * MS, back[0]


def test_jitter_varies_delay_but_never_reorders(pair):
    lab, a, b, wire = pair
    warm_up(lab, a, b)
    wire.shape("ab", delay_ms=20, jitter_ms=10)
    got = probe(lab, a, b, 1000, 1000)
    assert [seq for seq, _ in got] == list(range(1000))
    delays = [d for _, d in got]
    assert min(delays) >= 10 * MS
    assert max(delays) - min(delays) > 8 * MS  # jitter was applied


def lost_sequence_numbers(lab, a, b, wire):
    got = probe(lab, a, b, 1000, 500, timeout=5)
    received = {seq for seq, _ in got}
    return sorted(set(range(1000)) - received), wire.stats()


def test_loss_follows_the_seed_and_is_counted(node_bin, pair):
    lab, a, b, wire = pair
    warm_up(lab, a, b)
    wire.shape("ab", loss=0.3)
    lost, stats = lost_sequence_numbers(lab, a, b, wire)
    assert 200 <= len(lost) <= 400, len(lost)
    assert stats["ab"]["lost"] == len(lost)
    # A second wire with the same seed loses the same packets: the loss
    # pattern is the seed's, not real time's.
    wire.close()
    again = Wire(node_bin, 7)
    try:
        again.command("link t %s eth0 %s eth0" % (a.full_name, b.full_name))
        for ns, cidr in ((a, A + "/24"), (b, B + "/24")):
            ns.add_address("eth0", cidr)
            ns.ip("link", "set", "eth0", "up")
        warm_up(lab, a, b)
        again.shape("ab", loss=0.3)
        lost_again, _ = lost_sequence_numbers(lab, a, b, again)
    finally:
        again.close()
        wire.proc = again.proc  # the fixture's close() finds it closed
    assert lost_again == lost


def test_a_link_that_is_down_drops_everything_until_it_is_up(pair):
    lab, a, b, wire = pair
    warm_up(lab, a, b)
    wire.shape("ab", down=True)
    assert probe(lab, a, b, 50, 1000, timeout=1) == []
    assert wire.stats()["ab"]["dropped_down"] >= 50
    wire.shape("ab")
    assert len(probe(lab, a, b, 50, 1000)) == 50


def test_rate_serialises_packets_through_a_queue(pair):
    lab, a, b, wire = pair
    warm_up(lab, a, b)
    wire.shape("ab", rate_bps=1_000_000)
    # 50 IPv4 packets of 1250 bytes at once: 10 ms each on the wire. Sender
    # and receiver at SCHED_FIFO (the wire is too): the span below ends at
    # one packet's arrival, which a busy machine could otherwise delay by
    # however long it keeps the receiver from running.
    fifo = ["chrt", "-f", str(PROBE_PRIORITY)]
    receiver = lab._spawn(b, fifo + [sys.executable, PROBE, "recv", str(PORT), "50", "10"])
    assert netlab.wait_for_line(receiver, r"^ready$", 10)[0]
    a.run(fifo + [sys.executable, PROBE, "send", B, str(PORT), "50", "0", str(1250 - 28)],
          timeout=20)
    got = json.loads(receiver.communicate(timeout=20)[0].strip().splitlines()[-1])
    assert [seq for seq, _, _ in got] == list(range(50))
    # Each waits for the ones before it to be serialised: the 50th arrives
    # 50 transmit times after the first was sent, at the earliest (the
    # receiver's own lateness only adds), and not much later.
    span = got[-1][2] - got[0][1]
    assert 500 * MS <= span < 1500 * MS, span
    assert wire.stats()["ab"]["dropped_queue"] == 0

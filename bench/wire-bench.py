#!/usr/bin/env python3
"""The real lab's userspace wire (`punchlab-node wire`): how precisely it
delays, how much it adds, how many packets it carries. Needs root (network
namespaces); prints numbers, judges nothing.

    sudo flock /tmp/punchlab-lab.lock python3 bench/wire-bench.py --bin-dir build/sim

1. delay error: one link, 20 ms one way, 1,000 packets/s for 5 s; the
   one-way delay each probe saw (CLOCK_MONOTONIC stamps, shared by every
   namespace) minus 20 ms. Goal: under 0.5 ms.
2. added latency per hop: the same probes through the wire with no delay,
   against a plain veth pair (the kernel alone).
3. aggregate: LINKS links, one sender per link sending as fast as it can;
   the packets per second the wire delivered over all links. Goal: at
   least 20,000 on 2 cores.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "real"))
import netlab  # noqa: E402

PROBE = os.path.join(HERE, "..", "tests", "real", "udp_probe.py")
MS = 1_000_000


class Wire:
    def __init__(self, node_bin, seed=1, realtime=True):
        rt = ["--realtime", "10"] if realtime else []
        self.proc = subprocess.Popen([node_bin, "wire", "--seed", str(seed)] + rt, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.seq = 0

    def command(self, text):
        self.seq += 1
        self.proc.stdin.write("%d %s\n" % (self.seq, text))
        self.proc.stdin.flush()
        match, lines = netlab.wait_for_line(self.proc, r"^%d ok( (.*))?$" % self.seq, 10)
        if not match:
            raise RuntimeError("wire: %r -> %r" % (text, lines))
        return match.group(2)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def pair(lab, wire, k):
    a = lab.add_namespace("a%d" % k)
    b = lab.add_namespace("b%d" % k)
    ends = (("198.51.100.%d/30" % (4 * k + 1)), ("198.51.100.%d/30" % (4 * k + 2)))
    if wire:
        wire.command("link l%d %s eth0 %s eth0" % (k, a.full_name, b.full_name))
        for ns, cidr in ((a, ends[0]), (b, ends[1])):
            ns.add_address("eth0", cidr)
            ns.ip("link", "set", "eth0", "up")
    else:
        lab.link(a, "eth0", [ends[0]], b, "eth0", [ends[1]])
    return a, b, ends[1].split("/")[0]


def one_way(lab, a, b, dst, count, interval_us, timeout=20.0, port=40000):
    receiver = lab._spawn(b, [sys.executable, PROBE, "recv", str(port), str(count), str(timeout)])
    netlab.wait_for_line(receiver, r"^ready$", 10)
    a.run([sys.executable, PROBE, "send", dst, str(port), str(count), str(interval_us), "64"],
          timeout=timeout + 10)
    out, _ = receiver.communicate(timeout=timeout + 10)
    return [(r - s) for _, s, r in json.loads(out.strip().splitlines()[-1])]


def describe(values_ns):
    v = sorted(values_ns)
    pick = lambda q: v[min(len(v) - 1, int(q * len(v)))] / 1e6  # noqa: E731
    return "min %.3f ms, median %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms (%d probes)" % (
        v[0] / 1e6, pick(0.5), pick(0.9), pick(0.99), v[-1] / 1e6, len(v))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default="build/sim")
    parser.add_argument("--links", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    node_bin = os.path.abspath(os.path.join(args.bin_dir, "punchlab-node"))
    count = int(1000 * args.seconds)
    print("wire bench on %d cores, load average %.2f" % (os.cpu_count(), os.getloadavg()[0]))

    with netlab.Lab() as lab:
        wire = Wire(node_bin)
        try:
            a, b, dst = pair(lab, wire, 0)
            one_way(lab, a, b, dst, 3, 1000, timeout=3)  # neighbour resolution
            wire.command("shape l0 ab %d 0 0 0 up" % (20 * MS))
            delays = one_way(lab, a, b, dst, count, 1000)
            errors = [abs(d - 20 * MS) for d in delays]
            own = json.loads(wire.command("stats"))["l0"]["ab"]
            print("1. delay error, 20 ms one way at 1,000 packets/s for %.0f s:" % args.seconds)
            print("   the wire's own lateness (write time - due time): mean %d us, max %d us, "
                  "%d of %d over 0.5 ms (goal < 0.5 ms)" % (
                      own["lateness_mean_us"], own["lateness_max_us"], own["late_over_500us"],
                      own["delivered"]))
            print("   end to end |delay - 20 ms| (includes the receiver's own wake-up): %s" %
                  describe(errors))

            wire.command("shape l0 ab 0 0 0 0 up")
            wired = one_way(lab, a, b, dst, count, 1000)
            c, d, dst2 = pair(lab, None, 1)
            one_way(lab, c, d, dst2, 3, 1000, timeout=3)
            plain = one_way(lab, c, d, dst2, count, 1000, port=40001)
            print("2. one way with no configured delay, 1,000 packets/s:")
            print("   through the wire: %s" % describe(wired))
            print("   plain veth:       %s" % describe(plain))
            # The minimum is the path's own cost; medians carry the Python
            # receiver's wake-up on a loaded machine.
            print("   added per hop (minimum through the wire - minimum through a veth): %.3f ms" % (
                (min(wired) - min(plain)) / 1e6))

            ends = [pair(lab, wire, 10 + k) for k in range(args.links)]
            for a, b, dst in ends:
                one_way(lab, a, b, dst, 3, 1000, timeout=3)
            before = json.loads(wire.command("stats"))
            per_link = 40000
            receivers = [lab._spawn(b, [sys.executable, PROBE, "recv", "40002", str(per_link), "15"])
                         for _, b, _ in ends]
            for r in receivers:
                netlab.wait_for_line(r, r"^ready$", 10)
            start = time.monotonic()
            senders = [lab._spawn(a, [sys.executable, PROBE, "send", dst, "40002", str(per_link),
                                      "0", "64"]) for a, _, dst in ends]
            for s in senders:
                s.communicate(timeout=60)
            send_time = time.monotonic() - start
            got = 0
            for r in receivers:
                out, _ = r.communicate(timeout=60)
                got += len(json.loads(out.strip().splitlines()[-1]))
            after = json.loads(wire.command("stats"))
            delivered = sum(after["l%d" % (10 + k)]["ab"]["delivered"] -
                            before["l%d" % (10 + k)]["ab"]["delivered"] for k in range(args.links))
            print("3. aggregate, %d links, one sender each as fast as it can (%d packets each):" % (
                args.links, per_link))
            print("   the wire delivered %d packets in %.2f s: %.0f packets/s (goal >= 20,000); "
                  "receivers got %d" % (delivered, send_time, delivered / send_time, got))
        finally:
            wire.close()


if __name__ == "__main__":
    main()

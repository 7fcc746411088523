"""UDP probes for the wire tests, run inside a namespace (ip netns exec).

    udp_probe.py recv PORT COUNT TIMEOUT_S   prints one JSON list: [seq, sent_ns, received_ns]
    udp_probe.py send HOST PORT COUNT INTERVAL_US SIZE

Times are CLOCK_MONOTONIC, which every network namespace shares, so a
receiver in one namespace measures the one-way delay from a sender in another.
"""

import json
import socket
import struct
import sys
import time


def recv(port, count, timeout):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("0.0.0.0", port))
    print("ready", flush=True)
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        now = time.monotonic_ns()
        seq, sent = struct.unpack("!QQ", data[:16])
        got.append([seq, sent, now])
    print(json.dumps(got), flush=True)


def send(host, port, count, interval_us, size):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic_ns()
    for seq in range(count):
        due = start + seq * interval_us * 1000
        while time.monotonic_ns() < due:
            pass
        sock.sendto(struct.pack("!QQ", seq, time.monotonic_ns()).ljust(size, b"\0"), (host, port))


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))

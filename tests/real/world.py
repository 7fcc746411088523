"""The routed world the real-peer tests run in, and helpers to drive it.

    client 198.51.100.10 --- 198.51.100.1 router 203.0.113.254 --- server 203.0.113.1
                                                                          203.0.113.2

The router forwards without NAT unless a test calls World.masquerade().
"""

import json
import shutil
import subprocess
import time

import pytest

import netlab

CLIENT = "198.51.100.10"
ROUTER_LAN = "198.51.100.1"
ROUTER_WAN = "203.0.113.254"
A1 = "203.0.113.1"
A2 = "203.0.113.2"
STUN_PORT = 3478
ALT_PORT = 3479
READY_TIMEOUT = 10.0
# IPv6 (documentation prefix 2001:db8::/32), added by World.enable_ipv6().
CLIENT6 = "2001:db8:1::10"
ROUTER6_LAN = "2001:db8:1::1"
ROUTER6_WAN = "2001:db8:2::fe"
A1_6 = "2001:db8:2::1"
A2_6 = "2001:db8:2::2"


def split_endpoint(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def require_tool(name, package):
    if shutil.which(name) is None:
        pytest.fail("%s is missing: install the Debian package %s (scripts/setup.sh)" % (name, package))



class World:
    def __init__(self, lab, node_bin, tmp_path):
        self.lab = lab
        self.node_bin = node_bin
        self.tmp_path = tmp_path
        self.client = lab.add_namespace("client")
        self.router = lab.add_namespace("router")
        self.server = lab.add_namespace("server")
        lab.link(self.client, "eth0", [CLIENT + "/24"], self.router, "lan", [ROUTER_LAN + "/24"])
        lab.link(self.router, "wan", [ROUTER_WAN + "/24"], self.server, "eth0",
                 [A1 + "/24", A2 + "/24"])
        self.router.sysctl("net.ipv4.ip_forward", 1)
        self.client.route_default(ROUTER_LAN)
        self.server.route_default(ROUTER_WAN)

    def enable_ipv6(self):
        """The same routed world over IPv6 as well (no NAT)."""
        self.client.add_address("eth0", CLIENT6 + "/64")
        self.router.add_address("lan", ROUTER6_LAN + "/64")
        self.router.add_address("wan", ROUTER6_WAN + "/64")
        self.server.add_address("eth0", A1_6 + "/64")
        self.server.add_address("eth0", A2_6 + "/64")
        self.router.sysctl("net.ipv6.conf.all.forwarding", 1)
        self.client.ip("-6", "route", "add", "default", "via", ROUTER6_LAN)
        self.server.ip("-6", "route", "add", "default", "via", ROUTER6_WAN)

    def masquerade(self, options=""):
        """Source NAT on the router's outside interface, as a home router does."""
        self.router.nft(
            "table ip nat {\n"
            "  chain postrouting {\n"
            "    type nat hook postrouting priority srcnat; policy accept;\n"
            "    oifname \"wan\" masquerade %s\n"
            "  }\n"
            "}\n" % options)

    def start_our_server(self, alternate=True, primary=A1 + ":%d" % STUN_PORT,
                         alternate_at=A2 + ":%d" % ALT_PORT):
        """Our stun-server in the server namespace; returns once it says it listens."""
        argv = [self.node_bin, "stun-server", "--listen", primary]
        if alternate:
            argv += ["--alternate", alternate_at]
        proc = self.server.spawn(argv)
        match, lines = netlab.wait_for_line(proc, r"^stun-server listening on (.*)$", READY_TIMEOUT)
        if not match:
            code, out, err = netlab.stop_process(proc)
            pytest.fail("stun-server did not get ready: exit %s, %s %s %s" % (code, lines, out, err))
        return proc

    def probe(self, server, *flags, timeout=3.0):
        """Our stun-probe from the client namespace; returns (exit code, JSON or None, stderr)."""
        argv = [self.node_bin, "stun-probe", server, "--json", "--timeout", str(timeout), *flags]
        result = self.client.run(argv, check=False, timeout=timeout + 10)
        report = json.loads(result.stdout) if result.stdout.strip() else None
        return result.returncode, report, result.stderr

    def wait_until_stun_answers(self, server, proc):
        """Polls `server` with short probes until one succeeds (for peers that
        print no readiness line). Bounded by READY_TIMEOUT."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            code, _, _ = self.probe(server, timeout=0.3)
            if code == 0:
                return
        code, out, err = netlab.stop_process(proc)
        pytest.fail("%s never answered STUN (exit %s): %s %s" % (server, code, out[-2000:],
                                                                 err[-2000:]))



def run_to_end(proc, timeout):
    """Waits for a spawned process to exit by itself; returns (code, out, err)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        code, out, err = netlab.stop_process(proc)
        raise AssertionError("still running after %ss; output so far: %s %s" % (timeout, out, err))
    return proc.returncode, out, err

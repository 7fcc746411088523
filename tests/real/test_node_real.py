"""`punchlab-node node` on real sockets, two nodes behind real Linux NATs:

    node A 198.51.100.10 -- router A (nft masquerade) 203.0.113.2 --+
                                                                    | server 203.0.113.1
    node B 192.0.2.10    -- router B (nft masquerade) 203.0.113.66 -+ (control, DERP, STUN)

The server namespace also routes between the two routers. Linux masquerade
keeps the source port when it can (the same mapping for every destination)
and conntrack lets in only replies (address-and-port dependent filtering):
a port-restricted cone on each side, which disco's simultaneous pings open.
With `fully-random` each destination gets a new random port: symmetric on
both sides, so the nodes must stay on DERP while data still flows.
"""

import json
import subprocess

import pytest

import netlab

SERVER_A = "203.0.113.1"   # on the link to router A; the servers listen here
SERVER_B = "203.0.113.65"  # on the link to router B
ROUTER_A_WAN = "203.0.113.2"
ROUTER_B_WAN = "203.0.113.66"
NODE_A = "198.51.100.10"
NODE_B = "192.0.2.10"
DERP_PORT = 3340
STUN_PORT = 3478
CONTROL_PORT = 8080
READY_TIMEOUT = 10.0
DIRECT_WITHIN_MS = 10000


def run_json(node_bin, *args):
    result = subprocess.run([node_bin, *args, "--json"], capture_output=True, text=True,
                            timeout=10, check=True)
    return json.loads(result.stdout)


def wait_ready(proc, pattern):
    match, lines = netlab.wait_for_line(proc, pattern, READY_TIMEOUT)
    if not match:
        code, out, err = netlab.stop_process(proc)
        pytest.fail("not ready: exit %s, %s %s %s" % (code, lines, out, err))
    return match


class NatWorld:
    def __init__(self, lab, node_bin, masquerade_options):
        self.lab = lab
        self.node_bin = node_bin
        self.server = lab.add_namespace("srv")
        self.routers = [lab.add_namespace("ra"), lab.add_namespace("rb")]
        self.nodes = [lab.add_namespace("na"), lab.add_namespace("nb")]
        lab.link(self.server, "ra", [SERVER_A + "/26"], self.routers[0], "wan",
                 [ROUTER_A_WAN + "/26"])
        lab.link(self.server, "rb", [SERVER_B + "/26"], self.routers[1], "wan",
                 [ROUTER_B_WAN + "/26"])
        lab.link(self.nodes[0], "eth0", [NODE_A + "/24"], self.routers[0], "lan",
                 ["198.51.100.1/24"])
        lab.link(self.nodes[1], "eth0", [NODE_B + "/24"], self.routers[1], "lan", ["192.0.2.1/24"])
        self.server.sysctl("net.ipv4.ip_forward", 1)
        for router, upstream in zip(self.routers, (SERVER_A, SERVER_B)):
            router.sysctl("net.ipv4.ip_forward", 1)
            router.route_default(upstream)
            router.nft("table ip nat {\n"
                       "  chain postrouting {\n"
                       "    type nat hook postrouting priority srcnat; policy accept;\n"
                       "    oifname \"wan\" masquerade %s\n"
                       "  }\n"
                       "}\n"
                       # A home router's firewall. Without it an unsolicited
                       # packet from the peer's NAT (aimed at our mapping) gets
                       # a conntrack entry for local delivery, and our own
                       # later packet to that peer finds its mapping taken and
                       # is moved to another port: no hole punching through
                       # plain Linux masquerade. Dropped packets never confirm
                       # their entry.
                       "table ip filter {\n"
                       "  chain input {\n"
                       "    type filter hook input priority filter; policy accept;\n"
                       "    iifname \"wan\" ct state new drop\n"
                       "  }\n"
                       "}\n" % masquerade_options)
        self.nodes[0].route_default("198.51.100.1")
        self.nodes[1].route_default("192.0.2.1")

    def start_servers(self):
        idp = run_json(self.node_bin, "gen-key", "--kind", "idp")
        derp = self.server.spawn([self.node_bin, "derp-server", "--listen",
                                  "%s:%d" % (SERVER_A, DERP_PORT), "--stun",
                                  "%s:%d" % (SERVER_A, STUN_PORT), "--duration", "50"])
        # Over TLS (the default), its key and self-signed certificate pinned in the map.
        ready = wait_ready(derp, r"^derp-server listening on .*, key (nodekey:[0-9a-f]{64}), "
                                 r"cert (sha256-raw:[0-9a-f]{64})$")
        control = self.server.spawn([
            self.node_bin, "control-server", "--listen", "%s:%d" % (SERVER_A, CONTROL_PORT),
            "--idp-key", idp["public"], "--domains", "lab", "--derp",
            "1:lab:%s:%d:%d@%s,cert=%s" % (SERVER_A, DERP_PORT, STUN_PORT, ready.group(1),
                                           ready.group(2)),
            "--duration", "50"])
        self.control_key = wait_ready(
            control, r"^control-server listening on \S+, key (nodekey:[0-9a-f]{64})$").group(1)
        self.idp_private = idp["private"]

    def run_nodes(self, duration_s):
        """Both nodes send to each other for duration_s; returns each one's JSON lines."""
        keys = [run_json(self.node_bin, "gen-key", "--kind", "node") for _ in self.nodes]
        procs = []
        for i, ns in enumerate(self.nodes):
            token = run_json(self.node_bin, "issue-token", "--idp-private-key", self.idp_private,
                             "--user", "user%d" % i, "--domain", "lab",
                             "--node-key", keys[i]["public"])["token"]
            procs.append(ns.spawn([
                self.node_bin, "node", "--control", "%s:%d" % (SERVER_A, CONTROL_PORT),
                "--control-key", self.control_key, "--token", token,
                "--private-key", keys[i]["private"], "--send-to", keys[1 - i]["public"],
                "--every", "100ms", "--size", "200", "--duration", str(duration_s), "--json"]))
        results = []
        for proc in procs:
            try:
                out, err = proc.communicate(timeout=duration_s + 10)
            except subprocess.TimeoutExpired:
                code, out, err = netlab.stop_process(proc)
                pytest.fail("node still running after %ss: %s %s" % (duration_s + 10, out, err))
            assert proc.returncode == 0, err
            results.append([json.loads(line) for line in out.splitlines() if line.strip()])
        return [keys[0]["public"], keys[1]["public"]], results


def log(lines):
    """The node's events as its own one-line texts, for assertion messages."""
    return "\n".join("%8.1f %s" % (e["at_ms"], e.get("text", json.dumps(e))) for e in lines)


def events(lines, kind):
    return [line for line in lines if line["event"] == kind]


@pytest.fixture
def lab():
    with netlab.Lab() as made:
        yield made
    assert not made.leftovers()


def test_two_port_restricted_cones_go_direct(lab, node_bin):
    world = NatWorld(lab, node_bin, "")
    world.start_servers()
    keys, results = world.run_nodes(9)
    for me, lines in enumerate(results):
        peer = keys[1 - me]
        assert events(lines, "registered"), log(lines)
        assert any(e["peer"] == peer for e in events(lines, "peer_added")), log(lines)
        # netcheck saw this node's router, not its LAN address.
        globals_seen = {e["global_v4"] for e in events(lines, "netcheck_done")}
        assert any(g and g.startswith((ROUTER_A_WAN, ROUTER_B_WAN)[me] + ":")
                   for g in globals_seen), globals_seen
        direct = [e for e in events(lines, "path_changed")
                  if e["peer"] == peer and e["direct"] and e["at_ms"] <= DIRECT_WITHIN_MS]
        assert direct, log(lines)
        # The direct path goes to the peer's NAT mapping, the only address reachable.
        assert direct[0]["to"].startswith("direct %s:" % (ROUTER_B_WAN, ROUTER_A_WAN)[me])
        assert direct[0]["rtt_ms"] is not None and direct[0]["rtt_ms"] > 0
        summary = events(lines, "summary")[-1]
        assert summary["received_direct"] > 0, summary
        assert summary["sent_direct"] > 0, summary
        # Every netmap entry used: no disco key refused, no patch for a
        # peer the node lacks (the server patches only what a session holds).
        assert summary["peers_rejected"] == 0, summary
        assert summary["patches_unknown_peer"] == 0, summary


def test_two_symmetric_nats_stay_on_derp_and_data_flows(lab, node_bin):
    world = NatWorld(lab, node_bin, "fully-random")
    world.start_servers()
    keys, results = world.run_nodes(6)
    for me, lines in enumerate(results):
        peer = keys[1 - me]
        changes = [e for e in events(lines, "path_changed") if e["peer"] == peer]
        # On DERP from the netmap on (PeerAdded's path) or once a home region is known.
        derp_paths = [e["path"] for e in events(lines, "peer_added") if e["peer"] == peer]
        derp_paths += [e["to"] for e in changes]
        assert "derp 1" in derp_paths, log(lines)
        assert not any(e["direct"] for e in changes), changes
        summary = events(lines, "summary")[-1]
        assert summary["received"] > 10, summary
        assert summary["received_direct"] == 0, summary
        assert summary["sent_direct"] == 0, summary

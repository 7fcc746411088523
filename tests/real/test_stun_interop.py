"""Our STUN server and client against STUN peers nobody here wrote, in
network namespaces, with and without a real Linux NAT in between.

Peers: Debian's `stun` (Vovida 0.97 client, RFC 3489 NAT classifier),
`stund` (Vovida 0.97 server), coturn's `turnserver` and `turnutils_stunclient`.
"""

import re
import subprocess

import pytest

import netlab
from world import (A1, A1_6, A2, A2_6, ALT_PORT, CLIENT, CLIENT6, ROUTER_WAN, STUN_PORT,
                   require_tool, run_to_end, split_endpoint)

# Vovida's client walks RFC 3489's tests I, II, I(2), III with retransmits;
# through a filtering NAT tests II and III time out, which takes a few seconds.
STUN_CLIENT_TIMEOUT = 60
PEER_TIMEOUT = 15


def mapped_addresses(stun_verbose_output):
    return re.findall(r"^MappedAddress = ([\d.]+):(\d+)$", stun_verbose_output, re.M)


def stop_our_server(proc):
    code, _, err = netlab.stop_process(proc)
    assert code == 0, err
    stats = re.search(r"stun-server stopped by signal 15: (\d+) requests \((\d+) classic\), "
                      r"(\d+) answered, (\d+) errors, (\d+) from a changed address", err)
    assert stats, err
    keys = ("requests", "classic", "answered", "errors", "changed")
    return dict(zip(keys, map(int, stats.groups())))


# --- Debian's `stun` (RFC 3489 classifier) against our stun-server -----------

def test_debian_stun_client_sees_open_internet_through_our_server(world):
    require_tool("stun", "stun-client")
    server = world.start_our_server(alternate=True)
    # The client always uses port 3478 and finds the alternate through
    # CHANGED-ADDRESS. The verdict goes to stdout; -v's trace (every attribute
    # it decoded, the test results) to stderr.
    result = world.client.run(["stun", A1, "-v"], check=False, timeout=STUN_CLIENT_TIMEOUT)
    out, trace = result.stdout, result.stderr
    assert "Primary: Open" in out, out
    # Vovida's exit status is its NAT-type code: 1 for "Open".
    assert result.returncode == 1, out
    mapped = mapped_addresses(trace)
    assert mapped and all(ip == CLIENT for ip, _ in mapped), trace
    for test in ("test I", "test II", "test III", "test I(2)"):
        assert re.search(r"^%s = 1$" % re.escape(test), trace, re.M), (test, trace)
    assert re.search(r"^is nat  = 0$", trace, re.M), trace
    # Answers to CHANGE-REQUEST came from the swapped endpoints, and each
    # names the alternate relative to where the request arrived (RFC 3489 /
    # RFC 5780): A2:P2 for A1:P1; A1:P2 for A2:P1, where test I(2) goes.
    assert "SourceAddress = %s:%d" % (A2, STUN_PORT) in trace, trace   # change IP
    assert "SourceAddress = %s:%d" % (A1, ALT_PORT) in trace, trace    # change port
    assert "ChangedAddress = %s:%d" % (A2, ALT_PORT) in trace, trace
    assert "ChangedAddress = %s:%d" % (A1, ALT_PORT) in trace, trace
    stats = stop_our_server(server)
    assert stats["classic"] == stats["requests"] > 0
    assert stats["changed"] > 0 and stats["errors"] == 0


@pytest.mark.parametrize("nat_options,verdict", [
    # Linux conntrack: one mapping per internal endpoint while the port is free,
    # replies only from the exact remote endpoint.
    ("", "Primary: Independent Mapping, Port Dependent Filter, preserves ports, no hairpin"),
    # A fresh random port per destination: symmetric.
    ("fully-random", "Primary: Dependent Mapping, random port, no hairpin"),
])
def test_debian_stun_client_classifies_linux_nat_through_our_server(world, nat_options, verdict):
    require_tool("stun", "stun-client")
    world.masquerade(nat_options)
    server = world.start_our_server(alternate=True)
    result = world.client.run(["stun", A1, "-v"], check=False, timeout=STUN_CLIENT_TIMEOUT)
    assert verdict in result.stdout, result.stdout
    mapped = mapped_addresses(result.stderr)
    assert mapped and all(ip == ROUTER_WAN for ip, _ in mapped), result.stderr
    assert re.search(r"^is nat  = 1$", result.stderr, re.M), result.stderr
    stop_our_server(server)


# --- coturn's turnutils_stunclient against our stun-server -------------------

def reflexive_addresses(output):
    return re.findall(r"UDP reflexive addr: ([\d.]+):(\d+)$", output, re.M)


@pytest.mark.parametrize("behind_nat", [False, True], ids=["routed", "masquerade"])
def test_turnutils_stunclient_gets_mapped_address_from_our_server(world, behind_nat):
    require_tool("turnutils_stunclient", "coturn")
    if behind_nat:
        world.masquerade()
    # Without an alternate the server sends no OTHER-ADDRESS, so the client
    # does one plain binding and exits.
    server = world.start_our_server(alternate=False)
    result = world.client.run(["turnutils_stunclient", A1], check=False, timeout=PEER_TIMEOUT)
    assert result.returncode == 0, result
    found = reflexive_addresses(result.stdout)
    expected_ip = ROUTER_WAN if behind_nat else CLIENT
    # It logs every line twice (log file "stdout" and stdout).
    assert found and all(ip == expected_ip for ip, _ in found), result.stdout
    assert "RFC 5780" not in result.stdout
    stats = stop_our_server(server)
    assert stats["requests"] == 1 and stats["answered"] == 1 and stats["classic"] == 0


def test_turnutils_stunclient_reads_rfc5780_attributes_from_our_server(world):
    require_tool("turnutils_stunclient", "coturn")
    server = world.start_our_server(alternate=True)
    client = world.client.spawn(["turnutils_stunclient", A1])
    match, lines = netlab.wait_for_line(client, r"UDP reflexive addr: ([\d.]+):(\d+)$",
                                        PEER_TIMEOUT)
    # Only the first answer's RFC 5780 attributes are checked here; the test
    # that runs the client to completion checks steps 2 and 3.
    netlab.stop_process(client)
    assert match, lines
    assert match.group(1) == CLIENT
    text = "\n".join(lines)
    assert "RFC 5780 response 1" in text
    assert "Response origin: : %s:%d" % (A1, STUN_PORT) in text, text
    assert "Other addr: : %s:%d" % (A2, ALT_PORT) in text, text
    stop_our_server(server)


def test_turnutils_stunclient_completes_rfc5780_exchange_with_our_server(world):
    require_tool("turnutils_stunclient", "coturn")
    server = world.start_our_server(alternate=True)
    try:
        # After an answer with OTHER-ADDRESS the client sends step 2 with
        # RESPONSE-PORT (its port + 1) and CHANGE-REQUEST, then step 3 with
        # CHANGE-REQUEST and PADDING from that new port; it waits for each
        # answer with no timeout of its own, so run_to_end bounds it.
        client = world.client.spawn(["turnutils_stunclient", A1])
        code, out, _ = run_to_end(client, PEER_TIMEOUT)
    finally:
        stats = stop_our_server(server)
    assert code == 0, out
    for step in (1, 2, 3):
        assert "RFC 5780 response %d" % step in out, out
    found = reflexive_addresses(out)
    assert found and all(ip == CLIENT for ip, _ in found), out
    # Steps 1 and 2 leave from port X, step 3 from X + 1: step 2's answer
    # reached X + 1, the RESPONSE-PORT, or the client would still be waiting.
    ports = sorted({int(port) for _, port in found})
    assert len(ports) == 2 and ports[1] == ports[0] + 1, out
    # Steps 2 and 3 asked to change IP and port: answered from A2:P2.
    assert "Response origin: : %s:%d" % (A2, ALT_PORT) in out, out
    assert stats == {"requests": 3, "classic": 0, "answered": 3, "errors": 0, "changed": 2}, stats


# --- our stun-probe against stund (Vovida 0.97 server) -----------------------

@pytest.mark.parametrize("flags,answered_from", [
    ([], (A1, STUN_PORT)),
    (["--classic"], (A1, STUN_PORT)),
    (["--change-port"], (A1, ALT_PORT)),
    (["--change-ip"], (A2, STUN_PORT)),
    (["--classic", "--change-ip", "--change-port"], (A2, ALT_PORT)),
], ids=["modern", "classic", "change-port", "change-ip", "classic-change-both"])
def test_our_probe_gets_mapped_address_from_stund(world, flags, answered_from):
    require_tool("stund", "stun-server")
    # stund needs two addresses: -h primary, -a alternate; ports 3478 / 3479.
    stund = world.server.spawn(["stund", "-h", A1, "-a", A2])
    server = "%s:%d" % (A1, STUN_PORT)
    world.wait_until_stun_answers(server, stund)
    code, report, err = world.probe(server, *flags)
    netlab.stop_process(stund)
    assert code == 0, err
    assert report["result"] == "success"
    assert split_endpoint(report["mapped"])[0] == CLIENT
    assert report["mapped"] == report["local"]
    assert split_endpoint(report["response_source"]) == answered_from
    # stund sends SOURCE-ADDRESS / CHANGED-ADDRESS (RFC 3489) to both kinds of request.
    assert split_endpoint(report["response_origin"]) == answered_from
    assert report["other_address"] == "%s:%d" % (A2, ALT_PORT)
    assert report["software"] == "Vovida.org 0.97"


# --- our stun-probe against coturn's turnserver -------------------------------

def start_turnserver(world, listening_ips):
    require_tool("turnserver", "coturn")
    argv = ["turnserver", "-n", "--no-cli", "--stun-only", "--no-tls", "--no-dtls",
            "--listening-port", str(STUN_PORT), "--log-file", "stdout", "--simple-log",
            # Keep it out of /var: its pid file and (unused) user database.
            "--pidfile", str(world.tmp_path / "turnserver.pid"),
            "--userdb", str(world.tmp_path / "turndb")]
    for ip in listening_ips:
        argv += ["--listening-ip", ip]
    proc = world.server.spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    world.wait_until_stun_answers("%s:%d" % (listening_ips[0], STUN_PORT), proc)
    return proc


@pytest.mark.parametrize("behind_nat", [False, True], ids=["routed", "masquerade"])
def test_our_probe_gets_mapped_address_from_coturn(world, behind_nat):
    if behind_nat:
        world.masquerade()
    turnserver = start_turnserver(world, [A1])
    code, report, err = world.probe("%s:%d" % (A1, STUN_PORT), "--local", "%s:40000" % CLIENT)
    netlab.stop_process(turnserver)
    assert code == 0, err
    assert report["local"] == "%s:40000" % CLIENT
    # masquerade keeps the source port when it is free.
    assert report["mapped"] == "%s:40000" % (ROUTER_WAN if behind_nat else CLIENT)
    assert report["response_origin"] == "%s:%d" % (A1, STUN_PORT)
    assert report["software"].startswith("Coturn")


def test_our_probe_change_request_against_coturn_rfc5780(world):
    # With two listening IPs coturn does RFC 5780; its alternate port is port + 1.
    turnserver = start_turnserver(world, [A1, A2])
    code, report, err = world.probe("%s:%d" % (A1, STUN_PORT), "--change-ip", "--change-port")
    netlab.stop_process(turnserver)
    assert code == 0, err
    assert split_endpoint(report["mapped"])[0] == CLIENT
    assert report["response_source"] == "%s:%d" % (A2, ALT_PORT)
    assert report["response_origin"] == "%s:%d" % (A2, ALT_PORT)
    assert report["other_address"] == "%s:%d" % (A2, ALT_PORT)


def test_coturn_client_completes_rfc5780_with_coturn_server(world):
    """Control: coturn's own server completes the same exchange in this lab."""
    require_tool("turnutils_stunclient", "coturn")
    turnserver = start_turnserver(world, [A1, A2])
    client = world.client.spawn(["turnutils_stunclient", A1])
    code, out, _ = run_to_end(client, PEER_TIMEOUT)
    netlab.stop_process(turnserver)
    assert code == 0
    assert "RFC 5780 response 3" in out, out


# --- our own pair through a real Linux NAT -------------------------------------

def test_our_probe_through_masquerade_sees_the_routers_address(world):
    world.masquerade()
    server = world.start_our_server(alternate=True)
    code, report, err = world.probe("%s:%d" % (A1, STUN_PORT), "--local", "%s:40001" % CLIENT)
    assert code == 0, err
    assert report["mapped"] == "%s:40001" % ROUTER_WAN
    assert report["other_address"] == "%s:%d" % (A2, ALT_PORT)
    # The NAT filters by address and port: an answer from the other IP and
    # port never gets back in, so the probe times out (exit 1).
    code, report, err = world.probe("%s:%d" % (A1, STUN_PORT), "--change-ip", "--change-port",
                                    "--local", "%s:40001" % CLIENT, timeout=1.0)
    assert code == 1 and report["result"] == "timeout", (report, err)
    assert "no response from %s:%d" % (A1, STUN_PORT) in err
    stats = stop_our_server(server)
    # The server did answer it: the NAT dropped the answer.
    assert stats["changed"] >= 1


# --- IPv6 ---------------------------------------------------------------------

def test_ipv6_probe_and_coturn_client_against_our_server(world):
    world.enable_ipv6()
    server = world.start_our_server(alternate=True, primary="[%s]:%d" % (A1_6, STUN_PORT),
                                    alternate_at="[%s]:%d" % (A2_6, ALT_PORT))
    target = "[%s]:%d" % (A1_6, STUN_PORT)
    code, report, err = world.probe(target)
    assert code == 0, err
    assert split_endpoint(report["mapped"])[0] == CLIENT6
    assert report["mapped"] == report["local"]
    assert report["other_address"] == "[%s]:%d" % (A2_6, ALT_PORT)
    code, report, err = world.probe(target, "--change-ip", "--change-port")
    assert code == 0, err
    assert report["response_source"] == "[%s]:%d" % (A2_6, ALT_PORT)
    stop_our_server(server)

    require_tool("turnutils_stunclient", "coturn")
    server = world.start_our_server(alternate=False, primary=target)
    result = world.client.run(["turnutils_stunclient", A1_6], check=False, timeout=PEER_TIMEOUT)
    assert result.returncode == 0, result
    found = re.findall(r"UDP reflexive addr: \[?([0-9a-f:]+)\]?:(\d+)$", result.stdout, re.M)
    assert found and all(ip == CLIENT6 for ip, _ in found), result.stdout
    stop_our_server(server)

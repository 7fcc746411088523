"""Port mapping in the real lab (issue 18's done-when, as root): the library's
matrix cells run with `punchlab run --real`'s runner, judged by what crossed
the lab's wire.

symmetric+pmp x symmetric: nat-a's router runs Debian's miniupnpd (NAT-PMP),
alice's node maps its port there as Tailscale's portmapper does and publishes
the mapped endpoint, and the pair goes direct. symmetric+upnp x symmetric: the
same with miniupnpd's UPnP IGD only (SSDP, then HTTP/SOAP to its port 2869):
the node's UPnP machine is held against an implementation nobody here wrote. symmetric x symmetric, the same
pair without port mapping: relayed throughout. The scenario files are the
ones the simulation runs (scenarios/matrix/), cut from 60 s to 15 s: every
expectation they hold ends by 10 s. The path expectations (path, time to
direct) must hold; the RTT-tail and loss checks are reported but not
required here: on this shared 2-core machine a real run's tail follows the
load (two of 200 direct RTTs at 75 ms under load 7, against 60 ms, when the
nodes ran at a normal priority). With the lab's processes at SCHED_FIFO
(session 8) the full 60 s cells held at load ~10 (worst of 1,100 direct RTTs
55.9 ms with NAT-PMP, 57.8 ms with PCP, against 60 ms; 52 ms simulated), but
a SCHED_FIFO thread on this VM still wakes up to 17 ms late now and then at
that load (bench/README.md, fidelity), more than the 2-4 ms left: not a
check that holds reliably here.
"""

import os
import re

from test_run_real import driver, pair, run  # noqa: F401 (driver is a fixture)

MATRIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scenarios",
                      "matrix")
STOP_S = 15


def library(name):
    with open(os.path.join(MATRIX, name + ".yaml")) as f:
        text = f.read()
    cut, n = re.subn(r"(?m)^stop_time: 60s$", "stop_time: %ds" % STOP_S, text)
    assert n == 1, "the library scenario's stop_time moved: %s" % name
    return cut


def wire_packets(results, src, dst, path):
    return sum(row[4] for row in results["wire"]
               if row[1] == src and row[2] == dst and row[3] == path)


def summary(stdout, results):
    return "%s\n%s\n%s" % (stdout, results["expectations"], results["notes"])


def path_expectations_hold(results):
    """The scenario's path and time-to-direct expectations (there are some) all hold."""
    paths = [e for e in results["expectations"]
             if " path " in e["text"] or "time to direct" in e["text"]]
    return bool(paths) and all(e["ok"] for e in paths)


def test_symmetric_with_nat_pmp_goes_direct_by_the_wire(driver, node_bin, tmp_path):  # noqa: F811
    code, stdout, stderr, results, out = run(driver, node_bin, tmp_path,
                                             library("symmetric+pmp--symmetric"), STOP_S)
    assert results is not None, stderr + stdout
    assert code in (0, 1) and path_expectations_hold(results), stderr + summary(stdout, results)
    # Both ways, datagrams crossed between the two NATs' public sides.
    for src, dst in (("alice", "bob"), ("bob", "alice")):
        assert wire_packets(results, src, dst, "direct") > 50, (src, dst, results["wire"][-20:])
    p = pair(results, "alice", "bob")
    assert p["final_path"] == "direct" and p["time_to_direct_s"] is not None, p
    # bob reached alice at the endpoint miniupnpd mapped on nat-a's WAN
    # (11.0.0.0/24), which alice published; its symmetric NAT's own ports
    # would have been useless to bob.
    bob_to_alice = [c for c in results["timeline"]
                    if c["node"] == "bob" and c["peer"] == "alice" and c["path"] == "direct"]
    assert bob_to_alice and bob_to_alice[0]["detail"].startswith("direct 11.0.0.2:"), \
        results["timeline"]
    # miniupnpd serves NAT-PMP and PCP together; the lab says how a NAT-PMP-
    # only router is built.
    assert any("drops PCP requests unanswered" in n for n in results["notes"]), results["notes"]


def test_symmetric_with_upnp_goes_direct_by_the_wire(driver, node_bin, tmp_path):  # noqa: F811
    code, stdout, stderr, results, out = run(driver, node_bin, tmp_path,
                                             library("symmetric+upnp--symmetric"), STOP_S)
    assert results is not None, stderr + stdout
    assert code in (0, 1) and path_expectations_hold(results), stderr + summary(stdout, results)
    for src, dst in (("alice", "bob"), ("bob", "alice")):
        assert wire_packets(results, src, dst, "direct") > 50, (src, dst, results["wire"][-20:])
    assert pair(results, "alice", "bob")["final_path"] == "direct"
    # bob reached alice at the endpoint miniupnpd's IGD mapped on nat-a's WAN.
    bob_to_alice = [c for c in results["timeline"]
                    if c["node"] == "bob" and c["peer"] == "alice" and c["path"] == "direct"]
    assert bob_to_alice and bob_to_alice[0]["detail"].startswith("direct 11.0.0.2:"), \
        results["timeline"]
    # The mapping came through UPnP (the node's counters and disco log say so).
    portmap = results["counters"]["portmap/alice"]
    assert portmap["upnp_mapped"] >= 1 and portmap["mappings_created"] >= 1, portmap
    steps = [d for d in results["disco_log"] if d["node"] == "alice" and d["what"] == "portmap"]
    assert any(d["via"] == "upnp" and d["reason"].startswith("granted") for d in steps), steps


def test_symmetric_without_port_mapping_stays_relayed_by_the_wire(driver, node_bin,  # noqa: F811
                                                                  tmp_path):
    code, stdout, stderr, results, _ = run(driver, node_bin, tmp_path,
                                           library("symmetric--symmetric"), STOP_S)
    assert results is not None, stderr + stdout
    assert code in (0, 1) and path_expectations_hold(results), stderr + summary(stdout, results)
    for src, dst in (("alice", "bob"), ("bob", "alice")):
        assert wire_packets(results, src, dst, "direct") == 0, results["wire"]
        assert wire_packets(results, src, dst, "derp") > 50, results["wire"][-20:]
    assert pair(results, "alice", "bob")["final_path"] == "derp"

"""Loading and validating scenarios through the binding: the model a
validated file becomes, and errors that raise ScenarioError with every
problem as file:line:col (the same the CLI prints)."""

import re

import pytest

import punchlab
from conftest import REPO
from punchlab import nat

FIXTURES = REPO / "tests" / "scenario" / "fixtures"


def expected_errors(path):
    """The '# error: L:C: message' lines the fixture documents itself with."""
    return [tuple(m.groups()) for m in re.finditer(r"^# error: (\d+):(\d+): (.*)$",
                                                  path.read_text(), re.M)]


def test_bad_file_raises_every_positioned_error():
    path = FIXTURES / "bad-typos.yaml"
    with pytest.raises(punchlab.ScenarioError) as e:
        punchlab.load_scenario(str(path))
    want = expected_errors(path)
    assert len(want) == 8
    got = [(str(d.line), str(d.column), d.message) for d in e.value.diagnostics]
    assert got == want
    assert all(d.file == str(path) for d in e.value.diagnostics)
    assert (e.value.file, e.value.line, e.value.column) == (str(path), 3, 3)
    # str(): one "file:line:col: message" per line, first problem first.
    assert str(e.value).splitlines()[0] == f"{path}:3:3: unknown key 'latancy' in internet; did you " \
        "mean 'latency'? (keys: latency, jitter, loss, bandwidth)"
    assert isinstance(e.value, ValueError)
    # validate_scenario() returns the same without raising.
    assert [str(d) for d in punchlab.validate_scenario(str(path))] == str(e.value).splitlines()


def test_text_errors_carry_the_given_name():
    with pytest.raises(punchlab.ScenarioError, match=r"^mine\.yaml:3:1: unknown key 'nods' at the top level"):
        punchlab.load_scenario_text("nodes:\n  a: {}\nnods: {}\n", "mine.yaml")


def test_unreadable_file():
    with pytest.raises(punchlab.ScenarioError, match=r"^/nonexistent\.yaml: cannot read the file: No such file"):
        punchlab.load_scenario("/nonexistent.yaml")


def test_valid_file_becomes_the_model():
    s = punchlab.load_scenario(str(FIXTURES / "good-every-key.yaml"))
    assert (s.name, s.seed, s.stop_time_s) == ("every-key", 42, 300.0)
    assert s.internet.latency_s == 0.030 and s.internet.loss == pytest.approx(0.001)
    assert s.internet.bandwidth_bps == 1_000_000_000
    assert [(r.id, r.name, r.latency_s) for r in s.derp_regions] == [(1, "fra", 0.015), (2, "nyc", 0.080)]
    assert s.control.domains == ["corp", "home"]
    office = s.find_nat("office")
    assert office.config == nat.NatConfig.parse(
        "symmetric,mapping=address-dependent,ports=sequential,port_range=20000-29999,hairpin=on,"
        "pooling=arbitrary,refresh=both,udp_timeout=45s,tcp_established_timeout=2h,tcp_transitory_timeout=4m")
    assert office.external_ips == 2 and office.behind == "corp-fw"
    assert [(h.kind, h.name) for h in office.chain] == [(punchlab.HopKind.FIREWALL, "corp-fw")]
    fw = s.find_firewall("corp-fw")
    assert fw.config.udp_timeout_s == 60.0
    assert fw.config.inbound_allow == [nat.PortRule(nat.Protocol.UDP, 41641, 41641)]
    ws1 = s.find_node("ws1")
    # Inherited from defaults.
    assert (ws1.behind, ws1.domain, ws1.start_s, ws1.link.latency_s) == ("office", "corp", 1.0, 0.002)
    assert [h.name for h in ws1.chain] == ["office", "corp-fw"]
    assert s.find_node("nobody") is None
    flow = s.traffic[0]
    assert (flow.src, flow.dst, flow.start_s, flow.stop_s, flow.every_s, flow.size_bytes) == \
        ("ws1", "laptop", 5.0, 240.0, 0.05, 1200)
    assert flow.idle == [(60.0, 90.0)]
    assert s.traffic[1].rate_bps == 1_000_000
    ev = s.events
    assert (ev[0].at_s, ev[0].target_kind, ev[0].target, ev[0].action) == \
        (20.0, punchlab.TargetKind.NAT, "office", punchlab.Action.REBOOT)
    assert ev[1].settings.mapping == nat.Dependence.ENDPOINT_INDEPENDENT
    assert ev[2].settings.block_udp is True and ev[2].duration_s == 10.0
    assert ev[3].settings.latency_s == 0.05 and ev[3].settings.loss == pytest.approx(0.02)
    assert str(ev[5].action) == "down" and ev[5].target_kind == punchlab.TargetKind.DERP_REGION
    ex = s.expectations
    assert (ex[0].check, ex[0].path, ex[0].by_s) == (punchlab.CheckKind.PATH, punchlab.PathKind.DIRECT, 15.0)
    lines = (FIXTURES / "good-every-key.yaml").read_text().splitlines()
    entry = lines.index("  - {between: [ws1, laptop], path: direct, by: 15s}")
    assert (ex[0].where.line, ex[0].where.column) == (entry + 1, 5)
    assert ex[2].time_to_direct_max_s == 10.0 and ex[2].from_s == 20.0
    assert (ex[3].rtt_min_s, ex[3].rtt_max_s, ex[3].over) == (0.010, 0.200, punchlab.PathKind.DIRECT)
    assert ex[4].loss_max == pytest.approx(0.01) and ex[4].loss_min == 0.0
    assert str(ex[5].path) == "none"


def test_text_and_generated_cells():
    yaml = punchlab.pair_scenario_yaml("full-cone", "symmetric", duration_s=20, packets_per_second=5, seed=3)
    s = punchlab.load_scenario_text(yaml, "cell.yaml")
    assert s.name == "matrix-full-cone--symmetric" and s.seed == 3 and s.stop_time_s == 20.0
    assert sorted(n.name for n in s.nodes) == ["alice", "bob"]
    assert s.find_nat(s.find_node("alice").behind).preset == "full-cone"
    assert punchlab.validate_scenario_text(yaml) == []

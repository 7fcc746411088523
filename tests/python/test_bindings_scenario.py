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


def test_disco_log_start_skew_and_data_plane_become_the_model():
    s = punchlab.load_scenario_text("""\
stop_time: 10s
disco_log: false
defaults: {data_plane: sealed-frame}
nodes:
  alice: {start_skew: 250ms}
  bob: {data_plane: wireguard}
""")
    assert s.disco_log is False
    alice, bob = s.find_node("alice"), s.find_node("bob")
    assert (alice.start_skew_s, alice.data_plane) == (0.25, "sealed-frame")
    assert (bob.start_skew_s, bob.data_plane) == (1.0, "wireguard")  # 1s: the default skew
    assert punchlab.load_scenario_text("stop_time: 10s\nnodes: {a: {}}\n").disco_log is True


# control.batch_delay and control.acls: two domains; the first rule writes no
# domain (it is alice's), the second names every node of corp with '*'.
ACLS = """\
stop_time: 10s
control:
  domains: [home, corp]
  batch_delay: 800ms
  acls:
    - {src: [alice], dst: [bob]}
    - {domain: corp, src: ['*'], dst: [nas]}
nodes:
  alice: {domain: home}
  bob: {domain: home}
  carol: {domain: home}
  ws: {domain: corp}
  nas: {domain: corp}
"""


def _control_of(s):
    return (s.control.batch_delay_s,
            [(r.domain, list(r.src), list(r.dst)) for r in s.control.acls])


def test_batch_delay_and_acls_become_the_model():
    s = punchlab.load_scenario_text(ACLS, "acls.yaml")
    assert s.control.batch_delay_s == pytest.approx(0.8)
    assert _control_of(s)[1] == [("home", ["alice"], ["bob"]), ("corp", ["*"], ["nas"])]
    lines = ACLS.splitlines()
    assert [(r.where.line, r.where.column) for r in s.control.acls] == \
        [(lines.index("    - {src: [alice], dst: [bob]}") + 1, 7),
         (lines.index("    - {domain: corp, src: ['*'], dst: [nas]}") + 1, 7)]
    assert repr(s.control.acls[1]) == "<AccessRule corp: [*] -> [nas]>"
    # Unwritten: no batching, no rules (everyone sees everyone).
    plain = punchlab.load_scenario_text("nodes:\n  a: {}\n", "plain.yaml")
    assert (plain.control.batch_delay_s, plain.control.acls) == (0.0, [])


def test_batch_delay_and_acls_round_trip_through_yaml():
    """What the typed model holds, written back as YAML, loads as the same
    model: nothing the file said is lost or changed (an unwritten domain
    comes back written, as the one the loader gave it)."""
    yaml = pytest.importorskip("yaml")
    s = punchlab.load_scenario_text(ACLS, "acls.yaml")
    doc = yaml.safe_load(ACLS)
    doc["control"]["batch_delay"] = f"{round(s.control.batch_delay_s * 1000)}ms"
    doc["control"]["acls"] = [{"domain": r.domain, "src": list(r.src), "dst": list(r.dst)}
                              for r in s.control.acls]
    again = punchlab.load_scenario_text(yaml.safe_dump(doc, sort_keys=False), "again.yaml")
    assert _control_of(again) == _control_of(s)
    assert again.control.domains == s.control.domains


@pytest.mark.parametrize("change, where, message", [
    ("batch_delay: 800ms", "batch_delay: 61s", r"acls\.yaml:4:16: control\.batch_delay 61s is longer than 60s"),
    ("batch_delay: 800ms", "batch_delay: fast", r"acls\.yaml:4:16: .*duration"),
    ("dst: [bob]", "dst: [bobb]", r"acls\.yaml:6:28: unknown node 'bobb' in control\.acls; did you mean 'bob'\?"),
    ("dst: [bob]", "dst: [ws]", r"acls\.yaml:6:28: node 'ws' is in domain 'corp', not in this rule's "
                                r"domain 'home'; rules never cross domains"),
    ("domain: corp", "domain: work", r"acls\.yaml:7:16: unknown domain 'work' in control\.acls"),
    ("{src: [alice], dst: [bob]}", "{src: ['*'], dst: ['*']}",
     r"acls\.yaml:6:7: control\.acls\[0\] names no node, so it says no domain, and control\.domains "
     r"lists 2 \(home, corp\); write the rule's domain, e\.g\. domain: home"),
])
def test_bad_batch_delay_or_acls_raise_the_positioned_error(change, where, message):
    text = ACLS.replace(change, where, 1)
    assert text != ACLS
    with pytest.raises(punchlab.ScenarioError, match="^" + message):
        punchlab.load_scenario_text(text, "acls.yaml")


# A program node (nodes.NAME.run, real lab only) and a NAT whose router maps
# ports (nats.NAME.port_mapping): every key written, and their unwritten
# counterparts.
PROGRAM_AND_PORT_MAPPING = """\
stop_time: 10s
nats:
  home:
    preset: symmetric
    port_mapping:
      protocols: [upnp, pmp]
      lease_limit: 10m
      error: out-of-resources
      answer_from: lan-address
      keep_on_reboot: true
      upnp_lease_error: only-permanent-leases
      multicast_only: true
  office: {preset: full-cone}
nodes:
  alice:
    behind: home
    run:
      command: [sh, peer.sh, "{{peer.public_address}}"]
      env: {ROLE: dialer, PEER: "{{nodes.bob.address}}"}
      files: {peer.sh: "exec my-peer \\"$@\\"\\n", conf/a.txt: "x"}
      path_window: 5s
      stop_grace: 500ms
      expect_exit: 3
      expect_output: ["^up$", "peer [0-9]+"]
      max_output: 1MiB
      max_packet_rate: 1000
  bob:
    behind: office
    run: {command: [turnserver], relay: true}
  carol: {behind: office}
"""


def test_run_and_port_mapping_become_the_model():
    s = punchlab.load_scenario_text(PROGRAM_AND_PORT_MAPPING, "programs.yaml")
    lines = PROGRAM_AND_PORT_MAPPING.splitlines()
    alice = s.find_node("alice").run
    assert alice.command == ["sh", "peer.sh", "{{peer.public_address}}"]  # facts filled in by the lab
    assert alice.env == {"ROLE": "dialer", "PEER": "{{nodes.bob.address}}"}
    assert list(alice.env) == ["ROLE", "PEER"]
    assert alice.files == {"peer.sh": 'exec my-peer "$@"\n', "conf/a.txt": "x"}
    assert (alice.path_window_s, alice.stop_grace_s) == (5.0, 0.5)
    assert (alice.expect_exit, alice.expect_output) == (3, ["^up$", "peer [0-9]+"])
    assert (alice.max_output_bytes, alice.max_packet_rate) == (1 << 20, 1000)
    assert (alice.relay, alice.service) == (False, False)
    assert (alice.where.line, alice.where.column) == (lines.index("    run:") + 2, 7)
    assert repr(alice) == "<Program sh>"
    # bob's defaults: it must run until stop_time, 3 s path window, 2 s grace.
    bob = s.find_node("bob").run
    assert (bob.command, bob.relay, bob.env, bob.files) == (["turnserver"], True, {}, {})
    assert (bob.expect_exit, bob.path_window_s, bob.stop_grace_s) == (None, 3.0, 2.0)
    assert (bob.max_output_bytes, bob.max_packet_rate) == (16 << 20, 20000)
    assert s.find_node("carol").run is None  # punchlab's own client

    home = {n.name: n for n in s.nats}["home"].port_mapping
    assert home.protocols == ["pmp", "upnp"]
    assert home.lease_limit_s == 600.0
    assert (home.error, home.answer_from, home.upnp_lease_error) == \
        ("out-of-resources", "lan-address", "only-permanent-leases")
    assert (home.keep_on_reboot, home.multicast_only) == (True, True)
    assert (home.where.line, home.where.column) == (lines.index("    port_mapping:") + 1, 5)
    assert repr(home) == "<PortMapping [pmp, upnp]>"
    assert {n.name: n for n in s.nats}["office"].port_mapping is None
    plain = punchlab.load_scenario_text(
        "nats: {n: {preset: symmetric, port_mapping: {protocols: [pcp]}}}\nnodes: {a: {behind: n}}\n")
    pcp = plain.nats[0].port_mapping
    assert (pcp.protocols, pcp.lease_limit_s, pcp.error, pcp.answer_from) == \
        (["pcp"], None, "none", "gateway")
    assert (pcp.keep_on_reboot, pcp.upnp_lease_error, pcp.multicast_only) == (False, "none", False)


def _programs_and_mappings(s):
    return ([(n.name, n.run.command, n.run.env, n.run.files, n.run.relay, n.run.service,
              n.run.path_window_s, n.run.stop_grace_s, n.run.expect_exit, n.run.expect_output,
              n.run.max_output_bytes, n.run.max_packet_rate) for n in s.nodes if n.run],
            [(n.name, p.protocols, p.lease_limit_s, p.error, p.answer_from, p.keep_on_reboot,
              p.upnp_lease_error, p.multicast_only)
             for n in s.nats if (p := n.port_mapping)])


def test_run_and_port_mapping_round_trip_through_yaml():
    """Written back as YAML from the model alone, they load as the same model."""
    yaml = pytest.importorskip("yaml")
    s = punchlab.load_scenario_text(PROGRAM_AND_PORT_MAPPING, "programs.yaml")
    doc = yaml.safe_load(PROGRAM_AND_PORT_MAPPING)
    for n in s.nodes:
        if n.run:
            r = n.run
            run = {"command": list(r.command), "env": dict(r.env), "files": dict(r.files),
                   "relay": r.relay, "service": r.service,
                   "path_window": f"{round(r.path_window_s * 1000)}ms",
                   "stop_grace": f"{round(r.stop_grace_s * 1000)}ms",
                   "expect_output": list(r.expect_output), "max_output": f"{r.max_output_bytes}B",
                   "max_packet_rate": r.max_packet_rate}
            if r.expect_exit is not None:
                run["expect_exit"] = r.expect_exit
            doc["nodes"][n.name]["run"] = run
    for n in s.nats:
        if p := n.port_mapping:
            doc["nats"][n.name]["port_mapping"] = {
                "protocols": list(p.protocols), "lease_limit": f"{round(p.lease_limit_s)}s",
                "error": p.error, "answer_from": p.answer_from,
                "keep_on_reboot": p.keep_on_reboot, "upnp_lease_error": p.upnp_lease_error,
                "multicast_only": p.multicast_only}
    again = punchlab.load_scenario_text(yaml.safe_dump(doc, sort_keys=False), "again.yaml")
    assert _programs_and_mappings(again) == _programs_and_mappings(s)

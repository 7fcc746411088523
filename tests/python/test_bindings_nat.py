"""NAT knobs as enums and NatConfig / FirewallConfig as dataclass-like
objects (punchlab.nat), agreeing with the SPEC parser and the presets."""

import copy

import pytest

from punchlab import nat


def test_enums_carry_their_spec_words():
    assert nat.Dependence.ADDRESS_AND_PORT_DEPENDENT.spec == "address-and-port-dependent"
    assert nat.Dependence.from_spec("endpoint-independent") == nat.Dependence.ENDPOINT_INDEPENDENT
    assert [p.spec for p in nat.PortAssignment.__members__.values()] == ["preserve", "sequential", "random"]
    assert nat.Refresh.BOTH.spec == "both" and nat.Pooling.ARBITRARY.spec == "arbitrary"
    assert str(nat.Dependence.ADDRESS_DEPENDENT) == "address-dependent"
    with pytest.raises(ValueError, match=r"not a PortAssignment: 'shuffled' \(valid: preserve, sequential, random\)"):
        nat.PortAssignment.from_spec("shuffled")


def test_presets_in_order_with_their_behaviour():
    names = [p.name for p in nat.presets()]
    assert names == ["full-cone", "restricted-cone", "port-restricted-cone", "symmetric",
                     "symmetric-port-preserving", "cgnat"]
    sym = nat.preset("symmetric").config
    assert (sym.mapping, sym.filtering, sym.ports) == (
        nat.Dependence.ADDRESS_AND_PORT_DEPENDENT, nat.Dependence.ADDRESS_AND_PORT_DEPENDENT,
        nat.PortAssignment.RANDOM)
    cgnat = nat.preset("cgnat").config
    assert cgnat.hairpin and cgnat.udp_timeout_s == 30.0
    with pytest.raises(ValueError, match="no NAT preset named 'cone' \\(presets: full-cone, "):
        nat.preset("cone")


def test_natconfig_defaults_keywords_and_spec():
    default = nat.NatConfig()
    assert default == nat.preset("port-restricted-cone").config
    assert str(default) == "port-restricted-cone"
    cfg = nat.NatConfig(mapping=nat.Dependence.ADDRESS_AND_PORT_DEPENDENT, ports=nat.PortAssignment.RANDOM,
                        hairpin=True, udp_timeout_s=45)
    # Canonical: the preset needing the fewest overrides (symmetric before cgnat on a tie).
    assert cfg.spec == "symmetric,hairpin=on,udp_timeout=45s"
    assert cfg.replace(udp_timeout_s=30).spec == "cgnat,mapping=address-and-port-dependent"
    assert nat.NatConfig.parse(cfg.spec) == cfg
    assert repr(cfg) == "NatConfig.parse('symmetric,hairpin=on,udp_timeout=45s')"
    assert eval(repr(cfg), {"NatConfig": nat.NatConfig}) == cfg
    with pytest.raises(TypeError):
        nat.NatConfig(nat.Dependence.ADDRESS_DEPENDENT)  # keywords only, like a kw_only dataclass


def test_natconfig_is_dataclass_like():
    cfg = nat.NatConfig.parse("full-cone")
    assert cfg._fields[0] == "mapping" and set(cfg.to_dict()) == set(cfg._fields)
    assert cfg.to_dict()["port_range"] == (1024, 65535)
    changed = cfg.replace(hairpin=True, port_range=(20000, 20999))
    assert changed.hairpin and changed.port_range == (20000, 20999)
    assert not cfg.hairpin and cfg.port_range == (1024, 65535)  # the original is untouched
    assert changed.spec == "full-cone,port_range=20000-20999,hairpin=on"
    clone = copy.deepcopy(changed)
    clone.udp_timeout_s = 45
    assert clone != changed and clone.udp_timeout_s == 45.0
    with pytest.raises(TypeError, match="unknown field 'hairpinning'"):
        cfg.replace(hairpinning=True)


def test_natconfig_rejects_bad_values():
    with pytest.raises(nat.NatSpecError, match="knob"):
        nat.NatConfig.parse("symmetric,portz=random")
    with pytest.raises(ValueError):
        nat.NatConfig.parse("")
    with pytest.raises(ValueError, match="port_range"):
        nat.NatConfig(port_range=(2000, 1000))
    with pytest.raises(ValueError, match="udp_timeout_s: must be positive"):
        nat.NatConfig(udp_timeout_s=0)
    cfg = nat.NatConfig()
    with pytest.raises(ValueError, match="tcp_transitory_timeout_s"):
        cfg.tcp_transitory_timeout_s = -1


def test_firewall_config():
    fw = nat.FirewallConfig(block_udp=True, inbound_allow=[nat.PortRule(nat.Protocol.UDP, 41641, 41641)])
    assert fw.block_udp and fw.udp_timeout_s == 30.0
    assert fw.inbound_allow[0].matches(nat.Protocol.UDP, 41641)
    assert not fw.inbound_allow[0].matches(nat.Protocol.TCP, 41641)
    assert fw.replace(block_udp=False) == nat.FirewallConfig(
        inbound_allow=[nat.PortRule(nat.Protocol.UDP, 41641, 41641)])
    with pytest.raises(ValueError):
        nat.PortRule(nat.Protocol.TCP, 10, 5)

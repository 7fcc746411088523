"""`punchlab classify`: NAT behaviour discovery behind a NAT built from a SPEC.

Needs no root: everything here runs in ns-3 or is rejected before a lab would
be built. Errors must be exactly one line on stderr starting with
"punchlab classify:" and exit 2; a run exits 0 when discovery found what the
NAT shows from outside.
"""

import json
import os
import re

import pytest

from cli_run import BIN, EXIT_USAGE, run
from cli_run import assert_one_line_error as assert_error

NAT_EXTERNAL_IP = "203.0.113.1"  # ClassifyTopology::NatExternalAddress()
VOCABULARY = {
    "mapping": {"endpoint-independent", "address-dependent", "address-and-port-dependent"},
    "filtering": {"endpoint-independent", "address-dependent", "address-and-port-dependent"},
    "port_assignment": {"preserve", "sequential", "random"},
    "hairpin": {"on", "off"},
}


def classify(*args):
    return run(BIN, "classify", *args)


def classify_json(*args):
    result = classify(*args, "--json")
    assert result.returncode == 0, result
    assert result.stderr == ""
    return json.loads(result.stdout)


def assert_one_line_error(result, fragment):
    assert_error(result, EXIT_USAGE, "classify", fragment, binary="punchlab")


def test_binary_exists():
    assert os.access(BIN, os.X_OK), "set PUNCHLAB_BIN_DIR to the build's sim/ dir (%s)" % BIN


def test_symmetric_json_reports_the_configured_behaviour():
    j = classify_json("--nat", "symmetric")
    for key in ("configured", "mapping", "filtering", "port_assignment", "hairpin", "mapped",
                "udp_blocked", "mode"):
        assert key in j, key
    assert j["mode"] == "sim"
    assert "stun_client" not in j  # only with --real
    assert j["configured"] == {
        "spec": "symmetric",
        "mapping": "address-and-port-dependent",
        "filtering": "address-and-port-dependent",
        "port_assignment": "random",
        "hairpin": "off",
    }
    for knob in ("mapping", "filtering", "port_assignment", "hairpin"):
        assert j[knob] == j["configured"][knob], knob
        assert j[knob] in VOCABULARY[knob]
    assert j["udp_blocked"] is False
    ip, port = j["mapped"].rsplit(":", 1)
    assert ip == NAT_EXTERNAL_IP
    assert 1 <= int(port) <= 65535
    assert j["match"] is True and j["differences"] == [] and j["notes"] == []


def test_knobs_from_the_issue_show_through():
    spec = "mapping=address-dependent,filtering=endpoint-independent,ports=sequential,hairpin=on"
    j = classify_json("--nat", spec)
    assert (j["mapping"], j["filtering"], j["port_assignment"], j["hairpin"]) == (
        "address-dependent", "endpoint-independent", "sequential", "on")
    # Canonical SPEC: the nearest preset plus overrides.
    assert j["configured"]["spec"] == "full-cone,mapping=address-dependent,ports=sequential,hairpin=on"


def test_a_knob_the_nat_hides_is_explained_not_failed():
    # Port preservation hides the per-destination mapping from any observer.
    j = classify_json("--nat", "symmetric-port-preserving")
    assert j["configured"]["mapping"] == "address-and-port-dependent"
    assert j["mapping"] == "endpoint-independent"
    assert j["expected"]["mapping"] == "endpoint-independent"
    assert j["match"] is True
    assert len(j["notes"]) == 1 and "port preservation" in j["notes"][0]


def test_hairpinning_hidden_by_a_symmetric_nat_is_explained_not_failed():
    # The looped-back request comes from a fresh mapping the client's own
    # mapping never sent to: a destination-dependent filter drops it.
    j = classify_json("--nat", "symmetric,hairpin=on")
    assert j["configured"]["hairpin"] == "on"
    assert j["hairpin"] == "off" and j["expected"]["hairpin"] == "off"
    assert j["match"] is True
    assert len(j["notes"]) == 1 and "hairpinning is on" in j["notes"][0]
    # With endpoint-independent filtering the same NAT hairpins visibly.
    j = classify_json("--nat", "symmetric,hairpin=on,filtering=endpoint-independent")
    assert j["hairpin"] == "on" and j["notes"] == []


def test_a_difference_exits_1_and_names_the_knob():
    # A 1 s UDP timeout is shorter than the 1.6 s between the filtering
    # probe's last retransmissions: the mapping expires mid-run and comes back
    # on a new random port, so the endpoint-independent NAT looks
    # destination-dependent (nat-observability.h states this limit).
    result = classify("--nat", "port-restricted-cone,udp_timeout=1s,ports=random", "--json")
    assert result.returncode == 1, result
    j = json.loads(result.stdout)
    assert j["match"] is False
    assert [d["knob"] for d in j["differences"]] == ["mapping"]
    assert j["differences"][0]["expected"] == "endpoint-independent"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("punchlab classify: ")
    assert "mapping should show as endpoint-independent" in lines[0]


def test_text_output_names_the_spec_and_both_columns():
    result = classify("--nat", "restricted-cone,hairpin=on")
    assert result.returncode == 0, result
    out = result.stdout
    assert re.search(r"^nat\s+restricted-cone,hairpin=on$", out, re.M)
    assert re.search(r"^mapping\s+endpoint-independent\s+endpoint-independent$", out, re.M)
    assert re.search(r"^filtering\s+address-dependent\s+address-dependent$", out, re.M)
    assert re.search(r"^port_assignment\s+preserve\s+preserve$", out, re.M)
    assert re.search(r"^hairpin\s+on\s+on$", out, re.M)
    assert re.search(r"^mapped\s+203\.0\.113\.1:\d+$", out, re.M)
    assert re.search(r"^result\s+found what was configured$", out, re.M)


def test_same_seed_same_run_other_seed_other_ports():
    a = classify_json("--nat", "symmetric", "--seed", "7")
    b = classify_json("--nat", "symmetric", "--seed", "7")
    c = classify_json("--nat", "symmetric", "--seed", "8")
    assert a == b
    assert a["seed"] == 7
    assert a["mapped"] != c["mapped"]


@pytest.mark.parametrize("spec,fragment", [
    ("bogus", "--nat: unknown NAT preset 'bogus': valid presets are full-cone"),
    ("mapping=sideways", "--nat: bad value 'sideways' for NAT knob 'mapping'"),
    ("symmetric,colour=blue", "--nat: unknown NAT knob 'colour'"),
    ("full-cone,symmetric", "--nat: two NAT presets given"),
    ("", "--nat: empty NAT spec"),
])
def test_bad_spec_is_one_sentence_and_exit_2(spec, fragment):
    assert_one_line_error(classify("--nat", spec), fragment)


def test_missing_nat():
    assert_one_line_error(classify(), "missing --nat SPEC")


def test_unknown_flag_and_stray_word():
    assert_one_line_error(classify("--nat", "symmetric", "--frobnicate"), "frobnicate")
    assert_one_line_error(classify("--nat", "symmetric", "extra"), "positional")


def test_bad_latency():
    assert_one_line_error(classify("--nat", "symmetric", "--latency", "fast"),
                          "--latency: 'fast' is not a duration")


@pytest.mark.parametrize("spec,flags,refused", [
    ("mapping=address-dependent", (), "mapping=address-dependent: the lab builds"),
    ("full-cone,ports=sequential", (), "ports=sequential: Linux's NAT keeps the inside port"),
    ("cgnat,port_range=20000-20999", (), "port_range=20000-20999: "),
    ("full-cone,refresh=both", (), "refresh=both: "),
    ("cgnat,pooling=arbitrary", ("--external-ips", "2"), "pooling=arbitrary: "),
])
def test_real_refuses_a_knob_linux_cannot_build_by_name(spec, flags, refused):
    # Rejected before any lab is built, so no root is needed.
    result = classify("--nat", spec, "--real", *flags)
    assert_one_line_error(result, "--real: " + refused)
    assert "classify it without --real" in result.stderr


@pytest.mark.parametrize("count", ["0", "17"])
def test_real_external_ips_is_bounded(count):
    assert_one_line_error(classify("--nat", "cgnat", "--real", "--external-ips", count),
                          "--real: external_ips %s: must be from 1 to 16" % count)


def test_external_ips_needs_real():
    assert_one_line_error(classify("--nat", "cgnat", "--external-ips", "2"),
                          "--external-ips: only with --real")


def test_hold_needs_real():
    assert_one_line_error(classify("--nat", "cgnat", "--hold"), "--hold: only with --real")


def test_real_rejects_a_timeout_conntrack_cannot_keep():
    assert_one_line_error(classify("--nat", "full-cone,udp_timeout=1500ms", "--real"),
                          "--real: udp_timeout=1500ms: conntrack counts whole seconds")


def test_help():
    result = classify("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: punchlab classify --nat SPEC")
    for flag in ("--nat", "--real", "--hold", "--json", "--seed", "--latency"):
        assert flag in result.stdout, flag
    assert "symmetric-port-preserving" in result.stdout  # the preset list
    assert result.stderr == ""


def test_top_level_help_lists_classify():
    result = run(BIN, "--help")
    assert result.returncode == 0
    assert re.search(r"^\s+classify\s", result.stdout, re.M)

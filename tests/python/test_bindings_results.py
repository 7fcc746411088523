"""Results through the binding: the C++ strict reader on the hand-written
fixture (the same file analysis reads), its errors, and writing a results
directory back."""

import json

import pytest

import punchlab
from conftest import FIXTURES


def test_read_results_json_gives_objects():
    r = punchlab.read_results_json(str(FIXTURES / "derp-then-direct" / "results.json"))
    assert (r.scenario, r.seed, r.mode, r.stop_time_s, r.ok) == \
        ("derp-then-direct", 1, punchlab.Mode.SIMULATION, 20.0, False)
    assert [(e.line, e.column, e.ok) for e in r.expectations] == [(20, 5, True), (21, 5, False)]
    assert r.expectations[1].observed_value == 11.0
    pair = r.find_pair("bob", "alice")
    assert (pair.a, pair.b, pair.time_to_direct_s, pair.final_path) == \
        ("alice", "bob", 10.0, punchlab.PathKind.DIRECT)
    assert (pair.first_send_s, pair.direct_at_s) == (1.0, 11.0)
    assert pair.rtt["derp"].p50_ms == 181.0 and pair.rtt["direct"].samples == 18
    assert pair.rtt["mixed"].samples == 1
    assert [(round(c.t_s, 3), c.node, str(c.path), c.reason) for c in r.timeline] == [
        (0.5, "alice", "derp", "start"), (0.6, "bob", "derp", "start"),
        (10.0, "alice", "direct", "pong"), (10.2, "bob", "direct", "pong")]
    assert r.counters == {"nat/home": {"translated": 120, "filtered": 3}}
    assert r.probes == []  # not in results.json
    assert len(r.disco_log) == 22
    ping = r.disco_log[2]
    assert (ping.t_s, ping.node, ping.peer, ping.what, ping.via, ping.endpoint, ping.txid,
            ping.reason) == (1.0, "alice", "bob", "ping-sent", "udp", "198.51.100.2:41641",
                             "aa0000000000000000000001", "discovery")


def test_read_errors_name_the_file_and_key(fixture_copy):
    d = fixture_copy("derp-then-direct")
    data = json.loads((d / "results.json").read_text())
    data["pairs"][0]["probes_sent"] = -1
    (d / "results.json").write_text(json.dumps(data))
    with pytest.raises(punchlab.ResultsError, match=str(d / "results.json") + ": pairs\\[0\\].probes_sent"):
        punchlab.read_results_json(str(d / "results.json"))
    with pytest.raises(ValueError, match="<text>"):
        punchlab.parse_results_json("{")


def test_write_and_read_back(tmp_path):
    r = punchlab.read_results_json(str(FIXTURES / "derp-then-direct" / "results.json"))
    r.write(str(tmp_path / "out"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "disco.csv", "junit.xml", "latency.csv", "results.json"]
    again = punchlab.read_results_json(str(tmp_path / "out" / "results.json"))
    assert again.to_json() == r.to_json()
    assert 'failures="1"' in r.junit_xml()
    # No probes are read from JSON.
    assert r.latency_csv() == "time_s,src,dst,seq,path,echo_path,round_trip,rtt_ms\n"
    assert "derp-then-direct" in r.summary()

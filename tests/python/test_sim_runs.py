"""Real simulation runs (ns-3, through the binding and `punchlab run`) and
the plots' data built from them: a pair that is first relayed through a far
DERP region and then direct (tests/python/scenarios/derp-then-direct.yaml),
and a small NAT matrix of real cells."""

import json
import os
import subprocess
import threading
import time

import pytest

import punchlab
from conftest import SCENARIOS, run_module_report
from punchlab.analysis.heatmap import heatmap_data, plot_heatmap
from punchlab.analysis.matrix_dir import load_matrix_dir
from punchlab.analysis.pair_paths import first_direct_s, pair_changes, pair_segments
from punchlab.analysis.results_dir import load_results_dir
from punchlab.analysis.rtt_cdf import rtt_cdf_data
from punchlab.analysis.rtt_timeline import plot_rtt_timeline, rtt_timeline_data

SCENARIO = SCENARIOS / "derp-then-direct.yaml"


@pytest.fixture(scope="module")
def derp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "derp-then-direct"
    results = punchlab.run(str(SCENARIO), out_dir=str(out))
    return results, out


def test_run_holds_its_expectations(derp_run):
    results, out = derp_run
    assert results.ok, results.summary()
    assert sorted(os.listdir(out)) == ["disco.csv", "junit.xml", "latency.csv", "results.json"]
    pair = results.find_pair("alice", "bob")
    assert pair.final_path == punchlab.PathKind.DIRECT
    # Relayed while the firewall blocked UDP (until 10s), direct after; time
    # to direct counts from the first probe.
    assert 10.0 < pair.direct_at_s < 20.0
    assert pair.time_to_direct_s == pytest.approx(pair.direct_at_s - pair.first_send_s)
    trips = [p.round_trip for p in results.probes if p.rtt_ms is not None]
    assert "derp" in trips and "direct" in trips
    assert trips.index("direct") > trips.index("derp")
    # The first direct round trip is the one direct_at_s names.
    first = next(p for p in results.probes if p.round_trip == "direct")
    assert first.sent_s == pytest.approx(pair.direct_at_s)
    assert str(first.path) == str(first.echo_path) == "direct"


def test_latency_samples_match_latency_csv(derp_run):
    results, out = derp_run
    rows = load_results_dir(str(out)).samples
    assert len(rows) == len(results.probes) > 300
    for p, row in zip(results.probes, rows):
        assert (row.src, row.dst, row.seq, row.path) == (p.src, p.dst, p.seq, str(p.path))
        assert row.time_s == pytest.approx(p.sent_s, abs=1e-6)
        if p.rtt_ms is None:
            assert row.round_trip in ("lost", "in-flight") and row.rtt_ms is None
        else:
            assert (row.echo_path, row.round_trip) == (str(p.echo_path), p.round_trip)
            assert row.rtt_ms == pytest.approx(p.rtt_ms, abs=1e-3)


def test_direct_median_rtt_below_relayed_median(derp_run):
    results, out = derp_run
    run = load_results_dir(str(out))
    cdf = rtt_cdf_data([run], "derp-then-direct")
    direct, derp = cdf.series["direct"], cdf.series["derp"]
    # The DERP region is 80ms away each way: relaying costs a lot.
    assert direct.median_ms + 100 < derp.median_ms
    # The CDF's medians are results.json's nearest-rank p50s (the CSV keeps 3 decimals).
    pair = run.find_pair("alice", "bob")
    assert direct.median_ms == pytest.approx(pair.rtt["direct"].p50_ms, abs=1e-3)
    assert derp.median_ms == pytest.approx(pair.rtt["derp"].p50_ms, abs=1e-3)
    assert len(direct.rtts_ms) == pair.rtt["direct"].samples


def test_path_change_markers_at_the_timeline_instants(derp_run):
    results, out = derp_run
    run = load_results_dir(str(out))
    data = rtt_timeline_data(run, "alice", "bob")
    markers = [line.get_xdata()[0] for line in plot_rtt_timeline(data).axes[0].lines
               if line.get_gid() == "path-change"]
    assert markers == [c.t_s for c in data.changes]
    # The pair went direct at the instant the later of the two sides did.
    last_side_direct = max(c.t_s for c in results.timeline if str(c.path) == "direct")
    change = next(c for c in data.changes if c.after == "direct")
    assert change.t_s == pytest.approx(last_side_direct, abs=1e-9)
    assert change.t_s in markers
    # The wire agrees within a probe interval (100 ms) and a round trip: a
    # probe sent just before the later side switched may come back direct.
    direct_at = run.find_pair("alice", "bob").direct_at_s
    assert change.t_s - 0.2 < direct_at <= change.t_s + 0.1 + 1e-9
    # Before it the pair was on DERP, then one side direct: asymmetric.
    segments = pair_segments(run.timeline, "alice", "bob", run.stop_time_s)
    assert [s.path for s in segments][-3:] == ["derp", "asymmetric", "direct"]
    assert first_direct_s(segments) == change.t_s
    assert pair_changes(segments) == data.changes


def test_same_seed_same_bytes_as_punchlab_run(derp_run, punchlab_bin, tmp_path):
    results, out = derp_run
    r = subprocess.run([punchlab_bin, "run", "--quiet", "--out", tmp_path, SCENARIO],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    cli = tmp_path / "derp-then-direct"
    for name in ("results.json", "latency.csv", "disco.csv", "junit.xml"):
        assert (cli / name).read_bytes() == (out / name).read_bytes(), name
    assert punchlab.run(str(SCENARIO)).to_json() == results.to_json()


def test_report_from_a_real_run(derp_run, punchlab_bin, tmp_path):
    _, out = derp_run
    r = subprocess.run([punchlab_bin, "report", out, "-o", tmp_path / "r.html", "--png-dir", tmp_path / "png"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(tmp_path / "png")) == ["derp-then-direct-punch-alice-bob.png",
                                                     "derp-then-direct-rtt-alice-bob.png",
                                                     "derp-then-direct-rtt-cdf.png"]
    text = (tmp_path / "r.html").read_text()
    assert "alice-bob path derp from 3s until 10s" in text


def test_run_releases_the_gil():
    scenario = punchlab.load_scenario_text(
        "stop_time: 120s\n"
        "nats: {a: {preset: symmetric}, b: {preset: full-cone}}\n"
        "nodes: {alice: {behind: a}, bob: {behind: b}}\n"
        "traffic:\n"
        "  - {from: alice, to: bob, every: 10ms, size: 200B}\n"
        "  - {from: bob, to: alice, every: 10ms, size: 200B}\n", "busy.yaml")
    done = threading.Event()
    worker = threading.Thread(target=lambda: (punchlab.run(scenario), done.set()))
    stamps = [time.perf_counter()]
    worker.start()
    while not done.is_set():
        time.sleep(0.001)
        stamps.append(time.perf_counter())
    worker.join()
    total = stamps[-1] - stamps[0]
    longest_stall = max(b - a for a, b in zip(stamps, stamps[1:]))
    assert total > 0.3, "the run should take a while for this test to mean anything"
    # Holding the GIL would stall this thread for the whole run.
    assert longest_stall < total / 3, (longest_stall, total)


def test_concurrent_runs_are_serialised_and_identical():
    scenario = punchlab.load_scenario(str(SCENARIO))
    expected = punchlab.run(scenario).to_json()
    outputs = []
    threads = [threading.Thread(target=lambda: outputs.append(punchlab.run(scenario).to_json()))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outputs == [expected] * 3


def test_seed_override_and_bad_arguments(tmp_path):
    assert punchlab.run(str(SCENARIO), seed=9).seed == 9
    with pytest.raises(punchlab.ScenarioError, match="nope.yaml: cannot read the file"):
        punchlab.run(str(tmp_path / "nope.yaml"))
    with pytest.raises(ValueError, match="pcap=True needs out_dir"):
        punchlab.run(str(SCENARIO), pcap=True)


def test_matrix_heatmap_from_punchlab_matrix(punchlab_bin, tmp_path):
    out = tmp_path / "matrix"
    r = subprocess.run([punchlab_bin, "matrix", "--nats", "full-cone,symmetric", "--duration", "20s",
                        "--jobs", "2", "--out", out], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    cells = json.loads((out / "matrix.json").read_text())
    assert len(cells) == 4

    matrix = load_matrix_dir(str(out))
    data = heatmap_data(matrix)
    assert data.rows == data.cols == ["full-cone", "symmetric"]
    image = next(im for im in plot_heatmap(data).axes[0].images if im.get_gid() == "time-to-direct")
    for cell in cells:
        # The heat map's value is matrix.json's, which is the cell run's own.
        c = matrix.find(cell["a"], cell["b"])
        assert c.results_dir == str(out / cell["results"])
        from_results = load_results_dir(c.results_dir).find_pair("alice", "bob").time_to_direct_s
        assert data.value(cell["a"], cell["b"]) == cell["time_to_direct_s"] == from_results
        r_, k = data.rows.index(cell["a"]), data.cols.index(cell["b"])
        if cell["time_to_direct_s"] is None:
            assert image.get_array().mask[r_][k]
        else:
            assert image.get_array()[r_][k] == pytest.approx(cell["time_to_direct_s"])
    # Two symmetric NATs cannot punch through: relayed, never direct.
    assert data.value("symmetric", "symmetric") is None
    assert matrix.find("symmetric", "symmetric").path == "derp"
    assert data.value("full-cone", "full-cone") is not None

    r = run_module_report(out, "-o", tmp_path / "r.html", "--png-dir", tmp_path / "png")
    assert r.returncode == 0, r.stderr
    # The heat map, and each cell's own section (linked from its matrix
    # cell): its RTT CDF, its pair's timeline and the punch's sequence diagram.
    pngs = sorted(os.listdir(tmp_path / "png"))
    assert "matrix-time-to-direct.png" in pngs and len(pngs) == 1 + 3 * len(cells), pngs
    for cell in cells:
        name = os.path.basename(cell["results"])
        assert f"{name}-rtt-cdf.png" in pngs and f"{name}-rtt-alice-bob.png" in pngs
        assert f"{name}-punch-alice-bob.png" in pngs


# The home NAT forgets an idle mapping after UDP_TIMEOUT and picks a random
# port for the next one; the laptop sends every 5 s, so between sends only
# the disco heartbeat keeps the mapping (scenarios/field/
# mapping-expires-between-heartbeats.yaml is the field report).
SPARSE = """\
name: sweep
stop_time: 60s
nats:
  home:   {preset: port-restricted-cone, ports: random, udp_timeout: UDP_TIMEOUT}
  office: {preset: restricted-cone}
nodes:
  laptop: {behind: home}
  server: {behind: office}
traffic:
  - {from: laptop, to: server, every: 1s, stop: 15s}
  - {from: laptop, to: server, start: 15s, every: 5s}
"""


def _late_loss(udp_timeout: str, **timers) -> float:
    s = punchlab.load_scenario_text(SPARSE.replace("UDP_TIMEOUT", udp_timeout), "sweep.yaml")
    if timers:
        s = s.with_node_timers(**timers)
    r = punchlab.run(s)
    late = [p for p in r.probes if 20.0 <= p.sent_s < 58.0]
    return sum(p.rtt_ms is None for p in late) / len(late)


def test_a_udp_timeout_sweep_follows_the_heartbeat():
    """Only the heartbeat refreshes an idle mapping, so where the sweep turns
    lossy follows the heartbeat: with the default 3 s heartbeat a 4 s
    udp_timeout holds; with a 6 s heartbeat (set from Python as the YAML's
    `heartbeat:` does) it no longer does, while 8 s holds either way."""
    timeouts = ["2s", "4s", "8s"]
    default = [_late_loss(t) for t in timeouts]
    slow = [_late_loss(t, heartbeat=6.0) for t in timeouts]
    assert default[0] > 0.1 and default[1] == 0.0 and default[2] == 0.0, default
    assert slow[0] > 0.1 and slow[1] > 0.1 and slow[2] == 0.0, slow
    # The timer really reached the nodes: a 1 s heartbeat keeps even 2 s alive.
    assert _late_loss("2s", heartbeat="1s") == 0.0


def test_node_timers_from_yaml_defaults_and_python():
    text = SPARSE.replace("UDP_TIMEOUT", "30s").replace(
        "nodes:\n", "defaults: {heartbeat: 2s, trust_window: 5s}\nnodes:\n").replace(
        "laptop: {behind: home}", "laptop: {behind: home, heartbeat: 1s, restun_interval: 10s}")
    s = punchlab.load_scenario_text(text, "t.yaml")
    assert s.find_node("laptop").timers == {"heartbeat": 1.0, "trust_window": 5.0,
                                            "restun_interval": 10.0}
    assert s.find_node("server").timers == {"heartbeat": 2.0, "trust_window": 5.0}
    t = s.with_node_timers("server", ping_timeout="2s")
    assert t.find_node("server").timers["ping_timeout"] == 2.0
    assert "ping_timeout" not in t.find_node("laptop").timers
    with pytest.raises(ValueError, match="unknown timer 'heartbeats'"):
        s.with_node_timers(heartbeats=1.0)
    with pytest.raises(ValueError, match="longer than 0s"):
        s.with_node_timers(heartbeat=0)
    with pytest.raises(ValueError, match="no node 'carol'"):
        s.with_node_timers("carol", heartbeat=1.0)
    with pytest.raises(punchlab.ScenarioError, match="must be longer than 0s"):
        punchlab.load_scenario_text(text.replace("heartbeat: 2s", "heartbeat: 0s"), "t.yaml")


# alice may reach bob; carol is named by no rule, so she sees nobody and
# nobody sees her (tests/run-sim/access-rules-test.cc runs the same world).
HIDDEN = """\
stop_time: 20s
internet: {latency: 20ms}
derp: {regions: [{id: 1, name: fra, latency: 10ms}]}
control:
  batch_delay: 200ms
  acls:
    - {src: [alice], dst: [bob]}
nats:
  na: {preset: full-cone}
  nb: {preset: full-cone}
  nc: {preset: full-cone}
nodes:
  alice: {behind: na}
  bob: {behind: nb}
  carol: {behind: nc}
traffic:
  - {from: alice, to: bob, start: 1s, every: 200ms}
  - {from: alice, to: carol, start: 1s, every: 200ms}
  - {from: carol, to: bob, start: 1s, every: 200ms}
"""


def test_a_run_with_access_rules_leaves_the_hidden_pairs_without_a_path():
    s = punchlab.load_scenario_text(HIDDEN, "hidden.yaml")
    assert [(r.domain, r.src, r.dst) for r in s.control.acls] == [("default", ["alice"], ["bob"])]
    r = punchlab.run(s)
    assert r.find_pair("alice", "bob").final_path == punchlab.PathKind.DIRECT
    for x, y in [("alice", "carol"), ("carol", "bob")]:
        pair = r.find_pair(x, y)
        assert pair.final_path == punchlab.PathKind.NONE, (x, y)
        assert pair.probes_sent > 80 and pair.probes_lost > 70, (x, y, pair)
        assert not [c for c in r.timeline if {c.node, c.peer} == {x, y}], (x, y)
    # Every probe to a hidden peer is a send its node refused, counted.
    assert r.counters["node/alice"]["sends_unknown_peer"] >= 80
    assert r.counters["node/carol"]["sends_unknown_peer"] >= 80
    assert r.counters["node/bob"]["sends_unknown_peer"] == 0
    # The same world without the rules: everyone sees everyone, and no pair
    # stays without a path.
    open_world = punchlab.run(punchlab.load_scenario_text(
        HIDDEN.replace("    - {src: [alice], dst: [bob]}\n", "").replace("  acls:\n", ""), "open.yaml"))
    assert all(p.final_path != punchlab.PathKind.NONE for p in open_world.pairs)

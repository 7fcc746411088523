"""The numbers behind the plots, from the hand-written results and matrix
fixtures (tests/python/fixtures/, following sim/results/README.md): the
pair's path over time, the change markers, the CDF medians and the heat
map's cells -- and that each figure draws exactly those numbers."""

import json
import math

import pytest

from conftest import FIXTURES
from punchlab.analysis.heatmap import heatmap_data, plot_heatmap
from punchlab.analysis.matrix_dir import load_matrix_dir
from punchlab.analysis.pair_paths import Segment, first_direct_s, pair_changes, pair_segments
from punchlab.analysis.results_dir import PathChange, load_results_dir
from punchlab.analysis.rtt_cdf import percentile, plot_rtt_cdf, rtt_cdf_data
from punchlab.analysis.rtt_timeline import plot_rtt_timeline, rtt_timeline_data


@pytest.fixture
def run():
    return load_results_dir(str(FIXTURES / "derp-then-direct"))


def test_results_dir_reads_every_documented_field(run):
    assert (run.scenario, run.mode, run.seed, run.stop_time_s, run.ok) == \
        ("derp-then-direct", "simulation", 1, 20.0, False)
    assert [e.ok for e in run.expectations] == [True, False]
    assert run.expectations[1].observed_value == 11.0
    pair = run.find_pair("bob", "alice")
    assert (pair.a, pair.b, pair.time_to_direct_s, pair.final_path) == ("alice", "bob", 10.0, "direct")
    assert (pair.first_send_s, pair.direct_at_s) == (1.0, 11.0)
    assert set(pair.rtt) == {"direct", "derp", "mixed"}
    assert len(run.timeline) == 4 and run.timeline[2] == PathChange(
        10.0, "alice", "bob", "direct", "direct 198.51.100.2:41641", "pong")
    assert len(run.samples) == 38
    assert run.samples[0].path == "derp" and run.samples[0].rtt_ms == 181.0
    # alice's probe at 10.0s went direct; bob, not yet direct, echoed it over DERP.
    mixed = next(s for s in run.samples if s.round_trip == "mixed")
    assert (mixed.time_s, mixed.src, mixed.path, mixed.echo_path, mixed.seq) == \
        (10.0, "alice", "direct", "derp", 9)


def test_pair_path_needs_both_sides(run):
    segments = pair_segments(run.timeline, "alice", "bob", run.stop_time_s)
    # alice alone on derp at 0.5s is not the pair's path (bob has none yet);
    # alice on direct at 10.0s while bob is on DERP is asymmetric.
    assert segments == [Segment(0.0, 0.6, "none"), Segment(0.6, 10.0, "derp"),
                        Segment(10.0, 10.2, "asymmetric"), Segment(10.2, 20.0, "direct")]
    assert [(c.t_s, c.before, c.after) for c in pair_changes(segments)] == \
        [(0.6, "none", "derp"), (10.0, "derp", "asymmetric"), (10.2, "asymmetric", "direct")]
    # When the nodes chose direct -- before the first probe crossed it both
    # ways (results.json's direct_at_s).
    assert first_direct_s(segments) == 10.2
    assert first_direct_s(segments) < run.find_pair("alice", "bob").direct_at_s


def test_pair_path_ignores_entries_at_or_after_stop_time():
    timeline = [PathChange(1.0, "a", "b", "derp", "", "start"),
                PathChange(1.0, "b", "a", "derp", "", "start"),
                PathChange(5.0, "a", "b", "direct", "", "pong"),
                PathChange(5.0, "b", "a", "direct", "", "pong")]
    assert pair_segments(timeline, "a", "b", 5.0) == [Segment(0.0, 1.0, "none"),
                                                       Segment(1.0, 5.0, "derp")]


def test_timeline_markers_lie_at_the_change_instants(run):
    data = rtt_timeline_data(run, "alice", "bob")
    fig = plot_rtt_timeline(data)
    ax = fig.axes[0]
    markers = [line.get_xdata()[0] for line in ax.lines if line.get_gid() == "path-change"]
    assert markers == [0.6, 10.0, 10.2]
    # Shaded spans cover the derp and direct segments, nothing else.
    spans = sorted((p.get_gid(), round(min(x for x, _ in p.get_xy()), 6),
                    round(max(x for x, _ in p.get_xy()), 6))
                   for p in ax.patches if (p.get_gid() or "").startswith("path-"))
    assert spans == [("path-asymmetric", 10.0, 10.2), ("path-derp", 0.6, 10.0),
                     ("path-direct", 10.2, 20.0)]
    # The scenario's fault (the firewall opening at 10s) is marked too.
    assert [line.get_xdata()[0] for line in ax.lines if line.get_gid() == "event"] == [10.0]
    assert run.events[0].what == "firewall fw set block_udp=false"
    # Every sample is drawn once, at its send time and RTT.
    drawn = sorted((x, y) for line in ax.lines if (line.get_gid() or "").startswith("rtt-")
                   for x, y in zip(line.get_xdata(), line.get_ydata()))
    assert drawn == sorted((s.time_s, s.rtt_ms) for s in run.samples)


def test_cdf_direct_median_below_relayed_median(run):
    data = rtt_cdf_data([run], "t")
    assert set(data.series) == {"direct", "derp", "mixed"}
    direct, derp = data.series["direct"], data.series["derp"]
    assert direct.median_ms < derp.median_ms
    # Nearest-rank medians, as results.json's p50_ms.
    pair = run.find_pair("alice", "bob")
    assert direct.median_ms == pair.rtt["direct"].p50_ms
    assert derp.median_ms == pair.rtt["derp"].p50_ms
    assert len(derp.rtts_ms) == pair.rtt["derp"].samples
    assert derp.fractions[-1] == 1.0 and derp.rtts_ms == sorted(derp.rtts_ms)
    ax = plot_rtt_cdf(data).axes[0]
    curves = {line.get_gid(): line for line in ax.lines}
    assert list(curves["cdf-derp"].get_xdata()[1:]) == derp.rtts_ms
    assert list(curves["cdf-derp"].get_ydata()[1:]) == derp.fractions
    assert curves["median-direct"].get_xdata()[0] == direct.median_ms


def test_percentile_is_nearest_rank():
    assert percentile([1, 2, 3, 4], 50) == 2
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile([7], 99) == 7
    with pytest.raises(ValueError):
        percentile([], 50)


def test_heatmap_cells_equal_matrix_json():
    cells = json.loads((FIXTURES / "matrix" / "matrix.json").read_text())["cells"]
    matrix = load_matrix_dir(str(FIXTURES / "matrix"))
    assert (matrix.mode, matrix.seed, matrix.duration_s) == ("simulation", 1, 60.0)
    data = heatmap_data(matrix)
    assert data.rows == ["full-cone", "symmetric"] and data.cols == ["full-cone", "symmetric"]
    for cell in cells:
        assert data.value(cell["a"], cell["b"]) == cell["time_to_direct_s"]
    image = next(im for im in plot_heatmap(data).axes[0].images if im.get_gid() == "time-to-direct")
    array = image.get_array()
    for cell in cells:
        r, k = data.rows.index(cell["a"]), data.cols.index(cell["b"])
        if cell["time_to_direct_s"] is None:
            assert array.mask[r][k]
        else:
            assert not array.mask[r][k] and math.isclose(array[r][k], cell["time_to_direct_s"])
    assert data.labels[1][1] == "never direct\n(derp)"


def test_matrix_reader_tolerates_a_bare_list_and_missing_cells(tmp_path):
    (tmp_path / "matrix.json").write_text(json.dumps([
        {"a": "x", "b": "x", "path": "direct", "time_to_direct_s": 2, "extra_key": 1},
        {"a": "x", "b": "y", "path": "none", "time_to_direct_s": None},
        {"a": "y", "b": "x", "path": "local", "time_to_direct_s": 0.25}]))
    m = load_matrix_dir(str(tmp_path))
    assert m.cells[0].time_to_direct_s == 2.0 and m.cells[0].results_dir is None
    assert m.nats == ["x", "y"] and m.mode is None
    assert m.cells[0].extra == {"extra_key": 1}
    data = heatmap_data(m)
    # y/y was not run: blank, labelled "-".
    assert data.values == [[2.0, None], [0.25, None]]
    assert data.labels == [["2.00s", "never direct\n(none)"], ["0.25s", "-"]]


def test_matrix_nats_order_rows_and_columns(tmp_path):
    (tmp_path / "matrix.json").write_text(json.dumps({
        "format": "punchlab-matrix/1", "nats": ["symmetric", "full-cone", "cgnat"],
        "cells": [{"a": "full-cone", "b": "symmetric", "path": "direct", "time_to_direct_s": 1.5}]}))
    data = heatmap_data(load_matrix_dir(str(tmp_path)))
    assert data.rows == data.cols == ["symmetric", "full-cone", "cgnat"]
    assert data.values[1][0] == 1.5
    assert sum(v is not None for row in data.values for v in row) == 1

"""punchlab.sweep and `punchlab sweep`: a 3-parameter grid x 20 seeds run
locally, resumed, sharded, and through a Dask scheduler with two worker
processes on loopback TCP, with the same outcomes for the same seeds."""

import json
import os
import subprocess

import pytest

from conftest import PYTHON_DIR, SCENARIOS, python_env

from punchlab import sweep

TEMPLATE = SCENARIOS / "sweep-pair.yaml"
GRID = {"nats.nat-a.preset": ["port-restricted-cone", "full-cone"],
        "nats.nat-b.preset": ["symmetric", "restricted-cone"],
        "internet.latency": ["20ms", "60ms"]}
SEEDS = range(1, 21)
# What a run produced (not how long it took, nor where).
OUTCOME = ["id", "seed", "ok", "pairs", "pairs_direct", "pairs_derp", "time_to_direct_median_s",
           "probes_sent", "probes_lost", "error"] + [f"param:{k}" for k in GRID]


@pytest.fixture
def bin_env(punchlab_bin, monkeypatch):
    monkeypatch.setenv("PUNCHLAB_BIN", punchlab_bin)
    monkeypatch.delenv("GTEST_SHARD_INDEX", raising=False)
    monkeypatch.delenv("GTEST_TOTAL_SHARDS", raising=False)
    return punchlab_bin


def outcomes(df):
    cols = [c for c in OUTCOME if not c.startswith("param:")] + \
        [c for c in df.columns if c.startswith("param:")]
    return df[cols].sort_values("id").reset_index(drop=True)


def test_grid_runs_resumes_and_dask_gives_the_same_outcomes(bin_env, tmp_path):
    s = sweep.Sweep(TEMPLATE, grid=GRID, seeds=SEEDS)
    local = sweep.run(s, tmp_path / "local", jobs=2, progress=False)
    assert len(local.runs) == 8 * 20 and local.ran == 160
    assert local.runs["error"].isna().all()
    # The NATs decide: symmetric behind port-restricted stays relayed, the rest go direct.
    by_point = local.summary.set_index(["param:nats.nat-a.preset", "param:nats.nat-b.preset",
                                        "param:internet.latency"])
    assert by_point.loc[("port-restricted-cone", "symmetric", "20ms"), "direct_rate"] == 0
    assert by_point.loc[("full-cone", "symmetric", "20ms"), "direct_rate"] == 1
    assert (by_point["runs"] == 20).all()
    lo, hi = by_point.loc[("full-cone", "symmetric", "20ms"), ["direct_rate_lo", "direct_rate_hi"]]
    assert (round(lo, 4), hi) == (round(sweep.wilson_interval(20, 20)[0], 4), 1.0)
    assert (tmp_path / "local" / "runs.csv").exists() and (tmp_path / "local" / "summary.csv").exists()
    first = json.loads((tmp_path / "local" / "runs.jsonl").read_text().splitlines()[0])
    assert (tmp_path / "local" / "runs" / first["id"] / "results.json").exists()
    assert first["pair_figures"][0]["a"] == "alice"

    # Resume: a sweep cut short after 150 runs (the last line half written)
    # does only the other 10.
    lines = (tmp_path / "local" / "runs.jsonl").read_text().splitlines()
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "runs.jsonl").write_text("\n".join(lines[:150]) + "\n{\"id\": \"trunc")
    resumed = sweep.run(s, tmp_path / "cut", jobs=2, progress=False)
    assert (resumed.skipped, resumed.ran) == (150, 10)
    assert outcomes(resumed.runs).equals(outcomes(local.runs))

    # Dask: a scheduler and two worker processes on loopback TCP.
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", protocol="tcp", dashboard_address=None,
                                  env={"PYTHONPATH": PYTHON_DIR,
                                       "PUNCHLAB_BIN": bin_env}) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        remote = sweep.run(s, tmp_path / "dask", scheduler=cluster.scheduler_address,
                           progress=False)
        with distributed.Client(cluster) as client:
            workers = client.scheduler_info()["workers"]
        assert len(workers) == 2
    assert remote.ran == 160
    assert outcomes(remote.runs).equals(outcomes(local.runs))
    assert remote.summary.equals(local.summary)


def test_shards_split_the_runs_and_concatenate_into_the_whole(bin_env, tmp_path):
    s = sweep.Sweep(TEMPLATE, grid={"nats.nat-b.preset": ["symmetric", "full-cone"]},
                    seeds=range(1, 4))
    whole = sweep.run(s, tmp_path / "whole", jobs=2, progress=False)
    parts = [sweep.run(s, tmp_path / f"shard{i}", shard=(i, 2), jobs=2, progress=False)
             for i in range(2)]
    assert [len(p.runs) for p in parts] == [3, 3]
    assert set(parts[0].runs["id"]).isdisjoint(parts[1].runs["id"])
    both = (tmp_path / "both")
    both.mkdir()
    (both / "runs.jsonl").write_text((tmp_path / "shard0" / "runs.jsonl").read_text() +
                                     (tmp_path / "shard1" / "runs.jsonl").read_text())
    assert outcomes(sweep.load(both).runs).equals(outcomes(whole.runs))


def test_cli_sweep_honours_gtest_sharding_and_reports_bad_input(punchlab_bin, tmp_path):
    env = python_env(GTEST_SHARD_INDEX="1", GTEST_TOTAL_SHARDS="3")
    env.pop("PUNCHLAB_BIN", None)
    r = subprocess.run([punchlab_bin, "sweep", str(TEMPLATE), "--param",
                        "nats.nat-b.preset=symmetric,full-cone", "--seeds", "1-3", "--out",
                        str(tmp_path / "cli"), "--quiet"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(l) for l in (tmp_path / "cli" / "runs.jsonl").read_text().splitlines()]
    assert len(rows) == 2  # runs 1 and 4 of 6
    # A parameter the loader rejects is a row with the loader's own words, and exit 4.
    r = subprocess.run([punchlab_bin, "sweep", str(TEMPLATE), "--param",
                        "nats.nat-b.preset=no-such-preset", "--out", str(tmp_path / "bad"),
                        "--quiet"], capture_output=True, text=True, env=python_env(), timeout=300)
    assert r.returncode == 4, r.stdout + r.stderr
    row = json.loads((tmp_path / "bad" / "runs.jsonl").read_text())
    assert "no-such-preset" in row["error"] and "scenario:" in row["error"]
    # Bad flags: exit 2 with the reason.
    r = subprocess.run([punchlab_bin, "sweep", str(TEMPLATE), "--shard", "3/2"],
                       capture_output=True, text=True, env=python_env(), timeout=60)
    assert r.returncode == 2 and "shard 3/2" in r.stderr
    r = subprocess.run([punchlab_bin, "sweep", str(TEMPLATE), "--param", "nats..preset=x"],
                       capture_output=True, text=True, env=python_env(), timeout=60)
    assert r.returncode == 2 and "not a dotted key path" in r.stderr


def test_random_sample_is_a_function_of_its_seed():
    sample = sweep.Sample(5, {"nats.nat-a.preset": ["full-cone", "symmetric"],
                              "internet.latency": (10, 100)}, seed=7)
    assert sample.points() == sweep.Sample(5, dict(sample.params), seed=7).points()
    assert all(10 <= p["internet.latency"] <= 100 for p in sample.points())
    s = sweep.Sweep(TEMPLATE, sample=sample, seeds=[1, 2])
    assert len(s.tasks()) == 10
    assert len({t["id"] for t in s.tasks()}) == 10


def test_set_path_reaches_lists_and_refuses_what_is_not_a_path():
    doc = {"traffic": [{"every": "100ms"}], "nats": {"a": {"preset": "x"}}}
    sweep.set_path(doc, "traffic.0.every", "1s")
    sweep.set_path(doc, "defaults.timers.heartbeat", "2s")
    assert doc["traffic"][0]["every"] == "1s" and doc["defaults"]["timers"]["heartbeat"] == "2s"
    with pytest.raises(sweep.SweepError, match="not an index"):
        sweep.set_path(doc, "traffic.5.every", "1s")
    with pytest.raises(sweep.SweepError, match="is a value"):
        sweep.set_path(doc, "nats.a.preset.x", 1)


def test_run_and_matrix_take_their_shard(punchlab_bin, tmp_path):
    files = []
    for i in range(3):
        f = tmp_path / f"s{i}.yaml"
        f.write_text(TEMPLATE.read_text().replace("name: sweep-pair", f"name: shard-{i}"))
        files.append(str(f))
    r = subprocess.run([punchlab_bin, "run", "--quiet", "--shard", "1/2", "--out",
                        str(tmp_path / "run"), *files], capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 1), r.stderr
    assert sorted(os.listdir(tmp_path / "run")) == ["junit.xml", "shard-1"]
    env = dict(os.environ, GTEST_SHARD_INDEX="0", GTEST_TOTAL_SHARDS="2")
    r = subprocess.run([punchlab_bin, "run", "--quiet", "--out", str(tmp_path / "env"), *files],
                       capture_output=True, text=True, env=env, timeout=120)
    assert sorted(os.listdir(tmp_path / "env")) == ["junit.xml", "shard-0", "shard-2"], r.stderr
    r = subprocess.run([punchlab_bin, "matrix", "--nats", "full-cone,symmetric", "--duration",
                        "3s", "--shard", "1/2", "--out", str(tmp_path / "matrix")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    # Row order: full--full, full--symmetric, symmetric--full, symmetric--symmetric.
    assert sorted(os.listdir(tmp_path / "matrix" / "cells")) == [
        "matrix-full-cone--symmetric", "matrix-symmetric--symmetric"]
    r = subprocess.run([punchlab_bin, "run", "--shard", "2/2", *files], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "shard 2/2" in r.stderr

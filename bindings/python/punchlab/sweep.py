"""Sweeps: a scenario template x parameters (a grid or a random sample) x seeds.

    from punchlab import sweep
    s = sweep.Sweep("scenarios/matrix/full--symmetric.yaml",
                    grid={"nats.nat-b.preset": ["symmetric", "full-cone"],
                          "nats.nat-a.udp_timeout": ["30s", "120s"],
                          "internet.latency": ["20ms", "80ms"]},
                    seeds=range(1, 21))
    result = sweep.run(s, "out/sweep", jobs=2)
    result.runs      # pandas.DataFrame: one row per run (parameters, seed, outcome, figures)
    result.summary   # one row per parameter point: rates across seeds with 95% intervals

A parameter is any key of the scenario file, as a dotted path into its YAML
(``nats.nat-a.preset``, ``defaults.timers.heartbeat``, ``links.0.loss``,
``traffic.0.every``); list items are numbered from 0. A value is written
into the template as YAML (``"20ms"``, ``0.01``, ``symmetric``); a path
that does not exist yet is created, so the loader (not the sweep) decides
whether the key means anything and says where it does not.

Every run is a ``punchlab run --seed S`` child process of its own (the same
binary, the same results whether it runs here, in another shard or on a
Dask worker), in the output directory:

    OUT/runs.jsonl     one JSON line per finished run, appended as runs end
    OUT/runs.csv       the same as a table (written at the end)
    OUT/summary.csv    per parameter point: runs, pairs, direct-path rate,
                       all-expectations-passed rate, each with a 95% Wilson
                       interval, median time to direct, probe loss
    OUT/runs/<id>/     each run's results directory (results.json,
                       latency.csv, junit.xml)

A run's id is a hash of its parameters and seed: an interrupted sweep run
again with the same OUT skips the runs runs.jsonl already holds (resume),
and shards (``shard=(index, count)``, or GTEST_SHARD_INDEX /
GTEST_TOTAL_SHARDS in the environment) each take every count-th run, so
their runs.jsonl files concatenate into the whole sweep.

With ``scheduler="tcp://HOST:8786"`` the runs go to a Dask distributed
cluster (python3-distributed) instead of local processes; its workers need
punchlab (the ``punchlab`` binary on PATH, or PUNCHLAB_BIN) and this package.
"""

import copy
import hashlib
import itertools
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from statistics import NormalDist, median
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

__all__ = ["Sweep", "Sample", "SweepResult", "run", "load", "wilson_interval", "shard_from_env",
           "set_path", "punchlab_binary", "SweepError"]


class SweepError(Exception):
    """A sweep that cannot start: a bad template, parameter or shard."""


# ---- parameters --------------------------------------------------------------


@dataclass
class Sample:
    """`n` random points: each parameter drawn from a list of choices (uniformly,
    or with ``weights``) or from a (low, high) numeric range; drawn from
    ``random.Random(seed)``, so the same Sample gives the same points."""
    n: int
    params: Mapping[str, Any]
    seed: int = 1
    weights: Mapping[str, Sequence[float]] = field(default_factory=dict)

    def points(self) -> List[Dict[str, Any]]:
        rng = random.Random(self.seed)
        out = []
        for _ in range(self.n):
            point = {}
            for key in sorted(self.params):
                space = self.params[key]
                if isinstance(space, tuple) and len(space) == 2:
                    lo, hi = space
                    point[key] = (rng.randint(lo, hi) if isinstance(lo, int) and isinstance(hi, int)
                                  else rng.uniform(lo, hi))
                else:
                    choices = list(space)
                    point[key] = rng.choices(choices, weights=self.weights.get(key))[0]
            out.append(point)
        return out


@dataclass
class Sweep:
    """A scenario template (a file path, YAML text or a dict), parameters as a
    grid (every combination) and/or a Sample, and the seeds each point runs."""
    template: Union[str, os.PathLike, Mapping]
    grid: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    sample: Optional[Sample] = None
    seeds: Iterable[int] = (1,)

    def document(self) -> Dict:
        import yaml
        t = self.template
        if isinstance(t, Mapping):
            return copy.deepcopy(dict(t))
        text = str(t)
        if isinstance(t, os.PathLike) or ("\n" not in text and os.path.exists(text)):
            with open(os.fspath(t), encoding="utf-8") as f:
                text = f.read()
        doc = yaml.safe_load(text)
        if not isinstance(doc, dict):
            raise SweepError("the template is not a YAML mapping (a scenario)")
        return doc

    def points(self) -> List[Dict[str, Any]]:
        keys = sorted(self.grid)
        grid = [dict(zip(keys, combo)) for combo in itertools.product(*(list(self.grid[k]) for k in keys))]
        if not grid:
            grid = [{}]
        if self.sample is None:
            return grid
        return [{**g, **s} for g in grid for s in self.sample.points()]

    def tasks(self) -> List[Dict[str, Any]]:
        """Every run, in a fixed order: (point, seed) with its id and scenario text."""
        import yaml
        base = self.document()
        seeds = [int(s) for s in self.seeds]
        if not seeds:
            raise SweepError("no seeds")
        out = []
        for point in self.points():
            doc = copy.deepcopy(base)
            for key, value in point.items():
                set_path(doc, key, value)
            text = yaml.safe_dump(doc, sort_keys=False)
            for seed in seeds:
                out.append({"id": run_id(point, seed), "params": point, "seed": seed,
                            "scenario": text, "index": len(out)})
        return out


def set_path(doc: Dict, key: str, value: Any) -> None:
    """Sets ``doc[a][b][c] = value`` for key "a.b.c"; numeric parts index lists."""
    parts = key.split(".")
    if not key or any(p == "" for p in parts):
        raise SweepError(f"parameter '{key}': not a dotted key path")
    node: Any = doc
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise SweepError(f"parameter '{key}': '{part}' is not an index of a list of "
                                 f"{len(node)}")
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if node.get(part) is None:
                    node[part] = {}
                node = node[part]
        else:
            raise SweepError(f"parameter '{key}': '{'.'.join(parts[:i])}' is a value, not a "
                             "mapping or list")


def run_id(params: Mapping[str, Any], seed: int) -> str:
    text = json.dumps({"params": params, "seed": seed}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def shard_from_env(shard: Optional[Tuple[int, int]] = None) -> Optional[Tuple[int, int]]:
    """The shard asked for, else GoogleTest's variables, else None (everything)."""
    if shard is None:
        index, total = os.environ.get("GTEST_SHARD_INDEX"), os.environ.get("GTEST_TOTAL_SHARDS")
        if index is None and total is None:
            return None
        if index is None or total is None:
            raise SweepError("GTEST_SHARD_INDEX and GTEST_TOTAL_SHARDS must be set together")
        try:
            shard = (int(index), int(total))
        except ValueError:
            raise SweepError(f"GTEST_SHARD_INDEX={index} GTEST_TOTAL_SHARDS={total}: not numbers")
    index, total = shard
    if total < 1 or not 0 <= index < total:
        raise SweepError(f"shard {index}/{total}: need 0 <= INDEX < COUNT")
    return (index, total)


# ---- one run -----------------------------------------------------------------


def punchlab_binary() -> str:
    """PUNCHLAB_BIN, else the build tree's sim/punchlab next to this package, else PATH."""
    env = os.environ.get("PUNCHLAB_BIN")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(here, "..", "..", "sim", "punchlab")
    if os.access(built, os.X_OK):
        return os.path.normpath(built)
    found = shutil.which("punchlab")
    if not found:
        raise SweepError("no punchlab binary: set PUNCHLAB_BIN or put punchlab on PATH")
    return found


def _summarize(results: Dict) -> Dict[str, Any]:
    pairs = results.get("pairs", [])
    direct = [p for p in pairs if p.get("final_path") == "direct"]
    ttd = [p["time_to_direct_s"] for p in pairs if p.get("time_to_direct_s") is not None]
    sent = sum(p.get("probes_sent", 0) for p in pairs)
    lost = sum(p.get("probes_lost", 0) for p in pairs)
    expectations = results.get("expectations", [])
    return {
        "ok": bool(results.get("ok")),
        "expectations": len(expectations),
        "expectations_failed": sum(1 for e in expectations if not e.get("ok")),
        "pairs": len(pairs),
        "pairs_direct": len(direct),
        "pairs_derp": sum(1 for p in pairs if p.get("final_path") == "derp"),
        "direct_rate": len(direct) / len(pairs) if pairs else None,
        "time_to_direct_median_s": median(ttd) if ttd else None,
        "probes_sent": sent,
        "probes_lost": lost,
        "loss_rate": lost / sent if sent else None,
        # The figures of each pair: path, times, RTTs.
        "pair_figures": [{k: p.get(k) for k in ("a", "b", "final_path", "time_to_direct_s",
                                                  "probes_sent", "probes_lost", "rtt")}
                         for p in pairs],
    }


def run_one(task: Mapping[str, Any], out_dir: Optional[str] = None,
            binary: Optional[str] = None) -> Dict[str, Any]:
    """Runs one task (from Sweep.tasks) as `punchlab run --seed S` and returns its row.
    A scenario the loader rejects, or a run that fails, is a row with `error` set."""
    binary = binary or punchlab_binary()
    row = {"id": task["id"], "seed": task["seed"], **{f"param:{k}": v for k, v in task["params"].items()}}
    work = tempfile.mkdtemp(prefix="punchlab-sweep-")
    try:
        path = os.path.join(work, "scenario.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(task["scenario"])
        started = time.monotonic()
        # The sweep has sharded already: the run itself takes its one file.
        env = {k: v for k, v in os.environ.items() if not k.startswith("GTEST_")}
        proc = subprocess.run([binary, "run", "--quiet", "--seed", str(task["seed"]), "--out",
                               os.path.join(work, "out"), path],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        row["wall_s"] = round(time.monotonic() - started, 3)
        out = os.path.join(work, "out")
        # The scenario's results directory (beside the run's junit.xml).
        produced = [d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d))] \
            if os.path.isdir(out) else []
        if proc.returncode not in (0, 1) or len(produced) != 1:
            text = proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}"
            row["error"] = text.replace(path, "scenario")[-2000:]
            return row
        run_dir = os.path.join(work, "out", produced[0])
        with open(os.path.join(run_dir, "results.json"), encoding="utf-8") as f:
            results = json.load(f)
        row["scenario"] = results.get("scenario")
        row.update(_summarize(results))
        row["error"] = None
        if out_dir is not None:
            dest = os.path.join(out_dir, "runs", task["id"])
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(run_dir, dest)
        return row
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_on_worker(task: Mapping[str, Any]) -> Dict[str, Any]:
    # On a Dask worker: no shared output directory, the row carries the figures.
    return run_one(task, None)


# ---- statistics --------------------------------------------------------------


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> Tuple[float, float]:
    """The Wilson score interval of a binomial rate (good at small n and near 0 or 1)."""
    if trials <= 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarize(runs) -> "Any":
    """Per parameter point: rates across its seeds with 95% Wilson intervals."""
    import pandas as pd
    if runs.empty:
        return pd.DataFrame()
    params = [c for c in runs.columns if c.startswith("param:")]
    good = runs[runs["error"].isna()] if "error" in runs else runs
    rows = []
    by = params[0] if len(params) == 1 else params
    groups = good.groupby(by, dropna=False, sort=True) if params else [((), good)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        pairs = int(g["pairs"].sum())
        direct = int(g["pairs_direct"].sum())
        ok = int(g["ok"].sum())
        d_lo, d_hi = wilson_interval(direct, pairs)
        o_lo, o_hi = wilson_interval(ok, len(g))
        ttd = g["time_to_direct_median_s"].dropna()
        sent = int(g["probes_sent"].sum())
        row = dict(zip(params, key))
        row.update({"runs": len(g), "pairs": pairs, "pairs_direct": direct,
                    "direct_rate": direct / pairs if pairs else math.nan,
                    "direct_rate_lo": d_lo, "direct_rate_hi": d_hi,
                    "ok_rate": ok / len(g), "ok_rate_lo": o_lo, "ok_rate_hi": o_hi,
                    "time_to_direct_median_s": float(ttd.median()) if len(ttd) else math.nan,
                    "loss_rate": int(g["probes_lost"].sum()) / sent if sent else math.nan})
        rows.append(row)
    errors = runs[runs["error"].notna()] if "error" in runs else runs.iloc[0:0]
    out = pd.DataFrame(rows)
    if len(errors):
        out.attrs["errors"] = len(errors)
    return out


# ---- the sweep ---------------------------------------------------------------


@dataclass
class SweepResult:
    out_dir: str
    runs: Any       # pandas.DataFrame
    summary: Any    # pandas.DataFrame
    ran: int        # runs done by this call (the rest were resumed or in other shards)
    skipped: int    # runs runs.jsonl already held


def _read_jsonl(path: str) -> List[Dict[str, Any]]:
    rows = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line cut short by an interruption: that run runs again
    return rows


def _end_line(path: str) -> None:
    # An interrupted sweep may have left half a line: new lines start afresh.
    if os.path.exists(path) and os.path.getsize(path) > 0:
        with open(path, "rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")


def _frame(rows: List[Dict[str, Any]]):
    import pandas as pd
    flat = [{k: v for k, v in r.items() if k != "pair_figures"} for r in rows]
    df = pd.DataFrame(flat)
    if not df.empty:
        df = df.sort_values(["id"]).reset_index(drop=True)
    return df


def load(out_dir: str) -> SweepResult:
    """A sweep's runs and summary from its directory (runs.jsonl), finished or not."""
    rows = _read_jsonl(os.path.join(out_dir, "runs.jsonl"))
    runs = _frame(rows)
    return SweepResult(out_dir, runs, summarize(runs), 0, len(rows))


class _Progress:
    def __init__(self, total: int, stream, enabled: bool):
        self.total, self.done, self.stream, self.enabled = total, 0, stream, enabled
        self.start = time.monotonic()

    def step(self, row: Dict[str, Any]) -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        what = row.get("error") or (f"{row.get('pairs_direct')}/{row.get('pairs')} direct"
                                    + ("" if row.get("ok") else ", expectations failed"))
        print(f"[{self.done}/{self.total}] {row['id']} seed {row['seed']}: {what} "
              f"(elapsed {elapsed:.0f} s, ETA {eta:.0f} s)", file=self.stream, flush=True)


def run(sweep: Sweep, out_dir: Union[str, os.PathLike], *, jobs: Optional[int] = None,
        scheduler: Optional[str] = None, shard: Optional[Tuple[int, int]] = None,
        progress: bool = True, stream=None) -> SweepResult:
    """Runs every run of `sweep` not yet in OUT/runs.jsonl (locally with `jobs`
    processes at once, or on the Dask cluster at `scheduler`), then writes
    runs.csv and summary.csv and returns them as DataFrames."""
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    stream = stream or sys.stderr
    tasks = sweep.tasks()
    shard = shard_from_env(shard)
    if shard is not None:
        tasks = [t for t in tasks if t["index"] % shard[1] == shard[0]]
    jsonl = os.path.join(out_dir, "runs.jsonl")
    have = {r["id"] for r in _read_jsonl(jsonl)}
    _end_line(jsonl)
    todo = [t for t in tasks if t["id"] not in have]
    skipped = len(tasks) - len(todo)
    if progress and skipped:
        print(f"resuming: {skipped} of {len(tasks)} runs already done", file=stream, flush=True)
    bar = _Progress(len(todo), stream, progress)

    def record(row: Dict[str, Any]) -> None:
        with open(jsonl, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, sort_keys=True, default=str) + "\n")
        bar.step(row)

    if todo and scheduler:
        from distributed import Client, as_completed as dask_completed
        with Client(scheduler) as client:
            futures = client.map(_run_on_worker, todo, key=[f"punchlab-run-{t['id']}" for t in todo],
                                 pure=False)
            for fut in dask_completed(futures):
                record(fut.result())
    elif todo:
        binary = punchlab_binary()
        jobs = jobs or os.cpu_count() or 1
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_one, t, out_dir, binary) for t in todo]
            for fut in as_completed(futures):
                record(fut.result())

    wanted = {t["id"] for t in tasks}
    rows = [r for r in _read_jsonl(jsonl) if r["id"] in wanted]
    runs = _frame(rows)
    summary = summarize(runs)
    runs.to_csv(os.path.join(out_dir, "runs.csv"), index=False)
    summary.to_csv(os.path.join(out_dir, "summary.csv"), index=False)
    return SweepResult(out_dir, runs, summary, len(todo), skipped)


# ---- command line (`punchlab sweep` hands over to this) ------------------------


def _parse_seeds(text: str) -> List[int]:
    seeds: List[int] = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            seeds.extend(range(int(lo), int(hi) + 1))
        elif part:
            seeds.append(int(part))
    return seeds


def _parse_value(text: str) -> Any:
    import yaml
    return yaml.safe_load(text)


def main(argv: Optional[List[str]] = None) -> int:
    import argparse
    p = argparse.ArgumentParser(
        prog="punchlab sweep", add_help=False,
        description="Runs a scenario template over parameters x seeds; writes runs.jsonl, "
                    "runs.csv and summary.csv (rates with 95%% intervals) to --out. Run again "
                    "with the same --out to resume.")
    p.add_argument("template", nargs="?", help="the scenario file the parameters are written into")
    p.add_argument("--param", "-p", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="a grid parameter: a dotted key of the scenario and its values")
    p.add_argument("--sample", type=int, metavar="N",
                   help="instead of the grid, N random points drawn from the --param values")
    p.add_argument("--sample-seed", type=int, default=1, metavar="S")
    p.add_argument("--seeds", default="1", metavar="LIST", help="e.g. 1-20 or 1,5,9 (default 1)")
    p.add_argument("--out", default="sweep", metavar="DIR")
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="runs at once (default: cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="run on this Dask distributed scheduler's workers")
    p.add_argument("--shard", metavar="INDEX/COUNT",
                   help="run every COUNT-th run from INDEX (default: GTEST_SHARD_INDEX/"
                        "GTEST_TOTAL_SHARDS if set)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    # --help is answered after the rest is read: a wrong flag beside it is still an error.
    p.add_argument("--help", "-h", action="store_true", help="show this help message and exit")
    p.add_argument("--version", action="version", version="punchlab sweep")
    args, unknown = p.parse_known_args(argv)
    if unknown:  # named before a missing template: the flag is the mistake
        p.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.help:
        p.print_help()
        return 0
    if not args.template:
        p.error("the following arguments are required: template")
    try:
        params: Dict[str, List[Any]] = {}
        for item in args.param:
            key, sep, values = item.partition("=")
            if not sep or not key or not values:
                p.error(f"--param '{item}': want KEY=V1,V2,...")
            params[key] = [_parse_value(v) for v in values.split(",")]
        try:
            seeds = _parse_seeds(args.seeds)
        except ValueError:
            p.error(f"--seeds '{args.seeds}': want e.g. 1-20 or 1,5,9")
        shard = None
        if args.shard:
            try:
                i, n = args.shard.split("/")
                shard = (int(i), int(n))
            except ValueError:
                p.error(f"--shard '{args.shard}': want INDEX/COUNT")
        if args.sample:
            sweep = Sweep(args.template, sample=Sample(args.sample, params, args.sample_seed),
                          seeds=seeds)
        else:
            sweep = Sweep(args.template, grid=params, seeds=seeds)
        result = run(sweep, args.out, jobs=args.jobs, scheduler=args.scheduler, shard=shard,
                     progress=not args.quiet)
    except SweepError as e:
        print(f"punchlab sweep: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print(f"punchlab sweep: {e}", file=sys.stderr)
        return 2
    errors = int(result.runs["error"].notna().sum()) if "error" in result.runs else 0
    print(f"{len(result.runs)} runs in {args.out} ({result.ran} ran now, {result.skipped} resumed"
          f"{f', {errors} failed to run' if errors else ''})")
    if not result.summary.empty:
        import pandas as pd
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            cols = [c for c in result.summary.columns if c.startswith("param:")] + [
                "runs", "direct_rate", "direct_rate_lo", "direct_rate_hi", "ok_rate"]
            print(result.summary[cols].to_string(index=False))
    return 4 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

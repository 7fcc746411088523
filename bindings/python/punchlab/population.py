"""Populations: pairs whose NATs are drawn from a stated distribution, and the
direct-path rate they reach, with its interval.

    from punchlab import population
    pop = population.Population({"port-restricted-cone": 0.5, "symmetric": 0.2,
                                 "full-cone": 0.1, "restricted-cone": 0.1, "public": 0.1},
                                knobs={"udp_timeout": {"30s": 0.5, "120s": 0.5}})
    study = population.run(pop, "out/pop", pairs=50, draws=4, seeds=[1])
    study.rate, study.interval     # e.g. 0.84, (0.80, 0.87)

A side is a NAT preset (any of `punchlab schema`'s), with optional knobs
drawn independently per NAT (each knob's values with their weights), or
"public" (no NAT at all). Each draw is one scenario of `pairs` independent
pairs: two nodes, each behind its own NAT, in a tailnet of their own, sending
to each other 10 times a second; a pair counts as direct when its final path
is direct. Draws are made from random.Random(draw), so a study is a function
of its population, draws and seeds. The runs go through punchlab.sweep
(locally in parallel, sharded or on Dask, resumable), one per draw and seed.

The interval is the 95% Wilson interval of direct pairs over all pairs of all
runs, which treats pairs as independent trials: they are (each has its own
NATs and only shares the DERP region and coordination server with the rest).
"""

import random
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import sweep as _sweep

__all__ = ["Population", "Study", "draw_scenario", "run", "PUBLIC"]

PUBLIC = "public"


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    names = sorted(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


@dataclass
class Population:
    """NAT presets (or "public") with weights, and knob distributions."""
    presets: Mapping[str, float]
    knobs: Mapping[str, Mapping[Any, float]] = field(default_factory=dict)
    duration: str = "20s"
    rate: str = "100ms"

    def __post_init__(self):
        if not self.presets or any(w < 0 for w in self.presets.values()) or \
                sum(self.presets.values()) <= 0:
            raise _sweep.SweepError("a population needs presets with non-negative weights, "
                                    "not all zero")

    def side(self, rng: random.Random) -> Optional[Dict[str, Any]]:
        preset = _pick(rng, self.presets)
        if preset == PUBLIC:
            return None
        nat: Dict[str, Any] = {"preset": preset}
        for knob in sorted(self.knobs):
            nat[knob] = _pick(rng, {str(k): w for k, w in self.knobs[knob].items()})
        return nat

    def describe(self) -> str:
        total = sum(self.presets.values())
        parts = [f"{name} {w / total:.0%}" for name, w in sorted(self.presets.items(),
                                                                   key=lambda kv: -kv[1])]
        text = ", ".join(parts)
        for knob, dist in sorted(self.knobs.items()):
            t = sum(dist.values())
            text += f"; {knob}: " + ", ".join(f"{k} {w / t:.0%}" for k, w in dist.items())
        return text


def draw_scenario(pop: Population, pairs: int, draw: int) -> Dict[str, Any]:
    """One scenario of `pairs` pairs whose NATs are drawn from `pop` with random.Random(draw)."""
    if pairs < 1:
        raise _sweep.SweepError("a population study needs at least one pair")
    rng = random.Random(draw)
    doc: Dict[str, Any] = {
        "name": f"population-draw{draw}",
        "description": f"{pairs} pairs with NATs drawn from: {pop.describe()}",
        "stop_time": pop.duration,
        "internet": {"latency": "20ms"},
        "derp": {"regions": [{"id": 1, "name": "fra", "latency": "10ms"}]},
        "control": {"domains": [f"pair{i}" for i in range(pairs)]},
        "nats": {},
        "nodes": {},
        "traffic": [],
    }
    for i in range(pairs):
        for side in ("a", "b"):
            node = f"p{i}{side}"
            nat = pop.side(rng)
            entry: Dict[str, Any] = {"domain": f"pair{i}"}
            if nat is not None:
                doc["nats"][f"nat-{node}"] = nat
                entry["behind"] = f"nat-{node}"
            doc["nodes"][node] = entry
        doc["traffic"].append({"from": f"p{i}a", "to": f"p{i}b", "every": pop.rate, "size": "200B"})
        doc["traffic"].append({"from": f"p{i}b", "to": f"p{i}a", "every": pop.rate, "size": "200B"})
    if not doc["nats"]:
        del doc["nats"]
    return doc


class _PopulationSweep(_sweep.Sweep):
    """A sweep whose points are draws: each draw is its own scenario."""

    def __init__(self, pop: Population, pairs: int, draws: int, seeds: Sequence[int]):
        super().__init__({}, seeds=seeds)
        self.pop, self.pairs, self.draws = pop, pairs, draws

    def tasks(self) -> List[Dict[str, Any]]:
        import yaml
        out = []
        for draw in range(self.draws):
            text = yaml.safe_dump(draw_scenario(self.pop, self.pairs, draw), sort_keys=False)
            point = {"draw": draw, "population": self.pop.describe(), "pairs": self.pairs}
            for seed in [int(s) for s in self.seeds]:
                out.append({"id": _sweep.run_id(point, seed), "params": point, "seed": seed,
                            "scenario": text, "index": len(out)})
        return out


@dataclass
class Study:
    population: Population
    runs: Any            # pandas.DataFrame, one row per run (a draw and a seed)
    pairs: int           # over all runs
    direct: int
    rate: float
    interval: Tuple[float, float]


def run(pop: Population, out_dir, *, pairs: int = 50, draws: int = 4, seeds: Sequence[int] = (1,),
        jobs: Optional[int] = None, scheduler: Optional[str] = None,
        shard: Optional[Tuple[int, int]] = None, progress: bool = False) -> Study:
    """Runs `draws` x `seeds` scenarios of `pairs` pairs drawn from `pop`."""
    result = _sweep.run(_PopulationSweep(pop, pairs, draws, list(seeds)), out_dir, jobs=jobs,
                        scheduler=scheduler, shard=shard, progress=progress)
    runs = result.runs
    good = runs[runs["error"].isna()] if "error" in runs else runs
    total = int(good["pairs"].sum()) if len(good) else 0
    direct = int(good["pairs_direct"].sum()) if len(good) else 0
    rate = direct / total if total else float("nan")
    return Study(pop, runs, total, direct, rate, _sweep.wilson_interval(direct, total))

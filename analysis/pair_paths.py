"""A pair's path over time, from the per-node timeline of results.json.

The same rule as the verdicts (sim/results/evaluate.h): each side's path
toward the other is the path of its latest timeline entry at or before t
("none" before its first); the pair's path state is that path while both
sides agree, "asymmetric" while both have a path but not the same one (data
goes one way direct, the other over DERP) and "none" while either side has
none. Entries at or after stop_time do not count. This is what the nodes
decided; what crossed the wire is in latency.csv's round trips.
"""

from dataclasses import dataclass
from typing import Iterable, List, Optional

from .results_dir import PathChange


@dataclass(frozen=True)
class Segment:
    """The pair's path is `path` during [start_s, end_s)."""
    start_s: float
    end_s: float
    path: str


@dataclass(frozen=True)
class Change:
    """At t_s the pair's path changed from `before` to `after`."""
    t_s: float
    before: str
    after: str


def pair_state(ab: str, ba: str) -> str:
    """The pair's state from each side's path toward the other."""
    if ab == ba:
        return ab
    return "none" if "none" in (ab, ba) else "asymmetric"


def pair_segments(timeline: Iterable[PathChange], a: str, b: str,
                  stop_time_s: float) -> List[Segment]:
    """[0, stop_time) cut where the pair's path changes; neighbours always differ."""
    entries = sorted((c for c in timeline
                      if {c.node, c.peer} == {a, b} and c.node != c.peer and c.t_s < stop_time_s),
                     key=lambda c: c.t_s)  # stable: same-instant entries keep file order
    side = {a: "none", b: "none"}
    segments: List[Segment] = []
    start, current = 0.0, "none"
    i = 0
    while i < len(entries):
        t = entries[i].t_s
        while i < len(entries) and entries[i].t_s == t:
            side[entries[i].node] = entries[i].path
            i += 1
        now = pair_state(side[a], side[b])
        if now != current:
            if t > start:
                segments.append(Segment(start, t, current))
            start, current = t, now
    if stop_time_s > start:
        segments.append(Segment(start, stop_time_s, current))
    # A change at t=0 leaves no empty segment but may repeat its neighbour's path.
    merged: List[Segment] = []
    for s in segments:
        if merged and merged[-1].path == s.path:
            merged[-1] = Segment(merged[-1].start_s, s.end_s, s.path)
        else:
            merged.append(s)
    return merged


def pair_changes(segments: List[Segment]) -> List[Change]:
    """The instants the pair's path changed (the start of every segment but the first)."""
    return [Change(cur.start_s, prev.path, cur.path) for prev, cur in zip(segments, segments[1:])]


def first_direct_s(segments: List[Segment]) -> Optional[float]:
    """When both nodes first chose direct (or local). Not results.json's
    time_to_direct_s, which is measured on the wire (a probe crossing the
    direct path both ways) from the pair's first probe."""
    for s in segments:
        if s.path in ("direct", "local"):
            return s.start_s
    return None

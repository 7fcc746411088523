"""One results directory (sim/results/README.md) read into dataclasses.

A results directory holds results.json (verdicts, pair summaries, the path
timeline) and latency.csv (one row per probe, lost ones included, with both
legs of each round trip). The reader checks the
format tag and every key it uses, with its type, and raises InputError naming
the file and the key ("out/results.json: pairs[0].a: expected text") or the
line ("out/latency.csv:7: ...") instead of failing somewhere inside a plot.
Keys it does not use (counters, events_executed, ...) are left alone, so a
newer writer that adds keys stays readable.
"""

import csv
import json
import math
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .errors import InputError

RESULTS_FORMAT = "punchlab-results/2"
# A node's path, or a pair's path state (asymmetric: both have a path, not the same).
PATHS = ("direct", "derp", "local", "none", "asymmetric")
# A round trip judged by both legs (results.h RoundTripPath).
ROUND_TRIPS = ("direct", "local", "derp", "mixed")
# latency.csv's round_trip column also says when no echo came back.
UNECHOED = ("lost", "in-flight")
CSV_HEADER = ["time_s", "src", "dst", "seq", "path", "echo_path", "round_trip", "rtt_ms"]
# What a step of the disco log is (results.h DiscoStepKind).
DISCO_STEPS = ("ping-sent", "ping-received", "pong-sent", "pong-received",
               "call-me-maybe-sent", "call-me-maybe-received", "candidate", "trust", "path",
               "handshake", "portmap")


@dataclass(frozen=True)
class Verdict:
    """One expectation's verdict (an `expect` entry of the scenario)."""
    line: int
    column: int
    text: str
    ok: bool
    observed: str
    observed_value: Optional[float]


@dataclass(frozen=True)
class RttSummary:
    samples: int
    min_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class PairSummary:
    """rtt is keyed by round-trip path (ROUND_TRIPS). time_to_direct_s =
    direct_at_s - first_send_s: from the pair's first probe to the first
    probe that crossed the direct path both ways."""
    a: str
    b: str
    first_send_s: Optional[float]
    direct_at_s: Optional[float]
    time_to_direct_s: Optional[float]
    final_path: str
    probes_sent: int
    probes_lost: int
    rtt: Dict[str, RttSummary]


@dataclass(frozen=True)
class DiscoStep:
    """One step of the disco log: what `node` did or saw toward `peer`, and why
    (sim/results/README.md, disco_log). Pings and pongs carry their txid,
    the same at both ends."""
    t_s: float
    node: str
    peer: str
    what: str
    via: str
    endpoint: str
    txid: str
    reason: str


@dataclass(frozen=True)
class PathChange:
    """From t_s on, `node` sends its data to `peer` over `path`."""
    t_s: float
    node: str
    peer: str
    path: str
    detail: str
    reason: str


@dataclass(frozen=True)
class EventMark:
    """One of the scenario's timed events (a fault), in words; until_s when
    `for` undoes it."""
    t_s: float
    until_s: Optional[float]
    what: str


@dataclass(frozen=True)
class Sample:
    """One latency.csv row: a probe sent at time_s on `path`; its echo came
    back on `echo_path` after rtt_ms. round_trip is both legs (ROUND_TRIPS),
    or "lost"/"in-flight" with echo_path and rtt_ms None."""
    time_s: float
    src: str
    dst: str
    seq: int
    path: str
    echo_path: Optional[str]
    round_trip: str
    rtt_ms: Optional[float]

    @property
    def echoed(self) -> bool:
        return self.rtt_ms is not None


@dataclass
class ResultsDir:
    path: str
    scenario: str
    file: str
    description: str
    seed: int
    mode: str
    stop_time_s: float
    ok: bool
    expectations: List[Verdict]
    pairs: List[PairSummary]
    timeline: List[PathChange]
    notes: List[str]
    events: List[EventMark] = field(default_factory=list)
    samples: List[Sample] = field(default_factory=list)
    disco_log: List[DiscoStep] = field(default_factory=list)

    def find_pair(self, a: str, b: str) -> Optional[PairSummary]:
        for p in self.pairs:
            if {p.a, p.b} == {a, b}:
                return p
        return None

    def pair_names(self) -> List[Tuple[str, str]]:
        """Every pair with a summary, (a, b) with a < b, in results.json order."""
        return [(p.a, p.b) for p in self.pairs]


class _Obj:
    """Typed access to one JSON object; errors name the file and the key path."""

    def __init__(self, value, where: str, file: str):
        if not isinstance(value, dict):
            raise InputError(f"{file}: {where or 'top level'}: expected an object")
        self.value, self.where, self.file = value, where, file

    def _key(self, key):
        return f"{self.where}.{key}" if self.where else key

    def _get(self, key):
        if key not in self.value:
            raise InputError(f"{self.file}: {self.where or 'top level'}: missing key '{key}'")
        return self.value[key]

    def _bad(self, key, expected):
        return InputError(f"{self.file}: {self._key(key)}: expected {expected}, "
                          f"got {json.dumps(self.value[key])[:40]}")

    def text(self, key) -> str:
        v = self._get(key)
        if not isinstance(v, str):
            raise self._bad(key, "text")
        return v

    def boolean(self, key) -> bool:
        v = self._get(key)
        if not isinstance(v, bool):
            raise self._bad(key, "true or false")
        return v

    def count(self, key) -> int:
        v = self._get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise self._bad(key, "a non-negative integer")
        return v

    def number(self, key) -> float:
        v = self._get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self._bad(key, "a number")
        return float(v)

    def number_or_null(self, key) -> Optional[float]:
        return None if self._get(key) is None else self.number(key)

    def path(self, key) -> str:
        v = self.text(key)
        if v not in PATHS:
            raise self._bad(key, "one of " + ", ".join(PATHS))
        return v

    def items(self, key) -> List["_Obj"]:
        v = self._get(key)
        if not isinstance(v, list):
            raise self._bad(key, "a list")
        return [_Obj(x, f"{self._key(key)}[{i}]", self.file) for i, x in enumerate(v)]

    def obj(self, key) -> "_Obj":
        return _Obj(self._get(key), self._key(key), self.file)

    def texts(self, key) -> List[str]:
        v = self._get(key)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self._bad(key, "a list of text")
        return v


def read_json_file(file: str):
    """json.load with InputError naming the file instead of a traceback."""
    try:
        with open(file, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise InputError(f"{file}: no such file") from None
    except OSError as e:
        raise InputError(f"{file}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{file}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{file}: not valid JSON: {e.msg} at line {e.lineno} "
                         f"column {e.colno}") from None


def _rtt(o: _Obj) -> RttSummary:
    return RttSummary(o.count("samples"), o.number("min_ms"), o.number("p50_ms"),
                      o.number("p90_ms"), o.number("p99_ms"), o.number("max_ms"))


def _pair(o: _Obj) -> PairSummary:
    rtt_obj = o.obj("rtt")
    rtt = {}
    for path in rtt_obj.value:
        if path not in ROUND_TRIPS:
            raise InputError(f"{o.file}: {rtt_obj.where}: unknown round-trip path '{path}' "
                             f"(round trips: {', '.join(ROUND_TRIPS)})")
        rtt[path] = _rtt(rtt_obj.obj(path))
    return PairSummary(o.text("a"), o.text("b"), o.number_or_null("first_send_s"),
                       o.number_or_null("direct_at_s"), o.number_or_null("time_to_direct_s"),
                       o.path("final_path"), o.count("probes_sent"), o.count("probes_lost"), rtt)


def parse_results_json(data, file: str) -> dict:
    """The fields of ResultsDir that results.json holds, checked."""
    fmt = data.get("format") if isinstance(data, dict) else None
    if fmt != RESULTS_FORMAT:
        raise InputError(f"{file}: not a punchlab results file (format is "
                         f"{json.dumps(fmt)}, expected \"{RESULTS_FORMAT}\")")
    top = _Obj(data, "", file)
    return dict(
        scenario=top.text("scenario"), file=top.text("file"),
        description=top.text("description"), seed=top.count("seed"), mode=top.text("mode"),
        stop_time_s=top.number("stop_time_s"), ok=top.boolean("ok"),
        expectations=[Verdict(e.count("line"), e.count("column"), e.text("text"), e.boolean("ok"),
                              e.text("observed"), e.number_or_null("observed_value"))
                      for e in top.items("expectations")],
        pairs=[_pair(p) for p in top.items("pairs")],
        timeline=[PathChange(t.number("t_s"), t.text("node"), t.text("peer"), t.path("path"),
                             t.text("detail"), t.text("reason"))
                  for t in top.items("timeline")],
        notes=top.texts("notes"),
        events=[EventMark(e.number("t_s"), e.number_or_null("until_s"), e.text("what"))
                for e in top.items("events")],
        # Files from before the disco log have none.
        disco_log=[_disco_step(d) for d in top.items("disco_log")] if "disco_log" in data else [])


def _disco_step(o: "_Obj") -> DiscoStep:
    what = o.text("what")
    if what not in DISCO_STEPS:
        raise o._bad("what", "one of " + ", ".join(DISCO_STEPS))
    return DiscoStep(o.number("t_s"), o.text("node"), o.text("peer"), what, o.text("via"),
                     o.text("endpoint"), o.text("txid"), o.text("reason"))


def read_latency_csv(file: str) -> List[Sample]:
    try:
        with open(file, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise InputError(f"{file}: no such file (every results directory has one)") from None
    except OSError as e:
        raise InputError(f"{file}: cannot read: {e.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{file}: not a CSV text file ({e})") from None
    if not rows or rows[0] != CSV_HEADER:
        raise InputError(f"{file}:1: expected the header {','.join(CSV_HEADER)}")
    samples = []
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != len(CSV_HEADER):
            raise InputError(f"{file}:{lineno}: expected {len(CSV_HEADER)} fields "
                             f"({','.join(CSV_HEADER)}), got {len(row)}")
        time_s, src, dst, seq, path, echo_path, round_trip, rtt_ms = row
        try:
            t, n = float(time_s), int(seq)
            r = None if rtt_ms == "" else float(rtt_ms)
        except ValueError:
            raise InputError(f"{file}:{lineno}: time_s, seq and rtt_ms must be numbers") from None
        if not math.isfinite(t) or n < 0 or (r is not None and (not math.isfinite(r) or r < 0)):
            raise InputError(f"{file}:{lineno}: time_s and rtt_ms must be finite, seq and "
                             f"rtt_ms >= 0")
        if path not in PATHS:
            raise InputError(f"{file}:{lineno}: unknown path '{path}' (paths: {', '.join(PATHS)})")
        if round_trip in UNECHOED:
            if echo_path != "" or r is not None:
                raise InputError(f"{file}:{lineno}: a {round_trip} probe has no echo_path "
                                 f"nor rtt_ms")
            samples.append(Sample(t, src, dst, n, path, None, round_trip, None))
            continue
        if round_trip not in ROUND_TRIPS:
            raise InputError(f"{file}:{lineno}: unknown round_trip '{round_trip}' "
                             f"(round trips: {', '.join(ROUND_TRIPS + UNECHOED)})")
        if echo_path not in PATHS or r is None:
            raise InputError(f"{file}:{lineno}: an echoed probe needs echo_path and rtt_ms")
        samples.append(Sample(t, src, dst, n, path, echo_path, round_trip, r))
    return samples


def load_results_dir(path: str) -> ResultsDir:
    """Reads DIR/results.json and DIR/latency.csv; raises InputError on bad input."""
    if not os.path.exists(path):
        raise InputError(f"{path}: no such results directory")
    if not os.path.isdir(path):
        raise InputError(f"{path}: not a directory (give the results directory, "
                         f"not a file in it)")
    json_file = os.path.join(path, "results.json")
    if not os.path.exists(json_file):
        raise InputError(f"{json_file}: no such file: {path} is not a results directory "
                         f"(punchlab run --out DIR writes DIR/<scenario>/results.json) "
                         f"nor holds any")
    fields = parse_results_json(read_json_file(json_file), json_file)
    samples = read_latency_csv(os.path.join(path, "latency.csv"))
    return ResultsDir(path=path, samples=samples, **fields)

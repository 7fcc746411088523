"""The CDF of round-trip times, one curve per round-trip path (direct,
local, DERP -- both legs on it -- and mixed: one leg relayed): how much a
relay costs. Over every echoed probe of the given results directories, or of
one pair."""

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from .figures import PATH_COLORS, new_figure
from .results_dir import ResultsDir

CDF_PATHS = ("direct", "local", "derp", "mixed")


@dataclass(frozen=True)
class CdfSeries:
    path: str
    rtts_ms: List[float]    # sorted ascending
    fractions: List[float]  # fractions[i]: share of samples <= rtts_ms[i]

    @property
    def median_ms(self) -> float:
        return percentile(self.rtts_ms, 50)


@dataclass
class RttCdf:
    title: str
    series: Dict[str, CdfSeries]  # only paths with samples, in CDF_PATHS order


def percentile(sorted_ms: Sequence[float], p: float) -> float:
    """Nearest rank, as results.json's p50_ms: the smallest sample with at
    least p% of the samples at or below it."""
    if not sorted_ms:
        raise ValueError("no samples")
    rank = max(1, math.ceil(p / 100 * len(sorted_ms)))
    return sorted_ms[rank - 1]


def rtt_cdf_data(runs: Sequence[ResultsDir], title: str,
                 pair: Optional[Tuple[str, str]] = None) -> RttCdf:
    by_path: Dict[str, List[float]] = {p: [] for p in CDF_PATHS}
    for run in runs:
        for s in run.samples:
            if pair is not None and {s.src, s.dst} != set(pair):
                continue
            if s.round_trip in by_path:
                by_path[s.round_trip].append(s.rtt_ms)
    series = {}
    for path, rtts in by_path.items():
        if rtts:
            rtts.sort()
            n = len(rtts)
            series[path] = CdfSeries(path, rtts, [(i + 1) / n for i in range(n)])
    return RttCdf(title, series)


def plot_rtt_cdf(data: RttCdf):
    """The Figure; each curve's gid is 'cdf-<path>' (its points after the
    first are exactly the series'), its median marker 'median-<path>'."""
    fig = new_figure(6, 4)
    ax = fig.add_subplot()
    for path, s in data.series.items():
        # Drawn from (first sample, 0) so the curve rises from the axis.
        ax.step([s.rtts_ms[0]] + s.rtts_ms, [0.0] + s.fractions, where="post",
                color=PATH_COLORS[path], gid=f"cdf-{path}",
                label=f"{path}: {len(s.rtts_ms)} samples, median {s.median_ms:.1f} ms")
        ax.axvline(s.median_ms, color=PATH_COLORS[path], lw=0.8, ls=":", gid=f"median-{path}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("round-trip time (ms)")
    ax.set_ylabel("fraction of probes")
    ax.set_title(data.title)
    if data.series:
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no echoed probes", ha="center", va="center", transform=ax.transAxes)
    ax.grid(True, alpha=0.3)
    return fig

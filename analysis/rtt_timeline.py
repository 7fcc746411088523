"""RTT over time for one pair: each probe's round trip at the time it was
sent (both directions), coloured by its round-trip path (both legs: direct,
local, derp, or mixed), lost probes as red crosses along the bottom, the
pair's path state shaded behind it (direct, local, DERP, asymmetric;
unshaded while it is none), a vertical marker at every instant the pair's
path changed, and the scenario's faults (events) as red markers, hatched
while they last."""

from dataclasses import dataclass
from typing import List

from .figures import PATH_COLORS, new_figure
from .pair_paths import Change, Segment, pair_changes, pair_segments
from .results_dir import EventMark, ResultsDir, Sample

SHADED_PATHS = ("direct", "local", "derp", "asymmetric")
TRIP_PATHS = ("direct", "local", "derp", "mixed")


@dataclass
class RttTimeline:
    scenario: str
    a: str
    b: str
    stop_time_s: float
    samples: List[Sample]     # both directions, in latency.csv order, lost ones included
    segments: List[Segment]   # the pair's path over [0, stop_time)
    changes: List[Change]     # the marked instants
    events: List[EventMark]   # the scenario's faults

    def samples_on(self, round_trip: str) -> List[Sample]:
        return [s for s in self.samples if s.round_trip == round_trip]

    def lost(self) -> List[Sample]:
        return [s for s in self.samples if s.round_trip == "lost"]


def rtt_timeline_data(results: ResultsDir, a: str, b: str) -> RttTimeline:
    segments = pair_segments(results.timeline, a, b, results.stop_time_s)
    samples = [s for s in results.samples if {s.src, s.dst} == {a, b}]
    return RttTimeline(results.scenario, a, b, results.stop_time_s, samples, segments,
                       pair_changes(segments), list(results.events))


def plot_rtt_timeline(data: RttTimeline):
    """The Figure. Artists carry gids for whoever inspects it: 'path-<path>'
    on the shaded spans, 'path-change' on the markers, 'rtt-<src>-<dst>-<trip>'
    on the sample series (trip: the round-trip path), 'lost-<src>-<dst>' on
    the lost probes (drawn at RTT 0), 'event' on the fault markers and
    'event-span' on the spans of faults undone by `for`."""
    fig = new_figure(11, 4)
    ax = fig.add_subplot()
    shaded = set()
    for seg in data.segments:
        if seg.path not in SHADED_PATHS:
            continue
        ax.axvspan(seg.start_s, seg.end_s, color=PATH_COLORS[seg.path], alpha=0.12, lw=0,
                   gid=f"path-{seg.path}",
                   label=None if seg.path in shaded else f"pair on {seg.path}")
        shaded.add(seg.path)
    for i, ch in enumerate(data.changes):
        ax.axvline(ch.t_s, color="black", lw=0.8, ls="--", gid="path-change",
                   label="path change" if i == 0 else None)
        # Changes close together (a pair settling in) get one label, the last
        # one's, not a smudge.
        following = data.changes[i + 1:i + 2]
        if following and following[0].t_s - ch.t_s < 0.02 * data.stop_time_s:
            continue
        ax.annotate(f"{ch.before}\u2192{ch.after}", (ch.t_s, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(2, -10), textcoords="offset points", fontsize=7, rotation=90,
                    va="top")
    for i, ev in enumerate(data.events):
        ax.axvline(ev.t_s, color=PATH_COLORS["lost"], lw=1.0, ls=":", gid="event",
                   label="fault (scenario event)" if i == 0 else None)
        if ev.until_s is not None:
            ax.axvspan(ev.t_s, ev.until_s, facecolor="none", edgecolor=PATH_COLORS["lost"],
                       hatch="//", lw=0, alpha=0.3, gid="event-span")
        ax.annotate(ev.what, (ev.t_s, 0.0), xycoords=("data", "axes fraction"),
                    xytext=(2, 12), textcoords="offset points", fontsize=7, rotation=90,
                    va="bottom", color=PATH_COLORS["lost"])
    markers = {(data.a, data.b): "o", (data.b, data.a): "^"}
    for (src, dst), marker in markers.items():
        for trip in TRIP_PATHS:
            pts = [s for s in data.samples
                   if s.src == src and s.dst == dst and s.round_trip == trip]
            if not pts:
                continue
            ax.plot([s.time_s for s in pts], [s.rtt_ms for s in pts], ls="none", marker=marker,
                    ms=2.5, color=PATH_COLORS[trip], gid=f"rtt-{src}-{dst}-{trip}",
                    label=f"{src}\u2192{dst} {trip} round trip")
        lost = [s for s in data.lost() if s.src == src and s.dst == dst]
        if lost:
            ax.plot([s.time_s for s in lost], [0.0] * len(lost), ls="none", marker="x", ms=4,
                    color=PATH_COLORS["lost"], gid=f"lost-{src}-{dst}", clip_on=False,
                    label=f"{src}\u2192{dst} lost ({len(lost)})")
    ax.set_xlim(0, data.stop_time_s)
    # Headroom above the slowest sample, so no point sits on the frame.
    ax.set_ylim(0, 1.15 * max((s.rtt_ms for s in data.samples if s.echoed), default=1.0))
    ax.set_xlabel("time (s), when the probe was sent")
    ax.set_ylabel("round-trip time (ms)")
    ax.set_title(f"{data.scenario}: {data.a} \u2194 {data.b}")
    if ax.get_legend_handles_labels()[0]:
        # Outside the axes: inside, it would hide samples.
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, markerscale=2)
    ax.grid(True, alpha=0.3)
    return fig

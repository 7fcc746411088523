"""The sequence diagram of one pair's punch, from the disco log (results.json
disco_log): who sent which disco message to which endpoint, whether and from
where it arrived -- the NAT's doing: a ping that never arrived was dropped on
the way, one that arrived from another endpoint than its sender's own was
translated -- and when each side moved its path.

Each message is matched to its arrival by txid (pings, pongs) or, for
CallMeMaybe (no txid), by order. The relayed-RTT pings over DERP and their
pongs are left out (they measure DERP, they do not punch), and the diagram
covers the punch: from the pair's first step until both sides have decided
on a direct (or local) path, plus the messages already under way then --
at most `max_rows` rows; the rest is in disco.csv.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .figures import PATH_COLORS, new_figure
from .results_dir import DiscoStep, ResultsDir

SENT = {"ping-sent": "ping", "pong-sent": "pong", "call-me-maybe-sent": "call-me-maybe"}
RECEIVED = {"ping-received": "ping", "pong-received": "pong",
            "call-me-maybe-received": "call-me-maybe"}
MAX_ROWS = 40


@dataclass(frozen=True)
class Arrow:
    """A disco message from `src` to `dst`, sent at t_s."""
    t_s: float
    src: str
    dst: str
    message: str              # ping, pong, call-me-maybe
    via: str                  # "udp" or "derp <region>"
    to: str                   # over UDP: the endpoint it was sent to
    why: str                  # the sender's reason
    arrived_s: Optional[float] = None  # None: it never arrived
    came_from: str = ""       # over UDP: where the receiver saw it come from
    answer: str = ""          # the receiver's reason ("answered", "rtt 44.000ms ...")

    @property
    def relayed(self) -> bool:
        return self.via != "udp"


@dataclass(frozen=True)
class Mark:
    """A decision at one node: a path change, a candidate, a trust change."""
    t_s: float
    node: str
    what: str    # path, candidate, trust
    text: str    # "direct 192.0.2.1:41641 (pong: ...)"


@dataclass
class Sequence:
    scenario: str
    a: str
    b: str
    rows: List[object] = field(default_factory=list)  # Arrow and Mark, in time order
    left_out: int = 0                                 # steps of the pair not shown

    def arrows(self) -> List[Arrow]:
        return [r for r in self.rows if isinstance(r, Arrow)]

    def marks(self) -> List[Mark]:
        return [r for r in self.rows if isinstance(r, Mark)]


def _is_relayed_rtt(step: DiscoStep) -> bool:
    return step.what in ("ping-sent", "ping-received", "pong-sent", "pong-received") and \
        step.via.startswith("derp")


def _punch_ends(steps: List[DiscoStep], a: str, b: str) -> Optional[float]:
    """When the later of the two sides first decided on a direct path."""
    first: Dict[str, float] = {}
    for s in steps:
        if s.what == "path" and s.endpoint.startswith("direct ") and s.node not in first:
            first[s.node] = s.t_s
    return max(first[a], first[b]) if a in first and b in first else None


def sequence_data(results: ResultsDir, a: str, b: str, max_rows: int = MAX_ROWS) -> Sequence:
    steps = [s for s in results.disco_log if {s.node, s.peer} == {a, b}]
    seq = Sequence(results.scenario, a, b)
    shown = [s for s in steps if not _is_relayed_rtt(s)]
    end = _punch_ends(shown, a, b)
    arrivals: Dict[Tuple[str, str, str], DiscoStep] = {}   # (receiver, message, txid)
    cmm_arrivals: Dict[str, List[DiscoStep]] = {}           # receiver -> in order
    for s in shown:
        if s.what in RECEIVED:
            if s.txid:
                arrivals.setdefault((s.node, RECEIVED[s.what], s.txid), s)
            else:
                cmm_arrivals.setdefault(s.node, []).append(s)
    rows: List[object] = []
    for s in shown:
        if end is not None and s.t_s > end:
            break
        if s.what in SENT:
            message = SENT[s.what]
            got = arrivals.get((s.peer, message, s.txid)) if s.txid else \
                (cmm_arrivals.get(s.peer) or [None]).pop(0) if cmm_arrivals.get(s.peer) else None
            rows.append(Arrow(s.t_s, s.node, s.peer, message, s.via, s.endpoint, s.reason,
                              None if got is None else got.t_s,
                              "" if got is None else got.endpoint,
                              "" if got is None else got.reason))
        elif s.what in ("path", "candidate", "trust", "handshake"):
            rows.append(Mark(s.t_s, s.node, s.what, f"{s.endpoint} ({s.reason})"))
        # received steps are drawn as the arrowheads of their messages
    seq.rows = rows[:max_rows]
    drawn = sum(1 for r in seq.rows if isinstance(r, Mark)) + \
        sum(1 if r.arrived_s is None else 2 for r in seq.rows if isinstance(r, Arrow))
    seq.left_out = len(steps) - drawn
    return seq


def _arrow_text(r: Arrow) -> str:
    where = f" to {r.to}" if r.to else f" over {r.via}"
    return f"{r.message}{where} ({r.why})"


def _fate_text(r: Arrow) -> str:
    if r.arrived_s is None:
        return "never arrived: dropped on the way"
    where = f" from {r.came_from}" if r.came_from else ""
    return f"arrived {r.arrived_s:.3f} s{where}: {r.answer}"


def plot_sequence(seq: Sequence):
    """The Figure: a lifeline per node, a row per message or decision, top
    to bottom in time. Artists carry gids: 'message-<message>' on arrows
    that arrived, 'dropped-<message>' on those that did not (they end in a
    cross halfway), 'mark-<what>' on decisions."""
    rows = max(len(seq.rows), 1)
    fig = new_figure(11, 1.2 + 0.42 * rows)
    ax = fig.add_subplot()
    x = {seq.a: 0.2, seq.b: 0.8}
    ax.set_xlim(0, 1)
    ax.set_ylim(rows + 0.2, -1.2)
    ax.axis("off")
    for name, px in x.items():
        ax.text(px, -0.8, name, ha="center", va="center", fontsize=10, fontweight="bold",
                bbox=dict(boxstyle="round", fc="#eeeeee", ec="#888888"))
        ax.plot([px, px], [-0.5, rows + 0.1], color="#999999", lw=1, zorder=0)
    for i, r in enumerate(seq.rows):
        y = i + 0.3
        ax.text(0.01, y, f"{r.t_s:.3f} s", fontsize=7, va="center", color="#555555")
        if isinstance(r, Mark):
            px = x[r.node]
            color = PATH_COLORS["direct"] if r.text.startswith("direct") else "#444444"
            ax.text(px, y, f"{r.what}: {r.text}", fontsize=7, va="center",
                    ha="left" if px < 0.5 else "right", color=color, gid=f"mark-{r.what}",
                    bbox=dict(boxstyle="square,pad=0.2", fc="#fff8dc", ec=color, lw=0.6))
            continue
        x0, x1 = x[r.src], x[r.dst]
        color = PATH_COLORS["derp"] if r.relayed else PATH_COLORS["direct"]
        style = "--" if r.relayed else "-"
        if r.arrived_s is None:
            mid = (x0 + x1) / 2
            ax.plot([x0, mid], [y, y], ls=style, color=PATH_COLORS["lost"], lw=1.2,
                    gid=f"dropped-{r.message}")
            ax.plot([mid], [y], marker="x", ms=8, color=PATH_COLORS["lost"])
        else:
            ax.annotate("", xy=(x1, y), xytext=(x0, y), gid=f"message-{r.message}",
                        arrowprops=dict(arrowstyle="->", ls=style, color=color, lw=1.2))
        ax.text((x0 + x1) / 2, y - 0.12, _arrow_text(r), fontsize=7, ha="center", va="bottom")
        ax.text((x0 + x1) / 2, y + 0.1, _fate_text(r), fontsize=6.5, ha="center", va="top",
                color=PATH_COLORS["lost"] if r.arrived_s is None else "#555555")
    title = f"{seq.scenario}: the punch between {seq.a} and {seq.b}"
    if seq.left_out:
        title += f" ({seq.left_out} more steps in disco.csv)"
    ax.set_title(title, fontsize=10)
    return fig

"""The HTML report: one self-contained file (plots embedded as base64 PNG,
no scripts, no external links) from results and matrix directories. It is
browsable without scripts: a table of contents, every scenario and every
pair's timeline in a collapsible <details> section (a scenario's own page,
linked from its matrix cell), and a click on a plot zooms it (CSS :focus).

Inputs: results directories, matrix directories, and directories of
results directories (what `punchlab run --out DIR` fills). For each results
directory: the verdict table, the pair table, the RTT
timeline of each pair and the RTT CDF by path. For each matrix directory:
the time-to-direct heat map and the cell table. With several results
directories, one CDF over all of them on top.

main() is `python3 -m punchlab.report RESULTS... -o report.html` (and
`punchlab report`). Bad input is one line naming the file, exit 2; a
missing matplotlib or an unwritable output, exit 4.
"""

import argparse
import html
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .errors import InputError
from .figures import MatplotlibMissing, png_base64, png_bytes
from .heatmap import heatmap_data, plot_heatmap
from .matrix_dir import MatrixDir, is_matrix_dir, load_matrix_dir
from .results_dir import ResultsDir, load_results_dir
from .rtt_cdf import plot_rtt_cdf, rtt_cdf_data
from .rtt_timeline import plot_rtt_timeline, rtt_timeline_data
from .sequence_diagram import Arrow, plot_sequence, sequence_data

EXIT_BAD_INPUT = 2
EXIT_RUNTIME = 4
# A crowd scenario has thousands of pairs; the report plots the first ones.
MAX_TIMELINES_PER_RUN = 12

CSS = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.ok { color: #1a7f37; font-weight: bold; } td.fail { color: #c62828; font-weight: bold; }
img { max-width: 100%; display: block; margin: 0.5em 0; }
.meta { color: #555; font-size: 0.9em; }
section { border-top: 2px solid #ddd; margin-top: 2em; }
summary { cursor: pointer; } summary h2, summary h3 { display: inline; }
nav ul { columns: 2; font-size: 0.9em; }
.zoom { overflow-x: auto; }
.zoom img:focus { max-width: none; width: 200%; cursor: zoom-out; outline: none; }
.zoom img { cursor: zoom-in; }
"""


@dataclass
class Matrix:
    dir: MatrixDir
    cell_runs: Dict[Tuple[str, str], ResultsDir] = field(default_factory=dict)


def _expand(paths: Sequence[str]) -> List[str]:
    """`punchlab run --out DIR a.yaml b.yaml` writes DIR/a/, DIR/b/: DIR
    itself stands for those results directories, in name order."""
    out = []
    for p in paths:
        if (os.path.isdir(p) and not os.path.exists(os.path.join(p, "results.json"))
                and not is_matrix_dir(p)):
            children = sorted(os.path.join(p, c) for c in os.listdir(p)
                              if os.path.isfile(os.path.join(p, c, "results.json")))
            if children:
                out.extend(children)
                continue
        out.append(p)
    return out


def load_inputs(paths: Sequence[str]) -> Tuple[List[ResultsDir], List[Matrix]]:
    """Everything is read (and checked) before anything is drawn."""
    runs: List[ResultsDir] = []
    matrices: List[Matrix] = []
    for p in _expand(paths):
        if os.path.isdir(p) and is_matrix_dir(p):
            m = Matrix(load_matrix_dir(p))
            for c in m.dir.cells:
                if c.results_dir is not None:
                    m.cell_runs[(c.a, c.b)] = load_results_dir(c.results_dir)
            matrices.append(m)
        else:
            runs.append(load_results_dir(p))
    return runs, matrices


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "plot"


def _ok_cell(ok: Optional[bool]) -> str:
    if ok is None:
        return "<td>-</td>"
    return '<td class="ok">\u2713 ok</td>' if ok else '<td class="fail">\u2717 failed</td>'


def _seconds(s: Optional[float]) -> str:
    return "never" if s is None else f"{s:.3f} s"


class _Builder:
    def __init__(self, png_dir: Optional[str]):
        self.parts: List[str] = []
        self.png_dir = png_dir
        self.plots = 0
        self.names: Dict[str, int] = {}

    def add(self, text: str):
        self.parts.append(text)

    def plot(self, fig, name: str, alt: str):
        png = png_bytes(fig)
        self.plots += 1
        if self.png_dir is not None:
            base = _slug(name)
            n = self.names.get(base, 0)
            self.names[base] = n + 1
            file = os.path.join(self.png_dir, f"{base}{'' if n == 0 else f'-{n + 1}'}.png")
            with open(file, "wb") as f:
                f.write(png)
        self.add(f'<div class="zoom"><img tabindex="0" alt="{_esc(alt)}" '
                 f'src="data:image/png;base64,{png_base64(png)}"></div>')


TIME_TO_DIRECT_MEANS = (
    "Time to direct is measured on the wire: from the pair's first probe (the first send that "
    "needed a path) to the first probe whose probe and echo both crossed the direct path. "
    "Round trips are classified by both legs: direct, local or derp when both legs took that "
    "path, mixed when one leg was relayed; per-path RTTs hold pure round trips only. "
    "Final path asymmetric: both nodes have a path but not the same one.")


def run_anchor(scenario: str) -> str:
    """The id of a scenario's section: what matrix cells and contents link to."""
    return "run-" + _slug(scenario)


def _run_section(b: _Builder, run: ResultsDir, open_: bool = True):
    b.add(f'<section id="{run_anchor(run.scenario)}"><details{" open" if open_ else ""}>'
          f"<summary><h2>{_esc(run.scenario)}</h2> {'&#10003;' if run.ok else '&#10007;'}"
          f"</summary>")
    if run.description.strip():
        b.add(f"<p>{_esc(run.description.strip())}</p>")
    passed = sum(1 for e in run.expectations if e.ok)
    b.add(f'<p class="meta">{_esc(run.path)} &middot; scenario file {_esc(run.file)} &middot; '
          f"{_esc(run.mode)}, seed {run.seed}, {run.stop_time_s:g} s &middot; "
          f"{passed} of {len(run.expectations)} expectations hold</p>")

    b.add("<h3>Verdicts</h3>")
    if run.expectations:
        b.add("<table><tr><th>where</th><th>expected</th><th>verdict</th><th>observed</th></tr>")
        for e in run.expectations:
            b.add(f"<tr><td>{_esc(run.file)}:{e.line}:{e.column}</td><td>{_esc(e.text)}</td>"
                  f"{_ok_cell(e.ok)}<td>{_esc(e.observed)}</td></tr>")
        b.add("</table>")
    else:
        b.add("<p>The scenario has no expectations.</p>")

    if run.pairs:
        b.add("<h3>Pairs</h3><table><tr><th>pair</th><th>time to direct</th>"
              "<th>first send</th><th>first direct round trip</th><th>final path</th>"
              "<th>RTT p50 by round-trip path</th><th>lost / sent</th></tr>")
        for p in run.pairs:
            rtt = ", ".join(f"{path} {r.p50_ms:.1f} ms ({r.samples})" for path, r in p.rtt.items())
            b.add(f"<tr><td>{_esc(p.a)} \u2194 {_esc(p.b)}</td><td>{_seconds(p.time_to_direct_s)}</td>"
                  f"<td>{_seconds(p.first_send_s)}</td><td>{_seconds(p.direct_at_s)}</td>"
                  f"<td>{_esc(p.final_path)}</td><td>{_esc(rtt) or '-'}</td>"
                  f"<td>{p.probes_lost} / {p.probes_sent}</td></tr>")
        b.add("</table>")
        b.add(f'<p class="meta">{TIME_TO_DIRECT_MEANS}</p>')

    if run.events:
        b.add("<h3>Faults</h3><table><tr><th>at</th><th>until</th><th>what</th></tr>")
        for ev in run.events:
            until = "-" if ev.until_s is None else _seconds(ev.until_s)
            b.add(f"<tr><td>{_seconds(ev.t_s)}</td><td>{until}</td><td>{_esc(ev.what)}</td></tr>")
        b.add("</table>")

    if run.notes:
        b.add("<h3>Notes</h3><ul>" + "".join(f"<li>{_esc(n)}</li>" for n in run.notes) + "</ul>")

    if run.samples:
        b.add("<h3>Round-trip time by path</h3>")
        b.plot(plot_rtt_cdf(rtt_cdf_data([run], f"{run.scenario}: RTT by path")),
               f"{run.scenario}-rtt-cdf", f"CDF of RTT by path, {run.scenario}")
    pairs = run.pair_names()
    if pairs:
        b.add("<h3>Round-trip time over time</h3>")
    for a, bb in pairs[:MAX_TIMELINES_PER_RUN]:
        b.add(f'<details open id="{run_anchor(run.scenario)}-{_slug(a)}-{_slug(bb)}">'
              f"<summary>{_esc(a)} \u2194 {_esc(bb)}</summary>")
        faults = "; ".join(f"{ev.t_s:g} s {ev.what}" for ev in run.events)
        b.plot(plot_rtt_timeline(rtt_timeline_data(run, a, bb)),
               f"{run.scenario}-rtt-{a}-{bb}",
               f"RTT over time, {a} and {bb}" + (f"; faults marked: {faults}" if faults else ""))
        _sequence(b, run, a, bb)
        b.add("</details>")
    if len(pairs) > MAX_TIMELINES_PER_RUN:
        b.add(f"<p>{len(pairs) - MAX_TIMELINES_PER_RUN} more pairs are not plotted.</p>")
    b.add("</details></section>")


def _sequence(b: _Builder, run: ResultsDir, a: str, bb: str):
    """The punch as a sequence diagram and, below it, the same messages as a
    table (what each one was, where it went, what became of it)."""
    seq = sequence_data(run, a, bb)
    if not seq.rows:
        return
    b.add(f'<details class="sequence" id="{run_anchor(run.scenario)}-{_slug(a)}-{_slug(bb)}-punch">'
          f"<summary>The punch, step by step (disco log)</summary>")
    b.plot(plot_sequence(seq), f"{run.scenario}-punch-{a}-{bb}",
           f"Sequence diagram of the punch between {a} and {bb}: "
           f"{len(seq.arrows())} disco messages, {len(seq.marks())} decisions")
    b.add("<table><tr><th>sent</th><th>from</th><th>to</th><th>message</th><th>why</th>"
          "<th>what became of it</th></tr>")
    for r in seq.rows:
        if isinstance(r, Arrow):
            where = f"{r.message} to {r.to}" if r.to else f"{r.message} over {r.via}"
            if r.arrived_s is None:
                fate = '<span class="fail">never arrived (dropped on the way)</span>'
            else:
                fate = _esc(f"arrived {r.arrived_s:.3f} s" +
                            (f" from {r.came_from}" if r.came_from else "") + f": {r.answer}")
            b.add(f"<tr><td>{r.t_s:.3f} s</td><td>{_esc(r.src)}</td><td>{_esc(r.dst)}</td>"
                  f"<td>{_esc(where)}</td><td>{_esc(r.why)}</td><td>{fate}</td></tr>")
        else:
            b.add(f"<tr><td>{r.t_s:.3f} s</td><td>{_esc(r.node)}</td><td></td>"
                  f"<td>{_esc(r.what)}</td><td colspan=\"2\">{_esc(r.text)}</td></tr>")
    b.add("</table>")
    if seq.left_out:
        b.add(f'<p class="meta">{seq.left_out} more steps of this pair (heartbeats, relayed RTT '
              f"pings, what came after the punch) are in disco.csv.</p>")
    b.add("</details>")


def _cell_numbers(cell, run: Optional[ResultsDir]) -> Tuple[str, str]:
    """(RTT p50 by path, lost / sent): matrix.json's, else the cell's own results."""
    p50 = cell.extra.get("rtt_p50_ms")
    sent, lost = cell.extra.get("probes_sent"), cell.extra.get("probes_lost")
    pair = run.pairs[0] if run is not None and len(run.pairs) == 1 else None
    if not isinstance(p50, dict) and pair is not None:
        p50 = {path: r.p50_ms for path, r in pair.rtt.items()}
    if not (isinstance(sent, int) and isinstance(lost, int)) and pair is not None:
        sent, lost = pair.probes_sent, pair.probes_lost
    rtt = ", ".join(f"{path} {v:.1f} ms" for path, v in p50.items()
                    if isinstance(v, (int, float))) if isinstance(p50, dict) else ""
    return rtt, f"{lost} / {sent}" if isinstance(sent, int) and isinstance(lost, int) else "-"


def matrix_anchor(m: Matrix) -> str:
    return "matrix-" + _slug(m.dir.path)


def _matrix_section(b: _Builder, m: Matrix, shown: set):
    """`shown`: the scenarios with a section elsewhere in the report; a cell
    links to its scenario's section, rendered here (collapsed) when it has
    none yet."""
    d = m.dir
    b.add(f'<section id="{matrix_anchor(m)}"><h2>NAT matrix: {_esc(d.path)}</h2>')
    meta = [x for x in (d.mode, None if d.seed is None else f"seed {d.seed}",
                        None if d.duration_s is None else f"{d.duration_s:g} s per pair") if x]
    b.add(f'<p class="meta">Rows: alice\'s NAT; columns: bob\'s NAT. {_esc(", ".join(meta))}. '
          f'{TIME_TO_DIRECT_MEANS}</p>')
    b.plot(plot_heatmap(heatmap_data(d), "time to direct path (s)"),
           f"{os.path.basename(os.path.normpath(d.path))}-time-to-direct",
           "time to direct path per NAT pair")
    b.add("<table><tr><th>alice's NAT</th><th>bob's NAT</th><th>path</th><th>time to direct</th>"
          "<th>RTT p50 by round-trip path</th><th>lost / sent</th></tr>")
    pages = []
    for c in d.cells:
        run = m.cell_runs.get((c.a, c.b))
        rtt, lost = _cell_numbers(c, run)
        path = _esc(c.path)
        if run is not None:
            path = f'<a href="#{run_anchor(run.scenario)}">{path}</a>'
            if run.scenario not in shown:
                shown.add(run.scenario)
                pages.append(run)
        b.add(f"<tr><td>{_esc(c.a)}</td><td>{_esc(c.b)}</td><td>{path}</td>"
              f"<td>{_seconds(c.time_to_direct_s)}</td><td>{_esc(rtt) or '-'}</td><td>{lost}</td></tr>")
    b.add("</table>")
    for run in pages:
        _run_section(b, run, open_=False)
    b.add("</section>")


def build_report(paths: Sequence[str], title: Optional[str] = None,
                 png_dir: Optional[str] = None) -> Tuple[str, int]:
    """(the HTML text, how many plots it holds). Raises InputError on bad input."""
    runs, matrices = load_inputs(paths)
    if png_dir is not None:
        os.makedirs(png_dir, exist_ok=True)
    b = _Builder(png_dir)
    title = title or ("punchlab report: " + ", ".join(r.scenario for r in runs)
                      if len(runs) == 1 and not matrices else "punchlab report")
    b.add(f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
          f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>")
    b.add(f"<h1>{_esc(title)}</h1>")
    b.add("<nav><h2>Contents</h2><ul>")
    for m in matrices:
        b.add(f'<li><a href="#{matrix_anchor(m)}">NAT matrix: {_esc(m.dir.path)}</a></li>')
    for r in runs:
        b.add(f'<li><a href="#{run_anchor(r.scenario)}">{_esc(r.scenario)}</a> '
              f"{'&#10003;' if r.ok else '&#10007;'}</li>")
    b.add("</ul></nav>")
    if runs:
        b.add("<table><tr><th>scenario</th><th>results</th><th>mode</th>"
              "<th>expectations</th><th>verdict</th></tr>")
        for r in runs:
            passed = sum(1 for e in r.expectations if e.ok)
            b.add(f'<tr><td><a href="#{run_anchor(r.scenario)}">{_esc(r.scenario)}</a></td>'
                  f"<td>{_esc(r.path)}</td><td>{_esc(r.mode)}</td>"
                  f"<td>{passed} / {len(r.expectations)}</td>{_ok_cell(r.ok)}</tr>")
        b.add("</table>")
    if len(runs) > 1 and any(r.samples for r in runs):
        b.add("<h2>All runs: round-trip time by path</h2>")
        b.plot(plot_rtt_cdf(rtt_cdf_data(runs, "all runs: RTT by path")), "all-rtt-cdf",
               "CDF of RTT by path over all runs")
    shown = {r.scenario for r in runs}
    for m in matrices:
        _matrix_section(b, m, shown)
    for r in runs:
        _run_section(b, r, open_=len(runs) <= 3)
    b.add("</body></html>\n")
    return "\n".join(b.parts), b.plots


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="punchlab report",
        description="Writes one self-contained HTML report (verdicts, RTT timelines, RTT CDF by "
                    "path, NAT-matrix heat map) from results directories (punchlab run --out) "
                    "and matrix directories (punchlab matrix).")
    parser.add_argument("inputs", nargs="+", metavar="RESULTS",
                        help="a results directory (with results.json) or a matrix directory "
                             "(with matrix.json)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="the HTML file")
    parser.add_argument("--title", help="the report's title")
    parser.add_argument("--png-dir", metavar="DIR", help="also write every plot as DIR/<name>.png")
    given = list(sys.argv[1:] if argv is None else argv)
    # argparse answers --help (exit 0) before it looks at the rest, and
    # reports missing arguments before unknown ones: an unknown option is
    # named first, with exit 2, wherever it stands.
    known = set(parser._option_string_actions)
    for a in given:
        if a == "--":
            break
        flag = a.split("=", 1)[0]
        if not a.startswith("-") or a == "-" or flag in known:
            continue
        short_with_value = not a.startswith("--") and a[:2] in known  # -oFILE
        abbreviated = a.startswith("--") and \
            len([k for k in known if k.startswith(flag)]) == 1  # --out for --output
        if not (short_with_value or abbreviated):
            parser.error(f"unrecognized arguments: {a}")
    args = parser.parse_args(given)
    try:
        text, plots = build_report(args.inputs, args.title, args.png_dir)
    except InputError as e:
        print(f"punchlab report: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MatplotlibMissing as e:
        print(f"punchlab report: {e}", file=sys.stderr)
        return EXIT_RUNTIME
    except OSError as e:  # --png-dir not writable
        print(f"punchlab report: cannot write {e.filename}: {e.strerror}", file=sys.stderr)
        return EXIT_RUNTIME
    try:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        print(f"punchlab report: cannot write {args.output}: {e.strerror}", file=sys.stderr)
        return EXIT_RUNTIME
    print(f"punchlab report: wrote {args.output} ({plots} plots)")
    return 0

"""Time to a direct path for every NAT pair of a matrix, as a heat map:
rows are alice's NAT, columns bob's, in the order of matrix.json's "nats".
A cell that never went direct is blank and labelled "never direct" with the
path it settled on (derp, asymmetric, none); a cell the matrix did not run
is blank and labelled "-". The colour scale starts at zero, so 1.048 s and
1.112 s look alike rather than spanning the whole range."""

import math
from dataclasses import dataclass
from typing import List, Optional

from .figures import new_figure
from .matrix_dir import MatrixDir


@dataclass
class HeatMap:
    rows: List[str]                       # alice's NATs (side a)
    cols: List[str]                       # bob's NATs (side b)
    values: List[List[Optional[float]]]   # values[r][c]: time_to_direct_s, None if never/not run
    labels: List[List[str]]               # what each cell says

    def value(self, a: str, b: str) -> Optional[float]:
        return self.values[self.rows.index(a)][self.cols.index(b)]


def heatmap_data(matrix: MatrixDir) -> HeatMap:
    # Every NAT is a row and a column, even one whose cells did not run.
    rows = list(matrix.nats)
    cols = list(matrix.nats)
    values: List[List[Optional[float]]] = [[None] * len(cols) for _ in rows]
    labels = [["-"] * len(cols) for _ in rows]
    for c in matrix.cells:
        r, k = rows.index(c.a), cols.index(c.b)
        values[r][k] = c.time_to_direct_s
        labels[r][k] = (f"{c.time_to_direct_s:.2f}s" if c.time_to_direct_s is not None
                        else f"never direct\n({c.path})")
    return HeatMap(rows, cols, values, labels)


def plot_heatmap(data: HeatMap, title: str = "time to direct path"):
    """The Figure; the image (gid 'time-to-direct') holds exactly
    data.values, with blank (masked) cells where a value is None."""
    import numpy as np  # a dependency of matplotlib, so present whenever a plot is drawn

    fig = new_figure(1.6 + 1.3 * len(data.cols), 1.2 + 0.9 * len(data.rows))
    ax = fig.add_subplot()
    grid = np.ma.masked_invalid(np.array(
        [[math.nan if v is None else v for v in row] for row in data.values], dtype=float))
    finite = [v for row in data.values for v in row if v is not None]
    top = max(finite, default=1.0) or 1.0
    image = ax.imshow(grid, cmap="viridis_r", aspect="auto", gid="time-to-direct", vmin=0,
                      vmax=top)
    ax.set_facecolor("#dddddd")
    fig.colorbar(image, ax=ax, label="time to direct (s)")
    ax.set_xticks(range(len(data.cols)), data.cols, rotation=30, ha="right")
    ax.set_yticks(range(len(data.rows)), data.rows)
    ax.set_xlabel("bob's NAT (b)")
    ax.set_ylabel("alice's NAT (a)")
    ax.set_title(title)
    middle = top / 2
    for r, row in enumerate(data.labels):
        for k, label in enumerate(row):
            v = data.values[r][k]
            light = v is None or v <= middle  # viridis_r: small values are light yellow
            ax.text(k, r, label, ha="center", va="center", fontsize=9,
                    color="black" if light else "white", gid=f"cell-{r}-{k}")
    return fig

"""A `punchlab matrix` output directory: matrix.json and one results
directory per cell (sim/results/matrix.h, sim/cli/cmd-matrix.cc).

matrix.json is a list of cells, as `punchlab matrix` writes it; the reader
also takes an object {"format": "punchlab-matrix/1", "nats": [...],
"cells": [...]} (rows and columns then in the "nats" order). Each cell has
at least "a" and "b" (the NAT presets of alice
and bob), "path" (the pair's path at the end of the run) and
"time_to_direct_s" (null: never direct); other keys are kept in `extra`.
A cell's results directory is the one its "results" (or "results_dir",
"dir") key names, relative to the matrix directory; without such a key,
<matrix dir>/<scenario name>/ or <matrix dir>/cells/<scenario name>/ (the
cell's "scenario" key, else "matrix-<a>--<b>") when one exists.
"""

import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .errors import InputError
from .results_dir import PATHS, read_json_file

MATRIX_FILE = "matrix.json"
MATRIX_FORMAT = "punchlab-matrix/1"
DIR_KEYS = ("results", "results_dir", "dir")


@dataclass(frozen=True)
class MatrixCell:
    a: str
    b: str
    path: str
    time_to_direct_s: Optional[float]
    results_dir: Optional[str]  # None: the matrix has no results for this cell
    extra: Dict[str, object] = field(default_factory=dict, compare=False)


@dataclass
class MatrixDir:
    path: str
    cells: List[MatrixCell]
    nats: List[str]                    # rows and columns, in matrix.json's order
    mode: Optional[str] = None         # what matrix.json says, when it says it
    seed: Optional[int] = None
    duration_s: Optional[float] = None

    def find(self, a: str, b: str) -> Optional[MatrixCell]:
        for c in self.cells:
            if c.a == a and c.b == b:
                return c
        return None


def is_matrix_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, MATRIX_FILE))


def _cell_dir(matrix_path: str, file: str, where: str, cell: dict) -> Optional[str]:
    for key in DIR_KEYS:
        if key in cell:
            if not isinstance(cell[key], str):
                raise InputError(f"{file}: {where}.{key}: expected text (a directory)")
            d = os.path.join(matrix_path, cell[key])
            if not os.path.isdir(d):
                raise InputError(f"{file}: {where}.{key}: no such directory: {d}")
            return d
    names = []
    if isinstance(cell.get("scenario"), str):
        names.append(cell["scenario"])
    names.append(f"matrix-{cell['a']}--{cell['b']}")
    for name in names:
        for d in (os.path.join(matrix_path, name), os.path.join(matrix_path, "cells", name)):
            if os.path.isdir(d):
                return d
    return None


def _cell(matrix_path: str, file: str, i: int, cell) -> MatrixCell:
    where = f"cells[{i}]"
    if not isinstance(cell, dict):
        raise InputError(f"{file}: {where}: expected an object")
    for key in ("a", "b", "path", "time_to_direct_s"):
        if key not in cell:
            raise InputError(f"{file}: {where}: missing key '{key}'")
    for key in ("a", "b"):
        if not isinstance(cell[key], str) or not cell[key]:
            raise InputError(f"{file}: {where}.{key}: expected a NAT name")
    if cell["path"] not in PATHS:
        raise InputError(f"{file}: {where}.path: expected one of {', '.join(PATHS)}, "
                         f"got {json.dumps(cell['path'])}")
    ttd = cell["time_to_direct_s"]
    if ttd is not None and (isinstance(ttd, bool) or not isinstance(ttd, (int, float)) or ttd < 0):
        raise InputError(f"{file}: {where}.time_to_direct_s: expected seconds or null, "
                         f"got {json.dumps(ttd)}")
    extra = {k: v for k, v in cell.items() if k not in ("a", "b", "path", "time_to_direct_s")}
    return MatrixCell(cell["a"], cell["b"], cell["path"], None if ttd is None else float(ttd),
                      _cell_dir(matrix_path, file, where, cell), extra)


def load_matrix_dir(path: str) -> MatrixDir:
    file = os.path.join(path, MATRIX_FILE)
    if not os.path.isdir(path):
        raise InputError(f"{path}: no such matrix directory")
    data = read_json_file(file)
    top = data if isinstance(data, dict) else {}
    if "format" in top and top["format"] != MATRIX_FORMAT:
        raise InputError(f"{file}: not a punchlab matrix file (format is "
                         f"{json.dumps(top['format'])}, expected \"{MATRIX_FORMAT}\")")
    cells = top.get("cells") if isinstance(data, dict) else data
    if not isinstance(cells, list):
        raise InputError(f"{file}: expected a list of cells (or an object with \"cells\": [...])")
    if not cells:
        raise InputError(f"{file}: the matrix has no cells")
    out = [_cell(path, file, i, c) for i, c in enumerate(cells)]
    seen = set()
    for i, c in enumerate(out):
        if (c.a, c.b) in seen:
            raise InputError(f"{file}: cells[{i}]: a second cell for {c.a} / {c.b}")
        seen.add((c.a, c.b))
    nats = top.get("nats", [])
    if not isinstance(nats, list) or not all(isinstance(n, str) for n in nats):
        raise InputError(f"{file}: nats: expected a list of NAT names")
    nats = list(nats)
    for c in out:  # cells naming NATs the list leaves out still get a row and column
        for n in (c.a, c.b):
            if n not in nats:
                nats.append(n)
    seed, duration = top.get("seed"), top.get("duration_s")
    return MatrixDir(path, out, nats,
                     mode=top["mode"] if isinstance(top.get("mode"), str) else None,
                     seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
                     duration_s=float(duration) if isinstance(duration, (int, float))
                     and not isinstance(duration, bool) else None)

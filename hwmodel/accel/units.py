"""The characterized units an architecture is built from: its PE's MAC and the vector unit's
multiplier and adder, from the op-cost table (:mod:`hwmodel.ops`, cached after the first run)."""

from __future__ import annotations

import pandas as pd

from hwmodel.accel.arch import Architecture
from hwmodel.accel.errors import AccelError
from hwmodel.cost import ENERGY_FIGURES, OpCosts, units_for


def op_costs(arch: Architecture, vdd_v: float = 1.0, figure: str = "yosys-timed",
             stream: str = "uniform", vectors: int = 1000, dot_length: int | None = None,
             progress: bool = False) -> tuple[pd.DataFrame, OpCosts]:
    """Characterize (or load from the cache) the MAC, multiplier and adder of ``arch``'s
    format at the array's pipelining and ``vdd_v``; pick energy ``figure``. ``dot_length``:
    MAC terms per accumulation of the streams, best the workload's
    (:func:`hwmodel.cost.mean_dot_length`; default the op table's,
    :data:`hwmodel.ops.streams.DEFAULT_DOT_LENGTH`)."""
    from hwmodel.cells.library import library_paths
    from hwmodel.ops.compute import compute_row, library_corner, make_jobs
    from hwmodel.ops.oplib import default_op_library
    from hwmodel.ops.streams import DEFAULT_DOT_LENGTH
    from hwmodel.ops.table import build_table

    if figure not in ENERGY_FIGURES:
        raise AccelError(f"energy figure {figure!r} is unknown; use one of "
                         f"{', '.join(ENERGY_FIGURES)}")
    corner = library_corner(vdd_v)
    if not library_paths(corner)["json"].is_file():
        raise AccelError(f"no cell library at {vdd_v:g} V; build it with python -m "
                         f"hwmodel.cells build --vdd {vdd_v:g}")
    names = units_for(arch.fmt, {"mac": arch.array.unit})
    lib = {u.unit: u for u in default_op_library(arch.array.latency) if u.fmt == arch.fmt}
    missing = [n for n in names.values() if n not in lib]
    if missing:
        raise AccelError(f"architecture {arch.name}: no {arch.fmt} unit {missing[0]!r} in the "
                         "op library; use fp_mac/fp_mul/fp_add (float) or mac_int (int)")
    path = ENERGY_FIGURES[figure][0]
    jobs = make_jobs([lib[n] for n in names.values()], [stream], sorted({"default", path}),
                     vectors, 0, None, corner, dot_length or DEFAULT_DOT_LENGTH)
    table = build_table(jobs, compute_row, workers=2, progress=progress)
    return table, OpCosts.from_table(table, arch.fmt, stream, figure, names)

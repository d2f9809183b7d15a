"""Compute one op-cost row: a unit x format x stream x energy path, at one cell-library corner.

Every row carries the unit's static timing (critical path, fmax) from the Yosys-mapped netlist
of the same unit and parameters, and its leakage power; per-op leakage is charged over the
unit's own clock period (1000 / fmax ns), and per-op dynamic energy is per operation at one
operation per cycle.

The row's energy columns come from its energy path, looked up by name in
:data:`hwmodel.ops.paths.PATHS` (``default``: the structural RTL's own cell instances, zero-delay
toggles, costed with the cell library; ``yosys``: the unit mapped by Yosys onto the library's
Liberty, simulated at gate level zero-delay and timed, glitches included).

MAC units clear their accumulator every ``dot_length`` operations; every row reports the share of
non-finite results (``nonfinite_pct``) and a row above
:data:`hwmodel.ops.streams.MAX_NONFINITE_PCT` is refused.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from functools import lru_cache

import numpy as np

from hwmodel.cells.liberty import WIRE_CAP_FF_PER_UM, WIRE_UM_PER_FANOUT, read_liberty
from hwmodel.cells.library import library_paths
from hwmodel.cells.spice import SimSettings
from hwmodel.ops.energy import default_costs
from hwmodel.ops.oplib import ACC_CLR, OpUnit
from hwmodel.ops.paths import PATHS, PathJob, get_path
from hwmodel.ops.sta import static_timing
from hwmodel.ops.streams import (
    DEFAULT_DOT_LENGTH,
    MAX_NONFINITE_PCT,
    acc_clr_schedule,
    make_stream,
)
from hwmodel.ops.synth import synthesize
from hwmodel.ops.table import RowJob
from hwmodel.rtlsim import UnitError, load_unit

__all__ = ["PATHS", "SYNTH_TARGET_NS", "compute_row", "job_stream", "library_corner",
           "make_jobs", "prepare", "tool_versions"]

#: Clock target of synthesis (ABC maps for delay towards it): the paper's 1 GHz.
SYNTH_TARGET_NS = 1.0


@lru_cache(maxsize=1)
def tool_versions() -> str:
    """Versions of the tools behind every number (provenance)."""
    out = [f"python {platform.python_version()}"]
    for tool, flag in (("iverilog", "-V"), ("yosys", "-V")):
        exe = shutil.which(tool)
        if exe:
            text = subprocess.run([exe, flag], capture_output=True, text=True).stdout
            out.append(text.splitlines()[0].strip() if text else tool)
    import cocotb

    out.append(f"cocotb {cocotb.__version__}")
    return "; ".join(out)


def library_corner(vdd_v: float = 1.1, temp_c: float | None = None,
                   corner: str = "nom") -> SimSettings:
    """The cell-library operating point for a supply: the committed libraries are nom at 1.1 V,
    25 C (the original) and at 1.0 V and 0.9 V, 27 C (300 K: SPICE's nominal temperature and the
    first point of the SRAM model's ITRS leakage tables)."""
    if temp_c is None:
        temp_c = 25.0 if abs(vdd_v - 1.1) < 1e-9 else 27.0
    return SimSettings(corner, float(vdd_v), float(temp_c))


def make_jobs(units: list[OpUnit], streams: list[str], paths: list[str], vectors: int,
              seed: int, tensors: tuple[np.ndarray, np.ndarray] | None = None,
              corner: SimSettings | None = None,
              dot_length: int = DEFAULT_DOT_LENGTH) -> list[RowJob]:
    """One job per unit x stream x path, keyed on the corner's library file. ``tensors``: the
    operand pools of the ``tensor`` stream (:func:`hwmodel.ops.streams.operand_pools`);
    ``corner``: the cell library's operating point (default nom, 1.1 V, 25 C);
    ``dot_length``: terms per accumulation of the MAC units (and the uniform exponent range)."""
    if "tensor" in streams and tensors is None:
        raise UnitError("stream 'tensor' needs operand samples of a network; pass --tensors "
                        "FILE.npz from `python -m learning trace --samples-out`")
    if int(dot_length) < 1:
        raise UnitError(f"dot length must be >= 1 term (got {dot_length})")
    corner = corner or SimSettings()
    lib_file = library_paths(corner)["json"]
    if not lib_file.is_file():
        raise UnitError(f"no cell library at {corner.vdd_v:g} V, {corner.temp_c:g} C "
                        f"({corner.corner}); fix: python -m hwmodel.cells build --corner "
                        f"{corner.corner} --vdd {corner.vdd_v:g} --temp {corner.temp_c:g}")
    settings = (("synth_target_ns", SYNTH_TARGET_NS), ("wire_cap_ff_per_um", WIRE_CAP_FF_PER_UM),
                ("wire_um_per_fanout", WIRE_UM_PER_FANOUT), ("dot_length", int(dot_length)))
    return [RowJob(u, s, p, vectors, seed, lib_file, settings,
                   tensors if s == "tensor" else None, corner)
            for u in units for s in streams for p in paths]


def job_stream(job: RowJob) -> dict[str, np.ndarray]:
    """The operand stream of a job; MAC units also get their ``acc_clr`` schedule."""
    u = job.op_unit
    length = int(dict(job.settings).get("dot_length", DEFAULT_DOT_LENGTH))
    stream = make_stream(job.stream, u.fmt, job.vectors, job.seed, tensors=job.tensors,
                         dot_length=length)
    if u.op == "mac":
        stream[ACC_CLR] = acc_clr_schedule(job.vectors, length)
    return stream


def _check_finite(job: RowJob, pct: float) -> None:
    if pct > MAX_NONFINITE_PCT:
        u = job.op_unit
        raise UnitError(f"{u.label} stream {job.stream}: {pct:.1f} % of the results are inf/NaN "
                        f"(limit {MAX_NONFINITE_PCT:g} %), so its energy is not that of "
                        "arithmetic; fix: a shorter dot length, or operands in range")


def prepare(job: RowJob) -> PathJob:
    """What every path needs for a row: the unit, its stream, the Liberty of the corner, the
    unit mapped by Yosys and its static timing (runs Yosys)."""
    u = job.op_unit
    spec = load_unit(u.path)
    liberty = read_liberty(library_paths(job.corner)["liberty"])
    synth = synthesize(spec, u.params, liberty.path, clock_period_ns=SYNTH_TARGET_NS)
    return PathJob(u, spec, job_stream(job), job.corner, liberty, synth,
                   static_timing(synth, liberty))


def compute_row(job: RowJob) -> dict:
    """Characterize one job on its path (runs Yosys and static timing, then Icarus)."""
    path = get_path(job.path)
    pj = prepare(job)
    u, corner, timing = job.op_unit, job.corner, pj.timing
    costs = default_costs(corner.corner, corner.vdd_v, corner.temp_c)
    row: dict = {"unit": u.unit, "op": u.op, "format": u.fmt, "stream": job.stream,
                 "path": job.path, "params": str(dict(sorted(u.params.items()))),
                 "vdd_v": corner.vdd_v, "temp_c": corner.temp_c, "corner": corner.corner,
                 "dot_length": int(dict(job.settings)["dot_length"]) if u.op == "mac" else 0,
                 "critical_path_ns": timing.critical_path_ns, "fmax_mhz": timing.fmax_mhz,
                 "clock_period_ns": pj.period_ns, "library": costs.lib.name,
                 "tools": tool_versions(), "cache_key": job.key()}
    row.update(path.characterize(pj))
    _check_finite(job, row["nonfinite_pct"])
    return row

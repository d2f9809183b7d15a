"""Compute one op-cost row: a unit x format x stream x energy path, at one cell-library corner.

Every row carries the unit's static timing (critical path, fmax) from the Yosys-mapped netlist
of the same unit and parameters, and its leakage power; per-op leakage is charged over the
unit's own clock period (1000 / fmax ns), and per-op dynamic energy is per operation at one
operation per cycle.

``default``: the structural RTL's own cell instances, zero-delay toggles, costed with the cell
library. ``yosys``: the unit mapped by Yosys onto the library's Liberty, simulated at gate level
twice: zero-delay (``energy_logic_pj``, ``energy_seq_pj``) and timed with the Liberty's NLDM
delays, glitches included (``energy_timed_logic_pj``, ``energy_timed_seq_pj``).

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

from hwmodel.cells.library import library_paths
from hwmodel.cells.spice import SimSettings
from hwmodel.ops.cellcosts import default_costs
from hwmodel.ops.characterize import characterize_default
from hwmodel.ops.energy import WIRE_CAP_FF_PER_UM, WIRE_UM_PER_FANOUT
from hwmodel.ops.oplib import OpUnit
from hwmodel.ops.streams import (
    DEFAULT_DOT_LENGTH,
    MAX_NONFINITE_PCT,
    acc_clr_schedule,
    make_stream,
    nonfinite_pct,
)
from hwmodel.ops.table import RowJob
from hwmodel.rtlsim import UnitError, load_unit

PATHS: tuple[str, ...] = ("default", "yosys")
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
        stream["acc_clr"] = acc_clr_schedule(job.vectors, length)
    return stream


def _check_finite(job: RowJob, pct: float) -> None:
    if pct > MAX_NONFINITE_PCT:
        u = job.op_unit
        raise UnitError(f"{u.label} stream {job.stream}: {pct:.1f} % of the results are inf/NaN "
                        f"(limit {MAX_NONFINITE_PCT:g} %), so its energy is not that of "
                        "arithmetic; fix: a shorter dot length, or operands in range")


def compute_row(job: RowJob) -> dict:
    """Characterize one job (runs Yosys and static timing, then Icarus)."""
    from hwmodel.ops.sta import read_liberty, static_timing
    from hwmodel.ops.synth import synthesize

    u = job.op_unit
    spec = load_unit(u.path)
    stream = job_stream(job)
    corner = job.corner
    costs = default_costs(corner.corner, corner.vdd_v, corner.temp_c)
    liberty = read_liberty(library_paths(corner)["liberty"])
    synth = synthesize(spec, u.params, liberty.path, clock_period_ns=SYNTH_TARGET_NS)
    timing = static_timing(synth, liberty)
    period = timing.critical_path_ns  # the unit at its own fmax
    row: dict = {"unit": u.unit, "op": u.op, "format": u.fmt, "stream": job.stream,
                 "path": job.path, "params": str(dict(sorted(u.params.items()))),
                 "vdd_v": corner.vdd_v, "temp_c": corner.temp_c, "corner": corner.corner,
                 "dot_length": int(dict(job.settings)["dot_length"]) if u.op == "mac" else 0,
                 "critical_path_ns": timing.critical_path_ns, "fmax_mhz": timing.fmax_mhz,
                 "clock_period_ns": period, "library": costs.lib.name,
                 "tools": tool_versions(), "cache_key": job.key()}
    if job.path == "default":
        res = characterize_default(spec, u.params, stream, costs, period)
        row.update(res.as_row())
        row["nonfinite_pct"] = nonfinite_pct(res.y, u.number_format)
        row["mode"] = res.energy.mode + f"; STA of the Yosys netlist: {timing.mode}"
    else:
        row.update(_yosys_energy(synth, liberty, stream, u.params, period))
        row["nonfinite_pct"] = nonfinite_pct(row.pop("y"), u.number_format)
        row["mode"] += f"; STA {timing.mode}"
    _check_finite(job, row["nonfinite_pct"])
    return row


def _yosys_energy(synth, liberty, stream: dict, params: dict, period_ns: float) -> dict:
    """Zero-delay and timed (glitch-aware) gate-level energy of a mapped unit."""
    from hwmodel.ops.gatelevel import gate_level_energy

    zero = gate_level_energy(synth, liberty, stream, params)
    timed = gate_level_energy(synth, liberty, stream, params, mode="timed")
    if not np.array_equal(zero.y, timed.y):
        raise UnitError(f"{synth.top}: timed gate-level results differ from zero-delay ones")
    leak_nw = zero.energy_leakage_pj / (zero.clock_period_ns * zero.ii_cycles) * 1e6
    leak_pj = leak_nw * period_ns * 1e-6  # nW * ns = 1e-6 pJ
    return {
        "energy_logic_pj": zero.energy_logic_pj, "energy_seq_pj": zero.energy_seq_pj,
        "energy_leakage_pj": leak_pj, "leakage_nw": leak_nw,
        "energy_pj": zero.energy_logic_pj + zero.energy_seq_pj + leak_pj,
        "energy_timed_logic_pj": timed.energy_logic_pj,
        "energy_timed_seq_pj": timed.energy_seq_pj,
        "energy_timed_pj": timed.energy_logic_pj + timed.energy_seq_pj + leak_pj,
        "toggles_per_op": zero.toggles_per_op, "toggles_timed_per_op": timed.toggles_per_op,
        "latency_cycles": zero.latency_cycles, "ii_cycles": zero.ii_cycles,
        "vectors": zero.vectors, "area_um2": synth.area_um2, "cells": synth.cells,
        "y": zero.y,
        "mode": f"yosys: mapped netlist, {zero.mode} and {timed.mode}, Liberty tables at "
                "actual slew/load",
    }

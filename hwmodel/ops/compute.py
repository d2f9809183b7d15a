"""Compute one op-cost row: a unit x format x stream x energy path.

``default``: the structural RTL's own cell instances, costed with the cell library (this package).
``yosys``: the unit mapped by Yosys onto the project's Liberty, simulated at gate level, with
static timing (``hwmodel.ops.synth``, ``sta``, ``gatelevel``).
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
from hwmodel.ops.streams import make_stream
from hwmodel.ops.table import RowJob
from hwmodel.rtlsim import UnitError, load_unit

PATHS: tuple[str, ...] = ("default", "yosys")
CLOCK_PERIOD_NS = 1.0  # the paper's 1 GHz


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


def make_jobs(units: list[OpUnit], streams: list[str], paths: list[str], vectors: int,
              seed: int, tensors: tuple[np.ndarray, np.ndarray] | None = None) -> list[RowJob]:
    """One job per unit x stream x path, keyed on the default library file. ``tensors``: the
    operand pools of the ``tensor`` stream (:func:`hwmodel.ops.streams.operand_pools`)."""
    if "tensor" in streams and tensors is None:
        raise UnitError("stream 'tensor' needs operand samples of a network; pass --tensors "
                        "FILE.npz from `python -m learning trace --samples-out`")
    lib_file = library_paths(SimSettings())["json"]
    settings = (("clock_period_ns", CLOCK_PERIOD_NS), ("wire_cap_ff_per_um", WIRE_CAP_FF_PER_UM),
                ("wire_um_per_fanout", WIRE_UM_PER_FANOUT))
    return [RowJob(u, s, p, vectors, seed, lib_file, settings,
                   tensors if s == "tensor" else None)
            for u in units for s in streams for p in paths]


def compute_row(job: RowJob) -> dict:
    """Characterize one job (runs Icarus, and Yosys on the yosys path)."""
    u = job.op_unit
    spec = load_unit(u.path)
    stream = make_stream(job.stream, u.fmt, job.vectors, job.seed, tensors=job.tensors)
    costs = default_costs()
    row: dict = {"unit": u.unit, "op": u.op, "format": u.fmt, "stream": job.stream,
                 "path": job.path, "params": str(dict(sorted(u.params.items()))),
                 "library": costs.lib.name, "tools": tool_versions(), "cache_key": job.key()}
    if job.path == "default":
        res = characterize_default(spec, u.params, stream, costs, CLOCK_PERIOD_NS)
        r = res.as_row()
        r.pop("sim_wall_s", None)
        r.pop("flops", None)
        row.update(r)
        row.update(critical_path_ns=float("nan"), fmax_mhz=float("nan"))
        return row
    from hwmodel.cells.library import default_liberty_path
    from hwmodel.ops.gatelevel import gate_level_energy
    from hwmodel.ops.sta import read_liberty, static_timing
    from hwmodel.ops.synth import synthesize

    lib_path = default_liberty_path()
    synth = synthesize(spec, u.params, lib_path, clock_period_ns=CLOCK_PERIOD_NS)
    liberty = read_liberty(lib_path)
    timing = static_timing(synth, liberty)
    energy = gate_level_energy(synth, liberty, stream, u.params)
    row.update(energy_logic_pj=energy.energy_logic_pj, energy_seq_pj=energy.energy_seq_pj,
               energy_leakage_pj=energy.energy_leakage_pj, energy_pj=energy.energy_pj,
               toggles_per_op=energy.toggles_per_op, latency_cycles=energy.latency_cycles,
               ii_cycles=energy.ii_cycles, vectors=energy.vectors,
               critical_path_ns=timing.critical_path_ns, fmax_mhz=timing.fmax_mhz,
               meets_1ghz=timing.meets_1ghz, area_um2=synth.area_um2, cells=synth.cells,
               mode=f"yosys: mapped netlist, {energy.mode}, Liberty tables at actual slew/load; "
                    f"STA {timing.mode}")
    return row

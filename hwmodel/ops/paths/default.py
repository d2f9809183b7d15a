"""The default energy path: the unit's own RTL cells, zero-delay toggles, the cell library.

Pipeline: stream -> cycle-level Icarus simulation (:func:`hwmodel.rtlsim.simulate`) with an FST of
every net -> toggles per cell-instance output inside the steady-state window
(:mod:`hwmodel.ops.toggles`) -> energy per op with the cell library (:mod:`hwmodel.ops.energy`,
loads from :mod:`hwmodel.ops.loads`) on the netlist Yosys elaborates
(:func:`hwmodel.ops.netlist.elaborate`). The first operand pair is held for ``LATENCY + 2``
warm-up cycles before the window opens, so the window sees only switching caused by the stream
itself (a constant stream costs no dynamic energy).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hwmodel.ops.energy import CellCosts, OpEnergy, default_costs, op_energy
from hwmodel.ops.netlist import elaborate
from hwmodel.ops.paths.base import EnergyPath, PathJob, register
from hwmodel.ops.toggles import count_toggles, fst_name, signal_names, stream_window
from hwmodel.rtlsim import HANDSHAKE, UnitSpec, simulate


@dataclass(frozen=True)
class DefaultPathResult:
    """Per-op energy (pJ) on the default path plus the cycle-level timing of the unit."""

    energy: OpEnergy
    latency_cycles: int
    ii_cycles: int
    vectors: int
    sim_wall_s: float
    y: np.ndarray  # the unit's results, one per operand pair (raw bits)

    def as_row(self) -> dict[str, float | int | str]:
        """The op-table columns (energies, timing in cycles, vectors; no wall times or y)."""
        row = asdict(self.energy)
        row.pop("flops", None)
        row.update(latency_cycles=self.latency_cycles, ii_cycles=self.ii_cycles,
                   vectors=self.vectors)
        return row


def characterize_default(spec: UnitSpec, params: dict[str, int], stream: dict[str, np.ndarray],
                         lib: CellCosts, clock_period_ns: float = 1.0) -> DefaultPathResult:
    """Energy per op of ``spec`` with ``params`` for the operand ``stream`` (raw bit patterns)."""
    values = spec.resolve_params(params)
    n = len(stream[HANDSHAKE.operands[0]])
    warmup = int(values.get("LATENCY", 0)) + 2
    driven = {k: np.concatenate([np.repeat(np.asarray(v)[:1], warmup), np.asarray(v)])
              for k, v in stream.items()}
    netlist = elaborate(spec, values)
    with tempfile.TemporaryDirectory(prefix="pns-ops-") as tmp:
        wave = Path(tmp) / "run.fst"
        res = simulate(spec, driven, values, wave_path=wave)
        window = stream_window(wave, spec.name, warmup, n)
        available = signal_names(wave)
        names = {f"{inst.name}.{pin}": fst_name(f"{spec.name}.{inst.name}.{pin}", available)
                 for inst in netlist.instances for pin in inst.outputs}
        counts = count_toggles(wave, names.values(), window)
    toggles = {key: counts[fst] for key, fst in names.items()}
    energy = op_energy(netlist, toggles, n, lib, clock_period_ns)
    return DefaultPathResult(energy, res.latency_cycles, res.ii_cycles, n, res.sim_wall_s,
                             np.asarray(res.y)[warmup:])


@register
class DefaultPath(EnergyPath):
    """RTL cells, zero-delay toggles, library internal energy + 1/2 C V^2."""

    name = "default"
    needs = ("structural rc_* RTL", "yosys (elaboration)", "iverilog + cocotb",
             "cell library JSON")
    work_weight = 1

    def characterize(self, job: PathJob) -> dict:
        corner = job.corner
        costs = default_costs(corner.corner, corner.vdd_v, corner.temp_c)
        res = characterize_default(job.spec, job.params, job.stream, costs, job.period_ns)
        row = res.as_row()
        row["nonfinite_pct"] = job.nonfinite_pct(res.y)
        row["mode"] = res.energy.mode + f"; STA of the Yosys netlist: {job.timing.mode}"
        return row

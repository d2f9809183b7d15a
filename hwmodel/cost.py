"""The cost model: a layer-wise training trace x per-op costs x memory model -> one iteration.

Computation energy (pJ) = MACs (forward + input-gradient + weight-gradient) x the MAC unit's
energy per op + optimizer-update multiplies x the multiplier's energy + update adds and
element-wise ops (BatchNorm, ReLU, pooling, residual adds, loss) x the adder's energy. All per-op
energies come from the op-cost table (:mod:`hwmodel.ops`), for the number format of training.
Optimizer divides and square roots (Adam) have no unit in the RTL library: they are counted
(``uncosted_ops``) and left out of the energy, never guessed.

Memory-access energy and storage come from :mod:`hwmodel.memory` (SRAM model + DRAM).

Modeled time of one iteration on a stated accelerator: ``mac_units`` MAC units at the clock
set by the characterized critical path (capped at ``clock_mhz_max``), all operations issued to
those units at one op per cycle each, overlapped with DRAM traffic at ``dram_gb_per_s``: time =
max(compute cycles / f_clk, DRAM bytes / bandwidth).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

# Which RTL unit costs each operation, per number-format family.
UNIT_FOR_OP = {
    "int": {"mac": "mac_int", "mul": "mul_booth", "add": "add_ks"},
    "float": {"mac": "fp_mac", "mul": "fp_mul", "add": "fp_add"},
}


class CostModelError(ValueError):
    """Bad input to the cost model; the message names the thing and the fix."""


@dataclass(frozen=True)
class OpCosts:
    """Energy per operation (pJ) of the three units used to cost training, with provenance."""

    fmt: str
    stream: str
    path: str
    mac_pj: float
    mul_pj: float
    add_pj: float
    mac_critical_path_ns: float  # NaN when the path gave no timing

    @classmethod
    def from_table(cls, table: pd.DataFrame, fmt: str = "fp32", stream: str = "uniform",
                   path: str = "default") -> OpCosts:
        """Pick the mac/mul/add rows of ``table`` (the op-cost table) for one format."""
        family = "float" if fmt.startswith(("fp", "bf")) else "int"
        picked = {}
        for op, unit in UNIT_FOR_OP[family].items():
            rows = table[(table["unit"] == unit) & (table["format"] == fmt)
                         & (table["stream"] == stream) & (table["path"] == path)]
            if rows.empty:
                raise CostModelError(
                    f"op-cost table has no row for {unit} {fmt} stream={stream} path={path}; "
                    f"fix: python -m hwmodel.ops --unit {unit} --format {fmt} --stream {stream}")
            picked[op] = rows.iloc[0]
        cp = picked["mac"].get("critical_path_ns", float("nan"))
        return cls(fmt, stream, path, float(picked["mac"]["energy_pj"]),
                   float(picked["mul"]["energy_pj"]), float(picked["add"]["energy_pj"]),
                   float(cp) if cp is not None else float("nan"))


@dataclass(frozen=True)
class Accelerator:
    """A stated training accelerator configuration."""

    mac_units: int = 256
    clock_mhz_max: float = 1000.0  # the paper's 1 GHz
    # One DDR3-1600 channel (JEDEC JESD79-3: 1600 MT/s x 8 bytes), matching the default DRAM
    # energy (hwmodel.dram "ddr3").
    dram_gb_per_s: float = 12.8

    def clock_mhz(self, costs: OpCosts) -> float:
        """Clock: the MAC's fmax from its critical path, capped at ``clock_mhz_max``."""
        cp = costs.mac_critical_path_ns
        if cp is None or not math.isfinite(cp) or cp <= 0:
            return self.clock_mhz_max
        return min(self.clock_mhz_max, 1000.0 / cp)


def compute_energy(trace: pd.DataFrame, costs: OpCosts) -> pd.DataFrame:
    """Per-layer computation energy (pJ) of one training iteration."""
    need = ("fwd_macs", "bwd_input_macs", "bwd_weight_macs", "update_mults", "update_adds",
            "elementwise_ops")
    missing = [c for c in need if c not in trace.columns]
    if missing:
        raise CostModelError(f"trace lacks column {missing[0]!r}; make it with learning.trace")
    df = trace[["layer", "kind", "branch", *need]].copy()
    macs = df["fwd_macs"] + df["bwd_input_macs"] + df["bwd_weight_macs"]
    df["macs"] = macs
    df["mac_energy_pj"] = macs * costs.mac_pj
    df["update_energy_pj"] = df["update_mults"] * costs.mul_pj + df["update_adds"] * costs.add_pj
    df["elementwise_energy_pj"] = df["elementwise_ops"] * costs.add_pj
    df["compute_energy_pj"] = (df["mac_energy_pj"] + df["update_energy_pj"]
                               + df["elementwise_energy_pj"])
    uncosted = [c for c in ("update_divs", "update_sqrts", "update_other_ops") if c in trace]
    df["uncosted_ops"] = trace[uncosted].sum(axis=1) if uncosted else 0
    return df


@dataclass(frozen=True)
class IterationCost:
    """Cost of one training iteration (energies pJ, time s, data bytes, work in ops)."""

    macs: int
    update_ops: int
    elementwise_ops: int
    uncosted_ops: int
    compute_energy_pj: float
    memory_energy_pj: float
    total_energy_pj: float
    dram_bytes: float
    clock_mhz: float
    modeled_time_s: float
    compute_bound: bool

    def as_dict(self) -> dict:
        return asdict(self)


def iteration_cost(trace: pd.DataFrame, costs: OpCosts, memory_energy: pd.DataFrame,
                   accel: Accelerator) -> IterationCost:
    """Combine computation (from ``costs``) and memory (``hwmodel.memory.access_energy``)."""
    comp = compute_energy(trace, costs)
    macs = int(comp["macs"].sum())
    upd = int((comp["update_mults"] + comp["update_adds"]).sum())
    elem = int(comp["elementwise_ops"].sum())
    mem_pj = float(memory_energy["energy_pj"].sum())
    dram_bytes = float(memory_energy.loc[memory_energy["level"] == "dram", "bytes"].sum())
    f_mhz = accel.clock_mhz(costs)
    t_compute = (macs + upd + elem) / accel.mac_units / (f_mhz * 1e6)
    t_memory = dram_bytes / (accel.dram_gb_per_s * 1e9)
    comp_pj = float(comp["compute_energy_pj"].sum())
    return IterationCost(macs, upd, elem, int(comp["uncosted_ops"].sum()), comp_pj, mem_pj,
                         comp_pj + mem_pj, dram_bytes, f_mhz, max(t_compute, t_memory),
                         t_compute >= t_memory)

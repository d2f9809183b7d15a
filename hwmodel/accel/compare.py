"""Both cost models on the same traces: the paper's MAC-count model (:mod:`hwmodel.cost`)
and the accelerator back-end, as savings relative to the first trace (no sharing)."""

from __future__ import annotations

import pandas as pd

from hwmodel import dram
from hwmodel.accel import backend, energy
from hwmodel.accel.arch import Architecture
from hwmodel.cost import Accelerator, OpCosts, iteration_cost, static_power
from hwmodel.memory import Hierarchy, access_energy

#: (column, what) of the savings both models give.
FIGURES = (("compute_energy_pj", "computation energy"), ("time_s", "time per iteration"),
           ("memory_access_bytes", "memory access"), ("total_energy_pj", "total energy"))


def both_models(traces: dict[str, pd.DataFrame], arch: Architecture, costs: OpCosts,
                pe: energy.PeCost | dict[str, energy.PeCost], hierarchy: Hierarchy,
                accel: Accelerator, objective: str = "edp") -> pd.DataFrame:
    """One row per (trace label, model) with the :data:`FIGURES` columns and their savings
    (``<col>_saving_pct``) relative to the first label; ``pe``: the accelerator's PE cost
    (:func:`hwmodel.accel.energy.pe_from_arrays` or ``pe_from_op_table``)."""
    lc = energy.level_costs(arch, costs, pe, temp_k=hierarchy.temp_k)
    sram_mw = sum(c.leakage_mw for c in hierarchy.sram_costs.values())
    static = static_power(costs, accel, sram_mw, dram.background_power_mw(hierarchy.dram))
    rows = []
    for label, tr in traces.items():
        mac = iteration_cost(tr, costs, access_energy(tr, hierarchy), accel, static)
        rows.append({"label": label, "model": "mac", "compute_energy_pj": mac.compute_energy_pj,
                     "time_s": mac.modeled_time_s,
                     "memory_access_bytes": mac.memory_access_bytes,
                     "total_energy_pj": mac.total_energy_pj})
        c = backend.cost_iteration(tr, arch, lc, objective, temp_k=hierarchy.temp_k)
        rows.append({"label": label, "model": "accel", "compute_energy_pj": c.compute_energy_pj,
                     "time_s": c.time_s, "memory_access_bytes": c.memory_access_bytes,
                     "total_energy_pj": c.energy_pj, "utilization_pct": c.utilization_pct})
    df = pd.DataFrame(rows)
    first = next(iter(traces))
    for col, _ in FIGURES:
        base = df[df["label"] == first].set_index("model")[col]
        df[f"{col}_saving_pct"] = 100.0 * (1.0 - df[col] / df["model"].map(base))
    return df

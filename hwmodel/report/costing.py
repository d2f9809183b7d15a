"""The cost stage of the report: traced sharing points x op costs x memory -> the sweep table.

Pure: it takes traces, an op-cost selection, a memory hierarchy and an accelerator, and returns
DataFrames whose columns carry their units. Nothing here trains or simulates, so a test can feed
it a hand-made trace and check every number by hand arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hwmodel import dram
from hwmodel.cost import Accelerator, OpCosts, StaticPower, iteration_cost, static_power
from hwmodel.memory import Hierarchy, access_energy, model_storage, working_memory


@dataclass(frozen=True)
class SharingPoint:
    """One point the report costs: how much is shared and the new task's accuracy there."""

    label: str  # the training stage that produced the branch, e.g. clone-t1-k2
    method: str  # "sharing" or "no-sharing"
    share_k: int
    sharing_point_pct: float
    shared_pct: float
    test_acc_pct: float
    val_acc_pct: float
    chosen: bool


@dataclass(frozen=True)
class TracedPoint:
    """A sharing point with the trace of one training iteration of its branch network.

    ``networks[t] = (network params, own params)`` of every task of the grown network at this
    point (:func:`hwmodel.memory.model_storage`); ``input_bytes`` is the input batch;
    ``measured_s`` holds CPU wall-clock medians (``iteration``, ``forward``, ``backward``,
    ``step``; seconds)."""

    point: SharingPoint
    trace: pd.DataFrame
    input_bytes: float
    networks: list[tuple[int, int]]
    measured_s: dict[str, float] = field(default_factory=dict)


#: Columns normalized to the no-sharing point (``<name>_norm``).
NORMALIZED = ("compute_energy_pj", "memory_energy_pj", "dynamic_energy_pj", "static_energy_pj",
              "total_energy_pj", "modeled_time_s", "measured_iteration_s",
              "memory_access_bytes", "dram_bytes", "model_storage_with_sharing_bytes",
              "working_memory_bytes")


def _point_row(tp: TracedPoint, costs: OpCosts, hierarchy: Hierarchy, accel: Accelerator,
               static: StaticPower) -> tuple[dict, pd.DataFrame]:
    energy = access_energy(tp.trace, hierarchy, tp.input_bytes)
    cost = iteration_cost(tp.trace, costs, energy, accel, static)
    wm = working_memory(tp.trace)
    bpe = int(tp.trace["bytes_per_elem"].iloc[0])
    ms = model_storage(tp.networks, bpe)
    p = tp.point
    row = {"label": p.label, "method": p.method, "share_k": p.share_k,
           "sharing_point_pct": p.sharing_point_pct, "shared_pct": p.shared_pct,
           "test_acc_pct": p.test_acc_pct, "val_acc_pct": p.val_acc_pct, "chosen": p.chosen}
    row.update({f"measured_{k}_s": v for k, v in tp.measured_s.items()})
    row.update(cost.as_dict())
    row.update(tasks=ms.tasks, model_storage_with_sharing_bytes=ms.with_sharing_bytes,
               model_storage_without_sharing_bytes=ms.without_sharing_bytes,
               weight_bytes=wm["weight"], optimizer_state_bytes=wm["optstate"],
               activation_bytes=wm["activation"], gradient_bytes=wm["gradient"],
               working_memory_bytes=wm["activation"] + wm["gradient"])
    return row, energy


def cost_points(points: list[TracedPoint], costs: OpCosts, hierarchy: Hierarchy,
                accel: Accelerator, dram_background_mw: float | None = None,
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sweep, memory traffic): one sweep row per point, normalized columns relative to the
    no-sharing point (the first point with ``share_k == 0``), and the traffic of every point by
    level, data type, access and movement."""
    sram_mw = sum(c.leakage_mw for c in hierarchy.sram_costs.values())
    static = static_power(costs, accel, sram_mw,
                          dram.background_power_mw(hierarchy.dram, dram_background_mw))
    rows, traffic = [], []
    for tp in points:
        row, energy = _point_row(tp, costs, hierarchy, accel, static)
        rows.append(row)
        traffic.append(energy.assign(label=tp.point.label, share_k=tp.point.share_k))
    sweep = pd.DataFrame(rows)
    base = sweep.loc[sweep["share_k"] == 0]
    if base.empty:
        raise ValueError("cost_points: no no-sharing point (share_k == 0) to normalize to")
    for col in NORMALIZED:
        if col in sweep:
            sweep[f"{col.rsplit('_', 1)[0]}_norm"] = sweep[col] / float(base[col].iloc[0])
    return sweep, pd.concat(traffic, ignore_index=True)


def savings_table(sweep: pd.DataFrame) -> pd.DataFrame:
    """The paper's Tables 3/5 form: each point's saving relative to no sharing (%)."""
    s = sweep
    base_acc = float(s.loc[s["share_k"] == 0, "test_acc_pct"].iloc[0])

    def saving(col: str) -> pd.Series:
        return 100.0 * (1.0 - s[f"{col}_norm"])

    return pd.DataFrame({
        "sharing_point_pct": s["sharing_point_pct"],
        "chosen": s["chosen"],
        "test_acc_pct": s["test_acc_pct"],
        "acc_loss_pct_points": base_acc - s["test_acc_pct"],
        "compute_energy_saving_pct": saving("compute_energy"),
        "memory_access_saving_pct": saving("memory_access"),
        "total_energy_saving_pct": saving("total_energy"),
        "model_storage_saving_pct": 100.0 * (1.0 - s["model_storage_with_sharing_bytes"]
                                             / s["model_storage_without_sharing_bytes"]),
        "working_memory_saving_pct": saving("working_memory"),
        "modeled_time_saving_pct": saving("modeled_time"),
        "measured_time_saving_pct": (saving("measured_iteration")
                                     if "measured_iteration_norm" in s else float("nan")),
    })


#: Cost models of the report: the accelerator back-end and the paper's MAC-count model.
MODELS = ("accel", "mac")
#: The sweep's per-iteration figures each model gives (``mac_<col>`` / ``accel_<col>``; the
#: unprefixed column is the report's chosen model).
MODEL_COLUMNS = ("compute_energy_pj", "memory_energy_pj", "dynamic_energy_pj",
                 "static_energy_pj", "total_energy_pj", "memory_access_bytes", "dram_bytes",
                 "modeled_time_s", "compute_time_s", "memory_time_s", "clock_mhz", "clock_limit")


def accel_row(cost) -> dict:
    """The sweep figures of one :class:`hwmodel.accel.backend.AccelCost`."""
    f = cost.clock_mhz * 1e6
    g = cost.gemms
    return {
        "compute_energy_pj": cost.compute_energy_pj, "memory_energy_pj": cost.memory_energy_pj,
        "dynamic_energy_pj": cost.compute_energy_pj + cost.memory_energy_pj,
        "static_energy_pj": cost.static_energy_pj, "total_energy_pj": cost.energy_pj,
        "memory_access_bytes": cost.memory_access_bytes, "dram_bytes": cost.dram_bytes,
        "modeled_time_s": cost.time_s, "clock_mhz": cost.clock_mhz,
        "clock_limit": cost.clock_limit,
        "compute_time_s": cost.busy_cycles / f,
        "memory_time_s": cost.dram_bytes / (cost.dram_gb_per_s * 1e9),
        "cycles": cost.cycles, "stall_cycles": int(g["stall_cycles"].sum()) if len(g) else 0,
        "utilization_pct": cost.utilization_pct,
    }


def merge_models(sweep: pd.DataFrame, accel: pd.DataFrame, model: str) -> pd.DataFrame:
    """``sweep`` (MAC-count model) with the accelerator's figures beside it: every
    :data:`MODEL_COLUMNS` figure as ``mac_<col>`` and ``accel_<col>`` (normalized twins too),
    and the unprefixed columns those of ``model``."""
    if model not in MODELS:
        raise ValueError(f"cost model {model!r} is unknown; use one of {', '.join(MODELS)}")
    out = sweep.copy()
    base = out["share_k"] == 0
    for col in MODEL_COLUMNS:
        out[f"mac_{col}"] = sweep[col]
        out[f"accel_{col}"] = accel[col].to_numpy()
        if model == "accel":
            out[col] = accel[col].to_numpy()
    for extra in ("cycles", "stall_cycles", "utilization_pct"):
        out[f"accel_{extra}"] = accel[extra].to_numpy()
    for col in NORMALIZED:
        for pre in ("", "mac_", "accel_"):
            c = pre + col
            if c in out:
                out[f"{c.rsplit('_', 1)[0]}_norm"] = out[c] / float(out.loc[base, c].iloc[0])
    out["cost_model"] = model
    return out


def models_table(sweep: pd.DataFrame) -> pd.DataFrame:
    """Savings vs no sharing (%) of both cost models side by side, at every point."""
    rows = {"sharing_point_pct": sweep["sharing_point_pct"], "chosen": sweep["chosen"]}
    for what in ("compute_energy", "modeled_time", "memory_access", "total_energy"):
        for model in ("mac", "accel"):
            rows[f"{what}_saving_{model}_pct"] = 100.0 * (1.0 - sweep[f"{model}_{what}_norm"])
    return pd.DataFrame(rows)

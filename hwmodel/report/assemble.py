"""What a report shows, gathered from the stages' outputs: :class:`ReportData` (tables are
DataFrames with units in their column names) and the small tables and dicts it holds."""

from __future__ import annotations

import math
import platform
from dataclasses import dataclass, field

import pandas as pd

from hwmodel import dram
from hwmodel.cost import ENERGY_FIGURE_DOCS, Accelerator, OpCosts
from hwmodel.memory import Hierarchy
from hwmodel.ops.compute import tool_versions
from hwmodel.report.config import ReportConfig


@dataclass
class ReportData:
    """Everything a report shows (tables are DataFrames with units in column names)."""

    config: ReportConfig
    learning: object  # learning.results.Results
    sweep: pd.DataFrame  # one row per sharing point: accuracy, costs, times, storage
    methods: pd.DataFrame  # accuracy of each method (Table 1/2 form)
    combination: pd.DataFrame  # every combination rule x method, with its extra cost
    op_costs: pd.DataFrame  # the op-cost rows used (both energy paths)
    sram: pd.DataFrame  # the SRAM design points used
    memory: pd.DataFrame  # traffic by level/data type/access/movement at every sharing point
    operating_points: pd.DataFrame  # logic, SRAM and DRAM supply and temperature
    costing: dict = field(default_factory=dict)  # clock, static power, energy figure, ...
    provenance: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)
    accel: dict = field(default_factory=dict)  # accel_tables(): breakdown, mappings, summary


def hierarchy_of(cfg: ReportConfig, temp_c: float) -> Hierarchy:
    """The on-chip buffers and DRAM of the config: ``[memory] hierarchy = "file.toml"``
    (:meth:`hwmodel.memory.Hierarchy.from_toml`: buffers per data type, banks, DRAM, node,
    flavour, temperature) or one global buffer, the SRAM at the logic's temperature."""
    mem = dict(cfg.memory)
    if "hierarchy" in mem:
        return Hierarchy.from_toml(mem["hierarchy"])
    return Hierarchy.global_buffer(mem.get("global_buffer", "256KiB"),
                                   int(mem.get("word_bits", 64)), dram=mem.get("dram", "ddr3"),
                                   flavour=str(mem.get("flavour", "hp")),
                                   temp_k=float(mem.get("temp_k", temp_c + 273.15)))


def operating_points(hierarchy: Hierarchy, lib_corner) -> pd.DataFrame:
    """Supply and temperature of logic, SRAM and DRAM side by side (differences visible)."""
    from hwmodel.sram import tech

    sram_v = tech.derive(hierarchy.node, hierarchy.flavour, hierarchy.temp_k).vdd
    dstandby = dram.dram_type(hierarchy.dram).standby
    return pd.DataFrame([
        {"part": "logic (MAC, multiplier, adder)", "supply_v": lib_corner.vdd_v,
         "temperature_k": lib_corner.temp_c + 273.15,
         "devices": f"FreePDK45 BSIM4, {lib_corner.corner} corner (pns45 cell library)"},
        {"part": "on-chip SRAM", "supply_v": sram_v, "temperature_k": hierarchy.temp_k,
         "devices": f"ITRS {hierarchy.node} nm {hierarchy.flavour.upper()} (SRAM model)"},
        {"part": "DRAM", "supply_v": dstandby.vdd_v if dstandby else math.nan,
         "temperature_k": math.nan, "devices": f"{hierarchy.dram} (datasheet currents)"},
    ])


def methods_table(res) -> pd.DataFrame:
    """Accuracy of every method (the paper's Tables 1 and 2 form)."""
    return pd.DataFrame([{"method": m.method, "combiner": m.combiner or "-",
                          "top1_pct": m.top1_pct, "top5_pct": m.top5_pct,
                          "final_task_acc_pct": m.final_task_acc_pct,
                          "avg_forgetting_pct": m.avg_forgetting_pct,
                          "trained_params": m.trained_params, "train_time_s": m.train_time_s}
                         for m in res.methods])


def combination_table(res, costs: OpCosts) -> pd.DataFrame:
    """Every rule's accuracy; its extra compute per inference at the format's MAC energy."""
    return pd.DataFrame([{
        "method": c.method, "rule": c.rule, "top1_pct": c.top1_pct, "top5_pct": c.top5_pct,
        "task_id_pct": c.task_id_pct[-1], "all_class_pct": c.all_class_pct,
        "gap_to_joint_pts": c.gap_to_joint_pts, "storage_bytes": c.storage_bytes,
        "macs_per_inference": c.macs_per_inference,
        "energy_per_inference_pj": c.macs_per_inference * costs.mac_pj,
    } for c in res.combinations])


#: learning.results.SweepPoint field -> the combination rule behind it (None: the point's
#: ``updated_rule``, else the learning config's ``combiner``); the updated network's all-class
#: top-1 at each sweep point
UPDATED_FIELDS: dict[str, str | None] = {"updated_top1_pct": None,
                                         "updated_max_softmax_top1_pct": "max-softmax"}


def updated_vs_sharing(res) -> pd.DataFrame:
    """Fig. 2b's second curve (the one the paper plots): the updated network's all-class top-1
    at every sweep point, one row per (point, rule), from the :data:`UPDATED_FIELDS` the run
    recorded (finite values only; empty when none). Columns: sharing_point_pct, rule,
    updated_acc_pct."""
    rows, seen = [], set()
    for p in res.sweep:
        for name, rule in UPDATED_FIELDS.items():
            v = getattr(p, name, None)
            rule = rule or str(getattr(p, "updated_rule", None) or res.config.get("combiner"))
            if v is None or not math.isfinite(float(v)) or (p.share_k, rule) in seen:
                continue
            seen.add((p.share_k, rule))
            rows.append({"sharing_point_pct": float(p.sharing_point_pct), "rule": rule,
                         "updated_acc_pct": float(v)})
    return pd.DataFrame(rows, columns=["sharing_point_pct", "rule", "updated_acc_pct"])


def costing_summary(cfg: ReportConfig, costs: OpCosts, accel: Accelerator,
                    hierarchy: Hierarchy, sweep: pd.DataFrame, dot_length: int) -> dict:
    """The figures every sharing point shares: clock, energy figure, static power (of the
    MAC-count model; the accelerator's are in :func:`accel_tables`)."""
    first = sweep.iloc[0]
    pre = "mac_" if "mac_clock_mhz" in sweep else ""
    return {
        "energy_figure": cfg.energy, "energy_figure_means": ENERGY_FIGURE_DOCS[cfg.energy],
        "latency_cycles": cfg.latency, "dot_length": dot_length,
        "clock_mhz": float(first[f"{pre}clock_mhz"]),
        "clock_limit": str(first[f"{pre}clock_limit"]),
        "clock_target_mhz": accel.clock_mhz_max,
        "units": {u.unit: {"dynamic_pj": u.dynamic_pj, "leakage_nw": u.leakage_nw,
                           "critical_path_ns": u.critical_path_ns, "fmax_mhz": u.fmax_mhz,
                           "latency_cycles": u.latency_cycles} for u in costs.units},
        "static_power_mw": {
            "logic": accel.mac_units * costs.lane_leakage_nw * 1e-6,
            "sram": sum(c.leakage_mw for c in hierarchy.sram_costs.values()),
            "dram": dram.background_power_mw(hierarchy.dram,
                                             cfg.memory.get("dram_background_mw"))},
        "tasks": int(first["tasks"]),
    }


def provenance(res, cfg: ReportConfig, costs: OpCosts, accel: Accelerator) -> dict:
    """Where every number came from: configs, data, op-cost selection, tool versions."""
    return {
        "learning_config": res.config, "dataset": res.dataset,
        "op_costs": {"format": costs.fmt, "stream": costs.stream, "figure": costs.figure,
                     "vdd_v": cfg.vdd_v, "mac_pj": costs.mac.dynamic_pj,
                     "mul_pj": costs.mul.dynamic_pj, "add_pj": costs.add.dynamic_pj},
        "accelerator": accel.__dict__, "memory": dict(cfg.memory), "tools": tool_versions(),
        "python": platform.python_version(),
    }


def sram_table(hierarchy: Hierarchy) -> pd.DataFrame:
    """The SRAM design points of the hierarchy's buffers."""
    return pd.DataFrame([{"buffer": n, **c.to_dict()} for n, c in hierarchy.sram_costs.items()])


def accel_tables(accel_costs: dict, sweep: pd.DataFrame, arch_name: str) -> dict:
    """The accelerator back-end's part of the report: ``breakdown`` (energy pJ per sharing
    point x phase x level, long form), ``mappings`` (the chosen point's layer-phases: mapping,
    cycles, stalls, utilization, accesses), ``summary`` (architecture, clock, PE provenance)."""
    from hwmodel.accel import arch as accel_arch

    rows = []
    for _, p in sweep.iterrows():
        b = accel_costs[p["label"]].breakdown
        for phase, r in b.iterrows():
            for level in ("pe", "rf", "sram", "dram", "vector", "static"):
                rows.append({"label": p["label"], "sharing_point_pct": p["sharing_point_pct"],
                             "phase": phase, "level": level, "energy_pj": float(r[level])})
    chosen = sweep[sweep["chosen"]]
    pick = chosen.iloc[0] if not chosen.empty else sweep.iloc[0]
    c = accel_costs[pick["label"]]
    a = accel_arch.load(arch_name)
    return {
        "breakdown": pd.DataFrame(rows),
        "mappings": c.gemms[["layer", "phase", "m", "n", "k", "count", "mapping", "candidates",
                             "cycles", "stall_cycles", "utilization_pct", "sram_a_reads",
                             "sram_b_reads", "sram_c_writes", "dram_a_reads", "dram_b_reads",
                             "dram_c_writes", "pe_pj", "rf_pj", "sram_pj", "dram_pj"]],
        "mappings_at_pct": float(pick["sharing_point_pct"]),
        "summary": {"arch": a.name, "source": a.source, "array": f"{a.array.rows}x{a.array.cols}",
                    "dataflows": list(a.array.dataflows), "objective": c.objective,
                    "clock_mhz": c.clock_mhz, "clock_limit": c.clock_limit,
                    "pe_energy": c.pe_provenance,
                    "buffers": {b.name: {"operands": list(b.operands),
                                         "capacity_bytes": b.capacity_bytes,
                                         "word_bits": b.word_bits, "banks": b.banks}
                                for b in a.buffers},
                    "dram": {"type": a.dram.kind, "bandwidth_gb_s": a.dram.bandwidth_gb_s},
                    "vector_lanes": a.vector.lanes},
    }

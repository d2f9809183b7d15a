"""The main job's pipeline: train (real data) -> trace every sharing point -> op costs -> memory
-> cost per training iteration, with and without sharing.

Each stage is a function of the previous one's output; :func:`run` chains them and returns a
:class:`ReportData` that :mod:`hwmodel.report.render` turns into files. Learning is reached only
through :class:`learning.incremental.Experiment`'s facade (``sharing_labels``,
``training_network``, ``sample_batch``, ``param_split``) and its :class:`Results`.
"""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from hwmodel import dram
from hwmodel.cost import ENERGY_FIGURE_DOCS, Accelerator, CostModelError, OpCosts, mean_dot_length
from hwmodel.memory import Hierarchy
from hwmodel.ops.compute import compute_row, library_corner, make_jobs, tool_versions
from hwmodel.ops.oplib import default_op_library
from hwmodel.ops.table import build_table
from hwmodel.report.config import ReportConfig, ReportError
from hwmodel.report.costing import SharingPoint, TracedPoint, cost_points

COSTED_UNITS = {"fp_mac", "fp_mul", "fp_add", "mac_int", "mul_booth", "add_ks"}


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


# -- stage 1: learn ---------------------------------------------------------------------------


def learn(cfg: ReportConfig, data_root: str | None, progress: bool, log: Callable[[str], None]):
    """Train (or resume) the learning config; returns (Results, Experiment)."""
    from learning.config import load_config
    from learning.errors import LearningError
    from learning.incremental import run_and_keep

    try:
        overrides = dict(cfg.learning_overrides)
        if data_root:
            overrides["data_root"] = data_root
        lcfg = load_config(cfg.learning, overrides or None)
        if "no-sharing" not in lcfg.baselines:
            raise ReportError(f"learning config {cfg.learning!r}: the report compares against "
                              "the no-sharing baseline; add 'no-sharing' to baselines")
        log(f"[1/4] incremental learning: {lcfg.name} ({lcfg.dataset}, {lcfg.model})")
        return run_and_keep(lcfg, progress=progress)
    except LearningError as exc:
        raise ReportError(f"learning config {cfg.learning!r}: {exc}") from None


# -- stage 2: trace ---------------------------------------------------------------------------


def sharing_points(res, exp) -> list[SharingPoint]:
    """The task-1 points to cost: every swept point, or no sharing and the approach's own
    branch, with the new task's test accuracy from the results."""
    swept = {p.share_k: p for p in res.sweep}
    branch = {b.label: b for m in res.methods for b in m.branches if b.task == 1}
    out = []
    for label, e in exp.sharing_labels(1).items():
        if e["kind"] == "clone" and swept:  # a swept point
            src = swept[e["share_k"]]
            test = src.test_acc_pct
        else:  # no sharing or the approach's own branch
            src = branch[label]
            test = src.test_acc_task_aware_pct
        share_k = 0 if e["method"] == "no-sharing" else int(e["share_k"])
        out.append(SharingPoint(label, e["method"], share_k, float(e["sharing_point_pct"]),
                                float(e["shared_pct"]), float(test), float(src.val_acc_pct),
                                bool(e["chosen"])))
    return out


def grown_networks(exp, point: SharingPoint, kind: str) -> list[tuple[int, int]]:
    """(network params, own params) of every task of the grown network at ``point``: clone
    branches split the model at ``share_k`` (each task's head for its own classes); widen
    branches are the base network plus each installment's trained kernels and head."""
    n_tasks = len(exp.tasks)
    if kind == "widen":
        base = exp.param_split(0, len(exp.tasks[0].classes)).branch_params
        own = []
        for t in range(1, n_tasks):
            e = next(v for v in exp.sharing_labels(t).values() if v["kind"] == "widen")
            own.append((int(e["network_params"]), int(e["trained_params"])))
        return [(base, base), *own]
    out = []
    for t in range(n_tasks):
        s = exp.param_split(point.share_k, len(exp.tasks[t].classes))
        whole = s.shared_params + s.branch_params
        out.append((whole, whole if t == 0 else s.branch_params))
    return out


def trace_points(res, exp, cfg: ReportConfig, progress: bool = True) -> list[TracedPoint]:
    """Trace one training iteration of every task-1 point's trained network on a batch of real
    task-1 images, with the optimizer training used."""
    from tqdm import tqdm

    from learning.trace import trace_training
    from learning.training import OptimizerSpec

    lc = res.config
    opt = OptimizerSpec.from_config(lc)
    x, y = exp.sample_batch(1, lc["batch_size"], lc["seed"])
    labels = exp.sharing_labels(1)
    out = []
    for p in tqdm(sharing_points(res, exp), desc="tracing sharing points", unit="point",
                  disable=not progress):
        net = exp.training_network(p.label)
        tr = trace_training(net, tuple(x.shape[1:]), len(y), optimizer=opt, frozen=None,
                            iterations=cfg.trace_iterations, seed=lc["seed"], inputs=x,
                            targets=y, branch_of=net.branch_name)
        med = {k.removesuffix("_s"): float(tr.timing_samples[k].median())
               for k in ("iteration_s", "forward_s", "backward_s", "step_s")}
        out.append(TracedPoint(p, tr.df, float(x.numel() * x.element_size()),
                               grown_networks(exp, p, labels[p.label]["kind"]), med))
    return out


def network_operand_pools(res, exp, values_per_tensor: int = 256) -> tuple:
    """Operand pools of the ``tensor`` stream (:func:`hwmodel.ops.streams.operand_pools`):
    weights, activations and gradients sampled from one training iteration of the trained base
    network (a copy) on one batch of real task-0 training images."""
    from hwmodel.ops.streams import operand_pools
    from learning.trace import trace_training
    from learning.training import OptimizerSpec

    lc = res.config
    net = exp.training_network("base")
    x, y = exp.sample_batch(0, lc["batch_size"], lc["seed"])
    tr = trace_training(net, tuple(x.shape[1:]), len(y),
                        optimizer=OptimizerSpec.from_config(lc), frozen=None,
                        sample_operands=values_per_tensor, iterations=1, seed=lc["seed"],
                        inputs=x, targets=y)
    return operand_pools(tr.samples)


# -- stage 3: op costs ------------------------------------------------------------------------


def op_costs(cfg: ReportConfig, res, exp, dot_length: int, progress: bool,
             log: Callable[[str], None]) -> tuple[pd.DataFrame, OpCosts]:
    """Characterize the format's MAC, multiplier and adder on both energy paths at the
    configured corner and pipelining; pick the configured energy figure."""
    units = [u for u in default_op_library(cfg.latency) if u.fmt == cfg.format
             and u.unit in COSTED_UNITS]
    if not units:
        raise ReportError(f"no RTL unit implements format {cfg.format!r}")
    pools = None
    if cfg.stream == "tensor":
        log("      operand samples: one training iteration of the trained base network on real "
            "task-0 images")
        pools = network_operand_pools(res, exp)
    corner = library_corner(cfg.vdd_v, cfg.temp_c)
    jobs = make_jobs(units, [cfg.stream], ["default", "yosys"], cfg.op_vectors, 0, pools,
                     corner, dot_length)
    table = build_table(jobs, compute_row, workers=2, progress=progress)
    return table, OpCosts.from_table(table, cfg.format, cfg.stream, cfg.energy)


# -- stage 4: memory and cost -----------------------------------------------------------------


def hierarchy_of(cfg: ReportConfig, temp_c: float) -> Hierarchy:
    """The on-chip buffer and DRAM of the config; the SRAM at the logic's temperature."""
    mem = dict(cfg.memory)
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


def run(cfg: ReportConfig, *, data_root: str | None = None, progress: bool = True,
        log: Callable[[str], None] = print) -> ReportData:
    """Run every stage for ``cfg``; raises ReportError (one line) on bad input."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        accel = Accelerator(**cfg.accelerator)
    except TypeError as exc:
        raise ReportError(f"report config {cfg.name}: [accelerator] {exc}; known keys: "
                          "mac_units, clock_mhz_max, dram_gb_per_s") from None
    corner = library_corner(cfg.vdd_v, cfg.temp_c)
    hierarchy = hierarchy_of(cfg, corner.temp_c)
    res, exp = learn(cfg, data_root, progress, log)
    timings["learning_s"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    log("[2/4] training traces at every sharing point")
    points = trace_points(res, exp, cfg, progress)
    timings["traces_s"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    base_trace = next(p.trace for p in points if p.point.share_k == 0)
    length = cfg.dot_length or mean_dot_length(base_trace)
    log(f"[3/4] op costs ({cfg.format}, stream {cfg.stream}, {corner.vdd_v:g} V, "
        f"LATENCY {cfg.latency}, dot length {length}; cached after the first run)")
    table, costs = op_costs(cfg, res, exp, length, progress, log)
    timings["op_costs_s"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    log("[4/4] memory model and cost per training iteration")
    try:
        sweep, traffic = cost_points(points, costs, hierarchy, accel,
                                     cfg.memory.get("dram_background_mw"))
    except CostModelError as exc:
        raise ReportError(str(exc)) from None
    timings["cost_s"] = time.perf_counter() - t3
    timings["total_s"] = time.perf_counter() - t0
    return ReportData(
        cfg, res, sweep, _methods(res), _combination(res, costs), table,
        pd.DataFrame([{"buffer": n, **c.to_dict()} for n, c in hierarchy.sram_costs.items()]),
        traffic, operating_points(hierarchy, corner),
        _costing(cfg, costs, accel, hierarchy, sweep, length),
        _provenance(res, cfg, costs, accel), timings)


def _methods(res) -> pd.DataFrame:
    return pd.DataFrame([{"method": m.method, "combiner": m.combiner or "-",
                          "top1_pct": m.top1_pct, "top5_pct": m.top5_pct,
                          "final_task_acc_pct": m.final_task_acc_pct,
                          "avg_forgetting_pct": m.avg_forgetting_pct,
                          "trained_params": m.trained_params, "train_time_s": m.train_time_s}
                         for m in res.methods])


def _combination(res, costs: OpCosts) -> pd.DataFrame:
    """Every rule's accuracy; its extra compute per inference at the format's MAC energy."""
    return pd.DataFrame([{
        "method": c.method, "rule": c.rule, "top1_pct": c.top1_pct, "top5_pct": c.top5_pct,
        "task_id_pct": c.task_id_pct[-1], "all_class_pct": c.all_class_pct,
        "gap_to_joint_pts": c.gap_to_joint_pts, "storage_bytes": c.storage_bytes,
        "macs_per_inference": c.macs_per_inference,
        "energy_per_inference_pj": c.macs_per_inference * costs.mac_pj,
    } for c in res.combinations])


def _costing(cfg: ReportConfig, costs: OpCosts, accel: Accelerator, hierarchy: Hierarchy,
             sweep: pd.DataFrame, dot_length: int) -> dict:
    """The figures every sharing point shares: clock, energy figure, static power."""
    first = sweep.iloc[0]
    return {
        "energy_figure": cfg.energy, "energy_figure_means": ENERGY_FIGURE_DOCS[cfg.energy],
        "latency_cycles": cfg.latency, "dot_length": dot_length,
        "clock_mhz": float(first["clock_mhz"]), "clock_limit": str(first["clock_limit"]),
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


def _provenance(res, cfg: ReportConfig, costs: OpCosts, accel: Accelerator) -> dict:
    return {
        "learning_config": res.config, "dataset": res.dataset,
        "op_costs": {"format": costs.fmt, "stream": costs.stream, "figure": costs.figure,
                     "vdd_v": cfg.vdd_v, "mac_pj": costs.mac.dynamic_pj,
                     "mul_pj": costs.mul.dynamic_pj, "add_pj": costs.add.dynamic_pj},
        "accelerator": accel.__dict__, "memory": dict(cfg.memory), "tools": tool_versions(),
        "python": platform.python_version(),
    }

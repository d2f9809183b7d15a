"""The main job's pipeline: train (real data) -> trace every sharing point -> op costs -> memory
-> cost per training iteration, with and without sharing.

Each stage is a pure-ish function of the previous one's output; :func:`run` chains them and
returns a :class:`ReportData` that :mod:`hwmodel.report.render` turns into files.
"""

from __future__ import annotations

import dataclasses
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from hwmodel.cost import Accelerator, OpCosts, iteration_cost
from hwmodel.memory import Hierarchy, access_energy, storage
from hwmodel.ops.compute import compute_row, make_jobs, tool_versions
from hwmodel.ops.oplib import default_op_library
from hwmodel.ops.table import build_table
from hwmodel.report.config import ReportConfig, ReportError


@dataclass
class ReportData:
    """Everything a report shows (tables are DataFrames with units in column names)."""

    config: ReportConfig
    learning: object  # learning.results.Results
    sweep: pd.DataFrame  # one row per sharing point: accuracy, costs, times
    methods: pd.DataFrame  # accuracy of each method (Table 1/2 form)
    combination: pd.DataFrame  # every combination rule x method, with its extra cost
    op_costs: pd.DataFrame  # the op-cost rows used
    sram: pd.DataFrame  # the SRAM design points used
    memory: pd.DataFrame  # access energy by level/data type at every sharing point
    storage: pd.DataFrame  # storage by data type with/without sharing at every point
    provenance: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SharingPoint:
    """One sharing point the report costs: blocks shared and the task-1 accuracy there."""

    share_k: int
    sharing_point_pct: float
    shared_pct: float
    test_acc_pct: float
    val_acc_pct: float
    chosen: bool


def sharing_points_of(res) -> dict[int, SharingPoint]:
    """The points to cost: the sweep's when there is one; otherwise no sharing (the no-sharing
    baseline's task-1 branch) and the approach's own point (its task-1 branch). Approach 1
    (widen) is traced with its last conv block and head training, an upper bound of its new
    kernels and outputs."""
    if res.sweep:
        return {p.share_k: SharingPoint(p.share_k, p.sharing_point_pct, p.shared_pct,
                                        p.test_acc_pct, p.val_acc_pct, bool(p.chosen))
                for p in res.sweep}
    nan = float("nan")
    out = {0: SharingPoint(0, 0.0, 0.0, nan, nan, False)}
    for m in res.methods:
        b = next((b for b in m.branches if b.task == 1), None)
        if b is None or m.method not in ("sharing", "no-sharing"):
            continue
        k = 0 if m.method == "no-sharing" else b.share_k
        out[k] = SharingPoint(k, 0.0 if k == 0 else b.sharing_point_pct,
                              0.0 if k == 0 else b.shared_pct, b.test_acc_task_aware_pct,
                              b.val_acc_pct, m.method == "sharing")
    return out


def trace_sharing_points(res, cfg: ReportConfig, iterations: int, progress: bool = True,
                         ) -> dict[int, object]:
    """Trace one training iteration of the task-1 network at every swept sharing point."""
    import torch
    from tqdm import tqdm

    from learning.models import build_model, freeze_prefix
    from learning.trace import trace_training

    lc = res.config
    shape = list(res.dataset["image_shape"])
    if len(shape) == 2:
        shape = [1, *shape]
    if len(shape) == 3 and shape[-1] in (1, 3) and shape[0] not in (1, 3):
        shape = [shape[2], shape[0], shape[1]]
    c, h, _ = shape
    n_new = len(res.tasks[1]) if len(res.tasks) > 1 else len(res.tasks[0])
    ks = sorted(sharing_points_of(res))
    out = {}
    for k in tqdm(ks, desc="tracing sharing points", unit="point", disable=not progress):
        torch.manual_seed(lc["seed"])
        net = build_model(lc["model"], n_new, c, h, lc["width"])
        freeze_prefix(net, k)  # requires_grad off, eval-mode BatchNorm, no-grad forward
        out[k] = trace_training(
            net, (c, h, h), lc["batch_size"], optimizer=_optimizer_name(lc), frozen=None,
            iterations=iterations, seed=lc["seed"],
            branch_of=lambda layer, k=k: "shared" if _block_of(layer) < k else "task1")
    return out


def network_operand_pools(exp, values_per_tensor: int = 256) -> tuple:
    """Operand pools of the ``tensor`` stream (:func:`hwmodel.ops.streams.operand_pools`):
    weights, activations and gradients sampled from one training iteration of the trained base
    network (a copy; ``exp`` is a finished :class:`learning.incremental.Experiment`) on one
    batch of real task-0 training images, read under task 0's data guard."""
    import copy

    import numpy as np
    import torch

    from hwmodel.ops.streams import operand_pools
    from learning.models import freeze_prefix
    from learning.trace import trace_training
    from learning.training import to_float

    lc = exp.cfg
    task = exp.tasks[0]
    net = freeze_prefix(copy.deepcopy(exp.base), 0)  # a trainable copy: gradients flow
    with exp.guard.learning([task.index]):
        x, y = task.train()
    idx = np.sort(np.random.default_rng(lc.seed).permutation(len(y))[: lc.batch_size])
    inputs = to_float(x[idx])
    targets = torch.as_tensor(task.local(y[idx]), dtype=torch.long)
    tr = trace_training(net, tuple(inputs.shape[1:]), len(idx),
                        optimizer=_optimizer_name(dataclasses.asdict(lc)), frozen=None,
                        sample_operands=values_per_tensor, iterations=1, seed=lc.seed,
                        inputs=inputs, targets=targets)
    return operand_pools(tr.samples)


def _block_of(layer: str) -> int:
    parts = layer.split(".")
    if len(parts) > 1 and parts[0] == "blocks" and parts[1].split("/")[0].split("#")[0].isdigit():
        return int(parts[1].split("/")[0].split("#")[0])
    return 10**9  # loss and anything outside the blocks belong to the branch


def _optimizer_name(lc: dict) -> str:
    opt = str(lc.get("optimizer", "sgd"))
    if opt == "sgd" and float(lc.get("momentum", 0) or 0) > 0:
        return "momentum"
    return opt


def run(cfg: ReportConfig, *, data_root: str | None = None, progress: bool = True,
        log: Callable[[str], None] = print) -> ReportData:
    """Run every stage for ``cfg``; raises ReportError (one line) on bad input."""
    from learning.config import load_config
    from learning.errors import LearningError
    from learning.incremental import run_and_keep

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        overrides = dict(cfg.learning_overrides)
        if data_root:
            overrides["data_root"] = data_root
        lcfg = load_config(cfg.learning, overrides or None)
        log(f"[1/4] incremental learning: {lcfg.name} ({lcfg.dataset}, {lcfg.model})")
        res, exp = run_and_keep(lcfg, progress=progress)
    except LearningError as exc:
        raise ReportError(f"learning config {cfg.learning!r}: {exc}") from None
    timings["learning_s"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    log("[2/4] training traces at every sharing point")
    traces = trace_sharing_points(res, cfg, cfg.trace_iterations, progress)
    timings["traces_s"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    log(f"[3/4] op costs ({cfg.format}, stream {cfg.stream}; cached after the first run)")
    units = [u for u in default_op_library() if u.fmt == cfg.format
             and u.unit in {"fp_mac", "fp_mul", "fp_add", "mac_int", "mul_booth", "add_ks"}]
    if not units:
        raise ReportError(f"no RTL unit implements format {cfg.format!r}")
    pools = None
    if cfg.stream == "tensor":
        log("      operand samples: one training iteration of the trained base network on real "
            "task-0 images")
        pools = network_operand_pools(exp)
    jobs = make_jobs(units, [cfg.stream], ["default"], cfg.op_vectors, 0, pools)
    op_table = build_table(jobs, compute_row, workers=2, progress=progress)
    costs = OpCosts.from_table(op_table, cfg.format, cfg.stream, "default")
    timings["op_costs_s"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    log("[4/4] memory model and cost per training iteration")
    mem = dict(cfg.memory)
    hierarchy = Hierarchy.global_buffer(mem.get("global_buffer", "256KiB"),
                                        int(mem.get("word_bits", 64)),
                                        dram=mem.get("dram", "ddr3"))
    accel = Accelerator(**cfg.accelerator)
    sweep_rows, mem_rows, sto_rows = [], [], []
    by_k = sharing_points_of(res)
    for k, tr in sorted(traces.items()):
        energy = access_energy(tr.df, hierarchy)
        cost = iteration_cost(tr.df, costs, energy, accel)
        sto = storage(tr.df, extra_tasks=1)
        point = by_k.get(k)
        row = {"share_k": k,
               "sharing_point_pct": point.sharing_point_pct if point else 0.0,
               "shared_pct": point.shared_pct if point else 0.0,
               "test_acc_pct": point.test_acc_pct if point else float("nan"),
               "val_acc_pct": point.val_acc_pct if point else float("nan"),
               "chosen": bool(point.chosen) if point else False,
               # Medians over the timed iterations: robust to a busy machine.
               "measured_iteration_s": float(tr.timing_samples["iteration_s"].median()),
               "measured_forward_s": float(tr.timing_samples["forward_s"].median()),
               "measured_backward_s": float(tr.timing_samples["backward_s"].median()),
               "measured_step_s": float(tr.timing_samples["step_s"].median()),
               "memory_access_bytes": float(energy["bytes"].sum()),
               "storage_with_sharing_bytes": float(
                   sto.loc[sto["sharing"] == "with_sharing", "bytes"].sum()),
               "storage_without_sharing_bytes": float(
                   sto.loc[sto["sharing"] == "without_sharing", "bytes"].sum())}
        row.update(cost.as_dict())
        sweep_rows.append(row)
        mem_rows.append(energy.assign(share_k=k))
        sto_rows.append(sto.assign(share_k=k))
    sweep = pd.DataFrame(sweep_rows)
    base = sweep.loc[sweep["share_k"] == 0].iloc[0]
    for col in ("compute_energy_pj", "memory_energy_pj", "total_energy_pj", "modeled_time_s",
                "measured_iteration_s", "memory_access_bytes"):
        sweep[f"{col.rsplit('_', 1)[0]}_norm"] = sweep[col] / float(base[col])
    timings["cost_s"] = time.perf_counter() - t3
    timings["total_s"] = time.perf_counter() - t0

    methods = pd.DataFrame([{"method": m.method, "combiner": m.combiner or "-",
                             "top1_pct": m.top1_pct, "top5_pct": m.top5_pct,
                             "final_task_acc_pct": m.final_task_acc_pct,
                             "avg_forgetting_pct": m.avg_forgetting_pct,
                             "trained_params": m.trained_params, "train_time_s": m.train_time_s}
                            for m in res.methods])
    # A rule's extra compute per inference is charged at the training format's MAC energy.
    combination = pd.DataFrame([{
        "method": c.method, "rule": c.rule, "top1_pct": c.top1_pct, "top5_pct": c.top5_pct,
        "task_id_pct": c.task_id_pct[-1], "all_class_pct": c.all_class_pct,
        "gap_to_joint_pts": c.gap_to_joint_pts, "storage_bytes": c.storage_bytes,
        "macs_per_inference": c.macs_per_inference,
        "energy_per_inference_pj": c.macs_per_inference * costs.mac_pj,
    } for c in res.combinations])
    sram_rows = [{"buffer": name, **c.to_dict()} for name, c in hierarchy.sram_costs.items()]
    prov = {
        "learning_config": res.config, "dataset": res.dataset,
        "op_costs": {"format": costs.fmt, "stream": costs.stream, "path": costs.path,
                     "mac_pj": costs.mac_pj, "mul_pj": costs.mul_pj, "add_pj": costs.add_pj},
        "accelerator": accel.__dict__, "memory": mem, "tools": tool_versions(),
        "python": platform.python_version(),
    }
    return ReportData(cfg, res, sweep, methods, combination, op_table, pd.DataFrame(sram_rows),
                      pd.concat(mem_rows, ignore_index=True),
                      pd.concat(sto_rows, ignore_index=True), prov, timings)

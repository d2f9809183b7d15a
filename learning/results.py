"""Result records of an incremental-learning experiment, their JSON/CSV files and text tables.

Units are in the field names: ``_pct`` accuracy or share in percent (0..100), ``_s`` seconds,
``params`` parameter counts (elements).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pnsutil import atomic_write


@dataclass
class BranchInfo:
    """One task's branch of one method."""

    method: str
    task: int
    classes: list[int]
    kind: str  # base, clone, widen, joint
    label: str  # training stage that produced it
    share_k: int  # base blocks shared (frozen trunk) under this branch
    sharing_point_pct: float  # % of the base network's parameters in its first share_k blocks
    shared_pct: float  # % of this task's network (shared trunk + branch) that is shared
    trained_params: int
    network_params: int  # shared trunk + branch
    temperature: float  # calibration temperature fitted on this task's validation split
    val_acc_pct: float  # branch alone on its own task's validation split
    test_acc_task_aware_pct: float  # branch alone on its own task's test split
    train_time_s: float
    epochs: int
    train_images: int
    param_digest: str
    network: str = ""  # the task's network in the paper's notation, "[784 4c5 2s 6c5 2s 5o]"


@dataclass
class InstallmentRow:
    """One row of the paper's Table 1 layout: task ``task``'s classes, its network and the test
    accuracy of its branch alone on its own classes (task known; the paper's per-installment
    accuracy) with and without sharing. Task 0 (the base) has no "with sharing" value."""

    task: int
    classes: list[int]
    class_names: str  # "0-9", "A-E": first-last class name of the task
    network: str  # paper notation of the sharing method's network at this task ("" if none)
    with_sharing_test_acc_pct: float | None
    without_sharing_test_acc_pct: float | None  # None when the no-sharing baseline did not run
    with_sharing_trained_params: int | None
    without_sharing_trained_params: int | None


def installment_rows(methods: list[MethodResult], class_names: list[str]) -> list[InstallmentRow]:
    """Per-task rows of the ``sharing`` and ``no-sharing`` methods (:class:`InstallmentRow`)."""
    by = {m.method: m for m in methods}
    share, noshare = by.get("sharing"), by.get("no-sharing")
    ref = share or noshare
    if ref is None:
        return []
    rows = []
    for t, b in enumerate(ref.branches):
        s = share.branches[t] if share is not None and t > 0 else None
        n = noshare.branches[t] if noshare is not None else (b if t == 0 else None)
        names = [class_names[c] if c < len(class_names) else str(c) for c in b.classes]
        rows.append(InstallmentRow(
            task=t, classes=list(b.classes),
            class_names=names[0] if len(names) == 1 else f"{names[0]}-{names[-1]}",
            network=b.network,
            with_sharing_test_acc_pct=s.test_acc_task_aware_pct if s else None,
            without_sharing_test_acc_pct=n.test_acc_task_aware_pct if n else None,
            with_sharing_trained_params=s.trained_params if s else None,
            without_sharing_trained_params=n.trained_params if n else None,
        ))
    return rows


@dataclass
class SweepPoint:
    """The new-task branch (task 1) trained at one sharing point. ``sharing_point_pct`` is the
    exact share of the base network's parameters in the first ``share_k`` blocks;
    ``target_pcts`` the ``sweep_percents`` targets this point is the nearest of (empty when
    the sweep covers every point, or for the no-sharing reference added to the targets).
    With ``sweep_updated``: the updated network (base + every installment's branch at this
    point) evaluated on all classes after the last task, top-1 by the experiment's
    combination rule ``updated_rule`` and by the paper's ``max-softmax`` rule (the paper's
    Fig. 2b); ``None`` otherwise."""

    share_k: int
    sharing_point_pct: float
    shared_pct: float
    trained_params: int
    val_acc_pct: float
    test_acc_pct: float
    train_time_s: float
    chosen: bool = False
    target_pcts: list[float] = field(default_factory=list)
    updated_rule: str | None = None
    updated_top1_pct: float | None = None
    updated_max_softmax_top1_pct: float | None = None


@dataclass
class MethodResult:
    """An updated network (or the jointly trained one) evaluated on all tasks."""

    method: str
    accuracy_matrix_pct: list[list[float | None]]  # [after learning task t][test data of task j]
    final_task_acc_pct: list[float]
    task_aware_acc_pct: list[float]  # each task's branch alone on its own classes (task known)
    top1_pct: float  # all classes, after the last task
    top5_pct: float | None  # with >= 10 classes
    forgetting_pct: list[float]  # per task but the last: best earlier accuracy - final accuracy
    avg_forgetting_pct: float
    trained_params: int  # parameters trained over all tasks after the base
    train_time_s: float
    branches: list[BranchInfo]
    old_logits_identical: bool | None  # None for joint training (no increments)
    combiner: str | None = None  # combination rule behind the all-class numbers (None: joint)


@dataclass
class CombinationResult:
    """One combination rule applied to one method's branches (see :mod:`learning.combine`)."""

    method: str
    rule: str
    accuracy_matrix_pct: list[list[float | None]]  # [after learning task t][test data of task j]
    all_class_pct: list[float]  # after learning task t: top-1 over all test data of tasks 0..t
    task_id_pct: list[float]  # after task t: predicted class belongs to the image's own task
    top1_pct: float  # after the last task (= all_class_pct[-1])
    top5_pct: float | None  # with >= 10 classes
    gap_to_joint_pts: float | None  # joint training's top-1 minus this top-1
    storage_bytes: int  # extra statistics kept, all branches (fp32)
    macs_per_inference: int  # extra multiply-accumulates per input, all branches


@dataclass
class Results:
    """Everything :func:`learning.incremental.run_experiment` measured."""

    name: str
    config: dict[str, Any]
    dataset: dict[str, Any]
    tasks: list[list[int]]
    methods: list[MethodResult]
    sweep: list[SweepPoint] = field(default_factory=list)
    combinations: list[CombinationResult] = field(default_factory=list)
    chosen_share_k: int | None = None
    chosen_sharing_point_pct: float | None = None
    tolerance_pct: float = 1.0
    wall_time_s: float = 0.0
    resumed_stages: list[str] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    installments: list[InstallmentRow] = field(default_factory=list)  # Table 1 layout

    def method(self, name: str) -> MethodResult:
        for m in self.methods:
            if m.method == name:
                return m
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ----------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------




def _json_safe(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _json_safe(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_json_safe(v) for v in o]
    return o


def results_json(res: Results) -> str:
    return json.dumps(_json_safe(res.to_dict()), indent=2, sort_keys=False) + "\n"


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return buf.getvalue()


def write_results(res: Results, out_dir: Path) -> list[Path]:
    """results.json, installments.csv, summary.csv, accuracy_matrix.csv, branches.csv,
    sweep.csv, combination.csv (atomic)."""
    summary = [{
        "method": m.method, "top1_pct": m.top1_pct, "top5_pct": m.top5_pct,
        "avg_forgetting_pct": m.avg_forgetting_pct, "trained_params": m.trained_params,
        "train_time_s": m.train_time_s, "old_logits_identical": m.old_logits_identical,
        **{f"task{j}_acc_pct": a for j, a in enumerate(m.final_task_acc_pct)},
    } for m in res.methods]
    matrix = [
        {"method": m.method, "after_task": t, "task": j, "accuracy_pct": a}
        for m in res.methods for t, row in enumerate(m.accuracy_matrix_pct)
        for j, a in enumerate(row) if a is not None
    ]
    branches = [
        {k: (" ".join(map(str, v)) if isinstance(v, list) else v)
         for k, v in dataclasses.asdict(b).items()}
        for m in res.methods for b in m.branches
    ]
    sweep = [{k: (" ".join(f"{x:g}" for x in v) if isinstance(v, list) else v)
              for k, v in dataclasses.asdict(p).items()} for p in res.sweep]
    combos = [{
        "method": c.method, "rule": c.rule, "top1_pct": c.top1_pct, "top5_pct": c.top5_pct,
        "task_id_pct": c.task_id_pct[-1] if c.task_id_pct else None,
        "gap_to_joint_pts": c.gap_to_joint_pts, "storage_bytes": c.storage_bytes,
        "macs_per_inference": c.macs_per_inference,
        **{f"all_class_after_task{t}_pct": a for t, a in enumerate(c.all_class_pct)},
    } for c in res.combinations]
    installments = [{k: (" ".join(map(str, v)) if isinstance(v, list) else v)
                     for k, v in dataclasses.asdict(r).items()} for r in res.installments]
    files = {
        "results.json": results_json(res),
        "installments.csv": _csv(installments),
        "summary.csv": _csv(summary),
        "accuracy_matrix.csv": _csv(matrix),
        "branches.csv": _csv(branches),
        "sweep.csv": _csv(sweep),
        "combination.csv": _csv(combos),
    }
    paths = []
    for name, text in files.items():
        p = out_dir / name
        atomic_write(p, text)
        paths.append(p)
    return paths


# ----------------------------------------------------------------------------------------------
# Text tables
# ----------------------------------------------------------------------------------------------


def _fmt(v: float | None, nd: int = 1) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{nd}f}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def format_results(res: Results) -> str:
    """Accuracy table (with and without sharing), the sharing sweep, the accuracy matrix."""
    ntask = len(res.tasks)
    out = [f"## {res.name}: {res.dataset.get('name')} "
           f"{'+'.join(str(len(c)) for c in res.tasks)}, model {res.config.get('model')}, "
           f"approach {res.config.get('approach')}"]
    header = ["method", "shared %", "trained params"] + [f"task {j} %" for j in range(ntask)]
    header += ["top-1 %", "top-5 %", "forgetting pts", "task-aware mean %", "train s"]
    rows = []
    for m in res.methods:
        inc = [b for b in m.branches if b.task > 0]
        shared = ", ".join(sorted({f"{b.shared_pct:.1f}" for b in inc})) if inc else "-"
        rows.append([m.method, shared, str(m.trained_params)]
                    + [_fmt(a) for a in m.final_task_acc_pct]
                    + [_fmt(m.top1_pct), _fmt(m.top5_pct), _fmt(m.avg_forgetting_pct, 2),
                       _fmt(sum(m.task_aware_acc_pct) / len(m.task_aware_acc_pct)),
                       _fmt(m.train_time_s, 1)])
    out.append(markdown_table(header, rows))
    out.append("")
    rule = next((m.combiner for m in res.methods if m.combiner), None)
    out.append(f"task j %: accuracy on task j's test images over all classes (branches combined "
               f"by the rule `{rule}`); task-aware: each branch on its own classes.")
    if res.installments:
        out.append("")
        out.append(installment_table(res))
    if res.combinations:
        out.append("")
        out.append(combination_table(res))
    if res.sweep:
        out.append("")
        out.append(f"Sharing sweep on task 1 (pick: largest sharing within {res.tolerance_pct} "
                   "points of no sharing, on the validation split):")
        out.append(sweep_table(res))
    for m in res.methods:
        if m.method == "joint":
            continue
        out.append("")
        out.append(f"Accuracy matrix, {m.method} (row: after learning task t; column: task j), %:")
        out.append(markdown_table(
            ["after"] + [f"task {j}" for j in range(ntask)],
            [[str(t)] + [_fmt(a) for a in row] for t, row in enumerate(m.accuracy_matrix_pct)]))
    return "\n".join(out)


def installment_table(res: Results) -> str:
    """Per installment, the paper's Table 1 layout: classes, network, test accuracy of the
    task's network on its own classes with and without sharing."""
    rows = [[r.class_names, r.network or "-", _fmt(r.with_sharing_test_acc_pct, 2),
             _fmt(r.without_sharing_test_acc_pct, 2)] for r in res.installments]
    return ("Per installment (each task's network alone on its own test images, %):\n"
            + markdown_table(["classes", "network", "with sharing", "without sharing"], rows))


def sweep_table(res: Results) -> str:
    """The sharing sweep: target and exact shares, task 1's branch accuracy and, with
    ``sweep_updated``, the updated network's all-class top-1 by both rules."""
    updated = any(p.updated_top1_pct is not None for p in res.sweep)
    rule = next((p.updated_rule for p in res.sweep if p.updated_rule), "")
    header = ["blocks shared", "target %", "base params shared %", "task net shared %",
              "trained params", "val acc %", "test acc %"]
    header += [f"updated all-class % ({rule})", "updated all-class % (max-softmax)"] * updated
    rows = []
    for p in res.sweep:
        row = [str(p.share_k), " ".join(f"{t:g}" for t in p.target_pcts) or "-",
               f"{p.sharing_point_pct:.2f}", f"{p.shared_pct:.2f}", str(p.trained_params),
               _fmt(p.val_acc_pct), _fmt(p.test_acc_pct)]
        row += [_fmt(p.updated_top1_pct), _fmt(p.updated_max_softmax_top1_pct)] * updated
        rows.append(row + ["*" if p.chosen else ""])
    return markdown_table(header + ["chosen"], rows)


def combination_table(res: Results) -> str:
    """Every combination rule on every method: all-class top-1 after each task, task
    identification, gap to joint training, extra storage and compute."""
    ntask = len(res.tasks)
    header = ["method", "rule"] + [f"all-class after task {t} %" for t in range(ntask)]
    header += ["task-id %", "top-5 %", "gap to joint pts", "extra bytes", "extra MACs/input"]
    rows = [[c.method, c.rule] + [_fmt(a) for a in c.all_class_pct]
            + [_fmt(c.task_id_pct[-1] if c.task_id_pct else None), _fmt(c.top5_pct),
               _fmt(c.gap_to_joint_pts), str(c.storage_bytes), str(c.macs_per_inference)]
            for c in res.combinations]
    return "Combination rules (all-class top-1 of the updated network):\n" + markdown_table(
        header, rows)

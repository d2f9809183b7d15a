"""The report as a list of stages over one :class:`State`.

Each stage is a small object that names what it reads (``needs``) and what it writes
(``gives``) on the state, and :func:`run_stages` runs them in order, checking both, timing each
and logging ``[i/n] <what>``. The list is :func:`hwmodel.report.pipeline.report_stages`:

    Setup -> Learn -> Trace -> Characterize -> Cost -> Accelerate -> Assemble [-> Render]

A user can run another list (e.g. skip ``Render``, or put their own stage after ``Cost``)
with the same runner.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hwmodel.cost import Accelerator, CostModelError, OpCosts, mean_dot_length
from hwmodel.errors import HwmodelError
from hwmodel.memory import Hierarchy
from hwmodel.report.config import ReportConfig, ReportError


@dataclass
class State:
    """What the stages share: the inputs of a run and every stage's output (None until made)."""

    cfg: ReportConfig
    data_root: str | None = None
    progress: bool = True
    log: Callable[[str], None] = print
    accel: Accelerator | None = None
    corner: Any = None  # hwmodel.cells.spice.SimSettings of the logic
    hierarchy: Hierarchy | None = None
    results: Any = None  # learning.results.Results
    experiment: Any = None  # learning.incremental.Experiment (its public facade)
    points: list | None = None  # hwmodel.report.costing.TracedPoint per sharing point
    dot_length: int | None = None
    op_table: pd.DataFrame | None = None
    costs: OpCosts | None = None
    sweep: pd.DataFrame | None = None
    traffic: pd.DataFrame | None = None
    accel_costs: dict | None = None  # label -> hwmodel.accel.backend.AccelCost
    data: Any = None  # hwmodel.report.assemble.ReportData
    out_dir: Path | None = None
    timings_s: dict[str, float] = field(default_factory=dict)


class Stage:
    """One step of the report: reads ``needs`` from the state, writes ``gives``."""

    name = "stage"
    needs: tuple[str, ...] = ()
    gives: tuple[str, ...] = ()

    def describe(self, s: State) -> str:
        return self.name

    def run(self, s: State) -> None:
        raise NotImplementedError


class Setup(Stage):
    """The accelerator, the logic's library corner and the memory hierarchy of the config."""

    name, needs, gives = "setup", ("cfg",), ("accel", "corner", "hierarchy")

    def describe(self, s: State) -> str:
        return "accelerator, cell-library corner and memory hierarchy"

    def run(self, s: State) -> None:
        from hwmodel.cells.library import library_paths
        from hwmodel.ops.compute import library_corner
        from hwmodel.report.assemble import hierarchy_of

        try:
            s.accel = Accelerator(**s.cfg.accelerator)
        except TypeError as exc:
            raise ReportError(f"report config {s.cfg.name}: [accelerator] {exc}; known keys: "
                              "mac_units, clock_mhz_max, dram_gb_per_s") from None
        s.corner = library_corner(s.cfg.vdd_v, s.cfg.temp_c)
        if not library_paths(s.corner)["json"].is_file():  # fail before anything trains
            c = s.corner
            raise ReportError(f"report config {s.cfg.name}: no cell library at {c.vdd_v:g} V, "
                              f"{c.temp_c:g} C; fix: python -m hwmodel.cells build --vdd "
                              f"{c.vdd_v:g} --temp {c.temp_c:g} (or vdd_v = 1.1, 1.0 or 0.9)")
        s.hierarchy = hierarchy_of(s.cfg, s.corner.temp_c)


class Learn(Stage):
    """Train (or resume) the incremental-learning experiment on real data."""

    name, needs, gives = "learning", ("cfg",), ("results", "experiment")

    def describe(self, s: State) -> str:
        return "incremental learning"

    def run(self, s: State) -> None:
        from hwmodel.report.points import learn

        s.results, s.experiment = learn(s.cfg, s.data_root, s.progress, s.log)


class Trace(Stage):
    """One traced training iteration of every sharing point's trained network."""

    name, needs, gives = "traces", ("results", "experiment"), ("points",)

    def describe(self, s: State) -> str:
        return "training traces at every sharing point"

    def run(self, s: State) -> None:
        from hwmodel.report.points import trace_points

        s.points = trace_points(s.results, s.experiment, s.cfg, s.progress)


class Characterize(Stage):
    """Per-op costs of the format's MAC, multiplier and adder on both energy paths."""

    name = "op_costs"
    needs = ("results", "experiment", "points", "corner")
    gives = ("dot_length", "op_table", "costs")

    def describe(self, s: State) -> str:
        return (f"op costs ({s.cfg.format}, stream {s.cfg.stream}, {s.corner.vdd_v:g} V, "
                f"LATENCY {s.cfg.latency}; cached after the first run)")

    def run(self, s: State) -> None:
        from hwmodel.report.points import network_operand_pools

        base = next(p.trace for p in s.points if p.point.share_k == 0)
        s.dot_length = s.cfg.dot_length or mean_dot_length(base)
        pools = None
        if s.cfg.stream == "tensor":
            s.log("      operand samples: one training iteration of the trained base network "
                  "on real task-0 images")
            pools = network_operand_pools(s.results, s.experiment)
        s.log(f"      MAC dot-product length {s.dot_length}")
        s.op_table, s.costs = op_costs(s.cfg, s.corner, s.dot_length, pools, s.progress)


def op_costs(cfg: ReportConfig, corner, dot_length: int, pools: tuple | None,
             progress: bool) -> tuple[pd.DataFrame, OpCosts]:
    """Characterize the format's MAC, multiplier and adder on both energy paths at ``corner``
    and the configured pipelining; pick the configured energy figure."""
    from hwmodel.cost import units_for
    from hwmodel.ops.compute import compute_row, make_jobs
    from hwmodel.ops.table import build_table

    units = costed_units(cfg)
    jobs = make_jobs(list(units.values()), [cfg.stream], ["default", "yosys"], cfg.op_vectors,
                     0, pools, corner, dot_length)
    table = build_table(jobs, compute_row, workers=2, progress=progress)
    names = units_for(cfg.format, {op: u.unit for op, u in units.items()})
    return table, OpCosts.from_table(table, cfg.format, cfg.stream, cfg.energy, names)


def costed_units(cfg: ReportConfig) -> dict:
    """op -> :class:`hwmodel.ops.oplib.OpUnit`: the library's unit for the format at the
    configured LATENCY, or the user's own Verilog unit from ``[units.<op>]``."""
    from hwmodel.cost import units_for
    from hwmodel.ops.oplib import default_op_library, user_unit

    lib = {u.unit: u for u in default_op_library(cfg.latency) if u.fmt == cfg.format}
    out = {}
    for op, name in units_for(cfg.format).items():
        if op in cfg.units:
            spec = cfg.units[op]
            out[op] = user_unit(spec["rtl"], op, cfg.format, spec["params"])
        elif name in lib:
            out[op] = lib[name]
        else:
            raise ReportError(f"no RTL unit implements {op} in format {cfg.format!r}; give "
                              f"one with [units.{op}] rtl = \"file.v\"")
    return out


class Cost(Stage):
    """Memory traffic, time and energy of one training iteration at every sharing point."""

    name = "cost"
    needs = ("points", "costs", "hierarchy", "accel")
    gives = ("sweep", "traffic")

    def describe(self, s: State) -> str:
        return "memory model and cost per training iteration"

    def run(self, s: State) -> None:
        from hwmodel.report.costing import cost_points

        try:
            s.sweep, s.traffic = cost_points(s.points, s.costs, s.hierarchy, s.accel,
                                             s.cfg.memory.get("dram_background_mw"))
        except CostModelError as exc:
            raise ReportError(str(exc)) from None


class Accelerate(Stage):
    """Every sharing point on the accelerator back-end (mapping search and simulation of each
    layer-phase), merged into the sweep beside the MAC-count model."""

    name = "accelerator"
    needs = ("points", "op_table", "costs", "sweep", "corner")
    gives = ("accel_costs",)

    def describe(self, s: State) -> str:
        return (f"accelerator back-end ({s.cfg.arch}, {s.cfg.objective}-optimal mappings); "
                f"figures from the {s.cfg.model} model")

    def run(self, s: State) -> None:
        from hwmodel.accel import arch as accel_arch
        from hwmodel.accel import backend, energy
        from hwmodel.report.costing import accel_row, merge_models

        arch = accel_arch.load(s.cfg.arch)
        if arch.fmt != s.cfg.format:
            raise ReportError(f"arch {arch.name} computes in {arch.fmt}, the report trains in "
                              f"{s.cfg.format}; set format = \"{arch.fmt}\" in the arch file")
        if s.cfg.pe_energy == "array":
            s.log(f"      PE energy: {s.cfg.pe_array}x{s.cfg.pe_array} RTL array in dataflow "
                  "order, gate level (cached after the first run; minutes cold)")
            try:
                pe = energy.pe_from_arrays(arch, s.cfg.vdd_v, s.cfg.energy == "yosys-timed",
                                           s.cfg.pe_array)
            except HwmodelError as exc:
                raise ReportError(str(exc)) from None
        else:
            pe = energy.pe_from_op_table(s.op_table, s.costs)
        lc = energy.level_costs(arch, s.costs, pe, s.cfg.memory.get("dram_background_mw"),
                                s.corner.temp_c + 273.15)
        temp_k = s.corner.temp_c + 273.15
        s.accel_costs = {tp.point.label: backend.cost_iteration(tp.trace, arch, lc,
                                                                s.cfg.objective, temp_k=temp_k)
                         for tp in s.points}
        rows = pd.DataFrame([accel_row(s.accel_costs[lbl]) for lbl in s.sweep["label"]])
        s.sweep = merge_models(s.sweep, rows, s.cfg.model)


class Assemble(Stage):
    """Gather the report's tables from every stage's output."""

    name = "assemble"
    needs = ("results", "sweep", "traffic", "costs", "op_table", "hierarchy", "accel",
             "corner", "dot_length", "accel_costs")
    gives = ("data",)

    def describe(self, s: State) -> str:
        return "report tables"

    def run(self, s: State) -> None:
        from hwmodel.report import assemble as a

        res = s.results
        s.data = a.ReportData(
            s.cfg, res, s.sweep, a.methods_table(res), a.combination_table(res, s.costs),
            s.op_table, a.sram_table(s.hierarchy), s.traffic,
            a.operating_points(s.hierarchy, s.corner),
            a.costing_summary(s.cfg, s.costs, s.accel, s.hierarchy, s.sweep, s.dot_length),
            a.provenance(res, s.cfg, s.costs, s.accel), s.timings_s,
            a.accel_tables(s.accel_costs, s.sweep, s.cfg.arch))


class Render(Stage):
    """Write report.md, report.html, the figures, the CSVs and summary.json into a folder."""

    name, needs, gives = "render", ("data",), ("out_dir",)

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)

    def describe(self, s: State) -> str:
        return f"writing {self.out_dir}"

    def run(self, s: State) -> None:
        from hwmodel.report.render import write_report

        s.out_dir = write_report(s.data, self.out_dir)


def run_stages(stages: list[Stage], state: State) -> State:
    """Run ``stages`` in order on ``state``; a stage whose input no earlier stage gave is a
    one-line ReportError. Stage wall times go to ``state.timings_s`` (``<name>_s``, and
    ``total_s`` so far)."""
    t0 = time.perf_counter()
    for i, stage in enumerate(stages, 1):
        missing = [n for n in stage.needs if getattr(state, n) is None]
        if missing:
            raise ReportError(f"stage {stage.name!r} needs {missing[0]!r}, which no earlier "
                              "stage gives; put the stage that makes it first")
        state.log(f"[{i}/{len(stages)}] {stage.describe(state)}")
        t = time.perf_counter()
        stage.run(state)
        state.timings_s[f"{stage.name}_s"] = time.perf_counter() - t
        state.timings_s["total_s"] = time.perf_counter() - t0
        lost = [n for n in stage.gives if getattr(state, n) is None]
        if lost:
            raise ReportError(f"stage {stage.name!r} did not give {lost[0]!r}")
    return state

"""The main job as one visible list of stages: learn (real data) -> trace every sharing point ->
op costs -> memory and cost per training iteration (MAC-count model, then the accelerator
back-end) -> the report's tables [-> files].

Each stage is a small object with explicit inputs and outputs (:mod:`hwmodel.report.stages`);
:func:`report_stages` is the list, :func:`run` runs it and returns the :class:`ReportData` that
:mod:`hwmodel.report.render` turns into files. Learning is reached only through
:class:`learning.incremental.Experiment`'s facade (:mod:`hwmodel.report.points`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hwmodel.report.assemble import ReportData
from hwmodel.report.config import ReportConfig
from hwmodel.report.points import grown_networks, sharing_points, trace_points
from hwmodel.report.stages import (
    Accelerate,
    Assemble,
    Characterize,
    Cost,
    Learn,
    Render,
    Setup,
    Stage,
    State,
    Trace,
    run_stages,
)

__all__ = ["ReportData", "grown_networks", "report_stages", "run", "sharing_points",
           "trace_points"]


def report_stages(out_dir: str | Path | None = None) -> list[Stage]:
    """The report's stages in order; with ``out_dir`` the files are written too."""
    stages: list[Stage] = [Setup(), Learn(), Trace(), Characterize(), Cost(), Accelerate(),
                           Assemble()]
    return [*stages, Render(Path(out_dir))] if out_dir is not None else stages


def run(cfg: ReportConfig, *, data_root: str | None = None, progress: bool = True,
        log: Callable[[str], None] = print, out_dir: str | Path | None = None) -> ReportData:
    """Run every stage for ``cfg`` (and write the report into ``out_dir`` when given);
    raises a one-line ReportError (or another PnsError) on bad input."""
    state = State(cfg, data_root=data_root, progress=progress, log=log)
    return run_stages(report_stages(out_dir), state).data

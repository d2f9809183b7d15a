"""Build the pns45 library: run every characterization job in parallel, write .lib/.v/.json.

Outputs are written only after every simulation succeeded, each through a temp file in the same
folder and ``os.replace``, so an interrupted or failed build never leaves a half-written file.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from pnsutil import atomic_write

from .characterize import LOADS_FF, SLEWS_NS, Job, assemble_cell, cell_jobs, measure_fo4
from .errors import CellLibraryError
from .liberty import write_liberty
from .library import library_from_summary, library_name, library_paths
from .netlists import CELL_NAMES, PN_RATIO, ROW_H_UM, SITE_W_UM, WN_UNIT_UM, get_cell
from .spice import SimSettings, model_file, model_sha256, ngspice_path, ngspice_version
from .verilog_models import write_verilog_models


@dataclass(frozen=True)
class BuildResult:
    """What a build produced: file paths, the summary dict, wall time (s) and job count."""

    paths: dict[str, Path]
    summary: dict
    wall_s: float
    simulations: int


def _run_jobs(jobs: list[Job], workers: int, progress: bool) -> list[dict]:
    """Run jobs on a pool of ``workers`` threads (each job drives its own ngspice process)."""
    results: list[dict | None] = [None] * len(jobs)
    bar = tqdm(total=len(jobs), desc="characterizing", unit="sim", disable=not progress)
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futs = {pool.submit(j.fn): n for n, j in enumerate(jobs)}
        pending = set(futs)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                exc = f.exception()
                if exc is not None:
                    for p in pending:
                        p.cancel()
                    raise exc
                results[futs[f]] = f.result()
                bar.update(1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    return results  # type: ignore[return-value]


def key_figures(summary: dict) -> dict[str, float]:
    """Headline numbers of a library (all from the simulations in ``summary``)."""
    lib = library_from_summary(summary)
    kf: dict[str, float] = {}
    fo4 = summary.get("fo4")
    if fo4:
        kf["fo4_delay_ps"] = fo4["fo4_delay_ps"]
        # reference slew: the FO4 inverter's own output transition (10-90 %)
        kf["ref_slew_ns"] = round((fo4["rise_transition_ps"] + fo4["fall_transition_ps"]) / 2e3,
                                  6)
    else:
        kf["ref_slew_ns"] = float(lib.slew_index_ns[1])
    if "INV_X1" in lib.cells:
        c_inv = lib.cells["INV_X1"].input_cap_ff["A"]
        kf["inv_x1_input_cap_ff"] = round(c_inv, 4)
        kf["ref_load_ff"] = round(4 * c_inv, 4)  # fanout-of-4 load
    ref_load = kf.get("ref_load_ff", float(lib.load_index_ff[len(lib.load_index_ff) // 2]))
    if "NAND2_X1" in lib.cells:
        kf["nand2_x1_input_cap_ff"] = round(float(np.mean(
            list(lib.cells["NAND2_X1"].input_cap_ff.values()))), 4)
    lib2 = library_from_summary({**summary, "key_figures": kf})
    if "FA_X1" in lib.cells:
        e = [lib2.toggle_energy_pj("FA_X1", o, ref_load) for o in ("S", "CO")]
        kf["fa_x1_energy_per_toggle_fj"] = round(float(np.mean(e)) * 1e3, 4)
    if "DFFR_X1" in lib.cells:
        seq = lib.cells["DFFR_X1"].sequential
        assert seq is not None
        kf["dffr_x1_clock_energy_per_cycle_fj"] = round(
            seq.clock_energy_per_cycle_pj(kf["ref_slew_ns"]) * 1e3, 4)
        q = summary["cells"]["DFFR_X1"]
        d = library_from_summary(summary).cells["DFFR_X1"].arc("CK", "Q").interpolate(
            kf["ref_slew_ns"], ref_load)
        kf["dffr_x1_clk_to_q_ps"] = round(
            (d.delay_rise_ns + d.delay_fall_ns) / 2 * 1e3, 3)  # type: ignore[operator]
        kf["dffr_x1_setup_ps"] = round(max(q["sequential"]["setup_rise_ns"],
                                           q["sequential"]["setup_fall_ns"]) * 1e3, 2)
        kf["dffr_x1_hold_ps"] = round(max(q["sequential"]["hold_rise_ns"],
                                          q["sequential"]["hold_fall_ns"]) * 1e3, 2)
    return kf


def build_library(settings: SimSettings | None = None, out_dir: Path | None = None,
                  cells: list[str] | None = None, workers: int = 2, progress: bool = True,
                  slews: tuple[float, ...] = SLEWS_NS,
                  loads: tuple[float, ...] = LOADS_FF) -> BuildResult:
    """Characterize ``cells`` (default: all) at ``settings`` and write .lib, _cells.v, .json."""
    settings = settings or SimSettings()
    ngspice_path()  # fail early, naming the fix
    mfile = model_file(settings.corner)
    names = list(cells) if cells else list(CELL_NAMES)
    netlists = [get_cell(n) for n in names]
    t0 = time.perf_counter()
    jobs: list[Job] = []
    for c in netlists:
        jobs += cell_jobs(c, settings, slews, loads)
    if "INV_X1" in names:
        inv = get_cell("INV_X1")
        jobs.append(Job("INV_X1", "fo4", lambda: measure_fo4(inv, settings)))
    results = _run_jobs(jobs, workers, progress)
    per_cell: dict[str, dict[str, dict]] = {n: {} for n in names}
    fo4 = None
    for j, r in zip(jobs, results, strict=True):
        if j.label == "fo4":
            fo4 = r
        else:
            per_cell[j.cell][j.label] = r
    summary: dict = {
        "library": library_name(settings),
        "generator": "python -m hwmodel.cells build",
        "corner": settings.corner, "vdd_v": settings.vdd_v, "temp_c": settings.temp_c,
        "model_file": "c4m-pdk-freepdk45==0.0.1:" + "/".join(mfile.parts[-4:]),
        "model_sha256": model_sha256(settings.corner),
        "ngspice_version": ngspice_version(),
        "thresholds_pct": {"delay": 50, "slew_lower": 10, "slew_upper": 90},
        "units": {"time": "ns", "capacitance": "fF", "energy_json": "pJ", "energy_liberty": "fJ",
                  "leakage": "nW", "area": "um2"},
        "sizing": {"wn_unit_um": WN_UNIT_UM, "pn_ratio": PN_RATIO,
                   "stack_rule": "series stack of depth k: k x unit width",
                   "area_rule": f"(max(N fingers, P fingers) + 1) x {SITE_W_UM} um x "
                                f"{ROW_H_UM} um"},
        "slew_index_ns": list(slews), "load_index_ff": list(loads),
        "fo4": fo4,
        "cells": {c.name: assemble_cell(c, per_cell[c.name], slews, loads) for c in netlists},
    }
    summary["key_figures"] = key_figures(summary)
    wall = time.perf_counter() - t0
    summary["build"] = {"simulation_jobs": len(jobs), "workers": workers}
    paths = library_paths(settings, out_dir)
    lib_text = write_liberty(summary)
    v_text = write_verilog_models(netlists, summary["library"])
    json_text = json.dumps(summary, indent=1) + "\n"
    atomic_write(paths["verilog"], v_text)
    atomic_write(paths["json"], json_text)
    atomic_write(paths["liberty"], lib_text)
    return BuildResult(paths, summary, wall, len(jobs))


def check_cells(names: list[str]) -> None:
    for n in names:
        get_cell(n)
    if not names:
        raise CellLibraryError("no cells selected")

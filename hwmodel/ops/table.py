"""The op-cost table: one row per unit x format x stream x path, cached by content hash.

Columns (units in the names): ``energy_logic_pj`` (combinational datapath), ``energy_seq_pj``
(flip-flops and clock), ``energy_leakage_pj`` (leakage over one clock period of the unit at its own
fmax, ``clock_period_ns``), ``energy_pj`` (their sum, per operation at one op per cycle),
``leakage_nw``, on the yosys path also the glitch-aware ``energy_timed_logic_pj``,
``energy_timed_seq_pj``, ``energy_timed_pj`` and ``toggles_timed_per_op``; ``latency_cycles``,
``ii_cycles``, ``critical_path_ns`` and ``fmax_mhz`` (static timing of the Yosys netlist, on both
paths), ``area_um2``, ``cells``, ``vectors``, ``toggles_per_op``, ``nonfinite_pct`` (share of
inf/NaN results), ``dot_length`` (MAC terms per accumulation), the library corner (``vdd_v``,
``temp_c``, ``corner``) and provenance: ``unit``, ``op``, ``format``, ``stream``, ``path``
("default" or "yosys"), ``mode``, ``params``, ``library``, ``tools``, ``cache_key``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodel.cells.spice import SimSettings
from hwmodel.ops.oplib import OpUnit
from hwmodel.rtlsim import dependency_files
from pnsutil import atomic_write, cache_dir

COLUMNS = [
    "unit", "op", "format", "stream", "path", "vdd_v", "temp_c", "corner", "energy_pj",
    "energy_logic_pj", "energy_seq_pj", "energy_leakage_pj", "leakage_nw", "energy_timed_pj",
    "energy_timed_logic_pj", "energy_timed_seq_pj", "latency_cycles", "ii_cycles",
    "critical_path_ns", "fmax_mhz", "clock_period_ns", "area_um2", "cells", "vectors",
    "toggles_per_op", "toggles_timed_per_op", "nonfinite_pct", "dot_length", "mode", "params",
    "library", "tools", "cache_key",
]
TABLE_VERSION = 3  # bump when the costing method changes, to invalidate cached rows


@dataclass(frozen=True)
class RowJob:
    """Everything that determines one row (hashed for the cache)."""

    op_unit: OpUnit
    stream: str
    path: str
    vectors: int
    seed: int
    library_file: Path
    settings: tuple[tuple[str, float], ...] = ()
    tensors: tuple[np.ndarray, np.ndarray] | None = field(default=None, compare=False)
    corner: SimSettings = field(default_factory=SimSettings)

    def key(self) -> str:
        h = hashlib.sha256()
        if self.tensors is not None:  # the "tensor" stream's operand pools
            for t in self.tensors:
                h.update(np.ascontiguousarray(t, dtype=np.float64).tobytes() + b"|")
        for src in dependency_files(self.op_unit.path):
            h.update(src.name.encode() + src.read_bytes())
        h.update(self.library_file.read_bytes())
        h.update(json.dumps([TABLE_VERSION, self.op_unit.unit, self.op_unit.fmt,
                             sorted(self.op_unit.params.items()), self.stream, self.path,
                             self.vectors, self.seed, list(self.settings),
                             self.corner.tag]).encode())
        return h.hexdigest()[:24]


def _cache_dir() -> Path:
    return cache_dir("ops")


def cached_row(job: RowJob) -> dict | None:
    path = _cache_dir() / f"{job.key()}.json"
    return json.loads(path.read_text()) if path.exists() else None


def store_row(job: RowJob, row: dict) -> None:
    atomic_write(_cache_dir() / f"{job.key()}.json", json.dumps(row))


def _collect(i: int, result: Callable[[], dict], jobs: list[RowJob], rows: dict[int, dict],
             errors: list[str] | None) -> None:
    from hwmodel.rtlsim import UnitError

    try:
        rows[i] = result()
    except UnitError as exc:
        if errors is None:
            raise
        job = jobs[i]
        errors.append(f"{job.op_unit.label} {job.stream} {job.path}: {exc}")
        return
    store_row(jobs[i], rows[i])


def _path_weight(name: str) -> int:
    from hwmodel.ops.paths import PATHS

    return PATHS[name].work_weight if name in PATHS else 1


def build_table(jobs: Iterable[RowJob], compute: Callable[[RowJob], dict], workers: int = 2,
                progress: bool = True, errors: list[str] | None = None) -> pd.DataFrame:
    """Rows for ``jobs``: from the cache when the inputs are unchanged, else computed by
    ``compute`` (a picklable function) in ``workers`` processes.

    With an ``errors`` list, a row whose characterization fails (UnitError) is left out and its
    one-line message appended there; without one, the first failure is raised."""
    jobs = list(jobs)
    rows: dict[int, dict] = {}
    todo = []
    for i, job in enumerate(jobs):
        row = cached_row(job)
        if row is None:
            todo.append(i)
        else:
            rows[i] = row
    if todo:
        from tqdm import tqdm

        # longest first (by the path's work weight): fewer idle workers at the end
        todo.sort(key=lambda i: (-(jobs[i].op_unit.work_hint * _path_weight(jobs[i].path)), i))

        bar = tqdm(total=len(todo), desc="characterizing ops", unit="row", disable=not progress)
        if workers > 1 and len(todo) > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {i: pool.submit(compute, jobs[i]) for i in todo}
                for i, fut in futures.items():
                    _collect(i, fut.result, jobs, rows, errors)
                    bar.update()
        else:
            for i in todo:
                _collect(i, lambda i=i: compute(jobs[i]), jobs, rows, errors)
                bar.update()
        bar.close()
    df = pd.DataFrame([rows[i] for i in range(len(jobs)) if i in rows])
    return df.reindex(columns=[c for c in COLUMNS if c in df.columns] +
                      [c for c in df.columns if c not in COLUMNS])

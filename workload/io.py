"""Writing and reading a trace: the per-layer table as CSV, Parquet or JSON records, and the
operand samples as a compressed ``.npz``; every file appears whole or not at all
(:func:`pnsutil.atomic_path`)."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pandas as pd

from pnsutil import atomic_path
from workload.api import TraceResult
from workload.errors import WorkloadError

#: File extensions :func:`write_table` writes.
FORMATS = (".csv", ".parquet", ".json")


def check_output_folder(path: str) -> None:
    """:class:`WorkloadError` unless the folder of ``path`` exists."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise WorkloadError(f"output folder {folder} does not exist; create it first")


def _atomic_write(path: str, write: Callable[[str], object]) -> None:
    check_output_folder(path)
    with atomic_path(path, suffix=os.path.splitext(path)[1]) as tmp:
        write(str(tmp))


def write_table(result: TraceResult, path: str) -> None:
    """Write ``result.df`` as CSV, Parquet or JSON (records) by the file extension."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise WorkloadError(f"output {path!r} must end in .csv, .parquet or .json")
    df = result.df
    if ext == ".csv":
        _atomic_write(path, lambda p: df.to_csv(p, index=False))
    elif ext == ".parquet":
        _atomic_write(path, lambda p: df.to_parquet(p, index=False))
    else:
        _atomic_write(path, lambda p: df.to_json(p, orient="records", indent=1))


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A trace written by :func:`write_table` (by its extension), checked against the columns
    a cost model needs (:func:`workload.schema.validate`); one-line :class:`WorkloadError`
    otherwise."""
    from workload.schema import REQUIRED_COLUMNS, validate

    path = str(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise WorkloadError(f"trace {path!r} must end in .csv, .parquet or .json")
    if not os.path.isfile(path):
        raise WorkloadError(f"trace {path} not found; make one with `python -m workload trace "
                            "--out FILE`")
    try:
        if ext == ".csv":
            df = pd.read_csv(path)
        elif ext == ".parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_json(path, orient="records")
    except (ValueError, OSError) as exc:
        raise WorkloadError(f"trace {path}: cannot read it as {ext[1:]} ({exc}); write it "
                            "with `python -m workload trace --out FILE`") from None
    validate(df, REQUIRED_COLUMNS)
    return df


def save_samples(result: TraceResult, path: str) -> None:
    """Write the operand samples (values as sampled, keyed ``<layer>|<operand>`` with ``/``
    written as ``__``) to an ``.npz`` (atomically, :func:`pnsutil.atomic_path`)."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **{k.replace("/", "__"): v for k, v in result.samples.items()})

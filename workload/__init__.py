"""The workload stage of pns-hwcost: what one training iteration does, layer by layer.

:func:`trace_training` records one training iteration of a PyTorch model (MACs, element-wise
and optimizer-step work, memory accesses) as a :class:`TraceResult`; :mod:`workload.schema` is
the contract of its table (every column once, with dtype, unit, meaning, data type and access;
:func:`validate` checks a table against it), which :mod:`hwmodel` costs;
:func:`workload.geometry.geometry` parses a conv/linear row into its loop-nest geometry.
Writing results: :func:`write_table`, :func:`save_samples`. Command line: ``python -m workload
trace``.

Importing the package (or :mod:`workload.schema`) does not import torch: the tracing API is
loaded on first use of one of its names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from workload.errors import TraceError, WorkloadError
from workload.schema import (
    COLUMN_DOCS,
    COLUMNS,
    GEOMETRY_COLUMNS,
    SCHEMA,
    Column,
    columns_help,
    validate,
)

if TYPE_CHECKING:
    from workload.api import TraceResult, make_optimizer, optimizer_spec, trace_training
    from workload.io import save_samples, write_table

#: Public names of the torch-using modules, imported on first access.
_LAZY = {
    "TraceResult": "workload.api",
    "make_optimizer": "workload.api",
    "optimizer_spec": "workload.api",
    "trace_training": "workload.api",
    "save_samples": "workload.io",
    "write_table": "workload.io",
}

__all__ = [
    "COLUMNS",
    "COLUMN_DOCS",
    "GEOMETRY_COLUMNS",
    "SCHEMA",
    "Column",
    "TraceError",
    "TraceResult",
    "WorkloadError",
    "columns_help",
    "make_optimizer",
    "optimizer_spec",
    "save_samples",
    "trace_training",
    "validate",
    "write_table",
]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'workload' has no attribute {name!r}")

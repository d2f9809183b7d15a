"""The workload side's exception types: bad input told in one line that names the thing and the
fix. ``python -m workload trace`` prints them as ``workload trace: error: <message>`` and exits
with status 2."""

from __future__ import annotations

from pnsutil.errors import PnsError


class WorkloadError(PnsError):
    """Bad input to the workload stage: a trace that breaks the contract of
    :mod:`workload.schema` (missing, negative or non-finite column), a bad output path, a bad
    command-line flag."""


class TraceError(WorkloadError):
    """Bad input to :func:`workload.trace_training` (unknown optimizer, bad shape, every
    parameter frozen, ...)."""

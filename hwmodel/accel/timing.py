"""Cycle counts of one fold on a systolic array: the timing contract shared by the RTL arrays
(``rtl/systolic``), the cycle-stepped simulator and the closed-form model.

A GEMM ``out[M, N] = sum_k a[M, K] * w[K, N]`` runs on an ``R x C`` array of PEs with one MAC
per PE per cycle (PE latency 1: each PE registers its outputs). A *fold* is the part of the
GEMM that fits the array at once; ``T`` is the length of the operand stream of a fold.

- ``ws`` (weight stationary; rows <- K, columns <- N, stream T = M): weights shift in from the
  top, one row per cycle (R cycles, a full column chain whatever the fold's K); input vector m
  enters row i at cycle ``R + m + i``; partial sums flow down and leave the bottom of column j
  for vector m at cycle ``2R + m + j - 1``. Fold: ``2R + C + T - 2`` cycles; no tail.
- ``is`` (input stationary; rows <- K, columns <- M, stream T = N): ``ws`` with the roles of
  inputs and weights exchanged; same counts.
- ``os`` (output stationary; rows <- M, columns <- N, stream T = K): a[i, k] enters row i at
  cycle ``k + i``, w[k, j] column j at ``k + j``; PE (i, j) accumulates from ``i + j`` to
  ``T - 1 + i + j``. Fold: ``T + R + C - 2`` cycles. Results leave through a shadow register
  chain down each column while the next fold computes (R cycles, always shorter than a fold),
  so only the last fold adds a tail of ``R`` cycles.

SCALE-Sim v3 counts the same fold lengths (its demand matrices: ``systolic_compute_ws.py``,
``_os.py``, ``_is.py``) but no ``os`` tail.
"""

from __future__ import annotations

#: Dataflows the array supports (SCALE-Sim's names).
DATAFLOWS = ("ws", "os", "is")


def fold_cycles(dataflow: str, rows: int, cols: int, stream: int) -> int:
    """Cycles of one fold of an ``rows x cols`` array streaming ``stream`` operand vectors."""
    if dataflow in ("ws", "is"):
        return 2 * rows + cols + stream - 2
    if dataflow == "os":
        return stream + rows + cols - 2
    raise ValueError(f"dataflow: unknown {dataflow!r}; use one of {', '.join(DATAFLOWS)}")


def tail_cycles(dataflow: str, rows: int, cols: int) -> int:
    """Cycles after the last fold before its last result has left the array."""
    return rows if dataflow == "os" else 0


def gemm_dims(dataflow: str, m: int, n: int, k: int) -> tuple[int, int, int]:
    """``(spatial on rows, spatial on columns, stream length)`` of a GEMM M x N x K."""
    if dataflow == "ws":
        return k, n, m
    if dataflow == "is":
        return k, m, n
    if dataflow == "os":
        return m, n, k
    raise ValueError(f"dataflow: unknown {dataflow!r}; use one of {', '.join(DATAFLOWS)}")


def gemm_cycles(dataflow: str, rows: int, cols: int, m: int, n: int, k: int) -> int:
    """Compute cycles of a whole GEMM on the array (every fold, plus the tail), no stalls."""
    sr, sc, t = gemm_dims(dataflow, m, n, k)
    folds = -(-sr // rows) * -(-sc // cols)
    return folds * fold_cycles(dataflow, rows, cols, t) + tail_cycles(dataflow, rows, cols)

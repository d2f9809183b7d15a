"""Closed-form simulation of one GEMM under a mapping: exactly the cycle-stepped simulator's
numbers (:mod:`hwmodel.accel.cyclesim`), computed over tile steps instead of cycles.

Time (double-buffered operands, one DRAM channel for reads and writes at ``bw`` elements per
cycle, ``bw = p/q`` exact): the first step's operands load before anything
(``ceil(L_0 / bw)``); step i lasts ``max(c_i, ceil((L_{i+1} + W_{i-1}) / bw))``: its ``c_i``
array cycles while DRAM prefetches the next step's operands and writes back the previous
step's leaving C tile; then the last write-back and the dataflow's tail. Stall cycles are the
total minus the array's own cycles.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from hwmodel.accel import tiling
from hwmodel.accel.result import SimResult
from hwmodel.accel.timing import tail_cycles


def transfer_cycles(elems, bw: Fraction):
    """Cycles to move ``elems`` (array ok) at ``bw`` elements per cycle: ceil(elems / bw)."""
    p, q = bw.numerator, bw.denominator
    return (np.asarray(elems, dtype=np.int64) * q + p - 1) // p


def as_bandwidth(words_per_cycle: float | Fraction) -> Fraction:
    """An exact bandwidth (elements per cycle) from a float, to 1e-6."""
    bw = Fraction(words_per_cycle).limit_denominator(1_000_000)
    if bw <= 0:
        raise ValueError("bandwidth must be > 0 elements per cycle")
    return bw


def simulate(mp: tiling.Mapping, m: int, n: int, k: int, rows: int, cols: int,
             bw: Fraction, count: int = 1, ratios=tiling.UNROLLED) -> SimResult:
    """Cycles and accesses of ``count`` GEMMs ``m x n x k`` mapped by ``mp`` (``ratios``:
    :func:`hwmodel.accel.tiling.steps`)."""
    st = tiling.steps(mp, m, n, k, rows, cols, ratios)
    nxt = np.append(st.load[1:], 0)
    prev = np.insert(st.store[:-1], 0, 0)
    during = np.maximum(st.compute, transfer_cycles(nxt + prev, bw))
    tail = tail_cycles(mp.dataflow, rows, cols)
    total = (int(transfer_cycles(st.load[0], bw)) + int(during.sum())
             + int(transfer_cycles(st.store[-1], bw)) + tail)
    compute = int(st.compute.sum()) + tail
    acc = tiling.sram_accesses(mp.dataflow, rows, cols, st.mi, st.ni, st.ki, st.first_k)
    res = SimResult(
        cycles=total, compute_cycles=compute, stall_cycles=total - compute, macs=m * n * k,
        pe_cycles=rows * cols * total,
        sram_a_reads=int(acc["a_reads"].sum()), sram_b_reads=int(acc["b_reads"].sum()),
        sram_c_writes=int(acc["c_writes"].sum()), sram_c_reads=int(acc["c_reads"].sum()),
        dram_a_reads=int(st.load_a.sum()), dram_b_reads=int(st.load_b.sum()),
        dram_c_reads=int(st.load_c.sum()), dram_c_writes=int(st.store.sum()))
    return res.scaled(count) if count > 1 else res

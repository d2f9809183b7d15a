"""Cycle-stepped simulation of one GEMM on the array and its buffers, for verification and
small layers: a global clock advances one cycle at a time; each cycle the array's operand
wavefronts read the buffers, the PEs that hold a valid pair do their MAC, results leave the
array, and the DRAM engine moves ``bw`` elements of the current transfer batch. Operand tiles
are tracked as resident keys, so DRAM fetches and write-backs follow from residency, not from a
formula. :mod:`hwmodel.accel.analytical` must equal it on every layer (tested).

Per fold of ``sr x sc`` used PEs streaming ``t`` vectors (:mod:`hwmodel.accel.timing`):
``ws``/``is``: cycles ``0..R-1`` load the stationary operand (``sc`` elements per used row);
row ``i`` reads a streamed element at ``R + v + i``; PE (i, j) works at ``R + v + i + j``;
column ``j`` takes a partial sum at ``R + v + j`` (not on the first k fold of a C element) and
writes a result at ``2R - 1 + v + j``. ``os``: the accumulators start from the ``sr sc``
partial sums (not on the first k tile); row ``i`` reads A at ``v + i``, column ``j`` reads B at
``v + j``, PE (i, j) works at ``v + i + j``; the ``sr sc`` results are written as the fold ends
(they drain while the next fold computes).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

from hwmodel.accel import tiling
from hwmodel.accel.result import SimResult
from hwmodel.accel.timing import fold_cycles, gemm_dims, tail_cycles


def _in(v: int, t: int) -> bool:
    return 0 <= v < t


def _active(base: int, sr: int, sc: int, t: int) -> int:
    """PEs (i < sr, j < sc) with 0 <= base - i - j < t."""
    n = 0
    for i in range(sr):
        lo, hi = max(0, base - i - t + 1), min(sc - 1, base - i)
        n += max(0, hi - lo + 1)
    return n


class _Array:
    """Counts of the array's per-cycle work."""

    def __init__(self, dataflow: str, rows: int, cols: int):
        self.df, self.r, self.c = dataflow, rows, cols
        self.a_reads = self.b_reads = self.c_writes = self.c_reads = self.macs = 0

    def folds(self, mi: int, ni: int, ki: int, first_k: bool):
        """Cycle generator of one tile: yields once per cycle after counting it."""
        sr_all, sc_all, t = gemm_dims(self.df, mi, ni, ki)
        length = fold_cycles(self.df, self.r, self.c, t)
        for fc in range(-(-sc_all // self.c)):
            for fr in range(-(-sr_all // self.r)):
                sr = min(self.r, sr_all - fr * self.r)
                sc = min(self.c, sc_all - fc * self.c)
                psum = not first_k if self.df == "os" else not (first_k and fr == 0)
                if self.df == "os" and psum:
                    self.c_reads += sr * sc  # the accumulators start from the partial sums
                for tau in range(length):
                    self._cycle(tau, sr, sc, t, psum)
                    yield
                if self.df == "os":
                    self.c_writes += sr * sc

    def _cycle(self, tau: int, sr: int, sc: int, t: int, psum: bool) -> None:
        r = self.r
        if self.df == "os":
            self.a_reads += sum(_in(tau - i, t) for i in range(sr))
            self.b_reads += sum(_in(tau - j, t) for j in range(sc))
            self.macs += _active(tau, sr, sc, t)
            return
        stationary = sc if tau < sr else 0
        streamed = sum(_in(tau - r - i, t) for i in range(sr))
        if self.df == "ws":
            self.b_reads += stationary
            self.a_reads += streamed
        else:
            self.a_reads += stationary
            self.b_reads += streamed
        self.macs += _active(tau - r, sr, sc, t)
        if psum:
            self.c_reads += sum(_in(tau - r - j, t) for j in range(sc))
        self.c_writes += sum(_in(tau - (2 * r - 1) - j, t) for j in range(sc))


def _schedule(mp: tiling.Mapping, m: int, n: int, k: int):
    """Tile steps in loop order: (m0, n0, k0, mi, ni, ki) with start offsets and sizes."""
    step = {"m": (m, mp.mt), "n": (n, mp.nt), "k": (k, mp.kt)}
    ranges = [range(0, step[d][0], step[d][1]) for d in mp.order]
    for combo in itertools.product(*ranges):
        pos = dict(zip(mp.order, combo, strict=True))
        yield (pos["m"], pos["n"], pos["k"], min(mp.mt, m - pos["m"]),
               min(mp.nt, n - pos["n"]), min(mp.kt, k - pos["k"]))


def _ceil(x: int, r: Fraction) -> int:
    return -(-x * r.numerator // r.denominator)


def simulate(mp: tiling.Mapping, m: int, n: int, k: int, rows: int, cols: int,
             bw: Fraction, count: int = 1, ratios=tiling.UNROLLED) -> SimResult:
    """Step the clock through ``count`` GEMMs ``m x n x k`` mapped by ``mp`` (``ratios``: DRAM
    elements per unrolled element of A, B, C, see :mod:`hwmodel.accel.tiling`)."""
    tiling.check(mp, m, n, k)
    ra, rb, rc = ratios
    plan = list(_schedule(mp, m, n, k))
    res_a = res_b = res_c = None
    loads, stores, la, lb, lc = [], [], 0, 0, 0
    for i, (m0, n0, k0, mi, ni, ki) in enumerate(plan):
        ld = 0
        if res_a != (m0, k0):
            res_a, v = (m0, k0), _ceil(mi * ki, ra)
            ld, la = ld + v, la + v
        if res_b != (k0, n0):
            res_b, v = (k0, n0), _ceil(ki * ni, rb)
            ld, lb = ld + v, lb + v
        if res_c != (m0, n0):
            res_c = (m0, n0)
            if k0 > 0:
                v = _ceil(mi * ni, rc)
                ld, lc = ld + v, lc + v
        loads.append(ld)
        nxt = plan[i + 1] if i + 1 < len(plan) else None
        leaves = nxt is None or (nxt[0], nxt[1]) != (m0, n0)
        stores.append(_ceil(mi * ni, rc) if leaves else 0)
    arr = _Array(mp.dataflow, rows, cols)
    clock = compute = 0

    def run(batch: int, work) -> None:
        nonlocal clock, compute
        left, busy = Fraction(batch), work is not None
        while left > 0 or busy:
            if busy:
                try:
                    next(work)
                    compute += 1
                except StopIteration:
                    busy = False
                    continue
            left -= bw
            clock += 1

    run(loads[0], None)
    for i, (_, _, k0, mi, ni, ki) in enumerate(plan):
        batch = (loads[i + 1] if i + 1 < len(plan) else 0) + (stores[i - 1] if i else 0)
        run(batch, arr.folds(mi, ni, ki, k0 == 0))
    run(stores[-1], None)
    tail = tail_cycles(mp.dataflow, rows, cols)
    clock, compute = clock + tail, compute + tail
    res = SimResult(clock, compute, clock - compute, arr.macs, rows * cols * clock,
                    arr.a_reads, arr.b_reads, arr.c_writes, arr.c_reads, la, lb, lc,
                    sum(stores))
    return res.scaled(count) if count > 1 else res

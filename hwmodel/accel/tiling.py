"""A mapping of one GEMM onto the array and its buffers, and the per-step schedule it implies.

The GEMM ``M x N x K`` is cut into SRAM tiles ``mt x nt x kt`` visited in a loop ``order``
(outer to inner, a permutation of ``"mnk"``); each tile runs on the array as folds of the
``dataflow`` (:mod:`hwmodel.accel.timing`). An operand tile stays in its buffer while
consecutive steps use it; otherwise it is fetched from DRAM (A: ``mt kt``, B: ``kt nt``; the
partial sums of C: ``mt nt`` when the step is not the first along k), and a C tile is written
back to DRAM when the next step leaves it (partial or final). Buffers are double-buffered:
a tile occupies at most half its operand's share of a buffer.

An operand that is an im2col view (a conv's unrolled input, or the input gradient before
col2im) lives in DRAM as the raw tensor: its DRAM transfers are ``ceil(elements x ratio)``
per tile, ``ratio`` = raw / unrolled elements of the whole operand (the buffer's address
generator unrolls it; halo re-reads at tile edges are not counted).

Per step, the array reads its buffers like SCALE-Sim's demand matrices: ``ws``: A
``ceil(nt/C) mt kt``, B ``kt nt``, C writes ``ceil(kt/R) mt nt``; ``is``: A ``mt kt``, B
``ceil(mt/C) nt kt``, C writes as ``ws``; ``os``: A ``ceil(nt/C) mt kt``, B
``ceil(mt/R) kt nt``, C writes ``mt nt``. Partial sums read back (C reads, which SCALE-Sim does
not count): ``(ceil(kt/R) - 1) mt nt`` within a ``ws``/``is`` tile, plus ``mt nt`` when the
step is not the first along k.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from hwmodel.accel.errors import AccelError
from hwmodel.accel.timing import fold_cycles, gemm_dims

#: DRAM ratios of operands stored as they are (no im2col).
UNROLLED = (Fraction(1), Fraction(1), Fraction(1))
ORDERS = ("mnk", "mkn", "nmk", "nkm", "kmn", "knm")
#: Which operand each loop index indexes.
INDEXES = {"a": "mk", "b": "kn", "c": "mn"}


@dataclass(frozen=True)
class Mapping:
    """Dataflow, SRAM tile (elements per dimension) and tile loop order (outer -> inner)."""

    dataflow: str
    mt: int
    nt: int
    kt: int
    order: str = "mnk"

    def __str__(self) -> str:
        return f"{self.dataflow} tile {self.mt}x{self.nt}x{self.kt} order {self.order}"


def _cdiv(a, b):
    return -(-a // b)


def check(mp: Mapping, m: int, n: int, k: int) -> None:
    """Refuse a mapping whose tile is not positive, exceeds the GEMM or has a bad order."""
    if sorted(mp.order) != ["k", "m", "n"]:
        raise AccelError(f"mapping order {mp.order!r}: use a permutation of 'mnk'")
    for name, t, d in (("mt", mp.mt, m), ("nt", mp.nt, n), ("kt", mp.kt, k)):
        if not 1 <= t <= d:
            raise AccelError(f"mapping {name} = {t} must be in 1..{d}")


@dataclass(frozen=True)
class Steps:
    """The tile steps of a mapping, as arrays over steps (elements, cycles)."""

    mi: np.ndarray
    ni: np.ndarray
    ki: np.ndarray
    first_k: np.ndarray  # bool: the step is the first along k of its C tile
    load: np.ndarray  # elements fetched from DRAM before the step: A + B + C partial sums
    load_a: np.ndarray
    load_b: np.ndarray
    load_c: np.ndarray
    store: np.ndarray  # C elements written back to DRAM after the step
    compute: np.ndarray  # array cycles of the step (its folds, no tail)


def _sizes(dim: int, tile: int) -> np.ndarray:
    n = _cdiv(dim, tile)
    s = np.full(n, tile, dtype=np.int64)
    s[-1] = dim - tile * (n - 1)
    return s


def tile_compute_cycles(dataflow: str, rows: int, cols: int, mi, ni, ki):
    """Array cycles of tiles ``mi x ni x ki`` (arrays ok): folds x fold length, no tail."""
    sr, sc, t = gemm_dims(dataflow, mi, ni, ki)
    return _cdiv(sr, rows) * _cdiv(sc, cols) * fold_cycles(dataflow, rows, cols, t)


def scaled(elems, ratio: Fraction):
    """``ceil(elems x ratio)`` (arrays ok): DRAM elements of an unrolled operand's tile."""
    p, q = ratio.numerator, ratio.denominator
    return (np.asarray(elems, dtype=np.int64) * p + q - 1) // q


def steps(mp: Mapping, m: int, n: int, k: int, rows: int, cols: int,
          ratios: tuple[Fraction, Fraction, Fraction] = UNROLLED) -> Steps:
    """Every tile step of ``mp`` on an ``rows x cols`` array, in execution order;
    ``ratios``: raw / unrolled elements of A, B and C in DRAM (see the module doc)."""
    check(mp, m, n, k)
    size = {"m": _sizes(m, mp.mt), "n": _sizes(n, mp.nt), "k": _sizes(k, mp.kt)}
    grid = np.indices(tuple(len(size[d]) for d in mp.order)).reshape(3, -1)
    idx = {d: grid[i] for i, d in enumerate(mp.order)}
    mi, ni, ki = size["m"][idx["m"]], size["n"][idx["n"]], size["k"][idx["k"]]

    def changed(op: str) -> np.ndarray:
        ch = np.ones(grid.shape[1], dtype=bool)
        keys = [idx[d] for d in INDEXES[op]]
        ch[1:] = np.any([kk[1:] != kk[:-1] for kk in keys], axis=0)
        return ch

    first_k = idx["k"] == 0
    ca, cb, cc = changed("a"), changed("b"), changed("c")
    ra, rb, rc = ratios
    load_a = np.where(ca, scaled(mi * ki, ra), 0)
    load_b = np.where(cb, scaled(ki * ni, rb), 0)
    load_c = np.where(cc & ~first_k, scaled(mi * ni, rc), 0)
    leaves = np.ones_like(cc)
    leaves[:-1] = cc[1:]
    store = np.where(leaves, scaled(mi * ni, rc), 0)
    comp = tile_compute_cycles(mp.dataflow, rows, cols, mi, ni, ki)
    return Steps(mi, ni, ki, first_k, load_a + load_b + load_c, load_a, load_b, load_c, store,
                 comp)


def sram_accesses(dataflow: str, rows: int, cols: int, mi, ni, ki, first_k) -> dict:
    """Array-side buffer accesses of tiles (elements; arrays ok): ``a_reads``, ``b_reads``,
    ``c_writes``, ``c_reads`` (partial sums read back)."""
    if dataflow == "ws":
        a, b, cw = _cdiv(ni, cols) * mi * ki, ki * ni, _cdiv(ki, rows) * mi * ni
    elif dataflow == "is":
        a, b, cw = mi * ki, _cdiv(mi, cols) * ni * ki, _cdiv(ki, rows) * mi * ni
    elif dataflow == "os":
        a, b, cw = _cdiv(ni, cols) * mi * ki, _cdiv(mi, rows) * ki * ni, mi * ni
    else:
        raise AccelError(f"dataflow {dataflow!r} is unknown; use ws, os or is")
    cr = np.where(first_k, 0, mi * ni)
    if dataflow != "os":
        cr = cr + (_cdiv(ki, rows) - 1) * mi * ni
    return {"a_reads": a, "b_reads": b, "c_writes": cw, "c_reads": cr}

"""Mapping search: per layer-phase GEMM, the dataflow (of those the array offers), SRAM tile
sizes and tile loop order that minimise the stated objective (``energy``, ``delay`` or
``edp``, the product of the two).

The space, searched in full: every dataflow of the array x every loop order (6) x tile sizes
``min(d, b 2^j)`` per dimension ``d`` (``b`` = the array edge the dimension is spread over, 1
for the streamed dimension, ``j = 0, 1, ...`` up to the first size >= ``d``) whose tiles fit
half their buffers (double buffering). Every candidate is scored in closed form: its dynamic
energy exactly, its time by the bound ``max(array cycles, DRAM transfer cycles)`` plus the
first load. The ``exact_top`` best by that score (default 8) are then simulated exactly
(:mod:`hwmodel.accel.analytical`) and the best exact objective wins: this is the pruning.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from hwmodel.accel import analytical, tiling
from hwmodel.accel.arch import Architecture
from hwmodel.accel.energy import LevelCosts, gemm_energy
from hwmodel.accel.errors import AccelError
from hwmodel.accel.result import SimResult

OBJECTIVES = ("energy", "delay", "edp")


@dataclass(frozen=True)
class Choice:
    """The chosen mapping of one GEMM, its exact simulation and the size of the search."""

    mapping: tiling.Mapping
    result: SimResult
    candidates: int


def tile_sizes(dim: int, base: int) -> list[int]:
    """``min(dim, base 2^j)`` for j = 0, 1, ... until it reaches ``dim``."""
    out, t = [], max(1, base)
    while True:
        out.append(min(dim, t))
        if t >= dim:
            return sorted(set(out))
        t *= 2


def _bases(dataflow: str, rows: int, cols: int) -> dict[str, int]:
    # (rows dim, cols dim, stream dim) of the dataflow in GEMM letters
    letters = {"ws": ("k", "n", "m"), "is": ("k", "m", "n"), "os": ("m", "n", "k")}[dataflow]
    return {letters[0]: rows, letters[1]: cols, letters[2]: 1}


def _classes(dim: int, t: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(size, count) of the full tiles and of the edge tile, per candidate."""
    return [(t, dim // t), (dim % t, (dim % t > 0).astype(np.int64))]


def _sum_over_tiles(f, m, n, k, mt, nt, kt) -> dict:
    """Sum over every tile of each count ``f(mi, ni, ki)`` returns (a dict of arrays): the
    tiles come in at most 2 x 2 x 2 size classes (full and edge per dimension)."""
    tot: dict = {}
    for ms, mc in _classes(m, mt):
        for ns, nc in _classes(n, nt):
            for ks, kc in _classes(k, kt):
                for key, v in f(ms, ns, ks).items():
                    tot[key] = tot.get(key, 0) + mc * nc * kc * v
    return tot


def _sum_pairs(d1: int, t1, d2: int, t2, ratio: Fraction) -> np.ndarray:
    """Sum over the tiles of a ``d1 x d2`` operand of ``ceil(size x ratio)``."""
    tot = 0
    for s1, c1 in _classes(d1, t1):
        for s2, c2 in _classes(d2, t2):
            tot = tot + c1 * c2 * tiling.scaled(s1 * s2, ratio)
    return tot


def _factor(order: str, counts: dict[str, np.ndarray], idx: str) -> np.ndarray:
    """How often each tile of an operand indexed by ``idx`` is fetched under ``order``: the
    product of the non-indexing loops outside the innermost indexing loop (loops of one
    iteration ignored)."""
    size = len(counts["m"])
    inner = np.full(size, -1)
    for pos, d in enumerate(order):
        if d in idx:
            inner = np.where(counts[d] > 1, pos, inner)
    f = np.ones(size, dtype=np.int64)
    for pos, d in enumerate(order):
        if d not in idx:
            f = f * np.where(pos < inner, counts[d], 1)
    return f


def _score(df: str, order: str, m, n, k, mt, nt, kt, rows, cols, bw: Fraction,
           lc: LevelCosts | None, ratios) -> tuple[np.ndarray, np.ndarray]:
    """(dynamic energy pJ, cycle bound) of every candidate tile of one dataflow and order."""
    counts = {"m": -(-m // mt), "n": -(-n // nt), "k": -(-k // kt)}
    fa, fb, fc = (_factor(order, counts, tiling.INDEXES[x]) for x in "abc")
    ra, rb, rc = ratios
    da = fa * _sum_pairs(m, mt, k, kt, ra)
    db = fb * _sum_pairs(k, kt, n, nt, rb)
    c_once = _sum_pairs(m, mt, n, nt, rc)
    dcw = fc * c_once
    dcr = dcw - c_once
    def per_tile(a, b, c) -> dict:
        acc = tiling.sram_accesses(df, rows, cols, a, b, c, np.ones_like(a, dtype=bool))
        return {**acc, "cycles": tiling.tile_compute_cycles(df, rows, cols, a, b, c)}

    t = _sum_over_tiles(per_tile, m, n, k, mt, nt, kt)
    comp = t["cycles"]
    cr = t["c_reads"] + m * n * (counts["k"] - 1)
    res = SimResult(0, 0, 0, m * n * k, 0, t["a_reads"], t["b_reads"], t["c_writes"], cr,
                    da, db, dcr, dcw)
    e = sum(gemm_energy(res, lc, df).values()) if lc is not None else np.zeros(len(mt))
    dram = analytical.transfer_cycles(da + db + dcr + dcw, bw)
    first = analytical.transfer_cycles(tiling.scaled(mt * kt, ra) + tiling.scaled(kt * nt, rb),
                                       bw)
    return e, np.maximum(comp, dram) + first


def _objective(objective: str, e, cycles, lc: LevelCosts | None):
    if lc is None:
        return cycles
    static = lc.static_total_mw * cycles / (lc.clock_mhz * 1e6) * 1e9
    energy = e + static
    return {"energy": energy, "delay": cycles, "edp": energy * cycles}[objective]


def search(m: int, n: int, k: int, arch: Architecture, lc: LevelCosts | None,
           objective: str = "edp", count: int = 1, exact_top: int = 8,
           ratios=tiling.UNROLLED, clock_mhz: float | None = None) -> Choice:
    """The best mapping of ``count`` GEMMs ``m x n x k`` on ``arch`` (see the module doc).
    Without level costs (``lc`` None) only ``delay`` can be minimised, at ``clock_mhz``
    (default the architecture's target clock)."""
    if objective not in OBJECTIVES:
        raise AccelError(f"objective {objective!r} is unknown; use one of {', '.join(OBJECTIVES)}")
    if lc is None and objective != "delay":
        raise AccelError(f"objective {objective!r} needs the level energies; use delay")
    rows, cols = arch.array.rows, arch.array.cols
    clock = lc.clock_mhz if lc is not None else (clock_mhz or arch.clock_mhz_max)
    bw = analytical.as_bandwidth(arch.dram_words_per_cycle(clock))
    cap = {x: arch.capacity_elems(op) for x, op in zip("abc", ("ifmap", "weight", "ofmap"),
                                                          strict=True)}
    scored = []
    for df in arch.array.dataflows:
        base = _bases(df, rows, cols)
        grid = np.meshgrid(*(np.array(tile_sizes(d, base[x])) for d, x in
                             ((m, "m"), (n, "n"), (k, "k"))), indexing="ij")
        mt, nt, kt = (g.ravel().astype(np.int64) for g in grid)
        ok = (mt * kt <= cap["a"]) & (kt * nt <= cap["b"]) & (mt * nt <= cap["c"])
        mt, nt, kt = mt[ok], nt[ok], kt[ok]
        for order in tiling.ORDERS:
            e, cyc = _score(df, order, m, n, k, mt, nt, kt, rows, cols, bw, lc, ratios)
            obj = _objective(objective, e, cyc, lc)
            scored += [(float(o), df, order, int(a), int(b), int(c))
                       for o, a, b, c in zip(obj, mt, nt, kt, strict=True)]
    if not scored:
        raise AccelError(f"no tile of the {m}x{n}x{k} GEMM fits the buffers of {arch.name}; "
                         "raise the buffer capacities")
    scored.sort()
    best = None
    for _, df, order, a, b, c in scored[:exact_top]:
        mp = tiling.Mapping(df, a, b, c, order)
        r = analytical.simulate(mp, m, n, k, rows, cols, bw, ratios=ratios)
        e = sum(gemm_energy(r, lc, df).values()) if lc is not None else 0.0
        o = _objective(objective, e, r.cycles, lc)
        if best is None or o < best[0]:
            best = (o, mp, r)
    _, mp, r = best
    return Choice(mp, r.scaled(count) if count > 1 else r, len(scored))


def scalesim_mapping(dataflow: str, m: int, n: int, k: int, rows: int, cols: int
                     ) -> tiling.Mapping:
    """SCALE-Sim's own schedule as a mapping: one SRAM tile per array fold, column folds
    outer and row folds inner, the whole stream per fold (for the cross-check; buffer
    capacity is not checked, as SCALE-Sim streams operands through its buffers)."""
    if dataflow == "ws":
        return tiling.Mapping("ws", m, min(n, cols), min(k, rows), "nkm")
    if dataflow == "os":
        return tiling.Mapping("os", min(m, rows), min(n, cols), k, "nmk")
    if dataflow == "is":
        return tiling.Mapping("is", min(m, cols), n, min(k, rows), "mkn")
    raise AccelError(f"dataflow {dataflow!r} is unknown; use ws, os or is")
